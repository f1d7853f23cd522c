//! The end of a value's life and of a person's: rectification (P0-11),
//! restriction (P0-16, L-6) and erasure with legal holds (P0-17, P0-10).
//!
//! * **Rectification** replaces one record's value, validated exactly as a write
//!   (category, purpose, shape, card numbers, CVV names), sealed under the same data
//!   key with the same record id in the AAD; the old ciphertext is overwritten. The
//!   audit entry names the category, never the value.
//! * **Restriction** sets the subject's state; reads then return nothing except to
//!   purposes declared `during_restriction` (storage, legal claims). Lifting it
//!   restores reads.
//! * **Erasure** crypto-shreds the subject: records and blind-index entries are
//!   deleted and the wrapped data key is overwritten, so every copy of the values
//!   sealed under it (replicas, backups) is unreadable once the master key version
//!   that wrapped it is retired (`custos keys rotate`, then removing the old
//!   version; see [`crate::keys::rewrap_tenant`]). Records whose category a
//!   legal-obligation purpose readable during restriction uses are first re-sealed
//!   under the tenant's hold key ([`custos_crypto::KeyRing::hold_key`]) and kept
//!   apart, with the reason and the date they become deletable; only such a
//!   purpose can read them ([`Vault::read_held`]).
//!
//! Anonymous aggregates hold no identifier and are untouched by erasure (custos
//! stores none linked to a subject).

use std::collections::{BTreeMap, BTreeSet};

use custos_crypto::{Aad, open, seal};
use custos_policy::Policy;
use custos_policy::model::{Basis, Shape};
use custos_policy::names::pattern_matches;
use custos_policy::period::Trigger;
use custos_store::{
    BlindIndexEntry, Erasure, HeldRecord, LifecycleStore, Outcome, Record, RecordId, Rectification,
    Store, StoreError, Subject, SubjectId, SubjectState, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::write::{NewRecord, WriteRequest, validate};
use super::{Actor, RequestCtx, Vault};
use crate::error::{FieldError, VaultError};
use crate::tenant::ActivePolicy;

/// Field code: the record named is not one of this subject's.
pub const RECORD_NOT_FOUND: &str = "VAULT-0150";
/// Field code: an erasure states its reason (1–2000 bytes).
pub const ERASURE_REASON: &str = "VAULT-0151";

/// A rectification as it arrives: the new value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectifyRequest {
    pub value: Value,
}

/// An erasure as it arrives: why (shown in the audit log and the receipt).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rectified {
    pub subject: SubjectId,
    pub record: RecordId,
    pub category: String,
    pub audit_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChanged {
    pub subject: SubjectId,
    /// `active` or `restricted`.
    pub state: &'static str,
    pub audit_seq: u64,
}

/// A category kept after erasure, and why. Names and dates only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptCategory {
    pub category: String,
    /// The purpose that keeps it (legal obligation, readable during restriction).
    pub held_for: String,
    /// The law or reason, from the policy.
    pub reason: String,
    /// When the last record of it becomes deletable.
    pub until: Option<Timestamp>,
    pub records: usize,
}

/// Proof of an erasure for the person: what was deleted, what is kept and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReceipt {
    pub subject: SubjectId,
    pub erased_at: Timestamp,
    pub reason: String,
    /// Categories whose records were deleted and whose key was destroyed.
    pub deleted: Vec<String>,
    pub kept: Vec<KeptCategory>,
    pub audit_seq: u64,
}

/// What an erasure deletes and keeps: categories only, with the law that keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasurePlan {
    /// Categories whose records are deleted.
    pub deleted: Vec<String>,
    pub kept: Vec<KeptCategory>,
}

/// A record an erasure keeps: the purpose holding it, why, until when.
type ToHold<'r> = (&'r Record, String, String, Option<Timestamp>);

/// An erasure planned: the records to re-seal under the hold key, and the outcome.
struct Planned<'r> {
    to_hold: Vec<ToHold<'r>>,
    outcome: ErasurePlan,
}

