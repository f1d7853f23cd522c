//! Key derivation: per-tenant KEKs, per-tenant-and-category blind-index keys, API-key hashes.
//!
//! Derived keys are never stored: they are recomputed from the key file when needed (HKDF costs
//! about a microsecond), so the key file stays the only secret to back up.

use std::collections::BTreeMap;

use ring::{aead, hkdf, hmac};

use crate::blind::BlindIndexKey;
use crate::envelope::{Dek, Kek};
use crate::error::{CryptoError, Result};
use crate::keyfile::KeyFile;
use crate::secret::{SecretKey, ct_eq};

/// HKDF salt for KEKs. The `v1` names the derivation scheme, not a key version.
const KEK_SALT: &[u8] = b"custos/kek/v1";
/// HKDF salt for blind-index keys; a different salt keeps the two families apart even if the
/// same bytes were ever used as master and index key.
const BLIND_SALT: &[u8] = b"custos/blind/v1";
/// HKDF salt for legal-hold keys (records kept after their subject's erasure).
const HOLD_SALT: &[u8] = b"custos/hold/v1";

/// The keys of one custos instance, ready to derive per-tenant keys.
///
/// Built from a [`KeyFile`]; holds copies of its secrets (wiped on drop). `Debug` shows only the
/// key versions.
#[derive(Clone)]
pub struct KeyRing {
    master_keys: BTreeMap<u32, SecretKey>,
    current_version: u32,
    index_key: SecretKey,
    api_key_pepper: SecretKey,
    audit_signing_seed: Option<SecretKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("versions", &self.master_keys.keys().collect::<Vec<_>>())
            .field("current_version", &self.current_version)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Copies the keys out of a key file.
    #[must_use]
    pub fn from_keyfile(key_file: &KeyFile) -> Self {
        Self {
            master_keys: key_file
                .master_keys()
                .iter()
                .map(|master| (master.version(), master.key().clone()))
                .collect(),
            current_version: key_file.current_version(),
            index_key: key_file.index_key().clone(),
            api_key_pepper: key_file.api_key_pepper().clone(),
            audit_signing_seed: key_file.audit_signing_seed().cloned(),
        }
    }

    /// The master key version new DEKs are wrapped under.
    #[must_use]
    pub fn current_version(&self) -> u32 {
        self.current_version
    }

