//! Integration tests of the PostgreSQL backend: the whole conformance suite,
//! then what only this backend has (several stores on one database,
//! migrations, connection errors).
//!
//! They need a server: set `CUSTOS_TEST_DATABASE_URL` to a `postgres://` URL
//! whose user may create databases (`.ci/run` does). Each test gets its own
//! database, dropped at its end, so tests run in parallel. Without the variable
//! every test that needs a server passes after printing a `skipped:` line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod archive;
mod contracts;
mod leases;
mod lifecycle;
mod merkle;
mod policy_notices;
mod retention;
mod shredding;
mod tls;

use std::io::Write;
use std::sync::Once;

use custos_store::{
    ApiKey, AuditDraft, ConsentEvent, ConsentKind, ConsentStore, Outcome, Store, StoreError,
    Subject, SubjectId, SubjectState, SubjectWrite, Tenant, TenantId, Timestamp, Uuid,
};
use custos_store_postgres::{PostgresOptions, PostgresStore, TempDatabase};

/// The administrative URL, or `None` (saying so once) when tests should skip.
fn admin_url() -> Option<String> {
    static SAID: Once = Once::new();
    match std::env::var("CUSTOS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            SAID.call_once(|| {
                // Straight to stderr: the test harness would swallow eprintln!.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: CUSTOS_TEST_DATABASE_URL not set (PostgreSQL tests pass without running)"
                );
            });
            None
        }
    }
}

/// A store on a new database of its own, or `None` without a server.
fn fresh() -> Option<PostgresStore> {
    let url = admin_url()?;
    Some(PostgresStore::connect_temporary(&url, PostgresOptions::default()).unwrap())
}

custos_store::conformance_tests!(match fresh() {
    Some(store) => store,
    None => return,
});

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn draft(action: &str) -> AuditDraft {
    AuditDraft {
        at: at(1),
        actor: "operator".to_owned(),
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

fn fill(store: &PostgresStore, tenant: &TenantId) -> SubjectId {
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Reopened".to_owned(),
            created_at: at(0),
        })
        .unwrap();
    let subject = Subject {
        id: SubjectId(Uuid::new_v4()),
        wrapped_dek: vec![1, 2, 3],
        kek_version: 1,
        jurisdiction: None,
        state: SubjectState::Active,
        created_at: at(0),
        updated_at: at(0),
    };
    store
        .create_subject(&SubjectWrite {
            tenant,
            subject: &subject,
            records: &[],
            index: &[],
            consents: &[],
            audit: &draft("write"),
            idempotency: None,
        })
        .unwrap();
    subject.id
}

fn psql(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

#[test]
fn migrate_applies_each_migration_once_and_reconnecting_keeps_data() {
    let Some(admin) = admin_url() else { return };
    let db = TempDatabase::create(&admin).unwrap();
    let applied = PostgresStore::migrate(db.url(), PostgresOptions::default()).unwrap();
    // Every file of migrations/, in version order.
    let mut expected: Vec<(u32, String)> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                let name = name.trim_end_matches(".sql").to_owned();
                let version = name[1..name.find("__").unwrap()].parse().unwrap();
                (version, name)
            })
            .collect();
    expected.sort();
    assert_eq!(
        applied,
        expected.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
    );
    assert_eq!(
        PostgresStore::migrate(db.url(), PostgresOptions::default()).unwrap(),
        Vec::<String>::new(),
        "nothing left to apply"
    );
    let tenant = TenantId::new("reopen").unwrap();
    let subject = {
        let store = PostgresStore::connect(db.url(), PostgresOptions::default()).unwrap();
        fill(&store, &tenant)
    };
    for _ in 0..2 {
        let store = PostgresStore::connect(db.url(), PostgresOptions::default()).unwrap();
        assert_eq!(store.tenant(&tenant).unwrap().unwrap().name, "Reopened");
        assert!(store.subject(&tenant, subject).unwrap().is_some());
        assert_eq!(
            store.append_audit(&tenant, &draft("read")).unwrap().seq,
            store.counts(&tenant).unwrap().audit_entries
        );
    }
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count();
    let applied: i64 = psql(db.url())
        .query_one("SELECT COUNT(*) FROM refinery_schema_history", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, i64::try_from(files).unwrap());
}

