//! Retention that counts from an event (P0-9, L-6): `last_activity`,
//! `account_closure`, `contract_end`, `consent_withdrawal`, `purpose_end`.
//!
//! [`Vault::record_event`] sets `expires_at = at + span` on every record of the
//! subject whose category's retention counts from that event, in one store
//! transaction with its `retention.event` audit entry (event and category names,
//! never a value). A later event of the same kind sets the expiry again from its
//! own time: each new activity pushes `last_activity` retention later. For
//! `consent_withdrawal` only the records collected for the withdrawn purpose
//! start their clock; `record_consent` records it on every withdrawal. The sweep
//! ([`crate::retention`]) then acts on the expiry like any other.

use custos_policy::period::Trigger;
use custos_store::{RetentionStore, Store, StoreError, SubjectId, Timestamp};
use serde::Serialize;

use super::{Actor, RequestCtx, Vault};
use crate::error::{FieldError, VaultError};
use crate::rights::add_span;

/// Field code: the event is not one retention can count from.
pub const UNKNOWN_EVENT: &str = "VAULT-0190";
/// The audit action of an event.
pub const EVENT_ACTION: &str = "retention.event";

/// What recording an event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventOutcome {
    pub event: &'static str,
    pub at: Timestamp,
    /// Records whose expiry was set.
    pub records: u64,
    /// (category, new expiry), for each category whose retention counts from the event.
    pub expiries: Vec<CategoryExpiry>,
}

/// One category's new expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryExpiry {
    pub category: String,
    pub expires_at: Timestamp,
}

/// Parses an event name (any trigger but `collection`).
pub fn parse_event(raw: &str) -> Result<Trigger, VaultError> {
    Trigger::ALL
        .into_iter()
        .find(|t| *t != Trigger::Collection && t.as_str() == raw.trim())
        .ok_or_else(|| {
            VaultError::Invalid(vec![FieldError {
                pointer: "/event".to_owned(),
                code: UNKNOWN_EVENT,
                detail: format!(
                    "`{raw}` is not a retention event (last_activity, account_closure, contract_end, consent_withdrawal, purpose_end)"
                ),
            }])
        })
}

/// Field code: an event's time is before the subject's data was collected or
/// later than now plus [`EVENT_SKEW`] (issue 17.2).
pub const BAD_EVENT_TIME: &str = "VAULT-0215";
/// How far ahead of the server's clock a client may date an event (clock skew).
pub const EVENT_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

impl<S: Store + RetentionStore> Vault<S> {
    /// Records `event` for `subject` at `at` (the clock's now when `None`); for
    /// `consent_withdrawal`, `purpose` names the withdrawn purpose (only its
    /// records start their clock).
    ///
    /// Nobody can move a retention clock (issue 17.2): only admin keys and roles
    /// the policy marks `sends_lifecycle_events` may send events; `at` must lie
    /// between the subject's collection and now plus [`EVENT_SKEW`]; from a past
    /// `at` the clock still counts from now, so a client-supplied time never
    /// makes the sweep delete anything earlier; and a `last_activity` event never
    /// moves an expiry earlier.
    pub fn record_event(
        &self,
        actor: &Actor,
        subject: SubjectId,
        event: Trigger,
        at: Option<Timestamp>,
        purpose: Option<&str>,
        ctx: &RequestCtx,
    ) -> Result<EventOutcome, VaultError> {
        if event == Trigger::Collection {
            return Err(parse_event(event.as_str())
                .err()
                .unwrap_or(VaultError::Integrity));
        }
        let row = self.may_send_events_for(actor, subject, purpose, ctx)?;
        let now = self.now();
        let start = match at {
            None => now,
            Some(at) => {
                let latest = now
                    .checked_add(EVENT_SKEW)
                    .map_err(|_| VaultError::Internal("clock beyond the calendar".into()))?;
                if at < row.created_at || at > latest {
                    return Err(VaultError::Invalid(vec![FieldError {
                        pointer: "/at".to_owned(),
                        code: BAD_EVENT_TIME,
                        detail: format!(
                            "an event time lies between the subject's collection ({}) and now plus {} minutes",
                            row.created_at,
                            EVENT_SKEW.as_mins()
                        ),
                    }]));
                }
                at.max(now)
            }
        };
        self.apply_event(actor, subject, event, start, purpose, ctx)
    }

    /// Who may send lifecycle events (issue 17.2): admin keys and the roles the
    /// policy marks `sends_lifecycle_events`, about a subject that exists. Every
    /// refusal is audited the same way; only the reason differs.
    pub(crate) fn may_send_events_for(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: Option<&str>,
        ctx: &RequestCtx,
    ) -> Result<custos_store::Subject, VaultError> {
        let refuse = |err| self.deny(actor, ctx, EVENT_ACTION, purpose, Some(subject), err);
        let active = self.policy(&actor.tenant)?;
        let may_send = actor.admin
            || active
                .policy
                .recipient
                .get(&actor.role)
                .is_some_and(|r| r.sends_lifecycle_events);
        if !may_send {
            return Err(refuse(VaultError::EventRoleNotAllowed(actor.role.clone())));
        }
        match self.store.subject(&actor.tenant, subject)? {
            // An erased person has no clocks left to start: gone, as on every read.
            Some(row) if row.state == custos_store::SubjectState::Erased => {
                Err(refuse(VaultError::SubjectErased))
            }
            Some(row) => Ok(row),
            None => Err(refuse(VaultError::SubjectNotFound)),
        }
    }

