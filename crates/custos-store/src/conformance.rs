//! The conformance suite: what every [`Store`] backend must do, written once,
//! generic over the backend.
//!
//! Each case is a `pub fn` that takes a fresh store and panics on the first
//! behaviour that differs from the trait's contract. A backend runs them all
//! with one line in its `tests/it/main.rs`:
//!
//! ```ignore
//! custos_store::conformance_tests!(custos_store_sqlite::SqliteStore::open_temporary().unwrap());
//! ```
//!
//! which expands to a module `conformance` holding one `#[test]` per case; the
//! expression is evaluated anew for every test.
//!
//! Every case creates its tenants with a random suffix, so the suite also holds
//! when a backend hands out stores that share one database (a PostgreSQL test
//! server): nothing asserts on data another test may have written.

// This module is test code, compiled only with the `conformance` feature for
// backends' test binaries: a failed assertion (a panic) is how it reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use crate::{
    ApiKey, AuditDraft, AuditEntry, AuditRef, BlindIndexEntry, Counts, IdempotentResponse, Outcome,
    PolicyVersion, Record, RecordId, Store, StoreError, Subject, SubjectId, SubjectState,
    SubjectWrite, Tenant, TenantId, Timestamp, Uuid, WrappedKey,
};

/// Expands to `mod conformance { … }` with one `#[test]` per conformance case,
/// each calling the case with a fresh store built by `$fresh` (an expression
/// evaluated once per test; it may use items imported in the calling module).
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr $(,)?) => {
        $crate::conformance_tests!(@cases $fresh;
            tenants,
            policy_versions,
            api_keys,
            subjects,
            every_audited_method_appends_one_entry,
            audit_chain_per_tenant,
            tenant_isolation,
            rollback_on_duplicate_record,
            consents_carried_by_a_write,
            rollback_on_reused_idempotency_key,
            idempotency,
            rewrap_compare_and_set,
            concurrent_writes,
            counts,
            timestamps_round_trip_microseconds,
        );
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $case() {
                    $crate::conformance::$case($fresh);
                }
            )*
        }
    };
}

// --- fixtures -------------------------------------------------------------------

/// A fixed instant with a non-zero microsecond part, plus `secs` seconds.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_microsecond(1_750_000_000_123_456 + secs * 1_000_000).unwrap()
}

fn new_tenant<S: Store>(store: &S, name: &str) -> TenantId {
    let id = TenantId::new(&format!("{name}-{}", Uuid::new_v4().simple())).unwrap();
    store
        .create_tenant(&Tenant {
            id: id.clone(),
            name: format!("Tenant {name}"),
            created_at: at(0),
        })
        .unwrap();
    id
}

fn draft(action: &str, subject: Option<SubjectId>, categories: &[&str]) -> AuditDraft {
    AuditDraft {
        at: at(10),
        actor: "key:ck_test".to_owned(),
        key_id: Some("ck_test".to_owned()),
        action: action.to_owned(),
        purpose: Some("support".to_owned()),
        subject,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        outcome: Outcome::Allow,
        reason: "policy allows".to_owned(),
        request_id: Some(format!("req-{}", Uuid::new_v4().simple())),
    }
}

fn subject_row(kek_version: u32) -> Subject {
    let id = SubjectId(Uuid::new_v4());
    Subject {
        id,
        wrapped_dek: format!("wrapped-{id}").into_bytes(),
        kek_version,
        jurisdiction: Some("BE".to_owned()),
        state: SubjectState::Active,
        created_at: at(1),
        updated_at: at(2),
    }
}

fn record(subject: SubjectId, category: &str) -> Record {
    let id = RecordId(Uuid::new_v4());
    Record {
        id,
        subject,
        category: category.to_owned(),
        ciphertext: format!("sealed-{id}").into_bytes(),
        purpose: "support".to_owned(),
        source: "data_subject".to_owned(),
        collected_at: at(3),
        expires_at: Some(at(86_400 * 365)),
    }
}

fn index(category: &str, seed: u8) -> BlindIndexEntry {
    BlindIndexEntry {
        category: category.to_owned(),
        hash: [seed; 32],
    }
}

fn api_key(tenant: &TenantId, label: &str) -> ApiKey {
    ApiKey {
        id: format!("ck_{}", Uuid::new_v4().simple()),
        tenant: tenant.clone(),
        hash: [7; 32],
        label: label.to_owned(),
        role: "support_agent".to_owned(),
        purposes: vec!["support".to_owned(), "billing".to_owned()],
        admin: false,
        created_at: at(4),
        revoked_at: None,
    }
}

fn idem(key: &str) -> IdempotentResponse {
    IdempotentResponse {
        key: key.to_owned(),
        request_hash: [9; 32],
        status: 201,
        body: r#"{"subject":"…"}"#.to_owned(),
        created_at: at(5),
    }
}

/// Creates a subject with one record per category and the given index entries.
fn create<S: Store>(
    store: &S,
    tenant: &TenantId,
    subject: &Subject,
    categories: &[&str],
    index: &[BlindIndexEntry],
) -> (Vec<Record>, AuditRef) {
    let records: Vec<Record> = categories.iter().map(|c| record(subject.id, c)).collect();
    let audit = draft("write", Some(subject.id), categories);
    let r = store
        .create_subject(&SubjectWrite {
            tenant,
            subject,
            records: &records,
            index,
            consents: &[],
            audit: &audit,
            idempotency: None,
        })
        .unwrap();
    (records, r)
}

fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by_key(|r| r.id);
    records
}

fn all_entries<S: Store>(store: &S, tenant: &TenantId) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = Vec::new();
    loop {
        let from = out.last().map_or(1, |e| e.seq + 1);
        let page = store.audit_entries(tenant, from, 100).unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

fn audit_count<S: Store>(store: &S, tenant: &TenantId) -> u64 {
    store.counts(tenant).unwrap().audit_entries
}

/// Reads a tenant's whole audit log and checks its hash chain from seq 1;
/// returns the number of entries verified.
pub fn verify_audit_chain<S: Store>(store: &S, tenant: &TenantId) -> u64 {
    let mut verifier = custos_audit::Verifier::default();
    for e in all_entries(store, tenant) {
        let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
        if let Err(err) = verifier.check(&e.hash_fields(tenant, &subject), &e.prev_hash, &e.hash) {
            panic!("audit chain of tenant {tenant} does not verify: {err}");
        }
    }
    verifier.verified()
}

fn assert_conflict<T: std::fmt::Debug>(r: crate::Result<T>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

fn assert_not_found<T: std::fmt::Debug>(r: crate::Result<T>, what: &str) {
    match r {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

// --- cases ------------------------------------------------------------------------

/// Tenants are created once, read back as stored, and listed.
pub fn tenants<S: Store>(store: S) {
    let a = new_tenant(&store, "a");
    let b = new_tenant(&store, "b");

    let got = store.tenant(&a).unwrap().expect("tenant a exists");
    assert_eq!(got.id, a);
    assert_eq!(got.name, "Tenant a");
    assert_eq!(got.created_at, at(0));

    let dup = Tenant {
        id: a.clone(),
        name: "other".to_owned(),
        created_at: at(99),
    };
    assert_conflict(store.create_tenant(&dup), "creating a tenant twice");
    assert_eq!(store.tenant(&a).unwrap().unwrap().name, "Tenant a");

    let missing = TenantId::new(&format!("missing-{}", Uuid::new_v4().simple())).unwrap();
    assert_eq!(store.tenant(&missing).unwrap(), None);

    let listed: BTreeSet<TenantId> = store.tenants().unwrap().into_iter().map(|t| t.id).collect();
    assert!(listed.contains(&a) && listed.contains(&b));
    assert!(!listed.contains(&missing));
}

/// Policy versions are numbered 1, 2, … per tenant, and the one in force at a
/// time is the highest-numbered one already effective then.
pub fn policy_versions<S: Store>(store: S) {
    let t = new_tenant(&store, "policy");
    let other = new_tenant(&store, "policy-other");
    let version = |number: u32, effective_at: Timestamp| PolicyVersion {
        number,
        label: format!("2025.{number}"),
        text: format!("[policy]\nversion = \"2025.{number}\"\n"),
        effective_at,
        published_at: at(i64::from(number)),
    };

    assert_eq!(store.policy_in_force(&t, at(1_000_000)).unwrap(), None);
    assert_conflict(
        store.publish_policy(&t, &version(2, at(0))),
        "version 2 first",
    );
    assert_conflict(store.publish_policy(&t, &version(0, at(0))), "version 0");

    let v1 = version(1, at(100));
    let v2 = version(2, at(1_000)); // scheduled further ahead…
    let v3 = version(3, at(500)); // …than its successor
    store.publish_policy(&t, &v1).unwrap();
    assert_conflict(store.publish_policy(&t, &v1), "publishing 1 twice");
    assert_conflict(store.publish_policy(&t, &version(3, at(0))), "skipping 2");
    store.publish_policy(&t, &v2).unwrap();
    store.publish_policy(&t, &v3).unwrap();

    assert_eq!(
        store.policy_versions(&t).unwrap(),
        vec![v1.clone(), v2.clone(), v3.clone()]
    );
    assert_eq!(
        store.policy_in_force(&t, at(99)).unwrap(),
        None,
        "before the first"
    );
    assert_eq!(
        store.policy_in_force(&t, at(100)).unwrap(),
        Some(v1.clone()),
        "at effective_at"
    );
    assert_eq!(store.policy_in_force(&t, at(499)).unwrap(), Some(v1));
    assert_eq!(
        store.policy_in_force(&t, at(500)).unwrap(),
        Some(v3.clone())
    );
    assert_eq!(
        store.policy_in_force(&t, at(999)).unwrap(),
        Some(v3.clone())
    );
    // Both effective: the highest number wins, not the latest effective_at.
    assert_eq!(store.policy_in_force(&t, at(5_000)).unwrap(), Some(v3));

    // Numbering is per tenant.
    assert_eq!(store.policy_versions(&other).unwrap(), vec![]);
    assert_eq!(store.policy_in_force(&other, at(5_000)).unwrap(), None);
    store.publish_policy(&other, &version(1, at(0))).unwrap();
    assert_eq!(store.policy_versions(&t).unwrap().len(), 3);
}

/// API keys: insert, look up by public id across tenants, list per tenant,
/// revoke (only within the key's own tenant).
pub fn api_keys<S: Store>(store: S) {
    let t = new_tenant(&store, "keys");
    let other = new_tenant(&store, "keys-other");
    let k1 = api_key(&t, "first");
    let mut k2 = api_key(&t, "second");
    k2.admin = true;
    k2.purposes = vec![];

    store
        .insert_api_key(&k1, &draft("create_key", None, &[]))
        .unwrap();
    store
        .insert_api_key(&k2, &draft("create_key", None, &[]))
        .unwrap();
    assert_eq!(store.api_key(&k1.id).unwrap(), Some(k1.clone()));
    assert_eq!(store.api_key(&k2.id).unwrap(), Some(k2.clone()));
    assert_eq!(store.api_key("ck_missing").unwrap(), None);

    // A public id names one key: a second insert with it is refused.
    let mut same_id = api_key(&other, "impostor");
    same_id.id.clone_from(&k1.id);
    let before = audit_count(&store, &other);
    assert_conflict(
        store.insert_api_key(&same_id, &draft("create_key", None, &[])),
        "inserting a key id twice",
    );
    assert_eq!(
        audit_count(&store, &other),
        before,
        "failed insert left an audit entry"
    );
    assert_eq!(store.api_key(&k1.id).unwrap().unwrap().tenant, t);

    let mut listed = store.api_keys(&t).unwrap();
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = vec![k1.clone(), k2.clone()];
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, expected);
    assert_eq!(store.api_keys(&other).unwrap(), vec![]);

    // Revoking from another tenant does not find the key and changes nothing.
    let before = audit_count(&store, &other);
    assert_not_found(
        store.revoke_api_key(&other, &k1.id, at(20), &draft("revoke_key", None, &[])),
        "revoking another tenant's key",
    );
    assert_eq!(audit_count(&store, &other), before);
    assert_eq!(store.api_key(&k1.id).unwrap().unwrap().revoked_at, None);
    assert_not_found(
        store.revoke_api_key(&t, "ck_missing", at(20), &draft("revoke_key", None, &[])),
        "revoking a missing key",
    );

    store
        .revoke_api_key(&t, &k1.id, at(20), &draft("revoke_key", None, &[]))
        .unwrap();
    let revoked = store.api_key(&k1.id).unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at(20)));
    assert_eq!(
        ApiKey {
            revoked_at: None,
            ..revoked
        },
        k1
    );
    assert_eq!(store.api_key(&k2.id).unwrap().unwrap().revoked_at, None);
}

/// Subjects with records and blind-index entries: create, read (all or some
/// categories), add records, find by blind index.
pub fn subjects<S: Store>(store: S) {
    let t = new_tenant(&store, "subjects");
    let s = subject_row(1);
    let email = index("user.contact.email", 1);
    let phone = index("user.contact.phone", 2);
    let (records, _) = create(
        &store,
        &t,
        &s,
        &["user.contact.email", "user.contact.phone", "user.name"],
        &[email.clone(), phone.clone()],
    );

    assert_eq!(store.subject(&t, s.id).unwrap(), Some(s.clone()));
    assert_eq!(store.subject(&t, SubjectId(Uuid::new_v4())).unwrap(), None);

    let (got, all) = store
        .read_subject(&t, s.id, &[], &draft("read", Some(s.id), &[]))
        .unwrap();
    assert_eq!(got, s);
    assert_eq!(sorted(all), sorted(records.clone()), "read all categories");

    let wanted = vec!["user.name".to_owned(), "user.contact.email".to_owned()];
    let (_, some) = store
        .read_subject(
            &t,
            s.id,
            &wanted,
            &draft("read", Some(s.id), &["user.name"]),
        )
        .unwrap();
    let expected: Vec<Record> = records
        .iter()
        .filter(|r| wanted.contains(&r.category))
        .cloned()
        .collect();
    assert_eq!(sorted(some), sorted(expected), "read by categories");
    let (_, none) = store
        .read_subject(
            &t,
            s.id,
            &["user.unknown".to_owned()],
            &draft("read", Some(s.id), &[]),
        )
        .unwrap();
    assert_eq!(none, vec![]);

    assert_not_found(
        store.read_subject(
            &t,
            SubjectId(Uuid::new_v4()),
            &[],
            &draft("read", None, &[]),
        ),
        "reading a missing subject",
    );

    // add_records appends records and index entries to an existing subject.
    let more = vec![record(s.id, "user.contact.email")];
    let work_email = index("user.contact.email", 3);
    store
        .add_records(&SubjectWrite {
            tenant: &t,
            subject: &s,
            records: &more,
            index: std::slice::from_ref(&work_email),
            consents: &[],
            audit: &draft("write", Some(s.id), &["user.contact.email"]),
            idempotency: None,
        })
        .unwrap();
    let (_, all) = store
        .read_subject(&t, s.id, &[], &draft("read", Some(s.id), &[]))
        .unwrap();
    let mut expected = records.clone();
    expected.extend(more.iter().cloned());
    assert_eq!(sorted(all), sorted(expected));

    let missing = subject_row(1);
    let before = store.counts(&t).unwrap();
    assert_not_found(
        store.add_records(&SubjectWrite {
            tenant: &t,
            subject: &missing,
            records: &[record(missing.id, "user.name")],
            index: &[index("user.name", 4)],
            consents: &[],
            audit: &draft("write", Some(missing.id), &["user.name"]),
            idempotency: None,
        }),
        "adding records to a missing subject",
    );
    assert_eq!(
        store.counts(&t).unwrap(),
        before,
        "failed add_records left rows behind"
    );

    // An erased subject takes no new records.
    let mut erased = subject_row(1);
    erased.state = SubjectState::Erased;
    create(&store, &t, &erased, &[], &[]);
    assert_eq!(
        store.subject(&t, erased.id).unwrap().unwrap().state,
        SubjectState::Erased
    );
    assert_not_found(
        store.add_records(&SubjectWrite {
            tenant: &t,
            subject: &erased,
            records: &[record(erased.id, "user.name")],
            index: &[],
            consents: &[],
            audit: &draft("write", Some(erased.id), &["user.name"]),
            idempotency: None,
        }),
        "adding records to an erased subject",
    );

    // Blind-index lookups.
    let twin = subject_row(1);
    create(
        &store,
        &t,
        &twin,
        &["user.contact.email"],
        std::slice::from_ref(&email),
    );
    let mut found = store
        .find_subjects(&t, &email.category, &email.hash)
        .unwrap();
    found.sort();
    let mut both = vec![s.id, twin.id];
    both.sort();
    assert_eq!(found, both, "two subjects share an email hash");
    assert_eq!(
        store
            .find_subjects(&t, &phone.category, &phone.hash)
            .unwrap(),
        vec![s.id]
    );
    assert_eq!(
        store
            .find_subjects(&t, &work_email.category, &work_email.hash)
            .unwrap(),
        vec![s.id],
        "entries from add_records are found"
    );
    assert_eq!(
        store
            .find_subjects(&t, "user.contact.phone", &email.hash)
            .unwrap(),
        vec![],
        "the category is part of the lookup"
    );
    assert_eq!(
        store
            .find_subjects(&t, &email.category, &[0xee; 32])
            .unwrap(),
        vec![]
    );
}

/// Every method that takes an `AuditDraft` appends exactly one entry, holding
/// that draft, at the returned seq; methods without a draft append none.
pub fn every_audited_method_appends_one_entry<S: Store>(store: S) {
    let t = new_tenant(&store, "audited");
    let mut expected_seq = 0u64;
    let mut check = |label: &str, d: &AuditDraft, r: AuditRef| {
        expected_seq += 1;
        assert_eq!(r.seq, expected_seq, "{label}: seq");
        assert_eq!(audit_count(&store, &t), expected_seq, "{label}: count");
        let entries = store.audit_entries(&t, r.seq, 10).unwrap();
        assert_eq!(entries.len(), 1, "{label}: exactly one new entry");
        assert_eq!(&entries[0].draft, d, "{label}: stored draft");
        assert_eq!(entries[0].hash, r.hash, "{label}: returned hash");
        expected_seq
    };

    let key = api_key(&t, "audited");
    let d = draft("create_key", None, &[]);
    check(
        "insert_api_key",
        &d,
        store.insert_api_key(&key, &d).unwrap(),
    );

    let d = draft("revoke_key", None, &[]);
    check(
        "revoke_api_key",
        &d,
        store.revoke_api_key(&t, &key.id, at(30), &d).unwrap(),
    );

    let s = subject_row(1);
    let records = vec![record(s.id, "user.name")];
    let d = draft("write", Some(s.id), &["user.name"]);
    let w = SubjectWrite {
        tenant: &t,
        subject: &s,
        records: &records,
        index: &[index("user.name", 5)],
        consents: &[],
        audit: &d,
        idempotency: None,
    };
    check("create_subject", &d, store.create_subject(&w).unwrap());

    let more = vec![record(s.id, "user.contact.email")];
    let d = draft("write", Some(s.id), &["user.contact.email"]);
    let w = SubjectWrite {
        records: &more,
        index: &[],
        consents: &[],
        audit: &d,
        ..w
    };
    check("add_records", &d, store.add_records(&w).unwrap());

    let mut d = draft("read", Some(s.id), &["user.name"]);
    d.outcome = Outcome::Partial;
    d.key_id = None;
    d.purpose = None;
    d.request_id = None;
    store
        .read_subject(&t, s.id, &["user.name".to_owned()], &d)
        .unwrap();
    // read_subject returns no AuditRef: the newest entry must be the read's.
    let newest = store.audit_entries(&t, 1, 100).unwrap().pop().unwrap();
    let r = AuditRef {
        seq: newest.seq,
        hash: newest.hash,
    };
    check("read_subject", &d, r);

    let mut d = draft("deny", Some(s.id), &["user.health"]);
    d.outcome = Outcome::Deny;
    d.reason = "purpose not allowed".to_owned();
    let appended = check("append_audit", &d, store.append_audit(&t, &d).unwrap());

    // Methods without a draft leave the log alone.
    store.subject(&t, s.id).unwrap();
    store.find_subjects(&t, "user.name", &[5; 32]).unwrap();
    store.subjects_to_rewrap(&t, 2, 10).unwrap();
    let new = WrappedKey {
        subject: s.id,
        wrapped_dek: b"rewrapped".to_vec(),
        kek_version: 2,
    };
    let old = WrappedKey {
        subject: s.id,
        wrapped_dek: s.wrapped_dek.clone(),
        kek_version: 1,
    };
    assert!(store.rewrap(&t, &old, &new).unwrap());
    store.api_keys(&t).unwrap();
    store.idempotent_response(&t, "none").unwrap();
    assert_eq!(audit_count(&store, &t), appended);
    assert_eq!(verify_audit_chain(&store, &t), appended);
}

/// Each tenant has its own hash chain, starting at seq 1 from the genesis hash,
/// that verifies; `audit_entries` pages through it in order.
pub fn audit_chain_per_tenant<S: Store>(store: S) {
    let a = new_tenant(&store, "chain-a");
    let b = new_tenant(&store, "chain-b");
    for i in 0..7 {
        let mut d = draft(
            "read",
            Some(SubjectId(Uuid::new_v4())),
            &["user.name", "user.email"],
        );
        d.reason = format!("entry {i}");
        let ra = store.append_audit(&a, &d).unwrap();
        assert_eq!(ra.seq, i + 1);
        if i < 3 {
            let rb = store.append_audit(&b, &draft("write", None, &[])).unwrap();
            assert_eq!(rb.seq, i + 1, "tenant b numbers its own entries");
        }
    }
    assert_eq!(verify_audit_chain(&store, &a), 7);
    assert_eq!(verify_audit_chain(&store, &b), 3);

    let first = store.audit_entries(&b, 1, 1).unwrap();
    assert_eq!(first[0].prev_hash, custos_audit::GENESIS);
    assert_eq!(first[0].seq, 1);

    let page = store.audit_entries(&a, 3, 2).unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(page[0].draft.reason, "entry 2");
    assert_eq!(page[1].prev_hash, page[0].hash);
    assert_eq!(store.audit_entries(&a, 8, 10).unwrap(), vec![]);
    assert_eq!(store.audit_entries(&a, 1, 0).unwrap(), vec![]);
    assert_eq!(store.audit_entries(&a, 0, 100).unwrap().len(), 7);
}

/// Tenant B cannot read, find, add to, rewrap or count tenant A's subjects, nor
/// see or revoke A's keys, nor see A's audit entries.
pub fn tenant_isolation<S: Store>(store: S) {
    let a = new_tenant(&store, "iso-a");
    let b = new_tenant(&store, "iso-b");
    let s = subject_row(1);
    let email = index("user.contact.email", 1);
    create(
        &store,
        &a,
        &s,
        &["user.contact.email"],
        std::slice::from_ref(&email),
    );
    let key = api_key(&a, "a's key");
    store
        .insert_api_key(&key, &draft("create_key", None, &[]))
        .unwrap();
    store
        .create_subject(&SubjectWrite {
            tenant: &a,
            subject: &subject_row(1),
            records: &[],
            index: &[],
            consents: &[],
            audit: &draft("write", None, &[]),
            idempotency: Some(&idem("shared-key")),
        })
        .unwrap();
    let a_counts = store.counts(&a).unwrap();
    assert_eq!(
        a_counts,
        Counts {
            subjects: 2,
            records: 1,
            api_keys: 1,
            audit_entries: 3
        }
    );

    assert_eq!(store.subject(&b, s.id).unwrap(), None);
    assert_not_found(
        store.read_subject(&b, s.id, &[], &draft("read", Some(s.id), &[])),
        "B reading A's subject",
    );
    assert_eq!(
        store
            .find_subjects(&b, &email.category, &email.hash)
            .unwrap(),
        vec![]
    );
    assert_not_found(
        store.add_records(&SubjectWrite {
            tenant: &b,
            subject: &s,
            records: &[record(s.id, "user.name")],
            index: &[index("user.name", 6)],
            consents: &[],
            audit: &draft("write", Some(s.id), &["user.name"]),
            idempotency: None,
        }),
        "B adding to A's subject",
    );
    assert_eq!(store.subjects_to_rewrap(&b, 99, 100).unwrap(), vec![]);
    let old = WrappedKey {
        subject: s.id,
        wrapped_dek: s.wrapped_dek.clone(),
        kek_version: 1,
    };
    let new = WrappedKey {
        subject: s.id,
        wrapped_dek: b"hijacked".to_vec(),
        kek_version: 2,
    };
    assert!(
        !store.rewrap(&b, &old, &new).unwrap(),
        "B rewrapping A's key"
    );
    assert_eq!(store.subject(&a, s.id).unwrap(), Some(s.clone()));

    assert_eq!(store.api_keys(&b).unwrap(), vec![]);
    assert_not_found(
        store.revoke_api_key(&b, &key.id, at(40), &draft("revoke_key", None, &[])),
        "B revoking A's key",
    );
    assert_eq!(store.api_key(&key.id).unwrap().unwrap().revoked_at, None);

    assert_eq!(store.audit_entries(&b, 1, 100).unwrap(), vec![]);
    assert_eq!(store.idempotent_response(&b, "shared-key").unwrap(), None);
    assert_eq!(store.counts(&b).unwrap(), Counts::default());

    // B's own writes neither see nor disturb A's: same subject id, same
    // idempotency key, its own audit numbering.
    let r = store
        .create_subject(&SubjectWrite {
            tenant: &b,
            subject: &subject_row(1),
            records: &[],
            index: std::slice::from_ref(&email),
            consents: &[],
            audit: &draft("write", None, &[]),
            idempotency: Some(&idem("shared-key")),
        })
        .unwrap();
    assert_eq!(r.seq, 1);
    assert_eq!(
        store
            .find_subjects(&a, &email.category, &email.hash)
            .unwrap(),
        vec![s.id]
    );
    assert_eq!(store.counts(&a).unwrap(), a_counts);
    assert_eq!(verify_audit_chain(&store, &a), 3);
    assert_eq!(verify_audit_chain(&store, &b), 1);
}

fn assert_nothing_left<S: Store>(
    store: &S,
    t: &TenantId,
    s: &Subject,
    idx: &BlindIndexEntry,
    before: Counts,
) {
    assert_eq!(store.subject(t, s.id).unwrap(), None, "no subject");
    assert_eq!(
        store.find_subjects(t, &idx.category, &idx.hash).unwrap(),
        vec![],
        "no index entry"
    );
    assert_eq!(
        store.counts(t).unwrap(),
        before,
        "no subject, record or audit entry"
    );
    assert_eq!(verify_audit_chain(store, t), before.audit_entries);
}

/// A create_subject whose records repeat a record id fails and leaves nothing
/// behind: no subject, no records, no index entries, no audit entry.
pub fn rollback_on_duplicate_record<S: Store>(store: S) {
    let t = new_tenant(&store, "rollback-dup");
    create(&store, &t, &subject_row(1), &["user.name"], &[]);
    let before = store.counts(&t).unwrap();

    let s = subject_row(1);
    let first = record(s.id, "user.name");
    let mut second = record(s.id, "user.contact.email");
    second.id = first.id;
    let idx = index("user.contact.email", 8);
    let result = store.create_subject(&SubjectWrite {
        tenant: &t,
        subject: &s,
        records: &[first, second],
        index: std::slice::from_ref(&idx),
        consents: &[],
        audit: &draft("write", Some(s.id), &["user.name"]),
        idempotency: Some(&idem("dup-records")),
    });
    assert!(result.is_err(), "duplicate record id accepted");
    assert_nothing_left(&store, &t, &s, &idx, before);
    assert_eq!(
        store.idempotent_response(&t, "dup-records").unwrap(),
        None,
        "no idempotency row"
    );

    // The same subject can then be written correctly.
    create(&store, &t, &s, &["user.name"], std::slice::from_ref(&idx));
    assert_eq!(
        store.find_subjects(&t, &idx.category, &idx.hash).unwrap(),
        vec![s.id]
    );
}

fn grant(subject: SubjectId, purpose: &str) -> crate::ConsentEvent {
    crate::ConsentEvent {
        id: Uuid::new_v4(),
        subject,
        purpose: purpose.to_owned(),
        kind: crate::ConsentKind::Granted,
        policy_version: 1,
        notice_hash: [7; 32],
        channel: "web".to_owned(),
        ip_hash: None,
        user_agent: None,
        at: at(3),
        recorded_by: "marketing".to_owned(),
    }
}

/// Consent a write carries is stored with its records in one transaction
/// (issue 13.1): both are there after the write, neither after a failed one.
pub fn consents_carried_by_a_write<S: Store + crate::ConsentStore>(store: S) {
    let t = new_tenant(&store, "carried-consent");
    let s = subject_row(1);
    let records = [record(s.id, "user.contact.email")];
    let carried = [grant(s.id, "newsletter")];
    store
        .create_subject(&SubjectWrite {
            tenant: &t,
            subject: &s,
            records: &records,
            index: &[],
            consents: &carried,
            audit: &draft("write", Some(s.id), &["user.contact.email"]),
            idempotency: None,
        })
        .unwrap();
    assert_eq!(store.consent_events(&t, s.id).unwrap(), carried.to_vec());

    // A write whose records fail leaves no consent behind, and a consent naming
    // another subject is refused.
    let before = store.counts(&t).unwrap();
    let other = subject_row(1);
    for (records, consents) in [
        (
            vec![records[0].clone()],
            vec![grant(s.id, "partner_offers")],
        ),
        (
            vec![record(s.id, "user.name")],
            vec![grant(other.id, "partner_offers")],
        ),
    ] {
        let result = store.add_records(&SubjectWrite {
            tenant: &t,
            subject: &s,
            records: &records,
            index: &[],
            consents: &consents,
            audit: &draft("write", Some(s.id), &["user.name"]),
            idempotency: None,
        });
        assert!(result.is_err(), "bad write accepted");
        assert_eq!(store.counts(&t).unwrap(), before);
        assert_eq!(store.consent_events(&t, s.id).unwrap(), carried.to_vec());
    }
}

/// A create_subject with an idempotency key already used fails with Conflict
/// and leaves nothing behind.
pub fn rollback_on_reused_idempotency_key<S: Store>(store: S) {
    let t = new_tenant(&store, "rollback-idem");
    let first = subject_row(1);
    store
        .create_subject(&SubjectWrite {
            tenant: &t,
            subject: &first,
            records: &[record(first.id, "user.name")],
            index: &[],
            consents: &[],
            audit: &draft("write", Some(first.id), &["user.name"]),
            idempotency: Some(&idem("once")),
        })
        .unwrap();
    let before = store.counts(&t).unwrap();

    let s = subject_row(1);
    let idx = index("user.contact.email", 9);
    assert_conflict(
        store.create_subject(&SubjectWrite {
            tenant: &t,
            subject: &s,
            records: &[
                record(s.id, "user.name"),
                record(s.id, "user.contact.email"),
            ],
            index: std::slice::from_ref(&idx),
            consents: &[],
            audit: &draft("write", Some(s.id), &["user.name"]),
            idempotency: Some(&idem("once")),
        }),
        "reusing an idempotency key",
    );
    assert_nothing_left(&store, &t, &s, &idx, before);
}

/// The response stored with an idempotent create is returned as stored; the
/// key cannot be used twice in a tenant.
pub fn idempotency<S: Store>(store: S) {
    let t = new_tenant(&store, "idem");
    assert_eq!(store.idempotent_response(&t, "k1").unwrap(), None);
    let stored = IdempotentResponse {
        key: "k1".to_owned(),
        request_hash: [0xab; 32],
        status: 201,
        body: "{\"subject\":\"s\",\"records\":[1,2]}\n".to_owned(),
        created_at: at(6),
    };
    let s = subject_row(1);
    store
        .create_subject(&SubjectWrite {
            tenant: &t,
            subject: &s,
            records: &[],
            index: &[],
            consents: &[],
            audit: &draft("write", Some(s.id), &[]),
            idempotency: Some(&stored),
        })
        .unwrap();
    assert_eq!(
        store.idempotent_response(&t, "k1").unwrap(),
        Some(stored.clone())
    );
    assert_eq!(store.idempotent_response(&t, "k2").unwrap(), None);

    let again = subject_row(1);
    let mut replay = stored.clone();
    replay.request_hash = [0xcd; 32];
    assert_conflict(
        store.create_subject(&SubjectWrite {
            tenant: &t,
            subject: &again,
            records: &[],
            index: &[],
            consents: &[],
            audit: &draft("write", Some(again.id), &[]),
            idempotency: Some(&replay),
        }),
        "reusing an idempotency key",
    );
    assert_eq!(
        store.idempotent_response(&t, "k1").unwrap(),
        Some(stored),
        "first response kept"
    );
    assert_eq!(store.subject(&t, again.id).unwrap(), None);
}

/// `rewrap` is a compare-and-set on the wrapped key; `subjects_to_rewrap` lists
/// only subjects below the version and honours its limit.
pub fn rewrap_compare_and_set<S: Store>(store: S) {
    let t = new_tenant(&store, "rewrap");
    let old_subjects: Vec<Subject> = (0..3).map(|_| subject_row(1)).collect();
    for s in &old_subjects {
        create(&store, &t, s, &["user.name"], &[]);
    }
    let current = subject_row(2);
    create(&store, &t, &current, &["user.name"], &[]);
    let newer = subject_row(3);
    create(&store, &t, &newer, &[], &[]);

    let ids = |keys: &[WrappedKey]| keys.iter().map(|k| k.subject).collect::<BTreeSet<_>>();
    let due = store.subjects_to_rewrap(&t, 2, 100).unwrap();
    assert_eq!(ids(&due), old_subjects.iter().map(|s| s.id).collect());
    for k in &due {
        let s = old_subjects.iter().find(|s| s.id == k.subject).unwrap();
        assert_eq!(k.wrapped_dek, s.wrapped_dek);
        assert_eq!(k.kek_version, 1);
    }
    assert_eq!(
        store.subjects_to_rewrap(&t, 2, 2).unwrap().len(),
        2,
        "limit"
    );
    assert_eq!(
        store.subjects_to_rewrap(&t, 1, 100).unwrap(),
        vec![],
        "none below 1"
    );
    assert_eq!(store.subjects_to_rewrap(&t, 3, 100).unwrap().len(), 4);

    let old = due[0].clone();
    let new = WrappedKey {
        subject: old.subject,
        wrapped_dek: b"wrapped-under-kek-2".to_vec(),
        kek_version: 2,
    };
    assert!(store.rewrap(&t, &old, &new).unwrap(), "first rewrap");
    let racing = WrappedKey {
        subject: old.subject,
        wrapped_dek: b"wrapped-by-a-racing-rotation".to_vec(),
        kek_version: 2,
    };
    assert!(
        !store.rewrap(&t, &old, &racing).unwrap(),
        "rewrap from a stale value"
    );

    let s = store.subject(&t, old.subject).unwrap().unwrap();
    assert_eq!(s.wrapped_dek, new.wrapped_dek);
    assert_eq!(s.kek_version, 2);
    let due = store.subjects_to_rewrap(&t, 2, 100).unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|k| k.subject != old.subject));
    // The records are untouched.
    let (_, records) = store
        .read_subject(&t, old.subject, &[], &draft("read", Some(old.subject), &[]))
        .unwrap();
    assert_eq!(records.len(), 1);
}

