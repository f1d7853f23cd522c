//! Blind indexes: deterministic keyed hashes that let the store find a subject by email or phone
//! without holding the email or phone in the clear.
//!
//! `blind_index = HMAC-SHA256(key(tenant, category), normalised value)`. The key is per tenant
//! and per category ([`crate::KeyRing::blind_index_key`]), so indexes do not link across tenants
//! or categories, and without the index key a stolen database cannot be brute-forced offline.
//! Indexes are deleted with the subject.
//!
//! **Normalisation decides what "the same" means for lookups.** A lookup finds a row only if both
//! values normalise to the same string, so the writer and the reader must use the same function,
//! and changing a normaliser means recomputing every index made with it. The normalisers here are
//! deliberately simple:
//!
//! * [`normalise_email`]: trim surrounding whitespace, lowercase (Unicode). `Alice@Example.COM`
//!   and ` alice@example.com ` are the same; `alice+shop@example.com` and `alice@example.com` are
//!   not, and neither are Gmail's dotted variants.
//! * [`normalise_phone`]: keep `+` and the ASCII digits. `+32 2 555-12-34` and `+3225551234` are
//!   the same; `02 555 12 34` (national form) is not, since turning it into E.164 needs a country.

use ring::hmac;

/// The HMAC key for one category of one tenant. `Debug` prints no key material.
#[derive(Clone)]
pub struct BlindIndexKey {
    key: hmac::Key,
}

impl BlindIndexKey {
    pub(crate) fn new(key: hmac::Key) -> Self {
        Self { key }
    }
}

impl std::fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexKey(***)")
    }
}

/// HMAC-SHA256 of `value` exactly as given. Normalise first (or use [`blind_index_email`] /
/// [`blind_index_phone`]); see the module docs for why that matters.
#[must_use]
pub fn blind_index(key: &BlindIndexKey, value: &str) -> [u8; 32] {
    let tag = hmac::sign(&key.key, value.as_bytes());
    let mut out = [0u8; 32];
    for (dst, src) in out.iter_mut().zip(tag.as_ref()) {
        *dst = *src;
    }
    out
}

/// [`blind_index`] of [`normalise_email`]`(value)`.
#[must_use]
pub fn blind_index_email(key: &BlindIndexKey, value: &str) -> [u8; 32] {
    blind_index(key, &normalise_email(value))
}

/// [`blind_index`] of [`normalise_phone`]`(value)`.
#[must_use]
pub fn blind_index_phone(key: &BlindIndexKey, value: &str) -> [u8; 32] {
    blind_index(key, &normalise_phone(value))
}

/// Trims surrounding whitespace and lowercases.
#[must_use]
pub fn normalise_email(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Keeps `+` and ASCII digits, drops everything else (spaces, dashes, dots, brackets).
#[must_use]
pub fn normalise_phone(value: &str) -> String {
    value
        .chars()
        .filter(|c| *c == '+' || c.is_ascii_digit())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> BlindIndexKey {
        BlindIndexKey::new(hmac::Key::new(hmac::HMAC_SHA256, &[byte; 32]))
    }

    #[test]
    fn normalisers() {
        assert_eq!(
            normalise_email(" Alice@Example.COM \n"),
            "alice@example.com"
        );
        assert_eq!(normalise_email("ÉLODIE@exemple.fr"), "élodie@exemple.fr");
        assert_eq!(normalise_phone("+32 (2) 555-12.34"), "+3225551234");
        assert_eq!(normalise_phone("tel: 555"), "555");
    }

    #[test]
    fn index_depends_on_key_and_normalised_value() {
        let k = key(1);
        assert_eq!(
            blind_index_email(&k, " Alice@Example.COM "),
            blind_index(&k, "alice@example.com")
        );
        assert_ne!(
            blind_index(&k, " Alice@Example.COM "),
            blind_index(&k, "alice@example.com"),
            "blind_index itself does not normalise"
        );
        assert_ne!(blind_index(&k, "x"), blind_index(&key(2), "x"));
        assert_eq!(
            blind_index_phone(&k, "+32 2 555 12 34"),
            blind_index_phone(&k, "+32-2-5551234")
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", key(1)), "BlindIndexKey(***)");
    }
}
