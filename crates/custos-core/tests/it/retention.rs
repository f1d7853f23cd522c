//! The retention sweep on the injected clock (issue 5 part 1): records past their
//! expiry are deleted, anonymised or isolated as the policy says; aggregates are
//! returned only for groups of at least k; a dry run writes nothing; a sweep that
//! fails midway loses nothing and deletes nothing twice; held records stay; and
//! erasure leaves the aggregates as they were (issue 4).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use custos_core::clock::Clock;
use custos_core::retention::{
    self, ISOLATE_REASON, SWEEP_ACTION, SweepParams, aggregates, place_legal_hold, sweep,
};
use custos_core::vault::RequestCtx;
use custos_crypto::KeyRing;
use custos_store::{
    AggregateRow, AuditDraft, ExpiredRecord, LifecycleStore, MIN_GROUP, Outcome, RecordId,
    RetentionApplied, RetentionBatch, RetentionStore, StatsStore, Store, StoreError, SubjectId,
    TenantId, Timestamp,
};
use custos_store_sqlite::SqliteStore;
use jiff::SignedDuration;
use serde_json::json;

use crate::harness::{H, POLICY, request, with_policy};

/// The test policy plus categories that expire 30 days after collection, one per
/// `on_expiry` and value shape.
fn policy() -> String {
    POLICY
        .replace(
            r#"categories = ["user.contact.*", "user.name", "user.notes", "user.preferences"]"#,
            r#"categories = ["user.contact.*", "user.name", "user.notes", "user.preferences", "user.age", "user.birth_date", "user.city", "user.invoice"]"#,
        )
        .replace(
            "[category.\"user.financial.card_cvv\"]",
            r#"[category."user.contact.backup_email"]
description = "Backup email"
shape = "email"
retention = "30d"
lookup = true

[category."user.age"]
description = "Age"
shape = "number"
retention = "30d"
on_expiry = "anonymise"

[category."user.birth_date"]
description = "Birth date"
shape = "date"
retention = "30d"
on_expiry = "anonymise"

[category."user.city"]
description = "City"
retention = "30d"
on_expiry = "anonymise"

[category."user.invoice"]
description = "Invoice reference"
retention = "30d"
on_expiry = "isolate"

[category."user.financial.card_cvv"]"#,
        )
}

fn h() -> H {
    with_policy(&policy())
}

fn keys(h: &H) -> KeyRing {
    KeyRing::from_keyfile(&h.key_file)
}

/// A customer with one record of each expiring category (and a name that does not expire).
fn customer(h: &H, i: usize, age: u32) -> SubjectId {
    let email = format!("backup{i}@example.com");
    let req = request(&[
        ("user.name", json!(format!("Customer {i}")), "account"),
        ("user.contact.backup_email", json!(email), "account"),
        ("user.age", json!(age), "account"),
        ("user.birth_date", json!("1990-05-17"), "account"),
        ("user.city", json!("Lyon"), "account"),
        ("user.invoice", json!(format!("INV-{i}")), "account"),
    ]);
    h.vault
        .create_subject(&h.actor("sales"), &req, &RequestCtx::default())
        .unwrap()
        .written()
        .subject
}

fn records(h: &H) -> u64 {
    h.store.counts(&h.tenant).unwrap().records
}

fn all_aggregates(store: &SqliteStore, tenant: &TenantId) -> Vec<AggregateRow> {
    store.aggregates(tenant, 0).unwrap()
}

fn past_expiry(h: &H) {
    h.clock.advance(SignedDuration::from_hours(31 * 24));
}