/// Two threads write 200 times each into one store: every write succeeds and
/// the audit log is numbered 1..=400 without gap or duplicate and verifies.
pub fn concurrent_writes<S: Store>(store: S) {
    const PER_THREAD: usize = 200;
    let t = new_tenant(&store, "concurrent");
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|worker| {
                let (store, t) = (&store, &t);
                scope.spawn(move || {
                    let mut seqs = Vec::with_capacity(PER_THREAD);
                    for i in 0..PER_THREAD {
                        let r = if i % 2 == worker {
                            let s = subject_row(1);
                            create(store, t, &s, &["user.name"], &[index("user.name", 1)]).1
                        } else {
                            store.append_audit(t, &draft("read", None, &[])).unwrap()
                        };
                        seqs.push(r.seq);
                    }
                    seqs
                })
            })
            .collect();
        let mut seqs: Vec<u64> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        seqs.sort_unstable();
        let expected: Vec<u64> = (1..=2 * PER_THREAD as u64).collect();
        assert_eq!(seqs, expected, "audit seqs have a gap or a duplicate");
    });
    let stored: Vec<u64> = all_entries(&store, &t).iter().map(|e| e.seq).collect();
    assert_eq!(stored, (1..=2 * PER_THREAD as u64).collect::<Vec<_>>());
    assert_eq!(verify_audit_chain(&store, &t), 2 * PER_THREAD as u64);
    let counts = store.counts(&t).unwrap();
    assert_eq!(counts.subjects, PER_THREAD as u64);
    assert_eq!(counts.records, PER_THREAD as u64);
    assert_eq!(
        store
            .find_subjects(&t, "user.name", &[1; 32])
            .unwrap()
            .len(),
        PER_THREAD
    );
}

