//! `custos export` / `custos import`: a whole tenant moved between backends as
//! a JSONL archive.
//!
//! # Format (version 1)
//!
//! Line 1 is a header, `{"format":"custos-tenant-archive","version":1,
//! "tenant":…,"counts":{…}}`; then one JSON object per stored row, tagged by
//! `"type"`: `tenant`, `policy_version`, `api_key` (hash only), `subject`
//! (wrapped data key as stored), `record` (ciphertext), `blind_index`,
//! `consent`, `request`, `outbox`, `idempotency`, `held_record` (a record kept
//! under a legal hold after its subject's erasure, sealed under the hold key),
//! `verification_challenge` (the code's keyed hash only), `incident` (its
//! versioned JSON document), `contract` (an order, membership or return: its
//! engine state as JSON, subject id, status and clock), `aggregate` (an anonymous count per purpose,
//! category and bucket, groups below k included), `legal_hold` (a hold on a
//! subject or one record, its reason in words), `audit` (with its chain
//! hashes), `checkpoint` (a signed tree head), in that order, each kind sorted
//! by its key (ids and text compare by bytes; aggregates by purpose, category,
//! bucket; checkpoints by tree size). The header's counts for the kinds added
//! after the first release (`held_records`, `verification_challenges`,
//! `incidents`, `contracts`, `aggregates`, `legal_holds`, `checkpoints`) may be absent in an
//! older archive: they are then zero. The audit log's Merkle tree is not in the archive: `import` rebuilds it
//! from the entries, and the checkpoints then verify against it.
//! Bytes are standard base64; times are integer microseconds since the Unix
//! epoch, as the stores keep them. Nothing about the export run (its time, the
//! host) is written, so exporting the same tenant twice — from either backend —
//! gives the same bytes.
//!
//! The key file is not in the archive: the target must run with the same key
//! file (and the same tenant id, which ciphertexts and audit hashes cover).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use custos_audit::checkpoint::{Checkpoint, SignedCheckpoint};
use custos_core::audit::verify_chain;
use custos_store::{
    AggregateRow, ApiKey, ArchiveCounts, ArchiveRow, ArchiveSink, ArchiveStore, AuditDraft,
    AuditEntry, BlindIndexEntry, Challenge, ConsentEvent, ConsentKind, HeldRecord,
    IdempotentResponse, IncidentRow, LegalHold, MerkleStore, OutboxMessage, Outcome, PolicyVersion,
    Record, RecordId, RequestState, RightsRequest, Store, StoreError, Subject, SubjectId,
    SubjectState, Tenant, TenantId, Timestamp, Uuid, from_micros, micros,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::InputError;
use crate::datadir::{DataDir, tenant};
use crate::output::emit;

const FORMAT: &str = "custos-tenant-archive";
const VERSION: u32 = 1;
/// Rows inserted per transaction by `import`.
const BATCH: usize = 1000;

#[derive(Debug, Args)]
#[command(
    after_help = "The key file is NOT in the archive: the target must use the same key file \
                  (--key-file or the data directory's keys.json), since ciphertexts and \
                  wrapped data keys are bound to it."
)]
pub struct ExportArgs {
    /// The tenant to export.
    #[arg(long)]
    pub tenant: String,
    /// The JSONL archive to write.
    #[arg(long)]
    pub output: PathBuf,
    #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
    pub data_dir: PathBuf,
    /// Database: a SQLite file path, sqlite:///path or postgres://… (default:
    /// custos.db in the data directory).
    #[arg(long, env = "CUSTOS_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The key file is NOT in the archive: run the target with the same key file \
                  the source used, or its data cannot be read. A tenant that already exists \
                  in the target is refused (exit 2) and nothing is written."
)]
pub struct ImportArgs {
    /// The JSONL archive written by `custos export`.
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
    pub data_dir: PathBuf,
    /// Database: a SQLite file path, sqlite:///path or postgres://… (default:
    /// custos.db in the data directory).
    #[arg(long, env = "CUSTOS_DATABASE_URL")]
    pub database_url: Option<String>,
}

