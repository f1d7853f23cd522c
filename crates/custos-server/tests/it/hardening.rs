//! Issue 17.5, 17.6, 17.9 and 17.11 from the outside: what a prober, a flood of
//! anonymous traffic, a slow client or a stream of bad keys can do to the privacy
//! center and the API, over real HTTP. Several clients are played through the
//! `X-Forwarded-For` header the test server trusts.

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use custos_core::rights::{Sink, deliver_due};
use custos_server::{ConnLimits, EdgeLimits, RateLimiter};
use custos_store::{OutboxMessage, RequestStore, TenantId, VerificationStore};
use jiff::SignedDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::privacy_pages::{Person, csrf_of, latest_code};
use super::{App, app, app_behind, customer};

const CAMILLE: &str = "camille.martin%40example.fr";

/// A sink that keeps what it was handed.
#[derive(Default)]
struct Collect(Mutex<Vec<OutboxMessage>>);

impl Sink for Collect {
    fn deliver(&self, _tenant: &TenantId, m: &OutboxMessage) -> Result<(), String> {
        self.0.lock().unwrap().push(m.clone());
        Ok(())
    }
}

/// The page with what differs per session (CSRF tokens) blanked out.
fn comparable(html: &str) -> String {
    let mut out = html.to_owned();
    while let Some(at) = out.find("name=\"csrf\" value=\"") {
        let start = at + 19;
        out.replace_range(at..start + 64, "CSRF");
    }
    out
}

