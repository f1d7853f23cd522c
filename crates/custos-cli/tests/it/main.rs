//! The `custos` binary, run as an operator would run it.

// Test helpers may panic: a failed expectation is the point of a test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn custos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("run custos")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SEEDS: [&str; 5] = [
    "policies/plume-sasu.toml",
    "policies/plume-design-terms.toml",
    "policies/plumsense.toml",
    "policies/plum-voice.toml",
    "policies/ploomes.toml",
];

#[test]
fn check_accepts_every_bundled_policy() {
    let mut args = vec!["policy", "check"];
    args.extend(SEEDS);
    let out = custos(&args);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for seed in SEEDS {
        assert!(
            text(&out.stdout).contains(&format!("{seed}: ok")),
            "{}",
            text(&out.stdout)
        );
    }
}

/// A policy with three mistakes: all three are named, each with its line.
const BROKEN: &str = r#"
[policy]
id = "broken"
title = "Broken"
version = "1"

[controller]
name = "Broken Ltd"
address = "1 Road"
country = "GB"
region = "UK"

[rights]
deadline = "0d"
available = ["access"]

[category."user.contact.email"]
description = "Email"

[purpose.news]
description = "Newsletter"
basis = "consent"
categories = ["user.contact.mail"]
recipients = ["marketing"]

[recipient.marketing]
name = "Marketing"
kind = "internal"
"#;