// --- the format --------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    tenant: String,
    counts: Counts,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Counts {
    policy_versions: u64,
    api_keys: u64,
    subjects: u64,
    records: u64,
    blind_index: u64,
    consent_events: u64,
    requests: u64,
    outbox: u64,
    idempotency: u64,
    #[serde(default)]
    held_records: u64,
    #[serde(default)]
    verification_challenges: u64,
    #[serde(default)]
    incidents: u64,
    #[serde(default)]
    contracts: u64,
    #[serde(default)]
    aggregates: u64,
    #[serde(default)]
    legal_holds: u64,
    audit_entries: u64,
    #[serde(default)]
    checkpoints: u64,
}

impl From<ArchiveCounts> for Counts {
    fn from(c: ArchiveCounts) -> Self {
        Counts {
            policy_versions: c.policy_versions,
            api_keys: c.api_keys,
            subjects: c.subjects,
            records: c.records,
            blind_index: c.blind_index,
            consent_events: c.consent_events,
            requests: c.requests,
            outbox: c.outbox,
            idempotency: c.idempotency,
            held_records: c.held_records,
            verification_challenges: c.verification_challenges,
            incidents: c.incidents,
            contracts: c.contracts,
            aggregates: c.aggregates,
            legal_holds: c.legal_holds,
            audit_entries: c.audit_entries,
            checkpoints: c.checkpoints,
        }
    }
}

mod b64 {
    use super::{Engine, STANDARD};
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

mod b64opt {
    use super::{Engine, STANDARD};
    pub fn serialize<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&STANDARD.encode(v)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = serde::Deserialize::deserialize(d)?;
        s.map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// One line of the archive after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    Tenant {
        id: String,
        name: String,
        created_at: i64,
    },
    PolicyVersion {
        number: u32,
        label: String,
        text: String,
        effective_at: i64,
        published_at: i64,
    },
    ApiKey {
        id: String,
        #[serde(with = "b64")]
        hash: Vec<u8>,
        label: String,
        role: String,
        purposes: Vec<String>,
        admin: bool,
        created_at: i64,
        revoked_at: Option<i64>,
    },
    Subject {
        id: Uuid,
        #[serde(with = "b64")]
        wrapped_dek: Vec<u8>,
        kek_version: u32,
        jurisdiction: Option<String>,
        state: String,
        created_at: i64,
        updated_at: i64,
    },
    Record {
        id: Uuid,
        subject: Uuid,
        category: String,
        #[serde(with = "b64")]
        ciphertext: Vec<u8>,
        purpose: String,
        source: String,
        collected_at: i64,
        expires_at: Option<i64>,
    },
    BlindIndex {
        subject: Uuid,
        category: String,
        #[serde(with = "b64")]
        hash: Vec<u8>,
    },
    Consent {
        id: Uuid,
        subject: Uuid,
        purpose: String,
        kind: String,
        policy_version: u32,
        #[serde(with = "b64")]
        notice_hash: Vec<u8>,
        channel: String,
        #[serde(with = "b64opt")]
        ip_hash: Option<Vec<u8>>,
        user_agent: Option<String>,
        at: i64,
        /// Absent from archives written before it was recorded (issue 13.2).
        #[serde(default = "unknown_recorder")]
        recorded_by: String,
    },
    Request {
        id: Uuid,
        subject: Option<Uuid>,
        right: String,
        state: String,
        jurisdiction: Option<String>,
        channel: String,
        received_at: i64,
        due_at: i64,
        extended_until: Option<i64>,
        extension_reason: Option<String>,
        closed_at: Option<i64>,
        rejection_reason: Option<String>,
    },
    Outbox {
        id: Uuid,
        subject: Option<Uuid>,
        kind: String,
        payload: String,
        created_at: i64,
        attempts: u32,
        next_attempt_at: i64,
        delivered_at: Option<i64>,
        last_error: Option<String>,
    },
    Idempotency {
        key: String,
        #[serde(with = "b64")]
        request_hash: Vec<u8>,
        status: u16,
        body: String,
        created_at: i64,
    },
    HeldRecord {
        id: Uuid,
        subject: Uuid,
        category: String,
        #[serde(with = "b64")]
        ciphertext: Vec<u8>,
        purpose: String,
        source: String,
        collected_at: i64,
        held_for: String,
        reason: String,
        held_at: i64,
        until: Option<i64>,
    },
    VerificationChallenge {
        id: Uuid,
        subject: Uuid,
        category: String,
        #[serde(with = "b64")]
        code_hash: Vec<u8>,
        created_at: i64,
        expires_at: i64,
        attempts: u32,
        consumed_at: Option<i64>,
    },
    Incident {
        id: Uuid,
        version: u32,
        document: String,
    },
    Contract {
        id: Uuid,
        subject: Uuid,
        kind: String,
        status: String,
        state: String,
        next_due: Option<i64>,
        version: u32,
        created_at: i64,
        updated_at: i64,
    },
    Aggregate {
        purpose: String,
        category: String,
        bucket: String,
        count: u64,
    },
    LegalHold {
        id: Uuid,
        subject: Uuid,
        record: Option<Uuid>,
        reason: String,
        placed_at: i64,
        until: Option<i64>,
    },
    Audit {
        seq: u64,
        at: i64,
        actor: String,
        key_id: Option<String>,
        action: String,
        purpose: Option<String>,
        subject: Option<Uuid>,
        categories: Vec<String>,
        outcome: String,
        reason: String,
        request_id: Option<String>,
        #[serde(with = "b64")]
        prev_hash: Vec<u8>,
        #[serde(with = "b64")]
        hash: Vec<u8>,
    },
    Checkpoint {
        tree_size: u64,
        #[serde(with = "b64")]
        root_hash: Vec<u8>,
        timestamp: i64,
        #[serde(with = "b64")]
        signature: Vec<u8>,
    },
}

