//! Envelope encryption, blind indexes and key management for custos.
//!
//! # Key hierarchy
//!
//! ```text
//! key file (0600, keyfile.rs)
//! ├── master keys, versioned ──HKDF-SHA256(salt "custos/kek/v1", info tenant)──▶ KEK per tenant
//! │                                                                              │ wraps (AES-256-GCM,
//! │                                                                              ▼  AAD tenant‖subject)
//! │                                                            DEK per subject (random, stored wrapped)
//! │                                                                              │ seals (AES-256-GCM,
//! │                                                                              ▼  AAD tenant‖subject‖category‖record)
//! │                                                                       stored values
//! ├── index key ──HKDF-SHA256(salt "custos/blind/v1", info tenant‖0x00‖category)──▶ blind-index key
//! │                                                   HMAC-SHA256(normalised email/phone) ──▶ lookup column
//! └── API-key pepper ──HMAC-SHA256(pepper, api key)──▶ stored API-key hash
//! ```
//!
//! * **Key file → KEK.** [`KeyFile`] holds versioned master keys; [`KeyRing::kek`] derives a
//!   tenant's KEK from one version. KEKs are never stored.
//! * **KEK → DEK.** Each subject has a random [`Dek`], stored only as [`wrap_dek`] output.
//! * **DEK → values.** [`seal`] and [`open`] encrypt one value bound to its [`Aad`], so a
//!   ciphertext cannot be moved to another row. The byte formats are in [`envelope`].
//! * **Rotation.** [`KeyFile::rotate`] adds a master key version; [`rewrap`] moves each DEK to the
//!   new KEK without touching a single value; then [`KeyFile::remove_master_key`] retires the old
//!   version.
//! * **Erasure is crypto-shredding.** Deleting a subject's wrapped DEK makes every copy of its
//!   values (replicas, backups, logs of ciphertext) unreadable at once; its blind indexes
//!   ([`blind`]) are deleted with it.
//! * **API keys** are stored as [`KeyRing::api_key_hash`] (why not Argon2 is explained there).
//!
//! # Hygiene
//!
//! Secret bytes live in [`SecretKey`] (wiped on drop, `Debug` prints `SecretKey(***)`, no
//! `Display` or `Serialize`); decrypted values come back in `Zeroizing` buffers; errors
//! ([`CryptoError`]) never carry key material or plaintext; comparisons of secrets use [`ct_eq`].
//! The crate does no network IO and touches files only in [`keyfile`].

#![forbid(unsafe_code)]

pub mod blind;
pub mod envelope;
pub mod error;
pub mod keyfile;
pub mod keyring;
pub mod secret;

pub use blind::{
    BlindIndexKey, blind_index, blind_index_email, blind_index_phone, normalise_email,
    normalise_phone,
};
pub use envelope::{Aad, Dek, Kek, open, rewrap, seal, unwrap_dek, wrap_dek, wrapped_dek_version};
pub use error::{CryptoError, Result};
pub use keyfile::{KeyFile, MasterKey};
pub use keyring::KeyRing;
pub use secret::{KEY_LEN, SecretKey, ct_eq};
pub use zeroize::Zeroizing;
