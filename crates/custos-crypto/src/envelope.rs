//! Envelope encryption: values sealed by a per-subject data key (DEK), the DEK wrapped by the
//! tenant's key-encryption key (KEK).
//!
//! # Value ciphertext format (format version 1)
//!
//! ```text
//! 0x01 ‖ nonce (12 bytes, random) ‖ ciphertext (same length as the plaintext) ‖ tag (16 bytes)
//! ```
//!
//! AES-256-GCM under the subject's DEK. The associated data fed to GCM is the format byte followed
//! by the [`Aad`] (tenant ‖ subject ‖ category ‖ record id, each length-prefixed), so a ciphertext
//! only opens in the row it was written for: moved to another record, subject, category or tenant,
//! it fails with [`CryptoError::Tampered`]. The overhead is [`VALUE_OVERHEAD`] = 29 bytes.
//!
//! # Wrapped DEK format (format version 1)
//!
//! ```text
//! 0x01 ‖ KEK version (u32, big-endian) ‖ nonce (12 bytes) ‖ encrypted DEK (32 bytes) ‖ tag (16 bytes)
//! ```
//!
//! 65 bytes, AES-256-GCM under the tenant's KEK; the first five bytes and [`Aad::subject`]
//! (tenant ‖ subject) are the associated data. The KEK version in the clear tells a rotation sweep
//! which wrapped keys still use an old master key ([`wrapped_dek_version`]) without decrypting.
//!
//! # Nonces
//!
//! Nonces are 96 random bits. GCM stays safe for about 2^32 messages per key with random nonces;
//! since every subject has its own DEK and every tenant its own KEK, no key comes near that.
//!
//! # Failures
//!
//! Opening never panics. Wrong key, wrong context or any altered byte → [`CryptoError::Tampered`];
//! input too short → [`CryptoError::Malformed`]; unknown first byte →
//! [`CryptoError::UnsupportedFormat`]; wrapped DEK offered a KEK of another version →
//! [`CryptoError::KeyVersionMismatch`].

use ring::aead::{self, AES_256_GCM, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::error::{CryptoError, Result};
use crate::secret::{SecretKey, fill_random};

/// First byte of every value ciphertext and wrapped DEK this build writes.
pub const FORMAT_V1: u8 = 0x01;
/// Length of the GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed value adds to its plaintext: format byte, nonce and tag.
pub const VALUE_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Length of a wrapped DEK.
pub const WRAPPED_DEK_LEN: usize =
    WRAPPED_HEADER_LEN + NONCE_LEN + crate::secret::KEY_LEN + TAG_LEN;

const VALUE_HEADER_LEN: usize = 1;
const WRAPPED_HEADER_LEN: usize = 1 + 4;

/// A tenant's key-encryption key for one master key version. Derive it with
/// [`crate::KeyRing::kek`]; it only ever wraps and unwraps DEKs.
pub struct Kek {
    version: u32,
    key: LessSafeKey,
}

impl Kek {
    pub(crate) fn new(version: u32, key: LessSafeKey) -> Self {
        Self { version, key }
    }

    /// The master key version this KEK was derived from.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A subject's data key. Stored only wrapped ([`wrap_dek`]); deleting the wrapped form erases
/// every value sealed under it (crypto-shredding).
///
/// The raw bytes are wiped on drop. ring's expanded AES key schedule, kept so that each seal does
/// not redo the expansion, is not wiped by ring: that is a limitation of ring shared by every user.
pub struct Dek {
    secret: SecretKey,
    key: LessSafeKey,
}

impl Dek {
    /// A fresh random data key.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system generator fails.
    pub fn generate() -> Result<Self> {
        Self::from_secret(SecretKey::generate()?)
    }

    pub(crate) fn from_secret(secret: SecretKey) -> Result<Self> {
        let unbound = UnboundKey::new(&AES_256_GCM, secret.expose_secret())
            .map_err(|_| CryptoError::InvalidInput("a data key must be 32 bytes"))?;
        Ok(Self {
            secret,
            key: LessSafeKey::new(unbound),
        })
    }
}

impl std::fmt::Debug for Dek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dek(***)")
    }
}

/// The context a ciphertext is bound to, encoded so that field boundaries cannot shift: each
/// field is preceded by its length as a big-endian u32, so ("ab","c") and ("a","bc") differ.
#[derive(Clone, PartialEq, Eq)]
pub struct Aad {
    bytes: Vec<u8>,
}

impl Aad {
    /// Context of one stored value: tenant ‖ subject ‖ category ‖ record id.
    ///
    /// # Errors
    /// [`CryptoError::InvalidInput`] if a field is longer than `u32::MAX` bytes.
    pub fn new(tenant: &str, subject: &str, category: &str, record_id: &str) -> Result<Self> {
        Self::encode(&[tenant, subject, category, record_id])
    }

    /// Context of a subject's wrapped DEK: tenant ‖ subject.
    ///
    /// # Errors
    /// [`CryptoError::InvalidInput`] if a field is longer than `u32::MAX` bytes.
    pub fn subject(tenant: &str, subject: &str) -> Result<Self> {
        Self::encode(&[tenant, subject])
    }

