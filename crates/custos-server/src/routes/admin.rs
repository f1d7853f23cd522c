//! Policy, API keys and audit verification.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use custos_core::api_keys::{self, KeySpec};
use custos_core::audit::{VerifyError, verify_chain};
use custos_store::Store;
use serde::Deserialize;
use serde_json::json;

use super::{blocking, require_admin};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn policy<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let p = blocking(&rid, move || Ok(state.vault.policy(&auth.actor.tenant)?)).await?;
    Ok(Json(json!({
        "id": p.policy.policy.id,
        "title": p.policy.policy.title,
        "label": p.policy.policy.version,
        "version": p.number,
        "effective_at": p.effective_at,
        "purposes": p.table.purposes(),
        "roles": p.table.roles(),
        "categories": p.table.categories(),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    format: Option<String>,
}

pub async fn notice<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, ApiError> {
    let rid = auth.request_id.clone();
    let format = q.format.unwrap_or_else(|| "html".into());
    if format != "html" && format != "md" {
        return Err(
            ApiError::bad_request("HTTP-0406", "format is html or md").with_request_id(&rid)
        );
    }
    let p = blocking(&rid, move || Ok(state.vault.policy(&auth.actor.tenant)?)).await?;
    let doc = custos_policy::notice::build(&p.policy);
    Ok(if format == "md" {
        (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            custos_policy::notice::to_markdown(&doc),
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            custos_policy::notice::to_html(&doc),
        )
            .into_response()
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    label: String,
    role: String,
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    admin: bool,
}

pub async fn create_key<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<NewKey>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let spec = body.value;
    let issued = blocking(&rid, move || {
        let policy = state.vault.policy(&auth.actor.tenant)?;
        let mut problems = Vec::new();
        if !spec.admin && !policy.policy.recipient.contains_key(&spec.role) {
            problems.push(custos_core::FieldError {
                pointer: "/role".into(),
                code: "VAULT-0115",
                detail: "the role must be a recipient in the policy".into(),
            });
        }
        for (i, p) in spec.purposes.iter().enumerate() {
            if !policy.policy.purpose.contains_key(p) {
                problems.push(custos_core::FieldError {
                    pointer: format!("/purposes/{i}"),
                    code: "VAULT-0107",
                    detail: "purpose not in the policy".into(),
                });
            }
        }
        if spec.label.len() > 200 {
            problems.push(custos_core::FieldError {
                pointer: "/label".into(),
                code: "VAULT-0116",
                detail: "at most 200 characters".into(),
            });
        }
        if !problems.is_empty() {
            return Err(custos_core::VaultError::Invalid(problems).into());
        }
        let spec = KeySpec {
            label: spec.label,
            role: spec.role,
            purposes: spec.purposes,
            admin: spec.admin,
        };
        let now = state.vault.now();
        let issued = api_keys::issue(
            state.vault.store().as_ref(),
            state.vault.keys(),
            &auth.actor.tenant,
            &spec,
            &format!("key:{}", auth.actor.key_id),
            now,
        )?;
        Ok(issued)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": issued.key.id,
            "token": issued.token.as_str(),
            "role": issued.key.role,
            "purposes": issued.key.purposes,
            "admin": issued.key.admin,
            "note": "the token is shown once; store it now",
        })),
    )
        .into_response())
}

pub async fn list_keys<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let keys = blocking(&rid, move || {
        Ok(state
            .vault
            .store()
            .api_keys(&auth.actor.tenant)
            .map_err(custos_core::VaultError::from)?)
    })
    .await?;
    let list: Vec<_> = keys
        .iter()
        .map(|k| json!({ "id": k.id, "label": k.label, "role": k.role, "purposes": k.purposes, "admin": k.admin, "created_at": k.created_at, "revoked_at": k.revoked_at }))
        .collect();
    Ok(Json(json!({ "keys": list })).into_response())
}

pub async fn revoke_key<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    blocking(&rid, move || {
        let now = state.vault.now();
        Ok(api_keys::revoke(
            state.vault.store().as_ref(),
            &auth.actor.tenant,
            &id,
            &format!("key:{}", auth.actor.key_id),
            now,
        )?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn verify_audit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let result = blocking(&rid, move || {
        Ok(verify_chain(
            state.vault.store().as_ref(),
            &auth.actor.tenant,
        ))
    })
    .await?;
    Ok(match result {
        Ok(r) => Json(json!({ "valid": true, "entries": r.entries, "head": hex(&r.head) }))
            .into_response(),
        Err(VerifyError::Chain(e)) => (
            StatusCode::OK,
            Json(json!({ "valid": false, "error": e.to_string() })),
        )
            .into_response(),
        Err(VerifyError::Store(e)) => return Err(ApiError::from(e).with_request_id(&rid)),
    })
}
