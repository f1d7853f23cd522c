//! `/v1/orders`, `/v1/memberships`, `/v1/returns` over real HTTP, on a tenant whose
//! policy has contract terms (Plume Design's terms of sale).

use std::sync::Arc;

use axum::http::StatusCode;
use custos_core::api_keys::{self, KeySpec};
use custos_core::clock::TestClock;
use custos_core::consent::Ledger;
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::Vault;
use custos_crypto::{KeyFile, KeyRing};
use custos_server::{AppState, RateLimiter};
use custos_store::{RequestStore, SubjectId, TenantId, Timestamp, Uuid};
use custos_store_sqlite::SqliteStore;
use serde_json::{Value, json};

use super::{App, assert_problem};

const TERMS: &str = include_str!("../../../../policies/plume-design-terms.toml");

fn terms_app() -> App {
    let start: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
    let clock = Arc::new(TestClock::at(start));
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let keyfile = KeyFile::generate(&start.to_string()).unwrap();
    let keys = Arc::new(KeyRing::from_keyfile(&keyfile));
    let tenant = TenantId::new("plume-design").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Plume Design", start).unwrap();
    publish_policy(store.as_ref(), &tenant, TERMS, "terms.toml", start, start).unwrap();
    let issue = |role: &str, admin: bool| {
        let spec = KeySpec {
            label: format!("{role} key"),
            role: role.to_owned(),
            purposes: Vec::new(),
            admin,
        };
        api_keys::issue(store.as_ref(), &keys, &tenant, &spec, "operator", start)
            .unwrap()
            .token
            .as_str()
            .to_owned()
    };
    let admin = issue("support", true);
    let support = issue("support", false);
    let vault = Arc::new(Vault::new(
        Arc::clone(&store),
        Arc::clone(&keys),
        Arc::clone(&clock) as Arc<dyn custos_core::clock::Clock>,
        Arc::new(Ledger::new(Arc::clone(&store))),
    ));
    let state = AppState::new(vault, RateLimiter::new(100_000, 100_000));
    let router = custos_server::router(Arc::clone(&state));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    App {
        addr,
        keys,
        store,
        clock,
        tenant,
        admin,
        sales: support.clone(),
        marketing: support.clone(),
        tech: support,
        state,
    }
}

async fn person(app: &App, email: &str) -> String {
    let (s, _) = app
        .create(&json!({ "records": [
            { "category": "user.contact.email", "value": email, "purpose": "account" } ] }))
        .await;
    s
}

fn brussels() -> Value {
    json!({ "jurisdiction": "BE", "time_zone": "Europe/Brussels" })
}

