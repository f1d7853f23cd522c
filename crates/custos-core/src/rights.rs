//! Data-subject rights requests and their statutory clocks (P0-18, L-7, V-6):
//! `received → verified → in_progress → fulfilled | rejected`, a due date from the
//! policy and the person's jurisdiction, one extension with a reason and a notice
//! sent before the deadline, and overdue / due-soon views.
//!
//! Every notice owed to the person is written to the outbox in the same
//! transaction as its cause; [`deliver_due`] hands them to a [`Sink`].

use custos_policy::model::Right;
use custos_policy::period::{Span, Unit};
use custos_store::{
    OutboxMessage, Outcome, RequestState, RequestStore, RightsRequest, Store, StoreError,
    SubjectId, TenantId, Timestamp, Uuid,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{FieldError, VaultError};
use crate::vault::{Actor, RequestCtx, Vault};

/// A request as it arrives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub right: Right,
    #[serde(default)]
    pub subject: Option<SubjectId>,
    #[serde(default)]
    pub jurisdiction: Option<String>,
    pub channel: String,
    /// The controller (name or reference) when the request concerns data the tenant
    /// holds as its processor (S-1, V-3, L-1, L-8).
    #[serde(default)]
    pub on_behalf_of: Option<String>,
}

/// What staff do with a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestAction {
    Verify,
    Start,
    Fulfil,
    Reject {
        reason: String,
    },
    Extend {
        reason: String,
    },
    /// Records the controller's documented instruction on a routed request.
    Instruct {
        controller_reference: String,
        instruction: String,
    },
}

/// Channels a request can arrive by.
pub const REQUEST_CHANNELS: [&str; 6] = ["privacy_center", "web", "email", "post", "phone", "api"];

/// A request with its clock read at a given time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestView {
    pub id: Uuid,
    pub subject: Option<SubjectId>,
    pub right: String,
    pub state: &'static str,
    pub jurisdiction: Option<String>,
    pub channel: String,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub extended_until: Option<Timestamp>,
    pub extension_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
    pub rejection_reason: Option<String>,
    /// The deadline in force: the extension's if extended.
    pub deadline: Timestamp,
    /// Open and past the deadline.
    pub overdue: bool,
    /// Open and due within [`DUE_SOON_DAYS`] days.
    pub due_soon: bool,
    /// Closed by the deadline (`None` while open).
    pub answered_on_time: Option<bool>,
}

/// How close a deadline must be to flag a request as due soon.
pub const DUE_SOON_DAYS: i64 = 3;

impl RequestView {
    pub fn at(r: &RightsRequest, now: Timestamp) -> Self {
        let deadline = r.extended_until.unwrap_or(r.due_at);
        let open = !r.state.is_closed();
        let soon = deadline
            .checked_sub(jiff::SignedDuration::from_hours(24 * DUE_SOON_DAYS))
            .unwrap_or(deadline);
        RequestView {
            id: r.id,
            subject: r.subject,
            right: r.right.clone(),
            state: r.state.as_str(),
            jurisdiction: r.jurisdiction.clone(),
            channel: r.channel.clone(),
            received_at: r.received_at,
            due_at: r.due_at,
            extended_until: r.extended_until,
            extension_reason: r.extension_reason.clone(),
            closed_at: r.closed_at,
            rejection_reason: r.rejection_reason.clone(),
            deadline,
            overdue: open && now > deadline,
            due_soon: open && now <= deadline && now >= soon,
            answered_on_time: r.closed_at.map(|c| c <= deadline),
        }
    }
}

/// `t + span` on the UTC calendar (months and years clamp to the month's end).
pub fn add_span(t: Timestamp, span: Span) -> Option<Timestamp> {
    let n = i64::from(span.n);
    let s = match span.unit {
        Unit::Hours => jiff::Span::new().try_hours(n).ok()?,
        // Business days need a holiday calendar; rights deadlines are in calendar days.
        Unit::Days | Unit::BusinessDays => jiff::Span::new().try_days(n).ok()?,
        Unit::Weeks => jiff::Span::new().try_weeks(n).ok()?,
        Unit::Months => jiff::Span::new().try_months(n).ok()?,
        Unit::Years => jiff::Span::new().try_years(n).ok()?,
    };
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(s)
        .ok()
        .map(|z| z.timestamp())
}

