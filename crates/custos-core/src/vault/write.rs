//! Writes: every value is checked against the policy and its shape, payment card
//! data is refused wherever it hides, then values are sealed under the subject's
//! data key and stored with the audit entry in one transaction. Nothing is written
//! unless every record of the request is acceptable.

use std::collections::BTreeSet;

use custos_crypto::{Aad, Dek, seal, unwrap_dek, wrap_dek};
use custos_policy::model::{Category, Policy, Source};
use custos_policy::names::pattern_matches;
use custos_policy::period::{Trigger, Unit};
use custos_store::{
    BlindIndexEntry, IdempotentResponse, Record, RecordId, Store, StoreError, Subject, SubjectId,
    SubjectState, SubjectWrite, Timestamp, Uuid,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Actor, RequestCtx, Vault, shape};
use crate::error::{FieldError, VaultError, field};
use crate::tenant::ActivePolicy;

/// Field code: the category's policy entry does not list this source (V-1).
pub const SOURCE_NOT_LISTED: &str = "VAULT-0202";

/// Most records one request may write.
pub const MAX_RECORDS: usize = 1000;

/// One value to store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    pub category: String,
    pub value: Value,
    /// The purpose it is collected for.
    pub purpose: String,
    /// Where it comes from (`data_subject` when absent).
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteRequest {
    /// Jurisdiction of the person (`FR`, `DE`, …); only when creating a subject.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    pub records: Vec<NewRecord>,
    /// Customer settings and device permissions in force for this write
    /// (`{"gps_enabled": true}`): a category with `requires_setting` is accepted only
    /// when its setting is on (S-2, L-2).
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, bool>,
    /// The person's consent, as given on the client's form, for purposes that rest
    /// on consent: recorded first, in the same transaction as the records (issue
    /// 13.1). Only a role allowed to record consent may carry it (issue 13.2).
    #[serde(default)]
    pub consents: Vec<CarriedConsent>,
}

/// A consent the person gave on the client's own form, carried by the write that
/// collects the data it allows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarriedConsent {
    pub purpose: String,
    /// The exact text the form showed: required, so a receipt never claims a
    /// notice nobody gave.
    pub notice_text: String,
    /// How it was given (`web`, `app`, …).
    pub channel: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub subject: SubjectId,
    pub records: Vec<RecordId>,
    pub audit_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    Created(Written),
    /// The idempotency key was seen with this same request: the first answer, again.
    Replayed(Written),
}

impl WriteOutcome {
    pub fn written(&self) -> &Written {
        match self {
            WriteOutcome::Created(w) | WriteOutcome::Replayed(w) => w,
        }
    }
}

impl<S: Store> Vault<S> {
    /// Creates a subject with its first records.
    pub fn create_subject(
        &self,
        actor: &Actor,
        req: &WriteRequest,
        ctx: &RequestCtx,
    ) -> Result<WriteOutcome, VaultError> {
        self.write(actor, None, req, ctx)
    }

    fn write(
        &self,
        actor: &Actor,
        existing: Option<SubjectId>,
        req: &WriteRequest,
        ctx: &RequestCtx,
    ) -> Result<WriteOutcome, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        let problems = validate(&policy.policy, req, existing.is_none());
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        let purposes: BTreeSet<&str> = req.records.iter().map(|r| r.purpose.as_str()).collect();
        for purpose in &purposes {
            if let Err(e) = self.authorise_write(actor, &policy, purpose) {
                return Err(self.deny(actor, ctx, "write", Some(purpose), existing, e));
            }
        }
        // A replay is answered only after the caller proved it may make this write.
        if let Some(replayed) = self.replay(actor, ctx)? {
            return Ok(replayed);
        }

        let now = self.clock.now();
        let tenant = actor.tenant.as_str();
        let (subject, dek) = match existing {
            None => {
                let id = SubjectId(Uuid::now_v7());
                let dek = Dek::generate()?;
                let kek = self.keys.current_kek(tenant)?;
                let wrapped = wrap_dek(&kek, &dek, &Aad::subject(tenant, &id.to_string())?)?;
                let subject = Subject {
                    id,
                    wrapped_dek: wrapped,
                    kek_version: kek.version(),
                    jurisdiction: req.jurisdiction.clone(),
                    state: SubjectState::Active,
                    created_at: now,
                    updated_at: now,
                };
                (subject, dek)
            }
            Some(id) => {
                let subject = self
                    .store
                    .subject(&actor.tenant, id)?
                    .ok_or(VaultError::SubjectNotFound)?;
                if subject.state == SubjectState::Erased {
                    return Err(VaultError::SubjectErased);
                }
                let dek = self.subject_key(&actor.tenant, &subject)?;
                (subject, dek)
            }
        };

