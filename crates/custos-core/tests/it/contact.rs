//! Contact resolution for notices: an internal, audited read of the subject's email.

use custos_core::contact::{CONTACT_ACTION, contact_email};
use custos_core::vault::RequestCtx;
use custos_store::{Outcome, Store};
use serde_json::json;

use crate::harness::{harness, request};

#[test]
fn the_email_is_decrypted_and_the_read_is_audited_without_the_address() {
    let h = harness();
    let alice = h.alice();
    let before = h.audit_len();
    let email = contact_email(&h.vault, &h.tenant, alice, "request.acknowledged", None).unwrap();
    assert_eq!(email.as_deref(), Some("alice@example.com"));
    assert_eq!(h.audit_len(), before + 1, "one audited read");
    let entries = h.store.audit_entries(&h.tenant, before + 1, 10).unwrap();
    let e = &entries.last().unwrap().draft;
    assert_eq!(e.action, CONTACT_ACTION);
    assert_eq!(e.actor, "system");
    assert_eq!(e.subject, Some(alice));
    assert_eq!(e.categories, ["user.contact.email"]);
    assert_eq!(e.reason, "request.acknowledged");
    assert_eq!(e.outcome, Outcome::Allow);
    assert!(!format!("{e:?}").contains("alice@example.com"));
}

#[test]
fn no_email_held_or_a_non_email_category_gives_none() {
    let h = harness();
    let bob = h
        .vault
        .create_subject(
            &h.actor("sales"),
            &request(&[("user.name", json!("Bob"), "account")]),
            &RequestCtx::default(),
        )
        .unwrap()
        .written()
        .subject;
    assert_eq!(
        contact_email(&h.vault, &h.tenant, bob, "request.acknowledged", None).unwrap(),
        None
    );
    let alice = h.alice();
    assert_eq!(
        contact_email(
            &h.vault,
            &h.tenant,
            alice,
            "verification.code",
            Some("user.contact.phone")
        )
        .unwrap(),
        None,
        "a phone category is not an email"
    );
    assert_eq!(
        contact_email(
            &h.vault,
            &h.tenant,
            alice,
            "verification.code",
            Some("user.contact.email")
        )
        .unwrap()
        .as_deref(),
        Some("alice@example.com")
    );
}
