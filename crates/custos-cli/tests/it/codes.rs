//! Issue 17.9 with the real `custos serve` and its file outbox: a sign-in code
//! reaches its 0600 file, leaves the database row once delivered, is never kept in
//! the challenge, and never goes into an export archive.

use super::browser::{latest_code, raw};
use super::{Server, custos, mode, tempdir, write_customer};

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

// A real child process's delivery job: bounded waits on real time.
#[allow(clippy::disallowed_methods)]
#[test]
fn a_code_lives_in_its_file_only_and_never_in_the_database_after_delivery_or_an_archive() {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    write_customer(&server, &admin);

    let (status, head, body) = raw(&server.addr, "GET", "/privacy", &[], "");
    assert_eq!(status, 200);
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a cookie")
        .to_owned();
    let form = format!("csrf={}&email=camille%40example.fr", csrf_of(&body));
    let (status, _, _) = raw(
        &server.addr,
        "POST",
        "/privacy/sign-in",
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        &form,
    );
    assert_eq!(status, 303);
    let outbox = data.join("outbox").join("default");
    let code = latest_code(&outbox, 0);
    let file = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&code)))
        .unwrap();
    assert_eq!(mode(&file), 0o600);

    // The file is written before the row is marked: the row no longer holds the code.
    let db = rusqlite::Connection::open(data.join("custos.db")).unwrap();
    let row = || -> (Option<i64>, String) {
        db.query_row(
            "SELECT delivered_at, payload FROM outbox WHERE kind = 'verification.code'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let started = std::time::Instant::now();
    while row().0.is_none() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (delivered, payload) = row();
    assert!(delivered.is_some());
    assert!(
        !payload.contains(&code) && !payload.contains("\"code\""),
        "{payload}"
    );
    let challenge: Vec<u8> = db
        .query_row("SELECT code_hash FROM verification_challenges", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(challenge.len(), 32, "a keyed hash only");
    drop(db);
    server.stop();

    let archive = data.with_extension("archive.jsonl");
    let out = custos(&[
        "export",
        "--data-dir",
        data.to_str().unwrap(),
        "--tenant",
        "default",
        "--output",
        archive.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&archive).unwrap();
    assert!(
        text.contains("verification.code"),
        "the message is exported"
    );
    assert!(!text.contains("\\\"code\\\"") && !text.contains(&format!(":\\\"{code}\\\"")));
}