        // Settings the write records (issue 13.3): in its transaction, with the consents.
        let (setting_events, switched_off) =
            self.carried_settings(actor, policy.number, Some(subject.id), &req.settings)?;
        // Age, opt-out, settings and Art. 9 gates (gates.rs): nothing is written on failure.
        let gate_problems = self.collection_gates(
            &actor.tenant,
            &policy,
            existing,
            subject.jurisdiction.as_deref(),
            req,
            &switched_off,
        )?;
        if !gate_problems.is_empty() {
            return Err(VaultError::Invalid(gate_problems));
        }

        // The consent the write carries, checked like any consent (who may grant,
        // channel, text); an unacceptable one refuses the whole write.
        let mut consents = self.carried_consents(actor, &policy, subject.id, req, ctx)?;
        consents.extend(setting_events);

        let mut records = Vec::with_capacity(req.records.len());
        let mut index = Vec::new();
        for r in &req.records {
            let Some(cat) = policy.policy.category.get(&r.category) else {
                return Err(VaultError::Internal("validated category vanished".into()));
            };
            let value = shape::check(cat.shape, &r.value)
                .map_err(|_| VaultError::Internal("validated value changed".into()))?;
            let id = RecordId(Uuid::now_v7());
            let aad = Aad::new(
                tenant,
                &subject.id.to_string(),
                &r.category,
                &id.to_string(),
            )?;
            let plaintext =
                serde_json::to_vec(&value).map_err(|e| VaultError::Internal(e.to_string()))?;
            records.push(Record {
                id,
                subject: subject.id,
                category: r.category.clone(),
                ciphertext: seal(&dek, &aad, &plaintext)?,
                purpose: r.purpose.clone(),
                source: r
                    .source
                    .clone()
                    .unwrap_or_else(|| "data_subject".to_owned()),
                collected_at: now,
                expires_at: expiry(cat, now),
            });
            if cat.lookup
                && let Value::String(s) = &value
            {
                let key = self.keys.blind_index_key(tenant, &r.category)?;
                let hash = super::read::index_hash(&key, cat.shape, s);
                index.push(BlindIndexEntry {
                    category: r.category.clone(),
                    hash,
                });
            }
        }

        let mut audit = self.audit(actor, ctx, "write");
        audit.subject = Some(subject.id);
        audit.purpose =
            (purposes.len() == 1).then(|| purposes.iter().map(|p| (*p).to_owned()).collect());
        audit.categories = req
            .records
            .iter()
            .map(|r| r.category.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        audit.reason = if existing.is_none() {
            "subject created".into()
        } else {
            "records added".into()
        };
        if !consents.is_empty() {
            let purposes: Vec<&str> = consents.iter().map(|e| e.purpose.as_str()).collect();
            audit.reason = format!(
                "{}; consent granted to {}",
                audit.reason,
                purposes.join(", ")
            );
        }

        let mut written = Written {
            subject: subject.id,
            records: records.iter().map(|r| r.id).collect(),
            audit_seq: 0,
        };
        let stored_response = ctx
            .idempotency
            .as_ref()
            .map(|(key, hash)| IdempotentResponse {
                key: scoped_key(actor, key),
                request_hash: *hash,
                status: 201,
                // The audit sequence is only known after the write; replays report 0.
                body: serde_json::to_string(&written).unwrap_or_default(),
                created_at: now,
            });
        let write = SubjectWrite {
            tenant: &actor.tenant,
            subject: &subject,
            records: &records,
            index: &index,
            consents: &consents,
            audit: &audit,
            idempotency: stored_response.as_ref(),
        };
        let result = match existing {
            None => self.store.create_subject(&write),
            Some(_) => self.store.add_records(&write),
        };
        match result {
            Ok(audit_ref) => {
                written.audit_seq = audit_ref.seq;
                Ok(WriteOutcome::Created(written))
            }
            // Lost a race with the same idempotency key: answer as the winner did.
            Err(StoreError::Conflict(_)) if ctx.idempotency.is_some() => self
                .replay(actor, ctx)?
                .ok_or(VaultError::IdempotencyMismatch),
            Err(StoreError::NotFound(_)) => Err(VaultError::SubjectNotFound),
            Err(e) => Err(e.into()),
        }
    }

    fn replay(&self, actor: &Actor, ctx: &RequestCtx) -> Result<Option<WriteOutcome>, VaultError> {
        let Some((key, hash)) = &ctx.idempotency else {
            return Ok(None);
        };
        let Some(stored) = self
            .store
            .idempotent_response(&actor.tenant, &scoped_key(actor, key))?
        else {
            return Ok(None);
        };
        if !custos_crypto::ct_eq(&stored.request_hash, hash) {
            return Err(VaultError::IdempotencyMismatch);
        }
        let written: Written = serde_json::from_str(&stored.body)
            .map_err(|_| VaultError::Internal("stored idempotent response unreadable".into()))?;
        Ok(Some(WriteOutcome::Replayed(written)))
    }

