//! Truncation of the audit log is detected (issue 17, point 10): the newest
//! signed checkpoint is also kept in `checkpoints.json` in the data directory
//! (and handed to a witness), by `serve` and by every command that writes, and
//! `custos audit verify` fails on a log shorter than it.

use std::path::Path;

use super::{Server, custos, tempdir, text, write_customer};

/// The tree size of the default tenant's checkpoint in a checkpoint file.
fn kept_size(file: &Path) -> u64 {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let body = json["tenants"]["default"]["checkpoint"]["body"]
        .as_str()
        .unwrap();
    assert!(body.starts_with("custos-audit/v1\ndefault\n"), "{body}");
    body.lines().nth(2).unwrap().parse().unwrap()
}

/// The default tenant's log size in the database.
fn log_size(data: &Path) -> u64 {
    let db = rusqlite::Connection::open(data.join("custos.db")).unwrap();
    db.query_row(
        "SELECT size FROM audit_tree_heads WHERE tenant = 'default'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
    .try_into()
    .unwrap()
}

/// Cuts the default tenant's log to its first `keep` entries the way a careful
/// editor of the database would: entries, the tree nodes above them, the
/// checkpoints that covered them, and the tree head (size and right edge), so
/// that the database alone verifies and takes new entries.
fn truncate(data: &Path, keep: u64) {
    let db = rusqlite::Connection::open(data.join("custos.db")).unwrap();
    db.execute_batch(&format!(
        "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_nodes_no_delete; \
         DROP TRIGGER audit_checkpoints_no_delete; \
         DELETE FROM audit_log WHERE tenant = 'default' AND seq > {keep}; \
         DELETE FROM audit_nodes WHERE tenant = 'default' AND (idx + 1) * (1 << level) > {keep}; \
         DELETE FROM audit_checkpoints WHERE tenant = 'default' AND tree_size > {keep};"
    ))
    .unwrap();
    // The right edge: the roots of the full subtrees `keep` leaves decompose
    // into, largest first (one per set bit).
    let mut frontier = Vec::new();
    for level in (0..64u32).rev().filter(|l| keep >> l & 1 == 1) {
        let hash: Vec<u8> = db
            .query_row(
                "SELECT hash FROM audit_nodes WHERE tenant = 'default' AND level = ?1 AND idx = ?2",
                rusqlite::params![level, ((keep >> level) - 1) as i64],
                |r| r.get(0),
            )
            .unwrap();
        frontier.extend(hash);
    }
    db.execute(
        "UPDATE audit_tree_heads SET size = ?1, frontier = ?2 WHERE tenant = 'default'",
        rusqlite::params![keep as i64, frontier],
    )
    .unwrap();
}

fn place_hold(dir: &str, subject: &str, extra: &[&str]) -> std::process::Output {
    let mut args = extra.to_vec();
    args.extend([
        "holds",
        "place",
        subject,
        "--reason",
        "litigation 2026-17",
        "--until",
        "2099-01-01T00:00:00Z",
        "--data-dir",
        dir,
    ]);
    custos(&args)
}

/// Waits (bounded) until `serve`'s checkpoint job has written the file up to `size`.
#[allow(clippy::disallowed_methods)]
fn wait_for_kept(file: &Path, size: u64) {
    for _ in 0..150 {
        if file.exists() && kept_size(file) >= size {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("serve did not write {} up to {size}", file.display());
}

#[test]
fn audit_verify_fails_on_a_log_shorter_than_the_checkpoint_kept_outside() {
    let data = tempdir().join("data");
    let dir = data.to_str().unwrap();
    let file = data.join("checkpoints.json");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    // `serve` writes the file from its checkpoint job.
    wait_for_kept(&file, log_size(&data));
    drop(server);

    // A writing command moves it forward on its way out.
    let before = log_size(&data);
    let out = place_hold(dir, &subject, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let n = log_size(&data);
    assert!(n > before);
    assert_eq!(kept_size(&file), n);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(!kept.contains("Camille") && !kept.contains("camille@"));

    let out = custos(&["audit", "verify", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("checked against the file up to {n}")),
        "{}",
        text(&out.stdout)
    );

    truncate(&data, n - 3);
    // The database alone cannot tell: without the file the shorter log verifies.
    let aside = data.with_extension("kept.json");
    std::fs::rename(&file, &aside).unwrap();
    let out = custos(&["audit", "verify", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("note: no checkpoint file"));
    // The copy kept elsewhere (as a witness would) catches it...
    let out = custos(&[
        "audit",
        "verify",
        "--data-dir",
        dir,
        "--checkpoint-file",
        aside.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    std::fs::rename(&aside, &file).unwrap();
    // ...and so does the data directory's own file.
    let out = custos(&["audit", "verify", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("default: BROKEN"));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("VAULT-0276"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the log holds {} entries but the checkpoint kept outside the database signed {n}",
            n - 3
        )),
        "{stderr}"
    );
    assert!(stderr.contains("truncation"), "{stderr}");

    // A command writing to the truncated log does not overwrite the evidence.
    let out = place_hold(dir, &subject, &[]);
    assert_eq!(log_size(&data), n - 2, "the database took the new entry");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not moved forward"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(kept_size(&file), n);
}

#[test]
fn the_witness_gets_each_new_checkpoint_and_its_failure_is_only_logged() {
    let root = tempdir();
    let data = root.join("data");
    let dir = data.to_str().unwrap();
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let subject = write_customer(&server, &admin);
    drop(server);

    let copy = root.join("witness.json");
    let witness = format!("cat > '{}'", copy.display());
    let out = place_hold(dir, &subject, &["--checkpoint-witness", &witness]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(kept_size(&copy), log_size(&data));
    // The witness's copy is a checkpoint file that verify reads.
    let out = custos(&[
        "audit",
        "verify",
        "--data-dir",
        dir,
        "--checkpoint-file",
        copy.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A failing witness: the command still succeeds, the failure is named.
    let out = place_hold(dir, &subject, &["--checkpoint-witness", "exit 3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("VAULT-0280"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(kept_size(&data.join("checkpoints.json")), log_size(&data));
}