fn to_line(row: ArchiveRow) -> Line {
    let opt = |t: Option<Timestamp>| t.map(micros);
    match row {
        ArchiveRow::Tenant(t) => Line::Tenant {
            id: t.id.to_string(),
            name: t.name,
            created_at: micros(t.created_at),
        },
        ArchiveRow::PolicyVersion(v) => Line::PolicyVersion {
            number: v.number,
            label: v.label,
            text: v.text,
            effective_at: micros(v.effective_at),
            published_at: micros(v.published_at),
        },
        ArchiveRow::ApiKey(k) => Line::ApiKey {
            id: k.id,
            hash: k.hash.to_vec(),
            label: k.label,
            role: k.role,
            purposes: k.purposes,
            admin: k.admin,
            created_at: micros(k.created_at),
            revoked_at: opt(k.revoked_at),
        },
        ArchiveRow::Subject(s) => Line::Subject {
            id: s.id.0,
            wrapped_dek: s.wrapped_dek,
            kek_version: s.kek_version,
            jurisdiction: s.jurisdiction,
            state: s.state.as_str().to_owned(),
            created_at: micros(s.created_at),
            updated_at: micros(s.updated_at),
        },
        ArchiveRow::Record(r) => Line::Record {
            id: r.id.0,
            subject: r.subject.0,
            category: r.category,
            ciphertext: r.ciphertext,
            purpose: r.purpose,
            source: r.source,
            collected_at: micros(r.collected_at),
            expires_at: opt(r.expires_at),
        },
        ArchiveRow::BlindIndex { subject, entry } => Line::BlindIndex {
            subject: subject.0,
            category: entry.category,
            hash: entry.hash.to_vec(),
        },
        ArchiveRow::Consent(e) => Line::Consent {
            id: e.id,
            subject: e.subject.0,
            purpose: e.purpose,
            kind: e.kind.as_str().to_owned(),
            policy_version: e.policy_version,
            notice_hash: e.notice_hash.to_vec(),
            channel: e.channel,
            ip_hash: e.ip_hash.map(|h| h.to_vec()),
            user_agent: e.user_agent,
            at: micros(e.at),
            recorded_by: e.recorded_by,
        },
        ArchiveRow::Request(r) => Line::Request {
            id: r.id,
            subject: r.subject.map(|s| s.0),
            right: r.right,
            state: r.state.as_str().to_owned(),
            jurisdiction: r.jurisdiction,
            channel: r.channel,
            received_at: micros(r.received_at),
            due_at: micros(r.due_at),
            extended_until: opt(r.extended_until),
            extension_reason: r.extension_reason,
            closed_at: opt(r.closed_at),
            rejection_reason: r.rejection_reason,
        },
        ArchiveRow::Outbox(m) => Line::Outbox {
            id: m.id,
            subject: m.subject.map(|s| s.0),
            // A sign-in code never leaves in an archive (issue 17.9); imported, the
            // message is closed unsent by the delivery job (no code to deliver).
            payload: custos_core::verification::scrub_code(&m.kind, &m.payload)
                .unwrap_or(m.payload),
            kind: m.kind,
            created_at: micros(m.created_at),
            attempts: m.attempts,
            next_attempt_at: micros(m.next_attempt_at),
            delivered_at: opt(m.delivered_at),
            last_error: m.last_error,
        },
        ArchiveRow::Idempotency(r) => Line::Idempotency {
            key: r.key,
            request_hash: r.request_hash.to_vec(),
            status: r.status,
            body: r.body,
            created_at: micros(r.created_at),
        },
        ArchiveRow::Audit(e) => Line::Audit {
            seq: e.seq,
            at: micros(e.draft.at),
            actor: e.draft.actor,
            key_id: e.draft.key_id,
            action: e.draft.action,
            purpose: e.draft.purpose,
            subject: e.draft.subject.map(|s| s.0),
            categories: e.draft.categories,
            outcome: e.draft.outcome.as_str().to_owned(),
            reason: e.draft.reason,
            request_id: e.draft.request_id,
            prev_hash: e.prev_hash.to_vec(),
            hash: e.hash.to_vec(),
        },
        ArchiveRow::HeldRecord(h) => Line::HeldRecord {
            id: h.id.0,
            subject: h.subject.0,
            category: h.category,
            ciphertext: h.ciphertext,
            purpose: h.purpose,
            source: h.source,
            collected_at: micros(h.collected_at),
            held_for: h.held_for,
            reason: h.reason,
            held_at: micros(h.held_at),
            until: opt(h.until),
        },
        ArchiveRow::Challenge(c) => Line::VerificationChallenge {
            id: c.id,
            subject: c.subject.0,
            category: c.category,
            code_hash: c.code_hash.to_vec(),
            created_at: micros(c.created_at),
            expires_at: micros(c.expires_at),
            attempts: c.attempts,
            consumed_at: opt(c.consumed_at),
        },
        ArchiveRow::Incident(i) => Line::Incident {
            id: i.id,
            version: i.version,
            document: i.document,
        },
        ArchiveRow::Contract(c) => Line::Contract {
            id: c.id,
            subject: c.subject.0,
            kind: c.kind.as_str().to_owned(),
            status: c.status,
            state: c.state,
            next_due: opt(c.next_due),
            version: c.version,
            created_at: micros(c.created_at),
            updated_at: micros(c.updated_at),
        },
        ArchiveRow::Aggregate(a) => Line::Aggregate {
            purpose: a.purpose,
            category: a.category,
            bucket: a.bucket,
            count: a.count,
        },
        ArchiveRow::LegalHold(h) => Line::LegalHold {
            id: h.id,
            subject: h.subject.0,
            record: h.record.map(|r| r.0),
            reason: h.reason,
            placed_at: micros(h.placed_at),
            until: opt(h.until),
        },
        // The checkpoint's tenant is the archive's (the header's).
        ArchiveRow::Checkpoint(c) => Line::Checkpoint {
            tree_size: c.checkpoint.tree_size,
            root_hash: c.checkpoint.root_hash.to_vec(),
            timestamp: c.checkpoint.timestamp_micros,
            signature: c.signature.to_vec(),
        },
    }
}

