//! Retention events (`POST /v1/subjects/{id}/events`) and legal holds
//! (`POST /v1/subjects/{id}/legal-holds`, admin).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::vault::closure::Closure;
use custos_core::vault::events::parse_event;
use custos_store::{RetentionStore, Store, Timestamp, Uuid};
use serde::Deserialize;
use serde_json::json;

use super::{blocking, ctx, subject_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    event: String,
    /// RFC 3339; now when absent.
    at: Option<Timestamp>,
    /// For `consent_withdrawal`: the withdrawn purpose.
    purpose: Option<String>,
}

/// `POST /v1/subjects/{id}/events` (any key of the tenant): starts or restarts
/// the retention clock of the categories that count from the event. An
/// `account_closure` does what the policy promises for deleted accounts: the
/// person's erasure when `rights.account_closure_erases` (issue 13.15).
pub async fn record<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<EventBody>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = subject_param(&id, &rid)?;
    let out = blocking(&rid, move || {
        let b = &body.value;
        let event = parse_event(&b.event)?;
        if event == custos_policy::period::Trigger::AccountClosure {
            return Ok(state
                .vault
                .close_account(&auth.actor, subject, b.at, &ctx(&auth))?);
        }
        Ok(Closure::Clocks(state.vault.record_event(
            &auth.actor,
            subject,
            event,
            b.at,
            b.purpose.as_deref(),
            &ctx(&auth),
        )?))
    })
    .await?;
    Ok(Json(out).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    reason: String,
    /// RFC 3339: when the hold ends and the sweep may proceed.
    until: Timestamp,
}

/// `POST /v1/subjects/{id}/legal-holds` (admin).
pub async fn place_hold<S: Store + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<HoldBody>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = subject_param(&id, &rid)?;
    if !auth.actor.admin {
        return Err(ApiError::forbidden_admin().with_request_id(&rid));
    }
    let hold = blocking(&rid, move || {
        Ok(state.vault.place_hold(
            &auth.actor,
            subject,
            &body.value.reason,
            body.value.until,
            &ctx(&auth),
        )?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": hold.id,
            "subject": hold.subject,
            "reason": hold.reason,
            "placed_at": hold.placed_at,
            "until": hold.until,
        })),
    )
        .into_response())
}

/// `DELETE /v1/subjects/{id}/legal-holds/{hold}` (admin): ends the hold now.
pub async fn lift_hold<S: Store + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path((id, hold)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = subject_param(&id, &rid)?;
    let hold = Uuid::parse_str(&hold).map_err(|_| {
        ApiError::bad_request("HTTP-0401", "the hold id is not a UUID").with_request_id(&rid)
    })?;
    if !auth.actor.admin {
        return Err(ApiError::forbidden_admin().with_request_id(&rid));
    }
    blocking(&rid, move || {
        Ok(state
            .vault
            .lift_legal_hold(&auth.actor, subject, hold, &ctx(&auth))?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
