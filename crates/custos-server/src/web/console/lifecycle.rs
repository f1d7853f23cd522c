//! A subject's lifecycle from the console: restricting processing, lifting the
//! restriction, erasing (P0-16, P0-17; issue 13.9). Each is two POSTs: the first
//! shows what will happen (for an erasure, what is deleted and what the law
//! keeps) and acts on nothing; only the second, carrying `confirm=yes`, acts.
//! No script: the console's CSP allows none. The engine audits every action.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::VaultError;
use custos_core::vault::Actor;
use custos_core::vault::lifecycle::ErasurePlan;
use custos_store::SubjectId;
use serde::Deserialize;

use super::subjects::render_subject;
use super::{St, admin_subject_post, ctx, internal, not_found, problems_text, task_failed};
use crate::web::{Chrome, Visit, blocking, day, render};
use crate::{AppState, Backend, RequestId};

/// A category an erasure keeps, as the confirmation lists it.
pub(super) struct KeptRow {
    pub category: String,
    pub reason: String,
    pub until: String,
}

/// The confirmation step of a destructive console action.
#[derive(Template)]
#[template(path = "console/confirm.html")]
pub(super) struct ConfirmPage {
    pub chrome: Chrome,
    pub nav: &'static str,
    pub heading: String,
    /// Where "Cancel" goes.
    pub back: String,
    /// Where the confirming POST goes.
    pub action: String,
    pub explain: Vec<String>,
    /// Whether the deleted and kept lists apply.
    pub erasure: bool,
    pub deleted: Vec<String>,
    pub kept: Vec<KeptRow>,
    /// Form fields carried from the first POST to the confirming one.
    pub fields: Vec<(String, String)>,
    pub button: String,
    pub danger: bool,
}

/// What the law keeps through an erasure, as the confirmation names it.
pub(super) fn kept_rows(plan: &ErasurePlan) -> Vec<KeptRow> {
    plan.kept
        .iter()
        .map(|k| KeptRow {
            category: k.category.clone(),
            reason: k.reason.clone(),
            until: k
                .until
                .map_or_else(|| "as long as the law requires".to_owned(), day),
        })
        .collect()
}

/// The erasure's confirmation page for `subject`: what is deleted, what is kept.
pub(super) fn erasure_confirmation(
    chrome: Chrome,
    subject: SubjectId,
    plan: &ErasurePlan,
    back: String,
    action: String,
    fields: Vec<(String, String)>,
) -> ConfirmPage {
    ConfirmPage {
        chrome,
        nav: "search",
        heading: format!("Erase subject {subject}?"),
        back,
        action,
        explain: vec![
            "Erasure cannot be undone. The records below are deleted and the \
             person's data key destroyed; their privacy-center sessions end."
                .into(),
            "What the law requires is kept apart, readable only for the purpose \
             that keeps it, and deleted when its time is over."
                .into(),
        ],
        erasure: true,
        deleted: plan.deleted.clone(),
        kept: kept_rows(plan),
        fields,
        button: "Erase this person".into(),
        danger: true,
    }
}

#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    reason: String,
}

/// Restricting or lifting a restriction.
#[derive(Clone, Copy)]
enum Restriction {
    Restrict,
    Lift,
}

/// `POST /console/subjects/{id}/restrict`.
pub async fn restrict<S: Backend>(
    state: St<S>,
    headers: HeaderMap,
    id: Path<String>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    restriction(state, headers, id, rid, form, Restriction::Restrict).await
}

/// `POST /console/subjects/{id}/lift-restriction`.
pub async fn lift_restriction<S: Backend>(
    state: St<S>,
    headers: HeaderMap,
    id: Path<String>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    restriction(state, headers, id, rid, form, Restriction::Lift).await
}