fn unknown_recorder() -> String {
    "unknown".to_owned()
}

fn bad(what: &str) -> anyhow::Error {
    InputError(format!("the archive is invalid: {what}")).into()
}

fn ts(us: i64) -> anyhow::Result<Timestamp> {
    from_micros(us).ok_or_else(|| bad("a time is out of range"))
}

fn ots(us: Option<i64>) -> anyhow::Result<Option<Timestamp>> {
    us.map(ts).transpose()
}

fn h32(v: Vec<u8>) -> anyhow::Result<[u8; 32]> {
    <[u8; 32]>::try_from(v).map_err(|_| bad("a hash is not 32 bytes"))
}

fn from_line(line: Line) -> anyhow::Result<ArchiveRow> {
    Ok(match line {
        Line::Tenant {
            id,
            name,
            created_at,
        } => ArchiveRow::Tenant(Tenant {
            id: TenantId::new(&id).ok_or_else(|| bad("not a tenant id"))?,
            name,
            created_at: ts(created_at)?,
        }),
        Line::PolicyVersion {
            number,
            label,
            text,
            effective_at,
            published_at,
        } => ArchiveRow::PolicyVersion(PolicyVersion {
            number,
            label,
            text,
            effective_at: ts(effective_at)?,
            published_at: ts(published_at)?,
        }),
        Line::ApiKey {
            id,
            hash,
            label,
            role,
            purposes,
            admin,
            created_at,
            revoked_at,
        } => ArchiveRow::ApiKey(ApiKey {
            id,
            // Replaced by the archive's tenant when imported (see `run_import`).
            tenant: TenantId::new("placeholder").ok_or_else(|| bad("tenant"))?,
            hash: h32(hash)?,
            label,
            role,
            purposes,
            admin,
            created_at: ts(created_at)?,
            revoked_at: ots(revoked_at)?,
        }),
        Line::Subject {
            id,
            wrapped_dek,
            kek_version,
            jurisdiction,
            state,
            created_at,
            updated_at,
        } => ArchiveRow::Subject(Subject {
            id: SubjectId(id),
            wrapped_dek,
            kek_version,
            jurisdiction,
            state: SubjectState::parse(&state).ok_or_else(|| bad("unknown subject state"))?,
            created_at: ts(created_at)?,
            updated_at: ts(updated_at)?,
        }),
        Line::Record {
            id,
            subject,
            category,
            ciphertext,
            purpose,
            source,
            collected_at,
            expires_at,
        } => ArchiveRow::Record(Record {
            id: RecordId(id),
            subject: SubjectId(subject),
            category,
            ciphertext,
            purpose,
            source,
            collected_at: ts(collected_at)?,
            expires_at: ots(expires_at)?,
        }),
        Line::BlindIndex {
            subject,
            category,
            hash,
        } => ArchiveRow::BlindIndex {
            subject: SubjectId(subject),
            entry: BlindIndexEntry {
                category,
                hash: h32(hash)?,
            },
        },
        Line::Consent {
            id,
            subject,
            purpose,
            kind,
            policy_version,
            notice_hash,
            channel,
            ip_hash,
            user_agent,
            at,
            recorded_by,
        } => ArchiveRow::Consent(ConsentEvent {
            id,
            subject: SubjectId(subject),
            purpose,
            kind: ConsentKind::parse(&kind).ok_or_else(|| bad("unknown consent kind"))?,
            policy_version,
            notice_hash: h32(notice_hash)?,
            channel,
            ip_hash: ip_hash.map(h32).transpose()?,
            user_agent,
            at: ts(at)?,
            recorded_by,
        }),
        Line::Request {
            id,
            subject,
            right,
            state,
            jurisdiction,
            channel,
            received_at,
            due_at,
            extended_until,
            extension_reason,
            closed_at,
            rejection_reason,
        } => ArchiveRow::Request(RightsRequest {
            id,
            subject: subject.map(SubjectId),
            right,
            state: RequestState::parse(&state).ok_or_else(|| bad("unknown request state"))?,
            jurisdiction,
            channel,
            received_at: ts(received_at)?,
            due_at: ts(due_at)?,
            extended_until: ots(extended_until)?,
            extension_reason,
            closed_at: ots(closed_at)?,
            rejection_reason,
        }),
        Line::Outbox {
            id,
            subject,
            kind,
            payload,
            created_at,
            attempts,
            next_attempt_at,
            delivered_at,
            last_error,
        } => ArchiveRow::Outbox(OutboxMessage {
            id,
            subject: subject.map(SubjectId),
            kind,
            payload,
            created_at: ts(created_at)?,
            attempts,
            next_attempt_at: ts(next_attempt_at)?,
            delivered_at: ots(delivered_at)?,
            last_error,
        }),
        Line::Idempotency {
            key,
            request_hash,
            status,
            body,
            created_at,
        } => ArchiveRow::Idempotency(IdempotentResponse {
            key,
            request_hash: h32(request_hash)?,
            status,
            body,
            created_at: ts(created_at)?,
        }),
        Line::Audit {
            seq,
            at,
            actor,
            key_id,
            action,
            purpose,
            subject,
            categories,
            outcome,
            reason,
            request_id,
            prev_hash,
            hash,
        } => ArchiveRow::Audit(AuditEntry {
            seq,
            draft: AuditDraft {
                at: ts(at)?,
                actor,
                key_id,
                action,
                purpose,
                subject: subject.map(SubjectId),
                categories,
                outcome: Outcome::parse(&outcome).ok_or_else(|| bad("unknown outcome"))?,
                reason,
                request_id,
            },
            prev_hash: h32(prev_hash)?,
            hash: h32(hash)?,
        }),
        Line::HeldRecord {
            id,
            subject,
            category,
            ciphertext,
            purpose,
            source,
            collected_at,
            held_for,
            reason,
            held_at,
            until,
        } => ArchiveRow::HeldRecord(HeldRecord {
            id: RecordId(id),
            subject: SubjectId(subject),
            category,
            ciphertext,
            purpose,
            source,
            collected_at: ts(collected_at)?,
            held_for,
            reason,
            held_at: ts(held_at)?,
            until: ots(until)?,
        }),
        Line::VerificationChallenge {
            id,
            subject,
            category,
            code_hash,
            created_at,
            expires_at,
            attempts,
            consumed_at,
        } => ArchiveRow::Challenge(Challenge {
            id,
            subject: SubjectId(subject),
            category,
            code_hash: h32(code_hash)?,
            created_at: ts(created_at)?,
            expires_at: ts(expires_at)?,
            attempts,
            consumed_at: ots(consumed_at)?,
        }),
        Line::Incident {
            id,
            version,
            document,
        } => ArchiveRow::Incident(IncidentRow {
            id,
            version,
            document,
        }),
        Line::Contract {
            id,
            subject,
            kind,
            status,
            state,
            next_due,
            version,
            created_at,
            updated_at,
        } => ArchiveRow::Contract(custos_store::ContractRow {
            id,
            subject: SubjectId(subject),
            kind: custos_store::ContractKind::parse(&kind)
                .ok_or_else(|| InputError(format!("unknown contract kind `{kind}`")))?,
            status,
            state,
            next_due: ots(next_due)?,
            version,
            created_at: ts(created_at)?,
            updated_at: ts(updated_at)?,
        }),
        Line::Aggregate {
            purpose,
            category,
            bucket,
            count,
        } => ArchiveRow::Aggregate(AggregateRow {
            purpose,
            category,
            bucket,
            count,
        }),
        Line::LegalHold {
            id,
            subject,
            record,
            reason,
            placed_at,
            until,
        } => ArchiveRow::LegalHold(LegalHold {
            id,
            subject: SubjectId(subject),
            record: record.map(RecordId),
            reason,
            placed_at: ts(placed_at)?,
            until: ots(until)?,
        }),
        Line::Checkpoint {
            tree_size,
            root_hash,
            timestamp,
            signature,
        } => ArchiveRow::Checkpoint(SignedCheckpoint {
            checkpoint: Checkpoint {
                // Replaced by the archive's tenant when read (see `read_archive`).
                tenant: String::new(),
                tree_size,
                root_hash: h32(root_hash)?,
                timestamp_micros: timestamp,
            },
            signature: <[u8; 64]>::try_from(signature)
                .map_err(|_| bad("a signature is not 64 bytes"))?,
        }),
    })
}

fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows ({per_sec})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

// --- export ------------------------------------------------------------------------

struct Writer {
    out: BufWriter<File>,
    tenant: TenantId,
    bar: Option<ProgressBar>,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("cannot write the archive: {}", e.kind()))
}

impl ArchiveSink for Writer {
    fn counts(&mut self, counts: &ArchiveCounts) -> custos_store::Result<()> {
        let header = Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            tenant: self.tenant.to_string(),
            counts: (*counts).into(),
        };
        serde_json::to_writer(&mut self.out, &header)
            .map_err(|e| StoreError::Backend(format!("cannot write the archive: {e}")))?;
        self.out.write_all(b"\n").map_err(io)?;
        self.bar = Some(progress(counts.total() + 1, "exporting"));
        Ok(())
    }

    fn row(&mut self, row: ArchiveRow) -> custos_store::Result<()> {
        serde_json::to_writer(&mut self.out, &to_line(row))
            .map_err(|e| StoreError::Backend(format!("cannot write the archive: {e}")))?;
        self.out.write_all(b"\n").map_err(io)?;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        Ok(())
    }
}

pub fn run_export(args: ExportArgs) -> anyhow::Result<()> {
    let t = tenant(&args.tenant)?;
    let store = DataDir::new(&args.data_dir).store(args.database_url.as_deref())?;
    if store.tenant(&t)?.is_none() {
        return Err(InputError(format!("no tenant `{t}` in this database")).into());
    }
    // The archive holds every person's sealed data and the tenant's records: owner
    // only, also when it replaces an older file with wider permissions.
    let file = {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let cannot =
            |e: std::io::Error| InputError(format!("cannot create {}: {e}", args.output.display()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&args.output)
            .map_err(cannot)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(cannot)?;
        file
    };
    let mut writer = Writer {
        out: BufWriter::new(file),
        tenant: t.clone(),
        bar: None,
    };
    store.export_tenant(&t, &mut writer)?;
    writer
        .out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write the archive: {}", e.error().kind()))?
        .sync_all()?;
    let rows = writer.bar.as_ref().map_or(0, |b| b.position());
    if let Some(bar) = writer.bar {
        bar.finish_and_clear();
    }
    emit(
        &format!(
            "exported tenant {t}: {rows} rows to {} (the key file is not in the archive)",
            args.output.display()
        ),
        None,
    )
}

// --- import ------------------------------------------------------------------------

/// Reads the archive line by line: the header, then each row decoded.
fn read_archive(
    path: &Path,
    mut each: impl FnMut(ArchiveRow) -> anyhow::Result<()>,
) -> anyhow::Result<Header> {
    let file =
        File::open(path).map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))?;
    let mut lines = BufReader::new(file).lines();
    let first = lines
        .next()
        .ok_or_else(|| bad("the file is empty"))?
        .context("cannot read the archive")?;
    let header: Header = serde_json::from_str(&first).map_err(|_| bad("no header line"))?;
    if header.format != FORMAT || header.version != VERSION {
        return Err(bad(&format!(
            "format {} version {} (this custos reads {FORMAT} version {VERSION})",
            header.format, header.version
        )));
    }
    let tenant = TenantId::new(&header.tenant).ok_or_else(|| bad("not a tenant id"))?;
    for (n, line) in lines.enumerate() {
        let line = line.context("cannot read the archive")?;
        let parsed: Line = serde_json::from_str(&line)
            .map_err(|e| bad(&format!("line {}: {}", n + 2, e.classify_name())))?;
        let mut row = from_line(parsed)?;
        match &mut row {
            ArchiveRow::ApiKey(k) => k.tenant = tenant.clone(),
            ArchiveRow::Checkpoint(c) => c.checkpoint.tenant = tenant.to_string(),
            _ => {}
        }
        each(row)?;
    }
    Ok(header)
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "cannot be read",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "a field is missing, unknown or of the wrong type",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

