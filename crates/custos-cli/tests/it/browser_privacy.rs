//! The privacy center walked in a real headless Chromium, as a person would: with
//! the keyboard alone, against a real `custos serve`, reading the one-time code
//! from the file outbox where a mail would have gone.

use super::browser::{Browser, latest_code, raw};
use super::{Server, tempdir};

const NAME: &str = "Camille Martin";
const EMAIL: &str = "camille.martin@example.fr";

struct Setup {
    server: Server,
    admin: String,
    subject: String,
    outbox: std::path::PathBuf,
}

fn setup() -> Setup {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let body = format!(
        r#"{{"records":[
        {{"category":"user.name","value":"{NAME}","purpose":"account"}},
        {{"category":"user.contact.email","value":"{EMAIL}","purpose":"account"}},
        {{"category":"user.contact.phone_number","value":"+33612345678","purpose":"account"}}
    ]}}"#
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let subject = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    Setup {
        outbox: data.join("outbox").join("default"),
        server,
        admin,
        subject,
    }
}

/// Signs in by keyboard: Tab to the address, type, Enter; Tab to the code, type, Enter.
fn sign_in(b: &Browser, outbox: &std::path::Path, codes_before: usize) {
    b.goto("/privacy");
    b.tab_to("input#email");
    b.keys(EMAIL);
    b.enter();
    assert_eq!(b.path(), "/privacy/code", "{}", b.text());
    let code = latest_code(outbox, codes_before);
    b.tab_to("input#code");
    b.keys(&code);
    b.enter();
    assert_eq!(b.path(), "/privacy", "{}", b.text());
}

/// What a marketing service's key reads for `purpose`: (values, withheld categories).
fn marketing_read(s: &Setup, key: &str, purpose: &str) -> (serde_json::Value, Vec<String>) {
    let (status, reply) = s.server.call(
        "GET",
        &format!("/v1/subjects/{}?purpose={purpose}", s.subject),
        Some(key),
        None,
    );
    assert_eq!(status, 200, "{reply}");
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let withheld = v["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["category"].as_str().unwrap().to_owned())
        .collect();
    let values: serde_json::Map<String, serde_json::Value> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["category"].as_str().unwrap().to_owned(),
                r["value"].clone(),
            )
        })
        .collect();
    (serde_json::Value::Object(values), withheld)
}

