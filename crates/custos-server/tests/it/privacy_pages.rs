//! The privacy center over plain HTTP with the test clock: what a browser test
//! cannot do quickly — moving time past session and code limits.

use axum::body::Body;
use axum::http::{StatusCode, header};
use jiff::SignedDuration;

use super::{App, Reply, app, customer, customer_without_marketing, request};

/// A browser's cookie jar for one area, and the page's CSRF token.
pub(super) struct Person<'a> {
    app: &'a App,
    pub(super) cookie: String,
    /// The client address the proxy names (`X-Forwarded-For`); none: the TCP peer.
    from: Option<String>,
}

pub(super) fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_owned()
}

impl<'a> Person<'a> {
    async fn arrive(app: &'a App) -> (Person<'a>, String) {
        Self::arrive_from(app, None).await
    }

    /// A visitor from client address `from` (as the proxy names it).
    pub(super) async fn arrive_from(app: &'a App, from: Option<&str>) -> (Person<'a>, String) {
        let mut p = Person {
            app,
            cookie: String::new(),
            from: from.map(str::to_owned),
        };
        let r = p.get("/privacy").await;
        assert_eq!(r.status, StatusCode::OK);
        let set = r.header("set-cookie").expect("a session cookie").to_owned();
        p.cookie = set.split(';').next().unwrap().to_owned();
        let csrf = csrf_of(&r.text());
        (p, csrf)
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let b = request(method, uri, None).header(header::COOKIE, &self.cookie);
        match &self.from {
            Some(ip) => b.header("x-forwarded-for", ip),
            None => b,
        }
    }

    pub(super) async fn get(&self, uri: &str) -> Reply {
        self.app
            .send(self.request("GET", uri).body(Body::empty()).unwrap())
            .await
    }

    pub(super) async fn post(&mut self, uri: &str, form: &str) -> Reply {
        let r = self
            .app
            .send(
                self.request("POST", uri)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form.to_owned()))
                    .unwrap(),
            )
            .await;
        // Sign-in renews the session id: follow it like a browser.
        if let Some(set) = r.header("set-cookie") {
            self.cookie = set.split(';').next().unwrap().to_owned();
        }
        r
    }
}

/// The code in the newest `verification.code` message of the subject's outbox.
pub(super) fn latest_code(app: &App, subject: &str) -> String {
    let sid = custos_store::SubjectId(subject.parse().unwrap());
    let msgs = custos_store::RequestStore::outbox_of(app.store.as_ref(), &app.tenant, sid).unwrap();
    let m = msgs
        .iter()
        .rev()
        .find(|m| m.kind == "verification.code")
        .expect("a code message");
    let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
    v["code"].as_str().unwrap().to_owned()
}

