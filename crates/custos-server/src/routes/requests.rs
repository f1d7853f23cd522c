//! `/v1/requests`: rights requests and their clocks.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::rights::{NewRequest, RequestAction};
use custos_store::{RequestStore, Store};
use serde_json::json;

use super::{blocking, ctx, require_admin, uuid_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

/// Any key of the tenant may register a person's request (the application relays it).
pub async fn open<S: Store + RequestStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<NewRequest>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        Ok(state
            .vault
            .open_request(&auth.actor, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub async fn queue<S: Store + RequestStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let all = blocking(&rid, move || {
        Ok(state.vault.request_queue(&auth.actor.tenant)?)
    })
    .await?;
    let overdue = all.iter().filter(|r| r.overdue).count();
    let due_soon = all.iter().filter(|r| r.due_soon).count();
    Ok(Json(json!({ "overdue": overdue, "due_soon": due_soon, "requests": all })).into_response())
}

pub async fn one<S: Store + RequestStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let id = uuid_param(&id, &auth.request_id, "request")?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        Ok(state.vault.request_view(&auth.actor.tenant, id)?)
    })
    .await?;
    Ok(Json(view).into_response())
}

pub async fn act<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<RequestAction>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let id = uuid_param(&id, &auth.request_id, "request")?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        Ok(state.vault.act(&auth.actor, id, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(view).into_response())
}