async fn restriction<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<ConfirmForm>, FormRejection>,
    what: Restriction,
) -> Response {
    let (mut v, actor, form, subject) = match admin_subject_post(&state, &headers, &id, form).await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/console/subjects/{subject}");
    let (path, heading, explain, button, done) = match what {
        Restriction::Restrict => (
            "restrict",
            format!("Restrict processing of subject {subject}?"),
            "Reads then return nothing, except to the purposes the policy allows \
             during restriction (storage, legal claims). Nothing is deleted; lifting \
             the restriction restores reads.",
            "Restrict processing",
            "Processing restricted.",
        ),
        Restriction::Lift => (
            "lift-restriction",
            format!("Lift the restriction on subject {subject}?"),
            "Reads are decided by the policy again, for every purpose.",
            "Lift restriction",
            "Restriction lifted: reads are decided by the policy again.",
        ),
    };
    if form.confirm != "yes" {
        let chrome = v.chrome(&state, "Confirm");
        return v.finish(render(
            StatusCode::OK,
            &ConfirmPage {
                chrome,
                nav: "search",
                heading,
                back: back.clone(),
                action: format!("{back}/{path}"),
                explain: vec![explain.into()],
                erasure: false,
                deleted: Vec::new(),
                kept: Vec::new(),
                fields: Vec::new(),
                button: button.into(),
                danger: false,
            },
        ));
    }
    let st = Arc::clone(&state);
    let c = ctx(rid);
    let a = actor.clone();
    let result = blocking(move || match what {
        Restriction::Restrict => st.vault.restrict(&a, subject, &c),
        Restriction::Lift => st.vault.lift_restriction(&a, subject, &c),
    })
    .await;
    match result {
        Some(Ok(_)) => {
            v.flash(&state, done);
            v.see_other(&back)
        }
        Some(Err(e)) => refused(&state, &mut v, &actor, subject, &e).await,
        None => task_failed(&state, &mut v),
    }
}

/// `POST /console/subjects/{id}/erase`: the confirmation, then (`confirm=yes`)
/// the erasure with the reason staff typed.
pub async fn erase<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<EraseForm>, FormRejection>,
) -> Response {
    let (mut v, actor, form, subject) = match admin_subject_post(&state, &headers, &id, form).await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/console/subjects/{subject}");
    let st = Arc::clone(&state);
    let c = ctx(rid);
    let a = actor.clone();
    if form.confirm != "yes" {
        let plan = blocking(move || st.vault.erasure_preview(&a, subject, &c)).await;
        return match plan {
            Some(Ok(plan)) => {
                let chrome = v.chrome(&state, "Confirm the erasure");
                let page = erasure_confirmation(
                    chrome,
                    subject,
                    &plan,
                    back.clone(),
                    format!("{back}/erase"),
                    vec![("reason".into(), form.reason)],
                );
                v.finish(render(StatusCode::OK, &page))
            }
            Some(Err(e)) => refused(&state, &mut v, &actor, subject, &e).await,
            None => task_failed(&state, &mut v),
        };
    }
    let reason = form.reason;
    let result = blocking(move || st.vault.erase(&a, subject, &reason, &c)).await;
    match result {
        Some(Ok(receipt)) => {
            // Signed-in privacy-center sessions of someone erased show nothing left.
            state.sessions.end_subject(subject);
            // Only for a confirmation to staff (categories; the audit log has them).
            v.flash(
                &state,
                &format!(
                    "Erased: {} categor(ies) deleted, {} kept as the law requires.",
                    receipt.deleted.len(),
                    receipt.kept.len()
                ),
            );
            v.see_other(&back)
        }
        Some(Err(e)) => refused(&state, &mut v, &actor, subject, &e).await,
        None => task_failed(&state, &mut v),
    }
}

/// A refused lifecycle action: the subject's page with why, nothing done.
async fn refused<S: Backend>(
    state: &Arc<AppState<S>>,
    v: &mut Visit,
    actor: &Actor,
    subject: SubjectId,
    e: &VaultError,
) -> Response {
    let msg = match e {
        VaultError::Invalid(_) => problems_text(e),
        VaultError::SubjectErased => Some("This person is already erased.".into()),
        VaultError::SubjectNotFound => return not_found(state, v, "subject"),
        _ => None,
    };
    match msg {
        Some(msg) => {
            render_subject(
                state,
                v,
                actor,
                subject,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
            )
            .await
        }
        None => internal(state, v, e),
    }
}

csrf_forms!(ConfirmForm, EraseForm);
