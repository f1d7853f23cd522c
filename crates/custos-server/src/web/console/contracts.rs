//! Consumer contracts (orders, memberships, returns): the list for staff, with each
//! contract's status, key dates and whether the customer may still withdraw, and one
//! contract with the steps of its kind (acknowledge, confirm, activate, issue an RMA,
//! …) run through the same engine call as `POST /v1/{kind}s/{id}/actions`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::contracts::ContractView;
use custos_store::{ContractFilter, Timestamp};

use super::{St, admin_page, internal, task_failed};
use crate::Backend;
use crate::web::{Chrome, blocking, day, render};

struct ContractRow {
    id: String,
    kind: String,
    reference: String,
    subject: String,
    status: String,
    created: String,
    dates: String,
    amounts: String,
    withdraw: String,
    flag: Option<(&'static str, &'static str)>,
}

fn contract_row(c: &ContractView, now: Timestamp) -> ContractRow {
    let flag = c.withdraw_until.map(|until| {
        if until.duration_since(now) <= jiff::SignedDuration::from_hours(72) {
            ("soon", "Withdrawal window closing")
        } else {
            ("ok", "Withdrawal open")
        }
    });
    ContractRow {
        id: c.id.to_string(),
        kind: c.kind.replace('_', " "),
        reference: c.reference.clone().unwrap_or_else(|| "—".into()),
        subject: c.subject.to_string(),
        status: c.status.replace('_', " "),
        created: day(c.created_at),
        dates: c
            .key_dates
            .iter()
            .filter(|d| d.name != "created_at")
            .map(|d| format!("{} {}", d.name.replace('_', " "), day(d.at)))
            .collect::<Vec<_>>()
            .join("; "),
        amounts: c
            .amounts
            .iter()
            .map(|a| format!("{} {}", a.name.replace('_', " "), a.amount))
            .collect::<Vec<_>>()
            .join("; "),
        withdraw: if c.may_withdraw {
            c.withdraw_until
                .map_or_else(|| "yes".to_owned(), |u| format!("until {}", day(u)))
        } else {
            "no".to_owned()
        },
        flag,
    }
}

#[derive(Template)]
#[template(path = "console/contracts.html")]
struct ContractsPage {
    chrome: Chrome,
    nav: &'static str,
    contracts: Vec<ContractRow>,
}

