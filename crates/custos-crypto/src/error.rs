//! The one error type of this crate.
//!
//! Every variant has a stable code (`CRYPTO-00NN`, see [`CryptoError::code`]) for the HTTP and CLI
//! edges. No variant ever carries key material or plaintext: failures name what went wrong and
//! where (a path, a key version, a field name), never a value.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;

/// Everything that can go wrong in custos-crypto.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Authentication of a ciphertext or wrapped key failed: the key is wrong, the context (tenant,
    /// subject, category or record id) differs from the one it was sealed under, or a byte was
    /// altered. AES-GCM cannot tell these apart, and we do not try to.
    #[error(
        "ciphertext failed authentication (wrong key, wrong tenant/subject/category/record, or altered bytes)"
    )]
    Tampered,
    /// The input is too short or otherwise not shaped like a custos ciphertext.
    #[error("ciphertext is malformed: {0}")]
    Malformed(&'static str),
    /// The first byte names a format version this build does not know.
    #[error("unsupported ciphertext format version {0:#04x}")]
    UnsupportedFormat(u8),
    /// A wrapped DEK was made with a different KEK version from the one offered to unwrap it.
    #[error(
        "wrapped data key was made with key version {found}, but key version {expected} was given"
    )]
    KeyVersionMismatch {
        /// Version of the KEK offered.
        expected: u32,
        /// Version recorded in the wrapped key.
        found: u32,
    },
    /// No master key with this version is in the key file (it was never made, or was retired).
    #[error("no master key with version {0}")]
    UnknownKeyVersion(u32),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// HKDF refused to derive a key (cannot happen with the fixed lengths used here).
    #[error("key derivation failed")]
    KeyDerivation,
    /// An argument is not acceptable (the message says which and why; it never quotes the value).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// Reading or writing the key file failed.
    #[error("cannot access key file {}: {source}", .path.display())]
    KeyFileIo {
        /// The key file (or its temporary sibling).
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The key file can be read or written by group or others.
    #[error(
        "key file {} is accessible by group or others (mode {mode:03o}); run `chmod 600 {}`",
        .path.display(), .path.display()
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file's content is not a valid custos key file.
    #[error("key file {} is invalid: {reason}", .path.display())]
    KeyFileInvalid {
        /// The key file (empty when parsed from memory).
        path: PathBuf,
        /// What is wrong, never quoting a key.
        reason: String,
    },
    /// The master key version asked to be removed is the current one.
    #[error("cannot remove master key version {0}: it is the current version")]
    CannotRemoveCurrentKey(u32),
}

impl CryptoError {
    /// The stable code of this error, for problem+json `type`s and CLI messages.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Tampered => "CRYPTO-0001",
            Self::Malformed(_) => "CRYPTO-0002",
            Self::UnsupportedFormat(_) => "CRYPTO-0003",
            Self::KeyVersionMismatch { .. } => "CRYPTO-0004",
            Self::UnknownKeyVersion(_) => "CRYPTO-0005",
            Self::Rng => "CRYPTO-0006",
            Self::KeyDerivation => "CRYPTO-0007",
            Self::InvalidInput(_) => "CRYPTO-0008",
            Self::KeyFileIo { .. } => "CRYPTO-0009",
            Self::KeyFilePermissions { .. } => "CRYPTO-0010",
            Self::KeyFileInvalid { .. } => "CRYPTO-0011",
            Self::CannotRemoveCurrentKey(_) => "CRYPTO-0012",
        }
    }
}