#[test]
fn a_person_signs_in_sees_corrects_and_chooses_with_the_keyboard_alone() {
    let s = setup();
    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };
    // A request made earlier by email shows with its deadline.
    let (status, reply) = s.server.call(
        "POST",
        "/v1/requests",
        Some(&s.admin),
        Some(&format!(
            r#"{{"right":"access","channel":"email","subject":"{}"}}"#,
            s.subject
        )),
    );
    assert_eq!(status, 201, "{reply}");
    let deadline = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["deadline"]
        .as_str()
        .unwrap()[..10]
        .to_owned();

    b.goto("/privacy");
    b.screenshot("privacy-sign-in");
    sign_in(&b, &s.outbox, 0);

    // Every record, with why, for whom and until when.
    let page = b.text();
    for expected in [
        NAME,
        EMAIL,
        "+33612345678",
        "First and last name",
        "Create and run the customer account",
        "Our contract with you",
        "Sales, order and delivery service",
        "Technical services",
        "Access to your data",
        deadline.as_str(),
    ] {
        assert!(page.contains(expected), "missing {expected}: {page}");
    }
    b.screenshot("privacy-home");

    // Correct the name: Tab to its "Correct" link, replace the value, Enter.
    b.tab_to("Correct First and last name");
    b.enter();
    assert_eq!(b.path(), "/privacy/correct");
    b.tab_to("input#value");
    b.keys("\u{E009}a\u{E000}");
    b.keys("Camille Martin-Durand");
    b.enter();
    assert_eq!(b.path(), "/privacy");
    assert!(b.text().contains("Your data is corrected."));
    assert!(b.text().contains("Camille Martin-Durand"));
    // The stored value changed (the staff export shows it).
    let (status, export) = s.server.call(
        "GET",
        &format!("/v1/subjects/{}/export", s.subject),
        Some(&s.admin),
        None,
    );
    assert_eq!(status, 200, "{export}");
    assert!(export.contains("Camille Martin-Durand"), "{export}");

    // The consent toggle changes what the marketing service's key reads.
    let (status, reply) = s.server.call(
        "POST",
        "/v1/keys",
        Some(&s.admin),
        Some(r#"{"role":"marketing_communication","label":"newsletter"}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let marketing = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (values, withheld) = marketing_read(&s, &marketing, "contact");
    assert!(values.get("user.contact.email").is_none(), "{values}");
    assert!(withheld.contains(&"user.contact.email".to_owned()));

    b.tab_to("Give consent – Answer people who contact Plume");
    b.enter();
    assert!(b.text().contains("Your choice is saved."), "{}", b.text());
    let (values, _) = marketing_read(&s, &marketing, "contact");
    assert_eq!(values["user.contact.email"], EMAIL, "{values}");
    b.screenshot("privacy-choices");

    b.tab_to("Withdraw consent – Answer people who contact Plume");
    b.enter();
    let (values, withheld) = marketing_read(&s, &marketing, "contact");
    assert!(values.get("user.contact.email").is_none(), "{values}");
    assert!(withheld.contains(&"user.contact.email".to_owned()));

    // Downloads: the same session fetches JSON and CSV attachments.
    let cookie = format!("custos_privacy={}", b.cookie("custos_privacy").unwrap());
    for (path, kind) in [
        ("/privacy/export.json", "application/json"),
        ("/privacy/export.csv", "text/csv"),
    ] {
        let (status, head, body) = raw(&s.server.addr, "GET", path, &[("Cookie", &cookie)], "");
        assert_eq!(status, 200, "{head}");
        assert!(head.to_ascii_lowercase().contains(kind), "{head}");
        assert!(head.contains("attachment"), "{head}");
        assert!(body.contains("Camille Martin-Durand"), "{body}");
        assert!(body.contains(EMAIL));
    }
    assert!(b.exists("a[href='/privacy/export.json']"));
    assert!(b.exists("a[href='/privacy/export.csv']"));

    // The notice, rendered from the policy.
    b.goto("/privacy/notice");
    assert!(b.text().contains("15 days"), "{}", b.text());
    b.screenshot("privacy-notice");

    // Sign out ends the session: the download needs a new sign-in.
    b.goto("/privacy");
    b.tab_to("Sign out");
    b.enter();
    assert!(b.exists("input#email"));
    let (status, _, _) = raw(
        &s.server.addr,
        "GET",
        "/privacy/export.json",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(status, 303, "an ended session downloads nothing");
}

#[test]
fn a_person_deletes_the_account_after_confirming_and_it_is_gone() {
    let s = setup();
    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };
    sign_in(&b, &s.outbox, 0);
    b.tab_to("Delete my account");
    b.enter();
    assert_eq!(b.path(), "/privacy/delete");
    assert!(b.text().contains("cannot be recovered"));
    b.screenshot("privacy-delete");

    // Submitting without ticking the box deletes nothing: the browser holds the
    // form (the box is required) and the server would refuse it too (see below).
    b.tab_to("button#[=]() Delete my account");
    b.enter_stays();
    assert_eq!(b.path(), "/privacy/delete");
    let cookie = format!("custos_privacy={}", b.cookie("custos_privacy").unwrap());
    let csrf = b.eval(
        "return document.querySelector('form[action=\"/privacy/delete\"] input[name=csrf]').value;",
    );
    let (status, _, body) = raw(
        &s.server.addr,
        "POST",
        "/privacy/delete",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf={}", csrf.as_str().unwrap()),
    );
    assert_eq!(status, 422);
    assert!(body.contains("Tick the box"), "{body}");
    let (status, _) = s.server.call(
        "GET",
        &format!("/v1/subjects/{}/export", s.subject),
        Some(&s.admin),
        None,
    );
    assert_eq!(status, 200, "still there");

    b.tab_to("input#confirm");
    b.space();
    b.tab_to("Delete my account");
    b.enter();
    assert!(b.text().contains("Your account is deleted"), "{}", b.text());
    b.screenshot("privacy-deleted");

    // Gone for every purpose, and the erasure is a fulfilled request on record.
    let (status, _) = s.server.call(
        "GET",
        &format!("/v1/subjects/{}/export", s.subject),
        Some(&s.admin),
        None,
    );
    assert!(status == 404 || status == 410, "{status}");
    let (_, queue) = s.server.call("GET", "/v1/requests", Some(&s.admin), None);
    let queue: serde_json::Value = serde_json::from_str(&queue).unwrap();
    let erasure = queue
        .as_array()
        .or_else(|| queue["requests"].as_array())
        .unwrap()
        .iter()
        .find(|r| r["right"] == "erasure")
        .cloned()
        .unwrap();
    assert_eq!(erasure["state"], "fulfilled");
    assert_eq!(erasure["channel"], "privacy_center");
    // Signing in again finds nobody.
    b.goto("/privacy");
    assert!(b.exists("input#email"));
}

#[test]
fn unknown_addresses_look_the_same_and_forged_forms_change_nothing() {
    let s = setup();
    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };
    b.goto("/privacy");
    b.fill("#email", "nobody@example.org");
    b.click("form[action='/privacy/sign-in'] button");
    assert_eq!(b.path(), "/privacy/code", "{}", b.text());
    b.fill("#code", "123456");
    b.click("form[action='/privacy/code'] button");
    assert!(b.text().contains("does not match"), "{}", b.text());

    // Headers: strict CSP, no caching, session cookie HttpOnly and SameSite=Strict.
    let (status, head, body) = raw(&s.server.addr, "GET", "/privacy", &[], "");
    assert_eq!(status, 200);
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("content-security-policy: default-src 'none'"),
        "{head}"
    );
    assert!(lower.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("HttpOnly; SameSite=Strict"), "{head}");
    assert!(!body.contains("<script"), "no script on the page");
    let (_, head, _) = raw(
        &s.server.addr,
        "GET",
        "/privacy",
        &[("X-Forwarded-Proto", "https")],
        "",
    );
    assert!(
        head.contains("; Secure"),
        "behind TLS the cookie is Secure: {head}"
    );

    // A signed-in session, then a forged consent form without the token: refused.
    sign_in(&b, &s.outbox, 0);
    let cookie = format!("custos_privacy={}", b.cookie("custos_privacy").unwrap());
    let (status, _, _) = raw(
        &s.server.addr,
        "POST",
        "/privacy/consent",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "purpose=contact&action=grant",
    );
    assert_eq!(status, 403);
    let (_, consents) = s.server.call(
        "GET",
        &format!("/v1/subjects/{}/consents", s.subject),
        Some(&s.admin),
        None,
    );
    assert!(!consents.contains("\"granted\""), "{consents}");

    // French, chosen from the page; the choice sticks for the session.
    b.goto("/privacy");
    b.pick("#lang option[value='fr']");
    b.click("form[action='/privacy/language'] button");
    assert!(
        b.text().contains("Ce que nous détenons sur vous"),
        "{}",
        b.text()
    );
    b.screenshot("privacy-home-fr");
    // Back to English from the notice: the page stays the notice.
    b.goto("/privacy/notice");
    b.pick("#lang option[value='en']");
    b.click("form[action='/privacy/language'] button");
    assert_eq!(b.path(), "/privacy/notice");
    assert!(b.text().contains("Privacy notice"), "{}", b.text());
    b.pick("#lang option[value='fr']");
    b.click("form[action='/privacy/language'] button");

    // Small screens: nothing wider than the viewport; every control is labelled.
    b.set_window(390, 844);
    b.goto("/privacy");
    let overflow = b.eval("return document.documentElement.scrollWidth - window.innerWidth;");
    let wide = b.eval(
        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll')).map(e => e.tagName + '.' + e.className).slice(0, 10);",
    );
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "horizontal overflow {overflow}: {wide}"
    );
    let unlabelled = b.eval(
        "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(e => e.labels.length === 0).map(e => e.name);",
    );
    assert_eq!(unlabelled, serde_json::json!([]), "unlabelled controls");
    let unnamed = b.eval(
        "return [...document.querySelectorAll('button, a')].filter(e => !e.textContent.trim()).length;",
    );
    assert_eq!(
        unnamed,
        serde_json::json!(0),
        "buttons and links need names"
    );
    b.screenshot("privacy-home-mobile");
}

