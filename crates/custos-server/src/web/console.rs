//! `/console`: the staff console. Staff sign in with an API key (the same keys as
//! the JSON API: there are no passwords to stretch or reset); the key stays in the
//! server-side session and is authenticated again on every request, so revoking it
//! ends the session at the next click. Admin keys see every page; a key of a policy
//! recipient role sees only which role it is.
//!
//! The console's words are English, inline in its templates: it is for the
//! operator's staff, not for the people whose data it is (the privacy center is
//! the translated part). No personal data in URLs: contact searches travel in POST
//! bodies; links carry only random ids (requests, subjects, holds, incidents).

mod contracts;
mod holds;
mod incidents;
mod lifecycle;
mod reports;
mod requests;
mod subjects;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use custos_core::VaultError;
use custos_core::api_keys::{self, AuthError};
use custos_core::vault::{Actor, RequestCtx};
use custos_crypto::Zeroizing;
use serde::Deserialize;

use super::i18n::Lang;
use super::session::{Area, Staff};
use super::{Chrome, Visit, blocking, render, unavailable};
use crate::{AppState, Backend, RequestId};

pub fn routes<S: Backend>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/console", get(requests::queue::<S>))
        .route("/console/sign-in", post(sign_in::<S>))
        .route("/console/sign-out", post(sign_out::<S>))
        .route(
            "/console/requests/{id}",
            get(requests::detail::<S>).post(requests::act::<S>),
        )
        .route("/console/holds", get(holds::list::<S>))
        .route("/console/subjects/{id}", get(subjects::page::<S>))
        .route("/console/subjects/{id}/holds", post(holds::place::<S>))
        .route(
            "/console/subjects/{id}/restrict",
            post(lifecycle::restrict::<S>),
        )
        .route(
            "/console/subjects/{id}/lift-restriction",
            post(lifecycle::lift_restriction::<S>),
        )
        .route("/console/subjects/{id}/erase", post(lifecycle::erase::<S>))
        .route(
            "/console/subjects/{id}/holds/{hold}/lift",
            post(holds::lift::<S>),
        )
        .route(
            "/console/search",
            get(subjects::search_page::<S>).post(subjects::search::<S>),
        )
        .route("/console/retention", get(reports::retention::<S>))
        .route("/console/policy", get(reports::policy::<S>))
        .route("/console/policy/diff", get(reports::diff::<S>))
        .route("/console/audit", get(reports::audit::<S>))
        .route("/console/incidents", get(incidents::list::<S>))
        .route("/console/incidents/{id}", get(incidents::detail::<S>))
        .route("/console/contracts", get(contracts::list::<S>))
        .route(
            "/console/contracts/{id}",
            get(contracts::detail::<S>).post(contracts::act::<S>),
        )
}

type St<S> = State<Arc<AppState<S>>>;

