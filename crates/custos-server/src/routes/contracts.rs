//! `/v1/orders`, `/v1/memberships`, `/v1/returns`: consumer contracts (admin keys).
//! Each kind has create, list (`?subject=`, `?status=`), get and typed actions; an id
//! of another kind answers 404 like an unknown one.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_core::VaultError;
use custos_core::contracts::{ContractAction, ContractView, NewMembership, NewOrder, NewReturn};
use custos_store::{ContractFilter, ContractKind, ContractStore, Store};
use serde::Deserialize;
use serde_json::json;

use super::{blocking, ctx, require_admin, subject_param, uuid_param};
use crate::AppState;
use crate::body::{Authed, JsonBody};
use crate::problem::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    subject: Option<String>,
    status: Option<String>,
}

fn created(view: ContractView) -> Response {
    (StatusCode::CREATED, Json(view)).into_response()
}

pub async fn create_order<S: Store + ContractStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<NewOrder>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        Ok(state
            .vault
            .create_order(&auth.actor, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok(created(view))
}

pub async fn create_membership<S: Store + ContractStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<NewMembership>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        Ok(state
            .vault
            .create_membership(&auth.actor, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok(created(view))
}

pub async fn create_return<S: Store + ContractStore>(
    State(state): State<Arc<AppState<S>>>,
    auth: Authed,
    body: JsonBody<NewReturn>,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        Ok(state
            .vault
            .create_return(&auth.actor, &body.value, &ctx(&auth))?)
    })
    .await?;
    Ok(created(view))
}

async fn list<S: Store + ContractStore>(
    state: Arc<AppState<S>>,
    auth: Authed,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    kind: ContractKind,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let rid = auth.request_id.clone();
    let Ok(Query(q)) = query else {
        return Err(ApiError::bad_request(
            "CONTRACT-0002",
            "the query accepts `subject` (a UUID) and `status` only",
        )
        .with_request_id(&rid));
    };
    let subject = q
        .subject
        .as_deref()
        .map(|s| subject_param(s, &rid))
        .transpose()?;
    let filter = ContractFilter {
        subject,
        kind: Some(kind),
        status: q.status,
    };
    let all = blocking(&rid, move || {
        Ok(state.vault.contract_list(&auth.actor.tenant, &filter)?)
    })
    .await?;
    Ok(Json(json!({ "contracts": all })).into_response())
}

async fn one<S: Store + ContractStore>(
    state: Arc<AppState<S>>,
    auth: Authed,
    id: &str,
    kind: ContractKind,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let id = uuid_param(id, &auth.request_id, "contract")?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        let v = state.vault.contract_view(&auth.actor.tenant, id)?;
        if v.kind != kind.as_str() {
            return Err(VaultError::ContractNotFound.into());
        }
        Ok(v)
    })
    .await?;
    Ok(Json(view).into_response())
}

async fn act<S: Store + ContractStore>(
    state: Arc<AppState<S>>,
    auth: Authed,
    id: &str,
    action: ContractAction,
    kind: ContractKind,
) -> Result<Response, ApiError> {
    require_admin(&auth)?;
    let id = uuid_param(id, &auth.request_id, "contract")?;
    let rid = auth.request_id.clone();
    let view = blocking(&rid, move || {
        let v = state.vault.contract_view(&auth.actor.tenant, id)?;
        if v.kind != kind.as_str() {
            return Err(VaultError::ContractNotFound.into());
        }
        Ok(state
            .vault
            .act_on_contract(&auth.actor, id, &action, &ctx(&auth))?)
    })
    .await?;
    Ok(Json(view).into_response())
}

macro_rules! kind_routes {
    ($list:ident, $one:ident, $act:ident, $kind:expr) => {
        pub async fn $list<S: Store + ContractStore>(
            State(state): State<Arc<AppState<S>>>,
            auth: Authed,
            query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
        ) -> Result<Response, ApiError> {
            list(state, auth, query, $kind).await
        }

        pub async fn $one<S: Store + ContractStore>(
            State(state): State<Arc<AppState<S>>>,
            auth: Authed,
            Path(id): Path<String>,
        ) -> Result<Response, ApiError> {
            one(state, auth, &id, $kind).await
        }

        pub async fn $act<S: Store + ContractStore>(
            State(state): State<Arc<AppState<S>>>,
            auth: Authed,
            Path(id): Path<String>,
            body: JsonBody<ContractAction>,
        ) -> Result<Response, ApiError> {
            act(state, auth, &id, body.value, $kind).await
        }
    };
}

kind_routes!(list_orders, order, act_on_order, ContractKind::Order);
kind_routes!(
    list_memberships,
    membership,
    act_on_membership,
    ContractKind::Membership
);
kind_routes!(
    list_returns,
    return_one,
    act_on_return,
    ContractKind::Return
);