fn field(pointer: &str, code: &'static str, detail: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.to_owned(),
        code,
        detail: detail.into(),
    }
}

fn message(
    subject: Option<SubjectId>,
    kind: &str,
    payload: serde_json::Value,
    now: Timestamp,
) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::now_v7(),
        subject,
        kind: kind.to_owned(),
        payload: payload.to_string(),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: None,
        last_error: None,
    }
}

impl<S: Store + RequestStore> Vault<S> {
    /// Registers a request and owes the person an acknowledgement with the due date.
    pub fn open_request(
        &self,
        actor: &Actor,
        input: &NewRequest,
        ctx: &RequestCtx,
    ) -> Result<RequestView, VaultError> {
        let active = self.policy(&actor.tenant)?;
        let policy = &active.policy;
        let mut problems = Vec::new();
        if !policy.rights.available.contains(&input.right) {
            problems.push(field(
                "/right",
                "VAULT-0130",
                format!(
                    "the policy does not offer the right `{}`",
                    input.right.as_str()
                ),
            ));
        }
        if !REQUEST_CHANNELS.contains(&input.channel.as_str()) {
            problems.push(field(
                "/channel",
                "VAULT-0131",
                format!("channel must be one of {}", REQUEST_CHANNELS.join(", ")),
            ));
        }
        let mut jurisdiction = input.jurisdiction.clone();
        if let Some(subject) = input.subject {
            match self.store.subject(&actor.tenant, subject)? {
                Some(s) => jurisdiction = jurisdiction.or(s.jurisdiction),
                None => return Err(VaultError::SubjectNotFound),
            }
        }
        if let Some(j) = &jurisdiction
            && !policy.jurisdiction.is_empty()
            && !policy.jurisdiction.contains_key(j)
        {
            problems.push(field(
                "/jurisdiction",
                "VAULT-0111",
                "a jurisdiction the policy does not cover",
            ));
        }
        // Processor mode (S-1, V-3, L-1, L-8): data held for a controller is the
        // controller's to answer for; the request goes to it.
        let mut controller = None;
        if let Some(c) = &input.on_behalf_of {
            let c = c.trim();
            match &policy.processor {
                None => problems.push(field(
                    "/on_behalf_of",
                    "VAULT-0138",
                    "the policy has no [processor] section: the tenant holds no data for a controller",
                )),
                Some(_) if c.is_empty() || c.len() > 2000 => problems.push(field(
                    "/on_behalf_of",
                    "VAULT-0138",
                    "the controller is named (1–2000 bytes)",
                )),
                Some(p) if p.route_requests_to_controller => controller = Some(c.to_owned()),
                // The policy keeps such requests with the tenant: the normal flow.
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(VaultError::Invalid(problems));
        }
        let rules = jurisdiction
            .as_ref()
            .and_then(|j| policy.jurisdiction.get(j));
        let deadline = rules
            .and_then(|r| r.rights_deadline.as_ref())
            .unwrap_or(&policy.rights.deadline)
            .span()
            .ok_or(VaultError::NoPolicy)?;
        let now = self.clock.now();
        let due_at = add_span(now, deadline)
            .ok_or_else(|| VaultError::Internal("deadline out of range".into()))?;
        let request = RightsRequest {
            id: Uuid::now_v7(),
            subject: input.subject,
            right: input.right.as_str().to_owned(),
            state: if controller.is_some() {
                RequestState::Routed
            } else {
                RequestState::Received
            },
            jurisdiction,
            channel: input.channel.clone(),
            received_at: now,
            due_at,
            extended_until: None,
            extension_reason: None,
            closed_at: None,
            rejection_reason: None,
        };
        let mut ack = json!({ "request": request.id, "right": request.right, "due_at": due_at, "deadline": deadline.to_string() });
        let mut messages = Vec::new();
        if let Some(c) = &controller {
            if let Some(o) = ack.as_object_mut() {
                o.insert("forwarded_to_controller".into(), json!(c));
            }
            // Addressed to the controller, not the person: ids and dates only.
            messages.push(message(
                request.subject,
                "request.routed",
                json!({ "request": request.id, "right": request.right, "controller": c, "received_at": now }),
                now,
            ));
        }
        messages.insert(
            0,
            message(request.subject, "request.acknowledged", ack, now),
        );
        let action = if controller.is_some() {
            "request.routed"
        } else {
            "request.received"
        };
        let mut audit = self.audit(actor, ctx, action);
        audit.subject = request.subject;
        audit.reason = match &controller {
            Some(c) => format!(
                "{} request {}, due {due_at}, routed to controller {c}",
                request.right, request.id
            ),
            None => format!("{} request {}, due {due_at}", request.right, request.id),
        };
        self.store
            .put_request(&actor.tenant, &request, None, &messages, &audit)?;
        Ok(RequestView::at(&request, now))
    }

    /// Moves a request on; every step is audited and owes the person a notice where
    /// one is due (extension, fulfilment, rejection).
    pub fn act_on_request(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &RequestAction,
        ctx: &RequestCtx,
    ) -> Result<RequestView, VaultError> {
        self.act_on_request_done(actor, id, action, ctx, None)
    }

    /// [`Vault::act_on_request`]; a fulfilment's notice carries `done`, what was
    /// performed for the right ([`crate::vault::fulfil`] sets it, having done it),
    /// so the person is told what was done and never something that was not.
    pub(crate) fn act_on_request_done(
        &self,
        actor: &Actor,
        id: Uuid,
        action: &RequestAction,
        ctx: &RequestCtx,
        done: Option<serde_json::Value>,
    ) -> Result<RequestView, VaultError> {
        let mut r = self
            .store
            .request(&actor.tenant, id)?
            .ok_or(VaultError::RequestNotFound)?;
        let prev = r.state;
        let now = self.clock.now();
        let illegal = |what: &str| {
            VaultError::Invalid(vec![field(
                "/action",
                "VAULT-0132",
                if prev == RequestState::Routed {
                    format!(
                        "cannot {what} a request routed to its controller before the controller's instruction is recorded"
                    )
                } else {
                    format!("cannot {what} a request that is {}", prev.as_str())
                },
            )])
        };
        let mut notices = Vec::new();
        let mut audited_as = None;
        let mut audit_reason = None;
        let payload = |extra: serde_json::Value| {
            let mut v = json!({ "request": r.id, "right": r.right });
            if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
                o.extend(e);
            }
            v
        };
        match action {
            RequestAction::Instruct {
                controller_reference,
                instruction,
            } if prev == RequestState::Routed => {
                let reference = controller_reference.trim();
                let mut problems = Vec::new();
                if reference.is_empty() || reference.len() > 2000 {
                    problems.push(field(
                        "/controller_reference",
                        "VAULT-0139",
                        "the controller's instruction is referenced (1–2000 bytes)",
                    ));
                }
                let instruction = instruction.trim();
                if instruction.is_empty() || instruction.len() > 2000 {
                    problems.push(field(
                        "/instruction",
                        "VAULT-0139",
                        "the controller's instruction is stated (1–2000 bytes)",
                    ));
                }
                if !problems.is_empty() {
                    return Err(VaultError::Invalid(problems));
                }
                r.state = RequestState::InProgress;
                audited_as = Some("request.instructed");
                // The reference only: the instruction's text may name the person.
                audit_reason = Some(format!(
                    "{} request {}, controller instruction {reference}",
                    r.right, r.id
                ));
            }
            RequestAction::Verify if prev == RequestState::Received => {
                r.state = RequestState::Verified
            }
            RequestAction::Start
                if matches!(prev, RequestState::Received | RequestState::Verified) =>
            {
                r.state = RequestState::InProgress;
            }
            RequestAction::Fulfil
                if matches!(prev, RequestState::Verified | RequestState::InProgress) =>
            {
                r.state = RequestState::Fulfilled;
                r.closed_at = Some(now);
                notices.push(message(
                    r.subject,
                    "request.fulfilled",
                    payload(match done {
                        Some(done) => json!({ "at": now, "done": done }),
                        None => json!({ "at": now }),
                    }),
                    now,
                ));
            }
            // A routed request waits for the controller: no answer of our own (S-1, V-3).
            RequestAction::Reject { reason }
                if !prev.is_closed() && prev != RequestState::Routed =>
            {
                let reason = reason.trim();
                if reason.is_empty() || reason.len() > 2000 {
                    return Err(VaultError::Invalid(vec![field(
                        "/reason",
                        "VAULT-0133",
                        "a rejection states its reason (1–2000 bytes)",
                    )]));
                }
                r.state = RequestState::Rejected;
                r.closed_at = Some(now);
                r.rejection_reason = Some(reason.to_owned());
                notices.push(message(
                    r.subject,
                    "request.rejected",
                    payload(json!({ "reason": reason, "at": now })),
                    now,
                ));
            }
            RequestAction::Extend { reason } if !prev.is_closed() => {
                let policy = self.policy(&actor.tenant)?;
                let reason = reason.trim();
                let mut problems = Vec::new();
                if reason.is_empty() || reason.len() > 2000 {
                    problems.push(field(
                        "/reason",
                        "VAULT-0133",
                        "an extension states its reason (1–2000 bytes)",
                    ));
                }
                if r.extended_until.is_some() {
                    problems.push(field(
                        "/action",
                        "VAULT-0134",
                        "a request can be extended once",
                    ));
                }
                if now > r.due_at {
                    // The person must hear of an extension before the deadline (P0-18).
                    problems.push(field(
                        "/action",
                        "VAULT-0135",
                        "the deadline has passed; an extension must be notified before it",
                    ));
                }
                let rules = r
                    .jurisdiction
                    .as_ref()
                    .and_then(|j| policy.policy.jurisdiction.get(j));
                let extension = rules
                    .and_then(|j| j.rights_extension.as_ref())
                    .or(policy.policy.rights.extension.as_ref())
                    .and_then(|p| p.span());
                if extension.is_none() {
                    problems.push(field(
                        "/action",
                        "VAULT-0136",
                        "the policy allows no extension",
                    ));
                }
                if !problems.is_empty() {
                    return Err(VaultError::Invalid(problems));
                }
                let until = extension
                    .and_then(|e| add_span(r.due_at, e))
                    .ok_or_else(|| VaultError::Internal("extension out of range".into()))?;
                r.extended_until = Some(until);
                r.extension_reason = Some(reason.to_owned());
                notices.push(message(
                    r.subject,
                    "request.extended",
                    payload(
                        json!({ "reason": reason, "due_at": r.due_at, "extended_until": until }),
                    ),
                    now,
                ));
            }
            RequestAction::Verify => return Err(illegal("verify")),
            RequestAction::Start => return Err(illegal("start")),
            RequestAction::Fulfil => return Err(illegal("fulfil")),
            RequestAction::Reject { .. } => return Err(illegal("reject")),
            RequestAction::Extend { .. } => return Err(illegal("extend")),
            RequestAction::Instruct { .. } => return Err(illegal("record an instruction on")),
        }
        let action = audited_as
            .map(str::to_owned)
            .unwrap_or_else(|| format!("request.{}", r.state.as_str()));
        let mut audit = self.audit(actor, ctx, &action);
        audit.subject = r.subject;
        audit.outcome = Outcome::Allow;
        audit.reason = audit_reason.unwrap_or_else(|| format!("{} request {}", r.right, r.id));
        match self
            .store
            .put_request(&actor.tenant, &r, Some(prev), &notices, &audit)
        {
            Ok(_) => Ok(RequestView::at(&r, now)),
            Err(StoreError::Conflict(_)) => Err(VaultError::Invalid(vec![field(
                "/action",
                "VAULT-0137",
                "the request changed meanwhile; reload it",
            )])),
            Err(e) => Err(e.into()),
        }
    }

