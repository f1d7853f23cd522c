//! `custos policy publish FILE --effective-at RFC3339`: a new policy version of a
//! tenant, with the `policy.change` notices it owes the people it affects
//! (`custos_core::policy_change::publish_version`), written in one transaction.
//!
//! An effective date that leaves less notice than people are owed is refused
//! (exit 2, naming the earliest date allowed) unless `--allow-short-notice` (a
//! change the law mandates). `custos serve` publishes the first version itself
//! but refuses to start on a changed policy file: a change goes through here, so
//! it never skips its notices.

use std::path::PathBuf;

use clap::Args;
use custos_core::policy_change::{PublishOptions, Published, VersionError, publish_version};
use custos_store::{Store, StoreError, Timestamp};

use crate::InputError;
use crate::datadir::{DEFAULT_TENANT, DataDir, system_clock, tenant};
use crate::output::emit;

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The policy file to publish.
    pub file: PathBuf,
    /// When the version applies (RFC 3339, e.g. 2026-12-24T00:00:00Z). Notices go
    /// out now; the date must leave the notice period people are owed.
    #[arg(long)]
    pub effective_at: String,
    /// Publish even when the effective date leaves less notice than owed: only for
    /// a change the law mandates.
    #[arg(long)]
    pub allow_short_notice: bool,
    #[arg(long, default_value = DEFAULT_TENANT)]
    pub tenant: String,
    #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
    pub data_dir: PathBuf,
    /// Database: a SQLite file path, sqlite:///path or postgres://… (default:
    /// custos.db in the data directory).
    #[arg(long, env = "CUSTOS_DATABASE_URL")]
    pub database_url: Option<String>,
}

pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let effective_at = args.effective_at.parse::<Timestamp>().map_err(|_| {
        InputError(format!(
            "--effective-at: `{}` is not an RFC 3339 time (2026-12-24T00:00:00Z)",
            args.effective_at
        ))
    })?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| InputError(format!("cannot read {}: {e}", args.file.display())))?;
    let t = tenant(&args.tenant)?;
    let dir = DataDir::new(&args.data_dir);
    let store = dir.store(args.database_url.as_deref())?;
    if store.tenant(&t)?.is_none() {
        return Err(InputError(format!(
            "tenant {t} does not exist (start `custos serve` once to create it)"
        ))
        .into());
    }
    let now = system_clock().now();
    let published = publish_version(
        store.as_ref(),
        &t,
        &text,
        &args.file.display().to_string(),
        effective_at,
        now,
        PublishOptions {
            allow_short_notice: args.allow_short_notice,
        },
    )
    .map_err(version_error)?;
    emit(&report(&published, effective_at), None)
}

/// What publishing did, for people.
pub fn report(p: &Published, effective_at: Timestamp) -> String {
    format!(
        "published policy version {}\neffective at: {effective_at}\nimpact: {}\nnotices written: {}\nearliest allowed effective date: {}\n",
        p.number,
        p.impact.as_str(),
        p.notices,
        p.earliest_effective
            .map_or_else(|| "any (no notice owed)".to_owned(), |e| e.to_string()),
    )
}

/// Invalid policies, refused dates and a version published meanwhile are the
/// operator's to fix (exit 2); anything else is a failure.
pub fn version_error(e: VersionError) -> anyhow::Error {
    match e {
        VersionError::Invalid(report) => {
            InputError(format!("the policy has errors:\n{report}")).into()
        }
        VersionError::Refused(errors) => InputError(
            errors
                .iter()
                .map(|f| format!("{} ({}): {}", f.pointer, f.code, f.detail))
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .into(),
        VersionError::Store(StoreError::Conflict(what)) => InputError(format!(
            "another version was published meanwhile ({what}); run the command again"
        ))
        .into(),
        VersionError::Store(e) => e.into(),
    }
}