/// Two stores on one database — two custos instances — writing to one tenant
/// at once: every seq taken once and the chain verifies.
#[test]
fn two_instances_share_one_audit_chain() {
    const PER_STORE: u64 = 100;
    let Some(admin) = admin_url() else { return };
    let db = TempDatabase::create(&admin).unwrap();
    let stores: Vec<PostgresStore> = (0..2)
        .map(|_| PostgresStore::connect(db.url(), PostgresOptions::default()).unwrap())
        .collect();
    let tenant = TenantId::new("shared").unwrap();
    fill(&stores[0], &tenant);
    let mut seqs: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = stores
            .iter()
            .map(|store| {
                let tenant = &tenant;
                scope.spawn(move || {
                    (0..PER_STORE)
                        .map(|_| store.append_audit(tenant, &draft("read")).unwrap().seq)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=2 * PER_STORE + 1).collect::<Vec<_>>());
    for store in &stores {
        assert_eq!(
            custos_store::conformance::verify_audit_chain(store, &tenant),
            2 * PER_STORE + 1
        );
    }
}

/// A store on a new database, and that database for direct access (the store
/// is dropped first, then the database).
fn fresh_with_db() -> Option<(PostgresStore, TempDatabase)> {
    let db = TempDatabase::create(&admin_url()?).unwrap();
    let store = PostgresStore::connect(db.url(), PostgresOptions::default()).unwrap();
    Some((store, db))
}

#[test]
fn the_audit_log_refuses_updates_deletes_and_truncation() {
    let Some((store, db)) = fresh_with_db() else {
        return;
    };
    let tenant = TenantId::new("append-only").unwrap();
    fill(&store, &tenant);
    let mut direct = psql(db.url());
    assert!(
        direct
            .execute("UPDATE audit_log SET reason = 'x'", &[])
            .is_err()
    );
    assert!(direct.execute("DELETE FROM audit_log", &[]).is_err());
    assert!(direct.batch_execute("TRUNCATE audit_log CASCADE").is_err());
    assert_eq!(store.counts(&tenant).unwrap().audit_entries, 1);
    assert_eq!(
        custos_store::conformance::verify_audit_chain(&store, &tenant),
        1
    );
}

#[test]
fn a_corrupt_row_reads_as_corrupt_without_its_value() {
    let Some((store, db)) = fresh_with_db() else {
        return;
    };
    let tenant = TenantId::new("corrupt").unwrap();
    fill(&store, &tenant);
    let key = ApiKey {
        id: "ck_corrupt".to_owned(),
        tenant: tenant.clone(),
        hash: [0; 32],
        label: "k".to_owned(),
        role: "r".to_owned(),
        purposes: vec![],
        admin: false,
        created_at: at(0),
        revoked_at: None,
    };
    store.insert_api_key(&key, &draft("create_key")).unwrap();
    psql(db.url())
        .execute(
            "UPDATE api_keys SET purposes = ARRAY['secret-value', NULL] WHERE tenant = $1",
            &[&tenant.as_str()],
        )
        .unwrap();
    match store.api_key("ck_corrupt") {
        Err(StoreError::Corrupt(message)) => {
            assert!(!message.contains("secret"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn writes_for_a_missing_tenant_are_not_found() {
    let Some(store) = fresh() else { return };
    let missing = TenantId::new("missing").unwrap();
    match store.append_audit(&missing, &draft("read")) {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn a_conflict_names_the_constraint_not_the_value() {
    let Some(store) = fresh() else { return };
    let tenant = TenantId::new("secret-tenant-name").unwrap();
    fill(&store, &tenant);
    let dup = Tenant {
        id: tenant.clone(),
        name: "x".to_owned(),
        created_at: at(0),
    };
    match store.create_tenant(&dup) {
        Err(StoreError::Conflict(message)) => {
            assert!(!message.contains("secret"), "{message}");
            assert!(message.contains("tenants_pkey"), "{message}");
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
}

/// Runs without a server: nothing listens on port 1.
#[test]
fn an_unreachable_server_is_unavailable() {
    let options = PostgresOptions {
        connect_timeout: std::time::Duration::from_secs(2),
        ..PostgresOptions::default()
    };
    match PostgresStore::connect("postgres://custos@127.0.0.1:1/custos", options) {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("cannot reach"), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    match PostgresStore::connect("postgres://user:hunter2@[::1", PostgresOptions::default()) {
        Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
        Ok(_) => panic!("a malformed URL connected"),
    }
}

fn consent(subject: SubjectId, kind: ConsentKind, secs: i64) -> ConsentEvent {
    ConsentEvent {
        id: Uuid::new_v4(),
        subject,
        purpose: "newsletter".to_owned(),
        kind,
        policy_version: 1,
        notice_hash: [3; 32],
        channel: "web".to_owned(),
        ip_hash: Some([4; 32]),
        user_agent: None,
        at: at(secs),
        recorded_by: "admin".to_owned(),
    }
}

/// The consent ledger: events in order, the latest of given kinds, audited,
/// and scoped by tenant.
#[test]
fn consent_ledger_appends_and_finds_the_latest_event() {
    let Some(store) = fresh() else { return };
    let tenant = TenantId::new("consent").unwrap();
    let subject = fill(&store, &tenant);
    let granted = consent(subject, ConsentKind::Granted, 10);
    let withdrawn = consent(subject, ConsentKind::Withdrawn, 20);
    let regranted = consent(subject, ConsentKind::Granted, 20);
    for e in [&granted, &withdrawn, &regranted] {
        store.append_consent(&tenant, e, &draft("consent")).unwrap();
    }
    assert_eq!(
        store.consent_events(&tenant, subject).unwrap(),
        vec![granted.clone(), withdrawn.clone(), regranted.clone()]
    );
    let both = [ConsentKind::Granted, ConsentKind::Withdrawn];
    assert_eq!(
        store
            .latest_consent(&tenant, subject, "newsletter", &both)
            .unwrap(),
        Some(regranted),
        "same time: the later one"
    );
    assert_eq!(
        store
            .latest_consent(&tenant, subject, "newsletter", &[ConsentKind::Withdrawn])
            .unwrap(),
        Some(withdrawn)
    );
    assert_eq!(
        store
            .latest_consent(&tenant, subject, "other", &both)
            .unwrap(),
        None
    );
    assert_eq!(store.counts(&tenant).unwrap().audit_entries, 4);
    assert_eq!(
        custos_store::conformance::verify_audit_chain(&store, &tenant),
        4
    );

    let other = TenantId::new("consent-other").unwrap();
    fill(&store, &other);
    assert_eq!(store.consent_events(&other, subject).unwrap(), vec![]);
    match store.append_consent(
        &other,
        &consent(subject, ConsentKind::Granted, 30),
        &draft("consent"),
    ) {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(store.counts(&other).unwrap().audit_entries, 1);
}
