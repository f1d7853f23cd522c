//! Closing an account (P0-9, issue 13.15): what the policy promises for deleted
//! accounts happens, whichever way the account is closed — the app or the shop
//! over the API (`account_closure` event), or the person in the privacy center.
//!
//! With `rights.account_closure_erases`, closing the account is the person's
//! erasure request: it is opened, verified (the person is signed in, or the
//! caller's service authenticated them), and — when erasure is self-service —
//! fulfilled at once by erasing everything the law does not require to keep.
//! Otherwise it starts the `after account_closure` retention clocks.

use custos_policy::model::Right;
use custos_policy::period::Trigger;
use custos_store::{LifecycleStore, RequestStore, RetentionStore, Store, SubjectId, Uuid};
use serde::Serialize;

use super::events::EventOutcome;
use super::lifecycle::ErasureReceipt;
use super::{Actor, RequestCtx, Vault};
use crate::error::VaultError;
use crate::rights::{NewRequest, RequestAction, RequestView};
use crate::self_service::privacy_center_actor;

/// What an erasure the person asked for came to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SelfErasure {
    /// Erased at once (erasure is self-service): the receipt names what the law keeps.
    Erased {
        request: Uuid,
        receipt: ErasureReceipt,
    },
    /// A request for staff, due on the policy's clock.
    Opened { request: RequestView },
}

/// What closing an account did.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Closure {
    Erasure(Box<SelfErasure>),
    /// The retention clocks that count from the closure were started.
    Clocks(EventOutcome),
}

impl<S: Store + RequestStore + LifecycleStore + RetentionStore + custos_store::ConsentStore>
    Vault<S>
{
    /// The person's own erasure request through `channel`, identity already
    /// established by that channel: opened, verified, and fulfilled by erasing when
    /// the policy makes erasure self-service (P0-17). Fulfilled first, so its
    /// notice is written while the contact still exists.
    pub fn erase_on_persons_request(
        &self,
        tenant: &custos_store::TenantId,
        subject: SubjectId,
        channel: &str,
        ctx: &RequestCtx,
    ) -> Result<SelfErasure, VaultError> {
        let actor = privacy_center_actor(tenant);
        let policy = self.policy(tenant)?;
        // Nothing is written about someone already erased.
        match self.store.subject(tenant, subject)? {
            Some(row) if row.state != custos_store::SubjectState::Erased => {}
            Some(_) => return Err(VaultError::SubjectErased),
            None => return Err(VaultError::SubjectNotFound),
        }
        let request = self.open_request(
            &actor,
            &NewRequest {
                right: Right::Erasure,
                subject: Some(subject),
                jurisdiction: None,
                channel: channel.into(),
                on_behalf_of: None,
            },
            ctx,
        )?;
        let request = self.act_on_request(&actor, request.id, &RequestAction::Verify, ctx)?;
        if !policy.policy.rights.self_service.contains(&Right::Erasure) {
            return Ok(SelfErasure::Opened { request });
        }
        self.act_on_request(&actor, request.id, &RequestAction::Start, ctx)?;
        // Fulfilling performs the erasure (issue 13.9).
        match self.act_performing(&actor, request.id, &RequestAction::Fulfil, ctx)? {
            (_, Some(receipt)) => Ok(SelfErasure::Erased {
                request: request.id,
                receipt,
            }),
            (request, None) => Ok(SelfErasure::Opened { request }),
        }
    }

    /// An `account_closure` event from the app or the shop: an erasure when the
    /// policy says closing the account deletes it, else the retention clocks.
    /// Who may send it, and at what time, follows the lifecycle-event rules.
    pub fn close_account(
        &self,
        actor: &Actor,
        subject: SubjectId,
        at: Option<custos_store::Timestamp>,
        ctx: &RequestCtx,
    ) -> Result<Closure, VaultError> {
        let policy = self.policy(&actor.tenant)?;
        if !policy.policy.rights.account_closure_erases {
            return self
                .record_event(actor, subject, Trigger::AccountClosure, at, None, ctx)
                .map(Closure::Clocks);
        }
        // The same checks as any lifecycle event (role, subject, time) come first.
        let row = self.may_send_events_for(actor, subject, None, ctx)?;
        if row.state == custos_store::SubjectState::Erased {
            return Err(VaultError::SubjectErased);
        }
        self.erase_on_persons_request(&actor.tenant, subject, "api", ctx)
            .map(|e| Closure::Erasure(Box::new(e)))
    }
}
