//! Retention that counts from an event (issue 5 parts 1 and 2) on the test clock:
//! `last_activity` pushes the expiry at each activity, `account_closure` starts the
//! clock of account categories, a consent withdrawal only that purpose's records;
//! a legal hold pauses deletion and isolates the subject until its end.

use custos_core::clock::Clock;
use custos_core::retention::sweep;
use custos_core::vault::consent::{ConsentAction, ConsentInput};
use custos_core::vault::events::parse_event;
use custos_core::vault::{RequestCtx, WithheldReason};
use custos_core::{VaultError, rights::add_span};
use custos_crypto::KeyRing;
use custos_policy::period::{Span, Trigger, Unit};
use custos_store::{LifecycleStore, Record, SubjectId, Timestamp};
use jiff::SignedDuration;
use serde_json::json;

use crate::harness::{H, POLICY, request, with_policy};

fn policy() -> String {
    POLICY
        .replace(
            r#"categories = ["user.contact.*", "user.name", "user.notes", "user.preferences"]"#,
            r#"categories = ["user.contact.*", "user.name", "user.notes", "user.preferences", "user.login"]"#,
        )
        .replace(
            r#"categories = ["user.contact.email", "user.name"]"#,
            r#"categories = ["user.contact.email", "user.name", "user.segment"]"#,
        )
        .replace(
            r#"categories = ["user.contact.email"]"#,
            r#"categories = ["user.contact.email", "user.segment"]"#,
        )
        .replace(
            "[category.\"user.financial.card_cvv\"]",
            r#"[category."user.login"]
description = "Login history"
retention = "1y after account_closure"

[category."user.segment"]
description = "Marketing segment"
retention = "30d after consent_withdrawal"

[purpose.legal_claims]
description = "Defend legal claims"
basis = "legal_obligation"
legal_reference = "Code civil art. 2224"
categories = ["user.name", "user.notes"]
recipients = ["support"]
during_restriction = true

[category."user.financial.card_cvv"]"#,
        )
}

fn h() -> H {
    with_policy(&policy())
}

fn keys(h: &H) -> KeyRing {
    KeyRing::from_keyfile(&h.key_file)
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n * 24)
}

fn customer(h: &H) -> SubjectId {
    let req = request(&[
        ("user.name", json!("Alice Martin"), "account"),
        ("user.notes", json!("prefers mornings"), "account"),
        ("user.login", json!("2026-03-01 web"), "account"),
    ]);
    h.vault
        .create_subject(&h.staff("sales"), &req, &RequestCtx::default())
        .unwrap()
        .written()
        .subject
}

fn record(h: &H, s: SubjectId, category: &str) -> Option<Record> {
    h.store
        .subject_records(&h.tenant, s)
        .unwrap()
        .into_iter()
        .find(|r| r.category == category)
}

fn expiry(h: &H, s: SubjectId, category: &str) -> Option<Timestamp> {
    record(h, s, category).and_then(|r| r.expires_at)
}

fn event(h: &H, s: SubjectId, name: &str, at: Timestamp) {
    h.vault
        .record_event(
            &h.actor("sales"),
            s,
            parse_event(name).unwrap(),
            Some(at),
            None,
            &RequestCtx::default(),
        )
        .unwrap();
}

fn sweep_now(h: &H) -> custos_core::retention::SweepReport {
    sweep(
        h.store.as_ref(),
        &keys(h),
        &h.tenant,
        h.clock.now(),
        100,
        false,
    )
    .unwrap()
}

fn three_years(t: Timestamp) -> Timestamp {
    add_span(t, Span::new(3, Unit::Years)).unwrap()
}

#[test]
fn last_activity_retention_runs_from_the_last_activity_and_each_activity_pushes_it() {
    let h = h();
    let collected = h.clock.now();
    let alice = customer(&h);
    // Sign-up is activity: the clock starts at collection (issue 13.7).
    assert_eq!(expiry(&h, alice, "user.name"), Some(three_years(collected)));
    h.clock.advance(days(1));
    let first = h.clock.now();
    event(&h, alice, "last_activity", first);
    assert_eq!(expiry(&h, alice, "user.name"), Some(three_years(first)));
    assert_eq!(expiry(&h, alice, "user.login"), None, "counts from closure");

    // A year later she comes back: the expiry moves with her.
    h.clock.advance(days(365));
    let second = h.clock.now();
    event(&h, alice, "last_activity", second);
    assert_eq!(expiry(&h, alice, "user.name"), Some(three_years(second)));

    // Past the first expiry, before the second: the sweep leaves the name.
    h.clock
        .set(three_years(first) + SignedDuration::from_hours(1));
    sweep_now(&h);
    assert!(record(&h, alice, "user.name").is_some());

    h.clock.set(three_years(second));
    let r = sweep_now(&h);
    assert!(r.deleted >= 1, "{r:?}");
    assert!(record(&h, alice, "user.name").is_none());

    // The event is audited; an unknown subject or event is refused.
    let missing = SubjectId(custos_store::Uuid::now_v7());
    let err = h
        .vault
        .record_event(
            &h.actor("sales"),
            missing,
            Trigger::LastActivity,
            None,
            None,
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::SubjectNotFound), "{err:?}");
    assert!(matches!(
        parse_event("collection"),
        Err(VaultError::Invalid(_))
    ));
}

