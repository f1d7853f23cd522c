//! The `custos` command line. Thin: it parses arguments, calls the library crates,
//! and turns their results into output and exit codes.
//!
//! Exit codes: 0 success; 1 an internal failure; 2 bad input (an invalid policy,
//! an unreadable file, a bad argument) — the message says which and where.

mod archive_cmd;
mod audit_cmd;
mod checkpoint_job;
mod contracts_cmd;
mod contracts_job;
mod datadir;
mod external_checkpoints;
mod holds_cmd;
mod incidents_cmd;
mod keys_cmd;
mod migrate_cmd;
mod outbox_sink;
mod output;
mod policy_cmd;
mod publish_cmd;
mod retention_job;
mod serve;
mod simulate_cmd;
mod smtp_sink;
mod sweep_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "custos",
    version,
    about = "Keeps a company's privacy promises: policy as code, enforced."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// After a command that wrote to the audit log, hand each tenant's newest
    /// signed checkpoint to this shell command as JSON on its standard input (for
    /// safekeeping outside the database); a failure is logged, not fatal.
    #[arg(long, global = true, env = "CUSTOS_CHECKPOINT_WITNESS")]
    checkpoint_witness: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, render, compare and explain policy files.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Run the HTTP service (creates ./custos-data on first run).
    Serve(serve::ServeArgs),
    /// Manage API keys and key-encryption keys.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Breach incidents: open, list, lift a law-enforcement hold.
    #[command(subcommand)]
    Incidents(incidents_cmd::IncidentsCommand),
    /// Consumer contracts: list, show, run the contracts clock once.
    #[command(subcommand)]
    Contracts(contracts_cmd::ContractsCommand),
    /// Legal holds: place, lift, list (the sweep and most reads wait while one lasts).
    #[command(subcommand)]
    Holds(holds_cmd::HoldsCommand),
    /// Verify the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Apply the database schema migrations and list those applied.
    Migrate(migrate_cmd::MigrateArgs),
    /// Export a whole tenant to a JSONL archive (the key file is not included).
    Export(archive_cmd::ExportArgs),
    /// Import a tenant archive into an empty tenant of a database (same key file).
    Import(archive_cmd::ImportArgs),
    /// Run a customer's story on a test clock: the timeline of states, notices, amounts.
    Simulate(simulate_cmd::SimulateArgs),
    /// Run the retention sweep: delete, anonymise or isolate what has expired
    /// (--dry-run forecasts without writing).
    Sweep(sweep_cmd::SweepArgs),
}

/// A failure caused by the input, reported with exit code 2.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    external_checkpoints::set_witness(cli.checkpoint_witness);
    let result = match cli.command {
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Serve(args) => serve::run(args),
        Command::Keys(cmd) => keys_cmd::run(cmd),
        Command::Incidents(cmd) => incidents_cmd::run(cmd),
        Command::Contracts(cmd) => contracts_cmd::run(cmd),
        Command::Holds(cmd) => holds_cmd::run(cmd),
        Command::Audit(cmd) => audit_cmd::run(cmd),
        Command::Migrate(args) => migrate_cmd::run(args),
        Command::Export(args) => archive_cmd::run_export(args),
        Command::Import(args) => archive_cmd::run_import(args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Sweep(args) => sweep_cmd::run(args),
    };
    // Whatever the outcome: a refused or failed command may have audited too.
    external_checkpoints::on_exit(datadir::system_clock().now());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<InputError>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
