//! Storage for the retention engine: anonymous aggregates ([`StatsStore`]),
//! records past their expiry and the batches that delete, anonymise or isolate
//! them ([`RetentionStore`]), and legal holds that pause deletion. Separate
//! traits from [`crate::Store`] whose methods default to "not supported".
//!
//! **Aggregates** are counts keyed by (purpose, category, bucket): no subject
//! id, no record id, no value, no timestamp. A bucket is a coarse class of the
//! value (a decade, a year) or empty (a plain count). They are never linked to a
//! person, so erasure leaves them untouched.
//!
//! **k-anonymity.** [`StatsStore::aggregates`] never returns a group counting
//! fewer than [`MIN_GROUP`] records, whatever `min_group` the caller asks for
//! (a larger `min_group` raises the threshold). The constant does not depend on
//! the policy: a policy cannot lower it. A group counts folded records; a
//! subject holds one record per category in practice, so this is a count of people.

use std::fmt;

use crate::Result;
use crate::lifecycle::HeldRecord;
use crate::types::{AuditDraft, AuditRef, Record, RecordId, SubjectId, TenantId, Timestamp, Uuid};

/// The smallest group an aggregate may describe (k of k-anonymity). Groups
/// below it are kept (they may grow) but never returned.
pub const MIN_GROUP: u64 = 5;

/// One anonymous count. No identifier, no raw value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AggregateRow {
    /// The purpose the folded records were collected for.
    pub purpose: String,
    pub category: String,
    /// A coarse class of the value (`"1980s"`, `"30-39"`, `"2021"`) or `""` (a count).
    pub bucket: String,
    pub count: u64,
}

/// A record whose `expires_at` is at or before the sweep's `now`, with what the
/// sweep needs to decide and to open it.
#[derive(Clone)]
pub struct ExpiredRecord {
    /// `expires_at` is always `Some`.
    pub record: Record,
    /// The subject's wrapped data key (to open the value for anonymising or isolating).
    pub wrapped_dek: Vec<u8>,
    pub kek_version: u32,
    /// The subject's processing is restricted (Art. 18): deletion waits.
    pub restricted: bool,
    /// A legal hold in force covers the subject or this record.
    pub held: bool,
}

impl fmt::Debug for ExpiredRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpiredRecord")
            .field("record", &self.record)
            .field("restricted", &self.restricted)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

/// A legal hold on a subject (all its records) or on one record: deletion of what
/// it covers waits until it ends (`until`, or lifted). Reason in words, never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    pub id: Uuid,
    pub subject: SubjectId,
    /// `None`: every record of the subject.
    pub record: Option<RecordId>,
    pub reason: String,
    pub placed_at: Timestamp,
    pub until: Option<Timestamp>,
}

/// One batch of a retention sweep, applied in one transaction with its audit entry.
/// A record no longer present (erased meanwhile, or applied by an earlier run) is
/// skipped, and its aggregate contribution with it, so nothing is done twice.
#[derive(Debug, Clone)]
pub struct RetentionBatch<'a> {
    pub tenant: &'a TenantId,
    /// Records to delete (with their blind-index entries of that category once the
    /// subject has no other record of it).
    pub delete: &'a [RecordId],
    /// Records to delete after adding `row.count` to their aggregate.
    pub anonymise: &'a [(RecordId, AggregateRow)],
    /// Records to move into the isolated hold (already re-sealed under the hold key).
    pub isolate: &'a [HeldRecord],
    pub audit: &'a AuditDraft,
}

/// What a batch actually did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionApplied {
    pub deleted: u64,
    pub anonymised: u64,
    pub isolated: u64,
    pub audit: Option<AuditRef>,
}

/// Anonymous aggregates.
pub trait StatsStore: Send + Sync + 'static {
    /// Adds each row's count to its group, with `audit`, in one transaction.
    fn add_to_aggregates(
        &self,
        _tenant: &TenantId,
        _rows: &[AggregateRow],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }

    /// The groups counting at least `max(min_group, MIN_GROUP)`, sorted by
    /// (purpose, category, bucket).
    fn aggregates(&self, _tenant: &TenantId, _min_group: u64) -> Result<Vec<AggregateRow>> {
        Err(unsupported())
    }
}

