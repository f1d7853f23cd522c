//! `custos incidents …`: open a breach incident, list them, lift a law-enforcement hold.

use std::sync::Arc;

use clap::Subcommand;
use custos_core::consent::NothingRecorded;
use custos_core::incidents::IncidentInput;
use custos_core::vault::{Actor, RequestCtx, Vault};
use custos_store::{Timestamp, Uuid};

use crate::InputError;
use crate::datadir::{DataDir, system_clock, tenant};
use crate::keys_cmd::Place;
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// Open an incident: revoke the keys, find who was affected, set deadlines, draft notices.
    Open {
        #[arg(long)]
        description: String,
        /// API key ids in scope (repeatable); they are revoked.
        #[arg(long = "key")]
        keys: Vec<String>,
        /// Start of the window (RFC 3339).
        #[arg(long)]
        from: String,
        /// End of the window (RFC 3339; default now).
        #[arg(long)]
        to: Option<String>,
        /// When the breach was detected (RFC 3339; default now).
        #[arg(long)]
        detected_at: Option<String>,
        /// Law enforcement asked to delay people's notices: the reason.
        #[arg(long)]
        hold: Option<String>,
        #[command(flatten)]
        place: Place,
    },
    /// List incidents as JSON.
    List {
        #[command(flatten)]
        place: Place,
    },
    /// Lift the law-enforcement hold: the drafted notices go out.
    LiftHold {
        id: String,
        #[command(flatten)]
        place: Place,
    },
}

fn time(raw: &str, what: &str) -> anyhow::Result<Timestamp> {
    raw.parse().map_err(|_| {
        InputError(format!(
            "--{what}: `{raw}` is not an RFC 3339 time (2026-11-24T10:00:00Z)"
        ))
        .into()
    })
}

pub fn run(cmd: IncidentsCommand) -> anyhow::Result<()> {
    let clock = system_clock();
    let place = match &cmd {
        IncidentsCommand::Open { place, .. }
        | IncidentsCommand::List { place }
        | IncidentsCommand::LiftHold { place, .. } => place,
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
    let operator = Actor {
        tenant: t.clone(),
        key_id: "operator".into(),
        role: "admin".into(),
        purposes: vec![],
        admin: true,
    };
    let fail = |e: custos_core::VaultError| -> anyhow::Error {
        match e {
            custos_core::VaultError::Invalid(list) => {
                let lines: Vec<String> = list
                    .iter()
                    .map(|f| format!("{} {}: {}", f.code, f.pointer, f.detail))
                    .collect();
                InputError(lines.join("\n")).into()
            }
            custos_core::VaultError::RequestNotFound => {
                InputError("no such incident".into()).into()
            }
            other => anyhow::Error::new(other),
        }
    };
    match cmd {
        IncidentsCommand::Open {
            description,
            keys,
            from,
            to,
            detected_at,
            hold,
            ..
        } => {
            let now = clock.now();
            let input = IncidentInput {
                description,
                detected_at: detected_at
                    .as_deref()
                    .map(|d| time(d, "detected-at"))
                    .transpose()?
                    .unwrap_or(now),
                aware_at: None,
                key_ids: keys,
                actors: Vec::new(),
                from: time(&from, "from")?,
                to: to
                    .as_deref()
                    .map(|d| time(d, "to"))
                    .transpose()?
                    .unwrap_or(now),
                categories: Vec::new(),
                law_enforcement_hold: hold,
            };
            let incident = vault
                .open_incident(&operator, &input, &RequestCtx::default())
                .map_err(fail)?;
            emit(&serde_json::to_string_pretty(&incident)?, None)
        }
        IncidentsCommand::List { .. } => {
            let all = vault.incidents(&t).map_err(fail)?;
            emit(&serde_json::to_string_pretty(&all)?, None)
        }
        IncidentsCommand::LiftHold { id, .. } => {
            let id = Uuid::parse_str(&id)
                .map_err(|_| InputError(format!("`{id}` is not an incident id")))?;
            let incident = vault
                .lift_hold(&operator, id, &RequestCtx::default())
                .map_err(fail)?;
            emit(&serde_json::to_string_pretty(&incident)?, None)
        }
    }
}
