//! Secret bytes that wipe themselves, and constant-time comparison.

use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{CryptoError, Result};

/// Length in bytes of every symmetric key in custos (AES-256, HMAC-SHA-256, HKDF input).
pub const KEY_LEN: usize = 32;

/// A 32-byte symmetric key.
///
/// It is wiped when dropped, its `Debug` prints `SecretKey(***)`, and it deliberately has no
/// `Display` and no `Serialize`: the only way to see the bytes is [`SecretKey::expose_secret`],
/// which is easy to grep for. Equality is constant-time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// Wraps existing key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Copies key bytes from a slice, which must be exactly [`KEY_LEN`] long.
    ///
    /// # Errors
    /// [`CryptoError::InvalidInput`] when the length is wrong.
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| CryptoError::InvalidInput("a key must be exactly 32 bytes"))?;
        Ok(Self(array))
    }

    /// A fresh key from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system generator fails.
    pub fn generate() -> Result<Self> {
        let mut key = Self([0; KEY_LEN]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    /// The raw key bytes. Callers must not copy them anywhere that outlives this key.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for SecretKey {}

/// Compares two byte strings in time that depends only on their lengths, not their contents.
///
/// Use it for anything an attacker can probe byte by byte: API key hashes, session tokens, MACs.
/// Lengths are not secret here (a hash or tag has a fixed length), so different lengths return
/// `false` at once.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    SystemRandom::new().fill(buf).map_err(|_| CryptoError::Rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = SecretKey::from_bytes([0xAB; KEY_LEN]);
        let shown = format!("{key:?} {key:#?}");
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
    }

    #[test]
    fn generated_keys_differ() {
        let a = SecretKey::generate().unwrap();
        let b = SecretKey::generate().unwrap();
        assert_ne!(a, b);
        assert_ne!(a.expose_secret(), &[0; KEY_LEN]);
    }

    #[test]
    fn try_from_slice_checks_length() {
        assert!(SecretKey::try_from_slice(&[1; 31]).is_err());
        assert!(SecretKey::try_from_slice(&[1; 33]).is_err());
        let key = SecretKey::try_from_slice(&[7; 32]).unwrap();
        assert_eq!(key.expose_secret(), &[7; 32]);
    }

    #[test]
    fn ct_eq_compares_contents_and_lengths() {
        assert!(ct_eq(b"same", b"same"));
        assert!(!ct_eq(b"same", b"sane"));
        assert!(!ct_eq(b"same", b"same!"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn zeroize_wipes_bytes() {
        let mut key = SecretKey::from_bytes([9; KEY_LEN]);
        key.zeroize();
        assert_eq!(key.expose_secret(), &[0; KEY_LEN]);
    }
}
