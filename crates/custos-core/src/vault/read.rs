//! Purpose-bound reads: a caller names a purpose and gets only the categories the
//! compiled policy allows its role for that purpose, given the subject's state,
//! consent and objections; everything else the subject holds is listed as withheld,
//! with the reason.

use std::collections::{BTreeMap, BTreeSet};

use custos_crypto::{Aad, BlindIndexKey, blind_index, blind_index_email, blind_index_phone, open};
use custos_policy::model::Shape;
use custos_store::{
    LifecycleStore, Outcome, Record, RecordId, Store, Subject, SubjectId, SubjectState, TenantId,
    Timestamp,
};
use serde::Serialize;
use serde_json::Value;

use super::{Actor, RequestCtx, Vault};
use crate::consent::ConsentState;
use crate::error::{FieldError, VaultError, field};

/// Why a category held for the subject was not returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WithheldReason {
    /// The policy does not give this role this category for this purpose.
    NotForPurpose,
    /// The purpose needs consent and none was given.
    NoConsent,
    /// Consent was withdrawn.
    ConsentWithdrawn,
    /// The person objected to this purpose.
    Objected,
    /// The person's data is restricted; only storage and legal claims may read it.
    Restricted,
    /// The purpose may use only anonymised data.
    AnonymisedOnly,
    /// The purpose depends on a setting that is off (the app is disconnected).
    SettingOff,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withheld {
    pub category: String,
    pub reason: WithheldReason,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadValue {
    pub record: RecordId,
    pub category: String,
    pub value: Value,
    /// The purpose it was collected for.
    pub collected_for: String,
    pub source: String,
    pub collected_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadOutcome {
    pub subject: SubjectId,
    pub purpose: String,
    pub policy_version: u32,
    pub values: Vec<ReadValue>,
    pub withheld: Vec<Withheld>,
}

impl<S: Store> Vault<S> {
    /// Reads a subject's data for a purpose.
    pub fn read(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: &str,
        ctx: &RequestCtx,
    ) -> Result<ReadOutcome, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        if let Err(e) = self.authorise(actor, &policy, purpose) {
            return Err(self.deny(actor, ctx, "read", Some(purpose), Some(subject), e));
        }
        let Some(decision) = policy.table.decide(&actor.role, purpose) else {
            return Err(VaultError::Internal("authorised decision vanished".into()));
        };
        let Some(row) = self.store.subject(&actor.tenant, subject)? else {
            return Err(self.deny(
                actor,
                ctx,
                "read",
                Some(purpose),
                Some(subject),
                VaultError::SubjectNotFound,
            ));
        };
        if row.state == SubjectState::Erased {
            return Err(self.deny(
                actor,
                ctx,
                "read",
                Some(purpose),
                Some(subject),
                VaultError::SubjectErased,
            ));
        }

        let gate = self.gate(actor, &policy, decision, &row, purpose)?;

        let allowed: Vec<String> = if gate.is_some() {
            Vec::new()
        } else {
            policy
                .table
                .category_names(decision)
                .map(str::to_owned)
                .collect()
        };
        let mut audit = self.audit(actor, ctx, "read");
        audit.purpose = Some(purpose.to_owned());
        audit.subject = Some(subject);
        audit.categories = allowed.clone();
        audit.outcome = if gate.is_some() {
            Outcome::Deny
        } else {
            Outcome::Allow
        };
        audit.reason = match gate {
            Some(r) => format!("{r:?}"),
            None => format!("policy v{}", policy.number),
        };
        // All records come back (as ciphertext); only allowed ones are opened.
        let (row, records) = self
            .store
            .read_subject(&actor.tenant, subject, &[], &audit)?;
        // Issue 13.11: what was collected on a customer's instructions serves only
        // that purpose, whatever the category.
        let (records, foreign): (Vec<Record>, Vec<Record>) = records
            .into_iter()
            .partition(|r| policy.policy.may_serve(&r.purpose, purpose));

        let allowed: BTreeSet<&str> = allowed.iter().map(String::as_str).collect();
        // Records a legal hold keeps past their expiry stay readable, but only
        // for the purposes that may read during a restriction (the hold's reason).
        let held = decision.during_restriction
            && self
                .store
                .subject_held(&actor.tenant, subject, self.now())?;
        let (values, mut withheld) =
            match self.open_allowed(actor, &row, records, &allowed, gate, held) {
                Ok(v) => v,
                // The read was audited as released, but nothing was: record the failure too.
                Err(VaultError::Integrity) => {
                    return Err(self.deny(
                        actor,
                        ctx,
                        "read",
                        Some(purpose),
                        Some(subject),
                        VaultError::Integrity,
                    ));
                }
                Err(e) => return Err(e),
            };
        for r in foreign {
            if !values.iter().any(|v| v.category == r.category)
                && !withheld.iter().any(|w| w.category == r.category)
            {
                withheld.push(Withheld {
                    category: r.category,
                    reason: WithheldReason::NotForPurpose,
                });
            }
        }
        Ok(ReadOutcome {
            subject,
            purpose: purpose.to_owned(),
            policy_version: policy.number,
            values,
            withheld,
        })
    }

    /// What closes `purpose` for this person right now, if anything: restriction
    /// or a legal hold, anonymised-only use, an objection, missing or withdrawn
    /// consent. The one rule reads and lookups share (issue 17.8).
    fn gate(
        &self,
        actor: &Actor,
        policy: &crate::tenant::ActivePolicy,
        decision: &custos_policy::Decision,
        row: &Subject,
        purpose: &str,
    ) -> Result<Option<WithheldReason>, VaultError> {
        let subject = row.id;
        // A gate closes the whole purpose for this person.
        // A legal hold in force isolates the subject like a restriction (P0-17).
        let restricted = row.state == SubjectState::Restricted
            || (!decision.during_restriction
                && self
                    .store
                    .subject_held(&actor.tenant, subject, self.now())?);
        // A purpose tied to a setting (the app's connection, P0-16) stops while it is off.
        let setting_off = match policy
            .policy
            .purpose
            .get(purpose)
            .and_then(|p| p.requires_setting.as_ref())
        {
            Some(name) => !self.setting_on(&actor.tenant, subject, name)?,
            None => false,
        };
        Ok(if restricted && !decision.during_restriction {
            Some(WithheldReason::Restricted)
        } else if setting_off {
            Some(WithheldReason::SettingOff)
        } else if decision.anonymised_only {
            Some(WithheldReason::AnonymisedOnly)
        } else if decision.objection_stops
            && self.consent.objected(&actor.tenant, subject, purpose)?
        {
            Some(WithheldReason::Objected)
        } else if let Some(&since) = policy.reconsent_since.get(purpose) {
            // The version asks re-consent for this purpose: older grants do not count.
            match self
                .consent
                .consent_since(&actor.tenant, subject, purpose, since)?
            {
                ConsentState::Granted => None,
                ConsentState::Withdrawn => Some(WithheldReason::ConsentWithdrawn),
                ConsentState::NeverAsked => Some(WithheldReason::NoConsent),
            }
        } else if decision.needs_consent {
            match self.consent.consent(&actor.tenant, subject, purpose)? {
                ConsentState::Granted => None,
                ConsentState::Withdrawn => Some(WithheldReason::ConsentWithdrawn),
                ConsentState::NeverAsked => Some(WithheldReason::NoConsent),
            }
        } else {
            None
        })
    }

    /// Decrypts the allowed records; lists every other category held as withheld.
    pub(crate) fn open_allowed(
        &self,
        actor: &Actor,
        row: &Subject,
        records: Vec<Record>,
        allowed: &BTreeSet<&str>,
        gate: Option<WithheldReason>,
        held: bool,
    ) -> Result<(Vec<ReadValue>, Vec<Withheld>), VaultError> {
        let subject = row.id.to_string();
        // Expired means gone (issue 13.14): a record past its expiry is neither
        // released nor listed, even before the sweep removes it — unless a legal
        // hold in force keeps it (`held`, the sweep skips it too).
        let now = self.now();
        let records: Vec<Record> = records
            .into_iter()
            .filter(|r| held || !crate::retention::expired(r, now))
            .collect();
        let mut values = Vec::new();
        let mut withheld: BTreeMap<String, WithheldReason> = BTreeMap::new();
        let needs_key = records
            .iter()
            .any(|r| allowed.contains(r.category.as_str()));
        let dek = if needs_key {
            Some(self.subject_key(&actor.tenant, row)?)
        } else {
            None
        };
        for r in records {
            match (&dek, allowed.contains(r.category.as_str())) {
                (Some(dek), true) => {
                    let aad = Aad::new(
                        actor.tenant.as_str(),
                        &subject,
                        &r.category,
                        &r.id.to_string(),
                    )?;
                    let plain = open(dek, &aad, &r.ciphertext)?;
                    let value: Value =
                        serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity)?;
                    values.push(ReadValue {
                        record: r.id,
                        category: r.category,
                        value,
                        collected_for: r.purpose,
                        source: r.source,
                        collected_at: r.collected_at,
                        expires_at: r.expires_at,
                    });
                }
                _ => {
                    withheld
                        .entry(r.category)
                        .or_insert(gate.unwrap_or(WithheldReason::NotForPurpose));
                }
            }
        }
        let withheld = withheld
            .into_iter()
            .map(|(category, reason)| Withheld { category, reason })
            .collect();
        Ok((values, withheld))
    }
}