    pub(crate) fn authorise_write(
        &self,
        actor: &Actor,
        policy: &ActivePolicy,
        purpose: &str,
    ) -> Result<(), VaultError> {
        if actor.admin && (actor.purposes.is_empty() || actor.purposes.iter().any(|p| p == purpose))
        {
            return Ok(());
        }
        self.authorise(actor, policy, purpose)
    }

    /// Unwraps a subject's data key with the KEK version it was wrapped under.
    pub(crate) fn subject_key(
        &self,
        tenant: &custos_store::TenantId,
        subject: &Subject,
    ) -> Result<Dek, VaultError> {
        let kek = self.keys.kek(tenant.as_str(), subject.kek_version)?;
        let aad = Aad::subject(tenant.as_str(), &subject.id.to_string())?;
        Ok(unwrap_dek(&kek, &subject.wrapped_dek, &aad)?)
    }
}

impl<S: Store + custos_store::LifecycleStore + custos_store::RequestStore> Vault<S> {
    /// Adds records to an existing subject. A record that shows the person is
    /// under the minimum age (a birth date, an attestation "no") is refused and,
    /// as for a rectification, an erasure request is opened and the subject
    /// restricted until staff decide (L-10: "delete if discovered").
    pub fn add_records(
        &self,
        actor: &Actor,
        subject: SubjectId,
        req: &WriteRequest,
        ctx: &RequestCtx,
    ) -> Result<WriteOutcome, VaultError> {
        match self.write(actor, Some(subject), req, ctx) {
            Err(VaultError::Invalid(problems))
                if problems.iter().any(|p| p.code == super::gates::UNDER_AGE) =>
            {
                let Some(row) = self.store.subject(&actor.tenant, subject)? else {
                    return Err(VaultError::SubjectNotFound);
                };
                let at = problems
                    .iter()
                    .find(|p| p.code == super::gates::UNDER_AGE)
                    .map(|p| p.pointer.clone())
                    .unwrap_or_default();
                Err(self.under_age_discovered(actor, &row, &at, ctx))
            }
            other => other,
        }
    }
}

/// Idempotency keys belong to the API key that sent them: another caller reusing the
/// same string neither sees the first answer nor blocks it.
fn scoped_key(actor: &Actor, key: &str) -> String {
    format!("{}/{key}", actor.key_id)
}

/// When a value expires, if its retention counts from collection or from the
/// last activity: collecting is activity (sign-up is the first), so a "N after
/// last activity" clock starts here and a person who never comes back is still
/// deleted on time (P0-9, issue 13.7). Other triggers (account closure …) are
/// set by the retention engine when they happen.
fn expiry(cat: &Category, collected: Timestamp) -> Option<Timestamp> {
    let rule = cat.retention.as_ref()?.rule()?;
    if !matches!(rule.after, Trigger::Collection | Trigger::LastActivity) {
        return None;
    }
    let n = i64::from(rule.span.n);
    let span = match rule.span.unit {
        Unit::Hours => jiff::Span::new().try_hours(n).ok()?,
        // Business days are counted as calendar days here: retention errs long, not short.
        Unit::Days | Unit::BusinessDays => jiff::Span::new().try_days(n).ok()?,
        Unit::Weeks => jiff::Span::new().try_weeks(n).ok()?,
        Unit::Months => jiff::Span::new().try_months(n).ok()?,
        Unit::Years => jiff::Span::new().try_years(n).ok()?,
    };
    let zoned = collected.to_zoned(jiff::tz::TimeZone::UTC);
    zoned.checked_add(span).ok().map(|z| z.timestamp())
}

