//! The HTTP edge of custos. Thin by design: each handler extracts its input,
//! makes one engine call (on the blocking pool: the store is synchronous), and
//! maps the result or error to JSON. Policy decisions live in custos-core.
#![forbid(unsafe_code)]
// The OpenAPI document is one `json!` literal; it outgrew the default macro depth.
#![recursion_limit = "512"]
// Handlers return `Result<_, ApiError>` by axum convention; an error is built once per
// failed request, so its size (a few strings) does not matter.
#![allow(clippy::result_large_err)]

mod body;
pub mod conn;
mod docs;
mod limits;
mod metrics;
pub mod openapi;
mod problem;
mod routes;
pub mod tls;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use custos_core::vault::Vault;
use custos_store::{
    ConsentStore, IncidentStore, LifecycleStore, RequestStore, RetentionStore, Store,
    VerificationStore,
};

pub use axum::http::HeaderName;
pub use conn::{ConnLimits, serve_connections};
pub use limits::{EdgeLimits, RateLimiter};
pub use metrics::Metrics;
pub use problem::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything a handler can reach.
#[derive(Debug)]
pub struct AppState<S> {
    pub vault: Arc<Vault<S>>,
    pub limiter: RateLimiter,
    pub metrics: Metrics,
    /// Sessions of the privacy center and the console (this instance's).
    pub sessions: web::session::Sessions,
    /// The tenant whose people the privacy center serves.
    pub site_tenant: custos_store::TenantId,
    /// Limits per client address: sign-ins, new sessions, unauthenticated requests.
    pub edge: EdgeLimits,
    /// The header a trusted reverse proxy sets to the client's address
    /// (`X-Forwarded-For`, `X-Real-IP`); without one the TCP peer is the client.
    pub client_ip_header: Option<axum::http::HeaderName>,
}

impl<S: Store> AppState<S> {
    /// State for the service; the privacy center serves tenant `default`.
    pub fn new(vault: Arc<Vault<S>>, limiter: RateLimiter) -> Arc<Self> {
        Self::for_site(vault, limiter, default_tenant())
    }

    /// State whose privacy center serves `site_tenant`.
    pub fn for_site(
        vault: Arc<Vault<S>>,
        limiter: RateLimiter,
        site_tenant: custos_store::TenantId,
    ) -> Arc<Self> {
        Self::behind(vault, limiter, site_tenant, None, EdgeLimits::default())
    }

    /// State behind a reverse proxy that names the client in `client_ip_header`,
    /// with the given per-client limits.
    pub fn behind(
        vault: Arc<Vault<S>>,
        limiter: RateLimiter,
        site_tenant: custos_store::TenantId,
        client_ip_header: Option<axum::http::HeaderName>,
        edge: EdgeLimits,
    ) -> Arc<Self> {
        Arc::new(AppState {
            vault,
            limiter,
            metrics: Metrics::default(),
            sessions: web::session::Sessions::with_limits(edge.max_sessions, edge.max_signed_in),
            site_tenant,
            edge,
            client_ip_header,
        })
    }
}

fn default_tenant() -> custos_store::TenantId {
    custos_store::TenantId::default_tenant()
}

/// The request id of the current request (from `x-request-id` or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Every store capability the HTTP application uses, in one bound.
pub trait Backend:
    Store
    + ConsentStore
    + RequestStore
    + VerificationStore
    + LifecycleStore
    + IncidentStore
    + RetentionStore
    + custos_store::ContractStore
    + custos_store::MerkleStore
{
}

impl<T> Backend for T where
    T: Store
        + ConsentStore
        + RequestStore
        + VerificationStore
        + LifecycleStore
        + IncidentStore
        + RetentionStore
        + custos_store::ContractStore
        + custos_store::MerkleStore
{
}

/// The whole HTTP application.
pub fn router<S: Backend>(state: Arc<AppState<S>>) -> Router {
    routes::routes::<S>()
        .merge(web::routes::<S>())
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            observe::<S>,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Assigns the request id and records metrics for every request.
async fn observe<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    // Limits key on this; a client cannot choose it (its own copy is replaced).
    let client = limits::client_of(&req, state.client_ip_header.as_ref());
    if let Ok(v) = HeaderValue::from_str(&client) {
        req.headers_mut().insert(limits::CLIENT_HEADER, v);
    }
    // Pages read the id from the headers they already hold: the one chosen here.
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = state.vault.now();
    let mut resp = next.run(req).await;
    // Rejections axum answers by itself (405, undecodable query or path) leave as
    // problems too, like every other failure.
    // Axum's own rejections are plain text or empty; our pages and problems are not.
    let is_ours = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/problem+json" || v.starts_with("text/html"));
    if resp.status().is_client_error() && !is_ours {
        let allow = resp.headers().get(header::ALLOW).cloned();
        resp = ApiError::from_status(resp.status())
            .with_request_id(&id)
            .into_response();
        if let Some(allow) = allow {
            resp.headers_mut().insert(header::ALLOW, allow);
        }
    }
    let micros = (state.vault.now().as_microsecond() - started.as_microsecond()).max(0) as u64;
    state
        .metrics
        .observe(&method, &route, resp.status().as_u16(), micros);
    // Route templates only: paths carry subject ids and bodies carry values; neither is logged.
    tracing::info!(request_id = %id, %method, %route, status = resp.status().as_u16(), micros, "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    // Reads, exports and problems may carry personal data: no cache, shared or
    // private, keeps a copy. Only responses that chose their own caching (the
    // stylesheet) are left as they are.
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// Serves plain HTTP until Ctrl-C or SIGTERM, within `limits` (conn.rs).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnLimits,
) -> std::io::Result<()> {
    serve_connections(listener, app, None, limits, shutdown()).await
}

pub(crate) async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
