//! `custos simulate SCENARIO.toml`: one customer's story on a test clock, printed as
//! a timeline of states, notices and amounts (docs/simulate.md).
//!
//! The scenario is read and run by `custos_contracts::simulate` (pure); this file only
//! reads the two files, loads the policy the scenario names (relative to the scenario)
//! and prints. A bad scenario, a refused event or a failed check exits 2.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use custos_contracts::simulate::{self, Timeline, describe, notice_kind};
use custos_contracts::{Money, Terms};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::InputError;
use crate::output::emit;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The scenario file (TOML).
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn input(file: &Path, e: impl std::fmt::Display) -> anyhow::Error {
    InputError(format!("{}: {e}", file.display())).into()
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let file = &args.file;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(|e| input(file, format!("{e:#}")))?;
    let scenario = simulate::parse(&text).map_err(|e| input(file, e))?;
    let policy_path = file
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(&scenario.policy);
    let policy_text = std::fs::read_to_string(&policy_path).map_err(|e| {
        input(
            file,
            format!("`policy`: cannot read {}: {e}", policy_path.display()),
        )
    })?;
    let loaded = custos_policy::load(&policy_text, &policy_path.display().to_string()).map_err(
        |report| {
            input(
                file,
                format!(
                    "`policy`: {} is not a valid policy ({} error(s); run `custos policy check`)",
                    policy_path.display(),
                    report.errors().count()
                ),
            )
        },
    )?;
    let terms = Terms::new(&loaded.policy).map_err(|e| input(file, format!("`policy`: {e}")))?;
    let timeline = simulate::run(&scenario, &terms).map_err(|e| input(file, e))?;
    let out = match args.format {
        Format::Text => text_table(&timeline, &scenario.customer.jurisdiction),
        Format::Json => serde_json::to_string_pretty(&to_json(&timeline))?,
    };
    emit(&out, None)?;
    if let Some(failed) = timeline.failed_check() {
        return Err(input(file, format!("{failed} (failed)")));
    }
    Ok(())
}

fn rfc3339(timeline: &Timeline, t: Timestamp) -> String {
    t.to_zoned(timeline.tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn money_json(m: &Money) -> Value {
    json!({ "amount": m.amount().to_string(), "currency": m.currency().code() })
}

fn to_json(t: &Timeline) -> Value {
    let entries: Vec<Value> = t
        .entries
        .iter()
        .map(|e| {
            json!({
                "at": rfc3339(t, e.at),
                "event": e.event,
                "what": e.what,
                "note": e.note,
                "state": e.state,
                "entitlement": e.entitlement.map(|x| x.to_string()),
                "notices": e.notices.iter().map(|n| json!({
                    "kind": notice_kind(n),
                    "text": describe(&t.tz, n),
                })).collect::<Vec<_>>(),
                "amounts": e.amounts.iter().map(|a| {
                    let mut v = money_json(&a.money);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("label".to_owned(), json!(a.label));
                    }
                    v
                }).collect::<Vec<_>>(),
                "deadlines": e.deadlines.iter().map(|d| json!({
                    "label": d.label,
                    "last_day": d.last_day.to_string(),
                    "ends_at": rfc3339(t, d.ends_at),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let checks: Vec<Value> = t
        .checks
        .iter()
        .map(|c| {
            json!({
                "check": c.number,
                "at": rfc3339(t, c.at),
                "passed": c.passed(),
                "expectations": c.expectations.iter().map(|(what, expected, actual)| json!({
                    "what": what, "expected": expected, "actual": actual,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "policy_version": t.policy_version,
        "timezone": t.timezone,
        "entries": entries,
        "checks": checks,
    })
}

/// A readable table: one block per entry, times on the customer's wall clock.
fn text_table(t: &Timeline, jurisdiction: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "terms {} · customer {jurisdiction} · times in {}",
        t.policy_version, t.timezone
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:>3}  {:<18} {:<6} state",
        "when", "#", "what", "uses"
    );
    for e in &t.entries {
        let number = e.event.map_or_else(|| "·".to_owned(), |n| n.to_string());
        let _ = writeln!(
            out,
            "{:<22} {:>3}  {:<18} {:<6} {}",
            t.local(e.at),
            number,
            e.what,
            e.entitlement
                .map_or_else(|| "-".to_owned(), |x| x.to_string()),
            e.state
        );
        let pad = " ".repeat(28);
        if let Some(note) = &e.note {
            let _ = writeln!(out, "{pad}“{note}”");
        }
        for n in &e.notices {
            let _ = writeln!(out, "{pad}→ {}", t.describe(n));
        }
        for a in &e.amounts {
            let _ = writeln!(out, "{pad}= {}: {}", a.label, a.money);
        }
        for d in &e.deadlines {
            let _ = writeln!(
                out,
                "{pad}{}: last day {} (until {})",
                d.label,
                d.last_day,
                t.local(d.ends_at)
            );
        }
    }
    if !t.checks.is_empty() {
        let _ = writeln!(out);
        for c in &t.checks {
            let mark = if c.passed() { "ok  " } else { "FAIL" };
            let what: Vec<String> = c
                .expectations
                .iter()
                .map(|(w, e, a)| {
                    if e == a {
                        format!("{w} {a}")
                    } else {
                        format!("{w} expected {e}, got {a}")
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "{mark} check {} at {}: {}",
                c.number,
                t.local(c.at),
                what.join("; ")
            );
        }
    }
    out
}
