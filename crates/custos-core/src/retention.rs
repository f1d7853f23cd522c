//! The retention sweep (P0-9, L-6): records whose `expires_at` has passed are
//! deleted, anonymised or isolated, as their category's `on_expiry` says.
//!
//! * `delete` — the record goes, and the subject's blind-index entries of that
//!   category once no record of it remains.
//! * `anonymise` — the value is folded into an anonymous aggregate (purpose,
//!   category, bucket: a decade for numbers, a year for dates, nothing for text),
//!   then the record is deleted, in the same transaction.
//! * `isolate` — the record is re-sealed under the tenant's hold key and moved
//!   into the isolated hold with the reason [`ISOLATE_REASON`].
//!
//! Records under a legal hold ([`place_legal_hold`]) or of a restricted subject
//! are skipped and counted. The walk is a keyset over (`expires_at`, id), in
//! batches; each batch commits on its own with one `retention.sweep` audit entry
//! (counts and category names, never a value). So a sweep is **resumable** (a
//! failure loses at most the batch in flight, which rolled back) and
//! **idempotent** (a record already gone is skipped by the store, its aggregate
//! contribution with it; a second sweep finds nothing). A dry run walks the same
//! records and writes nothing: its report forecasts what would go, by category
//! and expiry date.
//!
//! Aggregates are read through [`aggregates`], which never returns a group
//! smaller than [`custos_store::MIN_GROUP`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use custos_crypto::{Aad, Dek, KeyRing, open, seal, unwrap_dek};
use custos_policy::Policy;
use custos_policy::model::{OnExpiry, Shape};
use custos_store::{
    AggregateRow, AuditDraft, ExpiredRecord, HeldRecord, LegalHold, MIN_GROUP, Outcome, RecordId,
    RetentionBatch, RetentionStore, StatsStore, Store, SubjectId, TenantId, Timestamp, Uuid,
};
use serde::Serialize;
use serde_json::Value;

use crate::error::VaultError;

/// Why an isolated record is kept, in the hold.
pub const ISOLATE_REASON: &str = "retention: deletion not yet possible";
/// The audit action of each batch.
pub const SWEEP_ACTION: &str = "retention.sweep";
/// Records per batch unless told otherwise.
pub const DEFAULT_BATCH: usize = 1000;

/// What a sweep did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Records whose expiry has passed.
    pub due: u64,
    pub deleted: u64,
    pub anonymised: u64,
    pub isolated: u64,
    /// Under a legal hold or of a restricted subject: left as they are.
    pub skipped_held: u64,
    /// Batches committed (0 for a dry run).
    pub batches: u64,
    pub dry_run: bool,
    /// What goes (or went), by category, expiry date and action.
    pub forecast: Vec<ForecastRow>,
}

/// Records of one category expiring on one day, and what happens to them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ForecastRow {
    pub category: String,
    /// `YYYY-MM-DD` (UTC) of `expires_at`.
    pub date: String,
    /// `delete`, `anonymise`, `isolate` or `held`.
    pub action: &'static str,
    pub count: u64,
}

/// One sweep's parameters.
#[derive(Debug, Clone)]
pub struct SweepParams<'a> {
    pub tenant: &'a TenantId,
    /// Records with `expires_at <= now` are due.
    pub now: Timestamp,
    /// Records per batch (at least 1).
    pub batch: usize,
    pub dry_run: bool,
}

/// Sweeps `tenant` under the policy in force at `now`.
pub fn sweep<S: Store + RetentionStore + ?Sized>(
    store: &S,
    keys: &KeyRing,
    tenant: &TenantId,
    now: Timestamp,
    batch: usize,
    dry_run: bool,
) -> Result<SweepReport, VaultError> {
    let version = store
        .policy_in_force(tenant, now)?
        .ok_or(VaultError::NoPolicy)?;
    let loaded = custos_policy::load(&version.text, "stored policy")
        .map_err(|_| VaultError::Internal("the stored policy no longer loads".into()))?;
    let params = SweepParams {
        tenant,
        now,
        batch,
        dry_run,
    };
    sweep_with(store, keys, &loaded.policy, &params, &mut |_| {})
}