#[test]
fn account_closure_starts_the_clock_of_account_categories() {
    let h = h();
    let collected = h.clock.now();
    let alice = customer(&h);
    h.clock.advance(days(10));
    let closed = h.clock.now();
    event(&h, alice, "account_closure", closed);
    let year = add_span(closed, Span::new(1, Unit::Years)).unwrap();
    assert_eq!(expiry(&h, alice, "user.login"), Some(year));
    assert_eq!(
        expiry(&h, alice, "user.name"),
        Some(three_years(collected)),
        "counts from activity"
    );
    h.clock.set(year);
    sweep_now(&h);
    assert!(record(&h, alice, "user.login").is_none());
    assert!(record(&h, alice, "user.name").is_some());
}

fn consent(purpose: &str, action: ConsentAction) -> ConsentInput {
    ConsentInput {
        purpose: purpose.into(),
        action,
        channel: "web".into(),
        notice_text: None,
        ip: None,
        user_agent: None,
    }
}

#[test]
fn consent_withdrawal_starts_the_clock_of_that_purposes_records_only() {
    let h = h();
    let alice = customer(&h);
    let ctx = RequestCtx::default();
    for p in ["newsletter", "partner_offers"] {
        h.vault
            .record_consent(
                &h.actor("sales"),
                alice,
                &consent(p, ConsentAction::Grant),
                &ctx,
            )
            .unwrap();
        h.vault
            .add_records(
                &h.staff("sales"),
                alice,
                &request(&[("user.segment", json!(format!("{p} fans")), p)]),
                &ctx,
            )
            .unwrap();
    }
    let segments = || -> Vec<(String, Option<Timestamp>)> {
        let mut v: Vec<_> = h
            .store
            .subject_records(&h.tenant, alice)
            .unwrap()
            .into_iter()
            .filter(|r| r.category == "user.segment")
            .map(|r| (r.purpose, r.expires_at))
            .collect();
        v.sort();
        v
    };
    assert!(segments().iter().all(|(_, e)| e.is_none()));

    h.clock.advance(days(2));
    let withdrawn = h.clock.now();
    h.vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &consent("newsletter", ConsentAction::Withdraw),
            &ctx,
        )
        .unwrap();
    let due = withdrawn + days(30);
    assert_eq!(
        segments(),
        vec![
            ("newsletter".to_owned(), Some(due)),
            ("partner_offers".to_owned(), None)
        ]
    );
    h.clock.set(due);
    sweep_now(&h);
    assert_eq!(segments(), vec![("partner_offers".to_owned(), None)]);
}

#[test]
fn a_legal_hold_pauses_deletion_and_isolates_until_its_end() {
    let h = h();
    let alice = customer(&h);
    let until = h.clock.now() + days(60);
    h.vault
        .place_hold(
            &h.staff("sales"),
            alice,
            "litigation 2026-17",
            until,
            &RequestCtx::default(),
        )
        .unwrap();
    let ctx = RequestCtx::default();
    let support = h.actor("support");

    // Notes expire 30 days after collection; the hold keeps them.
    h.clock.advance(days(31));
    let r = sweep_now(&h);
    assert_eq!(r.skipped_held, 1, "{r:?}");
    assert!(record(&h, alice, "user.notes").is_some());
    // While it lasts only purposes allowed during restriction read her.
    let out = h.vault.read(&support, alice, "support", &ctx).unwrap();
    assert!(out.values.is_empty());
    assert!(
        out.withheld
            .iter()
            .all(|w| w.reason == WithheldReason::Restricted)
    );
    let legal = h.vault.read(&support, alice, "legal_claims", &ctx).unwrap();
    assert_eq!(legal.values.len(), 2);

    // The hold ends: the sweep proceeds and reads open again.
    h.clock.set(until);
    let r = sweep_now(&h);
    assert_eq!((r.deleted, r.skipped_held), (1, 0), "{r:?}");
    assert!(record(&h, alice, "user.notes").is_none());
    let out = h.vault.read(&support, alice, "support", &ctx).unwrap();
    assert_eq!(out.values.len(), 1, "the name");

    // A hold needs a reason and an end after now.
    let err = h
        .vault
        .place_hold(&h.staff("sales"), alice, " ", until, &ctx)
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid(ref e) if e.len() == 2),
        "{err:?}"
    );
}

