//! Conformance cases of [`LifecycleStore`]: rectification, restriction, erasure
//! with legal holds. A backend runs them with
//! `custos_store::lifecycle_conformance_tests!(fresh_store_expression);`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::{
    AuditDraft, BlindIndexEntry, Erasure, HeldRecord, LifecycleStore, Outcome, Record, RecordId,
    Rectification, Store, StoreError, Subject, SubjectId, SubjectState, SubjectWrite, Tenant,
    TenantId, Timestamp, Uuid,
};

/// Expands to `mod lifecycle_conformance { … }`, one `#[test]` per case.
#[macro_export]
macro_rules! lifecycle_conformance_tests {
    ($fresh:expr $(,)?) => {
        mod lifecycle_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn rectify_and_restrict() {
                $crate::conformance_lifecycle::rectify_and_restrict($fresh);
            }
            #[test]
            fn erase_keeps_only_holds() {
                $crate::conformance_lifecycle::erase_keeps_only_holds($fresh);
            }
            #[test]
            fn erasure_drops_what_people_typed() {
                $crate::conformance_lifecycle::erasure_drops_what_people_typed($fresh);
            }
            #[test]
            fn erase_refuses_a_stale_plan() {
                $crate::conformance_lifecycle::erase_refuses_a_stale_plan($fresh);
            }
        }
    };
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_microsecond(1_750_000_000_123_456 + secs * 1_000_000).unwrap()
}

fn tenant<S: Store>(store: &S) -> TenantId {
    let id = TenantId::new(&format!("life-{}", Uuid::new_v4().simple())).unwrap();
    store
        .create_tenant(&Tenant {
            id: id.clone(),
            name: "Lifecycle".into(),
            created_at: at(0),
        })
        .unwrap();
    id
}

fn draft(action: &str, subject: SubjectId) -> AuditDraft {
    AuditDraft {
        at: at(10),
        actor: "key:ck_test".into(),
        key_id: Some("ck_test".into()),
        action: action.into(),
        purpose: None,
        subject: Some(subject),
        categories: Vec::new(),
        outcome: Outcome::Allow,
        reason: "test".into(),
        request_id: None,
    }
}

fn entry(category: &str, seed: u8) -> BlindIndexEntry {
    BlindIndexEntry {
        category: category.into(),
        hash: [seed; 32],
    }
}

/// A subject with an email (indexed, seed 1) and an invoice.
fn subject<S: Store>(store: &S, tenant: &TenantId) -> (SubjectId, Vec<Record>) {
    let id = SubjectId(Uuid::new_v4());
    let s = Subject {
        id,
        wrapped_dek: vec![42; 60],
        kek_version: 1,
        jurisdiction: None,
        state: SubjectState::Active,
        created_at: at(1),
        updated_at: at(1),
    };
    let records: Vec<Record> = ["email", "invoice"]
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
            index: &[entry("email", 1)],
            consents: &[],
            audit: &draft("write", id),
            idempotency: None,
        })
        .unwrap();
    (id, records)
}

fn sorted(mut ids: Vec<RecordId>) -> Vec<RecordId> {
    ids.sort();
    ids
}