/// The sweep itself, over a policy already loaded; `progress` sees the running
/// totals after each batch.
pub fn sweep_with<R: RetentionStore + ?Sized>(
    store: &R,
    keys: &KeyRing,
    policy: &Policy,
    p: &SweepParams<'_>,
    progress: &mut dyn FnMut(&SweepReport),
) -> Result<SweepReport, VaultError> {
    let tenant = p.tenant.as_str();
    let batch = p.batch.max(1);
    let mut report = SweepReport {
        dry_run: p.dry_run,
        ..SweepReport::default()
    };
    let mut forecast: BTreeMap<(String, String, &'static str), u64> = BTreeMap::new();
    let mut cursor: Option<(Timestamp, RecordId)> = None;
    let mut hold_key: Option<Dek> = None;
    loop {
        let page = store.expired_records(p.tenant, p.now, cursor, batch)?;
        let Some(last) = page.last() else { break };
        cursor = last.record.expires_at.map(|t| (t, last.record.id));
        if cursor.is_none() {
            return Err(VaultError::Internal(
                "an expired record without expiry".into(),
            ));
        }
        let full = page.len() >= batch;

        let mut delete = Vec::new();
        let mut anonymise = Vec::new();
        let mut isolate = Vec::new();
        let mut categories = BTreeSet::new();
        let mut deks: HashMap<SubjectId, Dek> = HashMap::new();
        let mut skipped = 0u64;
        for e in &page {
            report.due += 1;
            let r = &e.record;
            let cat = policy.category.get(&r.category);
            let action = if e.held || e.restricted {
                skipped += 1;
                "held"
            } else {
                match cat.map(|c| c.on_expiry).unwrap_or_default() {
                    OnExpiry::Delete => "delete",
                    OnExpiry::Anonymise => "anonymise",
                    OnExpiry::Isolate => "isolate",
                }
            };
            let date = r
                .expires_at
                .map(|t| t.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default();
            *forecast
                .entry((r.category.clone(), date, action))
                .or_insert(0) += 1;
            if p.dry_run || action == "held" {
                continue;
            }
            categories.insert(r.category.clone());
            match action {
                "delete" => delete.push(r.id),
                "anonymise" => {
                    let value = open_value(keys, tenant, e, &mut deks)?;
                    let shape = cat.map(|c| c.shape).unwrap_or_default();
                    anonymise.push((
                        r.id,
                        AggregateRow {
                            purpose: r.purpose.clone(),
                            category: r.category.clone(),
                            bucket: bucket(shape, &value),
                            count: 1,
                        },
                    ));
                }
                _ => {
                    let sid = r.subject.to_string();
                    let aad = Aad::new(tenant, &sid, &r.category, &r.id.to_string())?;
                    let dek = subject_dek(keys, tenant, e, &mut deks)?;
                    let plain = open(dek, &aad, &r.ciphertext)?;
                    let hk = match &hold_key {
                        Some(k) => k,
                        None => hold_key.insert(keys.hold_key(tenant)?),
                    };
                    isolate.push(HeldRecord {
                        id: r.id,
                        subject: r.subject,
                        category: r.category.clone(),
                        ciphertext: seal(hk, &aad, &plain)?,
                        purpose: r.purpose.clone(),
                        source: r.source.clone(),
                        collected_at: r.collected_at,
                        held_for: r.purpose.clone(),
                        reason: ISOLATE_REASON.to_owned(),
                        held_at: p.now,
                        until: None,
                    });
                }
            }
        }
        report.skipped_held += skipped;
        if p.dry_run {
            let (d, a, i) = action_counts(&page, policy);
            report.deleted += d;
            report.anonymised += a;
            report.isolated += i;
        } else if !(delete.is_empty() && anonymise.is_empty() && isolate.is_empty()) {
            let audit = AuditDraft {
                at: p.now,
                actor: "system".into(),
                key_id: None,
                action: SWEEP_ACTION.into(),
                purpose: None,
                subject: None,
                categories: categories.into_iter().collect(),
                outcome: Outcome::Allow,
                reason: format!(
                    "retention batch: {} deleted, {} anonymised, {} isolated, {} skipped (hold or restriction)",
                    delete.len(),
                    anonymise.len(),
                    isolate.len(),
                    skipped
                ),
                request_id: None,
            };
            let done = store.apply_retention(&RetentionBatch {
                tenant: p.tenant,
                delete: &delete,
                anonymise: &anonymise,
                isolate: &isolate,
                audit: &audit,
            })?;
            report.deleted += done.deleted;
            report.anonymised += done.anonymised;
            report.isolated += done.isolated;
            report.batches += 1;
        }
        progress(&report);
        if !full {
            break;
        }
    }
    report.forecast = forecast
        .into_iter()
        .map(|((category, date, action), count)| ForecastRow {
            category,
            date,
            action,
            count,
        })
        .collect();
    Ok(report)
}

/// What a dry run counts for a page: (delete, anonymise, isolate).
fn action_counts(page: &[ExpiredRecord], policy: &Policy) -> (u64, u64, u64) {
    let mut n = (0, 0, 0);
    for e in page.iter().filter(|e| !e.held && !e.restricted) {
        match policy
            .category
            .get(&e.record.category)
            .map(|c| c.on_expiry)
            .unwrap_or_default()
        {
            OnExpiry::Delete => n.0 += 1,
            OnExpiry::Anonymise => n.1 += 1,
            OnExpiry::Isolate => n.2 += 1,
        }
    }
    n
}

fn subject_dek<'d>(
    keys: &KeyRing,
    tenant: &str,
    e: &ExpiredRecord,
    deks: &'d mut HashMap<SubjectId, Dek>,
) -> Result<&'d Dek, VaultError> {
    use std::collections::hash_map::Entry;
    match deks.entry(e.record.subject) {
        Entry::Occupied(o) => Ok(o.into_mut()),
        Entry::Vacant(v) => {
            let kek = keys.kek(tenant, e.kek_version)?;
            let aad = Aad::subject(tenant, &e.record.subject.to_string())?;
            Ok(v.insert(unwrap_dek(&kek, &e.wrapped_dek, &aad)?))
        }
    }
}