async fn signed_in(app: &App) -> (Person<'_>, String) {
    let (subject, _) = app.create(&customer("Camille Martin")).await;
    let (mut p, csrf) = Person::arrive(app).await;
    let r = p
        .post(
            "/privacy/sign-in",
            &format!("csrf={csrf}&email=camille.martin%40example.fr"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let code = latest_code(app, &subject);
    let r = p
        .post("/privacy/code", &format!("csrf={csrf}&code={code}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/privacy"));
    (p, subject)
}

#[tokio::test]
async fn a_privacy_session_ends_after_thirty_idle_minutes() {
    let a = app();
    let (p, _) = signed_in(&a).await;
    let r = p.get("/privacy").await;
    assert!(r.text().contains("Camille Martin"), "{}", r.text());
    a.clock.advance(SignedDuration::from_mins(29));
    assert!(p.get("/privacy").await.text().contains("Camille Martin"));
    // 29 minutes later still fine (the idle clock restarted), 31 after that: gone.
    a.clock.advance(SignedDuration::from_mins(29));
    assert!(p.get("/privacy").await.text().contains("Camille Martin"));
    a.clock.advance(SignedDuration::from_mins(31));
    let r = p.get("/privacy").await;
    assert!(!r.text().contains("Camille Martin"));
    assert!(
        r.text().contains("name=\"email\""),
        "the sign-in form again"
    );
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes_and_the_session_id_changes_at_sign_in() {
    let a = app();
    let (subject, _) = a
        .create(&customer_without_marketing("Camille Martin"))
        .await;
    let (mut p, csrf) = Person::arrive(&a).await;
    let before = p.cookie.clone();
    p.post(
        "/privacy/sign-in",
        &format!("csrf={csrf}&email=Camille.Martin%40Example.fr"),
    )
    .await;
    let code = latest_code(&a, &subject);
    a.clock.advance(SignedDuration::from_mins(11));
    let r = p
        .post("/privacy/code", &format!("csrf={csrf}&code={code}"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!p.get("/privacy").await.text().contains("Camille Martin"));

    // A fresh code works, and the cookie from before sign-in is worth nothing after.
    let r = p
        .post(
            "/privacy/sign-in",
            &format!("csrf={csrf}&email=camille.martin%40example.fr"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let code = latest_code(&a, &subject);
    let r = p
        .post("/privacy/code", &format!("csrf={csrf}&code={code}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_ne!(p.cookie, before);
    assert!(p.get("/privacy").await.text().contains("Camille Martin"));
    let planted = Person {
        app: &a,
        cookie: before,
        from: None,
    };
    assert!(
        !planted
            .get("/privacy")
            .await
            .text()
            .contains("Camille Martin")
    );
}

#[tokio::test]
async fn forms_without_the_session_token_change_nothing() {
    let a = app();
    let (mut p, subject) = signed_in(&a).await;
    for (uri, form) in [
        ("/privacy/consent", "purpose=contact&action=grant"),
        ("/privacy/consent", "csrf=00&purpose=contact&action=grant"),
        ("/privacy/delete", "confirm=yes"),
    ] {
        let r = p.post(uri, form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri} {form}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    }
    let r = a
        .get(&format!("/v1/subjects/{subject}/consents"), Some(&a.admin))
        .await;
    // Only the grant the sign-up form carried: nothing for `contact`.
    let v = r.json();
    let contact = v["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "contact")
        .unwrap()
        .clone();
    assert_eq!(contact["consent"], "never_asked", "{v}");
    assert_eq!(v["events"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(a.subjects(), 1);
    // The sign-in and the refusals are audited, and no entry holds the address typed.
    let entries =
        custos_store::Store::audit_entries(a.store.as_ref(), &a.tenant, 0, 10_000).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.draft.action == "privacy_center.lookup")
    );
    for e in &entries {
        let text = format!("{e:?}").to_lowercase();
        assert!(!text.contains("camille"), "{text}");
    }
}

#[tokio::test]
async fn bad_input_to_the_pages_is_refused_clearly_and_changes_nothing() {
    let a = app();
    let (mut p, subject) = signed_in(&a).await;
    let csrf = csrf_of(&p.get("/privacy").await.text());
    let consents = || async {
        a.get(&format!("/v1/subjects/{subject}/consents"), Some(&a.admin))
            .await
            .json()["events"]
            .clone()
    };
    let consents_before = consents().await;
    let export = a
        .get(&format!("/v1/subjects/{subject}/export"), Some(&a.admin))
        .await
        .json();
    let email = export["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "user.contact.email")
        .unwrap()["record"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not an email: the page names the rule, keeps what was typed, stores nothing.
    let r = p
        .post(
            "/privacy/correct",
            &format!("csrf={csrf}&record={email}&value=not-an-address"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("role=\"alert\""), "{}", r.text());
    assert!(r.text().contains("value=\"not-an-address\""));
    // A card number in a free field is refused like an API write.
    let r = p
        .post(
            "/privacy/correct",
            &format!("csrf={csrf}&record={email}&value=4111111111111111"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Someone else's record id, a malformed one, an unknown consent action, an
    // undecodable body: refused, nothing written.
    for (uri, form, status) in [
        (
            "/privacy/correct",
            format!("csrf={csrf}&record=01a20bdf-4d99-71ca-b3a3-5772349d9ce2&value=x%40y.fr"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/privacy/correct",
            format!("csrf={csrf}&record=nope&value=x%40y.fr"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/privacy/consent",
            format!("csrf={csrf}&purpose=contact&action=sell"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/privacy/consent",
            format!("csrf={csrf}&purpose=no_such_purpose&action=grant"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/privacy/delete",
            format!("csrf={csrf}&confirm=maybe"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = p.post(uri, &form).await;
        assert_eq!(r.status, status, "{uri} {form}: {}", r.text());
    }
    let after = a
        .get(&format!("/v1/subjects/{subject}/export"), Some(&a.admin))
        .await
        .json();
    assert_eq!(after["records"], export["records"], "nothing changed");
    assert_eq!(consents().await, consents_before, "no consent recorded");
}
