//! The person's orders and memberships in the privacy center (issue 9 part 7):
//! key dates and amounts, and the two things a consumer may do alone — cancel a
//! membership at the end of its period (T-13), withdraw within the statutory
//! period (T-18), and accept an announced change or cancel because of it (T-4, T-20). Each needs a ticked box, so a stray keypress changes nothing.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use custos_core::VaultError;
use custos_core::contracts::ContractView;
use custos_store::Uuid;
use serde::Deserialize;

use super::i18n::{Lang, Strings, contract_word};
use super::{ErrorPage, Visit, day, engine, render};
use crate::{AppState, Backend};

pub fn routes<S: Backend>() -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/privacy/contracts/cancel", post(act::<S>))
        .route("/privacy/contracts/withdraw", post(act::<S>))
        .route("/privacy/contracts/accept-change", post(act::<S>))
        .route("/privacy/contracts/cancel-for-change", post(act::<S>))
}

/// One contract as the privacy center shows it.
#[derive(Debug)]
pub struct ContractCard {
    pub id: String,
    pub title: String,
    pub status: String,
    /// A change is announced and not yet in effect.
    pub change: Option<&'static str>,
    pub facts: Vec<(String, String)>,
    /// (action path, button, note, confirm label)
    pub actions: Vec<(&'static str, &'static str, String, &'static str)>,
}

pub fn cards(lang: Lang, s: &Strings, views: &[ContractView]) -> Vec<ContractCard> {
    views
        .iter()
        .filter(|v| v.kind != "return" || v.may_withdraw)
        .map(|v| {
            let mut facts = Vec::new();
            if let Some(r) = &v.reference {
                facts.push((s.reference.to_owned(), r.clone()));
            }
            for d in &v.key_dates {
                facts.push((contract_word(lang, d.name), day(d.at)));
            }
            for a in &v.amounts {
                facts.push((contract_word(lang, a.name), a.amount.clone()));
            }
            let mut actions = Vec::new();
            if v.may_withdraw {
                let until = v.withdraw_until.map(day).unwrap_or_default();
                actions.push((
                    "/privacy/contracts/withdraw",
                    s.withdraw_contract,
                    s.withdraw_note.replace("{date}", &until),
                    s.confirm_withdraw,
                ));
            }
            if v.may_accept_change {
                actions.push((
                    "/privacy/contracts/accept-change",
                    s.accept_change,
                    s.accept_change_note.to_owned(),
                    s.confirm_accept_change,
                ));
            }
            if v.may_cancel_for_change {
                actions.push((
                    "/privacy/contracts/cancel-for-change",
                    s.cancel_for_change,
                    s.cancel_for_change_note.to_owned(),
                    s.confirm_cancel_for_change,
                ));
            }
            if v.may_cancel {
                actions.push((
                    "/privacy/contracts/cancel",
                    s.cancel_membership,
                    s.cancel_note.to_owned(),
                    s.confirm_cancel,
                ));
            }
            ContractCard {
                id: v.id.to_string(),
                title: format!(
                    "{}{}",
                    contract_word(lang, v.kind),
                    v.reference
                        .as_ref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default()
                ),
                status: contract_word(lang, &v.status),
                change: v
                    .key_dates
                    .iter()
                    .any(|d| d.name == "change_effective")
                    .then_some(s.change_announced),
                facts,
                actions,
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    contract: String,
    #[serde(default)]
    confirm: String,
}

pub async fn act<S: Backend>(
    State(state): State<Arc<AppState<S>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    form: Result<Form<ActForm>, FormRejection>,
) -> Response {
    let (mut v, form, tenant, subject) = match super::privacy::person_posted(&state, &headers, form)
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let s = v.strings();
    let fail = |v: &mut Visit, status: StatusCode, message: &str| {
        let chrome = v.chrome(&state, s.error_title);
        let page = ErrorPage {
            chrome,
            message: message.to_owned(),
            back: "/privacy#contracts",
        };
        v.finish(render(status, &page))
    };
    if form.confirm != "yes" {
        return fail(&mut v, StatusCode::UNPROCESSABLE_ENTITY, s.must_confirm);
    }
    let Ok(id) = Uuid::parse_str(&form.contract) else {
        return fail(&mut v, StatusCode::NOT_FOUND, s.error_retry);
    };
    let step = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
    let done = match step.as_str() {
        "withdraw" => s.withdrawn,
        "accept-change" => s.change_accepted,
        _ => s.cancelled,
    };
    let st = Arc::clone(&state);
    let result = engine(move || {
        let now = st.vault.now();
        match step.as_str() {
            "withdraw" => st.vault.withdraw(&tenant, subject, id, now),
            "accept-change" => st.vault.accept_change(&tenant, subject, id, now),
            "cancel-for-change" => st.vault.cancel_for_change(&tenant, subject, id, now),
            _ => st.vault.cancel_membership(&tenant, subject, id, now),
        }
    })
    .await;
    match result {
        Ok(_) => {
            v.flash(&state, done);
            v.see_other("/privacy#contracts")
        }
        // Not theirs, or no longer possible (period over, already ended): nothing done.
        Err(VaultError::Invalid(_)) => fail(&mut v, StatusCode::CONFLICT, s.error_retry),
        Err(VaultError::ContractNotFound | VaultError::SubjectNotFound) => {
            fail(&mut v, StatusCode::NOT_FOUND, s.error_retry)
        }
        Err(e) => {
            tracing::warn!(error = %e.code(), "privacy center: contract action failed");
            fail(&mut v, StatusCode::INTERNAL_SERVER_ERROR, s.error_retry)
        }
    }
}

csrf_forms!(ActForm);
