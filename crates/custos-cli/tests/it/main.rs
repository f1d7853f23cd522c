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
