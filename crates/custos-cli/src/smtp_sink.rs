//! Notices by email (`--smtp-url`): each outbox message is rendered with
//! `custos_core::notices` and sent with lettre's blocking SMTP client over rustls.
//!
//! The recipient is resolved when the message is sent, never stored in the outbox: a
//! person's notice goes to their email held in the vault (an audited `notice.contact`
//! read, `custos_core::contact`); kinds addressed to the operator (the authority
//! deadline of a breach, a request to pass on to a controller) go to
//! `--operator-email`. Failures come back as short reasons built here — never the
//! server's reply text, which can quote the address, and never the URL, which can
//! carry the password — so `last_error` and the logs stay free of both.
//!
//! TLS: `smtps://` is TLS from the first byte; `smtp://` to any host but a loopback one
//! requires STARTTLS unless the URL says otherwise (`?tls=opportunistic`, or
//! `?tls=none` to send in clear, e.g. to a relay on a private network).

use std::sync::Arc;
use std::time::Duration;

use custos_core::contact::contact_email;
use custos_core::notices::{TO_OPERATOR, render};
use custos_core::rights::Sink;
use custos_core::vault::Vault;
use custos_store::{OutboxMessage, Store, TenantId};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{SmtpTransport, Transport};

/// How long one exchange with the mail server may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The SMTP settings from `custos serve`'s flags.
pub struct SmtpConfig {
    transport: SmtpTransport,
    /// For Debug and logs: scheme, host and port, no user or password.
    server: String,
    from: Mailbox,
    operator: Option<Mailbox>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("server", &self.server)
            .field("from", &self.from.email.to_string())
            .field("operator", &self.operator.as_ref().map(|_| "set"))
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// Reads `smtp[s]://[user:password@]host[:port][?tls=…]`, the sender and the
    /// operator's address. Errors never quote the URL (it may carry a password).
    pub fn new(url: &str, from: &str, operator: Option<&str>) -> Result<Self, String> {
        let mut parsed = url::Url::parse(url).map_err(|e| {
            format!("--smtp-url is not a URL ({e}); expected smtp://host:port or smtps://host:port")
        })?;
        let host = parsed
            .host_str()
            .ok_or("--smtp-url names no host")?
            .to_owned();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let mode = match (parsed.scheme(), tls.as_deref()) {
            ("smtps", _) => "tls",
            ("smtp", None) if loopback => "none",
            ("smtp", None) => {
                parsed.set_query(Some("tls=required"));
                "starttls"
            }
            ("smtp", Some("none")) => {
                parsed.set_query(None);
                "none"
            }
            ("smtp", Some("required")) => "starttls",
            ("smtp", Some("opportunistic")) => "opportunistic starttls",
            ("smtp", Some(_)) => {
                return Err("--smtp-url: tls must be required, opportunistic or none".to_owned());
            }
            (other, _) => {
                return Err(format!(
                    "--smtp-url: unknown scheme `{other}` (smtp or smtps)"
                ));
            }
        };
        let server = format!(
            "{}://{host}:{} ({mode})",
            parsed.scheme(),
            parsed
                .port()
                .map_or_else(|| "default".to_owned(), |p| p.to_string())
        );
        let transport = SmtpTransport::from_url(parsed.as_str())
            .map_err(|_| "--smtp-url cannot be used (scheme, host or TLS settings)".to_owned())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| "--mail-from is not an email address".to_owned())?;
        let operator = operator
            .map(|o| {
                o.parse::<Mailbox>()
                    .map_err(|_| "--operator-email is not an email address".to_owned())
            })
            .transpose()?;
        Ok(SmtpConfig {
            transport,
            server,
            from,
            operator,
        })
    }

    /// Where the server is, without credentials: for the startup line.
    pub fn server(&self) -> &str {
        &self.server
    }
}

/// The sink: renders, resolves the recipient, sends.
pub struct SmtpSink<S> {
    config: SmtpConfig,
    vault: Arc<Vault<S>>,
}

impl<S> std::fmt::Debug for SmtpSink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: Store> SmtpSink<S> {
    pub fn new(config: SmtpConfig, vault: Arc<Vault<S>>) -> Self {
        SmtpSink { config, vault }
    }

