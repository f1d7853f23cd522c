//! `/v1/verifications`: one-time codes proving a requester controls a contact custos holds.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_store::{SubjectId, Uuid};
use serde::Deserialize;

use super::{blocking, ctx};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    subject: SubjectId,
    category: String,
}

pub async fn start<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<StartBody>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let b = body.value;
    let started = blocking(&rid, move || {
        Ok(state
            .vault
            .start_verification(&auth.actor, b.subject, &b.category, &ctx(&auth))?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(started)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    code: String,
}

pub async fn check<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<CheckBody>,
) -> Result<Response, ApiError> {
    let challenge = Uuid::parse_str(&id).map_err(|_| {
        ApiError::bad_request("HTTP-0401", "the challenge id is not a UUID")
            .with_request_id(&auth.request_id)
    })?;
    let rid = auth.request_id.clone();
    let code = body.value.code;
    let checked = blocking(&rid, move || {
        Ok(state
            .vault
            .check_verification(&auth.actor, challenge, &code, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(checked).into_response())
}
