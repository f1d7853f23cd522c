//! The request queue (soonest deadline first, overdue and due-soon flagged) and
//! one request with the actions its state allows.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::VaultError;
use custos_core::rights::{RequestAction, RequestView};
use custos_core::vault::Actor;
use custos_store::Uuid;
use serde::Deserialize;

use super::{
    St, Who, admin_page, admin_post, ctx, internal, not_found, problems_text, role_page,
    sign_in_page, task_failed, visit, who,
};
use crate::web::{Chrome, Visit, blocking, day, render};
use crate::{AppState, Backend, RequestId};

/// A deadline as a flag: class and words.
pub(super) fn flag(r: &RequestView) -> (&'static str, &'static str) {
    if r.overdue {
        ("overdue", "Overdue")
    } else if r.due_soon {
        ("soon", "Due soon")
    } else {
        match r.answered_on_time {
            Some(true) => ("ok", "Answered on time"),
            Some(false) => ("overdue", "Answered late"),
            None => ("ok", "On time"),
        }
    }
}

/// A request as a table row.
pub(super) struct Row {
    pub id: Uuid,
    pub right: String,
    pub subject: Option<String>,
    pub state: String,
    pub channel: String,
    pub received: String,
    pub deadline: String,
    pub extended: bool,
    pub flag_class: &'static str,
    pub flag: &'static str,
}

pub(super) fn row(r: &RequestView) -> Row {
    let (flag_class, flag) = flag(r);
    Row {
        id: r.id,
        right: r.right.replace('_', " "),
        subject: r.subject.map(|s| s.to_string()),
        state: r.state.replace('_', " "),
        channel: r.channel.replace('_', " "),
        received: day(r.received_at),
        deadline: day(r.deadline),
        extended: r.extended_until.is_some(),
        flag_class,
        flag,
    }
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    chrome: Chrome,
    nav: &'static str,
    open: Vec<Row>,
    closed: Vec<Row>,
    closed_total: usize,
    overdue: usize,
    due_soon: usize,
}

/// Closed requests shown under the queue, latest first.
const CLOSED_SHOWN: usize = 50;