pub fn rectify_and_restrict<S: Store + LifecycleStore>(store: S) {
    let t = tenant(&store);
    let other = tenant(&store);
    let (s, records) = subject(&store, &t);
    let email = &records[0];
    let before = store.counts(&t).unwrap().audit_entries;
    store
        .rectify_record(&Rectification {
            tenant: &t,
            subject: s,
            record: email.id,
            ciphertext: b"sealed-new",
            index_remove: &[entry("email", 1)],
            index_add: &[entry("email", 2)],
            at: at(20),
            audit: &draft("rectify", s),
        })
        .unwrap();
    assert_eq!(store.counts(&t).unwrap().audit_entries, before + 1);
    let now = store.subject_records(&t, s).unwrap();
    assert_eq!(now[0].ciphertext, b"sealed-new");
    assert_eq!(now[0].collected_at, email.collected_at);
    assert!(
        store
            .find_subjects(&t, "email", &[1; 32])
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.find_subjects(&t, "email", &[2; 32]).unwrap(), vec![s]);
    assert_eq!(store.subject(&t, s).unwrap().unwrap().updated_at, at(20));

    // Another tenant, or a record that is not the subject's: not found, nothing changed.
    let wrong = |tenant: &TenantId, record: RecordId| {
        store.rectify_record(&Rectification {
            tenant,
            subject: s,
            record,
            ciphertext: b"x",
            index_remove: &[],
            index_add: &[],
            at: at(21),
            audit: &draft("rectify", s),
        })
    };
    assert!(matches!(
        wrong(&other, email.id),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        wrong(&t, RecordId(Uuid::new_v4())),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.subject_records(&other, s),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.counts(&t).unwrap().audit_entries, before + 1);

    for state in [SubjectState::Restricted, SubjectState::Active] {
        store
            .set_subject_state(&t, s, state, at(30), &draft("state", s))
            .unwrap();
        assert_eq!(store.subject(&t, s).unwrap().unwrap().state, state);
    }
    assert!(
        store
            .set_subject_state(&t, s, SubjectState::Erased, at(31), &draft("state", s))
            .is_err()
    );
    assert!(matches!(
        store.set_subject_state(
            &other,
            s,
            SubjectState::Restricted,
            at(31),
            &draft("state", s)
        ),
        Err(StoreError::NotFound(_))
    ));
}

pub fn erase_keeps_only_holds<S: Store + LifecycleStore>(store: S) {
    let t = tenant(&store);
    let (s, records) = subject(&store, &t);
    let invoice = &records[1];
    let held = HeldRecord {
        id: invoice.id,
        subject: s,
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
    let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
    store
        .erase_subject(&Erasure {
            tenant: &t,
            subject: s,
            expected_records: &ids,
            held: std::slice::from_ref(&held),
            at: at(40),
            audit: &draft("erase", s),
        })
        .unwrap();
    let row = store.subject(&t, s).unwrap().unwrap();
    assert_eq!(row.state, SubjectState::Erased);
    assert!(row.wrapped_dek.is_empty());
    assert_eq!(row.updated_at, at(40));
    assert!(store.subject_records(&t, s).unwrap().is_empty());
    assert!(
        store
            .find_subjects(&t, "email", &[1; 32])
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.counts(&t).unwrap().records, 0);
    let before = store.counts(&t).unwrap().audit_entries;
    let got = store
        .read_held_records(&t, s, &draft("read_held", s))
        .unwrap();
    assert_eq!(got, vec![held.clone()]);
    assert_eq!(store.counts(&t).unwrap().audit_entries, before + 1);
    // Isolated per tenant.
    let other = tenant(&store);
    assert!(
        store
            .read_held_records(&other, s, &draft("read_held", s))
            .unwrap()
            .is_empty()
    );
    // Erased is final: no second erasure, no state change, no rectification.
    assert!(matches!(
        store.erase_subject(&Erasure {
            tenant: &t,
            subject: s,
            expected_records: &[],
            held: &[],
            at: at(41),
            audit: &draft("erase", s),
        }),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_subject_state(&t, s, SubjectState::Active, at(41), &draft("state", s)),
        Err(StoreError::NotFound(_))
    ));
    // Holds go when they end, and only then.
    let purge = |now| {
        store
            .purge_held_records(&t, now, &draft("purge", s))
            .unwrap()
    };
    assert_eq!(purge(at(399)), 0);
    assert_eq!(purge(at(400)), 1);
    assert!(
        store
            .read_held_records(&t, s, &draft("read_held", s))
            .unwrap()
            .is_empty()
    );
}

pub fn erase_refuses_a_stale_plan<S: Store + LifecycleStore>(store: S) {
    let t = tenant(&store);
    let (s, records) = subject(&store, &t);
    let stale = vec![records[0].id];
    let before = store.counts(&t).unwrap();
    assert!(matches!(
        store.erase_subject(&Erasure {
            tenant: &t,
            subject: s,
            expected_records: &stale,
            held: &[],
            at: at(50),
            audit: &draft("erase", s),
        }),
        Err(StoreError::Conflict(_))
    ));
    // Rolled back: everything as before.
    assert_eq!(store.counts(&t).unwrap(), before);
    assert_eq!(
        store.subject(&t, s).unwrap().unwrap().state,
        SubjectState::Active
    );
    assert_eq!(
        sorted(
            store
                .subject_records(&t, s)
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect()
        ),
        sorted(records.iter().map(|r| r.id).collect())
    );
}

/// Issue 17.11: an erasure drops the consent user agents of the subject and
/// replaces the words of its legal holds by a reference to each hold; the
/// decisions, times and the holds themselves stay.
pub fn erasure_drops_what_people_typed<
    S: Store + LifecycleStore + crate::RetentionStore + crate::ConsentStore,
>(
    store: S,
) {
    let t = tenant(&store);
    let (s, records) = subject(&store, &t);
    let event = crate::ConsentEvent {
        id: Uuid::new_v4(),
        subject: s,
        purpose: "newsletter".into(),
        kind: crate::ConsentKind::Granted,
        policy_version: 1,
        notice_hash: [1; 32],
        channel: "web".into(),
        ip_hash: None,
        user_agent: Some("Mozilla/5.0 (Bob's laptop)".into()),
        at: at(20),
        recorded_by: "data_subject".into(),
    };
    store
        .append_consent(&t, &event, &draft("consent", s))
        .unwrap();
    let hold = crate::LegalHold {
        id: Uuid::new_v4(),
        subject: s,
        record: None,
        reason: "claim by Bob Durand against Alice Martin".into(),
        placed_at: at(21),
        until: Some(at(500)),
    };
    store
        .place_legal_hold(&t, &hold, &draft("legal_hold", s))
        .unwrap();
    let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
    store
        .erase_subject(&Erasure {
            tenant: &t,
            subject: s,
            expected_records: &ids,
            held: &[],
            at: at(40),
            audit: &draft("erase", s),
        })
        .unwrap();
    let events = store.consent_events(&t, s).unwrap();
    assert_eq!(
        events,
        vec![crate::ConsentEvent {
            user_agent: None,
            ..event
        }]
    );
    let holds = store.legal_holds(&t, Some(s)).unwrap();
    assert_eq!(holds.len(), 1);
    assert!(!holds[0].reason.contains("Durand"), "{:?}", holds[0]);
    assert!(holds[0].reason.contains(&hold.id.to_string()));
    assert_eq!(
        crate::LegalHold {
            reason: hold.reason.clone(),
            ..holds[0].clone()
        },
        hold
    );
}
