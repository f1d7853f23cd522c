//! The HTTP API over real HTTP: each test starts the server on an ephemeral loopback
//! port (over a temporary SQLite store, a test clock and the Plume SASU policy) and
//! talks to it with an HTTP/1.1 client, as an application would.

// Test helpers may panic: a failed expectation is the point of a test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::sync::Arc;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use custos_core::api_keys::{self, KeySpec};
use custos_core::clock::TestClock;
use custos_core::consent::Ledger;
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::Vault;
use custos_crypto::{KeyFile, KeyRing};
use custos_server::{AppState, RateLimiter};
use custos_store::{Outcome, Store, TenantId, Timestamp};
use custos_store_sqlite::SqliteStore;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use jiff::SignedDuration;
use serde_json::{Value, json};

mod account_closure;
mod consent_gates;
mod contracts;
mod hardening;

const POLICY: &str = include_str!("../../../../policies/plume-sasu.toml");

/// One running application and the handles a test needs to look behind it.
struct App {
    addr: SocketAddr,
    keys: Arc<KeyRing>,
    store: Arc<SqliteStore>,
    clock: Arc<TestClock>,
    tenant: TenantId,
    admin: String,
    /// `sales_order_delivery`: account, payment_and_delivery, maintenance, legal obligations.
    sales: String,
    /// `marketing_communication`: consent purposes only.
    marketing: String,
    /// `technical_services`: account and maintenance, not payment.
    tech: String,
    state: Arc<AppState<SqliteStore>>,
}

fn app() -> App {
    app_with(RateLimiter::new(100_000, 100_000))
}

fn app_with(limiter: RateLimiter) -> App {
    app_behind(
        limiter,
        custos_server::EdgeLimits::default(),
        custos_server::ConnLimits::default(),
    )
}

/// An application behind a proxy that names the client in `X-Forwarded-For` (tests
/// play several clients by sending it; without it the client is the TCP peer).
fn app_behind(
    limiter: RateLimiter,
    edge: custos_server::EdgeLimits,
    conn: custos_server::ConnLimits,
) -> App {
    let start: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
    let clock = Arc::new(TestClock::at(start));
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let keyfile = KeyFile::generate(&start.to_string()).unwrap();
    let keys = Arc::new(KeyRing::from_keyfile(&keyfile));
    let tenant = TenantId::new("plume").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Plume", start).unwrap();
    publish_policy(
        store.as_ref(),
        &tenant,
        POLICY,
        "plume-sasu.toml",
        start,
        start,
    )
    .unwrap();
    let issue = |role: &str, admin: bool| {
        let spec = KeySpec {
            label: format!("{role} key"),
            role: role.to_owned(),
            purposes: Vec::new(),
            admin,
        };
        api_keys::issue(store.as_ref(), &keys, &tenant, &spec, "operator", start).unwrap()
    };
    let admin = issue("admin", true);
    let sales = issue("sales_order_delivery", false);
    let marketing = issue("marketing_communication", false);
    let tech = issue("technical_services", false);
    let vault = Arc::new(Vault::new(
        Arc::clone(&store),
        Arc::clone(&keys),
        Arc::clone(&clock) as Arc<dyn custos_core::clock::Clock>,
        Arc::new(Ledger::new(Arc::clone(&store))),
    ));
    let state = AppState::behind(
        vault,
        limiter,
        tenant.clone(),
        Some(custos_server::HeaderName::from_static("x-forwarded-for")),
        edge,
    );
    let router = custos_server::router(Arc::clone(&state));
    // Each test gets its own server on an ephemeral port; it stops with the test's runtime.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move {
        custos_server::serve_connections(listener, router, None, conn, std::future::pending())
            .await
            .unwrap()
    });
    App {
        addr,
        keys,
        store,
        clock,
        tenant,
        admin: admin.token.as_str().to_owned(),
        sales: sales.token.as_str().to_owned(),
        marketing: marketing.token.as_str().to_owned(),
        tech: tech.token.as_str().to_owned(),
        state,
    }
}

/// What came back.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl App {
    async fn send(&self, mut req: Request<Body>) -> Reply {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        if let Ok(host) = self.addr.to_string().parse() {
            req.headers_mut().insert(header::HOST, host);
        }
        let resp = sender.send_request(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> Reply {
        self.send(request("GET", uri, token).body(Body::empty()).unwrap())
            .await
    }

    async fn post(&self, uri: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(
            request("POST", uri, token)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// Creates a subject (as admin) and returns its id and record ids.
    async fn create(&self, body: &Value) -> (String, Vec<String>) {
        let r = self.post("/v1/subjects", Some(&self.admin), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let v = r.json();
        let records = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect();
        (v["subject"].as_str().unwrap().to_owned(), records)
    }

    fn subjects(&self) -> u64 {
        self.store.counts(&self.tenant).unwrap().subjects
    }
}

fn request(method: &str, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
    let b = Request::builder().method(method).uri(uri);
    match token {
        Some(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => b,
    }
}

/// A customer as the shop records it: account data, a browsing trace (marketing)
/// and a payment reference (payment).
/// A customer who ticked the marketing box on the sign-up form: the write carries
/// that consent, so the browsing history collected for marketing may be kept (P0-1).
fn customer(name: &str) -> Value {
    let mut body = customer_without_marketing(name);
    body["records"].as_array_mut().unwrap().insert(
        2,
        json!({ "category": "user.behavior.browsing_history", "value": "/shop/bikes", "purpose": "targeted_marketing", "source": "cookies" }),
    );
    body["consents"] = json!([{
        "purpose": "targeted_marketing",
        "notice_text": "Send me offers based on what I browse",
        "channel": "web"
    }]);
    body
}

/// A customer who did not tick the marketing box: nothing is collected for it.
fn customer_without_marketing(name: &str) -> Value {
    json!({
        "jurisdiction": "FR",
        "records": [
            { "category": "user.name", "value": name, "purpose": "account" },
            { "category": "user.contact.email", "value": "camille.martin@example.fr", "purpose": "account" },
            { "category": "user.financial.payment_reference", "value": "pay_8Hq2Lx", "purpose": "payment_and_delivery", "source": "third_party" }
        ]
    })
}

/// Checks the RFC 9457 shape every failure must have, and returns the body.
fn assert_problem(r: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{} {}",
        r.status,
        r.text()
    );
    let v = r.json();
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["type"], format!("urn:custos:problem:{code}"), "{v}");
    assert_eq!(v["status"], status, "{v}");
    let rid = v["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no request_id in {v}"));
    assert!(!rid.is_empty());
    assert_eq!(r.header("x-request-id"), Some(rid), "header and body agree");
    v
}

/// What a problem document says, without its request id: the id is random hex
/// and may contain any short run of digits a test looks for.
fn spoken(r: &Reply) -> String {
    let mut v: Value = serde_json::from_str(&r.text()).unwrap();
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
    v.to_string()
}

/// `(item[a], item[b])` for each item of a JSON array.
fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w[a].as_str().unwrap().to_owned(),
                w[b].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn withheld(v: &Value) -> BTreeMap<String, String> {
    pairs(&v["withheld"], "category", "reason")
        .into_iter()
        .collect()
}

fn value_categories(v: &Value) -> Vec<String> {
    let mut c: Vec<String> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["category"].as_str().unwrap().to_owned())
        .collect();
    c.sort();
    c
}

// ---------------------------------------------------------------------------------------
// Purpose-bound reads

#[tokio::test]
async fn a_read_returns_exactly_the_categories_of_its_purpose() {
    let app = app();
    let (id, _) = app.create(&customer("Camille Martin")).await;

    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=account"),
            Some(&app.tech),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["subject"], id.as_str());
    assert_eq!(v["purpose"], "account");
    assert_eq!(
        value_categories(&v),
        ["user.contact.email", "user.name"],
        "{v}"
    );
    let name = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["category"] == "user.name")
        .unwrap();
    assert_eq!(name["value"], "Camille Martin");
    assert_eq!(name["collected_for"], "account");
    assert_eq!(
        withheld(&v),
        BTreeMap::from([
            (
                "user.behavior.browsing_history".to_owned(),
                "not_for_purpose".to_owned()
            ),
            (
                "user.financial.payment_reference".to_owned(),
                "not_for_purpose".to_owned()
            ),
        ])
    );
    assert!(!r.text().contains("/shop/bikes") && !r.text().contains("pay_8Hq2Lx"));

    // Another role, another purpose: the payment reference, not the browsing trace.
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=payment_and_delivery"),
            Some(&app.sales),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(
        value_categories(&v),
        [
            "user.contact.email",
            "user.financial.payment_reference",
            "user.name"
        ]
    );
    assert_eq!(
        withheld(&v),
        BTreeMap::from([(
            "user.behavior.browsing_history".to_owned(),
            "not_for_purpose".to_owned()
        )])
    );
}

