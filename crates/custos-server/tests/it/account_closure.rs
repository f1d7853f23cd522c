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

    // Closing again, or any other event, is about someone gone: 410, as on reads.
    let r = a.send_json("POST", &uri, &a.sales, Some(&closure)).await;
    assert_problem(&r, 410, "VAULT-0006");
    let r = a
        .send_json(
            "POST",
            &uri,
            &a.sales,
            Some(&json!({ "event": "last_activity" })),
        )
        .await;
    assert_problem(&r, 410, "VAULT-0006");
}

/// P0-17 and P0-16 over HTTP (issue 13.9): a request is fulfilled only when its
/// action is done — fulfilling an erasure erases, a restriction restricts, an
/// objection objects.
#[tokio::test]
async fn p0_17_fulfilling_a_request_performs_it() {
    let a = app();
    let request = |right: &'static str, subject: String| {
        let a = &a;
        async move {
            let r = a
                .post(
                    "/v1/requests",
                    Some(&a.admin),
                    &json!({ "right": right, "subject": subject, "channel": "email" }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            let id = r.json()["id"].as_str().unwrap().to_owned();
            for action in ["verify", "fulfil"] {
                let r = a
                    .post(
                        &format!("/v1/requests/{id}/actions"),
                        Some(&a.admin),
                        &json!({ "action": action }),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.text());
            }
        }
    };
    let (restricted, _) = a.create(&customer("Restricted Person")).await;
    request("restriction", restricted.clone()).await;
    let r = a
        .get(
            &format!("/v1/subjects/{restricted}?purpose=account"),
            Some(&a.sales),
        )
        .await;
    assert_eq!(r.json()["values"], json!([]), "{}", r.text());
    assert_eq!(
        r.json()["withheld"][0]["reason"],
        "restricted",
        "{}",
        r.text()
    );

    let (objecting, _) = a.create(&customer("Objecting Person")).await;
    request("objection", objecting.clone()).await;
    let l = a
        .get(
            &format!("/v1/subjects/{objecting}/consents"),
            Some(&a.admin),
        )
        .await
        .json();
    assert!(
        l["current"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["purpose"] == "product_statistics" && p["objected"] == true),
        "{l}"
    );

    let (erased, _) = a.create(&customer("Erased Person")).await;
    request("erasure", erased.clone()).await;
    let r = a
        .get(
            &format!("/v1/subjects/{erased}?purpose=account"),
            Some(&a.sales),
        )
        .await;
    assert_eq!(r.status, StatusCode::GONE, "{}", r.text());
}
