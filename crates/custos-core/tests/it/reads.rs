//! Purpose-bound reads (P0-6, L-7): only what the role may see for the purpose,
//! given consent and objection; the rest listed as withheld; every decision audited.

use custos_core::VaultError;
use custos_core::consent::ConsentState;
use custos_core::vault::{RequestCtx, WithheldReason};
use custos_store::{Outcome, Store};
use serde_json::json;

use crate::harness::harness;

fn categories(out: &custos_core::vault::ReadOutcome) -> Vec<&str> {
    let mut c: Vec<&str> = out.values.iter().map(|v| v.category.as_str()).collect();
    c.sort_unstable();
    c
}

#[test]
fn read_returns_only_the_purposes_categories_and_lists_the_rest() {
    let h = harness();
    let alice = h.alice();
    let out = h
        .vault
        .read(
            &h.actor("support"),
            alice,
            "support",
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(categories(&out), ["user.name", "user.notes"]);
    let withheld: Vec<(&str, WithheldReason)> = out
        .withheld
        .iter()
        .map(|w| (w.category.as_str(), w.reason))
        .collect();
    assert_eq!(
        withheld,
        [
            ("user.contact.email", WithheldReason::NotForPurpose),
            ("user.contact.phone", WithheldReason::NotForPurpose)
        ]
    );
    let name = out
        .values
        .iter()
        .find(|v| v.category == "user.name")
        .unwrap();
    assert_eq!(name.value, json!("Alice Martin"));
    assert_eq!(name.collected_for, "account");
}

#[test]
fn role_that_is_not_a_recipient_is_denied_and_the_denial_audited() {
    let h = harness();
    let alice = h.alice();
    let before = h.audit_len();
    let err = h
        .vault
        .read(
            &h.actor("sales"),
            alice,
            "newsletter",
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert!(
        matches!(err, VaultError::PurposeNotPermitted { .. }),
        "{err:?}"
    );
    assert_eq!(h.audit_len(), before + 1);
    let last = h
        .store
        .audit_entries(&h.tenant, before + 1, 1)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.draft.outcome, Outcome::Deny);
    assert_eq!(last.draft.purpose.as_deref(), Some("newsletter"));
    assert_eq!(last.draft.subject, Some(alice));
    assert!(last.draft.categories.is_empty());
}

#[test]
fn unknown_purpose_and_key_scope_are_refused() {
    let h = harness();
    let alice = h.alice();
    let err = h
        .vault
        .read(&h.actor("sales"), alice, "nosuch", &RequestCtx::default())
        .unwrap_err();
    assert!(matches!(err, VaultError::UnknownPurpose(_)));
    // L-3: a key limited to `support` cannot read for `account`, though its role could.
    let mut scoped = h.actor("support");
    scoped.purposes = vec!["support".into()];
    let err = h
        .vault
        .read(&scoped, alice, "account", &RequestCtx::default())
        .unwrap_err();
    assert!(matches!(err, VaultError::KeyScope(_)));
    assert!(
        h.vault
            .read(&scoped, alice, "support", &RequestCtx::default())
            .is_ok()
    );
}

#[test]
fn consent_purpose_reads_nothing_until_consent_and_stops_at_withdrawal() {
    let h = harness();
    let alice = h.alice();
    let marketing = h.actor("marketing");
    let read = || {
        h.vault
            .read(&marketing, alice, "newsletter", &RequestCtx::default())
            .unwrap()
    };

    let out = read();
    assert!(out.values.is_empty());
    assert!(
        out.withheld
            .iter()
            .all(|w| w.reason == WithheldReason::NoConsent),
        "{:?}",
        out.withheld
    );

    h.consent
        .consent
        .lock()
        .unwrap()
        .insert((alice, "newsletter".into()), ConsentState::Granted);
    assert_eq!(categories(&read()), ["user.contact.email", "user.name"]);

    h.consent
        .consent
        .lock()
        .unwrap()
        .insert((alice, "newsletter".into()), ConsentState::Withdrawn);
    let out = read();
    assert!(out.values.is_empty());
    assert!(
        out.withheld
            .iter()
            .any(|w| w.reason == WithheldReason::ConsentWithdrawn)
    );
    // L-7: withdrawal does not touch purposes on another basis.
    assert!(
        !h.vault
            .read(
                &h.actor("support"),
                alice,
                "support",
                &RequestCtx::default()
            )
            .unwrap()
            .values
            .is_empty()
    );
}

#[test]
fn objection_stops_legitimate_interest_purposes() {
    let h = harness();
    let alice = h.alice();
    let marketing = h.actor("marketing");
    assert_eq!(
        categories(
            &h.vault
                .read(&marketing, alice, "profiling", &RequestCtx::default())
                .unwrap()
        ),
        ["user.name"]
    );
    h.consent
        .objections
        .lock()
        .unwrap()
        .insert((alice, "profiling".into()), true);
    let out = h
        .vault
        .read(&marketing, alice, "profiling", &RequestCtx::default())
        .unwrap();
    assert!(out.values.is_empty());
    assert!(
        out.withheld
            .iter()
            .all(|w| w.reason == WithheldReason::Objected)
    );
    let entry = h
        .store
        .audit_entries(&h.tenant, h.audit_len(), 1)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(entry.draft.outcome, Outcome::Deny);
}

#[test]
fn anonymised_only_purpose_never_reads_a_person() {
    let h = harness();
    let alice = h.alice();
    let out = h
        .vault
        .read(
            &h.actor("marketing"),
            alice,
            "statistics",
            &RequestCtx::default(),
        )
        .unwrap();
    assert!(out.values.is_empty());
}

#[test]
fn every_read_is_audited_with_what_was_released_never_values() {
    let h = harness();
    let alice = h.alice();
    let before = h.audit_len();
    h.vault
        .read(
            &h.actor("support"),
            alice,
            "support",
            &RequestCtx {
                request_id: Some("req-1".into()),
                idempotency: None,
            },
        )
        .unwrap();
    assert_eq!(h.audit_len(), before + 1);
    let e = h
        .store
        .audit_entries(&h.tenant, before + 1, 1)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(e.draft.action, "read");
    assert_eq!(e.draft.categories, ["user.name", "user.notes"]);
    assert_eq!(e.draft.request_id.as_deref(), Some("req-1"));
    let shown = format!("{e:?}");
    assert!(
        !shown.contains("Alice") && !shown.contains("mornings"),
        "audit holds no values"
    );
    custos_core::audit::verify_chain(h.store.as_ref(), &h.tenant).unwrap();
}

#[test]
fn unknown_subject_is_not_found_and_audited() {
    let h = harness();
    let before = h.audit_len();
    let ghost = custos_store::SubjectId(custos_store::Uuid::now_v7());
    let err = h
        .vault
        .read(
            &h.actor("support"),
            ghost,
            "support",
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::SubjectNotFound));
    assert_eq!(h.audit_len(), before + 1);
}