#[tokio::test]
async fn a_consent_purpose_without_consent_returns_nothing() {
    let app = app();
    let (id, _) = app
        .create(&customer_without_marketing("Camille Martin"))
        .await;
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=targeted_marketing"),
            Some(&app.marketing),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["values"], json!([]), "{v}");
    let w = withheld(&v);
    assert_eq!(w.len(), 3, "{v}");
    assert!(w.values().all(|reason| reason == "no_consent"), "{v}");
    for secret in ["Camille", "example.fr", "pay_8Hq2Lx"] {
        assert!(!r.text().contains(secret), "{secret} leaked");
    }
    // The refusal is in the audit log.
    let audit = app.store.audit_entries(&app.tenant, 1, 1000).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.draft.action, "read");
    assert_eq!(last.draft.outcome, Outcome::Deny);
    assert_eq!(last.draft.purpose.as_deref(), Some("targeted_marketing"));
}

#[tokio::test]
async fn a_role_outside_the_purpose_is_refused_and_the_refusal_audited() {
    let app = app();
    let (id, _) = app.create(&customer("Camille Martin")).await;
    let before = app.store.audit_entries(&app.tenant, 1, 1000).unwrap().len();
    let r = app
        .send(
            request(
                "GET",
                &format!("/v1/subjects/{id}?purpose=payment_and_delivery"),
                Some(&app.tech),
            )
            .header("x-request-id", "deny-check-1")
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    let v = assert_problem(&r, 403, "VAULT-0003");
    assert_eq!(v["request_id"], "deny-check-1");
    assert!(!r.text().contains("Camille"));
    let audit = app.store.audit_entries(&app.tenant, 1, 1000).unwrap();
    assert_eq!(audit.len(), before + 1);
    let e = &audit.last().unwrap().draft;
    assert_eq!(e.outcome, Outcome::Deny);
    assert_eq!(e.action, "read");
    assert_eq!(e.purpose.as_deref(), Some("payment_and_delivery"));
    assert_eq!(e.subject.map(|s| s.to_string()), Some(id.clone()));
    assert_eq!(e.reason, "VAULT-0003");
    assert_eq!(e.request_id.as_deref(), Some("deny-check-1"));
}

#[tokio::test]
async fn bad_reads_fail_with_a_problem_document() {
    let app = app();
    let (id, _) = app.create(&customer("Camille Martin")).await;

    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=astrology"),
            Some(&app.tech),
        )
        .await;
    assert_problem(&r, 422, "VAULT-0002");

    let r = app
        .get(&format!("/v1/subjects/{id}"), Some(&app.tech))
        .await;
    assert_problem(&r, 400, "HTTP-0403");
    let r = app
        .get(&format!("/v1/subjects/{id}?purpose="), Some(&app.tech))
        .await;
    assert_problem(&r, 400, "HTTP-0403");

    let r = app
        .get("/v1/subjects/not-a-uuid?purpose=account", Some(&app.tech))
        .await;
    assert_problem(&r, 400, "HTTP-0401");

    let unknown = uuid::Uuid::now_v7();
    let r = app
        .get(
            &format!("/v1/subjects/{unknown}?purpose=account"),
            Some(&app.tech),
        )
        .await;
    assert_problem(&r, 404, "VAULT-0005");

    // Paths and methods the router does not know are problems too.
    let r = app.get("/v1/nothing-here", Some(&app.tech)).await;
    assert_problem(&r, 404, "HTTP-0404");
    let r = app
        .send(
            request("PUT", "/v1/subjects", Some(&app.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_problem(&r, 405, "HTTP-0405");
    assert_eq!(r.header("allow"), Some("POST"));
    // A query string axum cannot decode: a problem, and its own message (which
    // may quote the input) is not passed on.
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=account&purpose=contact"),
            Some(&app.tech),
        )
        .await;
    assert_problem(&r, 400, "HTTP-0400");
    assert!(!r.text().contains("contact"), "{}", r.text());
    // A path segment that is not UTF-8.
    let r = app
        .get("/v1/subjects/%FF%FE?purpose=account", Some(&app.tech))
        .await;
    assert_problem(&r, 400, "HTTP-0400");
    let r = app
        .get("/v1/policy/notice?format=pdf", Some(&app.tech))
        .await;
    assert_problem(&r, 400, "HTTP-0406");
}

#[tokio::test]
async fn records_are_added_and_found_by_email() {
    let app = app();
    let (id, _) = app.create(&customer("Camille Martin")).await;
    let add = json!({ "records": [
        { "category": "user.contact.phone_number", "value": "+33612345678", "purpose": "account" }
    ] });
    let r = app
        .post(
            &format!("/v1/subjects/{id}/records"),
            Some(&app.sales),
            &add,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["subject"], id.as_str());
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=account"),
            Some(&app.tech),
        )
        .await;
    assert!(value_categories(&r.json()).contains(&"user.contact.phone_number".to_owned()));

    // A role may not write for a purpose it does not serve.
    let r = app
        .post(
            &format!("/v1/subjects/{id}/records"),
            Some(&app.marketing),
            &add,
        )
        .await;
    assert_problem(&r, 403, "VAULT-0003");
    let unknown = uuid::Uuid::now_v7();
    let r = app
        .post(
            &format!("/v1/subjects/{unknown}/records"),
            Some(&app.sales),
            &add,
        )
        .await;
    assert_problem(&r, 404, "VAULT-0005");

    // Lookup by e-mail: normalised, and in the body rather than the URL.
    let find = json!({ "category": "user.contact.email", "value": " Camille.Martin@EXAMPLE.fr ", "purpose": "account" });
    let r = app.post("/v1/lookup", Some(&app.sales), &find).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["subjects"], json!([id]));
    let r = app.post("/v1/lookup", Some(&app.marketing), &find).await;
    assert_problem(&r, 403, "VAULT-0003");
    let r = app
        .post(
            "/v1/lookup",
            Some(&app.sales),
            &json!({ "category": "user.name", "value": "Camille Martin", "purpose": "account" }),
        )
        .await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(v["errors"][0]["pointer"], "/category");
    assert!(!r.text().contains("Camille"));
}

