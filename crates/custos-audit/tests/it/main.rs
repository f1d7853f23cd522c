#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! All integration tests of custos-audit, in one binary.

mod bundle;
mod merkle_props;

use custos_audit::{EntryFields, canonical};

/// Canonical bytes of a plausible entry `seq` of tenant `tenant`.
pub fn entry_bytes(tenant: &str, seq: u64) -> Vec<u8> {
    let cats = vec!["user.contact.email".to_owned()];
    canonical(&EntryFields {
        tenant,
        seq,
        at_micros: 1_700_000_000_000_000 + seq as i64,
        actor: "key:support",
        key_id: "k_1",
        action: "read",
        purpose: "support",
        subject: &format!("sub_{seq}"),
        categories: &cats,
        decision: "allow",
        reason: "",
        request_id: "",
    })
}
