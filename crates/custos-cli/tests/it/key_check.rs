//! Fail closed on key mistakes (issue 17, point 7): the database stores
//! key-check values, and `serve` and every command that opens the database
//! refuse, with a clear message and exit 2, a key file that is missing,
//! another deployment's, damaged, or lacking a version the data needs. A key
//! file is made only for an empty database.

use std::path::Path;
use std::process::Output;

use super::{Server, custos, tempdir, text, workspace, write_customer};

/// `custos serve` on `data`, which must exit (not start): its output.
fn serve_must_refuse(data: &Path) -> Output {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("CUSTOS_KEY_FILE")
        .env_remove("CUSTOS_DATABASE_URL")
        .current_dir(workspace())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(30)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            panic!("custos serve started with a wrong key file");
        }
    }
}

fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Every command that opens the data directory's database, on `dir`.
fn commands(dir: &str, archive: &str, out: &str) -> Vec<Vec<String>> {
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|s| (*s).to_owned())
            .chain(["--data-dir".to_owned(), dir.to_owned()])
            .collect()
    };
    vec![
        with(&["keys", "list"]),
        with(&["keys", "create", "--role", "technical_services"]),
        with(&["keys", "rotate"]),
        with(&["audit", "verify"]),
        with(&["audit", "checkpoint"]),
        with(&["holds", "list"]),
        with(&["incidents", "list"]),
        with(&["contracts", "list"]),
        with(&["sweep", "--dry-run"]),
        with(&["export", "--tenant", "default", "--output", out]),
        with(&["import", "--input", archive]),
    ]
}

fn assert_refused(out: &Output, code: &str, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: stdout {} stderr {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains(code),
        "{what}: expected {code}: {}",
        text(&out.stderr)
    );
}

#[test]
fn serve_and_every_command_refuse_a_missing_different_or_damaged_key_file() {
    let root = tempdir();
    let data = root.join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    drop(server);
    // Another deployment's key file.
    let other = root.join("other");
    drop(Server::start(&other));
    // An archive of this database, for `import`.
    let archive = root.join("archive.jsonl");
    let out = custos(&[
        "export",
        "--tenant",
        "default",
        "--output",
        archive.to_str().unwrap(),
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Everyone's sealed data and the tenant's records: for the owner's eyes only.
    assert_eq!(super::mode(&archive), 0o600);
    let exported = root.join("again.jsonl");

    let keys = data.join("keys.json");
    let good = std::fs::read(&keys).unwrap();
    let db_before = std::fs::read(data.join("custos.db")).unwrap().len();

    // The three mistakes, each with the code it must be refused with.
    type Mistake = (&'static str, &'static str, Box<dyn Fn()>);
    let (k1, k2, k3, other_keys) = (
        keys.clone(),
        keys.clone(),
        keys.clone(),
        other.join("keys.json"),
    );
    let good1 = good.clone();
    let mistakes: Vec<Mistake> = vec![
        (
            "missing",
            "VAULT-0262",
            Box::new(move || {
                let _ = std::fs::remove_file(&k1);
            }),
        ),
        (
            "different",
            "VAULT-0260",
            Box::new(move || {
                std::fs::copy(&other_keys, &k2).unwrap();
                set_private(&k2);
            }),
        ),
        (
            "damaged",
            "VAULT-0263",
            Box::new(move || {
                std::fs::write(&k3, &good1[..good1.len() / 2]).unwrap();
                set_private(&k3);
            }),
        ),
    ];
    for (what, code, make) in &mistakes {
        make();
        let out = serve_must_refuse(&data);
        assert_refused(&out, code, &format!("serve with a {what} key file"));
        for args in commands(dir, archive.to_str().unwrap(), exported.to_str().unwrap()) {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = custos(&argv);
            assert_refused(&out, code, &format!("{argv:?} with a {what} key file"));
        }
        if *what == "missing" {
            assert!(
                !keys.exists(),
                "no key file is made for a database with data"
            );
        }
    }
    assert!(!exported.exists(), "nothing was exported");
    assert!(
        std::fs::read(data.join("custos.db")).unwrap().len() >= db_before,
        "the database is intact"
    );

    // The right key file: everything works again and the data reads.
    std::fs::write(&keys, &good).unwrap();
    set_private(&keys);
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
    let server = Server::start(&data);
    let (status, body) = server.call(
        "GET",
        &format!("/v1/subjects/{subject}?purpose=account"),
        Some(&reader),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Camille Martin"), "{body}");
}

#[test]
fn a_key_file_lacking_a_version_the_data_needs_is_refused() {
    let root = tempdir();
    let data = root.join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    write_customer(&server, &admin);
    drop(server);
    let old_keys = std::fs::read(data.join("keys.json")).unwrap();
    // Rotate and retire version 1: the data keys now need version 2 only.
    let out = custos(&["keys", "rotate", "--retire-old", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The operator restores yesterday's key file (version 1 only).
    std::fs::write(data.join("keys.json"), &old_keys).unwrap();
    set_private(&data.join("keys.json"));
    let out = serve_must_refuse(&data);
    assert_refused(&out, "VAULT-0261", "serve without version 2");
    let out = custos(&["keys", "list", "--data-dir", dir]);
    assert_refused(&out, "VAULT-0261", "keys list without version 2");
}

#[test]
fn import_refuses_an_archive_whose_data_keys_another_key_file_wrapped() {
    let root = tempdir();
    let source = root.join("source");
    let mut server = Server::start(&source);
    let admin = server.admin_key();
    write_customer(&server, &admin);
    drop(server);
    let archive = root.join("archive.jsonl");
    let out = custos(&[
        "export",
        "--tenant",
        "default",
        "--output",
        archive.to_str().unwrap(),
        "--data-dir",
        source.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A target with its own key file and an empty database: the archive's keys
    // cannot open under it. Its default tenant is created by serve; import into
    // a database file of its own.
    let target = root.join("target");
    drop(Server::start(&target));
    let target_db = root.join("target-import.db");
    let out = custos(&[
        "import",
        "--input",
        archive.to_str().unwrap(),
        "--data-dir",
        target.to_str().unwrap(),
        "--database-url",
        target_db.to_str().unwrap(),
    ]);
    assert_refused(&out, "VAULT-0264", "import under another key file");
}
