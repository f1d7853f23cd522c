//! Key-check values: the database remembers which key file it belongs to.
//!
//! Not tenant data: the values are MACs of a public constant under each key
//! of the deployment's key file (`custos_crypto::KeyFile::key_checks`), and the
//! versions in use are numbers. The rule that uses them lives in
//! `custos_core::keys::bind_key_file`.

use crate::Result;

/// Storage of the key-check values and of what the database needs of a key file.
pub trait KeyCheckStore: Send + Sync + 'static {
    /// Every stored key-check value, by name (`master-1`, `index`, …).
    fn key_checks(&self) -> Result<Vec<(String, Vec<u8>)>> {
        Err(unsupported())
    }
    /// Stores the values whose name has none yet; an existing value is never
    /// replaced (a different key under an old name is a different key file).
    fn add_key_checks(&self, _checks: &[(String, Vec<u8>)]) -> Result<()> {
        Err(unsupported())
    }
    /// The master-key versions that wrap the data key of a subject that is not
    /// erased, in any tenant: the key file must hold each of them.
    fn kek_versions_in_use(&self) -> Result<Vec<u32>> {
        Err(unsupported())
    }
    /// Whether the database holds anything at all (a tenant or a subject): a new
    /// key file may only be made for one that does not.
    fn holds_data(&self) -> Result<bool> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement key checks yet".to_owned())
}
