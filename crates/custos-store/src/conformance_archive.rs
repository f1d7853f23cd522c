//! Conformance cases of [`IncidentStore`], [`VerificationStore`] and
//! [`ArchiveStore`]: incidents and challenges change by compare-and-set with
//! their outbox messages and audit entry, and a tenant holding every kind of
//! row (held records, challenges, incidents, contracts, aggregates, legal holds, signed
//! checkpoints included)
//! moves to another store unchanged, its Merkle tree rebuilt there. A backend
//! runs them with `custos_store::archive_conformance_tests!(fresh_store_expression);`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use custos_audit::checkpoint::{Checkpoint, CheckpointSigner};
use custos_audit::merkle;

use crate::{
    AggregateRow, ArchiveCounts, ArchiveRow, ArchiveSink, ArchiveStore, AuditDraft, Challenge,
    ContractStore, Erasure, HeldRecord, IncidentRow, IncidentStore, LegalHold, LifecycleStore,
    MerkleStore, OutboxMessage, Outcome, Record, RecordId, RequestStore, RetentionStore,
    StatsStore, Store, StoreError, StoredTree, Subject, SubjectId, SubjectState, SubjectWrite,
    Tenant, TenantId, Timestamp, Uuid, VerificationStore,
};

/// Expands to `mod archive_conformance { … }`, one `#[test]` per case.
#[macro_export]
macro_rules! archive_conformance_tests {
    ($fresh:expr $(,)?) => {
        mod archive_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn incidents_change_by_compare_and_set() {
                $crate::conformance_archive::incidents_change_by_compare_and_set($fresh);
            }
            #[test]
            fn challenges_change_by_compare_and_set() {
                $crate::conformance_archive::challenges_change_by_compare_and_set($fresh);
            }
            #[test]
            fn unaddressed_messages_are_written_closed_and_purged() {
                $crate::conformance_archive::unaddressed_messages_are_written_closed_and_purged(
                    $fresh,
                );
            }
            #[test]
            fn every_kind_of_row_round_trips() {
                $crate::conformance_archive::every_kind_of_row_round_trips($fresh, $fresh);
            }
        }
    };
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_microsecond(1_750_000_000_123_456 + secs * 1_000_000).unwrap()
}

fn tenant<S: Store>(store: &S, name: &str) -> TenantId {
    let id = TenantId::new(name).unwrap();
    store
        .create_tenant(&Tenant {
            id: id.clone(),
            name: "Archived".into(),
            created_at: at(0),
        })
        .unwrap();
    id
}

fn draft(action: &str, subject: Option<SubjectId>) -> AuditDraft {
    AuditDraft {
        at: at(10),
        actor: "operator".into(),
        key_id: None,
        action: action.into(),
        purpose: None,
        subject,
        categories: Vec::new(),
        outcome: Outcome::Allow,
        reason: "test".into(),
        request_id: None,
    }
}

/// A subject with two records (an email and an invoice).
fn subject<S: Store>(store: &S, tenant: &TenantId) -> (SubjectId, Vec<Record>) {
    let id = SubjectId(Uuid::new_v4());
    let s = Subject {
        id,
        wrapped_dek: vec![42; 60],
        kek_version: 1,
        jurisdiction: Some("FR".into()),
        state: SubjectState::Active,
        created_at: at(1),
        updated_at: at(1),
    };
    let records: Vec<Record> = ["user.contact.email", "user.financial.invoice"]
        .iter()
        .map(|c| Record {
            id: RecordId(Uuid::new_v4()),
            subject: id,
            category: (*c).into(),
            ciphertext: format!("sealed-{c}").into_bytes(),
            purpose: "account".into(),
            source: "data_subject".into(),
            collected_at: at(2),
            expires_at: None,
        })
        .collect();
    store
        .create_subject(&SubjectWrite {
            tenant,
            subject: &s,
            records: &records,
            index: &[],
            consents: &[],
            audit: &draft("write", Some(id)),
            idempotency: None,
        })
        .unwrap();
    (id, records)
}

