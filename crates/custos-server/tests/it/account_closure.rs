//! P0-9 and P0-17 over HTTP (issue 13.15): Plume SASU promises that deleting the
//! account deletes the person's data, keeping only what the law requires. An
//! `account_closure` from the shop's service is that erasure, not nothing.

use axum::http::StatusCode;
use serde_json::json;

use super::{app, assert_problem, customer};

#[tokio::test]
async fn p0_9_closing_the_account_erases_the_person_whoever_closes_it() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let uri = format!("/v1/subjects/{subject}/events");
    let closure = json!({ "event": "account_closure" });

    // A role the policy does not let send lifecycle events changes nothing.
    let r = a.send_json("POST", &uri, &a.tech, Some(&closure)).await;
    assert_problem(&r, 403, "VAULT-0216");
    let read = format!("/v1/subjects/{subject}?purpose=account");
    assert_eq!(a.get(&read, Some(&a.sales)).await.status, StatusCode::OK);

    // The shop's service closes the account: the person is erased at once, and
    // the receipt names what the law keeps.
    let r = a.send_json("POST", &uri, &a.sales, Some(&closure)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["outcome"], "erased", "{v}");
    assert!(!r.text().contains("Camille"), "{v}");
    let request = v["request"].as_str().unwrap().to_owned();
    assert_eq!(a.get(&read, Some(&a.sales)).await.status, StatusCode::GONE);
    let r = a
        .get(&format!("/v1/requests/{request}"), Some(&a.admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["right"], "erasure");
    assert_eq!(r.json()["state"], "fulfilled", "{}", r.text());

    // Closing again is about nobody.
    let r = a.send_json("POST", &uri, &a.sales, Some(&closure)).await;
    assert!(r.status.is_client_error(), "{}", r.text());
}