#[tokio::test]
async fn an_order_is_placed_confirmed_and_withdrawn_over_http() {
    let app = terms_app();
    let alice = person(&app, "alice@example.com").await;
    let admin = Some(app.admin.as_str());
    let r = app
        .post(
            "/v1/orders",
            admin,
            &json!({ "subject": alice, "customer": brussels(), "shipping": "5.00 EUR",
                     "lines": [{ "sku": "superpod", "quantity": 2, "unit_price": "99.00 EUR" }],
                     "payment_ref": "psp_pi_1" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let order = r.json();
    assert_eq!(order["kind"], "order");
    assert_eq!(order["status"], "placed");
    let id = order["id"].as_str().unwrap().to_owned();
    let actions = format!("/v1/orders/{id}/actions");
    for (body, status) in [
        (
            json!({ "action": "acknowledge", "reference": "PO-7" }),
            "acknowledged",
        ),
        (
            json!({ "action": "confirm", "estimated_delivery": "2026-03-09" }),
            "confirmed",
        ),
        (json!({ "action": "delivered" }), "delivered"),
        (json!({ "action": "withdraw" }), "withdrawn"),
    ] {
        let r = app.post(&actions, admin, &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["status"], status);
    }
    let r = app.get(&format!("/v1/orders/{id}"), admin).await;
    let v = r.json();
    assert_eq!(v["reference"], "PO-7");
    assert_eq!(
        v["amounts"][0],
        json!({ "name": "total", "amount": "203.00 EUR" })
    );
    assert_eq!(v["may_withdraw"], false);

    let r = app.get(&format!("/v1/orders?subject={alice}"), admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["contracts"].as_array().unwrap().len(), 1);
    let r = app.get("/v1/orders?status=placed", admin).await;
    assert!(r.json()["contracts"].as_array().unwrap().is_empty());
    // The same id is not a membership.
    let r = app.get(&format!("/v1/memberships/{id}"), admin).await;
    assert_problem(&r, 404, "CONTRACT-0001");

    let subject = SubjectId(Uuid::parse_str(&alice).unwrap());
    let kinds: Vec<String> = app
        .store
        .outbox_of(&app.tenant, subject)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "contract.order_acknowledged",
            "contract.order_confirmed",
            "contract.withdrawal_acknowledged"
        ]
    );
}

#[tokio::test]
async fn memberships_and_returns_answer_problems_with_stable_codes() {
    let app = terms_app();
    let alice = person(&app, "alice@example.com").await;
    let admin = Some(app.admin.as_str());
    let r = app
        .post(
            "/v1/memberships",
            admin,
            &json!({ "subject": alice, "customer": brussels(), "plan": "homepass", "price": "9.99 EUR" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = r.json();
    assert_eq!(m["status"], "awaiting_activation");
    let id = m["id"].as_str().unwrap().to_owned();
    let actions = format!("/v1/memberships/{id}/actions");
    let r = app
        .post(
            &actions,
            admin,
            &json!({ "action": "activate", "device": "pod-1" }),
        )
        .await;
    assert_eq!(r.json()["status"], "active");
    let r = app
        .post(&actions, admin, &json!({ "action": "cancel" }))
        .await;
    assert_eq!(r.json()["status"], "cancelling");
    assert_eq!(r.json()["may_cancel"], false);

    // A second cancellation: the state does not allow it.
    let r = app
        .post(&actions, admin, &json!({ "action": "cancel" }))
        .await;
    let p = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(p["errors"][0]["code"], "CONTRACT-0105");
    // An action of another kind.
    let r = app
        .post(
            &actions,
            admin,
            &json!({ "action": "issue_rma", "rma": "R-1" }),
        )
        .await;
    assert_eq!(
        assert_problem(&r, 422, "VAULT-0001")["errors"][0]["code"],
        "CONTRACT-0109"
    );
    // An unknown action, a bad id, a bad query.
    let r = app
        .post(&actions, admin, &json!({ "action": "explode" }))
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text());
    let r = app.get("/v1/memberships/not-a-uuid", admin).await;
    assert_problem(&r, 400, "HTTP-0401");
    let r = app.get("/v1/memberships?colour=red", admin).await;
    assert_problem(&r, 400, "CONTRACT-0002");
    // Bad amount, unknown plan: the value is not echoed.
    let r = app
        .post(
            "/v1/memberships",
            admin,
            &json!({ "subject": alice, "customer": brussels(), "plan": "homepass", "price": "alice@example.com" }),
        )
        .await;
    let p = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(p["errors"][0]["code"], "CONTRACT-0102");
    assert_eq!(p["errors"][0]["pointer"], "/price");
    assert!(!r.text().contains("alice@example.com"), "{}", r.text());
    let r = app
        .post(
            "/v1/memberships",
            admin,
            &json!({ "subject": alice, "customer": brussels(), "plan": "gold", "price": "1 EUR" }),
        )
        .await;
    assert_eq!(
        assert_problem(&r, 422, "VAULT-0001")["errors"][0]["code"],
        "CONTRACT-0104"
    );

    // A return outside its window is refused; inside, accepted with its ship-by date.
    let r = app
        .post(
            "/v1/returns",
            admin,
            &json!({ "subject": alice, "customer": brussels(),
                     "delivery_confirmed_at": "2026-01-02T10:00:00Z", "possession_at": "2026-01-02T10:00:00Z" }),
        )
        .await;
    assert_eq!(
        assert_problem(&r, 422, "VAULT-0001")["errors"][0]["code"],
        "CONTRACT-0106"
    );
    let r = app
        .post(
            "/v1/returns",
            admin,
            &json!({ "subject": alice, "customer": brussels(),
                     "delivery_confirmed_at": "2026-02-25T10:00:00Z", "possession_at": "2026-02-26T10:00:00Z" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ret = r.json();
    assert_eq!(ret["status"], "notified");
    let rid = ret["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/returns/{rid}/actions"),
            admin,
            &json!({ "action": "issue_rma", "rma": "RMA-9" }),
        )
        .await;
    assert_eq!(r.json()["reference"], "RMA-9");
    let r = app.get("/v1/returns", admin).await;
    assert_eq!(r.json()["contracts"].as_array().unwrap().len(), 1);
    let r = app
        .get(&format!("/v1/returns/{}", Uuid::now_v7()), admin)
        .await;
    assert_problem(&r, 404, "CONTRACT-0001");
}

#[tokio::test]
async fn contract_routes_need_an_admin_key() {
    let app = terms_app();
    let alice = person(&app, "alice@example.com").await;
    let staff = Some(app.sales.as_str());
    let r = app
        .post(
            "/v1/memberships",
            staff,
            &json!({ "subject": alice, "customer": brussels(), "plan": "homepass", "price": "9.99 EUR" }),
        )
        .await;
    assert_problem(&r, 403, "AUTH-0003");
    for uri in ["/v1/orders", "/v1/memberships", "/v1/returns"] {
        assert_problem(&app.get(uri, staff).await, 403, "AUTH-0003");
        assert_eq!(app.get(uri, None).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.store
            .contracts(&app.tenant, &Default::default())
            .unwrap()
            .len(),
        0
    );
}

use custos_store::ContractStore;

#[tokio::test]
async fn a_price_change_is_announced_and_cancelled_for_over_http() {
    let app = terms_app();
    let alice = person(&app, "alice@example.com").await;
    let admin = Some(app.admin.as_str());
    let r = app
        .post(
            "/v1/memberships",
            admin,
            &json!({ "subject": alice, "customer": brussels(), "plan": "workpass", "price": "9.99 EUR" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let actions = format!("/v1/memberships/{id}/actions");

    // An unknown kind and too short a notice: stable code, the field named.
    let r = app
        .post(
            &actions,
            admin,
            &json!({ "action": "announce_change", "kind": "colour", "effective": "2026-05-01", "new_price": "12.99 EUR" }),
        )
        .await;
    let p = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(p["errors"][0]["code"], "CONTRACT-0111");
    assert_eq!(p["errors"][0]["pointer"], "/kind");
    let r = app
        .post(
            &actions,
            admin,
            &json!({ "action": "announce_change", "kind": "price", "effective": "2026-03-20", "new_price": "12.99 EUR" }),
        )
        .await;
    let p = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(p["errors"][0]["code"], "CONTRACT-0111");
    assert_eq!(p["errors"][0]["pointer"], "/effective");

    let r = app
        .post(
            &actions,
            admin,
            &json!({ "action": "announce_change", "kind": "price", "effective": "2026-05-01", "new_price": "12.99 EUR" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert!(
        v["key_dates"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "change_effective", "at": "2026-04-30T22:00:00Z" })),
        "{v}"
    );
    assert!(
        v["amounts"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "new_price", "amount": "12.99 EUR" }))
    );
    assert_eq!(v["change_needs_acceptance"], false);
    assert_eq!(v["may_accept_change"], false);
    assert_eq!(v["may_cancel_for_change"], true);
    // A Belgian consumer's change needs no acceptance.
    let r = app
        .post(&actions, admin, &json!({ "action": "accept_change" }))
        .await;
    assert_eq!(
        assert_problem(&r, 422, "VAULT-0001")["errors"][0]["code"],
        "CONTRACT-0105"
    );
    let r = app
        .post(&actions, admin, &json!({ "action": "cancel_for_change" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "cancelling");
    assert!(
        v["key_dates"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "cancel_effective", "at": "2026-04-30T22:00:00Z" })),
        "ends when the change would take effect, inside the initial term: {v}"
    );

    let subject = SubjectId(Uuid::parse_str(&alice).unwrap());
    let kinds: Vec<String> = app
        .store
        .outbox_of(&app.tenant, subject)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "contract.renewal_charge",
            "contract.change_announced",
            "contract.cancellation_confirmed"
        ]
    );
}
