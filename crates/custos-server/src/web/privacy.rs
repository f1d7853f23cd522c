//! `/privacy`: a person signs in with a one-time code sent to a contact custos
//! holds, then sees everything held about them with why, for whom and until
//! when; corrects it, downloads it, changes consent and objections, follows their
//! requests, and deletes the account (P0-11, P0-14, P0-15, P0-17, L-7, L-9).
//!
//! No personal data in URLs: the email and code travel in POST bodies; record ids
//! (random UUIDs) are the only identifiers in links.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use custos_core::VaultError;
use custos_core::self_service::{MyData, privacy_center_actor};
use custos_core::vault::RequestCtx;
use custos_core::vault::closure::SelfErasure;
use custos_core::vault::consent::{ConsentAction, ConsentInput};
use custos_policy::model::Right;
use custos_store::{RecordId, SubjectId, TenantId, Uuid};
use serde::Deserialize;
use serde_json::Value;

use super::i18n::{Lang, basis_name, retention_phrase, right_name, source_name, state_name};
use super::session::Area;
use super::{Chrome, ErrorPage, Visit, blocking, day, engine, render, unavailable};
use crate::{AppState, Backend};

pub fn routes<S: Backend>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/privacy", get(home::<S>))
        .route("/privacy/sign-in", post(sign_in::<S>))
        .route("/privacy/code", get(code_page::<S>).post(code::<S>))
        .route("/privacy/sign-out", post(sign_out::<S>))
        .route("/privacy/language", post(language::<S>))
        .route("/privacy/notice", get(notice::<S>))
        .route(
            "/privacy/correct",
            get(correct_page::<S>).post(correct::<S>),
        )
        .route("/privacy/consent", post(consent::<S>))
        .route("/privacy/objection", post(consent::<S>))
        .route("/privacy/export.json", get(export_json::<S>))
        .route("/privacy/export.csv", get(export_csv::<S>))
        .route("/privacy/delete", get(delete_page::<S>).post(delete::<S>))
}

type St<S> = State<Arc<AppState<S>>>;

/// The request id `observe` set in the headers, for the audit entries.
fn ctx(headers: &HeaderMap) -> RequestCtx {
    RequestCtx {
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        idempotency: None,
    }
}

/// The signed-in person, or the sign-in page.
fn signed_in(v: &Visit) -> Option<(TenantId, SubjectId)> {
    v.session.subject.clone()
}

fn error_page<S: Backend>(
    state: &AppState<S>,
    v: &mut Visit,
    status: StatusCode,
    message: &str,
) -> Response {
    let chrome = v.chrome(state, v.strings().error_title);
    let page = ErrorPage {
        chrome,
        message: message.to_owned(),
        back: "/privacy",
    };
    v.finish(render(status, &page))
}

/// The visit and form of a POST whose CSRF token matches the session's; otherwise
/// the page to answer with (nothing done).
pub(super) fn posted<S: Backend, F: super::Csrf>(
    state: &AppState<S>,
    headers: &HeaderMap,
    form: Result<Form<F>, FormRejection>,
) -> Result<(Visit, F), Response> {
    let Some(mut v) = Visit::start(state, headers, Area::Privacy) else {
        return Err(unavailable());
    };
    match form {
        Ok(Form(form)) if v.csrf_ok(form.csrf()) => Ok((v, form)),
        _ => Err(expired(state, &mut v)),
    }
}

/// `posted` by a signed-in person: also their tenant and subject; anyone else is
/// sent to the sign-in page.
pub(super) fn person_posted<S: Backend, F: super::Csrf>(
    state: &AppState<S>,
    headers: &HeaderMap,
    form: Result<Form<F>, FormRejection>,
) -> Result<(Visit, F, TenantId, SubjectId), Response> {
    let (v, form) = posted(state, headers, form)?;
    match signed_in(&v) {
        Some((tenant, subject)) => Ok((v, form, tenant, subject)),
        None => Err(v.see_other("/privacy")),
    }
}