/// Every problem with the request, each located by a JSON pointer. Messages name
/// categories and purposes, never values.
pub(crate) fn validate(policy: &Policy, req: &WriteRequest, creating: bool) -> Vec<FieldError> {
    let mut out = Vec::new();
    let mut push = |pointer: String, code: &'static str, detail: String| {
        out.push(FieldError {
            pointer,
            code,
            detail,
        });
    };
    if req.records.is_empty() {
        push(
            "/records".into(),
            field::EMPTY,
            "at least one record is required".into(),
        );
    }
    if req.records.len() > MAX_RECORDS {
        push(
            "/records".into(),
            field::TOO_MANY,
            format!("at most {MAX_RECORDS} records per request"),
        );
    }
    if let Some(j) = &req.jurisdiction {
        if !creating {
            push(
                "/jurisdiction".into(),
                field::JURISDICTION,
                "the jurisdiction is set when the subject is created".into(),
            );
        } else if !policy.jurisdiction.is_empty() && !policy.jurisdiction.contains_key(j) {
            let known: Vec<&str> = policy.jurisdiction.keys().map(String::as_str).collect();
            push(
                "/jurisdiction".into(),
                field::JURISDICTION,
                format!("the policy covers {}", known.join(", ")),
            );
        }
    }
    for (i, r) in req.records.iter().enumerate() {
        let at = |f: &str| format!("/records/{i}/{f}");
        let Some(cat) = policy.category.get(&r.category) else {
            push(
                at("category"),
                field::UNKNOWN_CATEGORY,
                format!("category `{}` is not in the policy", short(&r.category)),
            );
            continue;
        };
        if cat.never_store {
            push(
                at("category"),
                field::NEVER_STORE,
                format!(
                    "`{}` is never stored (payment data stays with the payment processor; keep only its token, brand, last four digits and expiry)",
                    r.category
                ),
            );
            continue;
        }
        if cat.anonymous {
            push(
                at("category"),
                field::ANONYMOUS,
                format!(
                    "`{}` is collected anonymously and cannot be linked to a person",
                    r.category
                ),
            );
            continue;
        }
        match policy.purpose.get(&r.purpose) {
            None => push(
                at("purpose"),
                field::UNKNOWN_PURPOSE,
                format!("purpose `{}` is not in the policy", short(&r.purpose)),
            ),
            Some(p)
                if !p.stores
                    || !p
                        .categories
                        .iter()
                        .any(|pat| pattern_matches(pat, &r.category)) =>
            {
                push(
                    at("purpose"),
                    field::NOT_COLLECTED,
                    format!("purpose `{}` does not collect `{}`", r.purpose, r.category),
                )
            }
            Some(_) => {}
        }
        let source = match &r.source {
            None => Some(Source::DataSubject),
            Some(s) => serde_json::from_value::<Source>(Value::String(s.clone())).ok(),
        };
        match source {
            None => push(at("source"), field::SOURCE, "unknown source; use data_subject, device, cookies, customer, third_party, public_sources, offline or partner".into()),
            // V-1: a category that lists its sources accepts only those.
            Some(s) if !cat.sources.is_empty() && !cat.sources.contains(&s) => {
                let listed: Vec<String> = cat
                    .sources
                    .iter()
                    .filter_map(|s| serde_json::to_value(s).ok())
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                push(
                    at("source"),
                    SOURCE_NOT_LISTED,
                    format!(
                        "the policy collects `{}` only from {}",
                        r.category,
                        listed.join(", ")
                    ),
                )
            }
            Some(_) => {}
        }
        if let Err(e) = shape::check(cat.shape, &r.value) {
            push(
                at("value"),
                field::BAD_SHAPE,
                format!("`{}`: {e}", r.category),
            );
        }
        scan_payment(&r.value, &at("value"), &mut push);
    }
    out
}

/// Refuses card numbers in any string and card security codes under any key (P0-2).
fn scan_payment(value: &Value, pointer: &str, push: &mut impl FnMut(String, &'static str, String)) {
    match value {
        Value::String(s) => {
            // Refusals name only the payment provider's reference as what may be
            // kept, the narrowest any policy allows (PLUME keeps nothing else).
            if custos_pii::contains_card_number(s) {
                push(pointer.to_owned(), field::CARD_NUMBER, "a payment card number was found; card data is never stored here (keep only the payment provider's reference)".into());
            }
            if !custos_pii::find_security_codes(s).is_empty() {
                push(
                    pointer.to_owned(),
                    field::CVV_IN_TEXT,
                    "a card security code was found; card security codes are never stored".into(),
                );
            }
            if !custos_pii::find_card_expiry(s).is_empty() {
                push(pointer.to_owned(), field::CARD_EXPIRY, "a card expiry date next to a card number was found; card data is never stored here (keep only the payment provider's reference)".into());
            }
        }
        Value::Number(n) => {
            if custos_pii::contains_card_number(&n.to_string()) {
                push(
                    pointer.to_owned(),
                    field::CARD_NUMBER,
                    "a payment card number was found".into(),
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                scan_payment(v, &format!("{pointer}/{i}"), push);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                if custos_pii::is_cvv_field_name(k) {
                    push(
                        p.clone(),
                        field::CVV_FIELD,
                        "card security codes (CVV/CVC) are never stored".into(),
                    );
                }
                scan_payment(v, &p, push);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Names from the request are echoed only when short and plain, so an error message
/// can never carry a value pasted into the wrong field.
fn short(name: &str) -> String {
    if name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-*".contains(c))
    {
        name.to_owned()
    } else {
        "(invalid name)".to_owned()
    }
}