    /// Every master key version still held, oldest first.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.master_keys.keys().copied()
    }

    /// The tenant's KEK under master key `version`:
    /// `HKDF-SHA256(salt = "custos/kek/v1", ikm = master key, info = tenant id)`.
    ///
    /// # Errors
    /// [`CryptoError::UnknownKeyVersion`] if that version is not (or no longer) in the key file.
    pub fn kek(&self, tenant: &str, version: u32) -> Result<Kek> {
        let master = self
            .master_keys
            .get(&version)
            .ok_or(CryptoError::UnknownKeyVersion(version))?;
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, KEK_SALT).extract(master.expose_secret());
        let info = [tenant.as_bytes()];
        let okm = prk
            .expand(&info, &aead::AES_256_GCM)
            .map_err(|_| CryptoError::KeyDerivation)?;
        // The derived bytes go straight into ring's key type and never sit in our memory.
        let key = aead::UnboundKey::from(okm);
        Ok(Kek::new(version, aead::LessSafeKey::new(key)))
    }

    /// The tenant's KEK under the current master key version.
    ///
    /// # Errors
    /// As [`KeyRing::kek`].
    pub fn current_kek(&self, tenant: &str) -> Result<Kek> {
        self.kek(tenant, self.current_version)
    }

    /// The key for blind indexes of one category of one tenant:
    /// `HKDF-SHA256(salt = "custos/blind/v1", ikm = index key, info = tenant ‖ 0x00 ‖ category)`.
    ///
    /// Per tenant, so equal emails in two tenants do not link; per category, so an email index
    /// cannot be matched against a phone index.
    ///
    /// # Errors
    /// [`CryptoError::InvalidInput`] if the tenant id contains a NUL byte (it would make the
    /// `tenant ‖ 0x00 ‖ category` boundary ambiguous).
    pub fn blind_index_key(&self, tenant: &str, category: &str) -> Result<BlindIndexKey> {
        if tenant.as_bytes().contains(&0) {
            return Err(CryptoError::InvalidInput("tenant id contains a NUL byte"));
        }
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, BLIND_SALT).extract(self.index_key.expose_secret());
        let info = [tenant.as_bytes(), &[0], category.as_bytes()];
        let okm = prk
            .expand(&info, hmac::HMAC_SHA256)
            .map_err(|_| CryptoError::KeyDerivation)?;
        Ok(BlindIndexKey::new(hmac::Key::from(okm)))
    }

    /// The tenant's legal-hold key, which seals the records kept after their subject's erasure
    /// (legal obligation, legal claims): `HKDF-SHA256(salt = "custos/hold/v1", ikm = index key,
    /// info = tenant)`.
    ///
    /// Derived from the index key, not from a master key: retiring a master key version is what
    /// makes erased subjects' backups unreadable, and it must not take the held records with it.
    ///
    /// # Errors
    /// [`CryptoError::KeyDerivation`] if HKDF fails.
    pub fn hold_key(&self, tenant: &str) -> Result<Dek> {
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, HOLD_SALT).extract(self.index_key.expose_secret());
        let info = [tenant.as_bytes()];
        let mut bytes = zeroize::Zeroizing::new([0u8; crate::secret::KEY_LEN]);
        prk.expand(&info, hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(bytes.as_mut_slice()))
            .map_err(|_| CryptoError::KeyDerivation)?;
        Dek::from_secret(SecretKey::from_bytes(*bytes))
    }

    /// The stored form of an API key: `HMAC-SHA256(pepper, secret)`.
    ///
    /// Why not Argon2id: password hashing is slow on purpose because passwords have little
    /// entropy and can be guessed. custos API keys are 32 random bytes (256 bits), so guessing is
    /// hopeless however fast the hash is, and a slow hash would only make every API request pay
    /// tens of milliseconds. The pepper lives in the key file, not the database, so a stolen
    /// database alone does not even allow checking a candidate key.
    #[must_use]
    pub fn api_key_hash(&self, secret: &str) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.api_key_pepper.expose_secret());
        let tag = hmac::sign(&key, secret.as_bytes());
        let mut out = [0u8; 32];
        for (dst, src) in out.iter_mut().zip(tag.as_ref()) {
            *dst = *src;
        }
        out
    }

    /// The Ed25519 key that signs the tenants' audit checkpoints, from the key file's
    /// `audit_signing_seed` (one key per instance; the checkpoint body names the tenant).
    ///
    /// # Errors
    /// [`CryptoError::InvalidInput`] if the key file has no audit signing seed (a key file of an
    /// older build that was not upgraded with [`KeyFile::load_and_upgrade`]).
    pub fn audit_signer(&self) -> Result<custos_audit::checkpoint::CheckpointSigner> {
        let seed = self
            .audit_signing_seed
            .as_ref()
            .ok_or(CryptoError::InvalidInput(
                "the key file has no audit_signing_seed",
            ))?;
        Ok(custos_audit::checkpoint::CheckpointSigner::from_seed(
            seed.expose_secret(),
        ))
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    #[must_use]
    pub fn verify_api_key(&self, secret: &str, stored: &[u8]) -> bool {
        ct_eq(&self.api_key_hash(secret), stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Aad, open, seal, unwrap_dek, wrap_dek};

    fn ring() -> KeyRing {
        KeyRing::from_keyfile(&KeyFile::generate("2025-01-01T00:00:00Z").unwrap())
    }

    #[test]
    fn keks_differ_by_tenant_and_are_stable() {
        let ring = ring();
        let aad = Aad::subject("t1", "s1").unwrap();
        let dek = Dek::generate().unwrap();
        let wrapped = wrap_dek(&ring.current_kek("t1").unwrap(), &dek, &aad).unwrap();
        // Re-derived KEK for the same tenant opens it ...
        assert!(unwrap_dek(&ring.kek("t1", 1).unwrap(), &wrapped, &aad).is_ok());
        // ... another tenant's KEK does not.
        assert!(matches!(
            unwrap_dek(&ring.kek("t2", 1).unwrap(), &wrapped, &aad),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            ring.kek("t1", 9),
            Err(CryptoError::UnknownKeyVersion(9))
        ));
    }

    #[test]
    fn api_key_hash_is_keyed_and_verifies() {
        let a = ring();
        let b = ring();
        let hash = a.api_key_hash("ck_secret");
        assert_eq!(hash, a.api_key_hash("ck_secret"));
        assert_ne!(hash, a.api_key_hash("ck_secreT"));
        assert_ne!(hash, b.api_key_hash("ck_secret"), "pepper must matter");
        assert!(a.verify_api_key("ck_secret", &hash));
        assert!(!a.verify_api_key("ck_other", &hash));
        assert!(!a.verify_api_key("ck_secret", &hash[..31]));
    }

    #[test]
    fn blind_index_key_rejects_nul_in_tenant() {
        assert!(matches!(
            ring().blind_index_key("t\0x", "email"),
            Err(CryptoError::InvalidInput(_))
        ));
    }

    #[test]
    fn audit_signer_is_stable_per_key_file() {
        let key_file = KeyFile::generate("2025-01-01T00:00:00Z").unwrap();
        let a = KeyRing::from_keyfile(&key_file).audit_signer().unwrap();
        let b = KeyRing::from_keyfile(&key_file).audit_signer().unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_ne!(a.public_key(), ring().audit_signer().unwrap().public_key());
    }

    #[test]
    fn hold_key_is_per_tenant_stable_and_survives_master_key_retirement() {
        let mut file = KeyFile::generate("2025-01-01T00:00:00Z").unwrap();
        let ring = KeyRing::from_keyfile(&file);
        let aad = Aad::new("t1", "s1", "invoice", "r1").unwrap();
        let sealed = seal(&ring.hold_key("t1").unwrap(), &aad, b"held").unwrap();
        // Re-derived for the same tenant, it opens; another tenant's does not.
        assert_eq!(
            open(&ring.hold_key("t1").unwrap(), &aad, &sealed)
                .unwrap()
                .as_slice(),
            b"held"
        );
        assert!(open(&ring.hold_key("t2").unwrap(), &aad, &sealed).is_err());
        // Nor does the tenant's KEK family: the hold key is a separate key.
        file.rotate("2025-02-01T00:00:00Z").unwrap();
        file.remove_master_key(1).unwrap();
        let rotated = KeyRing::from_keyfile(&file);
        assert!(open(&rotated.hold_key("t1").unwrap(), &aad, &sealed).is_ok());
        // Another key file's hold key does not open it.
        assert!(open(&ring_hold_other(), &aad, &sealed).is_err());
    }

    fn ring_hold_other() -> Dek {
        ring().hold_key("t1").unwrap()
    }

    #[test]
    fn debug_shows_versions_only() {
        let ring = ring();
        let shown = format!("{ring:?}");
        assert_eq!(shown, "KeyRing { versions: [1], current_version: 1, .. }");
    }
}
