//! `custos holds place|lift|list`: legal holds on a subject (P0-17). While a hold
//! lasts the retention sweep leaves the subject's records and only purposes
//! allowed during restriction read them; at its end (or once lifted) the sweep
//! proceeds.

use std::sync::Arc;

use clap::Subcommand;
use custos_core::consent::NothingRecorded;
use custos_core::vault::{Actor, RequestCtx, Vault};
use custos_store::{LegalHold, SubjectId, Timestamp, Uuid};
use serde_json::{Value, json};

use crate::InputError;
use crate::datadir::{DataDir, system_clock, tenant};
use crate::keys_cmd::Place;
use crate::output::emit;

#[derive(Debug, Subcommand)]
pub enum HoldsCommand {
    /// Place a hold on a subject until a date; prints it as JSON.
    #[command(name = "place")]
    PlaceHold {
        /// The subject id.
        subject: String,
        /// Why, in words (written to the audit log: no personal values).
        #[arg(long)]
        reason: String,
        /// When the hold ends (RFC 3339).
        #[arg(long)]
        until: String,
        #[command(flatten)]
        place: Place,
    },
    /// Lift a hold now.
    Lift {
        /// The subject id.
        subject: String,
        /// The hold id.
        hold: String,
        #[command(flatten)]
        place: Place,
    },
    /// List holds as JSON (one subject's with --subject), ended ones included.
    List {
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        place: Place,
    },
}

fn uuid(raw: &str, what: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| InputError(format!("{what}: `{raw}` is not a UUID")).into())
}

fn as_json(h: &LegalHold, now: Timestamp) -> Value {
    json!({
        "id": h.id,
        "subject": h.subject,
        "record": h.record,
        "reason": h.reason,
        "placed_at": h.placed_at,
        "until": h.until,
        "active": h.until.is_none_or(|u| u > now),
    })
}

pub fn run(cmd: HoldsCommand) -> anyhow::Result<()> {
    let clock = system_clock();
    let place = match &cmd {
        HoldsCommand::PlaceHold { place, .. }
        | HoldsCommand::Lift { place, .. }
        | HoldsCommand::List { place, .. } => place,
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
            custos_core::VaultError::SubjectNotFound => InputError("no such subject".into()).into(),
            other => anyhow::Error::new(other),
        }
    };
    let ctx = RequestCtx::default();
    match cmd {
        HoldsCommand::PlaceHold {
            subject,
            reason,
            until,
            ..
        } => {
            let subject = SubjectId(uuid(&subject, "subject")?);
            let until: Timestamp = until.parse().map_err(|_| {
                InputError(format!(
                    "--until: `{until}` is not an RFC 3339 time (2026-11-24T10:00:00Z)"
                ))
            })?;
            let hold = vault
                .place_hold(&operator, subject, &reason, until, &ctx)
                .map_err(fail)?;
            emit(
                &serde_json::to_string_pretty(&as_json(&hold, clock.now()))?,
                None,
            )
        }
        HoldsCommand::Lift { subject, hold, .. } => {
            let subject = SubjectId(uuid(&subject, "subject")?);
            let hold = uuid(&hold, "hold")?;
            vault
                .lift_legal_hold(&operator, subject, hold, &ctx)
                .map_err(fail)?;
            emit(&format!("legal hold {hold} lifted"), None)
        }
        HoldsCommand::List { subject, .. } => {
            let subject = subject
                .as_deref()
                .map(|s| uuid(s, "--subject"))
                .transpose()?
                .map(SubjectId);
            let now = clock.now();
            let all: Vec<Value> = vault
                .legal_holds(&operator, subject)
                .map_err(fail)?
                .iter()
                .map(|h| as_json(h, now))
                .collect();
            emit(&serde_json::to_string_pretty(&all)?, None)
        }
    }
}