/// An instant as staff read it: to the minute, UTC.
fn when(t: custos_store::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// The request context of a console action (its request id, for the audit log).
fn ctx(rid: Option<axum::Extension<RequestId>>) -> RequestCtx {
    RequestCtx {
        request_id: rid.map(|r| r.0.0.clone()),
        idempotency: None,
    }
}

/// A console visit: the console session, always in English.
fn visit<S: Backend>(state: &AppState<S>, headers: &HeaderMap) -> Result<Visit, Response> {
    let mut v = Visit::start(state, headers, Area::Console).ok_or_else(unavailable)?;
    v.lang = Lang::En;
    Ok(v)
}

/// Who the session's key is, checked now.
enum Who {
    Nobody,
    Admin(Actor),
    Recipient(Actor),
}

/// Authenticates the session's key again. A key that no longer authenticates
/// (revoked) ends the signed-in session: a fresh anonymous one replaces it.
async fn who<S: Backend>(state: &Arc<AppState<S>>, v: &mut Visit) -> Result<Who, Response> {
    let Some(staff) = v.session.staff.clone() else {
        return Ok(Who::Nobody);
    };
    let st = Arc::clone(state);
    let checked = blocking(move || {
        api_keys::authenticate(st.vault.store().as_ref(), st.vault.keys(), &staff.token)
    })
    .await;
    match checked {
        Some(Ok(actor)) if actor.admin => Ok(Who::Admin(actor)),
        Some(Ok(actor)) => Ok(Who::Recipient(actor)),
        Some(Err(AuthError::Rejected | AuthError::Malformed)) => {
            v.session.staff = None;
            v.session.flash =
                Some("Your API key is no longer valid (revoked?). Sign in again.".to_owned());
            if !v.rotate(state) {
                return Err(unavailable());
            }
            state.sessions.save(&v.session);
            Ok(Who::Nobody)
        }
        _ => Err(error_page(
            state,
            v,
            StatusCode::SERVICE_UNAVAILABLE,
            "The key store cannot be reached. Try again in a moment.",
        )),
    }
}

/// A page only admin keys may see: the visit and its actor, or the response to
/// send instead (sign-in, the role page, an error).
async fn admin_page<S: Backend>(
    state: &Arc<AppState<S>>,
    headers: &HeaderMap,
) -> Result<(Visit, Actor), Response> {
    let mut v = visit(state, headers)?;
    match who(state, &mut v).await? {
        Who::Admin(actor) => Ok((v, actor)),
        Who::Recipient(actor) => Err(role_page(state, &mut v, &actor)),
        Who::Nobody => Err(v.see_other("/console")),
    }
}

/// A POST only admin keys may make: CSRF checked first, so a forged form does
/// nothing whoever is signed in.
async fn admin_post<S: Backend, F: super::Csrf>(
    state: &Arc<AppState<S>>,
    headers: &HeaderMap,
    form: Result<Form<F>, FormRejection>,
) -> Result<(Visit, Actor, F), Response> {
    let mut v = visit(state, headers)?;
    let Ok(Form(form)) = form else {
        return Err(expired(state, &mut v));
    };
    if !v.csrf_ok(form.csrf()) {
        return Err(expired(state, &mut v));
    }
    match who(state, &mut v).await? {
        Who::Admin(actor) => Ok((v, actor, form)),
        Who::Recipient(actor) => Err(role_page(state, &mut v, &actor)),
        Who::Nobody => Err(v.see_other("/console")),
    }
}

/// An admin's form about one subject (`/console/subjects/{id}/…`): the checks of
/// [`admin_post`], then the subject id from the path (its page when unknown).
async fn admin_subject_post<S: Backend, F: super::Csrf>(
    state: &Arc<AppState<S>>,
    headers: &HeaderMap,
    id: &str,
    form: Result<Form<F>, FormRejection>,
) -> Result<(Visit, Actor, F, custos_store::SubjectId), Response> {
    let (mut v, actor, form) = admin_post(state, headers, form).await?;
    match holds::subject_id(id) {
        Some(subject) => Ok((v, actor, form, subject)),
        None => Err(not_found(state, &mut v, "subject")),
    }
}

// ---- errors ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    chrome: Chrome,
    nav: &'static str,
    message: String,
}

fn error_page<S: Backend>(
    state: &AppState<S>,
    v: &mut Visit,
    status: StatusCode,
    message: &str,
) -> Response {
    let chrome = v.chrome(state, "Error");
    v.finish(render(
        status,
        &ErrorPage {
            chrome,
            nav: "",
            message: message.to_owned(),
        },
    ))
}

/// A form that failed its CSRF check: nothing done.
fn expired<S: Backend>(state: &AppState<S>, v: &mut Visit) -> Response {
    error_page(
        state,
        v,
        StatusCode::FORBIDDEN,
        "This form has expired and nothing was changed. Go back, reload the page and try again.",
    )
}

/// An engine failure: logged by code only, shown without internals.
fn internal<S: Backend>(state: &AppState<S>, v: &mut Visit, e: &VaultError) -> Response {
    tracing::warn!(error = %e.code(), "console: engine call failed");
    error_page(
        state,
        v,
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!(
            "That did not work ({}). Try again; if it persists, see the server log.",
            e.code()
        ),
    )
}

