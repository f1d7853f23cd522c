//! The staff console at `/console`, walked in a real headless Chromium as staff
//! would, against a real `custos serve`; the JSON API sets the scene and checks
//! what the pages did. A request's clock is moved by editing its row in the
//! SQLite file (the server has no test clock): one overdue, one due soon.

use super::browser::{Browser, raw};
use super::{Server, days_from_now, tempdir};

const EMAIL: &str = "camille.martin@example.fr";
const PHONE: &str = "+33612345678";

struct Setup {
    server: Server,
    admin: String,
    subject: String,
    data: std::path::PathBuf,
}

fn json(reply: &str) -> serde_json::Value {
    serde_json::from_str(reply).unwrap_or_else(|e| panic!("{e}: {reply}"))
}

/// A served data directory with one customer (email and phone).
fn setup() -> Setup {
    let data = tempdir().join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    let body = format!(
        r#"{{"records":[
        {{"category":"user.name","value":"Camille Martin","purpose":"account"}},
        {{"category":"user.contact.email","value":"{EMAIL}","purpose":"account"}},
        {{"category":"user.contact.phone_number","value":"{PHONE}","purpose":"account"}}
    ]}}"#
    );
    let (status, reply) = server.call("POST", "/v1/subjects", Some(&admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let subject = json(&reply)["subject"].as_str().unwrap().to_owned();
    Setup {
        server,
        admin,
        subject,
        data,
    }
}

impl Setup {
    /// Opens a request through the API; returns its id.
    fn open_request(&self, right: &str) -> String {
        let body = format!(
            r#"{{"right":"{right}","subject":"{}","channel":"email"}}"#,
            self.subject
        );
        let (status, reply) =
            self.server
                .call("POST", "/v1/requests", Some(&self.admin), Some(&body));
        assert_eq!(status, 201, "{reply}");
        json(&reply)["id"].as_str().unwrap().to_owned()
    }

    fn request(&self, id: &str) -> serde_json::Value {
        let (status, reply) = self.server.call(
            "GET",
            &format!("/v1/requests/{id}"),
            Some(&self.admin),
            None,
        );
        assert_eq!(status, 200, "{reply}");
        json(&reply)
    }

    /// Moves a request's clock: received `received_days` ago (negative), due in
    /// `due_days`.
    fn move_clock(&self, id: &str, received_days: i64, due_days: i64) {
        let micros = |days: i64| {
            days_from_now(days)
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_microsecond()
        };
        let db = rusqlite::Connection::open(self.data.join("custos.db")).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        let n = db
            .execute(
                "UPDATE rights_requests SET received_at = ?1, due_at = ?2 WHERE id = ?3",
                rusqlite::params![micros(received_days), micros(due_days), id],
            )
            .unwrap();
        assert_eq!(n, 1, "request {id} not found in the database");
    }
}

/// Signs in with the keyboard alone: Tab to the key field, type, Enter.
fn sign_in(b: &Browser, key: &str) {
    b.goto("/console");
    b.tab_to("input#key");
    b.keys(key);
    b.enter();
}

/// Clicks `css` (a form's button or a link); the harness waits for the page it leads to.
fn submit(b: &Browser, css: &str) {
    b.click(css);
}

#[test]
fn staff_work_the_queue_holds_search_and_reports_in_the_console() {
    let s = setup();
    let overdue = s.open_request("access");
    let soon = s.open_request("erasure");
    s.move_clock(&overdue, -20, -5);
    s.move_clock(&soon, -13, 2);
    let (status, reply) = s.server.call(
        "POST",
        &format!("/v1/subjects/{}/events", s.subject),
        Some(&s.admin),
        Some(r#"{"event":"last_activity"}"#),
    );
    assert_eq!(status, 200, "{reply}");
    let incident = format!(
        r#"{{"description":"Laptop lost on a train","actors":["operator"],"detected_at":"{}","from":"{}","to":"{}"}}"#,
        days_from_now(-1),
        days_from_now(-3),
        days_from_now(-1)
    );
    let (status, reply) = s
        .server
        .call("POST", "/v1/incidents", Some(&s.admin), Some(&incident));
    assert_eq!(status, 201, "{reply}");
    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };

    // A wrong key is refused, and says so.
    b.goto("/console");
    assert!(b.exists("input#key"), "{}", b.text());
    b.screenshot("console-sign-in");
    sign_in(&b, &format!("ck_0123456789abcdef.{}", "0".repeat(64)));
    assert!(b.text().contains("not accepted"), "{}", b.text());
    assert!(!b.exists("#sign-out"));
    sign_in(&b, "not a key at all");
    assert!(b.text().contains("not accepted"), "{}", b.text());

    // Signed in: the queue, soonest deadline first, with its flags.
    sign_in(&b, &s.admin);
    assert_eq!(b.path(), "/console");
    assert!(b.exists("#sign-out"), "{}", b.text());
    let row = b.text_of(&format!("#request-{overdue}"));
    assert!(row.contains("Overdue"), "{row}");
    let row = b.text_of(&format!("#request-{soon}"));
    assert!(row.contains("Due soon"), "{row}");
    assert_eq!(b.text_of("#overdue-count"), "1");
    assert_eq!(b.text_of("#soon-count"), "1");
    let queue = b.text_of("#queue");
    assert!(
        queue.find("access").unwrap() < queue.find("erasure").unwrap(),
        "overdue first: {queue}"
    );
    assert_eq!(
        b.eval("return document.getElementsByTagName('script').length;"),
        0
    );
    b.screenshot("console-queue");

    // The due-soon request is extended, with its reason.
    submit(&b, &format!("#request-{soon} a"));
    assert_eq!(b.path(), format!("/console/requests/{soon}"));
    b.fill("#extend-reason", "Many systems to search");
    submit(&b, "#extend");
    assert!(b.text().contains("Deadline extended"), "{}", b.text());
    assert!(b.exists("#extended-until"));
    let r = s.request(&soon);
    assert!(r["extended_until"].is_string(), "{r}");
    assert_eq!(r["extension_reason"], "Many systems to search");

    // The overdue one cannot be extended any more: the refusal is on the page.
    b.goto(&format!("/console/requests/{overdue}"));
    assert_eq!(b.text_of("#clock"), "Overdue");
    b.fill("#extend-reason", "Too late");
    submit(&b, "#extend");
    let error = b.text_of("#action-error");
    assert!(error.contains("deadline has passed"), "{error}");
    assert!(s.request(&overdue)["extended_until"].is_null());
    b.screenshot("console-request");
    // Verified, then fulfilled.
    submit(&b, "#verify");
    assert_eq!(b.text_of("#state"), "verified");
    submit(&b, "#fulfil");
    assert_eq!(b.text_of("#state"), "fulfilled");
    assert!(!b.exists("#fulfil"));
    assert_eq!(s.request(&overdue)["state"], "fulfilled");

    // Find the person by email: the address travels in the POST body only.
    b.goto("/console/search");
    b.fill("#contact", EMAIL);
    submit(&b, "#search");
    assert_eq!(b.path(), "/console/search");
    let found = b.text_of("#found");
    assert!(found.contains(&s.subject), "{found}");
    b.screenshot("console-search");
    // And by phone, written another way.
    b.fill("#contact", "+33 6 12 34 56 78");
    submit(&b, "#search");
    assert!(b.text_of("#found").contains(&s.subject), "{}", b.text());
    b.fill("#contact", &s.subject);
    submit(&b, "#search");
    assert_eq!(b.path(), format!("/console/subjects/{}", s.subject));
    b.goto("/console/search");
    b.fill("#contact", "nobody@example.org");
    submit(&b, "#search");
    assert!(b.exists("#no-match"), "{}", b.text());

    // The subject's page: requests and legal holds.
    b.fill("#contact", EMAIL);
    submit(&b, "#search");
    submit(&b, "#found a");
    assert_eq!(b.path(), format!("/console/subjects/{}", s.subject));
    let requests = b.text_of("#subject-requests");
    assert!(
        requests.contains("access") && requests.contains("erasure"),
        "{requests}"
    );
    assert!(b.exists("#no-holds"));
    // A hold ending in the past is refused, on the page.
    b.fill("#hold-reason", "Litigation file 2026-17");
    b.eval("document.getElementById('hold-until').value = '2020-01-01'; return true;");
    submit(&b, "#place");
    let error = b.text_of("#subject-error");
    assert!(error.contains("ends after now"), "{error}");
    b.fill("#hold-reason", "Litigation file 2026-17");
    b.eval("document.getElementById('hold-until').value = '2035-06-30'; return true;");
    submit(&b, "#place");
    assert!(b.text().contains("Legal hold placed"), "{}", b.text());
    let holds = b.text_of("#subject-holds");
    assert!(
        holds.contains("Litigation file 2026-17")
            && holds.contains("2035-06-30")
            && holds.contains("In force"),
        "{holds}"
    );
    b.screenshot("console-subject");
    b.goto("/console/holds");
    let all = b.text_of("#holds");
    assert!(
        all.contains(&s.subject) && all.contains("In force"),
        "{all}"
    );
    // The forecast shows the hold keeping the records.
    b.goto("/console/retention?days=1827");
    let forecast = b.text_of("#forecast-table");
    assert!(
        forecast.contains("user.contact.email") && forecast.contains("held"),
        "{forecast}"
    );
    // Lifted: ended, and the sweep would delete again.
    b.goto(&format!("/console/subjects/{}", s.subject));
    submit(&b, "button.lift");
    assert!(b.text().contains("Legal hold lifted"), "{}", b.text());
    assert!(b.text_of("#subject-holds").contains("Ended"));
    assert!(!b.exists("button.lift"));

    // Retention forecast: by date and category, nothing written.
    b.goto("/console/retention");
    assert!(b.exists("#nothing"), "nothing within 90 days: {}", b.text());
    b.goto("/console/retention?days=1827");
    let forecast = b.text_of("#forecast-table");
    assert!(
        forecast.contains("user.contact.email") && forecast.contains("delete"),
        "{forecast}"
    );
    b.screenshot("console-retention");

    // Policy versions and their diff.
    b.goto("/console/policy");
    assert!(b.text_of("#versions").contains("In force"), "{}", b.text());
    b.screenshot("console-policy");
    submit(&b, "#compare");
    assert_eq!(b.path(), "/console/policy/diff");
    assert!(b.exists("#no-changes"), "{}", b.text());

    // The audit log verifies, and counts what the console did.
    b.goto("/console/audit");
    assert_eq!(b.text_of("#audit-status"), "Log intact");
    let entries: u64 = b.text_of("#entries").parse().unwrap();
    assert!(entries > 10, "{entries}");
    b.screenshot("console-audit");

    // Incidents: the list and one incident.
    b.goto("/console/incidents");
    assert!(b.text_of("#incidents").contains("Laptop lost on a train"));
    b.screenshot("console-incidents");
    submit(&b, "#incidents a");
    assert!(b.path().starts_with("/console/incidents/"));
    assert!(b.text().contains("Laptop lost on a train"));

    // Signing out ends the session: staff pages send back to the sign-in form.
    submit(&b, "#sign-out");
    assert_eq!(b.path(), "/console");
    assert!(b.exists("input#key"));
    b.goto("/console/audit");
    assert_eq!(b.path(), "/console");
    assert!(b.exists("input#key"));
    assert!(!b.text().contains("Log intact"));
}

#[test]
fn forged_forms_change_nothing_and_only_live_admin_keys_see_staff_pages() {
    let s = setup();
    let id = s.open_request("portability");
    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };
    sign_in(&b, &s.admin);
    assert!(b.exists("#sign-out"), "{}", b.text());

    // The form without its CSRF token: refused, the request unchanged.
    b.goto(&format!("/console/requests/{id}"));
    b.eval("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove()); return true;");
    submit(&b, "#verify");
    assert!(b.text().contains("expired"), "{}", b.text());
    assert_eq!(s.request(&id)["state"], "received");
    // With a wrong token, from the same session: refused too.
    let cookie = format!("custos_console={}", b.cookie("custos_console").unwrap());
    let form = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let path = format!("/console/requests/{id}");
    let (status, _, _) = raw(
        &s.server.addr,
        "POST",
        &path,
        &form,
        "csrf=0000&action=verify",
    );
    assert_eq!(status, 403);
    // And without any session (a cross-site post).
    let (status, _, _) = raw(
        &s.server.addr,
        "POST",
        &path,
        &form[1..],
        "action=reject&reason=spam",
    );
    assert_eq!(status, 403);
    assert_eq!(s.request(&id)["state"], "received");
    // The same form, whole, works.
    b.goto(&path);
    submit(&b, "#verify");
    assert_eq!(s.request(&id)["state"], "verified");

    // A key of a recipient role sees which role it is, and no staff page.
    submit(&b, "#sign-out");
    let (status, reply) = s.server.call(
        "POST",
        "/v1/keys",
        Some(&s.admin),
        Some(r#"{"label":"support desk","role":"technical_services"}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let recipient = json(&reply)["token"].as_str().unwrap().to_owned();
    sign_in(&b, &recipient);
    let text = b.text();
    assert!(
        text.contains("technical_services") && text.contains("admin"),
        "{text}"
    );
    b.goto("/console/audit");
    assert!(!b.text().contains("Log intact"), "{}", b.text());
    b.goto(&path);
    assert!(!b.exists("#state"));

    // An admin key revoked while signed in: the next page signs out.
    submit(&b, "#sign-out");
    let (status, reply) = s.server.call(
        "POST",
        "/v1/keys",
        Some(&s.admin),
        Some(r#"{"label":"temp","role":"technical_services","admin":true}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let temp = json(&reply);
    sign_in(&b, temp["token"].as_str().unwrap());
    b.goto("/console/audit");
    assert_eq!(b.text_of("#audit-status"), "Log intact");
    let (status, reply) = s.server.call(
        "DELETE",
        &format!("/v1/keys/{}", temp["id"].as_str().unwrap()),
        Some(&s.admin),
        None,
    );
    assert_eq!(status, 204, "{reply}");
    b.goto("/console/audit");
    assert_eq!(b.path(), "/console");
    assert!(b.text().contains("no longer valid"), "{}", b.text());
    assert!(b.exists("input#key"));
}

/// The `csrf` field's value in a page.
fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// The session cookie a response sets (`name=value`).
fn session_cookie(head: &str) -> String {
    let set = header(head, "set-cookie");
    let c = set
        .iter()
        .find(|c| c.starts_with("custos_console="))
        .unwrap_or_else(|| panic!("no console cookie in {head}"));
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    c.split(';').next().unwrap().to_owned()
}

/// Signs in over plain HTTP; returns the signed-in session's `Cookie` value.
fn raw_sign_in(addr: &str, key: &str) -> String {
    let (status, head, body) = raw(addr, "GET", "/console", &[], "");
    assert_eq!(status, 200);
    let cookie = session_cookie(&head);
    let form = format!("csrf={}&key={key}", csrf_of(&body));
    let (status, head, _) = raw(
        addr,
        "POST",
        "/console/sign-in",
        &[
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form,
    );
    assert_eq!(status, 303, "{head}");
    // Signing in gives a new session id: one planted before is worthless.
    let signed = session_cookie(&head);
    assert_ne!(signed, cookie);
    signed
}

#[test]
fn every_console_page_carries_the_csp_no_store_and_no_script() {
    let s = setup();
    let id = s.open_request("access");
    let addr = s.server.addr.clone();
    let signed = raw_sign_in(&addr, &s.admin);
    let pages = [
        "/console".to_owned(),
        format!("/console/requests/{id}"),
        "/console/holds".to_owned(),
        format!("/console/subjects/{}", s.subject),
        "/console/search".to_owned(),
        "/console/retention?days=1827".to_owned(),
        "/console/policy".to_owned(),
        "/console/policy/diff?from=1&to=1".to_owned(),
        "/console/audit".to_owned(),
        "/console/incidents".to_owned(),
        "/console/contracts".to_owned(),
        "/console/requests/not-a-uuid".to_owned(),
    ];
    for page in &pages {
        let (status, head, body) = raw(&addr, "GET", page, &[("Cookie", signed.as_str())], "");
        assert!(status == 200 || status == 404, "{page}: {status}");
        let csp = header(&head, "content-security-policy");
        assert_eq!(csp.len(), 1, "{page}: {head}");
        assert!(
            csp[0].contains("default-src 'none'") && !csp[0].contains("script-src"),
            "{page}: {}",
            csp[0]
        );
        assert_eq!(header(&head, "cache-control"), ["no-store"], "{page}");
        assert!(
            header(&head, "content-type")[0].starts_with("text/html"),
            "{page}"
        );
        assert!(!body.to_ascii_lowercase().contains("<script"), "{page}");
        assert!(body.contains("Sign out"), "{page}: not signed in?");
        // Every form posts with the CSRF token.
        assert_eq!(
            body.matches("<form method=\"post\"").count(),
            body.matches("name=\"csrf\"").count(),
            "{page}"
        );
    }
    // The search's POST answer too; and the address is nowhere in a URL.
    let signed_form = [
        ("Cookie", signed.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let (_, _, search) = raw(&addr, "GET", "/console/search", &[signed_form[0]], "");
    let (status, head, body) = raw(
        &addr,
        "POST",
        "/console/search",
        &signed_form,
        &format!(
            "csrf={}&contact={}",
            csrf_of(&search),
            EMAIL.replace('@', "%40")
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&head, "content-security-policy").len(), 1);
    assert!(body.contains(&s.subject));
    assert!(!body.contains(&format!("{}\"", EMAIL.replace('@', "%40"))));
    assert!(!body.to_ascii_lowercase().contains("<script"));
    // Without a session, staff pages send to the sign-in form, with the same headers.
    let (status, head, _) = raw(&addr, "GET", "/console/audit", &[], "");
    assert_eq!(status, 303);
    assert_eq!(header(&head, "location"), ["/console"]);
    assert_eq!(header(&head, "content-security-policy").len(), 1);
}

#[test]
fn staff_see_and_move_on_contracts_in_the_console() {
    let data = tempdir().join("data");
    let terms = super::workspace().join("policies/plume-design-terms.toml");
    let mut server = Server::spawn(&data, &["--policy", terms.to_str().unwrap()]);
    let admin = server.admin_key();
    let (status, reply) = server.call(
        "POST",
        "/v1/subjects",
        Some(&admin),
        Some(r#"{"records":[{"category":"user.contact.email","value":"alice@example.com","purpose":"account"}]}"#),
    );
    assert_eq!(status, 201, "{reply}");
    let subject = json(&reply)["subject"].as_str().unwrap().to_owned();
    let membership = format!(
        r#"{{"subject":"{subject}","customer":{{"jurisdiction":"DE","subdivision":"BY","time_zone":"Europe/Berlin","consumer":true}},"plan":"homepass","price":"4.99 EUR","first_time":true}}"#
    );
    let (status, reply) = server.call("POST", "/v1/memberships", Some(&admin), Some(&membership));
    assert_eq!(status, 201, "{reply}");
    let id = json(&reply)["id"].as_str().unwrap().to_owned();
    let signed = raw_sign_in(&server.addr, &admin);
    let (status, head, body) = raw(
        &server.addr,
        "GET",
        "/console/contracts",
        &[("Cookie", signed.as_str())],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&head, "content-security-policy").len(), 1);
    assert!(
        body.contains("membership") && body.contains(&subject),
        "{body}"
    );

    let Some(b) = Browser::start(&format!("http://{}", server.addr)) else {
        return;
    };
    sign_in(&b, &admin);
    b.goto("/console/contracts");
    submit(&b, &format!("a[href='/console/contracts/{id}']"));
    assert_eq!(b.text_of("#contract-status"), "awaiting activation");
    // Activate on a device: the same step as POST /v1/memberships/{id}/actions.
    b.fill("#activate-device", "pod-7");
    submit(&b, "form:has(#activate-device) button");
    assert_eq!(b.text_of("#contract-status"), "active", "{}", b.text());
    let (_, reply) = server.call("GET", &format!("/v1/memberships/{id}"), Some(&admin), None);
    assert_eq!(json(&reply)["status"], "active");
    b.screenshot("console-contract");
    // A step the state does not allow is refused, with the reason, and changes nothing.
    submit(&b, "form:has(input[value='payment_recovered']) button");
    assert!(b.exists("#contract-error"), "{}", b.text());
    assert_eq!(b.text_of("#contract-status"), "active");
    let (_, reply) = server.call("GET", &format!("/v1/memberships/{id}"), Some(&admin), None);
    assert_eq!(json(&reply)["status"], "active");
}

#[test]
fn staff_compare_published_policy_versions() {
    let root = tempdir();
    let data = root.join("data");
    let mut server = Server::start(&data);
    let admin = server.admin_key();
    drop(server);
    let changed = root.join("changed.toml");
    let text = std::fs::read_to_string(data.join("policy.toml")).unwrap();
    std::fs::write(
        &changed,
        text.replace("name = \"PLUME SASU\"", "name = \"PLUME SAS\""),
    )
    .unwrap();
    let out = super::custos(&[
        "policy",
        "publish",
        changed.to_str().unwrap(),
        "--effective-at",
        &days_from_now(40),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", super::text(&out.stderr));
    let server = Server::spawn(&data, &["--policy", changed.to_str().unwrap()]);
    let signed = raw_sign_in(&server.addr, &admin);
    let get = |path: &str| {
        raw(
            &server.addr,
            "GET",
            path,
            &[("Cookie", signed.as_str())],
            "",
        )
    };
    let (status, _, body) = get("/console/policy");
    assert_eq!(status, 200);
    // Version 2 is published but not yet in force.
    let in_force = body.find("In force").unwrap();
    let row_1 = body.find("<td>1</td>").unwrap();
    let row_2 = body.find("<td>2</td>").unwrap();
    assert!(row_2 < row_1 && row_1 < in_force, "{body}");
    assert!(body.contains(r#"<option value="2" selected>"#), "{body}");
    let (status, _, body) = get("/console/policy/diff?from=1&to=2");
    assert_eq!(status, 200);
    assert!(
        body.contains("controller.name") || body.contains("controller"),
        "{body}"
    );
    assert!(body.contains(r#"id="overall">notice<"#), "{body}");
    let (status, _, body) = get("/console/policy/diff?from=1&to=9");
    assert_eq!(status, 404);
    assert!(body.contains("does not exist"));
}

impl Setup {
    /// Another person, created through the API; returns their subject id.
    fn another(&self, name: &str, email: &str) -> String {
        let body = format!(
            r#"{{"records":[
            {{"category":"user.name","value":"{name}","purpose":"account"}},
            {{"category":"user.contact.email","value":"{email}","purpose":"account"}}
        ]}}"#
        );
        let (status, reply) =
            self.server
                .call("POST", "/v1/subjects", Some(&self.admin), Some(&body));
        assert_eq!(status, 201, "{reply}");
        json(&reply)["subject"].as_str().unwrap().to_owned()
    }

    /// Whether the API says the subject is erased (410 Gone).
    fn erased(&self, subject: &str) -> bool {
        let (status, reply) = self.server.call(
            "GET",
            &format!("/v1/subjects/{subject}/export"),
            Some(&self.admin),
            None,
        );
        assert!(status == 200 || status == 410, "{status}: {reply}");
        status == 410
    }

    /// The `request.fulfilled` notice of `request` in the file outbox, waiting
    /// (bounded) for the delivery job, which runs every 5 s.
    // A real child process's job: the one place these tests read real time.
    #[allow(clippy::disallowed_methods)]
    fn fulfilled_notice(&self, request: &str) -> serde_json::Value {
        let dir = self.data.join("outbox").join("default");
        let started = std::time::Instant::now();
        loop {
            let found = std::fs::read_dir(&dir).ok().and_then(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .find(|v| {
                        v["kind"] == "request.fulfilled" && v["payload"]["request"] == request
                    })
            });
            if let Some(v) = found {
                return v;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "no fulfilled notice for {request} in {}",
                dir.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

/// P0-16, P0-17 (issue 13.9): restricting, lifting and erasing from the subject's
/// page, and fulfilling an erasure request, each take a confirmation page (no
/// script) that acts on nothing; only the confirming POST acts. The erasure's
/// confirmation names what is deleted and what the law keeps; the person's
/// notice says they were erased.
#[test]
fn staff_restrict_lift_and_erase_a_person_only_after_confirming() {
    let s = setup();
    let other = s.another("Dominique Petit", "dominique.petit@example.fr");
    let body = format!(r#"{{"right":"erasure","subject":"{other}","channel":"email"}}"#);
    let (status, reply) = s
        .server
        .call("POST", "/v1/requests", Some(&s.admin), Some(&body));
    assert_eq!(status, 201, "{reply}");
    let request = json(&reply)["id"].as_str().unwrap().to_owned();
    let (status, reply) = s.server.call(
        "POST",
        &format!("/v1/requests/{request}/actions"),
        Some(&s.admin),
        Some(r#"{"action":"verify"}"#),
    );
    assert_eq!(status, 200, "{reply}");
    let Some(b) = Browser::start(&format!("http://{}", s.server.addr)) else {
        return;
    };
    sign_in(&b, &s.admin);
    let page = format!("/console/subjects/{}", s.subject);

    // Restrict: the first POST only asks.
    b.goto(&page);
    assert!(
        b.text_of("#subject-state").contains("Active"),
        "{}",
        b.text()
    );
    submit(&b, "#restrict");
    assert!(
        b.text_of("#confirm-heading")
            .contains("Restrict processing"),
        "{}",
        b.text()
    );
    b.screenshot("console-confirm-restrict");
    b.goto(&page);
    assert!(
        b.text_of("#subject-state").contains("Active"),
        "nothing done yet"
    );
    submit(&b, "#restrict");
    submit(&b, "#confirm");
    assert_eq!(b.path(), page);
    assert!(b.text().contains("Processing restricted"), "{}", b.text());
    assert!(b.text_of("#subject-state").contains("Restricted"));
    assert!(!b.exists("#restrict"));
    // Lifted the same way.
    submit(&b, "#lift-restriction");
    assert!(
        b.text_of("#confirm-heading")
            .contains("Lift the restriction")
    );
    submit(&b, "#confirm");
    assert!(b.text().contains("Restriction lifted"), "{}", b.text());
    assert!(b.text_of("#subject-state").contains("Active"));

    // Erase: the confirmation names what goes and what stays; nothing erased yet.
    b.fill("#erase-reason", "Erasure asked by phone, ticket 2026-31");
    submit(&b, "#erase");
    assert_eq!(b.path(), format!("{page}/erase"));
    let deleted = b.text_of("#confirm-deleted");
    assert!(
        deleted.contains("user.name")
            && deleted.contains("user.contact.email")
            && deleted.contains("user.contact.phone_number"),
        "{deleted}"
    );
    assert!(b.exists("#confirm-kept"), "{}", b.text());
    b.screenshot("console-confirm-erase");
    assert!(!s.erased(&s.subject), "the first POST erased nothing");
    submit(&b, "#confirm");
    assert_eq!(b.path(), page);
    assert!(b.text().contains("Erased:"), "{}", b.text());
    assert!(b.text_of("#subject-state").contains("Erased"));
    assert!(!b.exists("#erase") && !b.exists("#restrict"));
    assert!(s.erased(&s.subject));

    // Fulfilling an erasure request says it erases, and asks first.
    b.goto(&format!("/console/requests/{request}"));
    assert!(b.text_of("#fulfil-does").contains("erases"), "{}", b.text());
    submit(&b, "#fulfil");
    assert!(
        b.text_of("#confirm-heading")
            .contains("Fulfil the erasure request"),
        "{}",
        b.text()
    );
    assert!(b.text_of("#confirm-deleted").contains("user.name"));
    assert_eq!(s.request(&request)["state"], "verified");
    assert!(!s.erased(&other));
    submit(&b, "#confirm");
    assert_eq!(b.path(), format!("/console/requests/{request}"));
    assert_eq!(b.text_of("#state"), "fulfilled");
    assert!(b.text().contains("the person is erased"), "{}", b.text());
    assert!(s.erased(&other));
    // The person's notice says what was done.
    let notice = s.fulfilled_notice(&request);
    assert_eq!(notice["payload"]["done"]["what"], "erased", "{notice}");
    assert!(
        !notice.to_string().contains("Dominique"),
        "no value of the person in the notice: {notice}"
    );
}