/// Records past their expiry, legal holds, and retention batches.
pub trait RetentionStore: Send + Sync + 'static {
    /// Records with `expires_at <= now`, ordered by (`expires_at`, id), strictly
    /// after `after` in that order, at most `limit` (an indexed keyset walk: the
    /// caller passes the last one it saw, so skipped records are not seen again).
    fn expired_records(
        &self,
        _tenant: &TenantId,
        _now: Timestamp,
        _after: Option<(Timestamp, RecordId)>,
        _limit: usize,
    ) -> Result<Vec<ExpiredRecord>> {
        Err(unsupported())
    }

    /// Applies one batch (see [`RetentionBatch`]) in one transaction.
    fn apply_retention(&self, _batch: &RetentionBatch<'_>) -> Result<RetentionApplied> {
        Err(unsupported())
    }

    /// Places a legal hold. `NotFound` if the subject does not exist.
    fn place_legal_hold(
        &self,
        _tenant: &TenantId,
        _hold: &LegalHold,
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }

    /// Ends a legal hold at `now` (its `until` becomes `now`), with `audit`, in one
    /// transaction. `NotFound` if the subject has no such hold still in force.
    fn lift_legal_hold(
        &self,
        _tenant: &TenantId,
        _subject: SubjectId,
        _hold: Uuid,
        _now: Timestamp,
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }

    /// The tenant's legal holds (one subject's when given), by placement time.
    fn legal_holds(
        &self,
        _tenant: &TenantId,
        _subject: Option<SubjectId>,
    ) -> Result<Vec<LegalHold>> {
        Err(unsupported())
    }

    /// Sets `expires_at` on the subject's live records of each listed category to
    /// the time paired with it (only records collected for `purpose` when given),
    /// in one transaction with `audit`. Returns how many records it set.
    /// With `only_later`, a record whose expiry is already later keeps it (a
    /// `last_activity` event never moves an expiry earlier, issue 17.2).
    /// `NotFound` if the subject does not exist.
    fn set_expiry(
        &self,
        _tenant: &TenantId,
        _subject: SubjectId,
        _expiries: &[(String, Timestamp)],
        _purpose: Option<&str>,
        _only_later: bool,
        _audit: &AuditDraft,
    ) -> Result<u64> {
        Err(unsupported())
    }
}

/// The same for both traits: the backend has not implemented them yet.
fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend(
        "this backend does not implement retention and aggregates yet".to_owned(),
    )
}

/// The effective k for a request: never below [`MIN_GROUP`].
pub fn effective_min_group(min_group: u64) -> u64 {
    min_group.max(MIN_GROUP)
}

