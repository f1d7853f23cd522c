//! Integration tests of custos-crypto: the key hierarchy end to end, tampering, rotation, the key
//! file on disk and blind indexes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod blind;
mod envelope;
mod keyfile;

use custos_crypto::{KeyFile, KeyRing};

pub const CREATED: &str = "2025-01-01T00:00:00Z";

pub fn key_ring() -> KeyRing {
    KeyRing::from_keyfile(&KeyFile::generate(CREATED).unwrap())
}
