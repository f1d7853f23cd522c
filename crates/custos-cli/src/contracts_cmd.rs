//! `custos contracts …`: list and show a tenant's consumer contracts (orders,
//! memberships, returns), and run the contracts clock once (`tick`), the pass
//! `serve` runs every minute under the same `contracts` lease.

use std::fmt::Write as _;
use std::sync::Arc;

use clap::Subcommand;
use custos_core::consent::NothingRecorded;
use custos_core::contracts::ContractView;
use custos_core::vault::Vault;
use custos_store::{ContractFilter, ContractKind, LeaseStore, SubjectId, Timestamp, Uuid};

use crate::InputError;
use crate::contracts_job::{CONTRACTS_JOB, CONTRACTS_LEASE, contracts_pass};
use crate::datadir::{DataDir, system_clock, tenant};
use crate::keys_cmd::Place;
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// List contracts, oldest first.
    List {
        /// Only this subject's contracts.
        #[arg(long)]
        subject: Option<String>,
        /// Only this kind: order, membership or return.
        #[arg(long)]
        kind: Option<String>,
        /// Only contracts in this status (`active`, `past_due`, `confirmed`, …).
        #[arg(long)]
        status: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Show one contract as JSON.
    Show {
        id: String,
        #[command(flatten)]
        place: Place,
    },
    /// Advance every due contract clock once (renewal charges, grace expiry,
    /// cancellations taking effect, overdue refunds).
    Tick {
        /// Run as of this time (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        place: Place,
    },
}

fn table(all: &[ContractView]) -> String {
    let mut out = String::from(
        "ID                                    KIND        STATUS                NEXT DUE\n",
    );
    for c in all {
        let due = c
            .next_due
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "{:<37} {:<11} {:<21} {due}", c.id, c.kind, c.status);
    }
    if all.is_empty() {
        out.push_str("(no contracts)\n");
    }
    out
}

pub fn run(cmd: ContractsCommand) -> anyhow::Result<()> {
    let clock = system_clock();
    let place = match &cmd {
        ContractsCommand::List { place, .. }
        | ContractsCommand::Show { place, .. }
        | ContractsCommand::Tick { place, .. } => place,
    };
    let dir = DataDir::new(&place.data_dir).with_key_file(place.key_file.clone());
    let store = dir.store(place.database_url.as_deref())?;
    let (_, keys) = dir.key_ring()?;
    let t = tenant(&place.tenant)?;
    let vault = Vault::new(
        Arc::clone(&store),
        keys,
        Arc::clone(&clock),
        Arc::new(NothingRecorded),
    );
    let fail = |e: custos_core::VaultError| -> anyhow::Error {
        match e {
            custos_core::VaultError::Invalid(list) => {
                let lines: Vec<String> = list
                    .iter()
                    .map(|f| format!("{} {}: {}", f.code, f.pointer, f.detail))
                    .collect();
                InputError(lines.join("\n")).into()
            }
            custos_core::VaultError::ContractNotFound => {
                InputError("no such contract".into()).into()
            }
            other => anyhow::Error::new(other),
        }
    };
    match cmd {
        ContractsCommand::List {
            subject,
            kind,
            status,
            json,
            ..
        } => {
            let subject = subject
                .as_deref()
                .map(|s| {
                    Uuid::parse_str(s)
                        .map(SubjectId)
                        .map_err(|_| InputError(format!("--subject: `{s}` is not a subject id")))
                })
                .transpose()?;
            let kind = kind
                .as_deref()
                .map(|k| {
                    ContractKind::parse(k).ok_or_else(|| {
                        InputError(format!("--kind: `{k}` is not order, membership or return"))
                    })
                })
                .transpose()?;
            let all = vault
                .contract_list(
                    &t,
                    &ContractFilter {
                        subject,
                        kind,
                        status,
                    },
                )
                .map_err(fail)?;
            if json {
                emit(&serde_json::to_string_pretty(&all)?, None)
            } else {
                emit(&table(&all), None)
            }
        }
        ContractsCommand::Show { id, .. } => {
            let id = Uuid::parse_str(&id)
                .map_err(|_| InputError(format!("`{id}` is not a contract id")))?;
            let view = vault.contract_view(&t, id).map_err(fail)?;
            emit(&serde_json::to_string_pretty(&view)?, None)
        }
        ContractsCommand::Tick { at, .. } => {
            let now = match at.as_deref() {
                Some(raw) => raw.parse::<Timestamp>().map_err(|_| {
                    InputError(format!(
                        "--at: `{raw}` is not an RFC 3339 time (2026-11-24T10:00:00Z)"
                    ))
                })?,
                None => clock.now(),
            };
            let holder = Uuid::new_v4().to_string();
            if !store.try_claim(CONTRACTS_JOB, &holder, clock.now(), CONTRACTS_LEASE)? {
                return Err(InputError(
                    "another instance is advancing the contract clocks now; try again in a minute"
                        .into(),
                )
                .into());
            }
            let result = contracts_pass(&vault, now);
            store.release(CONTRACTS_JOB, &holder)?;
            let advanced = result.map_err(anyhow::Error::msg)?;
            emit(
                &format!("{advanced} contract(s) advanced as of {now}\n"),
                None,
            )
        }
    }
}