/// `GET /console/contracts`: every contract of the tenant, oldest first.
pub async fn list<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = Arc::clone(&state);
    let result = blocking(move || {
        st.vault
            .contract_list(&actor.tenant, &ContractFilter::default())
    })
    .await;
    match result {
        Some(Ok(all)) => {
            let now = state.vault.now();
            let chrome = v.chrome(&state, "Contracts");
            v.finish(render(
                StatusCode::OK,
                &ContractsPage {
                    chrome,
                    nav: "contracts",
                    contracts: all.iter().map(|c| contract_row(c, now)).collect(),
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

// ---- one contract, and what staff do with it -----------------------------------------

/// A field of an action's form.
struct Field {
    name: &'static str,
    label: &'static str,
    /// `date`, `text` or `json` (a textarea).
    kind: &'static str,
}

/// One action the contract's kind knows; the engine decides whether its state allows it.
struct ActionForm {
    name: &'static str,
    label: &'static str,
    fields: Vec<Field>,
}

const fn field(name: &'static str, label: &'static str, kind: &'static str) -> Field {
    Field { name, label, kind }
}

fn actions_for(kind: &str) -> Vec<ActionForm> {
    let a = |name, label, fields| ActionForm {
        name,
        label,
        fields,
    };
    match kind {
        "order" => vec![
            a(
                "acknowledge",
                "Acknowledge (order reference)",
                vec![field("reference", "Order reference", "text")],
            ),
            a(
                "confirm",
                "Confirm (contract formed)",
                vec![field(
                    "estimated_delivery",
                    "Estimated delivery (YYYY-MM-DD)",
                    "date",
                )],
            ),
            a(
                "decline",
                "Decline",
                vec![field("reason", "Reason", "text")],
            ),
            a(
                "unavailable",
                "Unavailable: withdraw and refund at once",
                vec![],
            ),
            a("delivered", "Last item delivered", vec![]),
            a("payment_invalid", "Payment method invalid", vec![]),
            a("withdraw", "Customer withdraws (statutory)", vec![]),
            a("goods_returned", "Goods are back", vec![]),
            a("dispatch_proven", "Proof of dispatch received", vec![]),
            a("refunded", "Refund paid", vec![]),
        ],
        "membership" => vec![
            a(
                "activate",
                "Activate on a device",
                vec![field("device", "Device", "text")],
            ),
            a("cancel", "Customer cancels (end of period)", vec![]),
            a("payment_failed", "Renewal payment failed", vec![]),
            a("payment_recovered", "Payment recovered", vec![]),
            a("terminate", "Seller terminates (with notice)", vec![]),
            a(
                "reactivate",
                "Reactivate",
                vec![field("price", "Price per period (e.g. 9.99 EUR)", "text")],
            ),
            a("payment_invalid", "Payment method invalid", vec![]),
            a("withdraw", "Customer withdraws (statutory)", vec![]),
            a("refunded", "Refund paid", vec![]),
        ],
        "return" => vec![
            a(
                "issue_rma",
                "Issue the RMA",
                vec![field("rma", "RMA number", "text")],
            ),
            a("shipped", "Customer shipped the goods", vec![]),
            a(
                "received",
                "Goods received: compute the refund",
                vec![
                    field(
                        "items",
                        "Items as JSON, e.g. [{\"price_paid\": \"199.00 EUR\"}]",
                        "json",
                    ),
                    field(
                        "original_shipping",
                        "Original shipping (e.g. 4.00 EUR)",
                        "text",
                    ),
                    field(
                        "partial_bundle_discount",
                        "Lost bundle discount (optional)",
                        "text",
                    ),
                ],
            ),
            a("refunded", "Refund paid", vec![]),
        ],
        _ => vec![],
    }
}

#[derive(Template)]
#[template(path = "console/contract.html")]
struct ContractPage {
    chrome: Chrome,
    nav: &'static str,
    id: String,
    c: ContractRow,
    facts: Vec<(String, String)>,
    actions: Vec<ActionForm>,
    error: Option<String>,
}

fn contract_page(
    chrome: Chrome,
    view: &ContractView,
    now: Timestamp,
    error: Option<String>,
) -> ContractPage {
    let mut facts: Vec<(String, String)> = view
        .key_dates
        .iter()
        .filter(|d| d.name != "created_at")
        .map(|d| (d.name.replace('_', " "), day(d.at)))
        .collect();
    facts.extend(
        view.amounts
            .iter()
            .map(|a| (a.name.replace('_', " "), a.amount.clone())),
    );
    if let Some(n) = view.next_due {
        facts.push(("clock job next looks at it".into(), day(n)));
    }
    ContractPage {
        chrome,
        nav: "contracts",
        id: view.id.to_string(),
        c: contract_row(view, now),
        facts,
        actions: actions_for(view.kind),
        error,
    }
}

/// `GET /console/contracts/{id}`.
pub async fn detail<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = custos_store::Uuid::parse_str(&id) else {
        return super::not_found(&state, &mut v, "contract");
    };
    let st = Arc::clone(&state);
    match blocking(move || st.vault.contract_view(&actor.tenant, id)).await {
        Some(Ok(view)) => {
            let chrome = v.chrome(&state, "Contract");
            let page = contract_page(chrome, &view, state.vault.now(), None);
            v.finish(render(StatusCode::OK, &page))
        }
        Some(Err(custos_core::VaultError::ContractNotFound)) => {
            super::not_found(&state, &mut v, "contract")
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

/// The action form: its name, token and whichever fields it has.
#[derive(Debug, serde::Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: std::collections::BTreeMap<String, String>,
}

/// The engine's typed action from the form's fields: empty fields are left out, the
/// items of a return are JSON.
fn parse_action(
    fields: &std::collections::BTreeMap<String, String>,
) -> Option<custos_core::contracts::ContractAction> {
    let mut obj = serde_json::Map::new();
    for (k, v) in fields {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let value = if k == "items" {
            serde_json::from_str(v).ok()?
        } else {
            serde_json::Value::String(v.to_owned())
        };
        obj.insert(k.clone(), value);
    }
    serde_json::from_value(serde_json::Value::Object(obj)).ok()
}

/// `POST /console/contracts/{id}`: one action; refusals are shown on the page.
pub async fn act<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    form: Result<axum::extract::Form<ActForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (mut v, actor, form) = match super::admin_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = custos_store::Uuid::parse_str(&id) else {
        return super::not_found(&state, &mut v, "contract");
    };
    let parsed = parse_action(&form.fields);
    let c = custos_core::vault::RequestCtx {
        request_id: headers
            .get("x-request-id")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
        idempotency: None,
    };
    let st = Arc::clone(&state);
    let result = blocking(move || {
        let refused = |e: custos_core::VaultError| {
            st.vault
                .contract_view(&actor.tenant, id)
                .map(|view| Err((view, e)))
        };
        match parsed {
            None => refused(custos_core::VaultError::Invalid(vec![custos_core::FieldError {
                pointer: "/action".into(),
                code: "CONSOLE-0001",
                detail: "the fields do not fit this action (dates as YYYY-MM-DD, items as a JSON list)".into(),
            }])),
            Some(action) => match st.vault.act_on_contract(&actor, id, &action, &c) {
                Ok(view) => Ok(Ok(view)),
                Err(e @ custos_core::VaultError::Invalid(_)) => refused(e),
                Err(e) => Err(e),
            },
        }
    })
    .await;
    match result {
        Some(Ok(Ok(_))) => {
            v.flash(
                &state,
                "Done; the customer is told what the terms say they are owed.",
            );
            v.see_other(&format!("/console/contracts/{id}"))
        }
        Some(Ok(Err((view, e)))) => {
            let chrome = v.chrome(&state, "Contract");
            let page = contract_page(chrome, &view, state.vault.now(), super::problems_text(&e));
            v.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Some(Err(custos_core::VaultError::ContractNotFound)) => {
            super::not_found(&state, &mut v, "contract")
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

csrf_forms!(ActForm);
