//! Finding a subject by email or phone (blind index, searched in a POST body),
//! and one subject's page: their requests and legal holds.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::VaultError;
use custos_core::vault::Actor;
use custos_store::{SubjectId, SubjectState};
use serde::Deserialize;

use super::holds::{HoldRow, sorted_rows, subject_id};
use super::requests::{Row, row};
use super::{St, admin_page, admin_post, ctx, internal, not_found, task_failed};
use crate::web::{Chrome, Visit, blocking, render};
use crate::{AppState, Backend, RequestId};

#[derive(Template)]
#[template(path = "console/subject.html")]
struct SubjectPage {
    chrome: Chrome,
    nav: &'static str,
    subject: String,
    requests: Vec<Row>,
    holds: Vec<HoldRow>,
    /// The lifecycle state (`None`: unknown to the tenant): which actions apply.
    state: Option<SubjectState>,
    /// A live subject: the erase form applies.
    erasable: bool,
    error: Option<String>,
}

/// The subject's page, with an error from a refused form when there is one.
pub(super) async fn render_subject<S: Backend>(
    state: &Arc<AppState<S>>,
    v: &mut Visit,
    actor: &Actor,
    subject: SubjectId,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let st = Arc::clone(state);
    let a = actor.clone();
    let data = blocking(move || {
        let requests = st.vault.request_queue(&a.tenant)?;
        let holds = st.vault.legal_holds(&a, Some(subject))?;
        let state = st.vault.subject_state(&a, subject, &ctx(None))?;
        Ok::<_, VaultError>((requests, holds, state))
    })
    .await;
    match data {
        Some(Ok((requests, holds, subject_state))) => {
            let now = state.vault.now();
            let chrome = v.chrome(state, "Subject");
            v.finish(render(
                status,
                &SubjectPage {
                    chrome,
                    nav: "search",
                    subject: subject.to_string(),
                    requests: requests
                        .iter()
                        .filter(|r| r.subject == Some(subject))
                        .map(row)
                        .collect(),
                    holds: sorted_rows(&holds, now),
                    state: subject_state,
                    erasable: subject_state.is_some_and(|s| s != SubjectState::Erased),
                    error,
                },
            ))
        }
        Some(Err(e)) => internal(state, v, &e),
        None => task_failed(state, v),
    }
}

/// `GET /console/subjects/{id}`.
pub async fn page<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(subject) = subject_id(&id) else {
        return not_found(&state, &mut v, "subject");
    };
    render_subject(&state, &mut v, &actor, subject, StatusCode::OK, None).await
}

/// A subject found by a search.
struct Found {
    subject: String,
    category: String,
}

#[derive(Template)]
#[template(path = "console/search.html")]
struct SearchPage {
    chrome: Chrome,
    nav: &'static str,
    contact: String,
    searched: bool,
    found: Vec<Found>,
    error: Option<String>,
}

/// `GET /console/search`: the search form.
pub async fn search_page<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let (mut v, _) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let chrome = v.chrome(&state, "Find a subject");
    v.finish(render(
        StatusCode::OK,
        &SearchPage {
            chrome,
            nav: "search",
            contact: String::new(),
            searched: false,
            found: Vec::new(),
            error: None,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    contact: String,
}

/// `POST /console/search`: the results, in the response to the POST (never in a URL).
pub async fn search<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<SearchForm>, FormRejection>,
) -> Response {
    let (mut v, actor, form) = match admin_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let contact = form.contact.trim().to_owned();
    if contact.is_empty() || contact.len() > 254 {
        let chrome = v.chrome(&state, "Find a subject");
        return v.finish(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SearchPage {
                chrome,
                nav: "search",
                contact,
                searched: false,
                found: Vec::new(),
                error: Some("Type an email address or a phone number.".into()),
            },
        ));
    }
    // A subject id pasted from elsewhere (a ticket, the API): straight to its page.
    if let Some(subject) = subject_id(&contact) {
        return v.see_other(&format!("/console/subjects/{subject}"));
    }
    let st = Arc::clone(&state);
    let c = ctx(rid);
    let value = contact.clone();
    let result = blocking(move || st.vault.find_subjects_by_contact(&actor, &value, &c)).await;
    match result {
        Some(Ok(matches)) => {
            let found = matches
                .into_iter()
                .map(|m| Found {
                    subject: m.subject.to_string(),
                    category: m.category,
                })
                .collect();
            let chrome = v.chrome(&state, "Find a subject");
            v.finish(render(
                StatusCode::OK,
                &SearchPage {
                    chrome,
                    nav: "search",
                    contact,
                    searched: true,
                    found,
                    error: None,
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

csrf_forms!(SearchForm);