/// A form that failed its CSRF check: nothing done, a fresh form offered.
fn expired<S: Backend>(state: &AppState<S>, v: &mut Visit) -> Response {
    let msg = v.strings().form_expired;
    error_page(state, v, StatusCode::FORBIDDEN, msg)
}

fn internal<S: Backend>(state: &AppState<S>, v: &mut Visit, e: &VaultError) -> Response {
    tracing::warn!(error = %e.code(), "privacy center: engine call failed");
    let msg = v.strings().error_retry;
    error_page(state, v, StatusCode::INTERNAL_SERVER_ERROR, msg)
}

// ---- sign in -------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Template)]
#[template(path = "privacy/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "privacy/code.html")]
struct CodePage {
    chrome: Chrome,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn sign_in<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let (mut v, form) = match posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let due = tokio::time::Instant::now() + state.edge.answer_pace;
    let now = state.vault.now();
    if let Err(wait) = state.edge.sign_in.check(v.client(), now) {
        state.metrics.rate_limited();
        return v.limited(crate::limits::SIGN_IN_LIMITED, wait);
    }
    let email = form.email.trim().to_owned();
    let plausible = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'))
        && !email.chars().any(char::is_whitespace);
    if !plausible {
        let chrome = v.chrome(&state, v.strings().sign_in_title);
        let error = Some(v.strings().email_hint.to_owned());
        return v.finish(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignInPage {
                chrome,
                email,
                error,
            },
        ));
    }
    let tenant = state.site_tenant.clone();
    // One typed address from one client: fewer codes than a person's hourly budget,
    // so probing from one place never spends it. Keyed by a keyed hash of the
    // address, the same for known and unknown ones (nothing to learn from a 429).
    let address_key = match state
        .vault
        .keys()
        .blind_index_key(tenant.as_str(), "privacy-center.sign-in")
    {
        Ok(k) => hex(&custos_crypto::blind_index_email(&k, &email)),
        Err(e) => return internal(&state, &mut v, &VaultError::from(e)),
    };
    let per_address = format!("{}\0{address_key}", v.client());
    if let Err(wait) = state.edge.sign_in_address.check(&per_address, now) {
        state.metrics.rate_limited();
        return v.limited(crate::limits::SIGN_IN_LIMITED, wait);
    }
    if let Err(r) = v.keep(&state) {
        return r;
    }
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let t = tenant.clone();
    let challenge = Uuid::now_v7();
    // Known, unknown, erased or out of codes for the hour: the same page, the same
    // status, the same kind of work (`Vault::start_sign_in`), and the answer leaves
    // at the same time after the request came in, whatever the work took.
    let work = tokio::spawn(engine(move || {
        st.vault.start_sign_in(&t, &email, challenge, &c)
    }));
    match at_pace(due, work).await {
        Some(Ok(Ok(()))) | None => {}
        Some(Ok(Err(e))) => return internal(&state, &mut v, &e),
        Some(Err(_)) => {
            return internal(&state, &mut v, &VaultError::Internal("task failed".into()));
        }
    }
    v.session.pending = Some(super::session::Pending { tenant, challenge });
    state.sessions.save(&v.session);
    v.see_other("/privacy/code")
}

/// Waits for `work` until `due` (`EdgeLimits::answer_pace` after the request came
/// in), and until `due` whatever it does.
/// `None`: the work is still running; it goes on and the answer leaves on time
/// (what it does can only be seen later, in the mailbox). For a sign-in, whose
/// outcome the page never shows.
async fn at_pace<T>(
    due: tokio::time::Instant,
    work: tokio::task::JoinHandle<T>,
) -> Option<Result<T, tokio::task::JoinError>> {
    let done = tokio::time::timeout_at(due, work).await.ok();
    tokio::time::sleep_until(due).await;
    done
}