/// The blind-index hash of a value of a lookup category: one rule for the index
/// written with a record and the hash a lookup searches for.
pub(crate) fn index_hash(key: &BlindIndexKey, shape: Shape, value: &str) -> [u8; 32] {
    match shape {
        Shape::Email => blind_index_email(key, value),
        Shape::Phone => blind_index_phone(key, value),
        _ => blind_index(key, value.trim()),
    }
}

impl<S: Store + LifecycleStore> Vault<S> {
    /// Finds subjects by an exact email or phone (blind index), for a purpose that
    /// lets the caller see that category.
    pub fn lookup(
        &self,
        actor: &Actor,
        category: &str,
        value: &str,
        purpose: &str,
        ctx: &RequestCtx,
    ) -> Result<Vec<SubjectId>, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        if let Err(e) = self.authorise(actor, &policy, purpose) {
            return Err(self.deny(actor, ctx, "lookup", Some(purpose), None, e));
        }
        let Some(cat) = policy.policy.category.get(category).filter(|c| c.lookup) else {
            return Err(VaultError::Invalid(vec![FieldError {
                pointer: "/category".into(),
                code: field::NOT_LOOKUP,
                detail: "this category is not declared with `lookup = true` in the policy".into(),
            }]));
        };
        if !policy.table.allows(&actor.role, purpose, category) {
            let e = VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: purpose.to_owned(),
            };
            return Err(self.deny(actor, ctx, "lookup", Some(purpose), None, e));
        }
        let key = self.keys.blind_index_key(actor.tenant.as_str(), category)?;
        let hash = index_hash(&key, cat.shape, value);
        let matched = self.store.find_subjects(&actor.tenant, category, &hash)?;
        // A lookup obeys the same gates as a read (issue 17.8): no subject id
        // goes to a role that could not read the category for this purpose now
        // (restricted, held, objected, no or withdrawn consent, anonymised only).
        let Some(decision) = policy.table.decide(&actor.role, purpose) else {
            return Err(VaultError::Internal("authorised decision vanished".into()));
        };
        let mut found = Vec::with_capacity(matched.len());
        for id in matched {
            let Some(row) = self.store.subject(&actor.tenant, id)? else {
                continue;
            };
            if row.state == SubjectState::Erased {
                continue;
            }
            if self
                .gate(actor, &policy, decision, &row, purpose)?
                .is_none()
                && self.holds_live_value(
                    &actor.tenant,
                    &row,
                    Some(purpose),
                    category,
                    &key,
                    &hash,
                )?
            {
                found.push(id);
            }
        }
        let mut audit = self.audit(actor, ctx, "lookup");
        audit.purpose = Some(purpose.to_owned());
        audit.categories = vec![category.to_owned()];
        audit.reason = format!("{} match(es)", found.len());
        self.store.append_audit(&actor.tenant, &audit)?;
        Ok(found)
    }

    /// Whether the subject still holds a record of `category`, not past its expiry
    /// and able to serve `purpose`, whose value has this hash (issue 13.14: expired
    /// means gone, even before the sweep removes the record and its index entry;
    /// issue 13.11: customer-directed data finds nobody for another purpose).
    pub(crate) fn holds_live_value(
        &self,
        tenant: &TenantId,
        row: &Subject,
        purpose: Option<&str>,
        category: &str,
        key: &BlindIndexKey,
        hash: &[u8; 32],
    ) -> Result<bool, VaultError> {
        let now = self.now();
        let policy = self.policy(tenant)?;
        let live: Vec<Record> = self
            .store
            .subject_records(tenant, row.id)?
            .into_iter()
            .filter(|r| {
                r.category == category
                    && !crate::retention::expired(r, now)
                    && purpose.is_none_or(|p| policy.policy.may_serve(&r.purpose, p))
            })
            .collect();
        if live.is_empty() {
            return Ok(false);
        }
        let dek = self.subject_key(tenant, row)?;
        let sid = row.id.to_string();
        let shape = policy
            .policy
            .category
            .get(category)
            .map_or(Shape::Text, |c| c.shape);
        for r in live {
            let aad = Aad::new(tenant.as_str(), &sid, category, &r.id.to_string())?;
            let plain = open(&dek, &aad, &r.ciphertext)?;
            if let Ok(Value::String(v)) = serde_json::from_slice::<Value>(&plain)
                && custos_crypto::ct_eq(&index_hash(key, shape, &v), hash)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