/// A held record, opened for a purpose allowed during restriction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldValue {
    pub record: RecordId,
    pub category: String,
    pub value: Value,
    pub collected_for: String,
    pub source: String,
    pub collected_at: Timestamp,
    pub held_for: String,
    pub reason: String,
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldRead {
    pub subject: SubjectId,
    pub purpose: String,
    pub values: Vec<HeldValue>,
}

/// The purpose (id, reason) that keeps `category` after erasure, if any: a
/// legal-obligation purpose allowed during restriction that uses the category.
pub fn legal_hold<'p>(policy: &'p Policy, category: &str) -> Option<(&'p str, String)> {
    policy
        .purpose
        .iter()
        .find(|(_, p)| {
            p.basis == Basis::LegalObligation
                && p.during_restriction
                && p.categories
                    .iter()
                    .any(|pat| pattern_matches(pat, category))
        })
        .map(|(id, p)| (id.as_str(), obligation_ground(p)))
}

/// `held_for` of records a staff legal hold keeps through an erasure: readable by
/// any purpose allowed during restriction (the hold's reason is legal claims).
pub const LEGAL_CLAIMS: &str = "legal_claims";

/// The ground of a record kept under a legal obligation (GDPR Art. 17(3)(b)).
fn obligation_ground(p: &custos_policy::model::Purpose) -> String {
    format!(
        "GDPR Art. 17(3)(b) legal obligation: {}",
        p.legal_reference.as_deref().unwrap_or(&p.description)
    )
}

/// Whether erasure keeps this record under a legal obligation (P0-17, issue
/// 13.8): a record collected for a legal-obligation purpose (read during
/// restriction) that lists its category, or one collected under a contract that
/// such a purpose needs (a payment reference behind an invoice) — never every
/// record of a category: what was collected on consent or legitimate interest
/// (a marketing lead's e-mail) goes at once, even when invoices keep an e-mail.
fn kept_by_obligation<'p>(policy: &'p Policy, record: &Record) -> Option<(&'p str, String)> {
    let collected_for = policy.purpose.get(&record.purpose)?;
    policy
        .purpose
        .iter()
        .find(|(id, p)| {
            p.basis == Basis::LegalObligation
                && p.during_restriction
                && p.categories
                    .iter()
                    .any(|pat| pattern_matches(pat, &record.category))
                && (**id == record.purpose || collected_for.basis == Basis::Contract)
        })
        .map(|(id, p)| (id.as_str(), obligation_ground(p)))
}

/// When a held record becomes deletable: its category's retention from collection,
/// or, for other triggers (last activity, account closure …), from the erasure,
/// which is when they happened at the latest. `None` when the category has no
/// retention in the policy.
fn hold_until(policy: &Policy, record: &Record, erased_at: Timestamp) -> Option<Timestamp> {
    // An erasure never extends a record's life: an expiry already set stays.
    if record.expires_at.is_some() {
        return record.expires_at;
    }
    let rule = policy
        .category
        .get(&record.category)?
        .retention
        .as_ref()?
        .rule()?;
    let from = if rule.after == Trigger::Collection {
        record.collected_at
    } else {
        erased_at
    };
    crate::rights::add_span(from, rule.span)
}

fn index_hash(
    vault_keys: &custos_crypto::KeyRing,
    tenant: &str,
    category: &str,
    shape: Shape,
    value: &Value,
) -> Result<Option<[u8; 32]>, VaultError> {
    let Value::String(s) = value else {
        return Ok(None);
    };
    let key = vault_keys.blind_index_key(tenant, category)?;
    Ok(Some(super::read::index_hash(&key, shape, s)))
}

impl<S: Store + LifecycleStore> Vault<S> {
    /// The subject, if it exists and is not erased; denials are audited.
    fn live_subject(
        &self,
        actor: &Actor,
        ctx: &RequestCtx,
        action: &str,
        subject: SubjectId,
    ) -> Result<Subject, VaultError> {
        match self.store.subject(&actor.tenant, subject)? {
            None => Err(self.deny(
                actor,
                ctx,
                action,
                None,
                Some(subject),
                VaultError::SubjectNotFound,
            )),
            Some(s) if s.state == SubjectState::Erased => Err(self.deny(
                actor,
                ctx,
                action,
                None,
                Some(subject),
                VaultError::SubjectErased,
            )),
            Some(s) => Ok(s),
        }
    }