/// `GET /console`: the sign-in page, the role page, or the queue.
pub async fn queue<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let mut v = match visit(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let actor = match who(&state, &mut v).await {
        Ok(Who::Admin(a)) => a,
        Ok(Who::Recipient(a)) => return role_page(&state, &mut v, &a),
        Ok(Who::Nobody) => return sign_in_page(&state, &mut v, StatusCode::OK, None),
        Err(r) => return r,
    };
    let st = Arc::clone(&state);
    let all = blocking(move || st.vault.request_queue(&actor.tenant)).await;
    match all {
        Some(Ok(all)) => {
            let overdue = all.iter().filter(|r| r.overdue).count();
            let due_soon = all.iter().filter(|r| r.due_soon).count();
            let (mut closed, open): (Vec<_>, Vec<_>) =
                all.iter().partition(|r| r.closed_at.is_some());
            closed.sort_by_key(|r| std::cmp::Reverse(r.closed_at));
            let closed_total = closed.len();
            closed.truncate(CLOSED_SHOWN);
            let chrome = v.chrome(&state, "Requests");
            v.finish(render(
                StatusCode::OK,
                &QueuePage {
                    chrome,
                    nav: "queue",
                    open: open.into_iter().map(row).collect(),
                    closed: closed.into_iter().map(row).collect(),
                    closed_total,
                    overdue,
                    due_soon,
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

#[derive(Template)]
#[template(path = "console/request.html")]
struct RequestPage {
    chrome: Chrome,
    nav: &'static str,
    r: Row,
    jurisdiction: String,
    due: String,
    extended_until: Option<String>,
    extension_reason: Option<String>,
    closed: Option<String>,
    rejection_reason: Option<String>,
    /// Actions the state allows.
    can_verify: bool,
    can_start: bool,
    can_fulfil: bool,
    can_extend: bool,
    can_reject: bool,
    can_instruct: bool,
    /// What fulfilling performs, said next to the button (P0-17).
    fulfil_does: Option<&'static str>,
    error: Option<String>,
}

/// What fulfilling a request of `right` does besides closing it (issue 13.9).
fn fulfil_does(right: &str) -> Option<&'static str> {
    match right {
        "erasure" => Some(
            "Fulfilling erases this person (you confirm on the next page); the notice \
             tells them what the law keeps.",
        ),
        "restriction" => Some("Fulfilling restricts processing of this person's data."),
        "objection" => {
            Some("Fulfilling records an objection to every purpose the person may object to.")
        }
        "consent_withdrawal" => Some("Fulfilling withdraws every consent the person gave."),
        _ => None,
    }
}

fn request_page(chrome: Chrome, r: &RequestView, error: Option<String>) -> RequestPage {
    let open = r.closed_at.is_none();
    let st = r.state;
    RequestPage {
        chrome,
        nav: "queue",
        r: row(r),
        jurisdiction: r.jurisdiction.clone().unwrap_or_else(|| "—".into()),
        due: day(r.due_at),
        extended_until: r.extended_until.map(day),
        extension_reason: r.extension_reason.clone(),
        closed: r.closed_at.map(day),
        rejection_reason: r.rejection_reason.clone(),
        can_verify: st == "received",
        can_start: st == "received" || st == "verified",
        can_fulfil: st == "verified" || st == "in_progress",
        can_extend: open && st != "routed" && r.extended_until.is_none(),
        can_reject: open && st != "routed",
        can_instruct: st == "routed",
        fulfil_does: fulfil_does(&r.right),
        error,
    }
}

fn request_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

/// `GET /console/requests/{id}`.
pub async fn detail<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = request_id(&id) else {
        return not_found(&state, &mut v, "request");
    };
    let st = Arc::clone(&state);
    let view = blocking(move || st.vault.request_view(&actor.tenant, id)).await;
    match view {
        Some(Ok(r)) => {
            let chrome = v.chrome(&state, "Request");
            v.finish(render(StatusCode::OK, &request_page(chrome, &r, None)))
        }
        Some(Err(VaultError::RequestNotFound)) => not_found(&state, &mut v, "request"),
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    controller_reference: String,
    #[serde(default)]
    instruction: String,
    /// `yes` on the confirmation of a fulfilment that erases.
    #[serde(default)]
    confirm: String,
}

/// `POST /console/requests/{id}`: one action; refusals are shown on the page.
pub async fn act<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<ActForm>, FormRejection>,
) -> Response {
    let (mut v, actor, form) = match admin_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = request_id(&id) else {
        return not_found(&state, &mut v, "request");
    };
    let (action, done) = match form.action.as_str() {
        "verify" => (RequestAction::Verify, "Identity verified."),
        "start" => (RequestAction::Start, "Work on the request started."),
        "fulfil" => (
            RequestAction::Fulfil,
            "Request fulfilled; the person is told.",
        ),
        "extend" => (
            RequestAction::Extend {
                reason: form.reason,
            },
            "Deadline extended; the person is told why.",
        ),
        "reject" => (
            RequestAction::Reject {
                reason: form.reason,
            },
            "Request rejected; the person is told why.",
        ),
        "instruct" => (
            RequestAction::Instruct {
                controller_reference: form.controller_reference,
                instruction: form.instruction,
            },
            "The controller's instruction is recorded.",
        ),
        _ => {
            return super::error_page(&state, &mut v, StatusCode::BAD_REQUEST, "Unknown action.");
        }
    };
    let c = ctx(rid);
    if matches!(action, RequestAction::Fulfil)
        && form.confirm != "yes"
        && let Some(page) = erasure_to_confirm(&state, &mut v, &actor, id, c.clone()).await
    {
        return page;
    }
    let st = Arc::clone(&state);
    let result = blocking(move || {
        match st.vault.act_performing(&actor, id, &action, &c) {
            Ok((_, erased)) => Ok(Ok(erased)),
            // Refused: show the request as it is, with why.
            Err(e @ VaultError::Invalid(_)) => st
                .vault
                .request_view(&actor.tenant, id)
                .map(|view| Err((view, e))),
            Err(e) => Err(e),
        }
    })
    .await;
    match result {
        Some(Ok(Ok(erased))) => {
            match erased {
                Some(receipt) => {
                    // As the privacy center's deletion does: nothing left to show them.
                    state.sessions.end_subject(receipt.subject);
                    v.flash(
                        &state,
                        "Request fulfilled: the person is erased and told what the law keeps.",
                    );
                }
                None => v.flash(&state, done),
            }
            v.see_other(&format!("/console/requests/{id}"))
        }
        Some(Ok(Err((view, e)))) => {
            let chrome = v.chrome(&state, "Request");
            let page = request_page(chrome, &view, problems_text(&e));
            v.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Some(Err(VaultError::RequestNotFound)) => not_found(&state, &mut v, "request"),
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

/// Fulfilling an erasure request erases the person: the confirmation page (what
/// is deleted, what the law keeps) when the request is one that will erase now;
/// `None` when fulfilling erases nobody (no live subject, another right, or a
/// state that cannot be fulfilled: the engine then says why).
async fn erasure_to_confirm<S: Backend>(
    state: &Arc<AppState<S>>,
    v: &mut Visit,
    actor: &Actor,
    id: Uuid,
    c: custos_core::vault::RequestCtx,
) -> Option<Response> {
    let st = Arc::clone(state);
    let a = actor.clone();
    let plan = blocking(move || {
        let r = st.vault.request_view(&a.tenant, id)?;
        let subject = match r.subject {
            Some(s) if r.right == "erasure" && matches!(r.state, "verified" | "in_progress") => s,
            _ => return Ok(None),
        };
        match st.vault.erasure_preview(&a, subject, &c) {
            Ok(plan) => Ok(Some((subject, plan))),
            Err(VaultError::SubjectErased | VaultError::SubjectNotFound) => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await;
    match plan {
        Some(Ok(Some((subject, plan)))) => {
            let chrome = v.chrome(state, "Confirm the erasure");
            let back = format!("/console/requests/{id}");
            let mut page = super::lifecycle::erasure_confirmation(
                chrome,
                subject,
                &plan,
                back.clone(),
                back,
                vec![("action".into(), "fulfil".into())],
            );
            page.nav = "queue";
            page.heading = format!("Fulfil the erasure request: erase subject {subject}?");
            page.button = "Fulfil and erase".into();
            Some(v.finish(render(StatusCode::OK, &page)))
        }
        Some(Ok(None)) => None,
        Some(Err(VaultError::RequestNotFound)) => Some(not_found(state, v, "request")),
        Some(Err(e)) => Some(internal(state, v, &e)),
        None => Some(task_failed(state, v)),
    }
}

csrf_forms!(ActForm);
