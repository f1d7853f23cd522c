//! Several `custos serve` instances on one PostgreSQL, and moving a tenant
//! between backends with `custos export` / `custos import`. Both need
//! `CUSTOS_TEST_DATABASE_URL`; without it they pass after printing `skipped:`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{
    Server, custos, log_path, postgres_url, start_server_with, tempdir, text, write_customer,
};

/// The notice files under `dir` (one per delivered message).
fn notices(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

/// How many delivery passes logged a delivery, in a server's log.
fn deliveries_logged(data_dir: &Path) -> usize {
    std::fs::read_to_string(log_path(data_dir))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("notices delivered"))
        .count()
}

/// Two instances, one database, one key file, one outbox directory, a data
/// directory each: what one writes the other reads, keys issued on one work on
/// the other, the audit chain stays whole, and a notice is delivered once.
#[test]
// Waits, bounded, for the children's 5-second delivery job: real time on purpose.
#[allow(clippy::disallowed_methods)]
fn two_instances_share_one_postgres_database() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let db = custos_store_postgres::TempDatabase::create(&admin_url).unwrap();
    let url = db.url();
    let root = tempdir();
    let keys = root.join("keys.json");
    let outbox = root.join("outbox");
    let (data_a, data_b) = (root.join("a"), root.join("b"));
    let shared = [
        "--key-file",
        keys.to_str().unwrap(),
        "--outbox-dir",
        outbox.to_str().unwrap(),
    ];
    // A creates the key file and the first admin key; B starts on both.
    let mut a = start_server_with(&data_a, url, &shared);
    let admin = a.admin_key();
    let b = start_server_with(&data_b, url, &shared);
    assert!(!data_a.join("keys.json").exists() && !data_b.join("keys.json").exists());

    // Written through A, read through B with a key issued on A.
    let subject = write_customer(&a, &admin);
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "technical_services",
        "--data-dir",
        data_a.to_str().unwrap(),
        "--key-file",
        keys.to_str().unwrap(),
        "--database-url",
        url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reader = text(&out.stdout).lines().next().unwrap().to_owned();
    let read = format!("/v1/subjects/{subject}?purpose=account");
    let (status, body) = b.call("GET", &read, Some(&reader), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Camille Martin"), "{body}");
    let (status, body) = a.call("GET", &read, Some(&reader), None);
    assert_eq!(status, 200, "{body}");

    // A request opened on A: its acknowledgement is delivered once, though both
    // instances run the delivery job every 5 s.
    let (status, reply) = a.call(
        "POST",
        "/v1/requests",
        Some(&admin),
        Some(r#"{"right":"access","channel":"email"}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let dir = outbox.join("default");
    let started = Instant::now();
    while notices(&dir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no notice delivered"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let each instance run at least two more passes.
    std::thread::sleep(Duration::from_secs(11));
    assert_eq!(notices(&dir).len(), 1);
    drop(a);
    drop(b);
    assert_eq!(
        deliveries_logged(&data_a) + deliveries_logged(&data_b),
        1,
        "one pass delivered the notice, by one instance"
    );
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let row = client
        .query_one(
            "SELECT COUNT(*), MIN(attempts) FROM outbox WHERE delivered_at IS NOT NULL",
            &[],
        )
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (1, 1));

    // `custos audit` has no --key-file (yet): it finds the shared file in the data directory.
    std::fs::copy(&keys, data_b.join("keys.json")).unwrap();
    let out = custos(&[
        "audit",
        "verify",
        "--data-dir",
        data_b.to_str().unwrap(),
        "--database-url",
        url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("default: ok"),
        "{}",
        text(&out.stdout)
    );
}

fn export(data_dir: &Path, database_url: &str, output: &Path) {
    let out = custos(&[
        "export",
        "--tenant",
        "default",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--database-url",
        database_url,
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `custos audit verify` passes on `database_url` (tree, chain and checkpoints).
fn audit_verify(data_dir: &Path, database_url: &str) {
    let out = custos(&[
        "audit",
        "verify",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--database-url",
        database_url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("default: ok"),
        "{}",
        text(&out.stdout)
    );
}

fn import(data_dir: &Path, database_url: &str, input: &Path) -> std::process::Output {
    custos(&[
        "import",
        "--input",
        input.to_str().unwrap(),
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--database-url",
        database_url,
    ])
}

fn sqlite_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("custos.db")
}

/// A legal hold on `subject`, two aggregate groups and a membership contract,
/// written straight into the default tenant of the SQLite file at `db`.
fn place_retention_rows(db: &Path, subject: &str) {
    use custos_store::{
        AggregateRow, AuditDraft, LegalHold, Outcome, RetentionStore, StatsStore, SubjectId,
        TenantId, Timestamp, Uuid,
    };
    let store = custos_store_sqlite::SqliteStore::open(db, Default::default()).unwrap();
    let tenant = TenantId::new("default").unwrap();
    let at = Timestamp::from_second(1_780_000_000).unwrap();
    let draft = |action: &str| AuditDraft {
        at,
        actor: "operator".into(),
        key_id: None,
        action: action.into(),
        purpose: None,
        subject: None,
        categories: Vec::new(),
        outcome: Outcome::Allow,
        reason: "test".into(),
        request_id: None,
    };
    let subject = SubjectId(Uuid::try_parse(subject).unwrap());
    store
        .place_legal_hold(
            &tenant,
            &LegalHold {
                id: Uuid::new_v4(),
                subject,
                record: None,
                reason: "litigation pending".into(),
                placed_at: at,
                until: Some(Timestamp::from_second(1_790_000_000).unwrap()),
            },
            &AuditDraft {
                subject: Some(subject),
                ..draft("legal_hold.place")
            },
        )
        .unwrap();
    let group = |category: &str, bucket: &str, count: u64| AggregateRow {
        purpose: "account".into(),
        category: category.into(),
        bucket: bucket.into(),
        count,
    };
    store
        .add_to_aggregates(
            &tenant,
            &[
                group("user.name", "", 6),
                group("user.contact.email", "", 2),
            ],
            &draft("aggregate"),
        )
        .unwrap();
    use custos_store::ContractStore;
    store
        .create_contract(
            &tenant,
            &custos_store::ContractRow {
                id: Uuid::new_v4(),
                subject,
                kind: custos_store::ContractKind::Membership,
                status: "active".into(),
                state: r#"{"kind":"membership"}"#.into(),
                next_due: Some(Timestamp::from_second(1_785_000_000).unwrap()),
                version: 3,
                created_at: at,
                updated_at: at,
            },
            &[],
            &AuditDraft {
                subject: Some(subject),
                ..draft("contract.created")
            },
        )
        .unwrap();
}

/// SQLite → PostgreSQL → SQLite: the archives are byte for byte the same, the
/// data reads back through the vault, and a second import is refused.
#[test]
fn a_tenant_moves_sqlite_to_postgres_to_sqlite_unchanged() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let root = tempdir();
    let source = root.join("source");
    let mut server = Server::start(&source);
    let admin = server.admin_key();
    let mut subjects = Vec::new();
    for _ in 0..3 {
        subjects.push(write_customer(&server, &admin));
    }
    let consent = r#"{"purpose":"targeted_marketing","action":"grant","channel":"web"}"#;
    let (status, reply) = server.call(
        "POST",
        &format!("/v1/subjects/{}/consents", subjects[0]),
        Some(&admin),
        Some(consent),
    );
    assert_eq!(status, 201, "{reply}");
    let request = format!(
        r#"{{"right":"access","channel":"email","subject":"{}"}}"#,
        subjects[1]
    );
    let (status, reply) = server.call("POST", "/v1/requests", Some(&admin), Some(&request));
    assert_eq!(status, 201, "{reply}");
    // A one-time code challenge (and the outbox message that carries it).
    let verification = format!(
        r#"{{"subject":"{}","category":"user.contact.email"}}"#,
        subjects[2]
    );
    let (status, reply) = server.call(
        "POST",
        "/v1/verifications",
        Some(&admin),
        Some(&verification),
    );
    assert_eq!(status, 201, "{reply}");
    // An erasure under the Plume SASU policy: the payment reference is kept
    // under its legal-obligation purpose, in the hold.
    let buyer = r#"{"jurisdiction":"FR","records":[
        {"category":"user.name","value":"Camille Martin","purpose":"account"},
        {"category":"user.financial.payment_reference","value":"pay_8Hq2Lx",
         "purpose":"payment_and_delivery","source":"third_party"}
    ]}"#;
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(buyer));
    assert_eq!(status, 201, "{reply}");
    let erased: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let erased = erased["subject"].as_str().unwrap().to_owned();
    let (status, reply) = server.call(
        "POST",
        &format!("/v1/subjects/{erased}/erasure"),
        Some(&admin),
        Some(r#"{"reason":"the person asked"}"#),
    );
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains("legal_obligations"), "{reply}");
    drop(server);
    let sqlite = source.join("custos.db");
    let sqlite = sqlite.to_str().unwrap();
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "technical_services",
        "--data-dir",
        source.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reader = text(&out.stdout).lines().next().unwrap().to_owned();
    // A breach incident (a second key, revoked by it), then a signed
    // checkpoint of the whole log.
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "technical_services",
        "--data-dir",
        source.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lost = text(&out.stdout).lines().next().unwrap().to_owned();
    let lost = lost.split('.').next().unwrap().to_owned();
    let out = custos(&[
        "incidents",
        "open",
        "--description",
        "laptop lost",
        "--key",
        &lost,
        "--from",
        "2000-01-01T00:00:00Z",
        "--data-dir",
        source.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Retention rows, placed through the store API on the source file (a sweep
    // needs time to pass): a legal hold and aggregates, one group below k.
    place_retention_rows(&sqlite_path(&source), &subjects[0]);
    let out = custos(&[
        "audit",
        "checkpoint",
        "--data-dir",
        source.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let first = root.join("first.jsonl");
    export(&source, sqlite, &first);
    let archive = std::fs::read_to_string(&first).unwrap();
    for kind in [
        "\"record\"",
        "\"consent\"",
        "\"request\"",
        "\"outbox\"",
        "\"held_record\"",
        "\"verification_challenge\"",
        "\"incident\"",
        "\"contract\"",
        "\"aggregate\"",
        "\"legal_hold\"",
        "\"audit\"",
        "\"checkpoint\"",
    ] {
        assert!(
            archive.contains(&format!("\"type\":{kind}")),
            "no {kind} row"
        );
    }
    assert!(!archive.contains("Camille"), "no plaintext in the archive");
    assert!(
        !archive.contains("pay_8Hq2Lx"),
        "no plaintext in the archive"
    );

    let db = custos_store_postgres::TempDatabase::create(&admin_url).unwrap();
    let out = import(&source, db.url(), &first);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The imported log's Merkle tree was built: its checkpoints verify.
    audit_verify(&source, db.url());
    let second = root.join("second.jsonl");
    export(&source, db.url(), &second);
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );

    // A tenant that exists is refused, and nothing is written.
    let out = import(&source, db.url(), &first);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let again = root.join("again.jsonl");
    export(&source, db.url(), &again);
    assert_eq!(
        std::fs::read(&second).unwrap(),
        std::fs::read(&again).unwrap()
    );

    let target = root.join("target");
    std::fs::create_dir_all(&target).unwrap();
    let back = target.join("back.db");
    let back = back.to_str().unwrap();
    // The target needs the key file the archive's data keys were wrapped with
    // before it imports anything (import checks it up front, VAULT-0262/0264).
    let keys = source.join("keys.json");
    std::fs::copy(&keys, target.join("keys.json")).unwrap();
    let out = import(&target, back, &second);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let third = root.join("third.jsonl");
    export(&target, back, &third);
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&third).unwrap()
    );

    // `custos audit` has no --key-file: it finds the source's key file in the
    // target's data directory.
    audit_verify(&target, back);

    // Read through the vault on the copy, with the source's key file.
    let server = start_server_with(&target, back, &["--key-file", keys.to_str().unwrap()]);
    for s in &subjects {
        let (status, body) = server.call(
            "GET",
            &format!("/v1/subjects/{s}?purpose=account"),
            Some(&reader),
            None,
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Camille Martin"), "{body}");
    }
}

/// Without PostgreSQL too: SQLite → SQLite gives the same archive, and an
/// archive whose audit chain was altered is refused before anything is written.
#[test]
fn import_refuses_a_tampered_archive_and_writes_nothing() {
    let root = tempdir();
    let source = root.join("source");
    let mut server = Server::start(&source);
    let admin = server.admin_key();
    write_customer(&server, &admin);
    drop(server);
    let sqlite = source.join("custos.db");
    let first = root.join("first.jsonl");
    export(&source, sqlite.to_str().unwrap(), &first);

    let copy = root.join("copy.db");
    let out = import(&source, copy.to_str().unwrap(), &first);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let second = root.join("second.jsonl");
    export(&source, copy.to_str().unwrap(), &second);
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );

    let archive = std::fs::read_to_string(&first).unwrap();
    let tampered: String = archive
        .lines()
        .map(|l| {
            if l.contains(r#""type":"audit""#) && l.contains(r#""action":"write""#) {
                l.replacen(r#""action":"write""#, r#""action":"read""#, 1)
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        tampered.trim_end(),
        archive.trim_end(),
        "an audit line was changed"
    );
    let bad = root.join("bad.jsonl");
    std::fs::write(&bad, tampered).unwrap();
    let target = root.join("target.db");
    let out = import(&source, target.to_str().unwrap(), &bad);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("audit chain"),
        "{}",
        text(&out.stderr)
    );
    // Nothing written: the tenant does not exist in the target.
    let out = custos(&[
        "export",
        "--tenant",
        "default",
        "--data-dir",
        source.to_str().unwrap(),
        "--database-url",
        target.to_str().unwrap(),
        "--output",
        root.join("none.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
