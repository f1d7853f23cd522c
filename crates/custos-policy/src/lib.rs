//! Policy as code.
//!
//! A company writes its privacy policy and terms of sale once, as a TOML file
//! ([`model::Policy`]). This crate parses it ([`load`]), reports every authoring
//! mistake with a stable code and its line ([`diag`]), compiles it to decision
//! tables for the engine ([`compile`]), and renders the human-readable notice and
//! the GDPR Art. 30 record of processing from the same file, so text and
//! enforcement cannot drift ([`notice`], [`ropa`]). [`diff`] says what changed
//! between two versions and which changes need notice or re-consent.
//!
//! Pure: no IO, no clock. Callers read files and pass strings.
#![forbid(unsafe_code)]

pub mod compile;
pub mod diag;
pub mod diff;
pub mod model;
pub mod names;
pub mod notice;
pub mod period;
pub mod ropa;
pub mod schema;
pub mod source_map;
mod validate;

pub use compile::{CompiledPolicy, Decision};
pub use diag::{Code, Diagnostic, Report, Severity};
pub use model::Policy;

use diag::Position;
use source_map::{Path, SourceMap};

/// A policy that parsed and passed validation (it may carry warnings).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub policy: Policy,
    pub warnings: Report,
}

/// Parses and validates `text` (the contents of `file`, used in diagnostics).
/// On failure the report lists every error found.
pub fn load(text: &str, file: &str) -> Result<Loaded, Report> {
    let report = check(text, file);
    match report.policy {
        Some(policy) if !report.report.has_errors() => Ok(Loaded {
            policy,
            warnings: report.report,
        }),
        _ => Err(report.report),
    }
}

/// The outcome of checking a file: the policy if it could be read at all, and findings.
#[derive(Debug, Clone)]
pub struct Checked {
    pub policy: Option<Policy>,
    pub report: Report,
}

/// Parses and validates, returning the findings even when the file is unusable.
pub fn check(text: &str, file: &str) -> Checked {
    let map = SourceMap::new(text);
    let (_, syntax) = toml::de::DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let diagnostics = syntax
            .iter()
            .map(|e| toml_error(&map, file, Code::Syntax, e.message(), e.span()))
            .collect();
        return Checked {
            policy: None,
            report: Report { diagnostics },
        };
    }
    match toml::from_str::<Policy>(text) {
        Err(e) => {
            let d = toml_error(&map, file, Code::Shape, e.message(), e.span());
            Checked {
                policy: None,
                report: Report {
                    diagnostics: vec![d],
                },
            }
        }
        Ok(policy) => {
            let diagnostics = validate::validate(&policy, &map, file);
            Checked {
                policy: Some(policy),
                report: Report { diagnostics },
            }
        }
    }
}

fn toml_error(
    map: &SourceMap<'_>,
    file: &str,
    code: Code,
    message: &str,
    span: Option<std::ops::Range<usize>>,
) -> Diagnostic {
    let hint = match code {
        Code::Shape if message.contains("unknown field") => {
            Some("check the spelling; `custos policy schema` lists every field".to_owned())
        }
        Code::Shape if message.contains("missing field") => {
            Some("this field is required here".to_owned())
        }
        Code::Shape => Some("see `custos policy schema` for the expected type".to_owned()),
        _ => None,
    };
    Diagnostic {
        code,
        severity: code.severity(),
        message: message.trim().to_owned(),
        hint,
        file: file.to_owned(),
        position: span.map(|s| map.offset_to_position(s.start)),
        path: String::new(),
    }
}

/// The position of a dotted path in `text`, for callers that report on their own.
pub fn position_of(text: &str, path: &Path) -> Option<Position> {
    SourceMap::new(text).position(path)
}
