//! A request is fulfilled only when its action is done (P0-17, issue 13.9).
//!
//! Fulfilling an erasure erases (keeping only what the law requires), a
//! restriction restricts, an objection objects to every purpose the person may
//! object to, a consent withdrawal withdraws every consent given; the person's
//! notice then says it was done. A right with nothing custos can perform alone
//! (access, portability: answered with an export; rectification: the correction
//! itself is a PATCH with the new value) is fulfilled as before.
//!
//! Order: the request is marked fulfilled first, so its notice is written while
//! the person's contact still exists, then the erasure runs.

use custos_store::{
    ConsentStore, LifecycleStore, RequestState, RequestStore, RetentionStore, Store, SubjectState,
    Uuid,
};

use super::consent::{ConsentAction, ConsentInput, needs_consent, objectable};
use serde_json::{Value, json};

use super::lifecycle::{ErasurePlan, ErasureReceipt};
use super::{Actor, RequestCtx, Vault};
use crate::consent::ConsentState;
use crate::error::VaultError;
use crate::rights::{RequestAction, RequestView};

impl<S: Store + RequestStore + LifecycleStore + ConsentStore + RetentionStore> Vault<S> {
    /// Acts on a request (verify, start, extend, reject, instruct, fulfil); a
    /// fulfilment performs the right it answers.
    pub fn act(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &RequestAction,
        ctx: &RequestCtx,
    ) -> Result<RequestView, VaultError> {
        self.act_performing(actor, id, action, ctx).map(|(v, _)| v)
    }

    /// [`Vault::act`], with the erasure receipt when the fulfilment erased.
    pub fn act_performing(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &RequestAction,
        ctx: &RequestCtx,
    ) -> Result<(RequestView, Option<ErasureReceipt>), VaultError> {
        if !matches!(action, RequestAction::Fulfil) {
            return Ok((self.act_on_request(actor, id, action, ctx)?, None));
        }
        let r = self
            .store
            .request(&actor.tenant, id)?
            .ok_or(VaultError::RequestNotFound)?;
        let live = match r.subject {
            Some(s) => self
                .store
                .subject(&actor.tenant, s)?
                .filter(|row| row.state != SubjectState::Erased)
                .map(|row| (s, row.state)),
            None => None,
        };
        let can_fulfil = matches!(r.state, RequestState::Verified | RequestState::InProgress);
        // What must be done before the notice says it is (the erasure comes after,
        // so its notice carries the plan: what is kept and why, until when).
        let mut done = None;
        if can_fulfil && let Some((subject, state)) = live {
            match r.right.as_str() {
                "restriction" => {
                    if state == SubjectState::Active {
                        self.restrict(actor, subject, ctx)?;
                    }
                    done = Some(json!({ "what": "restricted" }));
                }
                "objection" => {
                    self.object_to_all(actor, subject, ctx)?;
                    done = Some(json!({ "what": "objected" }));
                }
                "consent_withdrawal" => {
                    self.withdraw_all(actor, subject, ctx)?;
                    done = Some(json!({ "what": "withdrawn" }));
                }
                "erasure" => {
                    let plan = self.erasure_preview(actor, subject, ctx)?;
                    done = Some(erased(&plan));
                }
                _ => {}
            }
        }
        let view = self.act_on_request_done(actor, id, action, ctx, done)?;
        let receipt = match (r.right.as_str(), live) {
            ("erasure", Some((subject, _))) => Some(self.erase(
                actor,
                subject,
                &format!("erasure request {id} fulfilled"),
                ctx,
            )?),
            _ => None,
        };
        Ok((view, receipt))
    }

    /// Objects to every purpose the person may object to and has not yet.
    fn object_to_all(
        &self,
        actor: &Actor,
        subject: custos_store::SubjectId,
        ctx: &RequestCtx,
    ) -> Result<(), VaultError> {
        self.record_where(
            actor,
            subject,
            ConsentAction::Object,
            ctx,
            |policy, purpose| {
                Ok(objectable(policy, purpose)
                    && !self.consent.objected(&actor.tenant, subject, purpose)?)
            },
        )
    }

    /// Withdraws every consent the person gave.
    fn withdraw_all(
        &self,
        actor: &Actor,
        subject: custos_store::SubjectId,
        ctx: &RequestCtx,
    ) -> Result<(), VaultError> {
        self.record_where(
            actor,
            subject,
            ConsentAction::Withdraw,
            ctx,
            |policy, purpose| {
                Ok(needs_consent(policy, purpose)
                    && self.consent.consent(&actor.tenant, subject, purpose)?
                        == ConsentState::Granted)
            },
        )
    }

    /// Records `action` for each purpose of the policy `applies` selects.
    fn record_where(
        &self,
        actor: &Actor,
        subject: custos_store::SubjectId,
        action: ConsentAction,
        ctx: &RequestCtx,
        applies: impl Fn(&custos_policy::Policy, &str) -> Result<bool, VaultError>,
    ) -> Result<(), VaultError> {
        let policy = self.policy(&actor.tenant)?;
        for purpose in policy.policy.purpose.keys() {
            if applies(&policy.policy, purpose)? {
                let input = ConsentInput {
                    purpose: purpose.clone(),
                    action,
                    channel: "operator".into(),
                    notice_text: None,
                    ip: None,
                    user_agent: None,
                };
                self.record_consent(actor, subject, &input, ctx)?;
            }
        }
        Ok(())
    }
}

/// A fulfilled erasure's `done`: the kept categories with the law's ground and
/// until when; names, grounds and dates from the policy, never a value.
fn erased(plan: &ErasurePlan) -> Value {
    let kept: Vec<Value> = plan
        .kept
        .iter()
        .map(|k| json!({ "category": k.category, "reason": k.reason, "until": k.until }))
        .collect();
    json!({ "what": "erased", "kept": kept })
}
