//! The audit log's integrity: every entry is hashed together with the hash of the
//! entry before it, so changing, removing or reordering any stored entry breaks
//! every hash after it, and `custos audit verify` finds the first break.
//!
//! Entries carry ids, purposes and category names, never personal data, so
//! erasure never needs to rewrite the log.
//!
//! The verifiable log that replaces the plain chain is built from the pure parts
//! here, which the stores do not use yet:
//! - [`merkle`] — RFC 9162 tree hashing over [`canonical`] entries, the incremental
//!   [`merkle::CompactTree`], inclusion and consistency proofs and their checks;
//! - [`checkpoint`] — Ed25519-signed statements of (tenant, size, root, time);
//! - [`proof`] — the JSON bundle a third party checks with only the public key;
//! - [`entry`] — decoding canonical bytes back into an [`entry::Entry`].
//!
//! The formats are specified in `docs/audit-proofs.md`.
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod entry;
pub mod external;
pub mod merkle;
pub mod proof;

use sha2::{Digest, Sha256};

/// The hash before the first entry of a tenant's log.
pub const GENESIS: [u8; 32] = [0; 32];

/// The fields of an entry that the hash covers, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub tenant: &'a str,
    pub seq: u64,
    /// Microseconds since the Unix epoch.
    pub at_micros: i64,
    pub actor: &'a str,
    pub key_id: &'a str,
    pub action: &'a str,
    pub purpose: &'a str,
    pub subject: &'a str,
    pub categories: &'a [String],
    pub decision: &'a str,
    pub reason: &'a str,
    pub request_id: &'a str,
}

/// Canonical bytes of an entry: every field length-prefixed, so no two different
/// entries encode alike.
pub fn canonical(e: &EntryFields<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(1u8); // encoding version
    put(&mut out, e.tenant.as_bytes());
    out.extend_from_slice(&e.seq.to_be_bytes());
    out.extend_from_slice(&e.at_micros.to_be_bytes());
    for s in [e.actor, e.key_id, e.action, e.purpose, e.subject] {
        put(&mut out, s.as_bytes());
    }
    out.extend_from_slice(&(e.categories.len() as u32).to_be_bytes());
    for c in e.categories {
        put(&mut out, c.as_bytes());
    }
    for s in [e.decision, e.reason, e.request_id] {
        put(&mut out, s.as_bytes());
    }
    out
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The hash of an entry chained to the previous one.
pub fn chain_hash(prev: &[u8; 32], entry: &EntryFields<'_>) -> [u8; 32] {
    chain_hash_canonical(prev, &canonical(entry))
}

/// [`chain_hash`] from the entry's [`canonical`] bytes, for a caller that also needs
/// them for the entry's Merkle leaf (so they are encoded once).
pub fn chain_hash_canonical(prev: &[u8; 32], canonical_entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"custos/audit/v1");
    h.update(prev);
    h.update(canonical_entry);
    h.finalize().into()
}

/// Where a chain stops being consistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("audit entry {seq}: sequence gap (expected {expected})")]
    Gap { seq: u64, expected: u64 },
    #[error("audit entry {seq}: previous-hash link does not match")]
    BrokenLink { seq: u64 },
    #[error("audit entry {seq}: content does not match its hash")]
    Altered { seq: u64 },
}

/// Checks entries incrementally; feed them in sequence order.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: [u8; 32],
    next_seq: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            prev: GENESIS,
            next_seq: 1,
        }
    }
}

impl Verifier {
    /// Checks one stored entry (`prev_hash`, `hash` as stored) against the chain so far.
    pub fn check(
        &mut self,
        entry: &EntryFields<'_>,
        prev_hash: &[u8; 32],
        hash: &[u8; 32],
    ) -> Result<(), ChainError> {
        if entry.seq != self.next_seq {
            return Err(ChainError::Gap {
                seq: entry.seq,
                expected: self.next_seq,
            });
        }
        if prev_hash != &self.prev {
            return Err(ChainError::BrokenLink { seq: entry.seq });
        }
        if &chain_hash(prev_hash, entry) != hash {
            return Err(ChainError::Altered { seq: entry.seq });
        }
        self.prev = *hash;
        self.next_seq += 1;
        Ok(())
    }

    /// Number of entries verified so far.
    pub fn verified(&self) -> u64 {
        self.next_seq - 1
    }

    pub fn head(&self) -> [u8; 32] {
        self.prev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, reason: &str) -> (Vec<String>, String, u64) {
        (
            vec!["user.contact.email".to_owned()],
            reason.to_owned(),
            seq,
        )
    }

    fn fields<'a>(seq: u64, cats: &'a [String], reason: &'a str) -> EntryFields<'a> {
        EntryFields {
            tenant: "t",
            seq,
            at_micros: 1,
            actor: "a",
            key_id: "k",
            action: "read",
            purpose: "p",
            subject: "s",
            categories: cats,
            decision: "allow",
            reason,
            request_id: "",
        }
    }

    #[test]
    fn chain_detects_alteration_gap_and_relink() {
        let (cats, reason, _) = entry(1, "ok");
        let e1 = fields(1, &cats, &reason);
        let h1 = chain_hash(&GENESIS, &e1);
        let e2 = fields(2, &cats, &reason);
        let h2 = chain_hash(&h1, &e2);

        let mut v = Verifier::default();
        v.check(&e1, &GENESIS, &h1).unwrap();
        v.check(&e2, &h1, &h2).unwrap();
        assert_eq!(v.verified(), 2);

        let altered = fields(2, &cats, "changed");
        let mut v = Verifier::default();
        v.check(&e1, &GENESIS, &h1).unwrap();
        assert_eq!(
            v.check(&altered, &h1, &h2),
            Err(ChainError::Altered { seq: 2 })
        );

        let mut v = Verifier::default();
        assert_eq!(
            v.check(&e2, &h1, &h2),
            Err(ChainError::Gap {
                seq: 2,
                expected: 1
            })
        );

        let mut v = Verifier::default();
        v.check(&e1, &GENESIS, &h1).unwrap();
        assert_eq!(
            v.check(&e2, &GENESIS, &h2),
            Err(ChainError::BrokenLink { seq: 2 })
        );
    }

    #[test]
    fn field_boundaries_cannot_shift() {
        let cats: Vec<String> = vec![];
        let mut a = fields(1, &cats, "");
        a.actor = "ab";
        a.key_id = "c";
        let mut b = fields(1, &cats, "");
        b.actor = "a";
        b.key_id = "bc";
        assert_ne!(canonical(&a), canonical(&b));
    }
}