    /// Sets the expiries an event at `at` starts, trusted time only (the
    /// server's clock, or a client time already bounded by [`Self::record_event`]).
    pub(crate) fn apply_event(
        &self,
        actor: &Actor,
        subject: SubjectId,
        event: Trigger,
        at: Timestamp,
        purpose: Option<&str>,
        ctx: &RequestCtx,
    ) -> Result<EventOutcome, VaultError> {
        let active = self.policy(&actor.tenant)?;
        if let Some(p) = purpose
            && !active.policy.purpose.contains_key(p)
        {
            return Err(VaultError::UnknownPurpose(p.to_owned()));
        }
        let mut expiries = Vec::new();
        for (name, cat) in &active.policy.category {
            let Some(rule) = cat.retention.as_ref().and_then(|r| r.rule()) else {
                continue;
            };
            if rule.after != event {
                continue;
            }
            let expires_at = add_span(at, rule.span)
                .ok_or_else(|| VaultError::Internal("retention beyond the calendar".into()))?;
            expiries.push((name.clone(), expires_at));
        }
        let mut audit = self.audit(actor, ctx, EVENT_ACTION);
        audit.subject = Some(subject);
        audit.purpose = purpose.map(str::to_owned);
        audit.categories = expiries.iter().map(|(c, _)| c.clone()).collect();
        audit.reason = format!("event {} at {at}", event.as_str());
        let records = match self.store.set_expiry(
            &actor.tenant,
            subject,
            &expiries,
            purpose,
            // Activity only ever pushes a clock later.
            event == Trigger::LastActivity,
            &audit,
        ) {
            Ok(n) => n,
            Err(StoreError::NotFound(_)) => {
                return Err(self.deny(
                    actor,
                    ctx,
                    EVENT_ACTION,
                    purpose,
                    Some(subject),
                    VaultError::SubjectNotFound,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(EventOutcome {
            event: event.as_str(),
            at,
            records,
            expiries: expiries
                .into_iter()
                .map(|(category, expires_at)| CategoryExpiry {
                    category,
                    expires_at,
                })
                .collect(),
        })
    }
}

/// Field code: a legal hold needs a reason in words and an end after now.
pub const BAD_HOLD: &str = "VAULT-0191";

impl<S: Store + RetentionStore> Vault<S> {
    /// Places a legal hold on all of a subject's records (P0-17), admin only:
    /// the sweep leaves them until `until`. The reason is in words and goes to
    /// the hold record only; the audit log names the hold by its id.
    pub fn place_hold(
        &self,
        actor: &Actor,
        subject: SubjectId,
        reason: &str,
        until: Timestamp,
        ctx: &RequestCtx,
    ) -> Result<custos_store::LegalHold, VaultError> {
        let now = self.now();
        let mut problems = Vec::new();
        if reason.trim().is_empty() || reason.len() > 1000 {
            problems.push(FieldError {
                pointer: "/reason".to_owned(),
                code: BAD_HOLD,
                detail: "a legal hold needs a reason of 1 to 1,000 bytes".to_owned(),
            });
        }
        if until <= now {
            problems.push(FieldError {
                pointer: "/until".to_owned(),
                code: BAD_HOLD,
                detail: "a legal hold ends after now".to_owned(),
            });
        }
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        let hold = custos_store::LegalHold {
            id: custos_store::Uuid::now_v7(),
            subject,
            record: None,
            reason: reason.trim().to_owned(),
            placed_at: now,
            until: Some(until),
        };
        let mut audit = self.audit(actor, ctx, "legal_hold");
        audit.subject = Some(subject);
        // The audit log is append-only and never erased: it carries the hold's id
        // (a reference), never the staff's words, which may name people (17.11).
        audit.reason = format!("legal hold {} placed until {until}", hold.id);
        match self.store.place_legal_hold(&actor.tenant, &hold, &audit) {
            Ok(_) => Ok(hold),
            Err(StoreError::NotFound(_)) => Err(self.deny(
                actor,
                ctx,
                "legal_hold",
                None,
                Some(subject),
                VaultError::SubjectNotFound,
            )),
            Err(e) => Err(e.into()),
        }
    }
}

/// Field code / error for a hold that does not exist or has already ended.
pub const NO_SUCH_HOLD: &str = "VAULT-0192";

impl<S: Store + RetentionStore> Vault<S> {
    /// Lifts a legal hold now (its end becomes now): the sweep proceeds and reads
    /// open again. `Invalid` (VAULT-0192) if the subject has no such hold in force.
    pub fn lift_legal_hold(
        &self,
        actor: &Actor,
        subject: SubjectId,
        hold: custos_store::Uuid,
        ctx: &RequestCtx,
    ) -> Result<(), VaultError> {
        let now = self.now();
        let mut audit = self.audit(actor, ctx, "legal_hold.lift");
        audit.subject = Some(subject);
        audit.reason = format!("legal hold {hold} lifted");
        match self
            .store
            .lift_legal_hold(&actor.tenant, subject, hold, now, &audit)
        {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound(_)) => Err(self.deny(
                actor,
                ctx,
                "legal_hold.lift",
                None,
                Some(subject),
                VaultError::Invalid(vec![FieldError {
                    pointer: "/hold".to_owned(),
                    code: NO_SUCH_HOLD,
                    detail: "the subject has no such legal hold in force".to_owned(),
                }]),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The tenant's legal holds (one subject's when given), ended ones included.
    pub fn legal_holds(
        &self,
        actor: &Actor,
        subject: Option<SubjectId>,
    ) -> Result<Vec<custos_store::LegalHold>, VaultError> {
        Ok(self.store.legal_holds(&actor.tenant, subject)?)
    }
}
