//! Erasure shreds on PostgreSQL as far as the table files go: the dead row
//! versions that held the wrapped data key and the values are vacuumed away.
//! (PostgreSQL's WAL, replicas and backups: `docs/security.md`.)

use custos_store::{
    BlindIndexEntry, Erasure, LifecycleStore, Record, RecordId, Store, Subject, SubjectId,
    SubjectState, SubjectWrite, Tenant, TenantId, Uuid,
};

use super::{at, draft, fresh_with_db, psql};

fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        out.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    out.truncate(len);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every tuple (live or dead) still in `table`'s pages, as raw bytes.
fn tuples(client: &mut postgres::Client, table: &str) -> Vec<Vec<u8>> {
    let blocks: i64 = client
        .query_one(
            "SELECT pg_relation_size($1::text::regclass) / current_setting('block_size')::bigint",
            &[&table],
        )
        .unwrap()
        .get(0);
    let mut out = Vec::new();
    for block in 0..blocks {
        for row in client
            .query(
                &format!(
                    "SELECT t_data FROM heap_page_items(get_raw_page('{table}', {block})) \
                     WHERE t_data IS NOT NULL"
                ),
                &[],
            )
            .unwrap()
        {
            out.push(row.get::<_, Vec<u8>>(0));
        }
    }
    out
}

#[test]
fn after_an_erasure_no_row_version_holds_the_wrapped_key_or_the_values() {
    let Some((store, db)) = fresh_with_db() else {
        return;
    };
    let tenant = TenantId::new("shred").unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Shred".to_owned(),
            created_at: at(0),
        })
        .unwrap();
    let subject = Subject {
        id: SubjectId(Uuid::new_v4()),
        wrapped_dek: random_bytes(60),
        kek_version: 1,
        jurisdiction: None,
        state: SubjectState::Active,
        created_at: at(0),
        updated_at: at(0),
    };
    let record = Record {
        id: RecordId(Uuid::new_v4()),
        subject: subject.id,
        category: "email".to_owned(),
        ciphertext: random_bytes(120),
        purpose: "service".to_owned(),
        source: "data_subject".to_owned(),
        collected_at: at(0),
        expires_at: None,
    };
    store
        .create_subject(&SubjectWrite {
            tenant: &tenant,
            subject: &subject,
            records: std::slice::from_ref(&record),
            index: &[BlindIndexEntry {
                category: "email".to_owned(),
                hash: [7; 32],
            }],
            consents: &[],
            audit: &draft("write"),
            idempotency: None,
        })
        .unwrap();
    let mut direct = psql(db.url());
    direct
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        .unwrap();
    assert!(
        tuples(&mut direct, "subjects")
            .iter()
            .any(|t| contains(t, &subject.wrapped_dek)),
        "the scan finds the key before the erasure"
    );

    store
        .erase_subject(&Erasure {
            tenant: &tenant,
            subject: subject.id,
            expected_records: &[record.id],
            held: &[],
            at: at(3),
            audit: &draft("erase"),
        })
        .unwrap();
    for t in tuples(&mut direct, "subjects") {
        assert!(
            !contains(&t, &subject.wrapped_dek),
            "a row version holds the key"
        );
    }
    for t in tuples(&mut direct, "records") {
        assert!(
            !contains(&t, &record.ciphertext),
            "a row version holds the value"
        );
    }
    for t in tuples(&mut direct, "blind_index") {
        assert!(!contains(&t, &[7; 32]), "a row version holds the hash");
    }
    drop(direct);
    drop(store);
}
