//! The consent ledger over HTTP: record decisions, export receipts, mint
//! unsubscribe links, and the login-free unsubscribe page (L-9).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use custos_core::vault::consent::ConsentInput;
use custos_store::{ConsentStore, RetentionStore, Store};
use serde::Deserialize;
use serde_json::json;

use super::{blocking, ctx, subject_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

pub async fn record<S: Store + ConsentStore + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<ConsentInput>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let rid = auth.request_id.clone();
    let receipt = blocking(&rid, move || {
        Ok(state
            .vault
            .record_consent(&auth.actor, subject, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// `POST /v1/subjects/{id}/settings`: switches a device or account setting on
/// or off (issue 13.3, 13.10): the location permission, the app's connection.
pub async fn setting<S: Store + ConsentStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<custos_core::vault::settings::SettingInput>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let rid = auth.request_id.clone();
    let state_now = blocking(&rid, move || {
        Ok(state
            .vault
            .set_setting(&auth.actor, subject, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(state_now)).into_response())
}

pub async fn export<S: Store + ConsentStore + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let rid = auth.request_id.clone();
    let record = blocking(&rid, move || {
        Ok(state
            .vault
            .consent_record(&auth.actor, subject, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(record).into_response())
}

/// Opt-out preference signals (Global Privacy Control): `Sec-GPC: 1` or `{"signal": "gpc"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    signal: String,
}

pub async fn signal<S: Store + ConsentStore + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<Signal>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    if body.value.signal != "gpc" {
        return Err(
            ApiError::bad_request("HTTP-0407", "the only signal understood is \"gpc\"")
                .with_request_id(&auth.request_id),
        );
    }
    let rid = auth.request_id.clone();
    let purposes = blocking(&rid, move || {
        Ok(state
            .vault
            .opt_out_signal(&auth.actor, subject, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(json!({ "signal": "gpc", "withdrawn": purposes })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    purpose: String,
}

pub async fn mint_unsubscribe<S: Store + ConsentStore + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
    body: JsonBody<TokenRequest>,
) -> Result<Response, ApiError> {
    let subject = subject_param(&id, &auth.request_id)?;
    let rid = auth.request_id.clone();
    let purpose = body.value.purpose;
    let token = blocking(&rid, move || {
        let policy = state.vault.policy(&auth.actor.tenant)?;
        if !custos_core::vault::consent::needs_consent(&policy.policy, &purpose) {
            return Err(ApiError::from(custos_core::VaultError::Invalid(vec![
                custos_core::FieldError {
                    pointer: "/purpose".into(),
                    code: "VAULT-0120",
                    detail: "unsubscribe links are for consent purposes".into(),
                },
            ])));
        }
        if state
            .vault
            .store()
            .subject(&auth.actor.tenant, subject)
            .map_err(custos_core::VaultError::from)?
            .is_none()
        {
            return Err(custos_core::VaultError::SubjectNotFound.into());
        }
        Ok(state
            .vault
            .unsubscribe_token(&auth.actor.tenant, subject, &purpose)?)
    })
    .await?;
    let path = format!("/v1/unsubscribe/{token}");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "path": path })),
    )
        .into_response())
}

const PAGE_STYLE: &str = "body{font:17px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}button{font:inherit;padding:.5rem 1.2rem;border:2px solid #0b57d0;background:#0b57d0;color:#fff;border-radius:6px;cursor:pointer}button:focus{outline:3px solid #f9ab00}";

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>{PAGE_STYLE}</style></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    let mut resp = Html(html).into_response();
    if let Ok(v) = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'".parse() {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if let Ok(v) = "no-referrer".parse() {
        resp.headers_mut().insert(header::REFERRER_POLICY, v);
    }
    resp
}

/// GET never changes anything (mail scanners follow links): it shows a button.
pub async fn unsubscribe_page<S: Store + ConsentStore + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    Path(token): Path<String>,
) -> Response {
    if state.vault.check_unsubscribe_token(&token).is_none() {
        let mut r = page(
            "This link is not valid",
            "<p>The unsubscribe link is incomplete or altered. Use the link from the latest message, or manage your choices in My Account.</p>",
        );
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    let action = custos_policy::notice::escape_html(&format!("/v1/unsubscribe/{token}"));
    page(
        "Unsubscribe",
        &format!(
            "<p>Stop receiving these messages? Your other choices stay as they are.</p><form method=\"post\" action=\"{action}\"><button type=\"submit\">Unsubscribe</button></form>"
        ),
    )
}

/// POST withdraws consent (also RFC 8058 one-click `List-Unsubscribe-Post`).
pub async fn unsubscribe<S: Store + ConsentStore + RetentionStore>(
    State(state): State<Arc<AppState<S>>>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let st = Arc::clone(&state);
    let result = tokio::task::spawn_blocking(move || st.vault.unsubscribe(&token, ua)).await;
    match result {
        Ok(Ok(receipt)) if wants_json => Json(receipt).into_response(),
        Ok(Ok(_)) => page(
            "You are unsubscribed",
            "<p>We will not send you these messages again. You can change your mind at any time in My Account.</p>",
        ),
        Ok(Err(e)) if wants_json => ApiError::from(e).into_response(),
        Ok(Err(custos_core::VaultError::BadToken)) => {
            let mut r = page(
                "This link is not valid",
                "<p>The unsubscribe link is incomplete or altered.</p>",
            );
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "VAULT-0011",
            "Internal error",
            "task failed",
        )
        .into_response(),
    }
}
