//! `/v1/incidents`: breach handling (admin keys).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::incidents::IncidentInput;
use custos_core::vault::RequestCtx;
use custos_store::{IncidentStore, RequestStore, Store, Uuid};
use serde_json::json;

use super::blocking;
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

fn ctx(auth: &Authed) -> RequestCtx {
    RequestCtx {
        request_id: Some(auth.request_id.clone()),
        idempotency: None,
    }
}

fn require_admin(auth: &Authed) -> Result<(), ApiError> {
    if auth.actor.admin {
        Ok(())
    } else {
        Err(ApiError::forbidden_admin().with_request_id(&auth.request_id))
    }
}

fn incident_id(raw: &str, rid: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request("HTTP-0401", "the incident id is not a UUID").with_request_id(rid)
    })
}

pub async fn open<S: Store + RequestStore + IncidentStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<IncidentInput>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let incident = blocking(&rid, move || {
        Ok(state
            .vault
            .open_incident(&auth.actor, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(incident)).into_response())
}

pub async fn list<S: Store + RequestStore + IncidentStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let all = blocking(&rid, move || {
        Ok(state.vault.incidents(&auth.actor.tenant)?)
    })
    .await?;
    Ok(Json(json!({ "incidents": all })).into_response())
}

pub async fn one<S: Store + RequestStore + IncidentStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let id = incident_id(&id, &auth.request_id)?;
    let rid = auth.request_id.clone();
    let (incident, _) = blocking(&rid, move || {
        Ok(state.vault.incident(&auth.actor.tenant, id)?)
    })
    .await?;
    Ok(Json(incident).into_response())
}

pub async fn lift_hold<S: Store + RequestStore + IncidentStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let id = incident_id(&id, &auth.request_id)?;
    let rid = auth.request_id.clone();
    let incident = blocking(&rid, move || {
        Ok(state.vault.lift_hold(&auth.actor, id, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(incident).into_response())
}
