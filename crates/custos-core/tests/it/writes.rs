//! Writes: validated against the policy before anything is stored (P0-2, P0-3).

use custos_core::VaultError;
use custos_core::vault::{RequestCtx, WriteOutcome};
use custos_store::Store;
use serde_json::json;

use crate::harness::{harness, request, t0};

fn problems(err: VaultError) -> Vec<(String, &'static str)> {
    match err {
        VaultError::Invalid(list) => list.into_iter().map(|f| (f.pointer, f.code)).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn every_problem_is_listed_and_nothing_is_written() {
    let h = harness();
    let before = h.store.counts(&h.tenant).unwrap();
    let req = request(&[
        ("user.contact.email", json!("not-an-email"), "account"),
        ("user.financial.card_cvv", json!("123"), "account"),
        (
            "user.notes",
            json!("card 4111 1111 1111 1111 exp 12/29"),
            "account",
        ),
        (
            "user.preferences",
            json!({"theme": "dark", "cvv": "123"}),
            "account",
        ),
        ("user.survey", json!("great"), "account"),
        ("user.nosuch", json!("x"), "account"),
        ("user.name", json!("Bob"), "newsletter_typo"),
        ("user.contact.phone", json!("+33612345678"), "support"),
    ]);
    let list = problems(
        h.vault
            .create_subject(&h.actor("sales"), &req, &RequestCtx::default())
            .unwrap_err(),
    );
    let expect = [
        ("/records/0/value", "VAULT-0105"),
        ("/records/1/category", "VAULT-0102"),
        ("/records/2/value", "VAULT-0103"),
        ("/records/3/value/cvv", "VAULT-0104"),
        ("/records/4/category", "VAULT-0108"),
        ("/records/5/category", "VAULT-0101"),
        ("/records/6/purpose", "VAULT-0107"),
        ("/records/7/purpose", "VAULT-0106"),
    ];
    for (pointer, code) in expect {
        assert!(
            list.iter().any(|(p, c)| p == pointer && *c == code),
            "{pointer} {code} missing in {list:?}"
        );
    }
    assert_eq!(
        h.store.counts(&h.tenant).unwrap(),
        before,
        "nothing written, nothing audited"
    );
}

#[test]
fn error_messages_never_carry_the_value() {
    let h = harness();
    let req = request(&[
        ("user.contact.email", json!("secret-person@@x"), "account"),
        ("user.notes", json!("4111111111111111"), "account"),
    ]);
    let err = h
        .vault
        .create_subject(&h.actor("sales"), &req, &RequestCtx::default())
        .unwrap_err();
    let shown = format!("{err:?} {err}");
    assert!(
        !shown.contains("secret-person") && !shown.contains("4111111111111111"),
        "{shown}"
    );
}

#[test]
fn values_are_stored_encrypted() {
    let h = harness();
    let alice = h.alice();
    let (_, records) = h
        .store
        .read_subject(
            &h.tenant,
            alice,
            &[],
            &custos_store::AuditDraft {
                at: t0(),
                actor: "test".into(),
                key_id: None,
                action: "inspect".into(),
                purpose: None,
                subject: Some(alice),
                categories: vec![],
                outcome: custos_store::Outcome::Allow,
                reason: String::new(),
                request_id: None,
            },
        )
        .unwrap();
    assert_eq!(records.len(), 4);
    for r in records {
        let raw = String::from_utf8_lossy(&r.ciphertext);
        assert!(
            !raw.contains("alice") && !raw.contains("Alice") && !raw.contains("+3361"),
            "plaintext in the store"
        );
    }
}

#[test]
fn writes_need_a_purpose_the_role_serves_unless_admin() {
    let h = harness();
    let req = request(&[("user.name", json!("Bob"), "account")]);
    let err = h
        .vault
        .create_subject(&h.actor("marketing"), &req, &RequestCtx::default())
        .unwrap_err();
    assert!(matches!(err, VaultError::PurposeNotPermitted { .. }));
    let mut admin = h.actor("admin");
    admin.admin = true;
    assert!(
        h.vault
            .create_subject(&admin, &req, &RequestCtx::default())
            .is_ok()
    );
}

#[test]
fn add_records_to_existing_subject_and_refuse_unknown_ones() {
    let h = harness();
    let alice = h.alice();
    let req = request(&[("user.preferences", json!({"lang": "fr"}), "account")]);
    let out = h
        .vault
        .add_records(&h.actor("sales"), alice, &req, &RequestCtx::default())
        .unwrap();
    assert_eq!(out.written().subject, alice);
    let ghost = custos_store::SubjectId(custos_store::Uuid::now_v7());
    assert!(matches!(
        h.vault
            .add_records(&h.actor("sales"), ghost, &req, &RequestCtx::default()),
        Err(VaultError::SubjectNotFound)
    ));
}

#[test]
fn retention_from_collection_sets_the_expiry() {
    let h = harness();
    let req = request(&[
        ("user.notes", json!("call back"), "account"),
        ("user.name", json!("Carol"), "account"),
    ]);
    let s = h
        .vault
        .create_subject(&h.actor("sales"), &req, &RequestCtx::default())
        .unwrap()
        .written()
        .subject;
    let out = h
        .vault
        .read(&h.actor("support"), s, "support", &RequestCtx::default())
        .unwrap();
    let notes = out
        .values
        .iter()
        .find(|v| v.category == "user.notes")
        .unwrap();
    assert_eq!(
        notes.expires_at.unwrap().to_string(),
        "2026-03-31T10:00:00Z",
        "30 days after collection"
    );
    let name = out
        .values
        .iter()
        .find(|v| v.category == "user.name")
        .unwrap();
    // Sign-up is activity: a last-activity clock starts at collection (issue 13.7).
    assert_eq!(
        name.expires_at.unwrap().to_string(),
        "2029-03-01T10:00:00Z",
        "counted from last activity, which collection is"
    );
}

#[test]
fn idempotent_create_replays_and_refuses_a_different_body() {
    let h = harness();
    let req = request(&[("user.name", json!("Dan"), "account")]);
    let ctx = RequestCtx {
        request_id: None,
        idempotency: Some(("key-1".into(), [1; 32])),
    };
    let first = h
        .vault
        .create_subject(&h.actor("sales"), &req, &ctx)
        .unwrap();
    let again = h
        .vault
        .create_subject(&h.actor("sales"), &req, &ctx)
        .unwrap();
    assert!(matches!(first, WriteOutcome::Created(_)));
    assert!(matches!(again, WriteOutcome::Replayed(_)));
    assert_eq!(first.written().subject, again.written().subject);
    assert_eq!(h.store.counts(&h.tenant).unwrap().subjects, 1);
    let other = RequestCtx {
        request_id: None,
        idempotency: Some(("key-1".into(), [2; 32])),
    };
    assert!(matches!(
        h.vault.create_subject(&h.actor("sales"), &req, &other),
        Err(VaultError::IdempotencyMismatch)
    ));
}

#[test]
fn jurisdiction_must_be_covered_by_the_policy() {
    let h = harness();
    let mut req = request(&[("user.name", json!("Eve"), "account")]);
    req.jurisdiction = Some("US".into());
    let list = problems(
        h.vault
            .create_subject(&h.actor("sales"), &req, &RequestCtx::default())
            .unwrap_err(),
    );
    assert_eq!(list, [("/jurisdiction".to_owned(), "VAULT-0111")]);
    req.jurisdiction = Some("FR".into());
    assert!(
        h.vault
            .create_subject(&h.actor("sales"), &req, &RequestCtx::default())
            .is_ok()
    );
}

#[test]
fn p0_14_p0_15_export_gives_every_record_with_why_it_is_held() {
    let h = harness();
    let alice = h.alice();
    let mut admin = h.actor("admin");
    admin.admin = true;
    let before = h.audit_len();
    let export = h
        .vault
        .export(&admin, alice, &RequestCtx::default())
        .unwrap();
    assert_eq!(export.records.len(), 4);
    let email = export
        .records
        .iter()
        .find(|r| r.category == "user.contact.email")
        .unwrap();
    assert_eq!(email.value, json!("alice@example.com"));
    assert_eq!(email.collected_for, "account");
    assert_eq!(email.lawful_basis, "contract");
    assert_eq!(email.used_for, ["account", "newsletter", "partner_offers"]);
    assert_eq!(
        email.retention.as_deref(),
        Some("3 years after your last activity")
    );
    assert_eq!(h.audit_len(), before + 1, "the export is audited");
    let csv = export.to_csv();
    assert_eq!(csv.lines().count(), 5, "header + 4 records");
    assert!(csv.contains("\"prefers mornings\"") || csv.contains("prefers mornings"));
    // Only staff fulfilling a request may export.
    assert!(
        h.vault
            .export(&h.actor("sales"), alice, &RequestCtx::default())
            .is_err()
    );
}