#[test]
fn lookup_by_email_and_phone_normalises() {
    let h = harness();
    let alice = h.alice();
    let sales = h.actor("sales");
    let found = h
        .vault
        .lookup(
            &sales,
            "user.contact.email",
            "  ALICE@example.COM ",
            "account",
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(found, [alice]);
    let found = h
        .vault
        .lookup(
            &sales,
            "user.contact.phone",
            "+33 6 12 34 56 78",
            "account",
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(found, [alice]);
    assert!(
        h.vault
            .lookup(
                &sales,
                "user.contact.email",
                "bob@example.com",
                "account",
                &RequestCtx::default()
            )
            .unwrap()
            .is_empty()
    );
    // A category without a blind index cannot be searched.
    assert!(matches!(
        h.vault.lookup(
            &sales,
            "user.name",
            "Alice Martin",
            "account",
            &RequestCtx::default()
        ),
        Err(VaultError::Invalid(_))
    ));
    // A role that may not see emails for that purpose cannot find people by email.
    assert!(
        h.vault
            .lookup(
                &h.actor("support"),
                "user.contact.email",
                "alice@example.com",
                "support",
                &RequestCtx::default()
            )
            .is_err()
    );
}

/// Issue 17.8: a lookup obeys consent, objection and restriction exactly like a
/// read: no subject id goes to a role that could not read the matched category
/// for that purpose now.
#[test]
fn lookups_obey_consent_objection_and_restriction_like_reads() {
    // Profiling (legitimate interest, objectable) may also find people by email.
    let h = crate::harness::harness_over(&crate::harness::POLICY.replace(
        r#"categories = ["user.name", "user.preferences"]"#,
        r#"categories = ["user.name", "user.preferences", "user.contact.email"]"#,
    ));
    let alice = h.alice();
    let ctx = RequestCtx::default();
    let find = |role: &str, purpose: &str| {
        h.vault
            .lookup(
                &h.actor(role),
                "user.contact.email",
                "alice@example.com",
                purpose,
                &ctx,
            )
            .unwrap()
    };
    let set = |state: ConsentState| {
        h.consent
            .consent
            .lock()
            .unwrap()
            .insert((alice, "newsletter".to_owned()), state);
    };
    // Consent purpose: found only while consent is current.
    assert!(find("marketing", "newsletter").is_empty(), "never asked");
    set(ConsentState::Granted);
    assert_eq!(find("marketing", "newsletter"), [alice]);
    set(ConsentState::Withdrawn);
    assert!(find("marketing", "newsletter").is_empty(), "withdrawn");
    // An objection stops it like a read.
    assert_eq!(find("marketing", "profiling"), [alice]);
    h.consent
        .objections
        .lock()
        .unwrap()
        .insert((alice, "profiling".to_owned()), true);
    let read = h
        .vault
        .read(&h.actor("marketing"), alice, "profiling", &ctx)
        .unwrap();
    assert!(read.values.is_empty());
    assert!(find("marketing", "profiling").is_empty(), "objected");
    // Restriction: the account purpose no longer finds her either.
    assert_eq!(find("sales", "account"), [alice]);
    h.vault.restrict(&h.staff("sales"), alice, &ctx).unwrap();
    assert!(find("sales", "account").is_empty(), "restricted");
    h.vault
        .lift_restriction(&h.staff("sales"), alice, &ctx)
        .unwrap();
    assert_eq!(find("sales", "account"), [alice]);
}