fn open_value(
    keys: &KeyRing,
    tenant: &str,
    e: &ExpiredRecord,
    deks: &mut HashMap<SubjectId, Dek>,
) -> Result<Value, VaultError> {
    let r = &e.record;
    let aad = Aad::new(
        tenant,
        &r.subject.to_string(),
        &r.category,
        &r.id.to_string(),
    )?;
    let dek = subject_dek(keys, tenant, e, deks)?;
    let plain = open(dek, &aad, &r.ciphertext)?;
    serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity)
}

/// The anonymous class of a value: numbers by decade (`"30-39"`), dates by year
/// (`"1987"`), anything else by nothing (`""`: the aggregate is a count). Never
/// the value itself.
pub fn bucket(shape: Shape, value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() => {
                let lo = (f / 10.0).floor() * 10.0;
                // Saturating: a value beyond i64 lands in the outermost decade.
                #[allow(clippy::cast_possible_truncation)]
                let lo = lo as i64;
                format!("{lo}-{}", lo.saturating_add(9))
            }
            _ => String::new(),
        },
        Value::String(s) if shape == Shape::Date => {
            let year: String = s.chars().take(4).collect();
            if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) {
                year
            } else {
                String::new()
            }
        }
        _ => String::new(),
    }
}

/// The tenant's aggregates, only groups of at least [`MIN_GROUP`] records.
pub fn aggregates<S: StatsStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<Vec<AggregateRow>, VaultError> {
    Ok(store.aggregates(tenant, MIN_GROUP)?)
}

/// Places a legal hold on a subject (or one of its records): the sweep leaves
/// what it covers until `until` (or for good when `None`). The reason is in
/// words, in the audit log: it must not carry personal values.
pub fn place_legal_hold<S: RetentionStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    subject: SubjectId,
    record: Option<RecordId>,
    reason: &str,
    until: Option<Timestamp>,
    now: Timestamp,
) -> Result<LegalHold, VaultError> {
    let hold = LegalHold {
        id: Uuid::now_v7(),
        subject,
        record,
        reason: reason.trim().to_owned(),
        placed_at: now,
        until,
    };
    let audit = AuditDraft {
        at: now,
        actor: "operator".into(),
        key_id: None,
        action: "legal_hold".into(),
        purpose: None,
        subject: Some(subject),
        categories: Vec::new(),
        outcome: Outcome::Allow,
        // A reference, never the operator's words (issue 17.11).
        reason: format!("legal hold {} placed", hold.id),
        request_id: None,
    };
    store.place_legal_hold(tenant, &hold, &audit)?;
    Ok(hold)
}

/// Whether a record is past its expiry at `now` (due for the sweep): from then on
/// it is never read, exported or found, even before the sweep removes it (issue
/// 13.14). The sweep's own test is the same `expires_at <= now`.
pub fn expired(r: &custos_store::Record, now: Timestamp) -> bool {
    r.expires_at.is_some_and(|t| t <= now)
}