pub async fn code_page<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let Some(mut v) = Visit::start(&state, &headers, Area::Privacy) else {
        return unavailable();
    };
    if v.session.pending.is_none() {
        return v.see_other("/privacy");
    }
    let mut chrome = v.chrome(&state, v.strings().code_title);
    chrome.here = "/privacy/code";
    v.finish(render(
        StatusCode::OK,
        &CodePage {
            chrome,
            error: None,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub async fn code<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let (mut v, form) = match posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let due = tokio::time::Instant::now() + state.edge.answer_pace;
    let Some(pending) = v.session.pending.clone() else {
        return v.see_other("/privacy");
    };
    // Guesses share the client's sign-in budget.
    if let Err(wait) = state.edge.sign_in.check(v.client(), state.vault.now()) {
        state.metrics.rate_limited();
        return v.limited(crate::limits::SIGN_IN_LIMITED, wait);
    }
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let t = pending.tenant.clone();
    let challenge = pending.challenge;
    // A wrong code, a used-up challenge or one that never existed (an unknown
    // address): the same work in the vault and an answer at the same pace.
    // Waited for to the end, even past the pace: a check that consumed the code must
    // sign the person in.
    let verified = Some(
        engine(move || {
            let actor = privacy_center_actor(&t);
            st.vault.check_verification(&actor, challenge, &code, &c)
        })
        .await,
    );
    tokio::time::sleep_until(due).await;
    match verified {
        Some(Ok(checked)) if checked.verified => {
            if let Some(subject) = checked.subject {
                v.session.pending = None;
                v.session.subject = Some((pending.tenant, subject));
                if let Err(r) = v.sign_in(&state) {
                    return r;
                }
                return v.see_other("/privacy");
            }
        }
        Some(Err(e)) if !matches!(e, VaultError::BadToken) => {
            return internal(&state, &mut v, &e);
        }
        _ => {}
    }
    let mut chrome = v.chrome(&state, v.strings().code_title);
    chrome.here = "/privacy/code";
    let error = Some(v.strings().code_wrong.to_owned());
    v.finish(render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &CodePage { chrome, error },
    ))
}

pub async fn sign_out<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<super::CsrfOnly>, FormRejection>,
) -> Response {
    let (mut v, _) = match posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    v.end(&state);
    v.see_other("/privacy")
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

pub async fn language<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<LangForm>, FormRejection>,
) -> Response {
    let (mut v, form) = match posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(lang) = Lang::parse(&form.lang) {
        if let Err(r) = v.keep(&state) {
            return r;
        }
        v.session.lang = Some(lang);
        state.sessions.save(&v.session);
    }
    // Back to the page the form was on; only the privacy center's own pages (the
    // page sends no Referer: its policy is no-referrer).
    let back = match form.back.as_str() {
        b @ ("/privacy/notice" | "/privacy/code" | "/privacy/delete") => b,
        _ => "/privacy",
    };
    v.see_other(back)
}

// ---- the person's page ------------------------------------------------------

struct Row {
    record: RecordId,
    value: String,
    purpose: String,
    basis: String,
    source: String,
    deleted_on: String,
}

struct Group {
    label: String,
    recipients: String,
    rows: Vec<Row>,
}

struct Choice {
    purpose: String,
    description: String,
    basis: String,
    recipients: String,
    notice_text: Option<String>,
    status: String,
    action_url: &'static str,
    action: &'static str,
    button: &'static str,
    button_class: &'static str,
}

struct RequestRow {
    right: String,
    received: String,
    deadline: String,
    extended: Option<String>,
    state: String,
}