#[tokio::test]
async fn the_request_id_is_echoed_or_generated() {
    let app = app();
    let r = app
        .send(
            request("GET", "/v1/policy", Some(&app.tech))
                .header("x-request-id", "client-chosen_42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-request-id"), Some("client-chosen_42"));

    let a = app.get("/v1/policy", Some(&app.tech)).await;
    let b = app.get("/v1/policy", Some(&app.tech)).await;
    let (a, b) = (
        a.header("x-request-id").unwrap(),
        b.header("x-request-id").unwrap(),
    );
    assert!(uuid::Uuid::parse_str(a).is_ok(), "{a}");
    assert_ne!(a, b);

    // An id that could smuggle text into logs is replaced, not echoed.
    let r = app
        .send(
            request("GET", "/v1/policy", Some(&app.tech))
                .header("x-request-id", "a b\"<script>")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(uuid::Uuid::parse_str(r.header("x-request-id").unwrap()).is_ok());
}

// ---------------------------------------------------------------------------------------
// Authentication and authorisation

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthorized() {
    let app = app();
    let r = app.get("/v1/policy", None).await;
    let v = assert_problem(&r, 401, "AUTH-0001");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(v["detail"].as_str().unwrap().contains("Bearer"));

    let r = app
        .send(
            Request::get("/v1/policy")
                .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_problem(&r, 401, "AUTH-0001");

    // The scheme is case-insensitive.
    let r = app
        .send(
            Request::get("/v1/policy")
                .header(header::AUTHORIZATION, format!("bearer {}", app.tech))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Right id, wrong secret.
    let (id, secret) = app.tech.split_once('.').unwrap();
    let flipped: String = secret
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let r = app
        .get("/v1/policy", Some(&format!("{id}.{flipped}")))
        .await;
    assert_problem(&r, 401, "AUTH-0002");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // Unknown id.
    let r = app
        .get("/v1/policy", Some(&format!("ck_0000000000000000.{secret}")))
        .await;
    assert_problem(&r, 401, "AUTH-0002");
}

#[tokio::test]
async fn a_revoked_key_stops_working() {
    let app = app();
    let r = app.get("/v1/policy", Some(&app.tech)).await;
    assert_eq!(r.status, StatusCode::OK);
    let tech_id = app.tech.split_once('.').unwrap().0.to_owned();

    // Only admins revoke.
    let r = app
        .send(
            request("DELETE", &format!("/v1/keys/{tech_id}"), Some(&app.sales))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_problem(&r, 403, "AUTH-0003");

    let r = app
        .send(
            request("DELETE", &format!("/v1/keys/{tech_id}"), Some(&app.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app.get("/v1/policy", Some(&app.tech)).await;
    assert_problem(&r, 401, "AUTH-0002");
    // Other keys are unaffected.
    let r = app.get("/v1/policy", Some(&app.sales)).await;
    assert_eq!(r.status, StatusCode::OK);

    let r = app.get("/v1/keys", Some(&app.admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    let keys = r.json();
    let listed = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == tech_id.as_str())
        .unwrap();
    assert!(!listed["revoked_at"].is_null());
    assert!(
        !r.text().contains(app.tech.split_once('.').unwrap().1),
        "secrets are never listed"
    );

    let r = app
        .send(
            request("DELETE", "/v1/keys/ck_ffffffffffffffff", Some(&app.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_problem(&r, 422, "VAULT-0001");
}

#[tokio::test]
async fn only_admins_issue_keys_and_issued_keys_work() {
    let app = app();
    let body = json!({ "role": "sales_order_delivery", "purposes": ["account"] });
    let r = app.post("/v1/keys", Some(&app.sales), &body).await;
    assert_problem(&r, 403, "AUTH-0003");

    let r = app.post("/v1/keys", Some(&app.admin), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_owned();

    // The new key is limited to `account`.
    let (id, _) = app.create(&customer("Camille Martin")).await;
    let r = app
        .get(&format!("/v1/subjects/{id}?purpose=account"), Some(&token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=payment_and_delivery"),
            Some(&token),
        )
        .await;
    assert_problem(&r, 403, "VAULT-0004");

    let r = app
        .post(
            "/v1/keys",
            Some(&app.admin),
            &json!({ "role": "nosuchrole", "purposes": ["nosuchpurpose"] }),
        )
        .await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    let pointers: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/role", "/purposes/0"]);
}

// ---------------------------------------------------------------------------------------
// Validation of writes

#[tokio::test]
async fn a_bad_write_lists_every_problem_and_echoes_no_value() {
    let app = app();
    let before = app.store.counts(&app.tenant).unwrap();
    let secrets = [
        "4111 1111 1111 1111",
        "738",
        "12/29",
        "Cassiopee-Unknown",
        "not-an-email-at-all",
    ];
    let body = json!({
        "records": [
            { "category": "user.name", "value": "Camille Martin", "purpose": "account" },
            { "category": "user.account.profile", "value": "pay me back on 4111 1111 1111 1111 please", "purpose": "account" },
            { "category": "user.account.profile", "value": { "note": "ok", "cvv": "738" }, "purpose": "account" },
            { "category": "user.financial.card_expiry", "value": "12/29", "purpose": "card_payment" },
            { "category": "user.horoscope", "value": "Cassiopee-Unknown", "purpose": "account" },
            { "category": "user.contact.email", "value": "not-an-email-at-all", "purpose": "account" }
        ]
    });
    let r = app
        .send(
            request("POST", "/v1/subjects", Some(&app.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-request-id", "validation-1")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    let errors: Vec<(String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = [
        ("/records/1/value", "VAULT-0103"),     // card number in free text
        ("/records/2/value/cvv", "VAULT-0104"), // CVV-named field
        ("/records/3/category", "VAULT-0102"),  // never stored
        ("/records/4/category", "VAULT-0101"),  // unknown category
        ("/records/5/value", "VAULT-0105"),     // not an email
    ];
    for (pointer, code) in expect {
        assert!(
            errors.iter().any(|(p, c)| p == pointer && c == code),
            "{pointer} {code} missing from {errors:?}"
        );
    }
    assert!(
        !errors.iter().any(|(p, _)| p.starts_with("/records/0/")),
        "the good record is not blamed: {errors:?}"
    );
    let text = r.text();
    for secret in secrets {
        assert!(!text.contains(secret), "`{secret}` echoed in {text}");
    }
    assert!(!text.contains("4111111111111111"));
    assert!(!text.contains("Camille"));
    // Nothing was written, not even the good record.
    let after = app.store.counts(&app.tenant).unwrap();
    assert_eq!(after.subjects, before.subjects);
    assert_eq!(after.records, before.records);
}

#[tokio::test]
async fn unreadable_bodies_are_refused_without_echo() {
    let app = app();
    let before = app.subjects();

    // Not JSON at all.
    let r = app
        .send(
            request("POST", "/v1/subjects", Some(&app.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"records": [{"category": "user.name", "value": "Zephyrine Quelquechose"#,
                ))
                .unwrap(),
        )
        .await;
    assert_problem(&r, 400, "HTTP-0400");
    assert!(!r.text().contains("Zephyrine"), "{}", r.text());

    // JSON of the wrong shape: serde would quote the value.
    let r = app
        .post(
            "/v1/subjects",
            Some(&app.admin),
            &json!({ "records": "Zephyrine Quelquechose" }),
        )
        .await;
    assert_problem(&r, 400, "HTTP-0400");
    assert!(!r.text().contains("Zephyrine"), "{}", r.text());
    let r = app
        .post(
            "/v1/subjects",
            Some(&app.admin),
            &json!({ "records": [{ "category": "user.name", "value": "x", "purpose": 12345678 }] }),
        )
        .await;
    assert_problem(&r, 400, "HTTP-0400");
    assert!(!r.text().contains("12345678"), "{}", r.text());

    // Wrong media type.
    let r = app
        .send(
            request("POST", "/v1/subjects", Some(&app.admin))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(customer("Camille Martin").to_string()))
                .unwrap(),
        )
        .await;
    assert_problem(&r, 415, "HTTP-0415");

    // Over 1 MiB.
    let big = format!(
        r#"{{"records":[{{"category":"user.account.profile","purpose":"account","value":"{}"}}]}}"#,
        "a".repeat(custos_server::MAX_BODY_BYTES)
    );
    let r = app
        .send(
            request("POST", "/v1/subjects", Some(&app.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_problem(&r, 413, "HTTP-0413");

    assert_eq!(app.subjects(), before, "nothing was written");
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let app = app();
    let before = app.subjects();
    let body = customer("Camille Martin").to_string();
    let send = |body: String| {
        request("POST", "/v1/subjects", Some(&app.admin))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "order-2026-0001")
            .body(Body::from(body))
            .unwrap()
    };
    let first = app.send(send(body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = app.send(send(body)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text());
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.json()["subject"], second.json()["subject"]);
    assert_eq!(first.json()["records"], second.json()["records"]);
    assert_eq!(app.subjects(), before + 1, "one subject, not two");

    let other = app.send(send(customer("Someone Else").to_string())).await;
    assert_problem(&other, 422, "VAULT-0007");
    assert_eq!(app.subjects(), before + 1);

    let bad = app
        .send(
            request("POST", "/v1/subjects", Some(&app.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .header("idempotency-key", "")
                .body(Body::from(customer("X").to_string()))
                .unwrap(),
        )
        .await;
    assert_problem(&bad, 400, "HTTP-0402");
}

// ---------------------------------------------------------------------------------------
// Rate limits, health, metrics, documents

#[tokio::test]
async fn the_rate_limit_refuses_then_recovers_as_time_passes() {
    let app = app_with(RateLimiter::new(1, 2));
    for _ in 0..2 {
        let r = app.get("/v1/policy", Some(&app.tech)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = app.get("/v1/policy", Some(&app.tech)).await;
    assert_problem(&r, 429, "HTTP-0429");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Buckets are per key.
    let r = app.get("/v1/policy", Some(&app.sales)).await;
    assert_eq!(r.status, StatusCode::OK);

    app.clock.advance(SignedDuration::from_secs(2));
    let r = app.get("/v1/policy", Some(&app.tech)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let m = app.get("/metrics", None).await;
    assert!(
        m.text().contains("custos_rate_limited_total 1"),
        "{}",
        m.text()
    );
}

#[tokio::test]
async fn health_and_metrics_carry_no_personal_data() {
    let app = app();
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");

    let (id, _) = app.create(&customer("Camille Martin")).await;
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=account"),
            Some(&app.tech),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.get("/v1/does-not-exist", None).await;

    let r = app.get("/metrics", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    assert!(
        text.contains("# TYPE custos_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(
            r#"custos_http_requests_total{method="GET",route="/v1/subjects/{id}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"custos_http_requests_total{method="POST",route="/v1/subjects",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains(&id), "subject ids never become labels");
    assert!(
        !text.contains("does-not-exist"),
        "unknown paths are not labels"
    );
    assert!(!text.contains("Camille"));
}

/// Every route of the router, with its methods. Kept by hand on purpose: adding a
/// route means adding it here and to the OpenAPI document.
const ROUTES: [(&str, &[&str]); 44] = [
    ("/healthz", &["get"]),
    ("/metrics", &["get"]),
    ("/v1/openapi.json", &["get"]),
    ("/v1/docs", &["get"]),
    ("/v1/docs.js", &["get"]),
    ("/v1/subjects", &["post"]),
    ("/v1/subjects/{id}", &["get"]),
    ("/v1/subjects/{id}/records", &["post"]),
    ("/v1/subjects/{id}/export", &["get"]),
    ("/v1/subjects/{id}/records/{record}", &["patch"]),
    ("/v1/subjects/{id}/restriction", &["delete", "post"]),
    ("/v1/subjects/{id}/erasure", &["post"]),
    ("/v1/subjects/{id}/held", &["get"]),
    ("/v1/subjects/{id}/events", &["post"]),
    ("/v1/subjects/{id}/legal-holds", &["post"]),
    ("/v1/subjects/{id}/legal-holds/{hold}", &["delete"]),
    ("/v1/lookup", &["post"]),
    ("/v1/subjects/{id}/consents", &["get", "post"]),
    ("/v1/subjects/{id}/signals", &["post"]),
    ("/v1/subjects/{id}/settings", &["post"]),
    ("/v1/subjects/{id}/unsubscribe-tokens", &["post"]),
    ("/v1/unsubscribe/{token}", &["get", "post"]),
    ("/v1/requests", &["get", "post"]),
    ("/v1/requests/{id}", &["get"]),
    ("/v1/requests/{id}/actions", &["post"]),
    ("/v1/incidents", &["get", "post"]),
    ("/v1/incidents/{id}", &["get"]),
    ("/v1/incidents/{id}/hold", &["delete"]),
    ("/v1/orders", &["get", "post"]),
    ("/v1/orders/{id}", &["get"]),
    ("/v1/orders/{id}/actions", &["post"]),
    ("/v1/memberships", &["get", "post"]),
    ("/v1/memberships/{id}", &["get"]),
    ("/v1/memberships/{id}/actions", &["post"]),
    ("/v1/returns", &["get", "post"]),
    ("/v1/returns/{id}", &["get"]),
    ("/v1/returns/{id}/actions", &["post"]),
    ("/v1/verifications", &["post"]),
    ("/v1/verifications/{id}/check", &["post"]),
    ("/v1/policy", &["get"]),
    ("/v1/policy/notice", &["get"]),
    ("/v1/keys", &["get", "post"]),
    ("/v1/keys/{id}", &["delete"]),
    ("/v1/audit/verify", &["get"]),
];

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes() {
    let app = app();
    let r = app.get("/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();

    let mut expected: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (path, methods) in ROUTES {
        let e = expected.entry(path).or_default();
        e.extend(methods.iter().copied());
        e.sort_unstable();
        e.dedup();
    }
    let documented: BTreeMap<&str, Vec<&str>> = paths
        .iter()
        .map(|(p, item)| {
            let mut m: Vec<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(k))
                .collect();
            m.sort_unstable();
            (p.as_str(), m)
        })
        .collect();
    assert_eq!(documented, expected);
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object();
            assert!(
                responses.is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
    // Every $ref points at a schema that exists.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }

    // And each documented operation is really routed (not the fallback, not 405).
    for (path, methods) in &expected {
        let uri = path
            .replace("{id}", "0190b1c6-0000-7000-8000-000000000000")
            .replace(
                "/v1/keys/0190b1c6-0000-7000-8000-000000000000",
                "/v1/keys/ck_x",
            );
        for method in methods {
            let r = app
                .send(
                    request(&method.to_uppercase(), &uri, None)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            // The unsubscribe page answers an invalid token with its own 404 page: routed.
            let own_404 = r.status == StatusCode::NOT_FOUND && r.text().contains("not valid");
            assert!(
                own_404
                    || (r.status != StatusCode::NOT_FOUND
                        && r.status != StatusCode::METHOD_NOT_ALLOWED),
                "{method} {uri}: {} {}",
                r.status,
                r.text()
            );
        }
    }
}

#[tokio::test]
async fn the_docs_page_loads_nothing_from_elsewhere() {
    let app = app();
    let r = app.get("/v1/docs", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");
    let html = r.text();
    assert!(html.contains("/v1/openapi.json"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let js = app.get("/v1/docs.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(!js.text().contains("http://") && !js.text().contains("https://"));
}

// ---------------------------------------------------------------------------------------
// Audit and integrity

#[tokio::test]
async fn the_audit_chain_verifies() {
    let app = app();
    let (id, _) = app.create(&customer("Camille Martin")).await;
    app.get(
        &format!("/v1/subjects/{id}?purpose=account"),
        Some(&app.tech),
    )
    .await;
    let r = app.get("/v1/audit/verify", Some(&app.tech)).await;
    assert_problem(&r, 403, "AUTH-0003");
    let r = app.get("/v1/audit/verify", Some(&app.admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["valid"], true, "{v}");
    // Four keys issued, one write, one read.
    assert!(v["entries"].as_u64().unwrap() >= 6, "{v}");
    assert_eq!(v["head"].as_str().unwrap().len(), 64);
}

fn db(app: &App) -> rusqlite::Connection {
    rusqlite::Connection::open(app.store.path()).unwrap()
}

fn ciphertext(conn: &rusqlite::Connection, record: &str) -> Vec<u8> {
    conn.query_row(
        "SELECT ciphertext FROM records WHERE tenant = ?1 AND id = ?2",
        ["plume", record],
        |row| row.get(0),
    )
    .unwrap()
}

fn set_ciphertext(conn: &rusqlite::Connection, record: &str, blob: &[u8]) {
    let n = conn
        .execute(
            "UPDATE records SET ciphertext = ?1 WHERE tenant = 'plume' AND id = ?2",
            rusqlite::params![blob, record],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn an_altered_ciphertext_is_an_integrity_error_not_wrong_data() {
    let app = app();
    let (id, records) = app
        .create(&customer_without_marketing("Camille Martin"))
        .await;
    let name_record = &records[0];
    let conn = db(&app);
    let mut blob = ciphertext(&conn, name_record);
    let last = blob.len() - 1;
    blob[last] ^= 0x01;
    set_ciphertext(&conn, name_record, &blob);
    // A byte in the middle, on the e-mail record.
    let mut blob = ciphertext(&conn, &records[1]);
    let mid = blob.len() / 2;
    blob[mid] ^= 0x80;
    set_ciphertext(&conn, &records[1], &blob);

    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=account"),
            Some(&app.tech),
        )
        .await;
    let v = assert_problem(&r, 500, "VAULT-0009");
    assert!(v.get("errors").is_none());
    assert!(!r.text().contains("Camille") && !r.text().contains("example.fr"));

    // Categories not opened for this purpose are not affected.
    let r = app
        .get(
            &format!("/v1/subjects/{id}?purpose=targeted_marketing"),
            Some(&app.marketing),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn ciphertexts_moved_between_subjects_do_not_open() {
    let app = app();
    let (alice, a_records) = app.create(&customer("Alice Aubert")).await;
    let (bruno, b_records) = app.create(&customer("Bruno Berger")).await;
    let conn = db(&app);
    let a = ciphertext(&conn, &a_records[0]);
    let b = ciphertext(&conn, &b_records[0]);
    set_ciphertext(&conn, &a_records[0], &b);
    set_ciphertext(&conn, &b_records[0], &a);

    for (id, other) in [(&alice, "Bruno"), (&bruno, "Alice")] {
        let r = app
            .get(
                &format!("/v1/subjects/{id}?purpose=account"),
                Some(&app.sales),
            )
            .await;
        assert_problem(&r, 500, "VAULT-0009");
        assert!(!r.text().contains(other), "{}", r.text());
    }

    // Swapping back restores both: the data itself was never lost.
    set_ciphertext(&conn, &a_records[0], &a);
    set_ciphertext(&conn, &b_records[0], &b);
    let r = app
        .get(
            &format!("/v1/subjects/{alice}?purpose=account"),
            Some(&app.sales),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("Alice Aubert"));
}

#[tokio::test]
async fn another_tenants_subject_is_not_found_and_nothing_leaks() {
    let a = app();
    let (subject, _) = a
        .create(&json!({"records": [
            {"category": "user.name", "value": "Agathe Tenant-A", "purpose": "account"},
            {"category": "user.contact.email", "value": "agathe@tenant-a.example", "purpose": "account"}
        ]}))
        .await;
    // A second company on the same server, same store, same policy and the same role name.
    let other = TenantId::new("rival").unwrap();
    let now = custos_core::clock::Clock::now(a.clock.as_ref());
    ensure_tenant(a.store.as_ref(), &other, "Rival", now).unwrap();
    publish_policy(
        a.store.as_ref(),
        &other,
        POLICY,
        "plume-sasu.toml",
        now,
        now,
    )
    .unwrap();
    let spec = KeySpec {
        label: "rival".into(),
        role: "sales_order_delivery".into(),
        purposes: Vec::new(),
        admin: true,
    };
    let rival = api_keys::issue(a.store.as_ref(), &a.keys, &other, &spec, "operator", now).unwrap();
    let rival = rival.token.as_str().to_owned();

    let r = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&rival),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.json()["code"], "VAULT-0005");
    assert!(
        !r.text().contains("Agathe") && !r.text().contains("tenant-a"),
        "{}",
        r.text()
    );

    // Writing to it, finding it by email: as if it did not exist.
    let add = a
        .post(
            &format!("/v1/subjects/{subject}/records"),
            Some(&rival),
            &json!({"records": [
            {"category": "user.name", "value": "x", "purpose": "account"}]}),
        )
        .await;
    assert_eq!(add.status, StatusCode::NOT_FOUND, "{}", add.text());
    let found = a
        .post("/v1/lookup", Some(&rival), &json!({"category": "user.contact.email", "value": "agathe@tenant-a.example", "purpose": "account"}))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.json()["subjects"], json!([]));
    // The rival's audit log holds only its own attempts; tenant A's log is untouched by them.
    let rival_log = a.store.audit_entries(&other, 1, 100).unwrap();
    assert!(
        rival_log
            .iter()
            .all(|e| e.draft.key_id.as_deref() != Some(a.admin.split('.').next().unwrap()))
    );
    // And the owner still reads it.
    let own = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.sales),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
}

#[tokio::test]
async fn an_idempotency_key_is_private_to_the_api_key_that_used_it() {
    let a = app();
    let body = json!({"records": [{"category": "user.name", "value": "Idem Potent", "purpose": "account"}]});
    let send = |token: String| {
        let b = body.clone();
        let a = &a;
        async move {
            a.send(
                request("POST", "/v1/subjects", Some(&token))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("idempotency-key", "order-42")
                    .body(Body::from(b.to_string()))
                    .unwrap(),
            )
            .await
        }
    };
    let first = send(a.sales.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    // A role that may not write for `account` gets no replay of someone else's answer.
    let other = send(a.marketing.clone()).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text());
    assert!(
        !other
            .text()
            .contains(first.json()["subject"].as_str().unwrap())
    );
    // Another key that may write gets its own, new subject.
    let admin = send(a.admin.clone()).await;
    assert_eq!(admin.status, StatusCode::CREATED, "{}", admin.text());
    assert_ne!(admin.json()["subject"], first.json()["subject"]);
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let a = app();
    let before = a.subjects();
    let r = a
        .post(
            "/v1/subjects",
            Some(&a.sales),
            &json!({"records": [{"category": "user.name", "value": "Ulysse Unknown", "purpose": "account", "colour": "blue"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let v = r.json();
    assert_eq!(v["code"], "HTTP-0400");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{v}"
    );
    assert!(!r.text().contains("Ulysse"), "the value is not echoed");
    let r = a
        .post(
            "/v1/subjects",
            Some(&a.sales),
            &json!({"records": [], "subject": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.subjects(), before, "nothing written");
}

#[tokio::test]
async fn consent_over_http_opens_the_purpose_and_the_unsubscribe_link_closes_it() {
    let a = app();
    let (subject, _) = a
        .create(&customer_without_marketing("Camille Martin"))
        .await;
    let read = format!("/v1/subjects/{subject}?purpose=targeted_marketing");
    let r = a.get(&read, Some(&a.marketing)).await;
    assert!(r.json()["values"].as_array().unwrap().is_empty());

    let grant = json!({"purpose": "targeted_marketing", "action": "grant", "channel": "web", "ip": "198.51.100.4", "user_agent": "Firefox"});
    let r = a
        .post(
            &format!("/v1/subjects/{subject}/consents"),
            Some(&a.sales),
            &grant,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["kind"], "granted");
    assert!(!r.text().contains("198.51.100.4"));
    let r = a.get(&read, Some(&a.marketing)).await;
    assert!(
        !r.json()["values"].as_array().unwrap().is_empty(),
        "{}",
        r.text()
    );

    // The link for the marketing emails.
    let r = a
        .post(
            &format!("/v1/subjects/{subject}/unsubscribe-tokens"),
            Some(&a.sales),
            &json!({"purpose": "targeted_marketing"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let path = r.json()["path"].as_str().unwrap().to_owned();
    // Opening it (or a mail scanner prefetching it) changes nothing.
    let page = a.get(&path, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("<form method=\"post\""));
    assert!(page.header("content-security-policy").is_some());
    assert!(
        !a.get(&read, Some(&a.marketing)).await.json()["values"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Pressing the button (no API key) withdraws.
    let done = a
        .send(
            request("POST", &path, None)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(""))
                .unwrap(),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("You are unsubscribed"));
    let r = a.get(&read, Some(&a.marketing)).await;
    assert!(r.json()["values"].as_array().unwrap().is_empty());
    assert_eq!(r.json()["withheld"][0]["reason"], "consent_withdrawn");
    // A tampered link is refused and changes nothing.
    let flipped = if path.ends_with('0') { '1' } else { '0' };
    let bad = a
        .get(&format!("{}{flipped}", &path[..path.len() - 1]), None)
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);

    // The receipts: both events, with the state per purpose.
    let r = a
        .get(&format!("/v1/subjects/{subject}/consents"), Some(&a.sales))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["events"].as_array().unwrap().len(), 2);
    assert_eq!(v["events"][1]["channel"], "email_link");
    let tm = v["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "targeted_marketing")
        .unwrap()
        .clone();
    assert_eq!(tm["consent"], "withdrawn");
}

#[tokio::test]
async fn rights_requests_run_on_the_policy_clock() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let r = a
        .post(
            "/v1/requests",
            Some(&a.sales),
            &json!({"right": "access", "subject": subject, "channel": "privacy_center"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["state"], "received");
    assert_eq!(v["jurisdiction"], "FR", "taken from the subject");
    assert_eq!(v["due_at"], "2026-03-17T09:00:00Z", "15 days (P0-18)");
    let id = v["id"].as_str().unwrap().to_owned();

    // Staff only: the queue and the steps.
    let q = a.get("/v1/requests", Some(&a.sales)).await;
    assert_problem(&q, 403, "AUTH-0003");
    let act = |body: Value| {
        let id = id.clone();
        let a = &a;
        async move {
            a.post(&format!("/v1/requests/{id}/actions"), Some(&a.admin), &body)
                .await
        }
    };
    let r = act(json!({"action": "fulfil"})).await;
    assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(
        act(json!({"action": "verify"})).await.json()["state"],
        "verified"
    );
    a.clock.advance(SignedDuration::from_hours(24 * 16));
    let q = a.get("/v1/requests", Some(&a.admin)).await.json();
    assert_eq!(q["overdue"], 1, "{q}");
    let r = act(json!({"action": "extend", "reason": "too late now"})).await;
    assert_problem(&r, 422, "VAULT-0001");
    let done = act(json!({"action": "fulfil"})).await.json();
    assert_eq!(done["state"], "fulfilled");
    assert_eq!(done["answered_on_time"], false);
    // The person was owed an acknowledgement and a completion notice.
    let sid = custos_store::SubjectId(custos_store::Uuid::parse_str(&subject).unwrap());
    let kinds: Vec<String> =
        custos_store::RequestStore::outbox_of(a.store.as_ref(), &a.tenant, sid)
            .unwrap()
            .into_iter()
            .map(|m| m.kind)
            .collect();
    assert_eq!(kinds, ["request.acknowledged", "request.fulfilled"]);
    // Bad input: a right the policy does not offer is a problem, not a crash.
    let r = a
        .post(
            "/v1/requests",
            Some(&a.sales),
            &json!({"right": "teleportation", "channel": "web"}),
        )
        .await;
    assert_problem(&r, 400, "HTTP-0400");
}

#[tokio::test]
async fn staff_export_a_subjects_whole_data_as_json_and_csv() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let r = a
        .get(&format!("/v1/subjects/{subject}/export"), Some(&a.admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["records"].as_array().unwrap().len(),
        4,
        "every record, whatever its purpose"
    );
    let csv = a
        .get(
            &format!("/v1/subjects/{subject}/export?format=csv"),
            Some(&a.admin),
        )
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(csv.text().lines().count(), 5);
    let denied = a
        .get(&format!("/v1/subjects/{subject}/export"), Some(&a.sales))
        .await;
    assert_problem(&denied, 403, "VAULT-0003");
}

#[tokio::test]
async fn a_one_time_code_proves_control_of_the_held_email() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let r = a
        .post(
            "/v1/verifications",
            Some(&a.sales),
            &json!({"subject": subject, "category": "user.contact.email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let challenge = r.json()["challenge"].as_str().unwrap().to_owned();
    assert!(
        !r.text().contains("\"code\""),
        "the code is never in the API response"
    );
    let sid = custos_store::SubjectId(custos_store::Uuid::parse_str(&subject).unwrap());
    let msg = custos_store::RequestStore::outbox_of(a.store.as_ref(), &a.tenant, sid)
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "verification.code")
        .unwrap();
    let code = serde_json::from_str::<Value>(&msg.payload).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let check = |c: String| {
        let a = &a;
        let challenge = challenge.clone();
        async move {
            a.post(
                &format!("/v1/verifications/{challenge}/check"),
                Some(&a.sales),
                &json!({"code": c}),
            )
            .await
        }
    };
    let bad = check("000000".to_owned()).await.json();
    if code != "000000" {
        assert_eq!(bad["verified"], false);
        assert_eq!(bad["attempts_left"], 4);
    }
    let good = check(code.clone()).await.json();
    assert_eq!(good["verified"], true, "{good}");
    assert_eq!(good["subject"], subject.as_str());
    assert_eq!(check(code).await.json()["verified"], false, "once only");
    let r = a
        .post(
            "/v1/verifications/not-a-uuid/check",
            Some(&a.sales),
            &json!({"code": "123456"}),
        )
        .await;
    assert_problem(&r, 400, "HTTP-0401");
}

// ---------------------------------------------------------------------------------------
// Rectification, restriction, erasure (P0-11, P0-16, P0-17)

impl App {
    async fn send_json(&self, method: &str, uri: &str, token: &str, body: Option<&Value>) -> Reply {
        let b = request(method, uri, Some(token));
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }
}

#[tokio::test]
async fn rectification_over_http_changes_the_value_and_refuses_card_numbers() {
    let a = app();
    let (subject, records) = a.create(&customer("Camille Martin")).await;
    let name = &records[0];
    let uri = format!("/v1/subjects/{subject}/records/{name}");
    let r = a
        .send_json(
            "PATCH",
            &uri,
            &a.sales,
            Some(&json!({ "value": "Camille Durand" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["category"], "user.name");
    let read = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.sales),
        )
        .await
        .json();
    assert!(
        read["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["value"] == "Camille Durand")
    );

    let bad = a
        .send_json(
            "PATCH",
            &uri,
            &a.sales,
            Some(&json!({ "value": "4111 1111 1111 1111" })),
        )
        .await;
    let p = assert_problem(&bad, 422, "VAULT-0001");
    assert_eq!(p["errors"][0]["pointer"], "/value");
    assert_eq!(p["errors"][0]["code"], "VAULT-0103");
    assert!(!spoken(&bad).contains("4111"));
    let unknown = format!("/v1/subjects/{subject}/records/0190b1c6-0000-7000-8000-000000000000");
    let r = a
        .send_json("PATCH", &unknown, &a.sales, Some(&json!({ "value": "x" })))
        .await;
    let p = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(p["errors"][0]["code"], "VAULT-0150");
    // Marketing does not receive the account purpose: it may not change its data.
    let r = a
        .send_json("PATCH", &uri, &a.marketing, Some(&json!({ "value": "X" })))
        .await;
    assert_problem(&r, 403, "VAULT-0003");
}

#[tokio::test]
async fn restriction_over_http_leaves_only_legal_purposes_until_lifted() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let uri = format!("/v1/subjects/{subject}/restriction");
    assert_problem(
        &a.send_json("POST", &uri, &a.sales, None).await,
        403,
        "VAULT-0003",
    );
    let r = a.send_json("POST", &uri, &a.admin, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "restricted");
    let account = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.sales),
        )
        .await
        .json();
    assert!(account["values"].as_array().unwrap().is_empty());
    assert!(withheld(&account).values().all(|r| r == "restricted"));
    let legal = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=legal_obligations"),
            Some(&a.sales),
        )
        .await
        .json();
    assert_eq!(
        value_categories(&legal),
        vec!["user.financial.payment_reference"]
    );
    let r = a.send_json("DELETE", &uri, &a.admin, None).await;
    assert_eq!(r.json()["state"], "active");
    let account = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.sales),
        )
        .await
        .json();
    assert_eq!(
        value_categories(&account),
        vec!["user.contact.email", "user.name"]
    );
}

#[tokio::test]
async fn erasure_over_http_returns_a_receipt_and_the_subject_is_gone() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let uri = format!("/v1/subjects/{subject}/erasure");
    let body = json!({ "reason": "the person asked" });
    assert_problem(
        &a.send_json("POST", &uri, &a.sales, Some(&body)).await,
        403,
        "VAULT-0003",
    );
    assert_problem(
        &a.send_json("POST", &uri, &a.admin, Some(&json!({ "reason": "" })))
            .await,
        422,
        "VAULT-0001",
    );
    let r = a.send_json("POST", &uri, &a.admin, Some(&body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let receipt = r.json();
    assert_eq!(receipt["subject"], subject.as_str());
    assert_eq!(
        receipt["deleted"],
        json!([
            "user.behavior.browsing_history",
            "user.contact.email",
            "user.name"
        ])
    );
    assert_eq!(
        receipt["kept"][0]["category"],
        "user.financial.payment_reference"
    );
    assert_eq!(receipt["kept"][0]["held_for"], "legal_obligations");
    assert!(
        receipt["kept"][0]["until"]
            .as_str()
            .unwrap()
            .starts_with("2036-03-02")
    );
    for secret in ["Camille", "camille.martin", "pay_8Hq2Lx", "bikes"] {
        assert!(!r.text().contains(secret));
    }

    // Gone: reads, exports, writes answer 410; lookups find nothing; erasing again is 410.
    for purpose in ["account", "legal_obligations", "payment_and_delivery"] {
        let r = a
            .get(
                &format!("/v1/subjects/{subject}?purpose={purpose}"),
                Some(&a.sales),
            )
            .await;
        assert_problem(&r, 410, "VAULT-0006");
    }
    assert_problem(
        &a.get(&format!("/v1/subjects/{subject}/export"), Some(&a.admin))
            .await,
        410,
        "VAULT-0006",
    );
    let add =
        json!({ "records": [{ "category": "user.name", "value": "C", "purpose": "account" }] });
    assert_problem(
        &a.post(
            &format!("/v1/subjects/{subject}/records"),
            Some(&a.admin),
            &add,
        )
        .await,
        410,
        "VAULT-0006",
    );
    let found = a
        .post(
            "/v1/lookup",
            Some(&a.sales),
            &json!({ "category": "user.contact.email", "value": "camille.martin@example.fr", "purpose": "account" }),
        )
        .await;
    assert_eq!(found.json()["subjects"], json!([]));
    assert_problem(
        &a.send_json("POST", &uri, &a.admin, Some(&body)).await,
        410,
        "VAULT-0006",
    );
    assert_problem(
        &a.send_json(
            "POST",
            &format!("/v1/subjects/{subject}/restriction"),
            &a.admin,
            None,
        )
        .await,
        410,
        "VAULT-0006",
    );

    // The payment reference is kept apart, readable for legal obligations only.
    let held = a
        .get(
            &format!("/v1/subjects/{subject}/held?purpose=legal_obligations"),
            Some(&a.sales),
        )
        .await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text());
    assert_eq!(held.json()["values"][0]["value"], "pay_8Hq2Lx");
    assert_problem(
        &a.get(
            &format!("/v1/subjects/{subject}/held?purpose=account"),
            Some(&a.sales),
        )
        .await,
        403,
        "VAULT-0003",
    );
    // The database keeps no plaintext of it, and no wrapped key for the subject.
    let conn = db(&a);
    let dek: Vec<u8> = conn
        .query_row(
            "SELECT wrapped_dek FROM subjects WHERE id = ?1",
            [subject.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(dek.is_empty());
    let records: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM records WHERE subject = ?1",
            [subject.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(records, 0);
}

#[tokio::test]
async fn an_incident_over_http_revokes_the_key_and_finds_what_it_read() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let (other, _) = a.create(&customer("Dominique Autre")).await;
    let r = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.tech),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let tech_id = a.tech.split('.').next().unwrap().to_owned();
    let now = custos_core::clock::Clock::now(a.clock.as_ref());
    let body = json!({
        "description": "technical services key published in a public repository",
        "detected_at": now, "from": now.checked_sub(SignedDuration::from_hours(1)).unwrap(), "to": now,
        "key_ids": [tech_id]
    });
    let r = a.post("/v1/incidents", Some(&a.sales), &body).await;
    assert_problem(&r, 403, "AUTH-0003");
    let r = a.post("/v1/incidents", Some(&a.admin), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let affected = v["affected"].as_array().unwrap();
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0]["subject"], subject.as_str());
    assert!(!r.text().contains(&other));
    assert!(v["authority_due"].is_string(), "GDPR: 72 hours (FR)");
    let r = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.tech),
        )
        .await;
    assert_problem(&r, 401, "AUTH-0002");
    let id = v["id"].as_str().unwrap();
    let r = a.get(&format!("/v1/incidents/{id}"), Some(&a.admin)).await;
    assert_eq!(
        r.json()["notices_released"],
        true,
        "no hold: notices went out at once (P0-13)"
    );
}

#[tokio::test]
async fn an_under_age_birth_date_is_refused_with_its_pointer_and_not_echoed() {
    let app = app();
    // A version where French people must be 15 (in force now, before any request).
    let aged = POLICY.replacen(
        "breach_authority_deadline = \"72h\"",
        "breach_authority_deadline = \"72h\"\nmin_age = 15",
        1,
    );
    assert_ne!(aged, POLICY);
    let now = custos_core::clock::Clock::now(app.clock.as_ref());
    publish_policy(
        app.store.as_ref(),
        &app.tenant,
        &aged,
        "aged.toml",
        now,
        now,
    )
    .unwrap();
    let body = json!({
        "jurisdiction": "FR",
        "records": [
            { "category": "user.name", "value": "Lou", "purpose": "account" },
            { "category": "user.demographic.date_of_birth", "value": "2014-07-19", "purpose": "account" }
        ]
    });
    let r = app.post("/v1/subjects", Some(&app.admin), &body).await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(v["errors"][0]["pointer"], "/records/1/value");
    assert_eq!(v["errors"][0]["code"], "VAULT-0180");
    assert!(!spoken(&r).contains("2014"), "{}", r.text());
    assert_eq!(app.subjects(), 0);
}

/// The policy with French people having to be 15, in force now.
fn publish_aged(app: &App) {
    let aged = POLICY.replacen(
        "breach_authority_deadline = \"72h\"",
        "breach_authority_deadline = \"72h\"\nmin_age = 15",
        1,
    );
    assert_ne!(aged, POLICY);
    let now = custos_core::clock::Clock::now(app.clock.as_ref());
    publish_policy(
        app.store.as_ref(),
        &app.tenant,
        &aged,
        "aged.toml",
        now,
        now,
    )
    .unwrap();
}

#[tokio::test]
async fn impossible_birth_dates_are_refused_over_http() {
    let app = app();
    for date in ["2099-01-01", "1850-06-01"] {
        let body = json!({
            "jurisdiction": "FR",
            "records": [
                { "category": "user.name", "value": "Lou", "purpose": "account" },
                { "category": "user.demographic.date_of_birth", "value": date, "purpose": "account" }
            ]
        });
        let r = app.post("/v1/subjects", Some(&app.admin), &body).await;
        let v = assert_problem(&r, 422, "VAULT-0001");
        assert_eq!(v["errors"][0]["pointer"], "/records/1/value");
        assert_eq!(v["errors"][0]["code"], "VAULT-0200");
        assert!(!r.text().contains(date), "{}", r.text());
    }
    assert_eq!(app.subjects(), 0);
}

#[tokio::test]
async fn an_under_age_rectification_over_http_is_refused_restricts_and_opens_a_request() {
    let app = app();
    publish_aged(&app);
    let body = json!({
        "jurisdiction": "FR",
        "records": [
            { "category": "user.name", "value": "Lou", "purpose": "account" },
            { "category": "user.demographic.date_of_birth", "value": "1990-07-19", "purpose": "account" }
        ]
    });
    let r = app.post("/v1/subjects", Some(&app.admin), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let subject = v["subject"].as_str().unwrap().to_owned();
    let dob = v["records"][1].as_str().unwrap().to_owned();
    let uri = format!("/v1/subjects/{subject}/records/{dob}");
    let r = app
        .send_json(
            "PATCH",
            &uri,
            &app.sales,
            Some(&json!({ "value": "2020-01-01" })),
        )
        .await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(v["errors"][0]["code"], "VAULT-0201");
    assert!(!r.text().contains("2020-01-01"), "{}", r.text());
    let id = custos_store::SubjectId(subject.parse().unwrap());
    let row = app.store.subject(&app.tenant, id).unwrap().unwrap();
    assert_eq!(
        row.state,
        custos_store::SubjectState::Restricted,
        "not erased"
    );
    let r = app.get("/v1/requests", Some(&app.admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("erasure"), "{}", r.text());
    assert!(r.text().contains(&subject), "{}", r.text());
}

#[tokio::test]
async fn a_source_the_policy_does_not_list_is_refused_over_http() {
    let app = app();
    let body = json!({
        "records": [
            { "category": "user.name", "value": "Lou", "purpose": "account", "source": "partner" }
        ]
    });
    let r = app.post("/v1/subjects", Some(&app.admin), &body).await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(v["errors"][0]["pointer"], "/records/0/source");
    assert_eq!(v["errors"][0]["code"], "VAULT-0202");
    assert_eq!(app.subjects(), 0);
}

#[tokio::test]
async fn retention_events_over_http_set_expiries_from_the_event() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let uri = format!("/v1/subjects/{subject}/events");
    // An hour after sign-up (the test clock starts at 2026-03-02T09:00Z).
    a.clock.advance(jiff::SignedDuration::from_hours(1));
    let body = json!({ "event": "last_activity", "at": "2026-03-02T10:00:00Z" });
    let r = a.send_json("POST", &uri, &a.sales, Some(&body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let out = r.json();
    assert_eq!(out["event"], "last_activity");
    assert!(out["records"].as_u64().unwrap() >= 2, "{out}");
    let name = out["expiries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["category"] == "user.name")
        .unwrap();
    assert_eq!(name["expires_at"], "2029-03-02T10:00:00Z");
    let p = assert_problem(
        &a.send_json(
            "POST",
            &uri,
            &a.sales,
            Some(&json!({ "event": "birthday" })),
        )
        .await,
        422,
        "VAULT-0001",
    );
    assert_eq!(p["errors"][0]["code"], "VAULT-0190");
    let missing = format!("/v1/subjects/{}/events", uuid::Uuid::now_v7());
    assert_problem(
        &a.send_json(
            "POST",
            &missing,
            &a.sales,
            Some(&json!({ "event": "account_closure" })),
        )
        .await,
        404,
        "VAULT-0005",
    );
}

#[tokio::test]
async fn legal_holds_over_http_are_admin_only_and_need_an_end() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let uri = format!("/v1/subjects/{subject}/legal-holds");
    let body = json!({ "reason": "litigation 2026-17", "until": "2099-01-01T00:00:00Z" });
    assert_problem(
        &a.send_json("POST", &uri, &a.sales, Some(&body)).await,
        403,
        "AUTH-0003",
    );
    let r = a.send_json("POST", &uri, &a.admin, Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["until"], "2099-01-01T00:00:00Z");
    let past = json!({ "reason": "litigation", "until": "2000-01-01T00:00:00Z" });
    let p = assert_problem(
        &a.send_json("POST", &uri, &a.admin, Some(&past)).await,
        422,
        "VAULT-0001",
    );
    assert_eq!(p["errors"][0]["code"], "VAULT-0191");
}

#[tokio::test]
async fn lifting_a_legal_hold_over_http_ends_it_once() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let body = json!({ "reason": "litigation 2026-17", "until": "2099-01-01T00:00:00Z" });
    let r = a
        .send_json(
            "POST",
            &format!("/v1/subjects/{subject}/legal-holds"),
            &a.admin,
            Some(&body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let hold = r.json()["id"].as_str().unwrap().to_owned();
    let uri = format!("/v1/subjects/{subject}/legal-holds/{hold}");
    assert_problem(
        &a.send_json("DELETE", &uri, &a.sales, None).await,
        403,
        "AUTH-0003",
    );
    let r = a.send_json("DELETE", &uri, &a.admin, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let p = assert_problem(
        &a.send_json("DELETE", &uri, &a.admin, None).await,
        422,
        "VAULT-0001",
    );
    assert_eq!(p["errors"][0]["code"], "VAULT-0192");
}

mod privacy_pages;

/// Issue 17.2 over HTTP: only roles the policy lists send events, and an event
/// time lies between collection and now plus a small skew; refusals change nothing.
#[tokio::test]
async fn nobody_moves_a_retention_clock_over_http() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let uri = format!("/v1/subjects/{subject}/events");
    // technical_services is not listed with `sends_lifecycle_events`.
    let r = a
        .send_json(
            "POST",
            &uri,
            &a.tech,
            Some(&json!({ "event": "last_activity" })),
        )
        .await;
    assert_problem(&r, 403, "VAULT-0216");
    for at in ["2026-01-15T10:00:00Z", "2026-03-02T09:06:00Z"] {
        let r = a
            .send_json(
                "POST",
                &uri,
                &a.sales,
                Some(&json!({ "event": "last_activity", "at": at })),
            )
            .await;
        let p = assert_problem(&r, 422, "VAULT-0001");
        assert_eq!(p["errors"][0]["code"], "VAULT-0215", "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/at", "{p}");
    }
    // The name still expires 3 years after sign-up: nothing moved.
    let r = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=account"),
            Some(&a.sales),
        )
        .await;
    let v = r.json();
    let name = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["category"] == "user.name")
        .unwrap()
        .clone();
    assert_eq!(name["expires_at"], "2029-03-02T09:00:00Z", "{v}");
    // Events on an unknown subject: 404 (issue 17.11).
    let missing = format!("/v1/subjects/{}/events", uuid::Uuid::now_v7());
    assert_problem(
        &a.send_json(
            "POST",
            &missing,
            &a.sales,
            Some(&json!({ "event": "last_activity" })),
        )
        .await,
        404,
        "VAULT-0005",
    );
}

/// P0-9 over HTTP (issues 13.7, 13.14): a customer who signs up and never comes
/// back expires three years on; from then on reads and the access export show
/// nothing of what expired, before any sweep.
#[tokio::test]
async fn a_customer_who_never_returns_expires_and_is_gone_before_the_sweep() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let read = |token: String| {
        let uri = format!("/v1/subjects/{subject}?purpose=account");
        let a = &a;
        async move { a.get(&uri, Some(&token)).await.json() }
    };
    let v = read(a.sales.clone()).await;
    assert_eq!(
        value_categories(&v),
        ["user.contact.email", "user.name"],
        "{v}"
    );
    assert!(
        v["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["expires_at"] == "2029-03-02T09:00:00Z"),
        "{v}"
    );
    let find = json!({ "category": "user.contact.email", "value": "camille.martin@example.fr", "purpose": "account" });
    let r = a.post("/v1/lookup", Some(&a.sales), &find).await;
    assert_eq!(r.json()["subjects"], json!([subject]), "{}", r.text());
    a.clock.set("2029-03-02T09:00:00Z".parse().unwrap());
    let v = read(a.sales.clone()).await;
    assert!(value_categories(&v).is_empty(), "{v}");
    assert!(!v.to_string().contains("Camille"), "{v}");
    // Issue 13.14: nor is she found by her expired e-mail address.
    let r = a.post("/v1/lookup", Some(&a.sales), &find).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["subjects"], json!([]), "{}", r.text());
}

/// Issue 17.8 over HTTP: a lookup for a consent purpose finds nobody who has
/// not consented, like a read of that purpose.
#[tokio::test]
async fn a_lookup_obeys_consent_like_a_read() {
    let a = app();
    let (subject, _) = a
        .create(&customer_without_marketing("Camille Martin"))
        .await;
    let find = json!({ "category": "user.contact.email", "value": "camille.martin@example.fr", "purpose": "targeted_marketing" });
    let r = a.post("/v1/lookup", Some(&a.marketing), &find).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["subjects"], json!([]), "no consent, no match");
    let r = a
        .post("/v1/lookup", Some(&a.sales), &json!({ "category": "user.contact.email", "value": "camille.martin@example.fr", "purpose": "account" }))
        .await;
    assert_eq!(r.json()["subjects"], json!([subject]));
}

/// Issue 17.11: a response that may carry personal data (a purpose-bound read,
/// an export, a problem about a subject) is never kept by a cache.
#[tokio::test]
async fn responses_with_personal_data_are_never_cached() {
    let app = app();
    let (id, _) = app.create(&customer("Camille Martin")).await;
    let no_store = |r: &Reply| {
        assert_eq!(
            r.headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{:?}",
            r.headers
        );
    };
    let read = app
        .get(
            &format!("/v1/subjects/{id}?purpose=account"),
            Some(&app.tech),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text());
    assert!(read.text().contains("Camille Martin"));
    no_store(&read);
    let export = app
        .get(&format!("/v1/subjects/{id}/export"), Some(&app.admin))
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    no_store(&export);
    let refused = app
        .get(&format!("/v1/subjects/{id}?purpose=nope"), Some(&app.tech))
        .await;
    assert!(refused.status.is_client_error());
    no_store(&refused);
}