fn app_with_edge(edge: EdgeLimits) -> App {
    app_behind(
        RateLimiter::new(100_000, 100_000),
        edge,
        ConnLimits::default(),
    )
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_answer_and_the_same_kind_of_work() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let (mut known, k_csrf) = Person::arrive_from(&a, Some("198.51.100.1")).await;
    let (mut unknown, u_csrf) = Person::arrive_from(&a, Some("198.51.100.2")).await;
    let k = known
        .post(
            "/privacy/sign-in",
            &format!("csrf={k_csrf}&email={CAMILLE}"),
        )
        .await;
    let u = unknown
        .post(
            "/privacy/sign-in",
            &format!("csrf={u_csrf}&email=nobody%40example.fr"),
        )
        .await;
    assert_eq!(k.status, StatusCode::SEE_OTHER);
    assert_eq!(u.status, k.status);
    assert_eq!(u.header("location"), k.header("location"));
    let (kp, up) = (
        known.get("/privacy/code").await,
        unknown.get("/privacy/code").await,
    );
    assert_eq!((kp.status, up.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(comparable(&kp.text()), comparable(&up.text()));
    // A wrong code: the same refusal for both.
    let kw = known
        .post("/privacy/code", &format!("csrf={k_csrf}&code=000000"))
        .await;
    let uw = unknown
        .post("/privacy/code", &format!("csrf={u_csrf}&code=000000"))
        .await;
    assert_eq!(kw.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(uw.status, kw.status);
    assert_eq!(comparable(&kw.text()), comparable(&uw.text()));

    // Only the real code waits for delivery: the unknown address's message was
    // written closed, holding no code, so it can never delay a real one.
    let queued = a
        .store
        .due_outbox(
            &a.tenant,
            custos_core::clock::Clock::now(a.clock.as_ref()),
            100,
        )
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "verification.code")
        .collect::<Vec<_>>();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        queued[0].subject.map(|s| s.0.to_string()),
        Some(subject.clone())
    );
    assert!(latest_code(&a, &subject).len() == 6);
    let sink = Collect::default();
    let report = deliver_due(
        a.store.as_ref(),
        &sink,
        &a.tenant,
        custos_core::clock::Clock::now(a.clock.as_ref()),
        100,
    )
    .unwrap();
    assert_eq!((report.delivered, report.closed), (1, 0));
    assert_eq!(sink.0.lock().unwrap().len(), 1);
}

// The pace is on the real clock: this test reads it, as a prober would.
#[allow(clippy::disallowed_methods)]
#[tokio::test]
async fn sign_ins_and_code_checks_answer_at_one_pace_whatever_the_address() {
    let a = app();
    a.create(&customer("Camille Martin")).await;
    let pace = a.state.edge.answer_pace;
    assert!(pace >= Duration::from_millis(100), "{pace:?}");
    for (n, email) in [CAMILLE, "nobody%40example.fr"].into_iter().enumerate() {
        let (mut p, csrf) = Person::arrive_from(&a, Some(&format!("198.51.100.{}", 20 + n))).await;
        let started = std::time::Instant::now();
        let r = p
            .post("/privacy/sign-in", &format!("csrf={csrf}&email={email}"))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            started.elapsed() >= pace,
            "{email}: {:?}",
            started.elapsed()
        );
        let started = std::time::Instant::now();
        let r = p
            .post("/privacy/code", &format!("csrf={csrf}&code=000000"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            started.elapsed() >= pace,
            "{email}: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_flood_of_unknown_addresses_never_delays_a_real_code() {
    let a = app_with_edge(EdgeLimits {
        answer_pace: Duration::from_millis(1),
        ..EdgeLimits::default()
    });
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    for n in 0..40 {
        let (mut p, csrf) = Person::arrive_from(&a, Some(&format!("10.1.0.{n}"))).await;
        let r = p
            .post(
                "/privacy/sign-in",
                &format!("csrf={csrf}&email=ghost{n}%40example.fr"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let (mut camille, csrf) = Person::arrive_from(&a, Some("192.0.2.50")).await;
    camille
        .post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
        .await;
    // One delivery round of one message: it is Camille's code.
    let sink = Collect::default();
    let now = custos_core::clock::Clock::now(a.clock.as_ref());
    let report = deliver_due(a.store.as_ref(), &sink, &a.tenant, now, 1).unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let sent = sink.0.lock().unwrap();
    assert_eq!(sent[0].subject.map(|s| s.0.to_string()), Some(subject));
    assert!(sent[0].payload.contains("\"code\""));
}

#[tokio::test]
async fn a_few_probing_clients_cannot_spend_the_persons_codes() {
    let a = app_with_edge(EdgeLimits {
        answer_pace: Duration::from_millis(1),
        ..EdgeLimits::default()
    });
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    // Five clients, each as often as its own limit lets it: ten codes to Camille.
    for n in 0..5 {
        let (mut p, csrf) = Person::arrive_from(&a, Some(&format!("203.0.113.{}", 40 + n))).await;
        for _ in 0..2 {
            let r = p
                .post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER);
        }
    }
    let probed = latest_code(&a, &subject);
    let (mut camille, csrf) = Person::arrive_from(&a, Some("192.0.2.50")).await;
    camille
        .post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
        .await;
    let code = latest_code(&a, &subject);
    let r = camille
        .post("/privacy/code", &format!("csrf={csrf}&code={code}"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{probed} {code}: {}",
        r.text()
    );
    assert!(
        camille
            .get("/privacy")
            .await
            .text()
            .contains("Camille Martin")
    );
}

// The body timeout is on the real clock, like the header timeout below.
#[allow(clippy::disallowed_methods)]
#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off() {
    let a = app_behind(
        RateLimiter::new(100_000, 100_000),
        EdgeLimits::default(),
        ConnLimits {
            body_read_timeout: Duration::from_millis(400),
            ..ConnLimits::default()
        },
    );
    let mut slow = tokio::net::TcpStream::connect(a.addr).await.unwrap();
    slow.write_all(
        b"POST /privacy/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    // A byte now and then, each well within any idle timeout, never the whole body.
    let mut buf = vec![0u8; 4096];
    let mut answered = 0;
    let ended = loop {
        if started.elapsed() > Duration::from_secs(5) {
            break false;
        }
        match tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(n)) => answered += n,
            Err(_) => {
                if slow.write_all(b"x").await.is_err() {
                    break true;
                }
            }
        }
    };
    assert!(ended, "the connection was still open after 5 s");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let _ = answered;
}

#[tokio::test]
async fn probing_from_one_address_is_limited_and_never_locks_the_customer_out() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let (mut prober, csrf) = Person::arrive_from(&a, Some("203.0.113.9")).await;
    let sign_in = |email: &str| format!("csrf={csrf}&email={email}");
    // The same address twice, then 429 — for the customer's address as for an unknown one.
    for _ in 0..2 {
        let r = prober.post("/privacy/sign-in", &sign_in(CAMILLE)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = prober
            .post("/privacy/sign-in", &sign_in("ghost%40example.fr"))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let known = prober.post("/privacy/sign-in", &sign_in(CAMILLE)).await;
    let unknown = prober
        .post("/privacy/sign-in", &sign_in("ghost%40example.fr"))
        .await;
    assert_eq!(known.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(unknown.status, known.status);
    assert_eq!(known.header("retry-after"), unknown.header("retry-after"));
    assert!(known.text().contains("VAULT-0266"));
    // Many addresses from one client: the client's own budget (10) runs out.
    let mut limited = 0;
    for n in 0..10 {
        let r = prober
            .post("/privacy/sign-in", &sign_in(&format!("p{n}%40example.fr")))
            .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.header("retry-after").is_some());
            limited += 1;
        }
    }
    assert!(limited >= 4, "{limited}");

    // The customer, elsewhere, still gets a code and signs in.
    let (mut camille, csrf) = Person::arrive_from(&a, Some("192.0.2.50")).await;
    let r = camille
        .post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let code = latest_code(&a, &subject);
    let r = camille
        .post("/privacy/code", &format!("csrf={csrf}&code={code}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        camille
            .get("/privacy")
            .await
            .text()
            .contains("Camille Martin")
    );
}

#[tokio::test]
async fn page_views_make_no_session_and_a_signed_in_one_survives_a_flood_of_sign_ins() {
    let a = app_with_edge(EdgeLimits {
        max_sessions: 20,
        answer_pace: Duration::from_millis(1),
        ..EdgeLimits::default()
    });
    for _ in 0..2000 {
        let r = a.get("/privacy", None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    for _ in 0..50 {
        a.get("/console", None).await;
    }
    assert_eq!(
        a.state.sessions.counts(),
        (0, 0),
        "no session for page views"
    );

    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let (mut camille, csrf) = Person::arrive_from(&a, Some("192.0.2.50")).await;
    camille
        .post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
        .await;
    let code = latest_code(&a, &subject);
    let r = camille
        .post("/privacy/code", &format!("csrf={csrf}&code={code}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Three times as many half-finished sign-ins as there are anonymous slots, each
    // from its own address.
    for n in 0..60 {
        let (mut p, csrf) =
            Person::arrive_from(&a, Some(&format!("10.0.{}.{}", n / 200, n % 200))).await;
        let r = p
            .post(
                "/privacy/sign-in",
                &format!("csrf={csrf}&email=flood{n}%40example.fr"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let (anonymous, signed_in) = a.state.sessions.counts();
    assert_eq!((anonymous, signed_in), (20, 1));
    assert!(
        camille
            .get("/privacy")
            .await
            .text()
            .contains("Camille Martin")
    );
}

#[tokio::test]
async fn new_sessions_are_limited_per_client_address() {
    let a = app();
    let mut last = StatusCode::OK;
    for _ in 0..25 {
        // A fresh browser each time: no cookie, so each language choice needs a session.
        let (mut p, csrf) = Person::arrive_from(&a, Some("203.0.113.77")).await;
        last = p
            .post("/privacy/language", &format!("csrf={csrf}&lang=fr"))
            .await
            .status;
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let (mut other, csrf) = Person::arrive_from(&a, Some("203.0.113.78")).await;
    let r = other
        .post("/privacy/language", &format!("csrf={csrf}&lang=fr"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_code_leaves_the_database_at_delivery_and_is_never_sent_after_it_expires() {
    let a = app();
    let (subject, _) = a.create(&customer("Camille Martin")).await;
    let (mut p, csrf) = Person::arrive_from(&a, Some("192.0.2.50")).await;
    p.post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
        .await;
    let code = latest_code(&a, &subject);
    // The challenge keeps a keyed hash, never the code.
    let sid = custos_store::SubjectId(subject.parse().unwrap());
    let msg = a.store.outbox_of(&a.tenant, sid).unwrap().pop().unwrap();
    let payload: serde_json::Value = serde_json::from_str(&msg.payload).unwrap();
    let challenge = a
        .store
        .challenge(
            &a.tenant,
            payload["challenge"].as_str().unwrap().parse().unwrap(),
        )
        .unwrap()
        .unwrap();
    use sha2::Digest;
    assert_ne!(
        challenge.code_hash,
        <[u8; 32]>::from(sha2::Sha256::digest(code.as_bytes()))
    );
    assert!(!format!("{challenge:?}").contains(&code));

    let sink = Collect::default();
    deliver_due(
        a.store.as_ref(),
        &sink,
        &a.tenant,
        custos_core::clock::Clock::now(a.clock.as_ref()),
        100,
    )
    .unwrap();
    assert!(
        sink.0.lock().unwrap()[0].payload.contains(&code),
        "the sink got it"
    );
    let row = a.store.outbox_of(&a.tenant, sid).unwrap().pop().unwrap();
    assert!(row.delivered_at.is_some());
    assert!(!row.payload.contains(&code), "{}", row.payload);
    assert!(!row.payload.contains("\"code\""), "{}", row.payload);

    // A code not delivered before it expires is closed unsent, and scrubbed too.
    a.clock.advance(SignedDuration::from_mins(2));
    p.post("/privacy/sign-in", &format!("csrf={csrf}&email={CAMILLE}"))
        .await;
    a.clock.advance(SignedDuration::from_mins(11));
    let late = Collect::default();
    let report = deliver_due(
        a.store.as_ref(),
        &late,
        &a.tenant,
        custos_core::clock::Clock::now(a.clock.as_ref()),
        100,
    )
    .unwrap();
    assert_eq!((report.delivered, report.closed), (0, 1));
    assert!(late.0.lock().unwrap().is_empty());
    let row = a.store.outbox_of(&a.tenant, sid).unwrap().pop().unwrap();
    assert_eq!(row.last_error.as_deref(), Some("expired before delivery"));
    assert!(!row.payload.contains("\"code\""), "{}", row.payload);
}

#[tokio::test]
async fn bad_keys_from_one_address_get_429_before_any_key_is_looked_up() {
    let a = app();
    let bad = "ck_nope.not-a-real-secret";
    let call = |token: &str, from: &str| {
        let req = super::request(
            "GET",
            "/v1/subjects/00000000-0000-0000-0000-000000000000",
            Some(token),
        )
        .header("x-forwarded-for", from)
        .body(axum::body::Body::empty())
        .unwrap();
        a.send(req)
    };
    for _ in 0..20 {
        assert_eq!(
            call(bad, "203.0.113.5").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let r = call(bad, "203.0.113.5").await;
    let v = super::assert_problem(&r, 429, "VAULT-0265");
    assert!(r.header("retry-after").is_some(), "{v}");
    // Even a valid key from that address waits: the check comes before any key work.
    super::assert_problem(&call(&a.admin, "203.0.113.5").await, 429, "VAULT-0265");
    // Another address is not affected, and a few seconds refill the budget.
    let passed =
        |s: StatusCode| s != StatusCode::TOO_MANY_REQUESTS && s != StatusCode::UNAUTHORIZED;
    assert!(passed(call(&a.admin, "198.51.100.3").await.status));
    a.clock.advance(SignedDuration::from_secs(5));
    assert!(passed(call(&a.admin, "203.0.113.5").await.status));
}

// The header timeout is hyper's, on the real clock: the one test here that reads it.
#[allow(clippy::disallowed_methods)]
#[tokio::test]
async fn a_slow_or_silent_client_is_cut_off_and_one_client_holds_few_connections() {
    let a = app_behind(
        RateLimiter::new(100_000, 100_000),
        EdgeLimits::default(),
        ConnLimits {
            header_read_timeout: Duration::from_millis(300),
            per_client: Some(3),
            ..ConnLimits::default()
        },
    );
    let closed = |mut s: tokio::net::TcpStream| async move {
        let mut buf = [0u8; 64];
        // Closed: EOF (or a reset) well before this generous bound.
        matches!(
            tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    };
    // Headers trickling in slower than the timeout: cut off without an answer.
    let mut slow = tokio::net::TcpStream::connect(a.addr).await.unwrap();
    slow.write_all(b"GET /privacy HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert!(closed(slow).await);
    assert!(started.elapsed() < Duration::from_secs(3));

    // Three idle connections are held; the fourth from the same address is closed.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(a.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fourth = tokio::net::TcpStream::connect(a.addr).await.unwrap();
    assert!(closed(fourth).await);
    // The idle ones are cut off by the same timeout, and the address may connect again.
    for s in idle {
        assert!(closed(s).await);
    }
    let r = a.get("/healthz", None).await;
    assert!(r.status.is_success(), "{}", r.status);
}

#[tokio::test]
async fn the_console_counts_refused_keys_like_the_api() {
    let a = app();
    let r = a.get("/console", None).await;
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = csrf_of(&r.text());
    let mut last = StatusCode::OK;
    for _ in 0..22 {
        let req = super::request("POST", "/console/sign-in", None)
            .header("cookie", &cookie)
            .header("x-forwarded-for", "203.0.113.6")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!(
                "csrf={csrf}&key=ck_bad.key"
            )))
            .unwrap();
        last = a.send(req).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}
