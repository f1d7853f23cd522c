//! Rights requests on the test clock (P0-18): due dates from the policy, overdue and
//! due-soon views, one extension told to the person before the deadline, and an
//! outbox that loses nothing.

use std::sync::{Arc, Mutex};

use custos_core::VaultError;
use custos_core::clock::{Clock, TestClock};
use custos_core::consent::NothingRecorded;
use custos_core::rights::{NewRequest, RequestAction, Sink, deliver_due};
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::{Actor, RequestCtx, Vault};
use custos_crypto::{KeyFile, KeyRing};
use custos_policy::model::Right;
use custos_store::{OutboxMessage, RequestStore, TenantId};
use custos_store_sqlite::SqliteStore;
use jiff::SignedDuration;

use crate::harness::t0;

struct R {
    vault: Vault<SqliteStore>,
    store: Arc<SqliteStore>,
    clock: Arc<TestClock>,
    tenant: TenantId,
}

fn with_policy(text: &str) -> R {
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let clock = Arc::new(TestClock::at(t0()));
    let keys = Arc::new(KeyRing::from_keyfile(&KeyFile::generate("t").unwrap()));
    let tenant = TenantId::new("t").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "T", t0()).unwrap();
    publish_policy(store.as_ref(), &tenant, text, "p.toml", t0(), t0()).unwrap();
    let vault = Vault::new(
        Arc::clone(&store),
        keys,
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::new(NothingRecorded),
    );
    R {
        vault,
        store,
        clock,
        tenant,
    }
}

fn plume() -> R {
    with_policy(include_str!("../../../../policies/plume-sasu.toml"))
}

fn staff(r: &R) -> Actor {
    Actor {
        tenant: r.tenant.clone(),
        key_id: "ck_staff".into(),
        role: "admin".into(),
        purposes: vec![],
        admin: true,
    }
}

fn access() -> NewRequest {
    NewRequest {
        right: Right::Access,
        subject: None,
        jurisdiction: None,
        channel: "email".into(),
        on_behalf_of: None,
    }
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

#[test]
fn p0_18_answered_on_day_14_is_on_time_and_open_on_day_16_is_overdue() {
    let r = plume();
    let ctx = RequestCtx::default();
    let a = r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    let b = r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    assert_eq!(
        a.due_at.to_string(),
        "2026-03-16T10:00:00Z",
        "15 days after receipt"
    );
    r.vault
        .act_on_request(&staff(&r), a.id, &RequestAction::Verify, &ctx)
        .unwrap();

    r.clock.advance(days(12));
    let v = r.vault.request_view(&r.tenant, b.id).unwrap();
    assert!(v.due_soon && !v.overdue);

    r.clock.advance(days(2)); // day 14
    let done = r
        .vault
        .act_on_request(&staff(&r), a.id, &RequestAction::Fulfil, &ctx)
        .unwrap();
    assert_eq!(done.answered_on_time, Some(true));

    r.clock.advance(days(2)); // day 16
    let late = r.vault.request_view(&r.tenant, b.id).unwrap();
    assert!(late.overdue, "{late:?}");
    assert!(
        !r.vault.request_view(&r.tenant, a.id).unwrap().overdue,
        "closed requests are never overdue"
    );
    let queue = r.vault.request_queue(&r.tenant).unwrap();
    assert_eq!(queue[0].id, b.id, "open requests first");
}

#[test]
fn p0_18_extension_is_told_before_the_deadline_and_only_once() {
    let r = plume();
    let ctx = RequestCtx::default();
    let a = r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    r.clock.advance(days(10));
    let ext = RequestAction::Extend {
        reason: "the archive is on tape".into(),
    };
    let v = r
        .vault
        .act_on_request(&staff(&r), a.id, &ext, &ctx)
        .unwrap();
    assert_eq!(
        v.extended_until.unwrap().to_string(),
        "2026-03-31T10:00:00Z",
        "15 more days"
    );
    assert_eq!(v.deadline, v.extended_until.unwrap());
    let due = r.store.due_outbox(&r.tenant, r.clock.now(), 10).unwrap();
    let notice = due
        .iter()
        .find(|m| m.kind == "request.extended")
        .expect("extension notice owed");
    assert!(
        notice.created_at < a.due_at,
        "written before the original deadline"
    );
    assert!(notice.payload.contains("the archive is on tape"));
    let err = r
        .vault
        .act_on_request(&staff(&r), a.id, &ext, &ctx)
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid(ref l) if l[0].code == "VAULT-0134"),
        "{err:?}"
    );

    // Past the deadline, no extension can be announced any more.
    let b = r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    r.clock.advance(days(16));
    let err = r
        .vault
        .act_on_request(&staff(&r), b.id, &ext, &ctx)
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid(ref l) if l.iter().any(|f| f.code == "VAULT-0135")),
        "{err:?}"
    );
    // And a blank reason is refused.
    let c = r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    let err = r
        .vault
        .act_on_request(
            &staff(&r),
            c.id,
            &RequestAction::Extend { reason: " ".into() },
            &ctx,
        )
        .unwrap_err();
    assert!(matches!(err, VaultError::Invalid(ref l) if l[0].code == "VAULT-0133"));
}