pub fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    // The key file first: the target database must be bound to a key file (it
    // is checked on opening), and that file must open the archive's data keys.
    let dir = DataDir::new(&args.data_dir);
    let store = dir.store(args.database_url.as_deref())?;
    crate::external_checkpoints::exact_copy(&store);
    let (_, keys) = dir.key_ring()?;
    // First pass: the whole archive is read and checked (counts, order, audit
    // chain, data keys) before anything is written.
    let mut counts = ArchiveCounts::default();
    let mut verifier = custos_audit::Verifier::default();
    let mut first_tenant = None;
    let mut rows_seen = 0u64;
    let header = {
        let mut check = |row: ArchiveRow| -> anyhow::Result<()> {
            rows_seen += 1;
            if rows_seen == 1 {
                let ArchiveRow::Tenant(t) = &row else {
                    return Err(bad("the first row is not the tenant"));
                };
                first_tenant = Some(t.id.clone());
            }
            counts.add(&row);
            if let ArchiveRow::Audit(e) = &row {
                let tenant = first_tenant.clone().ok_or_else(|| bad("no tenant row"))?;
                let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
                verifier
                    .check(&e.hash_fields(&tenant, &subject), &e.prev_hash, &e.hash)
                    .map_err(|e| bad(&format!("audit chain: {e}")))?;
            }
            // Every data key must open with this key file, or the imported
            // values could never be read (fail before writing anything).
            if let ArchiveRow::Subject(subject) = &row
                && !subject.wrapped_dek.is_empty()
            {
                let tenant = first_tenant.clone().ok_or_else(|| bad("no tenant row"))?;
                let opens = keys
                    .kek(tenant.as_str(), subject.kek_version)
                    .and_then(|kek| {
                        let aad =
                            custos_crypto::Aad::subject(tenant.as_str(), &subject.id.to_string())?;
                        custos_crypto::unwrap_dek(&kek, &subject.wrapped_dek, &aad)
                    })
                    .is_ok();
                if !opens {
                    return Err(InputError(format!(
                        "VAULT-0264: the archive's data keys do not open with the key file {}; \
                         import with the key file of the database it was exported from; nothing imported",
                        dir.keys().display()
                    ))
                    .into());
                }
            }
            Ok(())
        };
        read_archive(&args.input, &mut check)?
    };
    let t = tenant(&header.tenant)?;
    if first_tenant.as_ref() != Some(&t) {
        return Err(bad("the tenant row does not match the header"));
    }
    if Counts::from(counts) != header.counts {
        return Err(bad("the rows do not match the header's counts"));
    }

    if store.tenant(&t)?.is_some() {
        return Err(InputError(format!(
            "tenant `{t}` already exists in the target database; nothing imported"
        ))
        .into());
    }
    let bar = progress(counts.total() + 1, "importing");
    let mut batch = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<ArchiveRow>| -> anyhow::Result<()> {
        store
            .import_rows(&t, batch)
            .with_context(|| format!("importing tenant {t} failed part-way"))?;
        bar.inc(u64::try_from(batch.len()).unwrap_or(0));
        batch.clear();
        Ok(())
    };
    read_archive(&args.input, |row| {
        batch.push(row);
        if batch.len() >= BATCH {
            flush(&mut batch)?;
        }
        Ok(())
    })?;
    flush(&mut batch)?;
    bar.finish_and_clear();

    // The audit log's Merkle tree, which the archive does not carry, is built
    // from the imported entries (the checkpoints commit to it).
    store
        .catch_up_tree(&t)
        .with_context(|| format!("building the audit tree of tenant {t} failed"))?;

    // Then the target is checked: the same counts, and a chain that verifies.
    let stored = store.archive_counts(&t)?;
    if Counts::from(stored) != header.counts {
        return Err(anyhow::anyhow!(
            "the imported counts differ from the archive's: {stored:?}"
        ));
    }
    let report = verify_chain(store.as_ref(), &t)
        .map_err(|e| anyhow::anyhow!("the imported audit chain does not verify: {e}"))?;
    emit(
        &format!(
            "imported tenant {t}: {} rows, audit chain ok ({} entries); run custos with the \
             source's key file",
            counts.total() + 1,
            report.entries
        ),
        None,
    )
}