fn task_failed<S: Backend>(state: &AppState<S>, v: &mut Visit) -> Response {
    internal(state, v, &VaultError::Internal("task".into()))
}

fn not_found<S: Backend>(state: &AppState<S>, v: &mut Visit, what: &str) -> Response {
    error_page(state, v, StatusCode::NOT_FOUND, &format!("No such {what}."))
}

/// The engine's field problems, one line each: they name the rule, never a value.
fn problems_text(e: &VaultError) -> Option<String> {
    match e {
        VaultError::Invalid(problems) => Some(
            problems
                .iter()
                .map(|p| format!("{} ({})", p.detail, p.code))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    }
}

// ---- sign in and out -------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    nav: &'static str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/role.html")]
struct RolePage {
    chrome: Chrome,
    nav: &'static str,
    role: String,
    key_id: String,
}

fn sign_in_page<S: Backend>(
    state: &AppState<S>,
    v: &mut Visit,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let chrome = v.chrome(state, "Sign in");
    v.finish(render(
        status,
        &SignInPage {
            chrome,
            nav: "",
            error,
        },
    ))
}

/// What a key of a recipient role sees: which role, and that staff pages need an
/// admin key. 403: the pages exist, this key may not see them.
fn role_page<S: Backend>(state: &AppState<S>, v: &mut Visit, actor: &Actor) -> Response {
    let chrome = v.chrome(state, "Admin key needed");
    v.finish(render(
        StatusCode::FORBIDDEN,
        &RolePage {
            chrome,
            nav: "",
            role: actor.role.clone(),
            key_id: actor.key_id.clone(),
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
}

pub async fn sign_in<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let mut v = match visit(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(Form(form)) = form else {
        return expired(&state, &mut v);
    };
    if !v.csrf_ok(&form.csrf) {
        return expired(&state, &mut v);
    }
    // A console sign-in is a key check: the API's limit on bad keys per client
    // address applies, before the key is hashed.
    let now = state.vault.now();
    if let Err(wait) = state.edge.unauthenticated.peek(v.client(), now) {
        state.metrics.rate_limited();
        return v.limited(crate::limits::UNAUTHENTICATED_LIMITED, wait);
    }
    let token = Zeroizing::new(form.key.trim().to_owned());
    let st = Arc::clone(&state);
    let t = token.clone();
    let checked =
        blocking(move || api_keys::authenticate(st.vault.store().as_ref(), st.vault.keys(), &t))
            .await;
    match checked {
        Some(Ok(actor)) => {
            v.session.staff = Some(Staff { token });
            v.session.flash = Some(format!(
                "Signed in with key {} ({}).",
                actor.key_id, actor.role
            ));
            if let Err(r) = v.sign_in(&state) {
                return r;
            }
            tracing::info!(key_id = %actor.key_id, admin = actor.admin, "console: signed in");
            v.see_other("/console")
        }
        Some(Err(AuthError::Rejected | AuthError::Malformed)) => {
            let _ = state.edge.unauthenticated.check(v.client(), now);
            // Never the key itself: it may be a real one with a typo.
            tracing::info!("console: sign-in refused");
            sign_in_page(
                &state,
                &mut v,
                StatusCode::UNAUTHORIZED,
                Some(
                    "This API key was not accepted. Check that it is whole and not revoked.".into(),
                ),
            )
        }
        _ => error_page(
            &state,
            &mut v,
            StatusCode::SERVICE_UNAVAILABLE,
            "The key store cannot be reached. Try again in a moment.",
        ),
    }
}

pub async fn sign_out<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<super::CsrfOnly>, FormRejection>,
) -> Response {
    let mut v = match visit(&state, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !form.is_ok_and(|Form(f)| v.csrf_ok(&f.csrf)) {
        return expired(&state, &mut v);
    }
    v.end(&state);
    v.see_other("/console")
}