/// Counts reflect a tenant's subjects, records, keys and audit entries.
pub fn counts<S: Store>(store: S) {
    let t = new_tenant(&store, "counts");
    assert_eq!(store.counts(&t).unwrap(), Counts::default());
    let s1 = subject_row(1);
    create(&store, &t, &s1, &["a", "b", "c"], &[]);
    let s2 = subject_row(1);
    create(&store, &t, &s2, &["a"], &[index("a", 1)]);
    store
        .add_records(&SubjectWrite {
            tenant: &t,
            subject: &s2,
            records: &[record(s2.id, "b"), record(s2.id, "b")],
            index: &[],
            consents: &[],
            audit: &draft("write", Some(s2.id), &["b"]),
            idempotency: None,
        })
        .unwrap();
    store
        .insert_api_key(&api_key(&t, "x"), &draft("create_key", None, &[]))
        .unwrap();
    store
        .read_subject(&t, s1.id, &[], &draft("read", Some(s1.id), &[]))
        .unwrap();
    store.append_audit(&t, &draft("deny", None, &[])).unwrap();
    assert_eq!(
        store.counts(&t).unwrap(),
        Counts {
            subjects: 2,
            records: 6,
            api_keys: 1,
            audit_entries: 6,
        }
    );
}

/// Every timestamp comes back exactly, to the microsecond, including before 1970.
pub fn timestamps_round_trip_microseconds<S: Store>(store: S) {
    let t = new_tenant(&store, "time");
    let us = |v: i64| Timestamp::from_microsecond(v).unwrap();
    let odd = us(1_234_567_890_123_457);
    let pre_epoch = us(-86_400_000_001);

    let tenant = TenantId::new(&format!("time2-{}", Uuid::new_v4().simple())).unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "t".to_owned(),
            created_at: odd,
        })
        .unwrap();
    assert_eq!(store.tenant(&tenant).unwrap().unwrap().created_at, odd);

    let v = PolicyVersion {
        number: 1,
        label: "1".to_owned(),
        text: String::new(),
        effective_at: us(1_700_000_000_000_001),
        published_at: us(1_700_000_000_999_999),
    };
    store.publish_policy(&t, &v).unwrap();
    assert_eq!(store.policy_versions(&t).unwrap(), vec![v.clone()]);
    assert_eq!(
        store
            .policy_in_force(&t, us(1_700_000_000_000_000))
            .unwrap(),
        None
    );
    assert_eq!(store.policy_in_force(&t, v.effective_at).unwrap(), Some(v));

    let mut s = subject_row(1);
    s.created_at = us(1_600_000_000_000_001);
    s.updated_at = us(1_600_000_000_000_002);
    s.jurisdiction = None;
    let mut r = record(s.id, "user.birth_date");
    r.collected_at = pre_epoch;
    r.expires_at = None;
    let mut r2 = record(s.id, "user.name");
    r2.expires_at = Some(us(4_102_444_800_000_001));
    let mut d = draft("write", Some(s.id), &[]);
    d.at = odd;
    let mut response = idem("time");
    response.created_at = us(1_600_000_000_000_003);
    store
        .create_subject(&SubjectWrite {
            tenant: &t,
            subject: &s,
            records: &[r.clone(), r2.clone()],
            index: &[],
            consents: &[],
            audit: &d,
            idempotency: Some(&response),
        })
        .unwrap();
    assert_eq!(store.subject(&t, s.id).unwrap(), Some(s.clone()));
    let (_, records) = store
        .read_subject(&t, s.id, &[], &draft("read", None, &[]))
        .unwrap();
    assert_eq!(sorted(records), sorted(vec![r, r2]));
    assert_eq!(
        store.idempotent_response(&t, "time").unwrap(),
        Some(response)
    );
    assert_eq!(store.audit_entries(&t, 1, 1).unwrap()[0].draft.at, odd);

    let mut key = api_key(&t, "time");
    key.created_at = us(1_600_000_000_000_004);
    store
        .insert_api_key(&key, &draft("create_key", None, &[]))
        .unwrap();
    store
        .revoke_api_key(
            &t,
            &key.id,
            us(1_600_000_000_000_005),
            &draft("revoke_key", None, &[]),
        )
        .unwrap();
    let got = store.api_key(&key.id).unwrap().unwrap();
    assert_eq!(got.created_at, key.created_at);
    assert_eq!(got.revoked_at, Some(us(1_600_000_000_000_005)));
    assert_eq!(verify_audit_chain(&store, &t), 4);
}
