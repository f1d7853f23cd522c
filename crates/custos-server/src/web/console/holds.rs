//! Legal holds: all of the tenant's, and placing and lifting one on a subject
//! (the forms are on the subject's page).

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::VaultError;
use custos_store::{LegalHold, SubjectId, Timestamp, Uuid};
use serde::Deserialize;

use super::{
    St, admin_page, admin_post, admin_subject_post, ctx, internal, not_found, task_failed,
};
use crate::web::{Chrome, blocking, day, render};
use crate::{Backend, RequestId};

/// A hold as a table row.
pub(super) struct HoldRow {
    pub id: Uuid,
    pub subject: String,
    pub reason: String,
    pub placed: String,
    pub until: String,
    pub in_force: bool,
    pub whole_subject: bool,
}

pub(super) fn hold_row(h: &LegalHold, now: Timestamp) -> HoldRow {
    HoldRow {
        id: h.id,
        subject: h.subject.to_string(),
        reason: h.reason.clone(),
        placed: day(h.placed_at),
        until: h.until.map_or_else(|| "no end".to_owned(), day),
        in_force: h.placed_at <= now && h.until.is_none_or(|u| u > now),
        whole_subject: h.record.is_none(),
    }
}

/// Holds in force first, then by end date.
pub(super) fn sorted_rows(holds: &[LegalHold], now: Timestamp) -> Vec<HoldRow> {
    let mut rows: Vec<(Option<Timestamp>, HoldRow)> =
        holds.iter().map(|h| (h.until, hold_row(h, now))).collect();
    rows.sort_by_key(|(until, r)| (!r.in_force, *until));
    rows.into_iter().map(|(_, r)| r).collect()
}

#[derive(Template)]
#[template(path = "console/holds.html")]
struct HoldsPage {
    chrome: Chrome,
    nav: &'static str,
    holds: Vec<HoldRow>,
}

/// `GET /console/holds`: every legal hold of the tenant, ended ones too.
pub async fn list<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = Arc::clone(&state);
    let holds = blocking(move || st.vault.legal_holds(&actor, None)).await;
    match holds {
        Some(Ok(holds)) => {
            let now = state.vault.now();
            let chrome = v.chrome(&state, "Legal holds");
            v.finish(render(
                StatusCode::OK,
                &HoldsPage {
                    chrome,
                    nav: "holds",
                    holds: sorted_rows(&holds, now),
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

pub(super) fn subject_id(raw: &str) -> Option<SubjectId> {
    Uuid::parse_str(raw).ok().map(SubjectId)
}

/// `YYYY-MM-DD` (the start of that day, UTC) or an RFC 3339 time.
fn parse_until(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t);
    }
    let date: jiff::civil::Date = raw.parse().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

#[derive(Debug, Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    until: String,
}

/// `POST /console/subjects/{id}/holds`: places a hold; refusals on the subject's page.
pub async fn place<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<PlaceForm>, FormRejection>,
) -> Response {
    let (mut v, actor, form, subject) = match admin_subject_post(&state, &headers, &id, form).await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let back = format!("/console/subjects/{subject}");
    let Some(until) = parse_until(&form.until) else {
        return super::subjects::render_subject(
            &state,
            &mut v,
            &actor,
            subject,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Give the day the hold ends as a date (YYYY-MM-DD).".into()),
        )
        .await;
    };
    let st = Arc::clone(&state);
    let c = ctx(rid);
    let a = actor.clone();
    let result = blocking(move || st.vault.place_hold(&a, subject, &form.reason, until, &c)).await;
    match result {
        Some(Ok(hold)) => {
            v.flash(
                &state,
                &format!(
                    "Legal hold placed until {}.",
                    hold.until.map_or_else(String::new, day)
                ),
            );
            v.see_other(&back)
        }
        Some(Err(e @ (VaultError::Invalid(_) | VaultError::SubjectNotFound))) => {
            let msg = super::problems_text(&e)
                .unwrap_or_else(|| "No such subject: nothing was placed.".into());
            super::subjects::render_subject(
                &state,
                &mut v,
                &actor,
                subject,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(msg),
            )
            .await
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

/// `POST /console/subjects/{id}/holds/{hold}/lift`: ends the hold now.
pub async fn lift<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Path((id, hold)): Path<(String, String)>,
    rid: Option<axum::Extension<RequestId>>,
    form: Result<Form<crate::web::CsrfOnly>, FormRejection>,
) -> Response {
    let (mut v, actor, _) = match admin_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (Some(subject), Some(hold)) = (subject_id(&id), Uuid::parse_str(&hold).ok()) else {
        return not_found(&state, &mut v, "legal hold");
    };
    let st = Arc::clone(&state);
    let c = ctx(rid);
    let a = actor.clone();
    let result = blocking(move || st.vault.lift_legal_hold(&a, subject, hold, &c)).await;
    match result {
        Some(Ok(())) => {
            v.flash(&state, "Legal hold lifted: retention runs again.");
            v.see_other(&format!("/console/subjects/{subject}"))
        }
        Some(Err(e @ VaultError::Invalid(_))) => {
            super::subjects::render_subject(
                &state,
                &mut v,
                &actor,
                subject,
                StatusCode::UNPROCESSABLE_ENTITY,
                super::problems_text(&e),
            )
            .await
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hold_ends_on_a_day_or_at_an_instant() {
        assert_eq!(
            parse_until(" 2030-06-30 "),
            Some("2030-06-30T00:00:00Z".parse().unwrap())
        );
        assert_eq!(
            parse_until("2030-06-30T12:00:00+02:00"),
            Some("2030-06-30T10:00:00Z".parse().unwrap())
        );
        assert_eq!(parse_until(""), None);
        assert_eq!(parse_until("30/06/2030"), None);
    }

    #[test]
    fn holds_in_force_come_first_and_ended_ones_say_so() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let hold = |until: &str| LegalHold {
            id: Uuid::now_v7(),
            subject: SubjectId(Uuid::now_v7()),
            record: None,
            reason: "litigation".into(),
            placed_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            until: Some(until.parse().unwrap()),
        };
        let rows = sorted_rows(
            &[hold("2026-05-01T00:00:00Z"), hold("2027-01-01T00:00:00Z")],
            now,
        );
        assert!(rows.first().unwrap().in_force);
        assert_eq!(rows.first().unwrap().until, "2027-01-01");
        assert!(!rows.get(1).unwrap().in_force);
    }
}

csrf_forms!(PlaceForm);