#[derive(Template)]
#[template(path = "privacy/home.html")]
struct HomePage {
    chrome: Chrome,
    groups: Vec<Group>,
    choices: Vec<Choice>,
    requests: Vec<RequestRow>,
    contracts: Vec<super::privacy_contracts::ContractCard>,
    correctable: bool,
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn home_page(
    v: &Visit,
    chrome: Chrome,
    data: &MyData,
    contracts: &[custos_core::contracts::ContractView],
    correctable: bool,
) -> HomePage {
    let s = v.strings();
    let lang = v.lang;
    let mut groups: Vec<Group> = Vec::new();
    for r in &data.export.records {
        let row = Row {
            record: r.record,
            value: shown(&r.value),
            purpose: r.purpose_description.clone(),
            basis: basis_name(lang, &r.lawful_basis),
            source: source_name(lang, &r.source),
            deleted_on: match (r.expires_at, &r.retention) {
                (Some(t), _) => day(t),
                (None, Some(rule)) => retention_phrase(lang, rule),
                (None, None) => s.kept_while_needed.to_owned(),
            },
        };
        let label = if r.category_description.is_empty() {
            r.category.clone()
        } else {
            r.category_description.clone()
        };
        match groups.iter_mut().find(|g| g.label == label) {
            Some(g) => g.rows.push(row),
            None => {
                let recipients = data
                    .recipients
                    .iter()
                    .find(|(c, _)| *c == r.category)
                    .map(|(_, names)| names.join(", "))
                    .unwrap_or_default();
                groups.push(Group {
                    label,
                    recipients,
                    rows: vec![row],
                });
            }
        }
    }
    let choices = data
        .purposes
        .iter()
        .filter(|p| p.consent != "not_needed" || p.objectable)
        .map(|p| {
            let (status, action_url, action, button, class) = if p.consent != "not_needed" {
                match p.consent {
                    "granted" => (
                        s.consent_granted,
                        "/privacy/consent",
                        "withdraw",
                        s.withdraw_consent,
                        "secondary",
                    ),
                    "withdrawn" => (
                        s.consent_withdrawn,
                        "/privacy/consent",
                        "grant",
                        s.give_consent,
                        "primary",
                    ),
                    _ => (
                        s.consent_never_asked,
                        "/privacy/consent",
                        "grant",
                        s.give_consent,
                        "primary",
                    ),
                }
            } else if p.objected {
                (
                    s.objected,
                    "/privacy/objection",
                    "lift_objection",
                    s.lift_objection,
                    "secondary",
                )
            } else {
                (
                    s.not_objected,
                    "/privacy/objection",
                    "object",
                    s.object,
                    "secondary",
                )
            };
            Choice {
                purpose: p.purpose.clone(),
                description: p.description.clone(),
                basis: basis_name(lang, p.basis),
                recipients: p.recipients.join(", "),
                notice_text: p.notice_text.clone(),
                status: status.to_owned(),
                action_url,
                action,
                button,
                button_class: class,
            }
        })
        .collect();
    let requests = data
        .requests
        .iter()
        .map(|r| RequestRow {
            right: right_name(lang, &r.right),
            received: day(r.received_at),
            deadline: day(r.deadline),
            extended: r.extension_reason.clone(),
            state: state_name(lang, r.state),
        })
        .collect();
    HomePage {
        chrome,
        groups,
        choices,
        requests,
        contracts: super::privacy_contracts::cards(lang, s, contracts),
        correctable,
    }
}

pub async fn home<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let Some(mut v) = Visit::start(&state, &headers, Area::Privacy) else {
        return unavailable();
    };
    let Some((tenant, subject)) = signed_in(&v) else {
        let chrome = v.chrome(&state, v.strings().sign_in_title);
        return v.finish(render(
            StatusCode::OK,
            &SignInPage {
                chrome,
                email: String::new(),
                error: None,
            },
        ));
    };
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let t = tenant.clone();
    let data = engine(move || {
        let data = st.vault.my_data(&t, subject, &c)?;
        let contracts = st.vault.contracts_of_subject(&t, subject)?;
        let policy = st.vault.policy(&t)?;
        let correctable = policy
            .policy
            .rights
            .self_service
            .contains(&Right::Rectification);
        Ok::<_, VaultError>((data, contracts, correctable))
    })
    .await;
    match data {
        Ok((data, contracts, correctable)) => {
            let chrome = v.chrome(&state, v.strings().home_title);
            let page = home_page(&v, chrome, &data, &contracts, correctable);
            v.finish(render(StatusCode::OK, &page))
        }
        // Erased or gone meanwhile: the session has nothing left to show.
        Err(VaultError::SubjectNotFound | VaultError::SubjectErased) => {
            v.end(&state);
            v.see_other("/privacy")
        }
        Err(e) => internal(&state, &mut v, &e),
    }
}

