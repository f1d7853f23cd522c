//! `/v1/subjects` and `/v1/lookup`: writes, purpose-bound reads, lookups.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use custos_core::vault::{RequestCtx, WriteOutcome, WriteRequest};
use custos_store::Store;
use serde::Deserialize;
use serde_json::json;

use super::{blocking, subject_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

fn ctx(
    auth: &Authed,
    headers: &HeaderMap,
    body_hash: Option<[u8; 32]>,
) -> Result<RequestCtx, ApiError> {
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v
                .to_str()
                .ok()
                .filter(|k| {
                    !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic())
                })
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "HTTP-0402",
                        "Idempotency-Key must be 1–128 visible ASCII characters",
                    )
                    .with_request_id(&auth.request_id)
                })?;
            Some((key.to_owned(), body_hash.unwrap_or_default()))
        }
    };
    Ok(RequestCtx {
        request_id: Some(auth.request_id.clone()),
        idempotency,
    })
}

fn written(outcome: WriteOutcome) -> Response {
    let (status, replayed) = match &outcome {
        WriteOutcome::Created(_) => (StatusCode::CREATED, false),
        WriteOutcome::Replayed(_) => (StatusCode::OK, true),
    };
    let mut resp = (status, Json(outcome.written())).into_response();
    if replayed && let Ok(v) = "true".parse() {
        resp.headers_mut().insert("idempotent-replayed", v);
    }
    resp
}

pub async fn create<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    headers: HeaderMap,
    body: JsonBody<WriteRequest>,
) -> Result<Response, ApiError> {
    let ctx = ctx(&auth, &headers, Some(body.hash))?;
    let rid = auth.request_id.clone();
    let out = blocking(&rid, move || {
        Ok(state.vault.create_subject(&auth.actor, &body.value, &ctx)?)
    })
    .await?;
    Ok(written(out))
}

pub async fn add<S: crate::Backend>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<WriteRequest>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let ctx = ctx(&auth, &headers, Some(body.hash))?;
    let rid = auth.request_id.clone();
    let out = blocking(&rid, move || {
        Ok(state
            .vault
            .add_records(&auth.actor, subject, &body.value, &ctx)?)
    })
    .await?;
    Ok(written(out))
}

#[derive(Debug, Deserialize)]
pub struct PurposeQuery {
    purpose: Option<String>,
}

pub async fn read<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    Query(q): Query<PurposeQuery>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let purpose = q.purpose.filter(|p| !p.is_empty()).ok_or_else(|| {
        ApiError::bad_request("HTTP-0403", "every read names its purpose: ?purpose=…")
            .with_request_id(&auth.request_id)
    })?;
    let rid = auth.request_id.clone();
    let ctx = RequestCtx {
        request_id: Some(rid.clone()),
        idempotency: None,
    };
    let out = blocking(&rid, move || {
        Ok(state.vault.read(&auth.actor, subject, &purpose, &ctx)?)
    })
    .await?;
    Ok(Json(out).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    category: String,
    value: String,
    purpose: String,
}

/// POST rather than GET: the email or phone looked up must not appear in a URL.
pub async fn lookup<S: Store + custos_store::LifecycleStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<LookupRequest>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let ctx = RequestCtx {
        request_id: Some(rid.clone()),
        idempotency: None,
    };
    let b = body.value;
    let found = blocking(&rid, move || {
        Ok(state
            .vault
            .lookup(&auth.actor, &b.category, &b.value, &b.purpose, &ctx)?)
    })
    .await?;
    Ok(Json(json!({ "subjects": found })).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// The person's whole data, for an access or portability request (admin key).
pub async fn export<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let format = q.format.unwrap_or_else(|| "json".into());
    if format != "json" && format != "csv" {
        return Err(ApiError::bad_request("HTTP-0408", "format is json or csv")
            .with_request_id(&auth.request_id));
    }
    let rid = auth.request_id.clone();
    let ctx = RequestCtx {
        request_id: Some(rid.clone()),
        idempotency: None,
    };
    let out = blocking(&rid, move || {
        Ok(state.vault.export(&auth.actor, subject, &ctx)?)
    })
    .await?;
    Ok(if format == "csv" {
        let disposition = format!("attachment; filename=\"custos-export-{subject}.csv\"");
        let mut resp = (
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            out.to_csv(),
        )
            .into_response();
        if let Ok(v) = disposition.parse() {
            resp.headers_mut()
                .insert(axum::http::header::CONTENT_DISPOSITION, v);
        }
        resp
    } else {
        Json(out).into_response()
    })
}
