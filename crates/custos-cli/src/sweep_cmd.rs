//! `custos sweep [--dry-run]`: one retention sweep of a tenant, now (or, dry, at
//! a later `--at` to forecast what will go and when). The same pass `serve` runs
//! every minute; it claims the same `retention` lease, so it never runs beside it.

use std::fmt::Write as _;

use clap::Args;
use custos_core::retention::{self, DEFAULT_BATCH, SweepParams, SweepReport};
use custos_store::{LeaseStore, Store, Timestamp, Uuid};

use crate::InputError;
use crate::datadir::{DataDir, system_clock, tenant};
use crate::keys_cmd::Place;
use crate::output::emit;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Write nothing: report what would be deleted, anonymised or isolated, by
    /// category and expiry date.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: forecast as of this time (RFC 3339) instead of now.
    #[arg(long, requires = "dry_run")]
    pub at: Option<String>,
    /// Records per batch (each batch commits on its own).
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    pub batch: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub place: Place,
}

pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    let clock = system_clock();
    let dir = DataDir::new(&args.place.data_dir).with_key_file(args.place.key_file.clone());
    let store = dir.store(args.place.database_url.as_deref())?;
    let (_, keys) = dir.key_ring()?;
    let t = tenant(&args.place.tenant)?;
    let now = match &args.at {
        Some(raw) => raw.parse::<Timestamp>().map_err(|_| {
            InputError(format!(
                "--at: `{raw}` is not an RFC 3339 time (2026-11-24T10:00:00Z)"
            ))
        })?,
        None => clock.now(),
    };
    let version = store
        .policy_in_force(&t, now)?
        .ok_or_else(|| InputError(format!("tenant {t} has no policy in force")))?;
    let loaded = custos_policy::load(&version.text, "stored policy")
        .map_err(|_| anyhow::anyhow!("the stored policy no longer loads"))?;
    let params = SweepParams {
        tenant: &t,
        now,
        batch: args.batch,
        dry_run: args.dry_run,
    };
    let mut progress = |r: &SweepReport| {
        if !args.dry_run {
            eprintln!(
                "batch {}: {} due, {} deleted, {} anonymised, {} isolated, {} held",
                r.batches, r.due, r.deleted, r.anonymised, r.isolated, r.skipped_held
            );
        }
    };
    let report = if args.dry_run {
        retention::sweep_with(
            store.as_ref(),
            &keys,
            &loaded.policy,
            &params,
            &mut progress,
        )?
    } else {
        let holder = Uuid::new_v4().to_string();
        if !store.try_claim(
            crate::retention_job::RETENTION_JOB,
            &holder,
            now,
            crate::retention_job::RETENTION_LEASE,
        )? {
            return Err(InputError(
                "another process is sweeping (the `retention` lease is held); try again later"
                    .into(),
            )
            .into());
        }
        let result = retention::sweep_with(
            store.as_ref(),
            &keys,
            &loaded.policy,
            &params,
            &mut progress,
        );
        store.release(crate::retention_job::RETENTION_JOB, &holder)?;
        result?
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report)?
    } else {
        render(&report, now)
    };
    emit(&text, None)
}

fn render(r: &SweepReport, now: Timestamp) -> String {
    let mut out = String::new();
    let verb = if r.dry_run { "would be" } else { "were" };
    let _ = writeln!(
        out,
        "retention sweep as of {now}{}",
        if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "due:        {}", r.due);
    let _ = writeln!(out, "deleted:    {} ({verb} deleted)", r.deleted);
    let _ = writeln!(
        out,
        "anonymised: {} ({verb} folded into aggregates)",
        r.anonymised
    );
    let _ = writeln!(out, "isolated:   {} ({verb} isolated)", r.isolated);
    let _ = writeln!(
        out,
        "skipped:    {} (legal hold or restriction)",
        r.skipped_held
    );
    if !r.forecast.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<32} {:<10} {:<9} {:>8}",
            "category", "expired", "action", "records"
        );
        for f in &r.forecast {
            let _ = writeln!(
                out,
                "{:<32} {:<10} {:<9} {:>8}",
                f.category, f.date, f.action, f.count
            );
        }
    }
    out
}