// ---- notice ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "privacy/notice.html")]
struct NoticePage {
    chrome: Chrome,
    /// Built by custos-policy's renderer, which escapes every text.
    notice: String,
}

pub async fn notice<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let Some(mut v) = Visit::start(&state, &headers, Area::Privacy) else {
        return unavailable();
    };
    let st = Arc::clone(&state);
    let t = state.site_tenant.clone();
    let policy = engine(move || st.vault.policy(&t)).await;
    match policy {
        Ok(active) => {
            let n = custos_policy::notice::build(&active.policy);
            let notice = custos_policy::notice::to_html_fragment(&n);
            let mut chrome = v.chrome(&state, v.strings().notice_title);
            chrome.here = "/privacy/notice";
            v.finish(render(StatusCode::OK, &NoticePage { chrome, notice }))
        }
        Err(e) => internal(&state, &mut v, &e),
    }
}

// ---- correct --------------------------------------------------------------

#[derive(Template)]
#[template(path = "privacy/correct.html")]
struct CorrectPage {
    chrome: Chrome,
    record: String,
    label: String,
    value: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RecordQuery {
    #[serde(default)]
    record: String,
}

/// The record's label and current value, if it is the person's.
async fn own_record<S: Backend>(
    state: &Arc<AppState<S>>,
    tenant: &TenantId,
    subject: SubjectId,
    record: &str,
    c: RequestCtx,
) -> Result<Option<(String, Value)>, VaultError> {
    let Some(id) = Uuid::parse_str(record).ok().map(RecordId) else {
        return Ok(None);
    };
    let st = Arc::clone(state);
    let t = tenant.clone();
    engine(move || {
        let actor = privacy_center_actor(&t);
        let export = st.vault.export(&actor, subject, &c)?;
        Ok(export
            .records
            .into_iter()
            .find(|r| r.record == id)
            .map(|r| {
                let label = if r.category_description.is_empty() {
                    r.category
                } else {
                    r.category_description
                };
                (label, r.value)
            }))
    })
    .await
}

pub async fn correct_page<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Query(q): Query<RecordQuery>,
) -> Response {
    let Some(mut v) = Visit::start(&state, &headers, Area::Privacy) else {
        return unavailable();
    };
    let Some((tenant, subject)) = signed_in(&v) else {
        return v.see_other("/privacy");
    };
    match own_record(&state, &tenant, subject, &q.record, ctx(&headers)).await {
        Ok(Some((label, value))) => {
            let chrome = v.chrome(&state, v.strings().correct_title);
            v.finish(render(
                StatusCode::OK,
                &CorrectPage {
                    chrome,
                    record: q.record,
                    label,
                    value: shown(&value),
                    error: None,
                },
            ))
        }
        Err(e) => internal(&state, &mut v, &e),
        _ => {
            let msg = v.strings().error_retry;
            error_page(&state, &mut v, StatusCode::NOT_FOUND, msg)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CorrectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    record: String,
    #[serde(default)]
    value: String,
}

pub async fn correct<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<CorrectForm>, FormRejection>,
) -> Response {
    let (mut v, form, tenant, subject) = match person_posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (label, old) = match own_record(&state, &tenant, subject, &form.record, ctx(&headers)).await
    {
        Ok(Some(found)) => found,
        Err(e) => return internal(&state, &mut v, &e),
        _ => {
            let msg = v.strings().error_retry;
            return error_page(&state, &mut v, StatusCode::NOT_FOUND, msg);
        }
    };
    // Same JSON type as the value it replaces: numbers stay numbers.
    let typed = match &old {
        Value::String(_) => Value::String(form.value.trim().to_owned()),
        _ => serde_json::from_str(form.value.trim())
            .unwrap_or_else(|_| Value::String(form.value.trim().to_owned())),
    };
    let Some(record) = Uuid::parse_str(&form.record).ok().map(RecordId) else {
        return v.see_other("/privacy");
    };
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let t = tenant.clone();
    let result = engine(move || {
        let actor = privacy_center_actor(&t);
        st.vault.rectify(&actor, subject, record, &typed, &c)
    })
    .await;
    match result {
        Ok(_) => {
            let msg = v.strings().corrected;
            v.flash(&state, msg);
            v.see_other("/privacy")
        }
        Err(VaultError::Invalid(problems)) => {
            // The engine's details name the rule, never the value.
            let error = problems
                .iter()
                .map(|p| p.detail.clone())
                .collect::<Vec<_>>()
                .join("; ");
            let chrome = v.chrome(&state, v.strings().correct_title);
            v.finish(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &CorrectPage {
                    chrome,
                    record: form.record,
                    label,
                    value: form.value,
                    error: Some(error),
                },
            ))
        }
        Err(e) => internal(&state, &mut v, &e),
    }
}

