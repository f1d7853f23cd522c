//! Rectification, restriction and erasure of a subject (P0-11, P0-16, P0-17), and
//! reading the records kept under a legal hold after an erasure.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use custos_core::vault::lifecycle::{EraseRequest, RectifyRequest};
use custos_store::{LifecycleStore, RecordId, Store, SubjectId};
use serde::Deserialize;

use super::{blocking, ctx, uuid_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

/// `PATCH /v1/subjects/{id}/records/{record}`: replaces one record's value.
pub async fn rectify<S: Store + LifecycleStore + custos_store::RequestStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path((subject, record)): Path<(String, String)>,
    body: JsonBody<RectifyRequest>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = SubjectId(uuid_param(&subject, &rid, "subject")?);
    let record = RecordId(uuid_param(&record, &rid, "record")?);
    let ctx = ctx(&auth);
    let out = blocking(&rid, move || {
        Ok(state
            .vault
            .rectify(&auth.actor, subject, record, &body.value.value, &ctx)?)
    })
    .await?;
    Ok(Json(out).into_response())
}

/// `POST /v1/subjects/{id}/restriction` (admin).
pub async fn restrict<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(subject): Path<String>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = SubjectId(uuid_param(&subject, &rid, "subject")?);
    let ctx = ctx(&auth);
    let out = blocking(&rid, move || {
        Ok(state.vault.restrict(&auth.actor, subject, &ctx)?)
    })
    .await?;
    Ok(Json(out).into_response())
}

/// `DELETE /v1/subjects/{id}/restriction` (admin).
pub async fn lift<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(subject): Path<String>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = SubjectId(uuid_param(&subject, &rid, "subject")?);
    let ctx = ctx(&auth);
    let out = blocking(&rid, move || {
        Ok(state.vault.lift_restriction(&auth.actor, subject, &ctx)?)
    })
    .await?;
    Ok(Json(out).into_response())
}

/// `POST /v1/subjects/{id}/erasure` (admin): the erasure receipt.
pub async fn erase<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(subject): Path<String>,
    body: JsonBody<EraseRequest>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = SubjectId(uuid_param(&subject, &rid, "subject")?);
    let ctx = ctx(&auth);
    let out = blocking(&rid, move || {
        Ok(state
            .vault
            .erase(&auth.actor, subject, &body.value.reason, &ctx)?)
    })
    .await?;
    Ok(Json(out).into_response())
}

#[derive(Debug, Deserialize)]
pub struct PurposeQuery {
    purpose: Option<String>,
}

/// `GET /v1/subjects/{id}/held?purpose=…`: records kept under a legal hold.
pub async fn held<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(subject): Path<String>,
    Query(q): Query<PurposeQuery>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let subject = SubjectId(uuid_param(&subject, &rid, "subject")?);
    let purpose = q.purpose.filter(|p| !p.is_empty()).ok_or_else(|| {
        ApiError::bad_request("HTTP-0403", "every read names its purpose: ?purpose=…")
            .with_request_id(&rid)
    })?;
    let ctx = ctx(&auth);
    let out = blocking(&rid, move || {
        Ok(state
            .vault
            .read_held(&auth.actor, subject, &purpose, &ctx)?)
    })
    .await?;
    Ok(Json(out).into_response())
}
