//! Route table and handlers. Each handler: extract → one engine call → map.

mod admin;
mod consent;
mod contracts;
mod events;
mod incidents;
mod lifecycle;
mod requests;
mod subjects;
mod verification;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use custos_store::Store;
use serde_json::json;

use crate::problem::ApiError;
use crate::{AppState, openapi};

pub fn routes<S: crate::Backend>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics::<S>))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1/docs", get(docs))
        .route("/v1/docs.js", get(docs_js))
        .route("/v1/subjects", post(subjects::create::<S>))
        .route("/v1/subjects/{id}", get(subjects::read::<S>))
        .route("/v1/subjects/{id}/records", post(subjects::add::<S>))
        .route("/v1/subjects/{id}/export", get(subjects::export::<S>))
        .route(
            "/v1/subjects/{id}/records/{record}",
            patch(lifecycle::rectify::<S>),
        )
        .route(
            "/v1/subjects/{id}/restriction",
            post(lifecycle::restrict::<S>).delete(lifecycle::lift::<S>),
        )
        .route("/v1/subjects/{id}/erasure", post(lifecycle::erase::<S>))
        .route("/v1/subjects/{id}/held", get(lifecycle::held::<S>))
        .route("/v1/subjects/{id}/events", post(events::record::<S>))
        .route(
            "/v1/subjects/{id}/legal-holds",
            post(events::place_hold::<S>),
        )
        .route(
            "/v1/subjects/{id}/legal-holds/{hold}",
            delete(events::lift_hold::<S>),
        )
        .route("/v1/lookup", post(subjects::lookup::<S>))
        .route(
            "/v1/subjects/{id}/consents",
            post(consent::record::<S>).get(consent::export::<S>),
        )
        .route("/v1/subjects/{id}/signals", post(consent::signal::<S>))
        .route("/v1/subjects/{id}/settings", post(consent::setting::<S>))
        .route(
            "/v1/subjects/{id}/unsubscribe-tokens",
            post(consent::mint_unsubscribe::<S>),
        )
        .route(
            "/v1/unsubscribe/{token}",
            get(consent::unsubscribe_page::<S>).post(consent::unsubscribe::<S>),
        )
        .route(
            "/v1/requests",
            post(requests::open::<S>).get(requests::queue::<S>),
        )
        .route("/v1/requests/{id}", get(requests::one::<S>))
        .route("/v1/requests/{id}/actions", post(requests::act::<S>))
        .route(
            "/v1/incidents",
            post(incidents::open::<S>).get(incidents::list::<S>),
        )
        .route("/v1/incidents/{id}", get(incidents::one::<S>))
        .route("/v1/incidents/{id}/hold", delete(incidents::lift_hold::<S>))
        .route(
            "/v1/orders",
            post(contracts::create_order::<S>).get(contracts::list_orders::<S>),
        )
        .route("/v1/orders/{id}", get(contracts::order::<S>))
        .route(
            "/v1/orders/{id}/actions",
            post(contracts::act_on_order::<S>),
        )
        .route(
            "/v1/memberships",
            post(contracts::create_membership::<S>).get(contracts::list_memberships::<S>),
        )
        .route("/v1/memberships/{id}", get(contracts::membership::<S>))
        .route(
            "/v1/memberships/{id}/actions",
            post(contracts::act_on_membership::<S>),
        )
        .route(
            "/v1/returns",
            post(contracts::create_return::<S>).get(contracts::list_returns::<S>),
        )
        .route("/v1/returns/{id}", get(contracts::return_one::<S>))
        .route(
            "/v1/returns/{id}/actions",
            post(contracts::act_on_return::<S>),
        )
        .route("/v1/verifications", post(verification::start::<S>))
        .route(
            "/v1/verifications/{id}/check",
            post(verification::check::<S>),
        )
        .route("/v1/policy", get(admin::policy::<S>))
        .route("/v1/policy/notice", get(admin::notice::<S>))
        .route(
            "/v1/keys",
            post(admin::create_key::<S>).get(admin::list_keys::<S>),
        )
        .route("/v1/keys/{id}", delete(admin::revoke_key::<S>))
        .route("/v1/audit/verify", get(admin::verify_audit::<S>))
        .fallback(not_found)
}

/// The request context of an authenticated call without an idempotency key.
pub(crate) fn ctx(auth: &crate::body::Authed) -> custos_core::vault::RequestCtx {
    custos_core::vault::RequestCtx {
        request_id: Some(auth.request_id.clone()),
        idempotency: None,
    }
}

/// Staff-only routes: an admin API key or 403.
pub(crate) fn require_admin(auth: &crate::body::Authed) -> Result<(), ApiError> {
    if auth.actor.admin {
        Ok(())
    } else {
        Err(ApiError::forbidden_admin().with_request_id(&auth.request_id))
    }
}

/// A UUID path segment; `what` names it in the error ("the request id is not a UUID").
pub(crate) fn uuid_param(raw: &str, rid: &str, what: &str) -> Result<custos_store::Uuid, ApiError> {
    custos_store::Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request("HTTP-0401", format!("the {what} id is not a UUID"))
            .with_request_id(rid)
    })
}

/// A subject id path segment.
pub(crate) fn subject_param(raw: &str, rid: &str) -> Result<custos_store::SubjectId, ApiError> {
    uuid_param(raw, rid, "subject").map(custos_store::SubjectId)
}

/// Runs a blocking engine call off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    rid: &str,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "VAULT-0011",
                "Internal error",
                "task failed",
            )
        })?
        .map_err(|e| {
            if e.request_id.is_none() {
                e.with_request_id(rid)
            } else {
                e
            }
        })
}

async fn healthz<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    let st = Arc::clone(&state);
    let ok = tokio::task::spawn_blocking(move || st.vault.store().tenants().is_ok())
        .await
        .unwrap_or(false);
    let (status, word) = if ok {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    };
    (status, axum::Json(json!({ "status": word }))).into_response()
}

async fn metrics<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document().to_string(),
    )
        .into_response()
}

async fn docs() -> Response {
    let mut resp = Html(crate::docs::PAGE).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    resp
}

async fn docs_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        crate::docs::SCRIPT,
    )
        .into_response()
}

async fn not_found(req: axum::extract::Request) -> ApiError {
    let rid = req
        .extensions()
        .get::<crate::RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    ApiError::not_found().with_request_id(&rid)
}
