//! Issue 13.1 and 13.2 over HTTP, with the Plume SASU policy: consent gates
//! collection on every write path, not only reads (P0-1), and only the person —
//! or a channel the policy declares as acting for them — records a grant (V-2,
//! L-5); anyone may record a withdrawal.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{App, app, assert_problem, pairs};

const TEXT: &str = "Yes, send me offers based on what I browse on plume.fr";

fn marketing_sign_up(consent: bool) -> Value {
    let mut body = json!({
        "jurisdiction": "FR",
        "records": [
            { "category": "user.name", "value": "Camille Martin", "purpose": "targeted_marketing" },
            { "category": "user.behavior.browsing_history", "value": "/shop/bikes", "purpose": "targeted_marketing", "source": "cookies" }
        ]
    });
    if consent {
        body["consents"] = json!([{ "purpose": "targeted_marketing", "notice_text": TEXT, "channel": "web", "user_agent": "Firefox" }]);
    }
    body
}

fn codes(v: &Value) -> Vec<(String, String)> {
    pairs(&v["errors"], "pointer", "code")
}

async fn ledger(a: &App, subject: &str) -> Value {
    let r = a
        .get(&format!("/v1/subjects/{subject}/consents"), Some(&a.admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn records(a: &App, subject: &str) -> Value {
    let r = a
        .get(&format!("/v1/subjects/{subject}/export"), Some(&a.admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["records"].clone()
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn p0_1_a_write_for_a_consent_purpose_needs_a_current_consent_on_every_path() {
    let a = app();
    // Create, without the tick: refused, nothing written, the value not echoed.
    let r = a
        .post(
            "/v1/subjects",
            Some(&a.marketing),
            &marketing_sign_up(false),
        )
        .await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(
        codes(&v),
        vec![
            ("/records/0/purpose".into(), "VAULT-0203".into()),
            ("/records/1/purpose".into(), "VAULT-0203".into())
        ]
    );
    assert!(!r.text().contains("/shop/bikes") && !r.text().contains("Camille"));
    assert_eq!(a.subjects(), 0);

    // With the tick carried: the consent is in the ledger, with the form's text.
    let r = a
        .post("/v1/subjects", Some(&a.marketing), &marketing_sign_up(true))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let subject = r.json()["subject"].as_str().unwrap().to_owned();
    let browsing = r.json()["records"][1].as_str().unwrap().to_owned();
    let l = ledger(&a, &subject).await;
    assert_eq!(l["events"].as_array().unwrap().len(), 1, "{l}");
    let e = &l["events"][0];
    assert_eq!(e["kind"], "granted");
    assert_eq!(e["purpose"], "targeted_marketing");
    assert_eq!(e["channel"], "web");
    assert_eq!(e["recorded_by"], "marketing_communication");
    assert_eq!(e["notice_hash"], sha256_hex(TEXT));
    let read = a
        .get(
            &format!("/v1/subjects/{subject}?purpose=targeted_marketing"),
            Some(&a.marketing),
        )
        .await;
    assert_eq!(read.json()["values"].as_array().unwrap().len(), 2);

    // Add records for another consent purpose (`contact`) never consented to.
    let before = records(&a, &subject).await;
    let add = json!({ "records": [
        { "category": "user.contact.phone_number", "value": "+33612345678", "purpose": "contact" }
    ]});
    let r = a
        .post(
            &format!("/v1/subjects/{subject}/records"),
            Some(&a.marketing),
            &add,
        )
        .await;
    let v = assert_problem(&r, 422, "VAULT-0001");
    assert_eq!(
        codes(&v),
        vec![("/records/0/purpose".into(), "VAULT-0203".into())]
    );
    assert_eq!(records(&a, &subject).await, before, "nothing added");

    // Withdrawal by any key (here one that may not grant): collection stops at once,
    // on every path — new records and corrections alike.
    let r = a
        .post(
            &format!("/v1/subjects/{subject}/consents"),
            Some(&a.tech),
            &json!({ "purpose": "targeted_marketing", "action": "withdraw", "channel": "web" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let more = json!({ "records": [
        { "category": "user.behavior.browsing_history", "value": "/shop/helmets", "purpose": "targeted_marketing", "source": "cookies" }
    ]});
    let r = a
        .post(
            &format!("/v1/subjects/{subject}/records"),
            Some(&a.marketing),
            &more,
        )
        .await;
    assert_eq!(
        codes(&assert_problem(&r, 422, "VAULT-0001")),
        vec![("/records/0/purpose".into(), "VAULT-0203".into())]
    );
    let r = a
        .send_json(
            "PATCH",
            &format!("/v1/subjects/{subject}/records/{browsing}"),
            &a.marketing,
            Some(&json!({ "value": "/shop/helmets" })),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text());
    assert!(r.text().contains("VAULT-0203"), "{}", r.text());
    assert_eq!(records(&a, &subject).await, before, "nothing changed");

    // The person gives it again (the write carries it): collection resumes.
    let mut again = more.clone();
    again["consents"] =
        json!([{ "purpose": "targeted_marketing", "notice_text": TEXT, "channel": "app" }]);
    let r = a
        .post(
            &format!("/v1/subjects/{subject}/records"),
            Some(&a.marketing),
            &again,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let kinds: Vec<Value> = ledger(&a, &subject).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["kind"], e["recorded_by"]]))
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!(["granted", "marketing_communication"]),
            json!(["withdrawn", "technical_services"]),
            json!(["granted", "marketing_communication"])
        ]
    );
}

#[tokio::test]
async fn v_2_l_5_only_declared_roles_relay_a_grant_and_nobody_grants_to_itself() {
    let a = app();
    let (subject, _) = a
        .create(&super::customer_without_marketing("Camille Martin"))
        .await;
    let grant = json!({ "purpose": "targeted_marketing", "action": "grant", "channel": "web" });
    let path = format!("/v1/subjects/{subject}/consents");
    // The payment agency (another controller) and the technical services may not
    // record a grant; the refusal is audited and nothing is in the ledger.
    let agency = a
        .post(
            "/v1/keys",
            Some(&a.admin),
            &json!({ "role": "payment_agency" }),
        )
        .await;
    assert_eq!(agency.status, StatusCode::CREATED, "{}", agency.text());
    let agency = agency.json()["token"].as_str().unwrap().to_owned();
    for key in [&agency, &a.tech] {
        let r = a.post(&path, Some(key), &grant).await;
        assert_problem(&r, 403, "VAULT-0204");
    }
    assert!(
        ledger(&a, &subject).await["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let entries =
        custos_store::Store::audit_entries(a.store.as_ref(), &a.tenant, 0, 10_000).unwrap();
    let refusals = entries
        .iter()
        .filter(|e| {
            e.draft.action == "consent.granted"
                && e.draft.outcome == custos_store::Outcome::Deny
                && e.draft.reason == "VAULT-0204"
        })
        .count();
    assert_eq!(refusals, 2);
    // Nor can they slip a grant into a write of data they may write.
    let mut body = marketing_sign_up(true);
    body["records"] =
        json!([{ "category": "user.name", "value": "Camille Martin", "purpose": "account" }]);
    let before = a.subjects();
    let r = a.post("/v1/subjects", Some(&a.tech), &body).await;
    assert_problem(&r, 403, "VAULT-0204");
    assert_eq!(a.subjects(), before, "nothing written");

    // A declared relay (the marketing service) may; so may the person's own
    // channels. Anyone may withdraw: withdrawing is as easy as giving.
    let r = a.post(&path, Some(&a.marketing), &grant).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["recorded_by"], "marketing_communication");
    let withdraw =
        json!({ "purpose": "targeted_marketing", "action": "withdraw", "channel": "web" });
    let r = a.post(&path, Some(&agency), &withdraw).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["recorded_by"], "payment_agency");
}