#[test]
fn the_sweep_deletes_anonymises_and_isolates_as_the_policy_says() {
    let h = h();
    let people: Vec<SubjectId> = (0..6)
        .map(|i| customer(&h, i, 30 + u32::try_from(i).unwrap()))
        .collect();
    assert_eq!(records(&h), 36);
    let keys = keys(&h);

    // Before expiry nothing is due.
    let early = sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 4, false).unwrap();
    assert_eq!(early.due, 0);

    past_expiry(&h);
    let r = sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 4, false).unwrap();
    assert_eq!(r.due, 30);
    assert_eq!(
        (r.deleted, r.anonymised, r.isolated, r.skipped_held),
        (6, 18, 6, 0)
    );
    assert_eq!(r.batches, 8, "30 records in batches of 4");
    // Only the names (retention from last activity, no expiry at collection) remain.
    assert_eq!(records(&h), 6);

    // Aggregates: numbers by decade, dates by year, text as a count; no value.
    let agg = aggregates(h.store.as_ref(), &h.tenant).unwrap();
    let find = |c: &str, b: &str| {
        agg.iter()
            .find(|a| a.category == c && a.bucket == b)
            .map(|a| a.count)
    };
    assert_eq!(find("user.age", "30-39"), Some(6));
    assert_eq!(find("user.birth_date", "1990"), Some(6));
    assert_eq!(find("user.city", ""), Some(6));
    assert!(
        agg.iter()
            .all(|a| a.purpose == "account" && !a.bucket.contains("Lyon"))
    );

    // The expired email no longer finds anyone: its blind index went with it.
    let found = h
        .vault
        .lookup(
            &h.actor("sales"),
            "user.contact.backup_email",
            "backup0@example.com",
            "account",
            &RequestCtx::default(),
        )
        .unwrap();
    assert!(found.is_empty(), "{found:?}");

    // Isolated: moved into the hold with the retention reason.
    let held = h
        .store
        .read_held_records(&h.tenant, people[0], &system_audit(h.clock.now()))
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].category, "user.invoice");
    assert_eq!(held[0].reason, ISOLATE_REASON);

    // Audited per batch, with counts and category names only.
    let entries = h.store.audit_entries(&h.tenant, 0, 10_000).unwrap();
    let sweeps: Vec<_> = entries
        .iter()
        .filter(|e| e.draft.action == SWEEP_ACTION)
        .collect();
    assert_eq!(sweeps.len(), 8);
    for e in &sweeps {
        assert!(e.draft.subject.is_none());
        assert!(!e.draft.reason.contains("example.com") && !e.draft.reason.contains("INV-"));
        assert!(!e.draft.reason.contains("Lyon") && !e.draft.reason.contains("1990"));
    }

    // Idempotent: a second sweep finds nothing and writes nothing.
    let before = h.audit_len();
    let again = sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 4, false).unwrap();
    assert_eq!(again.due, 0);
    assert_eq!(h.audit_len(), before);
    assert_eq!(aggregates(h.store.as_ref(), &h.tenant).unwrap(), agg);
}

fn system_audit(at: Timestamp) -> AuditDraft {
    AuditDraft {
        at,
        actor: "system".into(),
        key_id: None,
        action: "test".into(),
        purpose: None,
        subject: None,
        categories: vec![],
        outcome: Outcome::Allow,
        reason: "test".into(),
        request_id: None,
    }
}

#[test]
fn aggregates_are_returned_only_for_groups_of_at_least_k() {
    let h = h();
    let keys = keys(&h);
    assert_eq!(MIN_GROUP, 5);
    for i in 0..4 {
        customer(&h, i, 34);
    }
    customer(&h, 4, 51);
    past_expiry(&h);
    sweep(
        h.store.as_ref(),
        &keys,
        &h.tenant,
        h.clock.now(),
        100,
        false,
    )
    .unwrap();
    let agg = aggregates(h.store.as_ref(), &h.tenant).unwrap();
    // 5 people: their city and birth year are a group of 5; the ages split 4 + 1.
    assert!(
        agg.iter()
            .any(|a| a.category == "user.city" && a.count == 5)
    );
    assert!(!agg.iter().any(|a| a.category == "user.age"), "{agg:?}");
    // Asking for a smaller group does not lower k.
    assert!(
        h.store
            .aggregates(&h.tenant, 1)
            .unwrap()
            .iter()
            .all(|a| a.count >= MIN_GROUP)
    );

    // One more person in their thirties makes that group big enough.
    h.clock.set(crate::harness::t0());
    customer(&h, 5, 38);
    past_expiry(&h);
    sweep(
        h.store.as_ref(),
        &keys,
        &h.tenant,
        h.clock.now(),
        100,
        false,
    )
    .unwrap();
    let agg = aggregates(h.store.as_ref(), &h.tenant).unwrap();
    let ages: Vec<_> = agg.iter().filter(|a| a.category == "user.age").collect();
    assert_eq!(ages.len(), 1, "{agg:?}");
    assert_eq!((ages[0].bucket.as_str(), ages[0].count), ("30-39", 5));
}