#[test]
fn a_person_objects_to_a_legitimate_interest_use_and_the_marketing_read_stops() {
    let data = tempdir().join("data");
    let mut server = Server::spawn(&data, &["--policy", "policies/plum-voice.toml"]);
    let admin = server.admin_key();
    let body = format!(
        r#"{{"records":[
        {{"category":"user.name","value":"{NAME}","purpose":"inquiries"}},
        {{"category":"user.contact.email","value":"{EMAIL}","purpose":"inquiries"}},
        {{"category":"user.demographic.age_attestation","value":true,"purpose":"inquiries"}}
    ]}}"#
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let subject = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, reply) = server.call(
        "POST",
        "/v1/keys",
        Some(&admin),
        Some(r#"{"role":"marketing","label":"campaigns"}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let marketing = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = Setup {
        outbox: data.join("outbox").join("default"),
        server,
        admin,
        subject,
    };
    let (values, _) = marketing_read(&s, &marketing, "tailored_marketing");
    assert_eq!(values["user.contact.email"], EMAIL, "{values}");

    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };
    sign_in(&b, &s.outbox, 0);
    assert!(b.text().contains("Our legitimate interest"));
    b.tab_to("Object – Tailor marketing");
    b.enter();
    assert!(
        b.text().contains("Your objection is saved."),
        "{}",
        b.text()
    );
    assert!(b.text().contains("You objected"));
    let (values, withheld) = marketing_read(&s, &marketing, "tailored_marketing");
    assert!(values.get("user.contact.email").is_none(), "{values}");
    assert!(withheld.contains(&"user.contact.email".to_owned()));
    b.screenshot("privacy-objection");

    b.tab_to("Withdraw my objection – Tailor marketing");
    b.enter();
    let (values, _) = marketing_read(&s, &marketing, "tailored_marketing");
    assert_eq!(values["user.contact.email"], EMAIL, "{values}");
}