fn message(subject: SubjectId, kind: &str) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::new_v4(),
        subject: Some(subject),
        kind: kind.into(),
        payload: "{}".into(),
        created_at: at(5),
        attempts: 0,
        next_attempt_at: at(5),
        delivered_at: None,
        last_error: None,
    }
}

fn incident(id: Uuid, version: u32) -> IncidentRow {
    IncidentRow {
        id,
        version,
        document: format!(r#"{{"version":{version}}}"#),
    }
}

fn challenge(subject: SubjectId) -> Challenge {
    Challenge {
        id: Uuid::new_v4(),
        subject,
        category: "user.contact.email".into(),
        code_hash: [9; 32],
        created_at: at(20),
        expires_at: at(620),
        attempts: 0,
        consumed_at: None,
    }
}

/// Inserted once; replaced only from the version read; its notices and its
/// audit entry written with it, and nothing of a refused change.
pub fn incidents_change_by_compare_and_set<S: Store + IncidentStore + RequestStore>(store: S) {
    let t = tenant(&store, "incidents");
    let (s, _) = subject(&store, &t);
    let id = Uuid::new_v4();
    let entries = store.counts(&t).unwrap().audit_entries;
    store
        .put_incident(
            &t,
            &incident(id, 1),
            None,
            &[],
            &draft("incident.open", None),
        )
        .unwrap();
    assert_eq!(store.incident(&t, id).unwrap(), Some(incident(id, 1)));
    assert!(matches!(
        store.put_incident(&t, &incident(id, 1), None, &[], &draft("again", None)),
        Err(StoreError::Conflict(_))
    ));
    let notice = message(s, "incident.notice");
    store
        .put_incident(
            &t,
            &incident(id, 2),
            Some(1),
            std::slice::from_ref(&notice),
            &draft("incident.update", None),
        )
        .unwrap();
    assert!(matches!(
        store.put_incident(
            &t,
            &incident(id, 3),
            Some(1),
            &[message(s, "stale")],
            &draft("stale", None)
        ),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.incident(&t, id).unwrap(), Some(incident(id, 2)));
    assert_eq!(store.outbox_of(&t, s).unwrap(), vec![notice]);
    assert_eq!(store.counts(&t).unwrap().audit_entries, entries + 2);
    let other = Uuid::new_v4();
    store
        .put_incident(&t, &incident(other, 1), None, &[], &draft("open", None))
        .unwrap();
    let mut ids = [id, other];
    ids.sort();
    ids.reverse();
    assert_eq!(
        store
            .incidents(&t)
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        ids,
        "newest (largest id) first"
    );
    assert_eq!(store.incident(&t, Uuid::new_v4()).unwrap(), None);
    crate::conformance::verify_audit_chain(&store, &t);
}

/// A challenge is stored with the message carrying its code; an attempt counts
/// only from the count read, and never after consumption.
pub fn challenges_change_by_compare_and_set<S: Store + VerificationStore + RequestStore>(store: S) {
    let t = tenant(&store, "challenges");
    let (s, _) = subject(&store, &t);
    let mut c = challenge(s);
    let code = message(s, "verification.code");
    store
        .create_challenge(
            &t,
            &c,
            std::slice::from_ref(&code),
            &draft("verify.start", Some(s)),
        )
        .unwrap();
    assert_eq!(store.challenge(&t, c.id).unwrap(), Some(c.clone()));
    assert_eq!(store.outbox_of(&t, s).unwrap(), vec![code]);
    assert_eq!(store.challenges_since(&t, s, at(20)).unwrap(), 1);
    assert_eq!(store.challenges_since(&t, s, at(21)).unwrap(), 0);
    assert!(matches!(
        store.create_challenge(
            &t,
            &challenge(SubjectId(Uuid::new_v4())),
            &[],
            &draft("x", None)
        ),
        Err(StoreError::NotFound(_) | StoreError::Conflict(_))
    ));

    c.attempts = 1;
    store
        .record_attempt(&t, &c, 0, &draft("verify.check", Some(s)))
        .unwrap();
    assert!(matches!(
        store.record_attempt(&t, &c, 0, &draft("verify.check", Some(s))),
        Err(StoreError::Conflict(_))
    ));
    c.attempts = 2;
    c.consumed_at = Some(at(30));
    store
        .record_attempt(&t, &c, 1, &draft("verify.check", Some(s)))
        .unwrap();
    assert_eq!(store.challenge(&t, c.id).unwrap(), Some(c.clone()));
    let mut again = c.clone();
    again.attempts = 3;
    assert!(matches!(
        store.record_attempt(&t, &again, 2, &draft("verify.check", Some(s))),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.challenge(&t, Uuid::new_v4()).unwrap(), None);
    crate::conformance::verify_audit_chain(&store, &t);
}

/// The outbox rows of tenant `t`, read through its archive.
fn outbox_rows<S: Store + ArchiveStore>(store: &S, t: &TenantId) -> Vec<OutboxMessage> {
    let mut all = Collect::default();
    store.export_tenant(t, &mut all).unwrap();
    all.rows
        .into_iter()
        .filter_map(|r| match r {
            ArchiveRow::Outbox(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// A sign-in for an address that matched nobody leaves a closed message with its
/// audit entry, never one due for delivery; writing one deletes the closed
/// unaddressed messages of its kind from before `purge_before`, and nothing else
/// (addressed messages, other kinds, newer decoys, other tenants).
pub fn unaddressed_messages_are_written_closed_and_purged<
    S: Store + VerificationStore + RequestStore + ArchiveStore,
>(
    store: S,
) {
    let t = tenant(&store, "decoys");
    let other = tenant(&store, "elsewhere");
    let (s, _) = subject(&store, &t);
    let decoy = |created: i64| {
        let mut m = message(s, "verification.code");
        m.subject = None;
        m.created_at = at(created);
        m.next_attempt_at = at(created);
        m.delivered_at = Some(at(created));
        m.last_error = Some("no recipient".into());
        m
    };
    let real = message(s, "verification.code");
    store
        .create_challenge(
            &t,
            &challenge(s),
            std::slice::from_ref(&real),
            &draft("verify.start", Some(s)),
        )
        .unwrap();
    let entries = store.counts(&t).unwrap().audit_entries;
    let old = decoy(0);
    store
        .queue_unaddressed(&t, std::slice::from_ref(&old), at(0), &draft("decoy", None))
        .unwrap();
    store
        .queue_unaddressed(&other, &[decoy(0)], at(0), &draft("decoy", None))
        .unwrap();
    assert_eq!(store.counts(&t).unwrap().audit_entries, entries + 1);
    let due = store.due_outbox(&t, at(10_000), 100).unwrap();
    assert_eq!(due, vec![real.clone()], "decoys never wait for delivery");
    // An hour later the next decoy takes the old one with it.
    let new = decoy(3_600);
    store
        .queue_unaddressed(
            &t,
            std::slice::from_ref(&new),
            at(3_000),
            &draft("decoy", None),
        )
        .unwrap();
    let mut ids: Vec<Uuid> = outbox_rows(&store, &t).iter().map(|m| m.id).collect();
    let mut expected = vec![real.id, new.id];
    ids.sort();
    expected.sort();
    assert_eq!(
        ids, expected,
        "the old decoy went, the real code and the new decoy stay"
    );
    assert_eq!(
        outbox_rows(&store, &other).len(),
        1,
        "another tenant's decoys stay"
    );
    crate::conformance::verify_audit_chain(&store, &t);
}

#[derive(Default)]
struct Collect {
    counts: ArchiveCounts,
    rows: Vec<ArchiveRow>,
}

impl ArchiveSink for Collect {
    fn counts(&mut self, counts: &ArchiveCounts) -> crate::Result<()> {
        self.counts = *counts;
        Ok(())
    }
    fn row(&mut self, row: ArchiveRow) -> crate::Result<()> {
        self.rows.push(row);
        Ok(())
    }
}

/// A tenant with a held record, challenges, incidents, aggregates (one below
/// [`crate::MIN_GROUP`]), legal holds and signed checkpoints,
/// exported, imported into `target` in small batches, its tree caught up:
/// the same rows, the same tree, checkpoints that match it.
pub fn every_kind_of_row_round_trips<S>(source: S, target: S)
where
    S: Store
        + ArchiveStore
        + LifecycleStore
        + IncidentStore
        + ContractStore
        + VerificationStore
        + MerkleStore
        + RequestStore
        + StatsStore
        + RetentionStore,
{
    let t = tenant(&source, "moved");
    let (kept, kept_records) = subject(&source, &t);
    let (erased, records) = subject(&source, &t);
    let invoice = &records[1];
    let held = HeldRecord {
        id: invoice.id,
        subject: erased,
        category: invoice.category.clone(),
        ciphertext: b"held-invoice".to_vec(),
        purpose: invoice.purpose.clone(),
        source: invoice.source.clone(),
        collected_at: invoice.collected_at,
        held_for: "legal_obligations".into(),
        reason: "Code de commerce L123-22".into(),
        held_at: at(40),
        until: Some(at(400)),
    };
    source
        .erase_subject(&Erasure {
            tenant: &t,
            subject: erased,
            expected_records: &records.iter().map(|r| r.id).collect::<Vec<_>>(),
            held: std::slice::from_ref(&held),
            at: at(40),
            audit: &draft("erase", Some(erased)),
        })
        .unwrap();
    for _ in 0..2 {
        source
            .create_challenge(
                &t,
                &challenge(kept),
                &[message(kept, "verification.code")],
                &draft("verify.start", Some(kept)),
            )
            .unwrap();
        source
            .put_incident(
                &t,
                &incident(Uuid::new_v4(), 1),
                None,
                &[message(kept, "incident.notice")],
                &draft("incident.open", None),
            )
            .unwrap();
        source
            .create_contract(
                &t,
                &crate::conformance_contracts::contract(
                    kept,
                    crate::ContractKind::Membership,
                    Some(at(70)),
                ),
                &[message(kept, "contract.membership_activated")],
                &draft("contract.created", Some(kept)),
            )
            .unwrap();
    }
    let group = |purpose: &str, category: &str, bucket: &str, count: u64| AggregateRow {
        purpose: purpose.into(),
        category: category.into(),
        bucket: bucket.into(),
        count,
    };
    source
        .add_to_aggregates(
            &t,
            &[
                group("analytics", "user.demographic.age", "30-39", 7),
                group("account", "user.contact.email", "", 2),
                group("account", "user.demographic.age", "1980s", 5),
            ],
            &draft("aggregate", None),
        )
        .unwrap();
    for (record, until) in [(None, None), (Some(kept_records[0].id), Some(at(900)))] {
        source
            .place_legal_hold(
                &t,
                &LegalHold {
                    id: Uuid::new_v4(),
                    subject: kept,
                    record,
                    reason: "litigation".into(),
                    placed_at: at(45),
                    until,
                },
                &draft("legal_hold.place", Some(kept)),
            )
            .unwrap();
    }
    let signer = CheckpointSigner::from_seed(&[7; 32]);
    for secs in [50, 60] {
        source
            .append_audit(&t, &draft("checkpointed", None))
            .unwrap();
        let size = source.tree_size(&t).unwrap();
        let root = merkle::root_at(
            &StoredTree {
                store: &source,
                tenant: &t,
            },
            size,
        )
        .unwrap();
        let signed = signer
            .sign(Checkpoint {
                tenant: t.to_string(),
                tree_size: size,
                root_hash: root,
                timestamp_micros: at(secs).as_microsecond(),
            })
            .unwrap();
        assert!(source.store_checkpoint(&t, &signed).unwrap());
    }

    let mut first = Collect::default();
    source.export_tenant(&t, &mut first).unwrap();
    let mut expected = ArchiveCounts::default();
    for r in &first.rows {
        expected.add(r);
    }
    assert_eq!(first.counts, expected);
    assert_eq!(source.archive_counts(&t).unwrap(), expected);
    assert_eq!(
        (
            expected.held_records,
            expected.verification_challenges,
            expected.incidents,
            expected.contracts,
            expected.aggregates,
            expected.legal_holds,
            expected.checkpoints
        ),
        (1, 2, 2, 2, 3, 2, 2)
    );
    let sorted = |f: fn(&ArchiveRow) -> Option<Vec<u8>>| {
        let keys: Vec<Vec<u8>> = first.rows.iter().filter_map(f).collect();
        let mut s = keys.clone();
        s.sort();
        keys == s
    };
    assert!(sorted(|r| match r {
        ArchiveRow::Challenge(c) => Some(c.id.hyphenated().to_string().into_bytes()),
        _ => None,
    }));
    assert!(sorted(|r| match r {
        ArchiveRow::Incident(i) => Some(i.id.hyphenated().to_string().into_bytes()),
        _ => None,
    }));
    assert!(sorted(|r| match r {
        ArchiveRow::Contract(c) => Some(c.id.hyphenated().to_string().into_bytes()),
        _ => None,
    }));
    assert!(sorted(|r| match r {
        ArchiveRow::Aggregate(a) => Some(
            [a.purpose.as_str(), a.category.as_str(), a.bucket.as_str()]
                .join("\0")
                .into_bytes(),
        ),
        _ => None,
    }));
    assert!(sorted(|r| match r {
        ArchiveRow::LegalHold(h) => Some(h.id.hyphenated().to_string().into_bytes()),
        _ => None,
    }));
    assert!(sorted(|r| match r {
        ArchiveRow::Checkpoint(c) => Some(c.checkpoint.tree_size.to_be_bytes().to_vec()),
        _ => None,
    }));

    for batch in first.rows.chunks(3) {
        target.import_rows(&t, batch).unwrap();
    }
    let size = source.tree_size(&t).unwrap();
    assert_eq!(target.catch_up_tree(&t).unwrap(), size);
    let mut second = Collect::default();
    target.export_tenant(&t, &mut second).unwrap();
    assert_eq!(first.counts, second.counts);
    assert_eq!(first.rows, second.rows);
    crate::conformance::verify_audit_chain(&target, &t);
    let tree = StoredTree {
        store: &target,
        tenant: &t,
    };
    for cp in target.checkpoints(&t).unwrap() {
        assert_eq!(
            merkle::root_at(&tree, cp.checkpoint.tree_size).unwrap(),
            cp.checkpoint.root_hash
        );
    }
    assert_eq!(
        target.latest_checkpoint(&t).unwrap(),
        source.latest_checkpoint(&t).unwrap()
    );
    // The copy goes on: the next entry extends its tree and chain.
    target.append_audit(&t, &draft("after", None)).unwrap();
    assert_eq!(target.tree_size(&t).unwrap(), size + 1);
    crate::conformance::verify_audit_chain(&target, &t);
    assert_eq!(
        target.subject(&t, erased).unwrap().unwrap().state,
        SubjectState::Erased
    );
    // The group below k is carried but still not returned.
    assert_eq!(
        target.aggregates(&t, 0).unwrap(),
        source.aggregates(&t, 0).unwrap()
    );
    assert_eq!(target.aggregates(&t, 0).unwrap().len(), 2);
    // Importing the tenant again is refused.
    assert!(target.import_rows(&t, &first.rows[..1]).is_err());
}