#[test]
fn a_dry_run_forecasts_by_category_and_date_and_changes_nothing() {
    let h = h();
    let keys = keys(&h);
    for i in 0..3 {
        customer(&h, i, 40);
    }
    let before = (records(&h), h.audit_len());
    // Forecast as of a date past the expiry, while nothing is due yet.
    let later = h
        .clock
        .now()
        .checked_add(SignedDuration::from_hours(31 * 24))
        .unwrap();
    let r = sweep(h.store.as_ref(), &keys, &h.tenant, later, 2, true).unwrap();
    assert!(r.dry_run);
    assert_eq!(
        (r.due, r.deleted, r.anonymised, r.isolated, r.batches),
        (15, 3, 9, 3, 0)
    );
    let date = "2026-03-31";
    let row = r
        .forecast
        .iter()
        .find(|f| f.category == "user.age")
        .unwrap();
    assert_eq!(
        (row.date.as_str(), row.action, row.count),
        (date, "anonymise", 3)
    );
    let row = r
        .forecast
        .iter()
        .find(|f| f.category == "user.invoice")
        .unwrap();
    assert_eq!((row.action, row.count), ("isolate", 3));
    assert_eq!(
        (records(&h), h.audit_len()),
        before,
        "a dry run writes nothing"
    );
    assert!(all_aggregates(&h.store, &h.tenant).is_empty());
}

#[test]
fn held_and_restricted_subjects_are_skipped_and_counted() {
    let h = h();
    let keys = keys(&h);
    let held = customer(&h, 0, 30);
    let restricted = customer(&h, 1, 31);
    let free = customer(&h, 2, 32);
    let one_record = customer(&h, 3, 33);
    place_legal_hold(
        h.store.as_ref(),
        &h.tenant,
        held,
        None,
        "litigation 2026-17",
        None,
        h.clock.now(),
    )
    .unwrap();
    let invoice = h
        .store
        .subject_records(&h.tenant, one_record)
        .unwrap()
        .into_iter()
        .find(|r| r.category == "user.invoice")
        .unwrap();
    place_legal_hold(
        h.store.as_ref(),
        &h.tenant,
        one_record,
        Some(invoice.id),
        "tax audit",
        None,
        h.clock.now(),
    )
    .unwrap();
    h.vault
        .restrict(&h.staff("sales"), restricted, &RequestCtx::default())
        .unwrap();
    past_expiry(&h);
    let r = sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 3, false).unwrap();
    assert_eq!(r.due, 20);
    assert_eq!(
        r.skipped_held, 11,
        "5 + 5 for the held and restricted, 1 held record"
    );
    let left = |s| h.store.subject_records(&h.tenant, s).unwrap().len();
    assert_eq!(left(held), 6);
    assert_eq!(left(restricted), 6);
    assert_eq!(left(free), 1);
    assert_eq!(left(one_record), 2, "its name and the held invoice");

    // A hold with an end date stops pausing deletion once it ends.
    let ends = h
        .clock
        .now()
        .checked_add(SignedDuration::from_hours(24))
        .unwrap();
    let other = {
        h.clock.set(crate::harness::t0());
        let s = customer(&h, 9, 45);
        place_legal_hold(
            h.store.as_ref(),
            &h.tenant,
            s,
            None,
            "short",
            Some(ends),
            h.clock.now(),
        )
        .unwrap();
        s
    };
    h.clock
        .set(ends.checked_sub(SignedDuration::from_hours(1)).unwrap());
    sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 3, false).unwrap();
    assert_eq!(left(other), 6);
    h.clock.set(ends);
    sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 3, false).unwrap();
    assert_eq!(left(other), 1);
}