    pub fn request_view(&self, tenant: &TenantId, id: Uuid) -> Result<RequestView, VaultError> {
        let r = self
            .store
            .request(tenant, id)?
            .ok_or(VaultError::RequestNotFound)?;
        Ok(RequestView::at(&r, self.clock.now()))
    }

    /// The queue: open requests first, soonest deadline first.
    pub fn request_queue(&self, tenant: &TenantId) -> Result<Vec<RequestView>, VaultError> {
        let now = self.clock.now();
        let mut all: Vec<RequestView> = self
            .store
            .requests(tenant)?
            .iter()
            .map(|r| RequestView::at(r, now))
            .collect();
        all.sort_by_key(|v| (v.closed_at.is_some(), v.deadline));
        Ok(all)
    }
}

/// Where notices go: a mail server, a file directory, a test collector.
pub trait Sink: Send + Sync {
    /// Delivers one message; `Err` (a short reason, no personal data) means retry later.
    fn deliver(&self, tenant: &TenantId, message: &OutboxMessage) -> Result<(), String>;

    /// Removes whatever the sink itself keeps of sign-in codes expired at `now` (a
    /// file sink's files); run by the delivery job on every tick.
    fn forget_expired(&self, _now: Timestamp) {}
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub failed: usize,
    /// Code messages closed unsent: expired first, or addressed to nobody.
    pub closed: usize,
}

