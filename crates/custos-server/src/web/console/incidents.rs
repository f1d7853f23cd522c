//! Incidents (breaches): the list and one incident, read-only (opening one and
//! lifting its hold stay in the API and the CLI, where the inputs are checked).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::VaultError;
use custos_core::incidents::Incident;
use custos_store::Uuid;

use super::{St, admin_page, internal, not_found, task_failed, when};
use crate::Backend;
use crate::web::{Chrome, blocking, render};

struct IncidentRow {
    id: Uuid,
    description: String,
    detected: String,
    authority_due: String,
    authority_flag: Option<(&'static str, &'static str)>,
    affected: usize,
    hold: &'static str,
    notices: String,
}

fn incident_row(i: &Incident, now: custos_store::Timestamp) -> IncidentRow {
    let authority_flag = i.authority_due.map(|due| {
        if now > due {
            ("overdue", "Authority deadline passed")
        } else if due.duration_since(now) <= jiff::SignedDuration::from_hours(24) {
            ("soon", "Authority due within 24 h")
        } else {
            ("ok", "Authority deadline ahead")
        }
    });
    IncidentRow {
        id: i.id,
        description: i.description.clone(),
        detected: when(i.detected_at),
        authority_due: i.authority_due.map_or_else(|| "—".to_owned(), when),
        authority_flag,
        affected: i.affected.len(),
        hold: match &i.hold {
            Some(h) if h.lifted_at.is_none() => "law-enforcement hold in force",
            Some(_) => "hold lifted",
            None => "none",
        },
        notices: format!(
            "{} drafted, {}",
            i.notices_drafted,
            if i.notices_released {
                "released"
            } else {
                "not released"
            }
        ),
    }
}

#[derive(Template)]
#[template(path = "console/incidents.html")]
struct IncidentsPage {
    chrome: Chrome,
    nav: &'static str,
    incidents: Vec<IncidentRow>,
}

/// `GET /console/incidents`.
pub async fn list<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = Arc::clone(&state);
    let result = blocking(move || st.vault.incidents(&actor.tenant)).await;
    match result {
        Some(Ok(mut all)) => {
            all.sort_by_key(|i| std::cmp::Reverse(i.detected_at));
            let now = state.vault.now();
            let chrome = v.chrome(&state, "Incidents");
            v.finish(render(
                StatusCode::OK,
                &IncidentsPage {
                    chrome,
                    nav: "incidents",
                    incidents: all.iter().map(|i| incident_row(i, now)).collect(),
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

struct AffectedRow {
    subject: String,
    categories: String,
}

#[derive(Template)]
#[template(path = "console/incident.html")]
struct IncidentPage {
    chrome: Chrome,
    nav: &'static str,
    i: IncidentRow,
    aware: String,
    window: String,
    people_urgency: String,
    channels: String,
    revoked_keys: String,
    categories: String,
    hold_reason: Option<String>,
    affected: Vec<AffectedRow>,
}

/// `GET /console/incidents/{id}`.
pub async fn detail<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(id) = Uuid::parse_str(&id).ok() else {
        return not_found(&state, &mut v, "incident");
    };
    let st = Arc::clone(&state);
    let result = blocking(move || st.vault.incident(&actor.tenant, id)).await;
    match result {
        Some(Ok((i, _))) => {
            let now = state.vault.now();
            let none = |s: String| if s.is_empty() { "—".to_owned() } else { s };
            let page = IncidentPage {
                nav: "incidents",
                aware: when(i.aware_at),
                window: format!("{} – {}", when(i.from), when(i.to)),
                people_urgency: i.people_urgency.clone().unwrap_or_else(|| "—".into()),
                channels: none(i.channels.join(", ")),
                revoked_keys: none(i.revoked_keys.join(", ")),
                categories: if i.categories.is_empty() {
                    "all".to_owned()
                } else {
                    i.categories.join(", ")
                },
                hold_reason: i
                    .hold
                    .as_ref()
                    .map(|h| format!("{} (since {})", h.reason, when(h.since))),
                affected: i
                    .affected
                    .iter()
                    .map(|a| AffectedRow {
                        subject: a.subject.to_string(),
                        categories: a.categories.join(", "),
                    })
                    .collect(),
                i: incident_row(&i, now),
                chrome: v.chrome(&state, "Incident"),
            };
            v.finish(render(StatusCode::OK, &page))
        }
        Some(Err(VaultError::RequestNotFound)) => not_found(&state, &mut v, "incident"),
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}