/// A store whose `apply_retention` fails on its `fail_on`-th call, as a crash
/// mid-sweep would: that batch rolls back, the earlier ones stay committed.
struct Failing {
    inner: Arc<SqliteStore>,
    calls: AtomicUsize,
    fail_on: usize,
}

impl RetentionStore for Failing {
    fn expired_records(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        after: Option<(Timestamp, RecordId)>,
        limit: usize,
    ) -> custos_store::Result<Vec<ExpiredRecord>> {
        self.inner.expired_records(tenant, now, after, limit)
    }

    fn apply_retention(
        &self,
        batch: &RetentionBatch<'_>,
    ) -> custos_store::Result<RetentionApplied> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_on {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        self.inner.apply_retention(batch)
    }
}

#[test]
fn a_sweep_that_fails_midway_loses_nothing_and_deletes_nothing_twice() {
    let h = h();
    let keys = keys(&h);
    for i in 0..8 {
        customer(&h, i, 20);
    }
    past_expiry(&h);
    let loaded = custos_policy::load(&policy(), "test.toml").unwrap();
    let failing = Failing {
        inner: Arc::clone(&h.store),
        calls: AtomicUsize::new(0),
        fail_on: 3,
    };
    let params = SweepParams {
        tenant: &h.tenant,
        now: h.clock.now(),
        batch: 5,
        dry_run: false,
    };
    let mut seen = Vec::new();
    let err = retention::sweep_with(&failing, &keys, &loaded.policy, &params, &mut |r| {
        seen.push(r.batches);
    });
    assert!(err.is_err());
    assert_eq!(seen, vec![1, 2], "two batches committed before the failure");
    // Two batches of 5 went; the third rolled back.
    assert_eq!(records(&h), 48 - 10);
    let swept: u64 = all_aggregates(&h.store, &h.tenant)
        .iter()
        .map(|a| a.count)
        .sum();

    // The rerun finishes the job; the aggregates count each record exactly once.
    let r = sweep(h.store.as_ref(), &keys, &h.tenant, h.clock.now(), 5, false).unwrap();
    assert_eq!(r.due, 40 - 10);
    assert_eq!(records(&h), 8);
    let agg = all_aggregates(&h.store, &h.tenant);
    let total: u64 = agg.iter().map(|a| a.count).sum();
    assert_eq!(
        total,
        3 * 8,
        "age, birth date and city of 8 people, each once"
    );
    assert!(swept <= total);
    for a in &agg {
        assert_eq!(a.count, 8, "{a:?}");
    }
    let sweeps = h
        .store
        .audit_entries(&h.tenant, 0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.draft.action == SWEEP_ACTION)
        .count();
    assert_eq!(sweeps, 2 + 6, "one entry per committed batch");
}

#[test]
fn erasing_a_subject_leaves_the_aggregates_unchanged() {
    let h = h();
    let keys = keys(&h);
    let people: Vec<SubjectId> = (0..5).map(|i| customer(&h, i, 25)).collect();
    past_expiry(&h);
    sweep(
        h.store.as_ref(),
        &keys,
        &h.tenant,
        h.clock.now(),
        100,
        false,
    )
    .unwrap();
    let before = all_aggregates(&h.store, &h.tenant);
    assert!(!before.is_empty());
    h.vault
        .erase(
            &h.staff("sales"),
            people[0],
            "asked by the person",
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(all_aggregates(&h.store, &h.tenant), before);
    assert_eq!(
        aggregates(h.store.as_ref(), &h.tenant).unwrap().len(),
        before.len()
    );
}