#[test]
fn check_lists_every_error_with_its_line_and_exits_2() {
    let dir = tempdir();
    let file = dir.join("broken.toml");
    std::fs::write(&file, BROKEN).unwrap();
    let out = custos(&["policy", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let expect = [
        ("POL-0010", "deadline = \"0d\""),
        ("POL-0007", "[category.\"user.contact.email\"]"),
        ("POL-0004", "[purpose.news]"),
        ("POL-0003", "user.contact.mail"),
    ];
    for (code, needle) in expect {
        let line = BROKEN[..BROKEN.find(needle).unwrap()].matches('\n').count() + 1;
        let at = format!("broken.toml:{line}:");
        let found = err
            .split("\nerror")
            .any(|block| block.contains(code) && block.contains(&at));
        assert!(found, "{code} at line {line} missing in:\n{err}");
    }
    assert!(
        text(&out.stdout).contains("invalid (4 error(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_json_output_is_machine_readable() {
    let dir = tempdir();
    let file = dir.join("broken.toml");
    std::fs::write(&file, BROKEN).unwrap();
    let out = custos(&[
        "policy",
        "check",
        "--format",
        "json",
        file.to_str().unwrap(),
        SEEDS[0],
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["valid"], false);
    assert_eq!(v[0]["diagnostics"][0]["code"], "POL-0010");
    assert!(v[0]["diagnostics"][0]["position"]["line"].as_u64().unwrap() > 1);
    assert_eq!(v[1]["valid"], true);
}

#[test]
fn missing_file_and_bad_arguments_exit_2_with_a_message() {
    let out = custos(&["policy", "check", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read no/such/file.toml"));
    let out = custos(&["policy", "render", SEEDS[0], "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    let out = custos(&["policy", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn render_refuses_an_invalid_policy() {
    let dir = tempdir();
    let file = dir.join("broken.toml");
    std::fs::write(&file, BROKEN).unwrap();
    let out = custos(&["policy", "render", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "nothing rendered from an invalid policy"
    );
}

#[test]
fn render_html_and_markdown_state_the_rights_deadline() {
    let out = custos(&["policy", "render", SEEDS[0], "--format", "html"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = text(&out.stdout);
    assert!(html.starts_with("<!doctype html>") || html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("15 days"), "P0-18 deadline must be stated");
    assert!(html.contains("CNIL"), "P0-19 authority must be stated");
    let out = custos(&["policy", "render", SEEDS[0], "--format", "md"]);
    assert!(text(&out.stdout).contains("15 days"));
}

#[test]
fn render_writes_to_a_file_with_output() {
    let dir = tempdir();
    let file = dir.join("notice.html");
    let out = custos(&[
        "policy",
        "render",
        SEEDS[2],
        "--format",
        "html",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(file).unwrap().contains("Plumsense"));
}

#[test]
fn ropa_csv_has_a_row_per_purpose() {
    let out = custos(&["policy", "ropa", SEEDS[4]]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let policy = custos_policy_purposes(SEEDS[4]);
    let csv = text(&out.stdout);
    for purpose in &policy {
        assert!(
            csv.contains(purpose.as_str()),
            "purpose {purpose} missing from RoPA"
        );
    }
    let out = custos(&["policy", "ropa", SEEDS[4], "--format", "md"]);
    assert!(text(&out.stdout).contains('|'));
}

fn custos_policy_purposes(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join(path)).unwrap();
    let v: toml::Table = text.parse().unwrap();
    v["purpose"].as_table().unwrap().keys().cloned().collect()
}

#[test]
fn diff_classifies_changes() {
    let dir = tempdir();
    let old = std::fs::read_to_string(workspace().join(SEEDS[0])).unwrap();
    let new = old.replacen("deadline = \"15d\"", "deadline = \"1mo\"", 1);
    assert_ne!(old, new, "the seed states its 15-day deadline");
    let (a, b) = (dir.join("old.toml"), dir.join("new.toml"));
    std::fs::write(&a, &old).unwrap();
    std::fs::write(&b, &new).unwrap();
    let out = custos(&[
        "policy",
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "rights.deadline")
        .unwrap();
    assert_eq!(change["impact"], "notice");
}

#[test]
fn schema_is_json_schema_of_the_file() {
    let out = custos(&["policy", "schema"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["properties"]["purpose"].is_object());
    assert!(
        v["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "controller")
    );
}

#[test]
fn table_shows_roles_per_purpose() {
    let out = custos(&["policy", "table", "policies/plume-sasu.toml"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("needs consent"));
}

/// A fresh directory under the target dir (no extra dependency for temp files).
fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------
// `custos serve`, `custos keys`, `custos audit`: the embedded default, as an operator runs it.

/// A `custos serve` child process, killed when dropped.
struct Server {
    child: std::process::Child,
    addr: String,
    lines: std::sync::mpsc::Receiver<String>,
    /// Lines of stdout read so far.
    seen: Vec<String>,
}

impl Server {
    /// Starts `custos serve` on a free port and waits (bounded) until it says where it listens.
    fn start(data_dir: &std::path::Path) -> Server {
        Server::spawn(data_dir, &[])
    }

    /// `start` with more arguments for `custos serve`. The environment's `CUSTOS_*`
    /// settings are removed so that only the arguments decide.
    fn spawn(data_dir: &std::path::Path, extra: &[&str]) -> Server {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_custos"));
        cmd.args(["serve", "--data-dir"])
            .arg(data_dir)
            .args(if extra.contains(&"--listen") {
                &[][..]
            } else {
                &["--listen", "127.0.0.1:0"][..]
            })
            .args(extra)
            .current_dir(workspace())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log_path(data_dir))
                    .unwrap(),
            ));
        for var in [
            "CUSTOS_DATA_DIR",
            "CUSTOS_POLICY",
            "CUSTOS_LISTEN",
            "CUSTOS_DATABASE_URL",
            "CUSTOS_RATE_LIMIT",
            "CUSTOS_KEY_FILE",
            "CUSTOS_OUTBOX_DIR",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().expect("start custos serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            lines,
            seen: Vec::new(),
        };
        // http:// or, with --tls-cert, https://
        let line = server.wait_for("listening on ");
        server.addr = line
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        server
    }

    /// The next stdout line containing `needle`, waiting at most 30 s for each line
    /// (the server prints three or four).
    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(std::time::Duration::from_secs(30)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(e) => {
                    let status = self.child.try_wait().ok().flatten();
                    panic!(
                        "no `{needle}` from custos serve ({e}; exit {status:?}); stdout so far: {:?}",
                        self.seen
                    )
                }
            }
        }
    }

    /// The admin token printed on a first run.
    fn admin_key(&mut self) -> String {
        let line = self.wait_for("admin API key");
        line.rsplit(' ').next().unwrap().to_owned()
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        http(&self.addr, method, path, token, body)
    }

    /// Kills the server and returns everything it printed on stdout.
    fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The pipe is closed now: the reader thread ends and the channel drains.
        let mut all = std::mem::take(&mut self.seen);
        all.extend(self.lines.iter());
        all
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a test server's log (its stderr) goes: beside its data directory.
fn log_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.with_extension("log")
}

/// A minimal HTTP/1.1 client: one request per connection.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if method != "GET" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        rest.to_owned()
    };
    (status, body)
}

/// Writes one customer through the API and returns the subject id.
fn write_customer(server: &Server, token: &str) -> String {
    let body = r#"{"records":[
        {"category":"user.name","value":"Camille Martin","purpose":"account"},
        {"category":"user.contact.email","value":"camille@example.fr","purpose":"account"}
    ]}"#;
    let (status, reply) = server.call("POST", "/v1/subjects", Some(token), Some(body));
    assert_eq!(status, 201, "{reply}");
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    v["subject"].as_str().unwrap().to_owned()
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn serve_creates_its_data_directory_and_prints_the_admin_key_once() {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    assert!(server.addr.starts_with("127.0.0.1:"), "{}", server.addr);
    let admin = server.admin_key();
    assert!(admin.starts_with("ck_") && admin.contains('.'), "{admin}");
    assert_eq!(mode(&data.join("keys.json")), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert!(data.join("custos.db").is_file());
    assert!(data.join("policy.toml").is_file());

    let (status, body) = server.call("GET", "/healthz", None, None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.call("GET", "/v1/policy", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("plume-sasu"), "{body}");
    let (status, _) = server.call("GET", "/v1/policy", None, None);
    assert_eq!(status, 401);
    let first = server.stop();
    assert_eq!(
        first.iter().filter(|l| l.contains("admin API key")).count(),
        1,
        "{first:?}"
    );

    // Second start on the same directory: same keys, no new admin key.
    let server = Server::start(&data);
    let (status, _) = server.call("GET", "/v1/policy", Some(&admin), None);
    assert_eq!(status, 200, "the first admin key still works");
    let second = server.stop();
    assert!(second.iter().any(|l| l.contains("listening on http://")));
    assert!(
        !second
            .iter()
            .any(|l| l.contains("admin API key") || l.contains("ck_")),
        "{second:?}"
    );
}

#[test]
fn keys_create_prints_a_token_and_refuses_an_unknown_role() {
    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    // Before the first start there is nothing to issue keys for.
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "sales_order_delivery",
        "--data-dir",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("custos serve"),
        "{}",
        text(&out.stderr)
    );

    Server::start(&data).stop();
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "sales_order_delivery",
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).lines().next().unwrap().to_owned();
    let (id, secret) = token.split_once('.').unwrap();
    assert!(id.starts_with("ck_") && id.len() == 19, "{token}");
    assert_eq!(secret.len(), 64);

    let out = custos(&["keys", "create", "--role", "nosuchrole", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("nosuchrole") && err.contains("sales_order_delivery"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "sales_order_delivery",
        "--purpose",
        "astrology",
        "--data-dir",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("astrology"));

    // The key is listed (without its secret) and works against the server.
    let out = custos(&["keys", "list", "--data-dir", dir]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(id));
    assert!(!text(&out.stdout).contains(secret));
    let server = Server::start(&data);
    let (status, body) = server.call("GET", "/v1/policy", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    drop(server);

    let out = custos(&["keys", "revoke", id, "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start(&data);
    let (status, _) = server.call("GET", "/v1/policy", Some(&token), None);
    assert_eq!(status, 401, "a revoked key is refused");
}

fn rewrapped(out: &Output) -> u64 {
    let line = text(&out.stdout);
    line.split("re-wrapped ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap()
}

#[test]
fn key_rotation_rewraps_data_keys_and_data_stays_readable() {
    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    // A running server keeps its keys in memory: rotating under it is refused.
    let out = custos(&["keys", "rotate", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("stop it first"),
        "{}",
        text(&out.stderr)
    );
    drop(server);

    let out = custos(&[
        "keys",
        "create",
        "--role",
        "technical_services",
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reader = text(&out.stdout).lines().next().unwrap().to_owned();

    let out = custos(&["keys", "rotate", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("key version 2"),
        "{}",
        text(&out.stdout)
    );
    assert!(rewrapped(&out) >= 1, "{}", text(&out.stdout));
    assert_eq!(
        mode(&data.join("keys.json")),
        0o600,
        "still private after saving"
    );

    let read = format!("/v1/subjects/{subject}?purpose=account");
    let server = Server::start(&data);
    let (status, body) = server.call("GET", &read, Some(&reader), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Camille Martin"), "{body}");
    drop(server);

    // Retiring the old versions leaves every data key readable under the new one.
    let out = custos(&["keys", "rotate", "--retire-old", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(rewrapped(&out) >= 1, "{}", text(&out.stdout));
    let server = Server::start(&data);
    let (status, body) = server.call("GET", &read, Some(&reader), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("camille@example.fr"), "{body}");
}

#[test]
fn audit_verify_passes_then_names_the_tenant_whose_log_was_altered() {
    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    write_customer(&server, &admin);
    drop(server);

    let out = custos(&["audit", "verify", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("default: ok"),
        "{}",
        text(&out.stdout)
    );

    // Someone with write access to the file edits an entry (the append-only
    // trigger does not stop them: they can drop it). The chain shows it.
    let db = rusqlite::Connection::open(data.join("custos.db")).unwrap();
    db.execute_batch("DROP TRIGGER audit_log_no_update")
        .unwrap();
    let n = db
        .execute(
            "UPDATE audit_log SET reason = reason || ' (edited)' WHERE tenant = 'default' AND seq = 1",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(db);

    let out = custos(&["audit", "verify", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("default: BROKEN"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("default"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn no_personal_value_reaches_the_database_file_or_the_logs() {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let values = [
        "Zacharie Quennevilleux",
        "zacharie.q@example.org",
        "+33698765432",
        "17 impasse des Tilleuls",
    ];
    let body = format!(
        r#"{{"records":[
        {{"category":"user.name","value":"{}","purpose":"account"}},
        {{"category":"user.contact.email","value":"{}","purpose":"account"}},
        {{"category":"user.contact.phone_number","value":"{}","purpose":"account"}},
        {{"category":"user.contact.address","value":"{}","purpose":"account"}}
    ]}}"#,
        values[0], values[1], values[2], values[3]
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let subject = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    // Reads, lookups and refused writes must not log values either.
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "sales_order_delivery",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let sales = text(&out.stdout).lines().next().unwrap().to_owned();
    let (status, reply) = server.call(
        "GET",
        &format!("/v1/subjects/{subject}?purpose=account"),
        Some(&sales),
        None,
    );
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply.contains(values[0]),
        "the owner of the purpose reads the value back"
    );
    let lookup = format!(
        r#"{{"category":"user.contact.email","value":"{}","purpose":"account"}}"#,
        values[1]
    );
    let (status, _) = server.call("POST", "/v1/lookup", Some(&sales), Some(&lookup));
    assert_eq!(status, 200);
    let bad = format!(
        r#"{{"records":[{{"category":"user.contact.email","value":"{} 4111 1111 1111 1111","purpose":"account"}}]}}"#,
        values[3]
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&sales), Some(&bad));
    assert_eq!(status, 422);
    assert!(
        !reply.contains(values[3]),
        "errors do not echo values: {reply}"
    );
    let broken = format!(r#"{{"records": [{{"category": "{}""#, values[0]);
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&sales), Some(&broken));
    assert_eq!(status, 400);
    assert!(!reply.contains(values[0]), "{reply}");
    server.stop();

    let log = std::fs::read(log_path(&data)).unwrap();
    assert!(
        String::from_utf8_lossy(&log).contains("request"),
        "the server logged its requests"
    );
    let mut files = vec![log];
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("custos.db")
        {
            files.push(std::fs::read(&path).unwrap());
        }
    }
    assert!(files.len() >= 2, "database file found");
    for bytes in &files {
        for v in values {
            let needle = v.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "`{v}` found in plaintext"
            );
            let lower = v.to_lowercase();
            assert!(
                !bytes.windows(lower.len()).any(|w| w == lower.as_bytes()),
                "`{lower}` found"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// `custos migrate`, and `custos serve` on PostgreSQL (when CUSTOS_TEST_DATABASE_URL is set).

#[test]
fn migrate_applies_the_schema_then_has_nothing_to_apply() {
    let data = tempdir();
    let dir = data.to_str().unwrap();
    let out = custos(&["migrate", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = text(&out.stdout);
    assert!(first.contains("applied V1__initial"), "{first}");
    assert!(first.contains("migration(s) applied"), "{first}");
    assert!(data.join("custos.db").exists());

    let out = custos(&["migrate", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let second = text(&out.stdout);
    assert!(second.contains("nothing to apply"), "{second}");
    assert!(!second.contains("applied V"), "{second}");

    let missing = data.join("absent").join("deeper");
    let out = custos(&["migrate", "--data-dir", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// The administrative PostgreSQL URL for tests, or `None` (saying so) to skip.
fn postgres_url() -> Option<String> {
    match std::env::var("CUSTOS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: CUSTOS_TEST_DATABASE_URL not set (custos serve on PostgreSQL)"
            );
            None
        }
    }
}

/// `Server::start` with `--database-url`.
fn start_server_on(data_dir: &std::path::Path, database_url: &str) -> Server {
    start_server_with(data_dir, database_url, &[])
}

/// `start_server_on` with more arguments for `custos serve`.
fn start_server_with(data_dir: &std::path::Path, database_url: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--database-url", database_url];
    args.extend_from_slice(extra);
    Server::spawn(data_dir, &args)
}

#[test]
fn serve_on_postgres_writes_and_reads_a_subject() {
    let Some(admin_url) = postgres_url() else {
        return;
    };
    let db = custos_store_postgres::TempDatabase::create(&admin_url).unwrap();
    let url = db.url();

    let out = custos(&["migrate", "--database-url", url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("applied V1__initial"), "{stdout}");
    assert!(stdout.contains("PostgreSQL"), "{stdout}");
    let out = custos(&["migrate", "--database-url", url]);
    assert!(
        text(&out.stdout).contains("nothing to apply"),
        "{}",
        text(&out.stdout)
    );

    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    let mut server = start_server_on(&data, url);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "technical_services",
        "--data-dir",
        dir,
        "--database-url",
        url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reader = text(&out.stdout).lines().next().unwrap().to_owned();
    let read = format!("/v1/subjects/{subject}?purpose=account");
    let (status, body) = server.call("GET", &read, Some(&reader), None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Camille Martin"), "{body}");
    drop(server);

    // The data is in PostgreSQL, not in a SQLite file beside the keys.
    assert!(!data.join("custos.db").exists());
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let subjects: i64 = client
        .query_one("SELECT COUNT(*) FROM subjects", &[])
        .unwrap()
        .get(0);
    assert_eq!(subjects, 1);
    let out = custos(&["audit", "verify", "--data-dir", dir, "--database-url", url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
// Waits, bounded, for a real child process's 5-second job: the one place real time is read.
#[allow(clippy::disallowed_methods)]
fn serve_delivers_owed_notices_to_the_outbox_directory() {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let (status, reply) = server.call(
        "POST",
        "/v1/requests",
        Some(&admin),
        Some(r#"{"right":"access","channel":"email"}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let id = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The delivery job runs every 5 s; wait for the acknowledgement, at most 20 s.
    let dir = data.join("outbox").join("default");
    let started = std::time::Instant::now();
    let file = loop {
        let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "json"))
        });
        if let Some(f) = found {
            break f;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no notice delivered"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let notice: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(notice["kind"], "request.acknowledged");
    assert_eq!(notice["payload"]["request"], id.as_str());
    assert_eq!(notice["payload"]["deadline"], "15 days");
}

mod multi;

mod card_data;
mod prior_notice;
mod settings;

mod contracts;
mod external_checkpoints;
mod key_check;

mod browser;

mod browser_privacy;

mod browser_console;

mod audit_proofs;

mod tls;

mod codes;

#[test]
fn incidents_open_from_the_command_line_and_refuse_bad_times() {
    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    let out = custos(&[
        "keys",
        "create",
        "--role",
        "technical_services",
        "--data-dir",
        dir,
    ]);
    let token = text(&out.stdout).lines().next().unwrap().to_owned();
    let key_id = token.split('.').next().unwrap().to_owned();
    let (status, _) = server.call(
        "GET",
        &format!("/v1/subjects/{subject}?purpose=account"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    drop(server);

    let out = custos(&[
        "incidents",
        "open",
        "--description",
        "laptop lost",
        "--key",
        &key_id,
        "--from",
        "yesterday",
        "--data-dir",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("RFC 3339"));
    let out = custos(&[
        "incidents",
        "open",
        "--description",
        "laptop lost",
        "--key",
        &key_id,
        "--from",
        "2000-01-01T00:00:00Z",
        "--hold",
        "police investigation",
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["affected"][0]["subject"], subject.as_str());
    assert_eq!(v["notices_released"], false);
    assert_eq!(v["revoked_keys"][0], key_id.as_str());
    let id = v["id"].as_str().unwrap().to_owned();
    let out = custos(&["incidents", "lift-hold", &id, "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = custos(&["incidents", "list", "--data-dir", dir]);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all[0]["notices_released"], true);
}

// ---------------------------------------------------------------------------------------
// `custos simulate`: a customer's story on a test clock (docs/simulate.md).

#[test]
fn simulate_prints_the_timeline_and_exits_2_on_a_broken_scenario() {
    let out = custos(&[
        "simulate",
        "scenarios/homepass-first-month-free-then-cancel.toml",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // The renewal charge window opens 24 h before the first paid month (T-10).
    assert!(
        stdout.contains(
            "renewal charge for period 1: EUR 9.99, may be taken from 2026-04-04 00:00 CEST"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("ok   check 4"), "{stdout}");
    let out = custos(&[
        "simulate",
        "scenarios/return-after-easter.toml",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checks"][0]["passed"], true);

    let dir = tempdir();
    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "policy = \"../../../../policies/plume-design-terms.toml\"\n\
         [customer]\njurisdiction = \"DE\"\ntimezone = \"Europe/Berlin\"\n\
         [[event]]\nat = \"2026-03-01 10:00\"\nbuy_membership = \"homepass\"\nprice = \"9.99 EUR\"\n\
         [[event]]\nat = \"2026-03-02 10:00\"\nteleport = true\n",
    )
    .unwrap();
    let out = custos(&["simulate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("event 2: `teleport`: unknown action"),
        "{}",
        text(&out.stderr)
    );
    // A check that fails prints the timeline and exits 2, naming the check.
    std::fs::write(
        &broken,
        format!(
            "policy = \"{}\"\n\
             [customer]\njurisdiction = \"DE\"\ntimezone = \"Europe/Berlin\"\n\
             [[event]]\nat = \"2026-03-01 10:00\"\nbuy_membership = \"homepass\"\nprice = \"9.99 EUR\"\n\
             [[check]]\nat = \"2026-03-02 10:00\"\nexpect_entitlement = \"full\"\n",
            workspace()
                .join("policies/plume-design-terms.toml")
                .canonicalize()
                .unwrap()
                .display()
        ),
    )
    .unwrap();
    let out = custos(&["simulate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("FAIL check 1"));
    assert!(
        text(&out.stderr).contains("check 1"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// `custos policy publish`: a changed policy goes out with its notices.

/// A data directory served once (its first policy version published) with one
/// customer; returns it, the customer's id, and a changed policy file whose
/// change needs notice (the controller's name).
fn served_once_with_a_customer() -> (PathBuf, String, PathBuf) {
    let root = tempdir();
    let data = root.join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    drop(server);
    let changed = root.join("changed.toml");
    let text = std::fs::read_to_string(data.join("policy.toml")).unwrap();
    assert!(text.contains("name = \"PLUME SASU\""));
    std::fs::write(
        &changed,
        text.replace("name = \"PLUME SASU\"", "name = \"PLUME SAS\""),
    )
    .unwrap();
    (data, subject, changed)
}

/// RFC 3339 text of now plus `days`.
#[allow(clippy::disallowed_methods)]
fn days_from_now(days: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(days * 24)).to_string()
}

#[test]
fn policy_publish_with_enough_notice_writes_the_notices() {
    let (data, subject, changed) = served_once_with_a_customer();
    let out = custos(&[
        "policy",
        "publish",
        changed.to_str().unwrap(),
        "--effective-at",
        &days_from_now(40),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("published policy version 2"), "{stdout}");
    assert!(stdout.contains("impact: notice"), "{stdout}");
    assert!(stdout.contains("notices written: 1"), "{stdout}");
    assert!(
        stdout.contains("earliest allowed effective date: 20"),
        "{stdout}"
    );

    // The notice is in the outbox, with the version and the change, no value.
    use custos_store::{RequestStore, Store};
    let store = custos_store_sqlite::SqliteStore::open(
        data.join("custos.db"),
        custos_store_sqlite::SqliteOptions::default(),
    )
    .unwrap();
    let tenant = custos_store::TenantId::new("default").unwrap();
    let id = custos_store::SubjectId(custos_store::Uuid::try_parse(&subject).unwrap());
    let notices: Vec<_> = store
        .outbox_of(&tenant, id)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "policy.change")
        .collect();
    assert_eq!(notices.len(), 1);
    let payload: serde_json::Value = serde_json::from_str(&notices[0].payload).unwrap();
    assert_eq!(payload["policy_version"], 2);
    assert_eq!(payload["impact"], "notice");
    assert!(!notices[0].payload.contains("Camille"));
    assert_eq!(store.policy_versions(&tenant).unwrap().len(), 2);

    // A date that is not RFC 3339 is refused.
    let out = custos(&[
        "policy",
        "publish",
        changed.to_str().unwrap(),
        "--effective-at",
        "yesterday",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("RFC 3339"));
}

#[test]
fn policy_publish_with_too_short_notice_exits_2_naming_the_earliest_date() {
    let (data, _, changed) = served_once_with_a_customer();
    let out = custos(&[
        "policy",
        "publish",
        changed.to_str().unwrap(),
        "--effective-at",
        &days_from_now(10),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let earliest = stderr
        .split("must be ")
        .nth(1)
        .and_then(|rest| rest.split(" or later").next())
        .unwrap_or_else(|| panic!("no earliest date in {stderr}"));
    let earliest: jiff::Timestamp = earliest.parse().unwrap();
    let (low, high): (jiff::Timestamp, jiff::Timestamp) = (
        days_from_now(29).parse().unwrap(),
        days_from_now(31).parse().unwrap(),
    );
    assert!(low < earliest && earliest < high, "{stderr}");
    assert!(stderr.contains("VAULT-0185"), "{stderr}");
    // Nothing was published. With --allow-short-notice (a change the law
    // mandates) it goes out, notices included.
    let out = custos(&[
        "policy",
        "publish",
        changed.to_str().unwrap(),
        "--effective-at",
        &days_from_now(10),
        "--allow-short-notice",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("published policy version 2"), "{stdout}");
    assert!(stdout.contains("notices written: 1"), "{stdout}");
}

#[test]
fn serve_refuses_a_silently_changed_policy_file() {
    let (data, _, changed) = served_once_with_a_customer();
    std::fs::copy(&changed, data.join("policy.toml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("CUSTOS_POLICY")
        .env_remove("CUSTOS_DATABASE_URL")
        .current_dir(workspace())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("custos policy publish"), "{stderr}");
    assert!(stderr.contains("policy version 1"), "{stderr}");
    // Published with its notices, the same file serves.
    let out = custos(&[
        "policy",
        "publish",
        data.join("policy.toml").to_str().unwrap(),
        "--effective-at",
        &days_from_now(40),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start(&data);
    drop(server);
}

#[test]
fn holds_place_list_and_lift_from_the_command_line() {
    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    drop(server);

    let out = custos(&[
        "holds",
        "place",
        &subject,
        "--reason",
        "litigation",
        "--until",
        "soon",
        "--data-dir",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("RFC 3339"));
    let out = custos(&[
        "holds",
        "place",
        &subject,
        "--reason",
        "litigation 2026-17",
        "--until",
        "2099-01-01T00:00:00Z",
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hold: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hold["active"], true);
    let id = hold["id"].as_str().unwrap().to_owned();
    let out = custos(&["holds", "lift", &subject, &id, "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = custos(&["holds", "lift", &subject, &id, "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2), "lifted once");
    let out = custos(&["holds", "list", "--subject", &subject, "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all[0]["id"], id.as_str());
    assert_eq!(all[0]["active"], false);
}