// ---- consent and objection -----------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    action: String,
}

pub async fn consent<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<ChoiceForm>, FormRejection>,
) -> Response {
    let (mut v, form, tenant, subject) = match person_posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let action = match form.action.as_str() {
        "grant" => ConsentAction::Grant,
        "withdraw" => ConsentAction::Withdraw,
        "object" => ConsentAction::Object,
        "lift_objection" => ConsentAction::LiftObjection,
        _ => {
            let msg = v.strings().error_retry;
            return error_page(&state, &mut v, StatusCode::BAD_REQUEST, msg);
        }
    };
    let objection = matches!(action, ConsentAction::Object | ConsentAction::LiftObjection);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|u| u.to_str().ok())
        .map(|u| {
            // The ledger keeps at most 512 bytes; cut on a character boundary.
            let mut end = u.len().min(512);
            while !u.is_char_boundary(end) {
                end -= 1;
            }
            u.get(..end).unwrap_or_default().to_owned()
        });
    let input = ConsentInput {
        purpose: form.purpose,
        action,
        channel: "privacy_center".into(),
        // custos's own wording of the purpose: the text the page showed.
        notice_text: None,
        ip: None,
        user_agent,
    };
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let result = engine(move || {
        let actor = privacy_center_actor(&tenant);
        st.vault.record_consent(&actor, subject, &input, &c)
    })
    .await;
    match result {
        Ok(_) => {
            let s = v.strings();
            let msg = if objection {
                s.objection_saved
            } else {
                s.consent_saved
            };
            v.flash(&state, msg);
            // Back where the person was: the choices section.
            v.see_other("/privacy#choices")
        }
        // A purpose the policy does not have, or one that takes no such choice: the
        // person's mistake (or a forged form), not ours.
        Err(VaultError::Invalid(_) | VaultError::UnknownPurpose(_)) => {
            let msg = v.strings().error_retry;
            error_page(&state, &mut v, StatusCode::UNPROCESSABLE_ENTITY, msg)
        }
        Err(e) => internal(&state, &mut v, &e),
    }
}

// ---- export ---------------------------------------------------------------

async fn export<S: Backend>(state: Arc<AppState<S>>, headers: HeaderMap, csv: bool) -> Response {
    let Some(mut v) = Visit::start(&state, &headers, Area::Privacy) else {
        return unavailable();
    };
    let Some((tenant, subject)) = signed_in(&v) else {
        return v.see_other("/privacy");
    };
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let result = engine(move || {
        let actor = privacy_center_actor(&tenant);
        st.vault.export(&actor, subject, &c)
    })
    .await;
    match result {
        Ok(export) => {
            let (body, kind, name) = if csv {
                (export.to_csv(), "text/csv; charset=utf-8", "my-data.csv")
            } else {
                (
                    serde_json::to_string_pretty(&export).unwrap_or_default(),
                    "application/json",
                    "my-data.json",
                )
            };
            v.finish(
                (
                    [
                        (header::CONTENT_TYPE, kind.to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"{name}\""),
                        ),
                    ],
                    body,
                )
                    .into_response(),
            )
        }
        Err(e) => internal(&state, &mut v, &e),
    }
}

pub async fn export_json<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    export(state, headers, false).await
}

pub async fn export_csv<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    export(state, headers, true).await
}

