//! `custos audit checkpoint | prove | public-key | verify` end to end: bundles
//! from `custos audit prove` verify with the standalone `custos-verify` binary
//! and fail after a one-byte change; tampering with a stored entry, node or
//! checkpoint makes `custos audit verify` exit 2 naming what broke.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{Server, custos, tempdir, text, workspace, write_customer};

/// The `custos-verify` binary next to `custos` in the target directory (built by
/// `cargo test --workspace`; built here if this crate's tests run alone).
fn custos_verify() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_custos"))
        .with_file_name(format!("custos-verify{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "custos-verify"])
            .current_dir(workspace())
            .status()
            .unwrap();
        assert!(status.success(), "cannot build custos-verify");
    }
    path
}

fn verify_bundle(public_key: &str, bundle: &Path) -> Output {
    Command::new(custos_verify())
        .args(["--public-key", public_key])
        .arg(bundle)
        .output()
        .expect("run custos-verify")
}

/// A data directory whose log has a few entries and a signed checkpoint.
fn signed_log() -> PathBuf {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    write_customer(&server, &admin);
    write_customer(&server, &admin);
    drop(server);
    let out = custos(&["audit", "checkpoint", "--data-dir", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("default: signed checkpoint at size"),
        "{}",
        text(&out.stdout)
    );
    data
}

fn audit_verify(data: &Path) -> Output {
    custos(&["audit", "verify", "--data-dir", data.to_str().unwrap()])
}

#[test]
fn audit_prove_bundles_verify_with_custos_verify_and_fail_after_one_byte_changes() {
    let data = signed_log();
    let dir = data.to_str().unwrap();
    let out = custos(&["audit", "checkpoint", "--data-dir", dir]);
    assert!(text(&out.stdout).contains("default: nothing new to sign"));

    let out = custos(&["audit", "public-key", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_owned();
    assert_eq!(key.len(), 44, "{key}");

    let out = audit_verify(&data);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("default: ok"),
        "{}",
        text(&out.stdout)
    );

    let inclusion = data.join("inclusion.json");
    let out = custos(&[
        "audit",
        "prove",
        "--data-dir",
        dir,
        "--tenant",
        "default",
        "--entry",
        "1",
        "--output",
        inclusion.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let consistency = data.join("consistency.json");
    let out = custos(&[
        "audit",
        "prove",
        "--data-dir",
        dir,
        "--from",
        "2",
        "--output",
        consistency.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    for bundle in [&inclusion, &consistency] {
        let out = verify_bundle(&key, bundle);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("VERIFIED"),
            "{}",
            text(&out.stdout)
        );

        // Every byte, changed: the bundle is refused (a changed claim or an
        // invalid document). Bundles are a few kilobytes.
        let original = std::fs::read(bundle).unwrap();
        let tampered = data.join("tampered.json");
        for i in 0..original.len() {
            let mut bytes = original.clone();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            std::fs::write(&tampered, &bytes).unwrap();
            let out = verify_bundle(&key, &tampered);
            assert_ne!(
                out.status.code(),
                Some(0),
                "byte {i} of {} changed and still verified",
                bundle.display()
            );
        }
    }

    // Out of range: exit 2 with the reason.
    let out = custos(&["audit", "prove", "--data-dir", dir, "--entry", "100000"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not in the latest checkpoint"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn audit_verify_detects_a_tampered_entry_node_or_checkpoint() {
    let cases: [(&str, &str); 3] = [
        (
            "DROP TRIGGER audit_log_no_update; \
             UPDATE audit_log SET reason = reason || ' (edited)' WHERE tenant = 'default' AND seq = 2;",
            "hash chain: audit entry 2",
        ),
        (
            "DROP TRIGGER audit_nodes_no_update; \
             UPDATE audit_nodes SET hash = zeroblob(32) WHERE tenant = 'default' AND level = 1 AND idx = 0;",
            "tree node (level 1, index 0) does not match",
        ),
        (
            "DROP TRIGGER audit_checkpoints_no_update; \
             UPDATE audit_checkpoints SET timestamp = timestamp + 1 WHERE tenant = 'default';",
            "checkpoint at size",
        ),
    ];
    for (sql, named) in cases {
        let data = signed_log();
        assert_eq!(audit_verify(&data).status.code(), Some(0));
        let db = rusqlite::Connection::open(data.join("custos.db")).unwrap();
        db.execute_batch(sql).unwrap();
        drop(db);
        let out = audit_verify(&data);
        assert_eq!(out.status.code(), Some(2), "{sql}: {}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("default: BROKEN"),
            "{}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains(named),
            "{sql}: {}",
            text(&out.stderr)
        );
    }
}
