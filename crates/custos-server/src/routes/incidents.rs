//! `/v1/incidents`: breach handling (admin keys).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::incidents::IncidentInput;
use custos_store::{IncidentStore, RequestStore, Store};
use serde_json::json;

use super::{blocking, ctx, require_admin, uuid_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

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
    let id = uuid_param(&id, &auth.request_id, "incident")?;
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
    let id = uuid_param(&id, &auth.request_id, "incident")?;
    let rid = auth.request_id.clone();
    let incident = blocking(&rid, move || {
        Ok(state.vault.lift_hold(&auth.actor, id, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(incident).into_response())
}
