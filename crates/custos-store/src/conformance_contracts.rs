//! Conformance cases of [`ContractStore`]: contracts are created once, change by
//! compare-and-set on their version with their outbox messages and audit entry, are
//! listed by subject, kind and status in a stable order, found by their due clock,
//! and never seen from another tenant. A backend runs them with
//! `custos_store::contract_conformance_tests!(fresh_store_expression);`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::{
    AuditDraft, ContractFilter, ContractKind, ContractRow, ContractStore, OutboxMessage, Outcome,
    RequestStore, Store, StoreError, SubjectId, Tenant, TenantId, Timestamp, Uuid,
};

/// Expands to `mod contract_conformance { … }`, one `#[test]` per case.
#[macro_export]
macro_rules! contract_conformance_tests {
    ($fresh:expr $(,)?) => {
        mod contract_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn contracts_change_by_compare_and_set() {
                $crate::conformance_contracts::contracts_change_by_compare_and_set($fresh);
            }
            #[test]
            fn contracts_list_by_subject_kind_and_status() {
                $crate::conformance_contracts::contracts_list_by_subject_kind_and_status($fresh);
            }
            #[test]
            fn due_contracts_are_found_by_their_clock() {
                $crate::conformance_contracts::due_contracts_are_found_by_their_clock($fresh);
            }
            #[test]
            fn contracts_are_tenant_scoped() {
                $crate::conformance_contracts::contracts_are_tenant_scoped($fresh);
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
            name: "Contracts".into(),
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

/// A fresh contract of `subject` at version 1.
pub fn contract(
    subject: SubjectId,
    kind: ContractKind,
    next_due: Option<Timestamp>,
) -> ContractRow {
    ContractRow {
        id: Uuid::new_v4(),
        subject,
        kind,
        status: "active".into(),
        state: r#"{"kind":"test"}"#.into(),
        next_due,
        version: 1,
        created_at: at(1),
        updated_at: at(1),
    }
}

pub fn contracts_change_by_compare_and_set<S: Store + ContractStore + RequestStore>(store: S) {
    let t = tenant(&store, "contracts");
    let s = SubjectId(Uuid::new_v4());
    let row = contract(s, ContractKind::Membership, Some(at(100)));
    let audits = store.counts(&t).unwrap().audit_entries;
    store
        .create_contract(
            &t,
            &row,
            &[message(s, "contract.membership_activated")],
            &draft("contract.created", Some(s)),
        )
        .unwrap();
    assert_eq!(store.contract(&t, row.id).unwrap(), Some(row.clone()));
    assert_eq!(store.counts(&t).unwrap().audit_entries, audits + 1);
    assert_eq!(store.outbox_of(&t, s).unwrap().len(), 1);
    // Created once.
    assert!(matches!(
        store.create_contract(&t, &row, &[], &draft("again", Some(s))),
        Err(StoreError::Conflict(_))
    ));

    let mut next = row.clone();
    next.version = 2;
    next.status = "past_due".into();
    next.state = r#"{"kind":"test","n":2}"#.into();
    next.next_due = None;
    next.updated_at = at(50);
    store
        .update_contract(
            &t,
            &next,
            1,
            &[message(s, "contract.payment_failed")],
            &draft("contract.updated", Some(s)),
        )
        .unwrap();
    assert_eq!(store.contract(&t, row.id).unwrap(), Some(next.clone()));
    assert_eq!(store.outbox_of(&t, s).unwrap().len(), 2);

    // A stale version changes nothing: no row, no notice, no audit entry.
    let audits = store.counts(&t).unwrap().audit_entries;
    let mut stale = next.clone();
    stale.version = 3;
    stale.status = "ended".into();
    assert!(matches!(
        store.update_contract(
            &t,
            &stale,
            1,
            &[message(s, "contract.membership_ended")],
            &draft("contract.updated", Some(s)),
        ),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.contract(&t, row.id).unwrap(), Some(next));
    assert_eq!(store.outbox_of(&t, s).unwrap().len(), 2);
    assert_eq!(store.counts(&t).unwrap().audit_entries, audits);
    // An unknown id is a conflict too, never an insert.
    let ghost = contract(s, ContractKind::Order, None);
    assert!(matches!(
        store.update_contract(&t, &ghost, 1, &[], &draft("contract.updated", Some(s))),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.contract(&t, ghost.id).unwrap(), None);
}

pub fn contracts_list_by_subject_kind_and_status<S: Store + ContractStore>(store: S) {
    let t = tenant(&store, "listed");
    let a = SubjectId(Uuid::new_v4());
    let b = SubjectId(Uuid::new_v4());
    let mut rows = Vec::new();
    for (i, (subject, kind, status)) in [
        (a, ContractKind::Order, "confirmed"),
        (b, ContractKind::Membership, "active"),
        (a, ContractKind::Membership, "past_due"),
        (a, ContractKind::Return, "notified"),
        (b, ContractKind::Order, "confirmed"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = contract(subject, kind, None);
        r.status = status.into();
        r.created_at = at(100 - i64::try_from(i).unwrap() * 10);
        store
            .create_contract(&t, &r, &[], &draft("contract.created", Some(subject)))
            .unwrap();
        rows.push(r);
    }
    let ids = |f: ContractFilter| -> Vec<Uuid> {
        store
            .contracts(&t, &f)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    // Oldest first.
    let all: Vec<Uuid> = rows.iter().rev().map(|r| r.id).collect();
    assert_eq!(ids(ContractFilter::default()), all);
    assert_eq!(
        ids(ContractFilter {
            subject: Some(a),
            ..Default::default()
        }),
        vec![rows[3].id, rows[2].id, rows[0].id]
    );
    assert_eq!(
        ids(ContractFilter {
            subject: Some(a),
            kind: Some(ContractKind::Membership),
            ..Default::default()
        }),
        vec![rows[2].id]
    );
    assert_eq!(
        ids(ContractFilter {
            kind: Some(ContractKind::Order),
            status: Some("confirmed".into()),
            ..Default::default()
        }),
        vec![rows[4].id, rows[0].id]
    );
    assert!(
        ids(ContractFilter {
            subject: Some(b),
            status: Some("past_due".into()),
            ..Default::default()
        })
        .is_empty()
    );
}

pub fn due_contracts_are_found_by_their_clock<S: Store + ContractStore>(store: S) {
    let t = tenant(&store, "due");
    let s = SubjectId(Uuid::new_v4());
    let late = contract(s, ContractKind::Membership, Some(at(300)));
    let soon = contract(s, ContractKind::Membership, Some(at(200)));
    let never = contract(s, ContractKind::Order, None);
    for r in [&late, &soon, &never] {
        store
            .create_contract(&t, r, &[], &draft("contract.created", Some(s)))
            .unwrap();
    }
    let due = |now: Timestamp, limit: usize| -> Vec<Uuid> {
        store
            .due_contracts(&t, now, limit)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert!(due(at(199), 10).is_empty());
    assert_eq!(due(at(200), 10), vec![soon.id]);
    assert_eq!(due(at(1000), 10), vec![soon.id, late.id]);
    assert_eq!(due(at(1000), 1), vec![soon.id]);
    // Advanced past its clock, it is no longer due.
    let mut moved = soon.clone();
    moved.version = 2;
    moved.next_due = Some(at(2000));
    store
        .update_contract(&t, &moved, 1, &[], &draft("contract.advanced", Some(s)))
        .unwrap();
    assert_eq!(due(at(1000), 10), vec![late.id]);
}

pub fn contracts_are_tenant_scoped<S: Store + ContractStore>(store: S) {
    let t = tenant(&store, "mine");
    let other = tenant(&store, "theirs");
    let s = SubjectId(Uuid::new_v4());
    let row = contract(s, ContractKind::Order, Some(at(10)));
    store
        .create_contract(&t, &row, &[], &draft("contract.created", Some(s)))
        .unwrap();
    assert_eq!(store.contract(&other, row.id).unwrap(), None);
    assert!(
        store
            .contracts(&other, &ContractFilter::default())
            .unwrap()
            .is_empty()
    );
    assert!(store.due_contracts(&other, at(100), 10).unwrap().is_empty());
    let mut next = row.clone();
    next.version = 2;
    assert!(matches!(
        store.update_contract(&other, &next, 1, &[], &draft("contract.updated", Some(s))),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.contract(&t, row.id).unwrap(), Some(row));
}
