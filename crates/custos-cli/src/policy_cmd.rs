//! `custos policy …`: check, schema, render, ropa, diff, table, publish.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use custos_policy::{Policy, compile, diff, notice, ropa, schema};

use crate::InputError;
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files; exit 0 when all are valid, 2 with every error listed.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format of the findings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the JSON Schema of the policy file.
    Schema {
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Render the privacy notice people read.
    Render {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = NoticeFormat::Md)]
        format: NoticeFormat,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the GDPR Art. 30 record of processing activities.
    Ropa {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = RopaFormat::Csv)]
        format: RopaFormat,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Show what changed between two versions and which changes need notice or re-consent.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the compiled decision table: which role reads what, for which purpose.
    Table { file: PathBuf },
    /// Publish a new version for a tenant, with the change notices it owes
    /// (exit 2 when the effective date leaves too little notice).
    Publish(crate::publish_cmd::PublishArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NoticeFormat {
    Html,
    Md,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RopaFormat {
    Csv,
    Md,
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<()> {
    match cmd {
        PolicyCommand::Check { files, format } => check(&files, format),
        PolicyCommand::Schema { output } => emit(&schema::json_schema(), output.as_deref()),
        PolicyCommand::Publish(args) => crate::publish_cmd::run(args),
        PolicyCommand::Render {
            file,
            format,
            output,
        } => {
            let doc = notice::build(&load(&file)?);
            let text = match format {
                NoticeFormat::Html => notice::to_html(&doc),
                NoticeFormat::Md => notice::to_markdown(&doc),
            };
            emit(&text, output.as_deref())
        }
        PolicyCommand::Ropa {
            file,
            format,
            output,
        } => {
            let policy = load(&file)?;
            let text = match format {
                RopaFormat::Csv => ropa::to_csv(&policy),
                RopaFormat::Md => ropa::to_markdown(&policy),
            };
            emit(&text, output.as_deref())
        }
        PolicyCommand::Diff { old, new, format } => {
            let d = diff::diff(&load(&old)?, &load(&new)?);
            let text = match format {
                Format::Text => d.to_string(),
                Format::Json => serde_json::to_string_pretty(&d)?,
            };
            emit(&text, None)
        }
        PolicyCommand::Table { file } => emit(&table(&load(&file)?), None),
    }
}

fn read(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))
}

/// Reads and validates one policy; any error makes the command fail with exit code 2.
fn load(path: &Path) -> anyhow::Result<Policy> {
    let text = read(path)?;
    match custos_policy::load(&text, &path.display().to_string()) {
        Ok(loaded) => {
            for w in &loaded.warnings.diagnostics {
                eprintln!("{w}");
            }
            Ok(loaded.policy)
        }
        Err(report) => {
            eprint!("{report}");
            let n = report.errors().count();
            Err(InputError(format!("{} has {n} error(s)", path.display())).into())
        }
    }
}

fn check(files: &[PathBuf], format: Format) -> anyhow::Result<()> {
    let mut failed = 0usize;
    let mut json = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let report = match read(path) {
            Ok(text) => custos_policy::check(&text, &name).report,
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                continue;
            }
        };
        let (errors, warnings) = (report.errors().count(), report.warnings().count());
        if errors > 0 {
            failed += 1;
        }
        match format {
            Format::Text => {
                eprint!("{report}");
                let verdict = if errors > 0 { "invalid" } else { "ok" };
                emit(
                    &format!("{name}: {verdict} ({errors} error(s), {warnings} warning(s))"),
                    None,
                )?;
            }
            Format::Json => json.push(serde_json::json!({
                "file": name,
                "valid": errors == 0,
                "diagnostics": report.diagnostics,
            })),
        }
    }
    if let Format::Json = format {
        emit(&serde_json::to_string_pretty(&json)?, None)?;
    }
    if failed > 0 {
        return Err(InputError(format!("{failed} of {} file(s) invalid", files.len())).into());
    }
    Ok(())
}

/// A plain-text table: one block per purpose, one line per role.
fn table(policy: &Policy) -> String {
    let compiled = compile::compile(policy);
    let width = compiled.roles().iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for purpose in compiled.purposes() {
        let _ = writeln!(out, "{purpose}");
        for role in compiled.roles() {
            let Some(d) = compiled.decide(role, purpose) else {
                continue;
            };
            let cats: Vec<&str> = compiled.category_names(d).collect();
            let mut terms = vec![d.basis.as_str()];
            if d.needs_consent {
                terms.push("needs consent");
            }
            if d.objection_stops {
                terms.push("objection stops");
            }
            if d.during_restriction {
                terms.push("reads restricted data");
            }
            if d.anonymised_only {
                terms.push("anonymised only");
            }
            let _ = writeln!(
                out,
                "  {role:<width$}  [{}] {}",
                terms.join(", "),
                cats.join(", ")
            );
        }
    }
    out
}