    fn recipient(&self, tenant: &TenantId, m: &OutboxMessage) -> Result<Mailbox, String> {
        let subject = match m.subject {
            Some(s) if !TO_OPERATOR.contains(&m.kind.as_str()) => s,
            _ => {
                return self.config.operator.clone().ok_or_else(|| {
                    format!(
                        "{} is addressed to the operator and no --operator-email is set",
                        m.kind
                    )
                });
            }
        };
        // A code goes to the contact it was started for, never to another one.
        let only = if m.kind == "verification.code" {
            let p: serde_json::Value = serde_json::from_str(&m.payload).unwrap_or_default();
            Some(
                p.get("category")
                    .and_then(|c| c.as_str())
                    .map(str::to_owned)
                    .ok_or("verification.code names no contact category")?,
            )
        } else {
            None
        };
        let email = contact_email(&self.vault, tenant, subject, &m.kind, only.as_deref())
            .map_err(|e| format!("cannot read the subject's contact: {}", e.code()))?
            .ok_or_else(|| self.no_contact(tenant, subject, only.as_deref()))?;
        email
            .parse::<Mailbox>()
            .map_err(|_| "the subject's stored email is not a usable recipient".to_owned())
    }
}

impl<S: Store> SmtpSink<S> {
    /// Why no address was found, for `last_error`.
    fn no_contact(
        &self,
        tenant: &TenantId,
        subject: custos_store::SubjectId,
        only: Option<&str>,
    ) -> String {
        let erased = matches!(
            self.vault.store().subject(tenant, subject),
            Ok(Some(s)) if s.state == custos_store::SubjectState::Erased
        );
        match only {
            _ if erased => "the subject was erased; no contact is held to send to".to_owned(),
            Some(c) => format!("no email held for the subject in {c} (this sink sends email only)"),
            None => "no email address held for the subject".to_owned(),
        }
    }
}