#[test]
fn a_person_cancels_and_withdraws_from_a_membership_in_the_privacy_center() {
    let data = tempdir().join("data");
    let mut server = Server::spawn(&data, &["--policy", "policies/plume-design-terms.toml"]);
    let admin = server.admin_key();
    let body = format!(
        r#"{{"records":[{{"category":"user.contact.email","value":"{EMAIL}","purpose":"account"}}]}}"#
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let subject = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let membership = format!(
        r#"{{"subject":"{subject}","customer":{{"jurisdiction":"BE","time_zone":"Europe/Brussels"}},"plan":"homepass","price":"9.99 EUR"}}"#
    );
    let (status, reply) = server.call("POST", "/v1/memberships", Some(&admin), Some(&membership));
    assert_eq!(status, 201, "{reply}");
    let id = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, reply) = server.call(
        "POST",
        &format!("/v1/memberships/{id}/actions"),
        Some(&admin),
        Some(r#"{"action":"activate","device":"pod-1"}"#),
    );
    assert_eq!(status, 200, "{reply}");
    let state = |server: &Server| {
        let (_, reply) = server.call("GET", &format!("/v1/memberships/{id}"), Some(&admin), None);
        serde_json::from_str::<serde_json::Value>(&reply).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state(&server), "active");

    let outbox = data.join("outbox").join("default");
    let Some(b) = Browser::start(&format!("http://{}", server.addr)) else {
        return;
    };
    sign_in(&b, &outbox, 0);
    let page = b.text();
    assert!(page.contains("Your orders and memberships"), "{page}");
    assert!(page.contains("Membership homepass"), "{page}");
    assert!(page.contains("9.99 EUR"), "{page}");

    // Cancel by keyboard: without the box ticked the browser holds the form.
    b.tab_to("Cancel this membership");
    b.enter_stays();
    assert_eq!(state(&server), "active");
    b.tab_to("I want to cancel this membership");
    b.space();
    b.tab_to("Cancel this membership");
    b.enter();
    assert!(
        b.text().contains("Your cancellation is recorded"),
        "{}",
        b.text()
    );
    assert_eq!(state(&server), "cancelling");
    assert!(b.text().contains("Ends on"), "{}", b.text());
    b.screenshot("privacy-contracts");

    // Still within the statutory 14 days: withdrawal remains open, then refunds.
    b.tab_to("I want to withdraw from this contract");
    b.space();
    b.tab_to("Withdraw from this contract");
    b.enter();
    assert!(
        b.text().contains("Your withdrawal is recorded"),
        "{}",
        b.text()
    );
    assert!(b.text().contains("Refund due by"), "{}", b.text());
    assert_ne!(state(&server), "cancelling");
}

#[test]
fn a_german_customer_accepts_an_announced_price_change_or_cancels_for_it() {
    let data = tempdir().join("data");
    let mut server = Server::spawn(&data, &["--policy", "policies/plume-design-terms.toml"]);
    let admin = server.admin_key();
    let body = format!(
        r#"{{"records":[{{"category":"user.contact.email","value":"{EMAIL}","purpose":"account"}}]}}"#
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let subject = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    // Two active memberships of a consumer in Bavaria, each with a price change
    // announced 7 weeks ahead (T-20: 6 weeks and acceptance for German consumers).
    let effective = &super::days_from_now(49)[..10];
    let mut ids = Vec::new();
    for device in ["pod-1", "pod-2"] {
        let m = format!(
            r#"{{"subject":"{subject}","customer":{{"jurisdiction":"DE","subdivision":"BY","time_zone":"Europe/Berlin","consumer":true}},"plan":"homepass","price":"4.99 EUR"}}"#
        );
        let (status, reply) = server.call("POST", "/v1/memberships", Some(&admin), Some(&m));
        assert_eq!(status, 201, "{reply}");
        let id = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for action in [
            format!(r#"{{"action":"activate","device":"{device}"}}"#),
            format!(
                r#"{{"action":"announce_change","kind":"price","effective":"{effective}","new_price":"6.99 EUR"}}"#
            ),
        ] {
            let (status, reply) = server.call(
                "POST",
                &format!("/v1/memberships/{id}/actions"),
                Some(&admin),
                Some(&action),
            );
            assert_eq!(status, 200, "{reply}");
        }
        ids.push(id);
    }
    let view = |id: &str| {
        let (_, reply) = server.call("GET", &format!("/v1/memberships/{id}"), Some(&admin), None);
        serde_json::from_str::<serde_json::Value>(&reply).unwrap()
    };
    assert_eq!(view(&ids[0])["may_accept_change"], true);

    let outbox = data.join("outbox").join("default");
    let Some(b) = Browser::start(&format!("http://{}", server.addr)) else {
        return;
    };
    sign_in(&b, &outbox, 0);
    let page = b.text();
    assert!(
        page.contains("A change to this membership is announced"),
        "{page}"
    );
    assert!(page.contains("6.99 EUR"), "{page}");

    // Accept the first by keyboard.
    b.tab_to("I accept the announced change");
    b.space();
    b.tab_to("Accept the change");
    b.enter();
    assert!(
        b.text().contains("Your acceptance is recorded"),
        "{}",
        b.text()
    );
    let first = view(&ids[0]);
    assert_eq!(first["may_accept_change"], false, "{first}");
    assert_eq!(first["status"], "active");

    // Cancel the second because of the change: it ends no later than the change.
    b.tab_to_all(&[ids[1].as_str(), "I want to cancel because of the change"]);
    b.space();
    b.tab_to("Cancel because of this change");
    b.enter();
    assert!(
        b.text().contains("Your cancellation is recorded"),
        "{}",
        b.text()
    );
    let second = view(&ids[1]);
    assert_eq!(second["status"], "cancelling", "{second}");
    let ends = second["key_dates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "cancel_effective")
        .unwrap()["at"]
        .as_str()
        .unwrap()[..10]
        .to_owned();
    assert!(ends.as_str() <= effective, "{ends} after {effective}");
    b.screenshot("privacy-change");
}
