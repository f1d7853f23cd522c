//! Checking a tenant's audit log end to end (`custos audit verify`).

use custos_audit::{ChainError, Verifier};
use custos_store::{Store, TenantId};

use crate::error::VaultError;

/// What a verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: u64,
    pub head: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] VaultError),
}

/// Walks the whole log in pages and checks every link and hash.
pub fn verify_chain<S: Store>(store: &S, tenant: &TenantId) -> Result<ChainReport, VerifyError> {
    const PAGE: usize = 10_000;
    let mut v = Verifier::default();
    loop {
        let page = store
            .audit_entries(tenant, v.verified() + 1, PAGE)
            .map_err(VaultError::from)?;
        let n = page.len();
        for e in &page {
            let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
            v.check(&e.hash_fields(tenant, &subject), &e.prev_hash, &e.hash)?;
        }
        if n < PAGE {
            break;
        }
    }
    Ok(ChainReport {
        entries: v.verified(),
        head: v.head(),
    })
}