/// Issue 17.2: nobody can move a retention clock. Only roles the policy lists
/// (`sends_lifecycle_events`) send events; an event time lies between the
/// subject's collection and now plus a small skew; a past time never makes the
/// sweep delete early; `last_activity` never moves an expiry earlier.
#[test]
fn nobody_can_move_a_retention_clock() {
    let h = h();
    let alice = customer(&h);
    let collected = h.clock.now();
    let ctx = RequestCtx::default();
    let send = |role: &str, name: &str, at: Option<Timestamp>| {
        h.vault.record_event(
            &h.actor(role),
            alice,
            parse_event(name).unwrap(),
            at,
            None,
            &ctx,
        )
    };
    let before = h.audit_len();
    // A role the policy does not list may not send events (nothing changes).
    let err = send("support", "account_closure", None).unwrap_err();
    assert!(matches!(err, VaultError::EventRoleNotAllowed(_)), "{err:?}");
    assert_eq!(err.code(), "VAULT-0216");
    assert_eq!(expiry(&h, alice, "user.login"), None);
    assert_eq!(h.audit_len(), before + 1, "the refusal is audited");

    // Times out of bounds are refused with a typed error.
    for at in [
        collected - days(1),
        collected + SignedDuration::from_mins(6),
    ] {
        match send("sales", "account_closure", Some(at)) {
            Err(VaultError::Invalid(list)) => {
                assert_eq!(list[0].code, "VAULT-0215");
                assert_eq!(list[0].pointer, "/at");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(expiry(&h, alice, "user.login"), None);

    // Two years on, a closure dated back to collection: the clock counts from
    // now, so the sweep deletes nothing because of the past time.
    h.clock.advance(days(730));
    let now = h.clock.now();
    let out = send("sales", "account_closure", Some(collected)).unwrap();
    let year = add_span(now, Span::new(1, Unit::Years)).unwrap();
    assert_eq!(out.at, now);
    assert_eq!(expiry(&h, alice, "user.login"), Some(year));
    let r = sweep_now(&h);
    assert!(
        r.forecast.iter().all(|f| f.category == "user.notes"),
        "only the 30-day notes were due: {r:?}"
    );
    assert!(record(&h, alice, "user.login").is_some());

    // Activity dated a few minutes ahead (skew), then activity now: the expiry
    // never moves earlier.
    let ahead = now + SignedDuration::from_mins(4);
    send("sales", "last_activity", Some(ahead)).unwrap();
    assert_eq!(expiry(&h, alice, "user.name"), Some(three_years(ahead)));
    send("sales", "last_activity", None).unwrap();
    assert_eq!(expiry(&h, alice, "user.name"), Some(three_years(ahead)));
    // An admin key may send events too; later activity still moves it later.
    h.clock.advance(days(1));
    h.vault
        .record_event(
            &h.staff("support"),
            alice,
            Trigger::LastActivity,
            None,
            None,
            &ctx,
        )
        .unwrap();
    assert_eq!(
        expiry(&h, alice, "user.name"),
        Some(three_years(h.clock.now()))
    );
}

/// Issue 17.11: a legal hold's reason is staff's words and may name people; the
/// append-only audit log names the hold by its id instead.
#[test]
fn the_audit_log_names_a_legal_hold_by_reference_not_its_words() {
    use custos_store::Store;
    let h = h();
    let alice = customer(&h);
    let hold = h
        .vault
        .place_hold(
            &h.staff("sales"),
            alice,
            "claim by Bob Durand against Alice Martin",
            h.clock.now() + days(30),
            &RequestCtx::default(),
        )
        .unwrap();
    let entries = h.store.audit_entries(&h.tenant, 0, 1000).unwrap();
    let placed = entries
        .iter()
        .find(|e| e.draft.action == "legal_hold")
        .unwrap();
    assert!(placed.draft.reason.contains(&hold.id.to_string()));
    assert!(
        entries
            .iter()
            .all(|e| !e.draft.reason.contains("Durand") && !e.draft.reason.contains("Alice")),
        "{entries:?}"
    );
}
