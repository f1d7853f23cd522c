//! Erasure shreds on SQLite: after it, neither the database file, nor its WAL,
//! nor the WAL index holds the erased subject's wrapped data key or values, and
//! a copy of the WAL taken right after the erasure's commit, rewound to before
//! it, gives the key back to nobody.

use std::path::Path;

use custos_store::{
    BlindIndexEntry, Erasure, LifecycleStore, Record, RecordId, Store, Subject, SubjectId,
    SubjectState, SubjectWrite, Tenant, TenantId, Uuid,
};
use custos_store_sqlite::{SqliteOptions, SqliteStore};

use super::{at, draft};

/// Bytes no page could hold by chance.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        out.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    out.truncate(len);
    out
}

struct Planted {
    subject: SubjectId,
    wrapped_dek: Vec<u8>,
    records: Vec<Record>,
    hash: [u8; 32],
}

fn plant(store: &SqliteStore, tenant: &TenantId) -> Planted {
    let subject = Subject {
        id: SubjectId(Uuid::new_v4()),
        wrapped_dek: random_bytes(60),
        kek_version: 1,
        jurisdiction: None,
        state: SubjectState::Active,
        created_at: at(0),
        updated_at: at(0),
    };
    let records: Vec<Record> = ["email", "phone", "address"]
        .iter()
        .map(|category| Record {
            id: RecordId(Uuid::new_v4()),
            subject: subject.id,
            category: (*category).to_owned(),
            ciphertext: random_bytes(120),
            purpose: "service".to_owned(),
            source: "data_subject".to_owned(),
            collected_at: at(0),
            expires_at: None,
        })
        .collect();
    let hash: [u8; 32] = random_bytes(32).try_into().unwrap();
    store
        .create_subject(&SubjectWrite {
            tenant,
            subject: &subject,
            records: &records,
            index: &[BlindIndexEntry {
                category: "email".to_owned(),
                hash,
            }],
            consents: &[],
            audit: &draft("write"),
            idempotency: None,
        })
        .unwrap();
    Planted {
        subject: subject.id,
        wrapped_dek: subject.wrapped_dek,
        records,
        hash,
    }
}

fn setup(path: &Path) -> (SqliteStore, TenantId, Planted, Planted) {
    let store = SqliteStore::open(path, SqliteOptions::default()).unwrap();
    let tenant = TenantId::new("shred").unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Shred".to_owned(),
            created_at: at(0),
        })
        .unwrap();
    let erased = plant(&store, &tenant);
    let kept = plant(&store, &tenant);
    // Later writes on the same pages, as a running service makes.
    store
        .set_subject_state(
            &tenant,
            erased.subject,
            SubjectState::Restricted,
            at(2),
            &draft("restrict"),
        )
        .unwrap();
    (store, tenant, erased, kept)
}

fn erase(store: &SqliteStore, tenant: &TenantId, p: &Planted) {
    let ids: Vec<RecordId> = p.records.iter().map(|r| r.id).collect();
    store
        .erase_subject(&Erasure {
            tenant,
            subject: p.subject,
            expected_records: &ids,
            held: &[],
            at: at(3),
            audit: &draft("erase"),
        })
        .unwrap();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every secret of `p`, named for the failure message.
fn secrets(p: &Planted) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("wrapped data key".to_owned(), p.wrapped_dek.clone()),
        ("blind index hash".to_owned(), p.hash.to_vec()),
    ];
    for r in &p.records {
        out.push((format!("{} ciphertext", r.category), r.ciphertext.clone()));
    }
    out
}

fn assert_absent(bytes: &[u8], file: &str, p: &Planted) {
    for (what, secret) in secrets(p) {
        assert!(!contains(bytes, &secret), "{file} still holds the {what}");
    }
}

fn read_or_empty(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

#[test]
fn after_an_erasure_no_file_holds_the_wrapped_key_or_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.db");
    let (store, tenant, erased, kept) = setup(&path);
    // Before: the secrets are there (the scan can find them).
    let all: Vec<u8> = ["db", "db-wal"]
        .iter()
        .flat_map(|ext| read_or_empty(&path.with_extension(ext)))
        .collect();
    assert!(contains(&all, &erased.wrapped_dek));

    erase(&store, &tenant, &erased);
    for ext in ["db", "db-wal", "db-shm"] {
        let file = path.with_extension(ext);
        assert_absent(&read_or_empty(&file), ext, &erased);
    }
    // The other subject is untouched.
    let neighbour = store.subject(&tenant, kept.subject).unwrap().unwrap();
    assert_eq!(neighbour.wrapped_dek, kept.wrapped_dek);
    let (_, records) = store
        .read_subject(&tenant, kept.subject, &["email".to_owned()], &draft("read"))
        .unwrap();
    assert_eq!(records.len(), 1);
}

const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The WAL cut back to its last commit before the last transaction in it
/// (only its header if it holds a single transaction).
fn rewind_last_commit(wal: &[u8]) -> Vec<u8> {
    assert!(wal.len() >= WAL_HEADER, "the WAL is empty");
    let page_size = be32(wal, 8) as usize;
    let frame = FRAME_HEADER + page_size;
    let salts = &wal[16..24];
    let mut commits = vec![WAL_HEADER];
    let mut offset = WAL_HEADER;
    while offset + frame <= wal.len() && &wal[offset + 8..offset + 16] == salts {
        if be32(wal, offset + 4) != 0 {
            commits.push(offset + frame);
        }
        offset += frame;
    }
    assert!(commits.len() >= 2, "the WAL holds no commit");
    wal[..commits[commits.len() - 2]].to_vec()
}

#[test]
fn a_wal_copied_right_after_the_erasure_and_rewound_gives_no_key_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.db");
    let (store, tenant, erased, _kept) = setup(&path);
    // The worst moment to copy the WAL: the erasure committed, the WAL is not
    // truncated yet (a crash right there leaves the files so).
    store.simulate_crash_before_final_truncate(true);
    erase(&store, &tenant, &erased);
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap();
    assert_absent(&wal, "the WAL copied after the commit", &erased);
    let rewound = rewind_last_commit(&wal);
    drop(store);

    // Reopening finishes the interrupted truncation.
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(read_or_empty(&path.with_extension("db-wal")).len(), 0);
    drop(store);

    // The attacker's database: today's file with the old WAL rewound to the
    // last commit before the erasure.
    let attack = tempfile::tempdir().unwrap();
    let attack_db = attack.path().join("custos.db");
    std::fs::copy(&path, &attack_db).unwrap();
    std::fs::write(attack_db.with_extension("db-wal"), &rewound).unwrap();
    let conn = rusqlite::Connection::open(&attack_db).unwrap();
    let key: Vec<u8> = conn
        .query_row(
            "SELECT wrapped_dek FROM subjects WHERE tenant = ?1 AND id = ?2",
            [tenant.as_str(), &erased.subject.0.hyphenated().to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(key, erased.wrapped_dek, "the rewound WAL gave the key back");
    let records: i64 = conn
        .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(records, 3, "only the other subject's records are left");
    drop(conn);
    for ext in ["db", "db-wal", "db-shm"] {
        assert_absent(&read_or_empty(&attack_db.with_extension(ext)), ext, &erased);
    }
}