/// Conformance cases for [`StatsStore`] and [`RetentionStore`], run by every backend's tests.
#[cfg(feature = "conformance")]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod conformance {
    use super::{AggregateRow, LegalHold, MIN_GROUP, RetentionBatch, RetentionStore, StatsStore};
    use crate::{
        AuditDraft, BlindIndexEntry, HeldRecord, LifecycleStore, Outcome, Record, RecordId, Store,
        Subject, SubjectId, SubjectState, SubjectWrite, Tenant, TenantId, Timestamp, Uuid,
    };

    fn at(days: i64) -> Timestamp {
        Timestamp::from_second(1_750_000_000 + days * 86_400).unwrap()
    }

    fn draft(action: &str) -> AuditDraft {
        AuditDraft {
            at: at(0),
            actor: "system".to_owned(),
            key_id: None,
            action: action.to_owned(),
            purpose: None,
            subject: None,
            categories: vec![],
            outcome: Outcome::Allow,
            reason: "test".to_owned(),
            request_id: None,
        }
    }

    fn record(subject: SubjectId, category: &str, expires: Option<i64>) -> Record {
        Record {
            id: RecordId(Uuid::now_v7()),
            subject,
            category: category.to_owned(),
            ciphertext: vec![1, 2, 3],
            purpose: "account".to_owned(),
            source: "data_subject".to_owned(),
            collected_at: at(0),
            expires_at: expires.map(at),
        }
    }

    fn setup<S: Store>(store: &S, name: &str) -> (TenantId, SubjectId, Vec<Record>) {
        let tenant = TenantId::new(name).unwrap();
        store
            .create_tenant(&Tenant {
                id: tenant.clone(),
                name: name.to_owned(),
                created_at: at(0),
            })
            .unwrap();
        let subject = Subject {
            id: SubjectId(Uuid::now_v7()),
            wrapped_dek: vec![9; 8],
            kek_version: 1,
            jurisdiction: None,
            state: SubjectState::Active,
            created_at: at(0),
            updated_at: at(0),
        };
        let records = vec![
            record(subject.id, "user.email", Some(10)),
            record(subject.id, "user.email", Some(20)),
            record(subject.id, "user.age", Some(10)),
            record(subject.id, "user.invoice", Some(5)),
            record(subject.id, "user.name", None),
        ];
        store
            .create_subject(&SubjectWrite {
                tenant: &tenant,
                subject: &subject,
                records: &records,
                index: &[BlindIndexEntry {
                    category: "user.email".to_owned(),
                    hash: [7; 32],
                }],
                consents: &[],
                audit: &draft("write"),
                idempotency: None,
            })
            .unwrap();
        (tenant, subject.id, records)
    }

    pub fn sweep_batches_apply_once<S: Store + RetentionStore + StatsStore + LifecycleStore>(
        store: S,
    ) {
        let (tenant, subject, recs) = setup(&store, "retention-a");
        // Due at day 15: the invoice (5), then the email and the age (10), by id.
        let due = store.expired_records(&tenant, at(15), None, 10).unwrap();
        let ids: Vec<RecordId> = due.iter().map(|e| e.record.id).collect();
        let mut ten = [recs[0].id, recs[2].id];
        ten.sort();
        assert_eq!(ids, vec![recs[3].id, ten[0], ten[1]]);
        assert!(
            due.iter()
                .all(|e| !e.held && !e.restricted && e.wrapped_dek == vec![9; 8])
        );
        // The keyset walk resumes strictly after the cursor.
        let first = &due[0].record;
        let rest = store
            .expired_records(
                &tenant,
                at(15),
                Some((first.expires_at.unwrap(), first.id)),
                10,
            )
            .unwrap();
        assert_eq!(rest.len(), 2);
        // Another tenant sees nothing.
        let (other, _, _) = setup(&store, "retention-b");
        assert_eq!(
            store
                .expired_records(&other, at(1), None, 10)
                .unwrap()
                .len(),
            0
        );

        let row = AggregateRow {
            purpose: "account".to_owned(),
            category: "user.age".to_owned(),
            bucket: "30-39".to_owned(),
            count: 1,
        };
        let held = HeldRecord {
            id: recs[3].id,
            subject,
            category: "user.invoice".to_owned(),
            ciphertext: vec![4, 5, 6],
            purpose: "account".to_owned(),
            source: "data_subject".to_owned(),
            collected_at: at(0),
            held_for: "account".to_owned(),
            reason: "retention: deletion not yet possible".to_owned(),
            held_at: at(15),
            until: None,
        };
        let delete = [recs[0].id];
        let anonymise = [(recs[2].id, row.clone())];
        let isolate = [held];
        let batch = RetentionBatch {
            tenant: &tenant,
            delete: &delete,
            anonymise: &anonymise,
            isolate: &isolate,
            audit: &draft("retention.sweep"),
        };
        let done = store.apply_retention(&batch).unwrap();
        assert_eq!((done.deleted, done.anonymised, done.isolated), (1, 1, 1));
        assert!(done.audit.is_some());
        // Applied again (a rerun after a lost answer): nothing happens twice.
        let again = store.apply_retention(&batch).unwrap();
        assert_eq!((again.deleted, again.anonymised, again.isolated), (0, 0, 0));
        assert_eq!(store.aggregates(&tenant, 0).unwrap(), vec![], "1 < k");
        let left = store.subject_records(&tenant, subject).unwrap();
        assert_eq!(left.len(), 2, "the later email and the name");
        // The other email still holds the category: its index entry stays.
        assert_eq!(
            store
                .find_subjects(&tenant, "user.email", &[7; 32])
                .unwrap(),
            vec![subject]
        );
        let later = store.expired_records(&tenant, at(25), None, 10).unwrap();
        assert_eq!(later.len(), 1);
        let delete = [later[0].record.id];
        store
            .apply_retention(&RetentionBatch {
                tenant: &tenant,
                delete: &delete,
                anonymise: &[],
                isolate: &[],
                audit: &draft("retention.sweep"),
            })
            .unwrap();
        assert!(
            store
                .find_subjects(&tenant, "user.email", &[7; 32])
                .unwrap()
                .is_empty()
        );
        let held = store
            .read_held_records(&tenant, subject, &draft("read_held"))
            .unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].ciphertext, vec![4, 5, 6]);
    }

    pub fn aggregates_keep_k<S: Store + StatsStore>(store: S) {
        let (tenant, _, _) = setup(&store, "aggregates");
        let row = |bucket: &str, count: u64| AggregateRow {
            purpose: "account".to_owned(),
            category: "user.age".to_owned(),
            bucket: bucket.to_owned(),
            count,
        };
        store
            .add_to_aggregates(&tenant, &[row("20-29", 3), row("30-39", 5)], &draft("agg"))
            .unwrap();
        assert_eq!(store.aggregates(&tenant, 0).unwrap(), vec![row("30-39", 5)]);
        assert_eq!(store.aggregates(&tenant, 6).unwrap(), vec![]);
        store
            .add_to_aggregates(&tenant, &[row("20-29", 2)], &draft("agg"))
            .unwrap();
        assert_eq!(
            store.aggregates(&tenant, 1).unwrap(),
            vec![row("20-29", 5), row("30-39", MIN_GROUP)]
        );
    }

    pub fn holds_and_restriction_are_flagged<S: Store + RetentionStore + LifecycleStore>(store: S) {
        let (tenant, subject, recs) = setup(&store, "holds");
        let hold = |record: Option<RecordId>, until: Option<i64>| LegalHold {
            id: Uuid::now_v7(),
            subject,
            record,
            reason: "litigation".to_owned(),
            placed_at: at(1),
            until: until.map(at),
        };
        store
            .place_legal_hold(&tenant, &hold(Some(recs[3].id), Some(12)), &draft("hold"))
            .unwrap();
        let flags = |now: i64| -> Vec<(RecordId, bool, bool)> {
            store
                .expired_records(&tenant, at(now), None, 10)
                .unwrap()
                .into_iter()
                .map(|e| (e.record.id, e.held, e.restricted))
                .collect()
        };
        let f = flags(11);
        assert!(
            f.iter().all(|(id, held, _)| *held == (*id == recs[3].id)),
            "{f:?}"
        );
        assert!(flags(12).iter().all(|(_, held, _)| !held), "the hold ended");
        store
            .place_legal_hold(&tenant, &hold(None, None), &draft("hold"))
            .unwrap();
        assert!(flags(30).iter().all(|(_, held, _)| *held));
        store
            .set_subject_state(
                &tenant,
                subject,
                SubjectState::Restricted,
                at(2),
                &draft("r"),
            )
            .unwrap();
        assert!(flags(30).iter().all(|(_, _, restricted)| *restricted));
        let missing = LegalHold {
            subject: SubjectId(Uuid::now_v7()),
            ..hold(None, None)
        };
        assert!(matches!(
            store.place_legal_hold(&tenant, &missing, &draft("hold")),
            Err(crate::StoreError::NotFound(_))
        ));
    }

    pub fn event_expiries_and_subject_holds<S: Store + RetentionStore + LifecycleStore>(store: S) {
        let (tenant, subject, recs) = setup(&store, "events");
        let set = |purpose: Option<&str>| {
            store.set_expiry(
                &tenant,
                subject,
                &[
                    ("user.name".to_owned(), at(40)),
                    ("user.email".to_owned(), at(50)),
                ],
                purpose,
                false,
                &draft("retention.event"),
            )
        };
        assert_eq!(set(Some("newsletter")).unwrap(), 0, "other purpose");
        assert_eq!(set(None).unwrap(), 3);
        assert_eq!(set(Some("account")).unwrap(), 3);
        let expiry = |id: RecordId| {
            store
                .subject_records(&tenant, subject)
                .unwrap()
                .into_iter()
                .find(|r| r.id == id)
                .unwrap()
                .expires_at
        };
        assert_eq!(expiry(recs[4].id), Some(at(40)));
        assert_eq!(expiry(recs[0].id), Some(at(50)));
        assert_eq!(expiry(recs[2].id), Some(at(10)), "user.age untouched");
        let missing = SubjectId(Uuid::now_v7());
        assert!(matches!(
            store.set_expiry(
                &tenant,
                missing,
                &[],
                None,
                false,
                &draft("retention.event")
            ),
            Err(crate::StoreError::NotFound(_))
        ));
        // `only_later` never moves an expiry earlier, but still moves it later.
        let later = |t: i64| {
            store.set_expiry(
                &tenant,
                subject,
                &[("user.name".to_owned(), at(t))],
                None,
                true,
                &draft("retention.event"),
            )
        };
        later(30).unwrap();
        assert_eq!(expiry(recs[4].id), Some(at(40)), "not earlier");
        later(45).unwrap();
        assert_eq!(expiry(recs[4].id), Some(at(45)), "later");

        assert!(!store.subject_held(&tenant, subject, at(1)).unwrap());
        let hold = |record: Option<RecordId>, until: Option<i64>| LegalHold {
            id: Uuid::now_v7(),
            subject,
            record,
            reason: "litigation".to_owned(),
            placed_at: at(1),
            until: until.map(at),
        };
        store
            .place_legal_hold(&tenant, &hold(Some(recs[3].id), None), &draft("hold"))
            .unwrap();
        assert!(
            !store.subject_held(&tenant, subject, at(2)).unwrap(),
            "a record's hold is not the subject's"
        );
        store
            .place_legal_hold(&tenant, &hold(None, Some(12)), &draft("hold"))
            .unwrap();
        assert!(store.subject_held(&tenant, subject, at(11)).unwrap());
        assert!(
            !store.subject_held(&tenant, subject, at(12)).unwrap(),
            "ended"
        );
        let forever = hold(None, None);
        store
            .place_legal_hold(&tenant, &forever, &draft("hold"))
            .unwrap();
        assert!(store.subject_held(&tenant, subject, at(30)).unwrap());
        store
            .lift_legal_hold(&tenant, subject, forever.id, at(30), &draft("lift"))
            .unwrap();
        assert!(
            !store.subject_held(&tenant, subject, at(30)).unwrap(),
            "lifted"
        );
        assert!(matches!(
            store.lift_legal_hold(&tenant, subject, forever.id, at(31), &draft("lift")),
            Err(crate::StoreError::NotFound(_))
        ));
        let all = store.legal_holds(&tenant, Some(subject)).unwrap();
        assert_eq!(all.len(), 3);
        let lifted = all.iter().find(|h| h.id == forever.id).unwrap();
        assert_eq!(lifted.until, Some(at(30)));
        assert_eq!(lifted.reason, "litigation");
        assert_eq!(store.legal_holds(&tenant, None).unwrap().len(), 3);
        assert!(
            store
                .legal_holds(&tenant, Some(missing))
                .unwrap()
                .is_empty()
        );
    }
}

#[cfg(feature = "conformance")]
#[macro_export]
macro_rules! retention_conformance_tests {
    ($fresh:expr $(,)?) => {
        mod retention_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sweep_batches_apply_once() {
                $crate::stats::conformance::sweep_batches_apply_once($fresh);
            }
            #[test]
            fn aggregates_keep_k() {
                $crate::stats::conformance::aggregates_keep_k($fresh);
            }
            #[test]
            fn holds_and_restriction_are_flagged() {
                $crate::stats::conformance::holds_and_restriction_are_flagged($fresh);
            }
            #[test]
            fn event_expiries_and_subject_holds() {
                $crate::stats::conformance::event_expiries_and_subject_holds($fresh);
            }
        }
    };
}