    fn require_admin(
        &self,
        actor: &Actor,
        ctx: &RequestCtx,
        action: &str,
        subject: SubjectId,
    ) -> Result<(), VaultError> {
        if actor.admin {
            return Ok(());
        }
        let e = VaultError::PurposeNotPermitted {
            role: actor.role.clone(),
            purpose: action.to_owned(),
        };
        Err(self.deny(actor, ctx, action, None, Some(subject), e))
    }
}

impl<S: Store + LifecycleStore + custos_store::RequestStore> Vault<S> {
    /// Replaces a record's value (P0-11). The caller must be allowed to write for
    /// the purpose the record was collected for, and the value passes the same
    /// validation and collection gates as a write (one gate, L-2). A birth date that
    /// would make the subject under-age is refused, and instead an erasure request is
    /// opened and the subject restricted until staff decide (L-10, issue 17.3): never
    /// an inline erasure with borrowed rights; both are audited under the caller.
    pub fn rectify(
        &self,
        actor: &Actor,
        subject: SubjectId,
        record: RecordId,
        value: &Value,
        ctx: &RequestCtx,
    ) -> Result<Rectified, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        let row = self.live_subject(actor, ctx, "rectify", subject)?;
        let records = match self.store.subject_records(&actor.tenant, subject) {
            Err(StoreError::NotFound(_)) => return Err(VaultError::SubjectNotFound),
            other => other?,
        };
        let Some(old) = records.iter().find(|r| r.id == record) else {
            return Err(VaultError::Invalid(vec![FieldError {
                pointer: "/record".into(),
                code: RECORD_NOT_FOUND,
                detail: "this subject has no record with this id".into(),
            }]));
        };
        // Validated exactly as a write of this category for this purpose.
        let as_write = WriteRequest {
            jurisdiction: None,
            settings: Default::default(),
            consents: Vec::new(),
            records: vec![NewRecord {
                category: old.category.clone(),
                value: value.clone(),
                purpose: old.purpose.clone(),
                source: Some(old.source.clone()),
            }],
        };
        let problems: Vec<FieldError> = validate(&policy.policy, &as_write, false)
            .into_iter()
            .map(|mut p| {
                p.pointer = p
                    .pointer
                    .strip_prefix("/records/0")
                    .map(str::to_owned)
                    .unwrap_or(p.pointer);
                p
            })
            // The source does not change on rectification; a record kept from before
            // its category listed sources can still be corrected (the person's right).
            .filter(|p| p.code != super::write::SOURCE_NOT_LISTED)
            .collect();
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        if let Err(e) = self.authorise_write(actor, &policy, &old.purpose) {
            return Err(self.deny(actor, ctx, "rectify", Some(&old.purpose), Some(subject), e));
        }
        let gate_problems = self.collection_gates(
            &actor.tenant,
            &policy,
            Some(subject),
            row.jurisdiction.as_deref(),
            &as_write,
            &[],
        )?;
        if gate_problems
            .iter()
            .any(|p| p.code == super::gates::UNDER_AGE)
        {
            return Err(self.under_age_discovered(actor, &row, "/value", ctx));
        }
        if !gate_problems.is_empty() {
            return Err(VaultError::Invalid(
                gate_problems
                    .into_iter()
                    .map(|mut p| {
                        p.pointer = p
                            .pointer
                            .strip_prefix("/records/0")
                            .map(str::to_owned)
                            .unwrap_or(p.pointer);
                        p
                    })
                    .collect(),
            ));
        }
        let Some(cat) = policy.policy.category.get(&old.category) else {
            return Err(VaultError::Internal("validated category vanished".into()));
        };
        let normalised = super::shape::check(cat.shape, value)
            .map_err(|_| VaultError::Internal("validated value changed".into()))?;
        let tenant = actor.tenant.as_str();
        let sid = subject.to_string();
        let dek = self.subject_key(&actor.tenant, &row)?;
        let aad_of = |r: &Record| Aad::new(tenant, &sid, &r.category, &r.id.to_string());
        let plaintext =
            serde_json::to_vec(&normalised).map_err(|e| VaultError::Internal(e.to_string()))?;
        let ciphertext = seal(&dek, &aad_of(old)?, &plaintext)?;

