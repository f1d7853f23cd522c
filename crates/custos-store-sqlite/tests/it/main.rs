//! Integration tests of the SQLite backend: the whole conformance suite, then
//! what only SQLite has (files, WAL, migrations).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod contracts;
mod leases;
mod lifecycle;
mod merkle;
mod policy_notices;
mod retention;
mod shredding;

use custos_store::{
    AuditDraft, Outcome, Store, StoreError, Subject, SubjectId, SubjectState, SubjectWrite, Tenant,
    TenantId, Timestamp, Uuid,
};
use custos_store_sqlite::{SqliteOptions, SqliteStore};

custos_store::conformance_tests!(SqliteStore::open_temporary().unwrap());

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

fn fill(store: &SqliteStore, tenant: &TenantId) -> SubjectId {
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

#[test]
fn reopening_keeps_data_and_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.db");
    let tenant = TenantId::new("reopen").unwrap();
    let subject = {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        fill(&store, &tenant)
    };
    for _ in 0..2 {
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        assert_eq!(store.tenant(&tenant).unwrap().unwrap().name, "Reopened");
        assert!(store.subject(&tenant, subject).unwrap().is_some());
        // The chain continues where it stopped.
        assert_eq!(
            store.append_audit(&tenant, &draft("read")).unwrap().seq,
            store.counts(&tenant).unwrap().audit_entries
        );
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let applied: i64 = conn
        .query_row("SELECT COUNT(*) FROM refinery_schema_history", [], |r| {
            r.get(0)
        })
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count();
    assert_eq!(
        applied,
        i64::try_from(files).unwrap(),
        "each migration applied once"
    );
    assert_eq!(
        custos_store_sqlite_audit_count(&conn, &tenant),
        3,
        "one write and two reads"
    );
}

fn custos_store_sqlite_audit_count(conn: &rusqlite::Connection, tenant: &TenantId) -> i64 {
    conn.query_row(
        "SELECT COUNT(*) FROM audit_log WHERE tenant = ?1",
        [tenant.as_str()],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn wal_and_pragmas_are_on() {
    let store = SqliteStore::open_temporary().unwrap();
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    assert!(store.path().with_extension("db-wal").exists());
}

#[test]
fn durable_commits_open_and_work() {
    let options = SqliteOptions {
        durable_commits: true,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_temporary_with(options).unwrap();
    let tenant = TenantId::new("durable").unwrap();
    fill(&store, &tenant);
    assert_eq!(store.counts(&tenant).unwrap().subjects, 1);
}

#[cfg(unix)]
#[test]
fn a_new_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.db");
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    fill(&store, &TenantId::new("private").unwrap());
    for file in [
        path.clone(),
        path.with_extension("db-wal"),
        path.with_extension("db-shm"),
    ] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{} is readable by others: {mode:o}",
            file.display()
        );
    }
}

#[test]
fn the_audit_log_refuses_updates_and_deletes() {
    let store = SqliteStore::open_temporary().unwrap();
    let tenant = TenantId::new("append-only").unwrap();
    fill(&store, &tenant);
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    assert!(
        conn.execute("UPDATE audit_log SET reason = 'x'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM audit_log", []).is_err());
    assert_eq!(custos_store_sqlite_audit_count(&conn, &tenant), 1);
}

#[test]
fn a_corrupt_row_reads_as_corrupt_without_its_value() {
    let store = SqliteStore::open_temporary().unwrap();
    let tenant = TenantId::new("corrupt").unwrap();
    fill(&store, &tenant);
    let key = custos_store::ApiKey {
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
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute(
        "UPDATE api_keys SET purposes = 'secret-value' WHERE tenant = ?1",
        [tenant.as_str()],
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
    let store = SqliteStore::open_temporary().unwrap();
    let missing = TenantId::new("missing").unwrap();
    match store.append_audit(&missing, &draft("read")) {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn the_temporary_directory_is_removed_on_drop() {
    let store = SqliteStore::open_temporary().unwrap();
    let dir = store.path().parent().unwrap().to_path_buf();
    assert!(dir.exists());
    drop(store);
    assert!(!dir.exists());
}