/// Delivers every due message of a tenant. A failed attempt is retried with a
/// backoff (1 min, 2, 4 … capped at 6 h); nothing is dropped. A crash between the
/// sink's success and the mark means one more delivery of the same message id, so
/// sinks must be idempotent per message id.
pub fn deliver_due<S: RequestStore>(
    store: &S,
    sink: &dyn Sink,
    tenant: &TenantId,
    now: Timestamp,
    limit: usize,
) -> Result<DeliveryReport, VaultError> {
    let mut report = DeliveryReport::default();
    for mut m in store.due_outbox(tenant, now, limit)? {
        if m.kind == crate::verification::CODE_KIND
            && !crate::verification::code_deliverable(&m.payload, now)
        {
            // Expired before it could be sent, or addressed to nobody (a sign-in for an
            // unknown address): closed without a send, its code scrubbed.
            if let Some(p) = crate::verification::scrub_code(&m.kind, &m.payload) {
                m.payload = p;
            }
            m.delivered_at = Some(now);
            m.last_error = Some(if m.subject.is_some() {
                "expired before delivery".into()
            } else {
                "no recipient".into()
            });
            report.closed += 1;
        } else {
            m.attempts += 1;
            deliver_one(sink, tenant, &mut m, now, &mut report);
        }
        match store.mark_outbox(tenant, &m) {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// One attempt: delivered (a code then leaves the row), or failed with its retry time.
fn deliver_one(
    sink: &dyn Sink,
    tenant: &TenantId,
    m: &mut OutboxMessage,
    now: Timestamp,
    report: &mut DeliveryReport,
) {
    match sink.deliver(tenant, m) {
        Ok(()) => {
            m.delivered_at = Some(now);
            m.last_error = None;
            if let Some(p) = crate::verification::scrub_code(&m.kind, &m.payload) {
                m.payload = p;
            }
            report.delivered += 1;
        }
        Err(reason) => {
            let minutes = 1i64 << m.attempts.min(9).saturating_sub(1);
            let wait = jiff::SignedDuration::from_mins(minutes.min(360));
            m.next_attempt_at = now.checked_add(wait).unwrap_or(now);
            m.last_error = Some(reason.chars().take(200).collect());
            report.failed += 1;
        }
    }
}