    /// The encoded bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn encode(fields: &[&str]) -> Result<Self> {
        let total = fields.iter().map(|f| f.len().saturating_add(4)).sum();
        let mut bytes = Vec::with_capacity(total);
        for field in fields {
            let len = u32::try_from(field.len())
                .map_err(|_| CryptoError::InvalidInput("an AAD field is longer than 4 GiB"))?;
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(field.as_bytes());
        }
        Ok(Self { bytes })
    }
}

impl std::fmt::Debug for Aad {
    // The fields are identifiers, but the record id or category could still say more than a log
    // should; show only the size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aad")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// Seals a value under a subject's DEK, bound to `aad`. See the module docs for the format.
///
/// # Errors
/// [`CryptoError::Rng`] if no nonce can be drawn, [`CryptoError::InvalidInput`] if the plaintext
/// exceeds GCM's limit (64 GiB).
pub fn seal(dek: &Dek, aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>> {
    seal_with(&dek.key, &[FORMAT_V1], aad, plaintext)
}

/// Opens a value sealed by [`seal`]. The plaintext is wiped when the returned buffer drops.
///
/// # Errors
/// [`CryptoError::Tampered`], [`CryptoError::Malformed`] or [`CryptoError::UnsupportedFormat`]
/// (see the module docs).
pub fn open(dek: &Dek, aad: &Aad, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (&format, _) = ciphertext
        .split_first()
        .ok_or(CryptoError::Malformed("empty input"))?;
    if format != FORMAT_V1 {
        return Err(CryptoError::UnsupportedFormat(format));
    }
    open_with(&dek.key, VALUE_HEADER_LEN, aad, ciphertext)
}

/// Wraps a DEK under a tenant's KEK, bound to [`Aad::subject`]. See the module docs for the
/// format.
///
/// # Errors
/// [`CryptoError::Rng`] if no nonce can be drawn.
pub fn wrap_dek(kek: &Kek, dek: &Dek, aad: &Aad) -> Result<Vec<u8>> {
    let mut header = [0u8; WRAPPED_HEADER_LEN];
    let (format, version) = header.split_at_mut(1);
    format.copy_from_slice(&[FORMAT_V1]);
    version.copy_from_slice(&kek.version.to_be_bytes());
    seal_with(&kek.key, &header, aad, dek.secret.expose_secret())
}

/// Unwraps a DEK wrapped by [`wrap_dek`].
///
/// # Errors
/// [`CryptoError::KeyVersionMismatch`] if `kek` is of another version than the one recorded in
/// `wrapped`; otherwise as [`open`].
pub fn unwrap_dek(kek: &Kek, wrapped: &[u8], aad: &Aad) -> Result<Dek> {
    let found = wrapped_dek_version(wrapped)?;
    if found != kek.version {
        return Err(CryptoError::KeyVersionMismatch {
            expected: kek.version,
            found,
        });
    }
    let plain = open_with(&kek.key, WRAPPED_HEADER_LEN, aad, wrapped)?;
    let secret = SecretKey::try_from_slice(&plain)
        .map_err(|_| CryptoError::Malformed("wrapped data key is not 32 bytes"))?;
    Dek::from_secret(secret)
}

/// Rewraps a DEK from an old KEK to a new one (KEK rotation). Values sealed under the DEK are
/// untouched; once every DEK is rewrapped, the old master key version can be removed.
///
/// # Errors
/// As [`unwrap_dek`] and [`wrap_dek`].
pub fn rewrap(old_kek: &Kek, new_kek: &Kek, wrapped: &[u8], aad: &Aad) -> Result<Vec<u8>> {
    let dek = unwrap_dek(old_kek, wrapped, aad)?;
    wrap_dek(new_kek, &dek, aad)
}

/// The KEK (master key) version a wrapped DEK was made with, read without decrypting. It is
/// authenticated on unwrap, so a forged version makes [`unwrap_dek`] fail, never succeed wrongly.
///
/// # Errors
/// [`CryptoError::Malformed`] if too short, [`CryptoError::UnsupportedFormat`] for an unknown
/// format byte.
pub fn wrapped_dek_version(wrapped: &[u8]) -> Result<u32> {
    let (&format, rest) = wrapped
        .split_first()
        .ok_or(CryptoError::Malformed("empty input"))?;
    if format != FORMAT_V1 {
        return Err(CryptoError::UnsupportedFormat(format));
    }
    let (version, _) = rest
        .split_first_chunk::<4>()
        .ok_or(CryptoError::Malformed("wrapped data key is too short"))?;
    Ok(u32::from_be_bytes(*version))
}

/// `header ‖ nonce ‖ seal(plaintext) ‖ tag`, with `header ‖ aad` authenticated.
fn seal_with(key: &LessSafeKey, header: &[u8], aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let body_start = header.len().saturating_add(NONCE_LEN);
    // Exact capacity: the plaintext copied in is encrypted in place and never reallocated.
    let mut out = Vec::with_capacity(
        body_start
            .saturating_add(plaintext.len())
            .saturating_add(TAG_LEN),
    );
    out.extend_from_slice(header);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let associated = associated_data(header, aad);
    let body = out
        .get_mut(body_start..)
        .ok_or(CryptoError::Malformed("internal buffer too short"))?;
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&associated),
            body,
        )
        .map_err(|_| CryptoError::InvalidInput("plaintext too long for AES-GCM"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Inverse of [`seal_with`]; `input` starts with a header of `header_len` bytes, already checked
/// by the caller.
fn open_with(
    key: &LessSafeKey,
    header_len: usize,
    aad: &Aad,
    input: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let (header, rest) = input
        .split_at_checked(header_len)
        .ok_or(CryptoError::Malformed("input is shorter than its header"))?;
    let (nonce, sealed) = rest
        .split_at_checked(NONCE_LEN)
        .ok_or(CryptoError::Malformed("input is shorter than its nonce"))?;
    if sealed.len() < TAG_LEN {
        return Err(CryptoError::Malformed("input is shorter than its tag"));
    }
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| CryptoError::Malformed("bad nonce length"))?;
    let associated = associated_data(header, aad);
    let mut buf = Zeroizing::new(sealed.to_vec());
    let plain_len = key
        .open_in_place(nonce, aead::Aad::from(&associated), &mut buf)
        .map_err(|_| CryptoError::Tampered)?
        .len();
    // Truncating keeps the tag in spare capacity; `Zeroizing<Vec>` wipes the whole capacity.
    buf.truncate(plain_len);
    Ok(buf)
}

fn associated_data(header: &[u8], aad: &Aad) -> Vec<u8> {
    let mut associated = Vec::with_capacity(header.len().saturating_add(aad.bytes.len()));
    associated.extend_from_slice(header);
    associated.extend_from_slice(&aad.bytes);
    associated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(record: &str) -> Aad {
        Aad::new("tenant", "subject", "email", record).unwrap()
    }

    #[test]
    fn round_trip_including_empty() {
        let dek = Dek::generate().unwrap();
        for plaintext in [&b""[..], b"a", b"alice@example.com", &[0u8; 1000]] {
            let sealed = seal(&dek, &aad("r1"), plaintext).unwrap();
            assert_eq!(sealed.len(), plaintext.len() + VALUE_OVERHEAD);
            assert_eq!(sealed[0], FORMAT_V1);
            assert_eq!(&*open(&dek, &aad("r1"), &sealed).unwrap(), plaintext);
        }
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let dek = Dek::generate().unwrap();
        let a = seal(&dek, &aad("r1"), b"same").unwrap();
        let b = seal(&dek, &aad("r1"), b"same").unwrap();
        assert_ne!(a, b, "nonces must be fresh");
    }

    #[test]
    fn aad_fields_cannot_shift() {
        let a = Aad::new("ab", "c", "d", "e").unwrap();
        let b = Aad::new("a", "bc", "d", "e").unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(
            Aad::subject("t", "s").unwrap().as_bytes(),
            [0, 0, 0, 1, b't', 0, 0, 0, 1, b's']
        );
        let dek = Dek::generate().unwrap();
        let sealed = seal(&dek, &a, b"x").unwrap();
        assert!(matches!(
            open(&dek, &b, &sealed),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn every_truncation_is_rejected_without_panic() {
        let dek = Dek::generate().unwrap();
        let sealed = seal(&dek, &aad("r1"), b"hello").unwrap();
        for len in 0..sealed.len() {
            let err = open(&dek, &aad("r1"), &sealed[..len]).unwrap_err();
            assert!(
                matches!(err, CryptoError::Malformed(_) | CryptoError::Tampered),
                "len {len}: {err:?}"
            );
        }
    }

    #[test]
    fn wrapped_dek_layout() {
        let kek = Kek::new(
            7,
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[3; 32]).unwrap()),
        );
        let dek = Dek::generate().unwrap();
        let subject = Aad::subject("t", "s").unwrap();
        let wrapped = wrap_dek(&kek, &dek, &subject).unwrap();
        assert_eq!(wrapped.len(), WRAPPED_DEK_LEN);
        assert_eq!(&wrapped[..5], &[1, 0, 0, 0, 7]);
        assert_eq!(wrapped_dek_version(&wrapped).unwrap(), 7);
        // A forged version number is caught by authentication.
        let mut forged = wrapped.clone();
        forged[4] = 8;
        let kek8 = Kek::new(8, kek.key.clone());
        assert!(matches!(
            unwrap_dek(&kek8, &forged, &subject),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            unwrap_dek(&kek8, &wrapped, &subject),
            Err(CryptoError::KeyVersionMismatch {
                expected: 8,
                found: 7
            })
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let dek = Dek::generate().unwrap();
        assert_eq!(format!("{dek:?}"), "Dek(***)");
        assert_eq!(format!("{:?}", aad("r1")), "Aad { len: 36, .. }");
    }
}