        // Blind indexes: add the new value's entry; drop the old one unless another
        // record of the same category still has that value.
        let mut index_add = Vec::new();
        let mut index_remove = Vec::new();
        if cat.lookup {
            let hash_of = |r: &Record| -> Result<Option<[u8; 32]>, VaultError> {
                let plain = open(&dek, &aad_of(r)?, &r.ciphertext)?;
                let v: Value = serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity)?;
                index_hash(&self.keys, tenant, &r.category, cat.shape, &v)
            };
            let new_hash = index_hash(&self.keys, tenant, &old.category, cat.shape, &normalised)?;
            if let Some(old_hash) = hash_of(old)?
                && Some(old_hash) != new_hash
            {
                let mut shared = false;
                for other in records
                    .iter()
                    .filter(|r| r.id != old.id && r.category == old.category)
                {
                    if hash_of(other)? == Some(old_hash) {
                        shared = true;
                        break;
                    }
                }
                if !shared {
                    index_remove.push(BlindIndexEntry {
                        category: old.category.clone(),
                        hash: old_hash,
                    });
                }
            }
            if let Some(hash) = new_hash {
                index_add.push(BlindIndexEntry {
                    category: old.category.clone(),
                    hash,
                });
            }
        }

        let mut audit = self.audit(actor, ctx, "rectify");
        audit.subject = Some(subject);
        audit.purpose = Some(old.purpose.clone());
        audit.categories = vec![old.category.clone()];
        audit.reason = format!("record {record} rectified");
        let r = Rectification {
            tenant: &actor.tenant,
            subject,
            record,
            ciphertext: &ciphertext,
            index_remove: &index_remove,
            index_add: &index_add,
            at: self.clock.now(),
            audit: &audit,
        };
        match self.store.rectify_record(&r) {
            Ok(a) => Ok(Rectified {
                subject,
                record,
                category: old.category.clone(),
                audit_seq: a.seq,
            }),
            Err(StoreError::NotFound(_)) => Err(VaultError::SubjectNotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The answer to a rectification that would make the subject under-age: nothing
    /// is rectified; an erasure request is opened (staff decide, within the request's
    /// deadline) and the subject is restricted meanwhile, each audited under the
    /// caller. The returned error names the request, never the value.
    pub(crate) fn under_age_discovered(
        &self,
        actor: &Actor,
        row: &Subject,
        pointer: &str,
        ctx: &RequestCtx,
    ) -> VaultError {
        let refused = |detail: String| {
            VaultError::Invalid(vec![FieldError {
                pointer: pointer.to_owned(),
                code: super::gates::UNDER_AGE_RECTIFICATION,
                detail,
            }])
        };
        let opened = self.open_request(
            actor,
            &crate::rights::NewRequest {
                right: custos_policy::model::Right::Erasure,
                subject: Some(row.id),
                jurisdiction: None,
                channel: "api".into(),
                on_behalf_of: None,
            },
            ctx,
        );
        let request = match opened {
            Ok(v) => v.id.to_string(),
            Err(e) => return e,
        };
        if row.state == SubjectState::Active {
            let mut audit = self.audit(actor, ctx, "restrict");
            audit.subject = Some(row.id);
            audit.reason =
                format!("active -> restricted: under-age data refused, erasure request {request}");
            if let Err(e) = self.store.set_subject_state(
                &actor.tenant,
                row.id,
                SubjectState::Restricted,
                self.clock.now(),
                &audit,
            ) {
                return e.into();
            }
        }
        refused(format!(
            "this change would put the person under the minimum age: it was not made; erasure request {request} was opened and the subject is restricted until staff decide"
        ))
    }
}

impl<S: Store + LifecycleStore + custos_store::RetentionStore> Vault<S> {
    /// Restricts processing (P0-16, L-6): from now on only purposes declared
    /// `during_restriction` read this subject. Admin keys only.
    pub fn restrict(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<StateChanged, VaultError> {
        self.set_state(actor, subject, SubjectState::Restricted, ctx)
    }

    /// Lifts a restriction: reads are decided by the policy again. Admin keys only.
    pub fn lift_restriction(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<StateChanged, VaultError> {
        self.set_state(actor, subject, SubjectState::Active, ctx)
    }

    fn set_state(
        &self,
        actor: &Actor,
        subject: SubjectId,
        state: SubjectState,
        ctx: &RequestCtx,
    ) -> Result<StateChanged, VaultError> {
        let action = match state {
            SubjectState::Restricted => "restrict",
            _ => "lift_restriction",
        };
        self.require_admin(actor, ctx, action, subject)?;
        let row = self.live_subject(actor, ctx, action, subject)?;
        let mut audit = self.audit(actor, ctx, action);
        audit.subject = Some(subject);
        audit.reason = format!("{} -> {}", row.state.as_str(), state.as_str());
        match self
            .store
            .set_subject_state(&actor.tenant, subject, state, self.clock.now(), &audit)
        {
            Ok(a) => Ok(StateChanged {
                subject,
                state: state.as_str(),
                audit_seq: a.seq,
            }),
            Err(StoreError::NotFound(_)) => Err(VaultError::SubjectErased),
            Err(e) => Err(e.into()),
        }
    }

    /// Erases a subject (P0-17, P0-10): see the module documentation. Admin keys only.
    pub fn erase(
        &self,
        actor: &Actor,
        subject: SubjectId,
        reason: &str,
        ctx: &RequestCtx,
    ) -> Result<ErasureReceipt, VaultError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 2000 {
            return Err(VaultError::Invalid(vec![FieldError {
                pointer: "/reason".into(),
                code: ERASURE_REASON,
                detail: "an erasure states its reason (1–2000 bytes)".into(),
            }]));
        }
        self.require_admin(actor, ctx, "erase", subject)?;
        let policy = self.policy(&actor.tenant)?;
        // A concurrent write changes the record set: plan again (a few times at most).
        for _ in 0..3 {
            let row = self.live_subject(actor, ctx, "erase", subject)?;
            match self.try_erase(actor, &policy, &row, reason, ctx) {
                Err(VaultError::Internal(m)) if m == RACE => continue,
                other => return other,
            }
        }
        Err(VaultError::Unavailable)
    }

    fn try_erase(
        &self,
        actor: &Actor,
        policy: &ActivePolicy,
        row: &Subject,
        reason: &str,
        ctx: &RequestCtx,
    ) -> Result<ErasureReceipt, VaultError> {
        let subject = row.id;
        let tenant = actor.tenant.as_str();
        let sid = subject.to_string();
        let now = self.clock.now();
        let records = self.store.subject_records(&actor.tenant, subject)?;
        let plan = self.plan_erasure(actor, policy, subject, &records, now)?;
        let mut held = Vec::with_capacity(plan.to_hold.len());
        if !plan.to_hold.is_empty() {
            let dek = self.subject_key(&actor.tenant, row)?;
            let hold_key = self.keys.hold_key(tenant)?;
            for (r, purpose, why, until) in &plan.to_hold {
                let aad = Aad::new(tenant, &sid, &r.category, &r.id.to_string())?;
                let plain = open(&dek, &aad, &r.ciphertext)?;
                held.push(HeldRecord {
                    id: r.id,
                    subject,
                    category: r.category.clone(),
                    ciphertext: seal(&hold_key, &aad, &plain)?,
                    purpose: r.purpose.clone(),
                    source: r.source.clone(),
                    collected_at: r.collected_at,
                    held_for: purpose.clone(),
                    reason: why.clone(),
                    held_at: now,
                    until: *until,
                });
            }
        }
        let ErasurePlan { deleted, kept } = plan.outcome;
        let mut audit = self.audit(actor, ctx, "erase");
        audit.subject = Some(subject);
        audit.outcome = Outcome::Allow;
        audit.categories = records
            .iter()
            .map(|r| r.category.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // The staff's free-text reason may name the person: it goes to the receipt,
        // not to the audit log, which carries names of categories only.
        audit.reason = format!(
            "erased: {} categor(ies) deleted, kept under legal hold: [{}]",
            deleted.len(),
            kept.iter()
                .map(|k| k.category.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let expected: Vec<RecordId> = records.iter().map(|r| r.id).collect();
        let erasure = Erasure {
            tenant: &actor.tenant,
            subject,
            expected_records: &expected,
            held: &held,
            at: now,
            audit: &audit,
        };
        match self.store.erase_subject(&erasure) {
            Ok(a) => Ok(ErasureReceipt {
                subject,
                erased_at: now,
                reason: reason.to_owned(),
                deleted,
                kept,
                audit_seq: a.seq,
            }),
            Err(StoreError::Conflict(_)) => Err(VaultError::Internal(RACE.into())),
            Err(StoreError::NotFound(_)) => Err(VaultError::SubjectErased),
            Err(e) => Err(e.into()),
        }
    }

    /// What erasing `subject` now would delete and keep, without changing
    /// anything: the console's confirmation and the fulfilled erasure's notice
    /// show it before the erasure runs. Admin keys only; category names, policy
    /// grounds and dates, never a value.
    pub fn erasure_preview(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<ErasurePlan, VaultError> {
        // Refusals are audited under their own name: a preview erases nothing.
        self.require_admin(actor, ctx, "erasure_preview", subject)?;
        let row = self.live_subject(actor, ctx, "erasure_preview", subject)?;
        let policy = self.policy(&actor.tenant)?;
        let records = self.store.subject_records(&actor.tenant, row.id)?;
        let plan = self.plan_erasure(actor, &policy, row.id, &records, self.clock.now())?;
        Ok(plan.outcome)
    }

    /// A subject's lifecycle state (`None`: no such subject in the tenant), for
    /// the console to offer the actions the state allows. Admin keys only.
    pub fn subject_state(
        &self,
        actor: &Actor,
        subject: SubjectId,
        ctx: &RequestCtx,
    ) -> Result<Option<SubjectState>, VaultError> {
        self.require_admin(actor, ctx, "subject_state", subject)?;
        Ok(self
            .store
            .subject(&actor.tenant, subject)?
            .map(|row| row.state))
    }

    /// The one planning of an erasure (shared by [`Vault::erase`] and
    /// [`Vault::erasure_preview`], so the confirmation shows what the erasure does):
    /// staff's legal holds in force (legal claims) keep what they cover; a legal
    /// obligation keeps only what was collected for it (issue 13.8).
    fn plan_erasure<'r>(
        &self,
        actor: &Actor,
        policy: &ActivePolicy,
        subject: SubjectId,
        records: &'r [Record],
        now: Timestamp,
    ) -> Result<Planned<'r>, VaultError> {
        let holds: Vec<custos_store::LegalHold> = self
            .store
            .legal_holds(&actor.tenant, Some(subject))?
            .into_iter()
            .filter(|h| h.until.is_none_or(|u| u > now))
            .collect();
        let to_hold: Vec<ToHold<'r>> = records
            .iter()
            .filter_map(|r| {
                let claim = holds
                    .iter()
                    .filter(|h| h.record.is_none() || h.record == Some(r.id))
                    .max_by_key(|h| h.until);
                let obligation = kept_by_obligation(&policy.policy, r)
                    .map(|(p, why)| (p, why, hold_until(&policy.policy, r, now)));
                match (obligation, claim) {
                    (Some((p, why, until)), claim) => {
                        // Whichever keeps it longer decides when it goes.
                        let until = match (until, claim.and_then(|h| h.until)) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            (a, None) => a,
                            (None, b) => b,
                        };
                        Some((r, p.to_owned(), why, until))
                    }
                    (None, Some(h)) => Some((
                        r,
                        LEGAL_CLAIMS.to_owned(),
                        format!("GDPR Art. 17(3)(e) legal claims: legal hold {}", h.id),
                        h.until,
                    )),
                    (None, None) => None,
                }
            })
            .collect();
        let held_ids: BTreeSet<RecordId> = to_hold.iter().map(|(r, ..)| r.id).collect();
        let deleted: Vec<String> = records
            .iter()
            .filter(|r| !held_ids.contains(&r.id))
            .map(|r| r.category.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut kept: BTreeMap<String, KeptCategory> = BTreeMap::new();
        for (r, held_for, reason, until) in &to_hold {
            let k = kept
                .entry(r.category.clone())
                .or_insert_with(|| KeptCategory {
                    category: r.category.clone(),
                    held_for: held_for.clone(),
                    reason: reason.clone(),
                    until: *until,
                    records: 0,
                });
            k.records += 1;
            k.until = match (k.until, *until) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        Ok(Planned {
            to_hold,
            outcome: ErasurePlan {
                deleted,
                kept: kept.into_values().collect(),
            },
        })
    }

    /// The records kept after a subject's erasure, for a purpose allowed during
    /// restriction (legal obligation, legal claims) and only the categories that
    /// purpose gives the caller's role.
    pub fn read_held(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: &str,
        ctx: &RequestCtx,
    ) -> Result<HeldRead, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        if let Err(e) = self.authorise(actor, &policy, purpose) {
            return Err(self.deny(actor, ctx, "read_held", Some(purpose), Some(subject), e));
        }
        let Some(decision) = policy.table.decide(&actor.role, purpose) else {
            return Err(VaultError::Internal("authorised decision vanished".into()));
        };
        if !decision.during_restriction {
            let e = VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: purpose.to_owned(),
            };
            return Err(self.deny(actor, ctx, "read_held", Some(purpose), Some(subject), e));
        }
        if self.store.subject(&actor.tenant, subject)?.is_none() {
            return Err(self.deny(
                actor,
                ctx,
                "read_held",
                Some(purpose),
                Some(subject),
                VaultError::SubjectNotFound,
            ));
        }
        let allowed: BTreeSet<&str> = policy.table.category_names(decision).collect();
        let mut audit = self.audit(actor, ctx, "read_held");
        audit.purpose = Some(purpose.to_owned());
        audit.subject = Some(subject);
        audit.categories = allowed.iter().map(|c| (*c).to_owned()).collect();
        audit.reason = format!("legal hold, policy v{}", policy.number);
        let held = self
            .store
            .read_held_records(&actor.tenant, subject, &audit)?;
        let tenant = actor.tenant.as_str();
        let sid = subject.to_string();
        let hold_key = self.keys.hold_key(tenant)?;
        let mut values = Vec::new();
        // Kept under an obligation: readable for that purpose only; kept for legal
        // claims (a staff hold): for the purposes allowed during restriction.
        for h in held.into_iter().filter(|h| {
            allowed.contains(h.category.as_str())
                && (h.held_for == purpose || h.held_for == LEGAL_CLAIMS)
        }) {
            let aad = Aad::new(tenant, &sid, &h.category, &h.id.to_string())?;
            let plain = open(&hold_key, &aad, &h.ciphertext)?;
            let value: Value = serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity)?;
            values.push(HeldValue {
                record: h.id,
                category: h.category,
                value,
                collected_for: h.purpose,
                source: h.source,
                collected_at: h.collected_at,
                held_for: h.held_for,
                reason: h.reason,
                until: h.until,
            });
        }
        Ok(HeldRead {
            subject,
            purpose: purpose.to_owned(),
            values,
        })
    }

    /// Deletes held records whose hold has ended (for the retention job).
    pub fn purge_expired_holds(&self, tenant: &custos_store::TenantId) -> Result<u64, VaultError> {
        let now = self.clock.now();
        let audit = custos_store::AuditDraft {
            at: now,
            actor: "system".into(),
            key_id: None,
            action: "purge_holds".into(),
            purpose: None,
            subject: None,
            categories: Vec::new(),
            outcome: Outcome::Allow,
            reason: "legal holds ended".into(),
            request_id: None,
        };
        Ok(self.store.purge_held_records(tenant, now, &audit)?)
    }
}

/// Marker of a lost race with a concurrent write during erasure (retried).
const RACE: &str = "erasure raced a write";