// ---- delete ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "privacy/delete.html")]
struct DeletePage {
    chrome: Chrome,
    kept: Vec<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "privacy/deleted.html")]
struct DeletedPage {
    chrome: Chrome,
    heading: String,
    body: String,
    facts: Vec<(String, String)>,
}

/// What erasure keeps, from the policy: categories held by a legal obligation.
fn kept_categories<S: Backend>(state: &AppState<S>, tenant: &TenantId) -> Vec<String> {
    let Ok(active) = state.vault.policy(tenant) else {
        return Vec::new();
    };
    active
        .policy
        .category
        .iter()
        .filter_map(|(id, c)| {
            let (_, reason) = custos_core::vault::lifecycle::legal_hold(&active.policy, id)?;
            let label = if c.description.is_empty() {
                id.clone()
            } else {
                c.description.clone()
            };
            Some(format!("{label} — {reason}"))
        })
        .collect()
}

pub async fn delete_page<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let Some(mut v) = Visit::start(&state, &headers, Area::Privacy) else {
        return unavailable();
    };
    let Some((tenant, _)) = signed_in(&v) else {
        return v.see_other("/privacy");
    };
    let st = Arc::clone(&state);
    let kept = blocking(move || kept_categories(&st, &tenant))
        .await
        .unwrap_or_default();
    let mut chrome = v.chrome(&state, v.strings().delete_title);
    chrome.here = "/privacy/delete";
    v.finish(render(
        StatusCode::OK,
        &DeletePage {
            chrome,
            kept,
            error: None,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

pub async fn delete<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    form: Result<Form<DeleteForm>, FormRejection>,
) -> Response {
    let (mut v, form, tenant, subject) = match person_posted(&state, &headers, form) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if form.confirm != "yes" {
        let st = Arc::clone(&state);
        let t = tenant.clone();
        let kept = blocking(move || kept_categories(&st, &t))
            .await
            .unwrap_or_default();
        let mut chrome = v.chrome(&state, v.strings().delete_title);
        chrome.here = "/privacy/delete";
        let error = Some(v.strings().delete_must_confirm.to_owned());
        return v.finish(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DeletePage {
                chrome,
                kept,
                error,
            },
        ));
    }
    let st = Arc::clone(&state);
    let c = ctx(&headers);
    let t = tenant.clone();
    let result = engine(move || {
        st.vault
            .erase_on_persons_request(&t, subject, "privacy_center", &c)
    })
    .await;
    let s = v.strings();
    match result {
        Ok(SelfErasure::Erased { request, receipt }) => {
            state.sessions.end_subject(subject);
            v.end(&state);
            let mut facts = vec![
                (s.receipt.to_owned(), request.to_string()),
                (s.received.to_owned(), day(receipt.erased_at)),
            ];
            for k in &receipt.kept {
                facts.push((
                    k.category.clone(),
                    format!(
                        "{} ({})",
                        k.reason,
                        k.until.map(day).unwrap_or_else(|| "—".into())
                    ),
                ));
            }
            let chrome = v.chrome(&state, s.deleted_title);
            v.finish(render(
                StatusCode::OK,
                &DeletedPage {
                    chrome,
                    heading: s.deleted_title.to_owned(),
                    body: s.deleted_body.to_owned(),
                    facts,
                },
            ))
        }
        Ok(SelfErasure::Opened { request }) => {
            let facts = vec![
                (s.receipt.to_owned(), request.id.to_string()),
                (s.deadline.to_owned(), day(request.deadline)),
            ];
            let chrome = v.chrome(&state, s.delete_title);
            v.finish(render(
                StatusCode::OK,
                &DeletedPage {
                    chrome,
                    heading: s.delete_title.to_owned(),
                    body: s.deleted_request_open.to_owned(),
                    facts,
                },
            ))
        }
        Err(e) => internal(&state, &mut v, &e),
    }
}

csrf_forms!(
    SignInForm,
    CodeForm,
    LangForm,
    CorrectForm,
    ChoiceForm,
    DeleteForm
);