impl<S: Store + Send + Sync> Sink for SmtpSink<S> {
    fn deliver(&self, tenant: &TenantId, m: &OutboxMessage) -> Result<(), String> {
        let (subject_line, body) = render(&m.kind, &m.payload)
            .ok_or_else(|| format!("no template for {} or its payload is incomplete", m.kind))?;
        let to = self.recipient(tenant, m)?;
        // The outbox id as Message-ID: a redelivery after a crash carries the same id,
        // so mail systems can recognise the duplicate.
        let domain = self.config.from.email.domain().to_owned();
        let email = Message::builder()
            .from(self.config.from.clone())
            .to(to)
            .subject(subject_line)
            .date(std::time::SystemTime::from(m.created_at))
            .message_id(Some(format!("<{}@{domain}>", m.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| "cannot build the email".to_owned())?;
        self.config
            .transport
            .send(&email)
            .map(|_| ())
            .map_err(|e| reason(&e))
    }
}

/// A short reason for `last_error`: the kind of failure and the SMTP code, never the
/// server's text (it can quote the recipient) nor anything from the URL.
fn reason(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if e.is_permanent() {
        return format!("the mail server refused the message ({code})");
    }
    if e.is_transient() {
        return format!("the mail server deferred the message ({code})");
    }
    if e.is_timeout() {
        return "timed out talking to the mail server".to_owned();
    }
    if e.is_tls() {
        return "TLS with the mail server failed".to_owned();
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return format!("cannot reach the mail server ({})", io.kind());
        }
        source = s.source();
    }
    "the exchange with the mail server failed".to_owned()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use custos_core::clock::{Clock, TestClock};
    use custos_core::consent::NothingRecorded;
    use custos_core::rights::{NewRequest, deliver_due};
    use custos_core::tenant::{ensure_tenant, publish_policy};
    use custos_core::vault::{Actor, NewRecord, RequestCtx, WriteRequest};
    use custos_crypto::{KeyFile, KeyRing};
    use custos_store::RequestStore;
    use custos_store_sqlite::SqliteStore;

    use super::*;

    const PASSWORD: &str = "s3cret-Pa55";

    /// A one-connection SMTP server on 127.0.0.1: answers just enough of RFC 5321 and
    /// sends back the whole transcript (commands and DATA) when the client quits.
    fn smtp_server() -> (u16, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let mut transcript = String::new();
            out.write_all(b"220 localhost test ESMTP\r\n").unwrap();
            let mut in_data = false;
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap() > 0 {
                transcript.push_str(&line);
                let cmd = line.trim_end().to_ascii_uppercase();
                let reply: &[u8] = if in_data {
                    if cmd == "." {
                        in_data = false;
                        b"250 queued\r\n"
                    } else {
                        b""
                    }
                } else if cmd.starts_with("EHLO") {
                    b"250-localhost\r\n250 AUTH PLAIN\r\n"
                } else if cmd.starts_with("AUTH") {
                    b"235 ok\r\n"
                } else if cmd.starts_with("MAIL") || cmd.starts_with("RCPT") {
                    b"250 ok\r\n"
                } else if cmd == "DATA" {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if cmd == "QUIT" {
                    out.write_all(b"221 bye\r\n").unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                out.write_all(reply).unwrap();
                line.clear();
            }
            let _ = tx.send(transcript);
        });
        (port, rx)
    }

    /// A closed port: bound, then dropped.
    fn closed_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    struct Fixture {
        vault: Arc<Vault<SqliteStore>>,
        store: Arc<SqliteStore>,
        clock: Arc<TestClock>,
        tenant: TenantId,
        actor: Actor,
    }

    fn fixture() -> Fixture {
        let t0: jiff::Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let store = Arc::new(SqliteStore::open_temporary().unwrap());
        let clock = Arc::new(TestClock::at(t0));
        let keys = Arc::new(KeyRing::from_keyfile(&KeyFile::generate("t").unwrap()));
        let tenant = TenantId::new("t").unwrap();
        ensure_tenant(store.as_ref(), &tenant, "T", t0).unwrap();
        let policy = include_str!("../../../policies/plume-sasu.toml");
        publish_policy(store.as_ref(), &tenant, policy, "p.toml", t0, t0).unwrap();
        let vault = Arc::new(Vault::new(
            Arc::clone(&store),
            keys,
            Arc::clone(&clock) as Arc<dyn Clock>,
            Arc::new(NothingRecorded),
        ));
        let actor = Actor {
            tenant: tenant.clone(),
            key_id: "ck_admin".into(),
            role: "sales_order_delivery".into(),
            purposes: vec![],
            admin: true,
        };
        Fixture {
            vault,
            store,
            clock,
            tenant,
            actor,
        }
    }

    /// A person with an email asks for access: one acknowledgement is owed.
    fn open_request(f: &Fixture) -> custos_core::rights::RequestView {
        let ctx = RequestCtx::default();
        let subject = f
            .vault
            .create_subject(
                &f.actor,
                &WriteRequest {
                    jurisdiction: None,
                    settings: Default::default(),
                    consents: Vec::new(),
                    records: vec![NewRecord {
                        category: "user.contact.email".into(),
                        value: serde_json::json!("claire@example.org"),
                        purpose: "account".into(),
                        source: None,
                    }],
                },
                &ctx,
            )
            .unwrap()
            .written()
            .subject;
        // From JSON, as the API receives it (optional fields keep their defaults).
        let request: NewRequest = serde_json::from_value(
            serde_json::json!({ "right": "access", "subject": subject, "channel": "email" }),
        )
        .unwrap();
        f.vault.open_request(&f.actor, &request, &ctx).unwrap()
    }

    fn sink(f: &Fixture, port: u16) -> SmtpSink<SqliteStore> {
        let url = format!("smtp://custos:{PASSWORD}@127.0.0.1:{port}");
        let config = SmtpConfig::new(&url, "privacy@plume.example", None).unwrap();
        SmtpSink::new(config, Arc::clone(&f.vault))
    }

    #[test]
    fn an_opened_request_sends_one_email_with_the_due_date_to_the_stored_address() {
        let f = fixture();
        let view = open_request(&f);
        let (port, transcript) = smtp_server();
        let sink = sink(&f, port);
        let report = deliver_due(f.store.as_ref(), &sink, &f.tenant, f.clock.now(), 10).unwrap();
        assert_eq!((report.delivered, report.failed), (1, 0));
        let t = transcript.recv().unwrap();
        assert_eq!(t.matches("RCPT TO").count(), 1, "{t}");
        assert!(t.contains("RCPT TO:<claire@example.org>"), "{t}");
        assert!(t.contains("MAIL FROM:<privacy@plume.example>"), "{t}");
        let due = view.due_at.strftime("%Y-%m-%d %H:%M UTC").to_string();
        assert!(t.contains(&due), "the due date {due} is in the email: {t}");
        assert!(t.contains(&view.id.to_string()), "the reference");
        assert!(t.contains("Content-Type: text/plain"), "{t}");
        let m = &f.store.outbox_of(&f.tenant, view.subject.unwrap()).unwrap()[0];
        assert!(m.delivered_at.is_some() && m.last_error.is_none());
        // The contact read is audited, without the address.
        let entries = f.store.audit_entries(&f.tenant, 1, 100).unwrap();
        let read = entries
            .iter()
            .find(|e| e.draft.action == "notice.contact")
            .expect("an audited contact read");
        assert_eq!(read.draft.reason, "request.acknowledged");
        assert!(!format!("{entries:?}").contains("claire@example.org"));
    }

    #[test]
    fn a_failing_server_keeps_the_message_with_an_error_and_a_later_attempt() {
        let f = fixture();
        let view = open_request(&f);
        let sink = sink(&f, closed_port());
        let now = f.clock.now();
        let report = deliver_due(f.store.as_ref(), &sink, &f.tenant, now, 10).unwrap();
        assert_eq!((report.delivered, report.failed), (0, 1));
        let m = &f.store.outbox_of(&f.tenant, view.subject.unwrap()).unwrap()[0];
        assert!(m.delivered_at.is_none());
        assert!(m.next_attempt_at > now);
        assert_eq!(m.attempts, 1);
        let err = m.last_error.as_deref().unwrap();
        assert!(err.contains("mail server"), "{err}");
        for text in [err.to_owned(), format!("{sink:?}"), format!("{m:?}")] {
            assert!(!text.contains(PASSWORD), "{text}");
            assert!(!text.contains("claire@example.org"), "{text}");
        }
        // Not due again until the backoff has passed.
        let again = deliver_due(f.store.as_ref(), &sink, &f.tenant, now, 10).unwrap();
        assert_eq!((again.delivered, again.failed), (0, 0));
    }

    #[test]
    fn a_notice_to_an_erased_subject_says_so_and_stays_undelivered() {
        let f = fixture();
        let view = open_request(&f);
        let subject = view.subject.unwrap();
        f.vault
            .erase(&f.actor, subject, "erasure request", &RequestCtx::default())
            .unwrap();
        // The recipient is resolved before any connection: no server is needed.
        let sink = sink(&f, closed_port());
        let report = deliver_due(f.store.as_ref(), &sink, &f.tenant, f.clock.now(), 10).unwrap();
        assert_eq!((report.delivered, report.failed), (0, 1));
        let m = &f.store.outbox_of(&f.tenant, subject).unwrap()[0];
        assert!(m.last_error.as_deref().unwrap().contains("erased"), "{m:?}");
    }

    #[test]
    fn operator_messages_without_an_operator_address_stay_undelivered() {
        let f = fixture();
        let sink = sink(&f, closed_port());
        let m = OutboxMessage {
            id: custos_store::Uuid::now_v7(),
            subject: None,
            kind: "breach.authority".into(),
            payload:
                serde_json::json!({"incident": "i1", "due": "2026-03-05T09:00:00Z", "people": 3})
                    .to_string(),
            created_at: f.clock.now(),
            attempts: 0,
            next_attempt_at: f.clock.now(),
            delivered_at: None,
            last_error: None,
        };
        let err = sink.deliver(&f.tenant, &m).unwrap_err();
        assert!(err.contains("--operator-email"), "{err}");
    }

    #[test]
    fn bad_settings_are_refused_without_quoting_the_url() {
        for url in [
            format!("ftp://u:{PASSWORD}@mail.example"),
            format!("smtp://u:{PASSWORD}@mail.example?tls=maybe"),
            format!("not a url {PASSWORD}"),
        ] {
            let err = SmtpConfig::new(&url, "a@b.example", None).unwrap_err();
            assert!(!err.contains(PASSWORD), "{err}");
        }
        assert!(SmtpConfig::new("smtp://mail.example", "not an address", None).is_err());
        let c = SmtpConfig::new(
            &format!("smtp://u:{PASSWORD}@mail.example"),
            "a@b.example",
            None,
        )
        .unwrap();
        assert!(
            c.server().contains("starttls"),
            "remote smtp:// requires STARTTLS"
        );
        assert!(!format!("{c:?}").contains(PASSWORD));
    }
}