#[test]
fn deadlines_follow_the_policy_45_days_for_plum_voice() {
    let r = with_policy(include_str!("../../../../policies/plum-voice.toml"));
    let a = r
        .vault
        .open_request(&staff(&r), &access(), &RequestCtx::default())
        .unwrap();
    assert_eq!(a.due_at, t0().checked_add(days(45)).unwrap());
}

#[test]
fn one_month_deadlines_use_calendar_months() {
    let r = with_policy(crate::harness::POLICY);
    let a = r
        .vault
        .open_request(&staff(&r), &access(), &RequestCtx::default())
        .unwrap();
    assert_eq!(a.due_at.to_string(), "2026-04-01T10:00:00Z");
}

#[test]
fn illegal_steps_and_bad_input_are_refused() {
    let r = plume();
    let ctx = RequestCtx::default();
    let a = r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    let err = r
        .vault
        .act_on_request(&staff(&r), a.id, &RequestAction::Fulfil, &ctx)
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid(ref l) if l[0].code == "VAULT-0132"),
        "a request is verified before it is fulfilled"
    );
    let rejected = r
        .vault
        .act_on_request(
            &staff(&r),
            a.id,
            &RequestAction::Reject {
                reason: "identity could not be verified".into(),
            },
            &ctx,
        )
        .unwrap();
    assert_eq!(rejected.state, "rejected");
    assert!(
        r.vault
            .act_on_request(&staff(&r), a.id, &RequestAction::Start, &ctx)
            .is_err(),
        "closed stays closed"
    );
    let mut bad = access();
    bad.channel = "telepathy".into();
    assert!(matches!(
        r.vault.open_request(&staff(&r), &bad, &ctx),
        Err(VaultError::Invalid(_))
    ));
    let ghost = custos_store::Uuid::now_v7();
    assert!(matches!(
        r.vault
            .act_on_request(&staff(&r), ghost, &RequestAction::Verify, &ctx),
        Err(VaultError::RequestNotFound)
    ));
    let mut unknown_subject = access();
    unknown_subject.subject = Some(custos_store::SubjectId(custos_store::Uuid::now_v7()));
    assert!(matches!(
        r.vault.open_request(&staff(&r), &unknown_subject, &ctx),
        Err(VaultError::SubjectNotFound)
    ));
}

/// A sink that fails a set number of times, then records what it delivered.
#[derive(Default)]
struct Flaky {
    failures_left: Mutex<u32>,
    delivered: Mutex<Vec<String>>,
}

impl Sink for Flaky {
    fn deliver(&self, _: &TenantId, m: &OutboxMessage) -> Result<(), String> {
        let mut left = self.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err("smtp: connection refused".into());
        }
        self.delivered.lock().unwrap().push(m.kind.clone());
        Ok(())
    }
}

#[test]
fn notices_are_written_with_their_cause_and_retried_until_delivered() {
    let r = plume();
    let ctx = RequestCtx::default();
    r.vault.open_request(&staff(&r), &access(), &ctx).unwrap();
    // Written in the same transaction as the request: there before any delivery runs.
    assert_eq!(
        r.store
            .due_outbox(&r.tenant, r.clock.now(), 10)
            .unwrap()
            .len(),
        1
    );

    let sink = Flaky {
        failures_left: Mutex::new(2),
        ..Flaky::default()
    };
    let report = deliver_due(r.store.as_ref(), &sink, &r.tenant, r.clock.now(), 10).unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1));
    // Not due again until the backoff passes.
    assert!(
        r.store
            .due_outbox(&r.tenant, r.clock.now(), 10)
            .unwrap()
            .is_empty()
    );
    r.clock.advance(SignedDuration::from_mins(1));
    deliver_due(r.store.as_ref(), &sink, &r.tenant, r.clock.now(), 10).unwrap();
    r.clock.advance(SignedDuration::from_mins(2));
    let report = deliver_due(r.store.as_ref(), &sink, &r.tenant, r.clock.now(), 10).unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(*sink.delivered.lock().unwrap(), ["request.acknowledged"]);
    // Delivered once: later passes find nothing.
    r.clock.advance(days(1));
    assert_eq!(
        deliver_due(r.store.as_ref(), &sink, &r.tenant, r.clock.now(), 10)
            .unwrap()
            .delivered,
        0
    );
}
