//! The personal-data vault: validated, encrypted writes and purpose-bound reads.
//!
//! Every call names an [`Actor`] (tenant, API key, role). Writes are checked
//! against the policy in force (category, purpose, value shape, payment data)
//! before anything is written; reads return only what the compiled policy lets
//! that role see for the named purpose, given the subject's state and consent,
//! and say what was withheld and why. Each decision, including each denial, is
//! appended to the audit log by the store in the same transaction as the data it
//! concerns.

pub mod closure;
pub mod consent;
pub mod events;
pub mod export;
pub mod fulfil;
pub mod gates;
pub mod lifecycle;
mod read;
pub mod settings;
pub mod shape;
mod write;

use std::sync::Arc;

use custos_crypto::KeyRing;
use custos_store::{AuditDraft, Outcome, Store, SubjectId, TenantId, Timestamp};

use crate::clock::Clock;
use crate::consent::ConsentView;
use crate::error::VaultError;
use crate::tenant::{ActivePolicy, PolicyCache};

pub use read::{ReadOutcome, ReadValue, Withheld, WithheldReason};
pub use write::{CarriedConsent, NewRecord, WriteOutcome, WriteRequest, Written};

/// Who is calling: resolved from an API key by the edge.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant: TenantId,
    pub key_id: String,
    /// The policy recipient this key acts as.
    pub role: String,
    /// Purposes the key may name; empty = all of its role's purposes.
    pub purposes: Vec<String>,
    /// Operators' keys: may write for any purpose (imports) and manage keys.
    pub admin: bool,
}

/// Per-request context from the edge.
#[derive(Debug, Clone, Default)]
pub struct RequestCtx {
    pub request_id: Option<String>,
    /// Idempotency key and a hash of the request it came with.
    pub idempotency: Option<(String, [u8; 32])>,
}

/// The vault over one store.
#[derive(Debug)]
pub struct Vault<S> {
    pub(crate) store: Arc<S>,
    pub(crate) keys: Arc<KeyRing>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) consent: Arc<dyn ConsentView>,
    policies: PolicyCache,
}

impl<S: Store> Vault<S> {
    pub fn new(
        store: Arc<S>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        consent: Arc<dyn ConsentView>,
    ) -> Self {
        Vault {
            store,
            keys,
            clock,
            consent,
            policies: PolicyCache::default(),
        }
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The policy in force for a tenant now.
    pub fn policy(&self, tenant: &TenantId) -> Result<Arc<ActivePolicy>, VaultError> {
        self.policies
            .in_force(self.store.as_ref(), tenant, self.clock.now())
    }

    /// Call after publishing a policy version.
    pub fn policy_changed(&self, tenant: &TenantId) {
        self.policies.invalidate(tenant);
    }

    pub(crate) fn audit(&self, actor: &Actor, ctx: &RequestCtx, action: &str) -> AuditDraft {
        AuditDraft {
            at: self.clock.now(),
            actor: format!("key:{}", actor.key_id),
            key_id: Some(actor.key_id.clone()),
            action: action.to_owned(),
            purpose: None,
            subject: None,
            categories: Vec::new(),
            outcome: Outcome::Allow,
            reason: String::new(),
            request_id: ctx.request_id.clone(),
        }
    }

    /// Records a refusal, then returns it: denials are audited like grants.
    pub(crate) fn deny(
        &self,
        actor: &Actor,
        ctx: &RequestCtx,
        action: &str,
        purpose: Option<&str>,
        subject: Option<SubjectId>,
        err: VaultError,
    ) -> VaultError {
        let mut draft = self.audit(actor, ctx, action);
        draft.purpose = purpose.map(str::to_owned);
        draft.subject = subject;
        draft.outcome = Outcome::Deny;
        draft.reason = err.code().to_owned();
        match self.store.append_audit(&actor.tenant, &draft) {
            Ok(_) => err,
            // Fail closed: if the denial cannot be recorded, say so rather than hide it.
            Err(e) => VaultError::from(e),
        }
    }

    /// Checks that the actor may use `purpose`: the key's scope and the policy's recipients.
    fn authorise(
        &self,
        actor: &Actor,
        policy: &ActivePolicy,
        purpose: &str,
    ) -> Result<(), VaultError> {
        if !policy.policy.purpose.contains_key(purpose) {
            return Err(VaultError::UnknownPurpose(purpose.to_owned()));
        }
        if !actor.purposes.is_empty() && !actor.purposes.iter().any(|p| p == purpose) {
            return Err(VaultError::KeyScope(purpose.to_owned()));
        }
        if policy.table.decide(&actor.role, purpose).is_none() {
            return Err(VaultError::PurposeNotPermitted {
                role: actor.role.clone(),
                purpose: purpose.to_owned(),
            });
        }
        Ok(())
    }
}
