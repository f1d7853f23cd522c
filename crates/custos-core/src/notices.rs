//! The text of the notices custos owes people (and the supervisory authority): one
//! plain-text template per outbox message kind, in English, filled from the message's
//! payload (ids, dates, reasons, category names — never a personal value, except the
//! one-time code, which travels only in its own message).
//!
//! Pure: a kind and its payload in, a subject line and a body out. A kind without a
//! template, or a payload missing what the person must be told, gives `None`, so a
//! sink keeps the message undelivered rather than send an incomplete notice.

use serde_json::Value;

/// A rendered notice: the subject line and the plain-text body.
pub type Rendered = (String, String);

/// Renders an outbox message of `kind` from its JSON payload.
pub fn render(kind: &str, payload_json: &str) -> Option<Rendered> {
    let p: Value = serde_json::from_str(payload_json).ok()?;
    match kind {
        "request.acknowledged" => acknowledged(&p),
        "request.extended" => extended(&p),
        "request.fulfilled" => fulfilled(&p),
        "request.rejected" => rejected(&p),
        "request.routed" => routed(&p),
        "verification.code" => verification(&p),
        "breach.notice" => breach_notice(&p),
        "breach.authority" => breach_authority(&p),
        crate::policy_change::KIND => crate::policy_change::render_notice(&p),
        _ => None,
    }
}

/// The kinds [`render`] has a template for.
pub const KINDS: [&str; 8] = [
    "request.acknowledged",
    "request.extended",
    "request.fulfilled",
    "request.rejected",
    "request.routed",
    "verification.code",
    "breach.notice",
    "breach.authority",
];

const FOOTER: &str = "\nThis message was sent automatically by the privacy service of the \
organisation that holds your data. Please keep the reference above if you contact them.\n";

fn text<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.get(key)?.as_str().filter(|s| !s.trim().is_empty())
}

/// A timestamp as people read it: `2026-03-16 09:00 UTC` (the raw value if it is not one).
fn date(p: &Value, key: &str) -> Option<String> {
    let raw = text(p, key)?;
    Some(match raw.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => raw.to_owned(),
    })
}

/// `consent_withdrawal` → `consent withdrawal`.
fn right(p: &Value) -> Option<String> {
    Some(text(p, "right")?.replace('_', " "))
}

fn acknowledged(p: &Value) -> Option<Rendered> {
    let id = text(p, "request")?;
    let right = right(p)?;
    let due = date(p, "due_at")?;
    let subject = format!("We received your {right} request");
    let mut body = format!(
        "We received your request to exercise your right of {right}.\n\n\
         Reference: {id}\n\
         We will answer by: {due}\n"
    );
    if let Some(d) = text(p, "deadline") {
        body.push_str(&format!(
            "(the time allowed for an answer is {d} from receipt)\n"
        ));
    }
    if let Some(c) = text(p, "forwarded_to_controller") {
        body.push_str(&format!(
            "We process your data on behalf of {c}, who decides on your request; we have \
             passed it on to them.\n"
        ));
    }
    body.push_str(
        "\nIf we need more time, we will tell you before that date, with the reason \
         and the new date.\n",
    );
    body.push_str(FOOTER);
    Some((subject, body))
}

fn extended(p: &Value) -> Option<Rendered> {
    let id = text(p, "request")?;
    let right = right(p)?;
    let until = date(p, "extended_until")?;
    let reason = text(p, "reason")?;
    let subject = format!("We need more time to answer your {right} request");
    let mut body = format!(
        "We need more time to answer your request to exercise your right of {right}.\n\n\
         Reference: {id}\n"
    );
    if let Some(was) = date(p, "due_at") {
        body.push_str(&format!("Previous date: {was}\n"));
    }
    body.push_str(&format!(
        "New date for our answer: {until}\n\
         Reason for the extension: {reason}\n\n\
         If you disagree, you may complain to your data protection authority.\n"
    ));
    body.push_str(FOOTER);
    Some((subject, body))
}

fn fulfilled(p: &Value) -> Option<Rendered> {
    let id = text(p, "request")?;
    let right = right(p)?;
    let subject = format!("Your {right} request has been completed");
    let mut body = format!(
        "We have completed your request to exercise your right of {right}.\n\n\
         Reference: {id}\n"
    );
    if let Some(at) = date(p, "at") {
        body.push_str(&format!("Completed on: {at}\n"));
    }
    body.push_str(FOOTER);
    Some((subject, body))
}

fn rejected(p: &Value) -> Option<Rendered> {
    let id = text(p, "request")?;
    let right = right(p)?;
    let reason = text(p, "reason")?;
    let subject = format!("Your {right} request was not granted");
    let mut body = format!(
        "We could not grant your request to exercise your right of {right}.\n\n\
         Reference: {id}\n\
         Reason: {reason}\n"
    );
    if let Some(at) = date(p, "at") {
        body.push_str(&format!("Decided on: {at}\n"));
    }
    body.push_str(
        "\nYou may complain to your data protection authority or seek a judicial remedy.\n",
    );
    body.push_str(FOOTER);
    Some((subject, body))
}

/// Kinds addressed to the operator (who acts on them), not to the data subject, even
/// when the message names a subject.
pub const TO_OPERATOR: [&str; 2] = ["breach.authority", "request.routed"];

/// To the operator (processor mode): a request to pass on to the controller who
/// decides it. Ids and dates only.
fn routed(p: &Value) -> Option<Rendered> {
    let id = text(p, "request")?;
    let controller = text(p, "controller")?;
    let subject = format!("Action required: pass a rights request on to {controller}");
    let mut body = format!(
        "A rights request arrived for data processed on behalf of a controller, who \
         decides it. Pass it on and record the controller's instruction in custos.\n\n\
         Request: {id}\n\
         Controller: {controller}\n"
    );
    if let Some(r) = right(p) {
        body.push_str(&format!("Right: {r}\n"));
    }
    if let Some(at) = date(p, "received_at") {
        body.push_str(&format!("Received on: {at}\n"));
    }
    Some((subject, body))
}

fn verification(p: &Value) -> Option<Rendered> {
    let code = text(p, "code")?;
    let expires = date(p, "expires_at")?;
    let subject = "Your verification code".to_owned();
    let body = format!(
        "Your verification code is: {code}\n\n\
         It is valid until {expires} and can be used once.\n\
         If you did not ask for it, ignore this message: nothing happens without the code.\n\
         Never share this code with anyone who contacts you.\n"
    );
    Some((subject, body))
}

fn breach_notice(p: &Value) -> Option<Rendered> {
    let incident = text(p, "incident")?;
    let categories: Vec<&str> = p
        .get("categories")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if categories.is_empty() {
        return None;
    }
    let subject = "Important: a security incident concerning your data".to_owned();
    let mut body = String::from(
        "We are writing to tell you about a security incident that concerns personal \
         data we hold about you.\n\n",
    );
    if let Some(d) = text(p, "description") {
        body.push_str(&format!("What happened: {d}\n\n"));
    }
    body.push_str("The data concerned:\n");
    for c in &categories {
        body.push_str(&format!("- {c}\n"));
    }
    body.push_str(&format!(
        "\nReference: {incident}\n\n\
         Please be alert to unexpected messages that use this information, and contact \
         us if you notice anything unusual. You may complain to your data protection \
         authority.\n"
    ));
    body.push_str(FOOTER);
    Some((subject, body))
}

/// To the operator: the authority must be notified by `due`.
fn breach_authority(p: &Value) -> Option<Rendered> {
    let incident = text(p, "incident")?;
    let due = date(p, "due")?;
    let subject = format!("Action required: notify the supervisory authority by {due}");
    let mut body = format!(
        "A personal data breach was recorded that must be notified to the supervisory \
         authority.\n\n\
         Incident: {incident}\n\
         Notify the authority by: {due}\n"
    );
    if let Some(n) = p.get("people").and_then(Value::as_u64) {
        body.push_str(&format!("People affected: {n}\n"));
    }
    body.push_str(
        "\nSee the incident in custos for the categories, the period and the keys involved.\n",
    );
    Some((subject, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(kind: &str, p: Value) -> (String, String) {
        render(kind, &p.to_string()).expect("rendered")
    }

    #[test]
    fn acknowledgement_gives_the_reference_right_and_due_date() {
        let (s, b) = r(
            "request.acknowledged",
            json!({"request": "0190-abc", "right": "consent_withdrawal",
                   "due_at": "2026-03-31T09:00:00Z", "deadline": "1mo"}),
        );
        assert!(s.contains("consent withdrawal"));
        assert!(b.contains("0190-abc"));
        assert!(b.contains("2026-03-31 09:00 UTC"), "{b}");
        assert!(b.contains("1mo"));
    }

    #[test]
    fn extension_gives_the_new_date_and_the_reason_p0_18() {
        let (s, b) = r(
            "request.extended",
            json!({"request": "r1", "right": "access", "reason": "many systems to search",
                   "due_at": "2026-03-31T09:00:00Z", "extended_until": "2026-05-31T09:00:00Z"}),
        );
        assert!(s.contains("more time"));
        assert!(
            b.contains("New date for our answer: 2026-05-31 09:00 UTC"),
            "{b}"
        );
        assert!(b.contains("Reason for the extension: many systems to search"));
        assert!(b.contains("Previous date: 2026-03-31 09:00 UTC"));
        assert!(b.contains("r1"));
    }

    #[test]
    fn an_extension_without_its_reason_or_date_is_not_rendered() {
        let p =
            json!({"request": "r1", "right": "access", "extended_until": "2026-05-31T09:00:00Z"});
        assert_eq!(render("request.extended", &p.to_string()), None);
        let p = json!({"request": "r1", "right": "access", "reason": "x"});
        assert_eq!(render("request.extended", &p.to_string()), None);
    }

    #[test]
    fn fulfilment_names_the_request() {
        let (s, b) = r(
            "request.fulfilled",
            json!({"request": "r2", "right": "erasure", "at": "2026-03-20T10:30:00Z"}),
        );
        assert!(s.contains("erasure") && s.contains("completed"));
        assert!(b.contains("r2") && b.contains("2026-03-20 10:30 UTC"));
    }

    #[test]
    fn rejection_gives_the_reason_and_the_remedies() {
        let (s, b) = r(
            "request.rejected",
            json!({"request": "r3", "right": "erasure", "reason": "legal obligation to keep invoices",
                   "at": "2026-03-20T10:30:00Z"}),
        );
        assert!(s.contains("not granted"));
        assert!(b.contains("Reason: legal obligation to keep invoices"));
        assert!(b.contains("complain"));
    }

    #[test]
    fn routed_tells_the_operator_the_request_and_the_controller() {
        let (s, b) = r(
            "request.routed",
            json!({"request": "r4", "right": "access", "controller": "acme",
                   "received_at": "2026-03-01T09:00:00Z"}),
        );
        assert!(s.contains("acme"));
        assert!(b.contains("r4") && b.contains("Controller: acme"));
        let (_, b) = r(
            "request.acknowledged",
            json!({"request": "r4", "right": "access", "due_at": "2026-03-31T09:00:00Z",
                   "forwarded_to_controller": "acme"}),
        );
        assert!(b.contains("on behalf of acme"), "{b}");
    }

    #[test]
    fn the_code_appears_only_in_the_verification_message() {
        let (s, b) = r(
            "verification.code",
            json!({"challenge": "c1", "category": "user.contact.email", "code": "493817",
                   "expires_at": "2026-03-01T09:10:00Z"}),
        );
        assert!(!s.contains("493817"), "not in the subject line");
        assert!(b.contains("493817"));
        assert!(b.contains("2026-03-01 09:10 UTC"));
        // A code smuggled into another kind's payload is never rendered.
        for kind in KINDS.iter().filter(|k| **k != "verification.code") {
            let p = json!({"request": "r", "right": "access", "due_at": "2026-03-31T09:00:00Z",
                           "reason": "x", "extended_until": "2026-04-30T09:00:00Z", "incident": "i",
                           "categories": ["user.name"], "due": "2026-03-04T09:00:00Z",
                           "controller": "acme", "code": "493817"});
            let (s, b) = r(kind, p);
            assert!(!s.contains("493817") && !b.contains("493817"), "{kind}");
        }
    }

    #[test]
    fn breach_notice_lists_the_categories() {
        let (s, b) = r(
            "breach.notice",
            json!({"incident": "i1", "categories": ["user.contact.email", "user.name"],
                   "channels": ["email"], "description": "a stolen laptop"}),
        );
        assert!(s.contains("security incident"));
        assert!(b.contains("- user.contact.email\n- user.name\n"), "{b}");
        assert!(b.contains("a stolen laptop") && b.contains("i1"));
        let none = json!({"incident": "i1", "categories": []});
        assert_eq!(render("breach.notice", &none.to_string()), None);
    }

    #[test]
    fn authority_notice_gives_the_deadline() {
        let (s, b) = r(
            "breach.authority",
            json!({"incident": "i2", "due": "2026-03-04T09:00:00Z", "people": 12}),
        );
        assert!(s.contains("2026-03-04 09:00 UTC"));
        assert!(b.contains("i2") && b.contains("People affected: 12"));
    }

    #[test]
    fn unknown_kinds_and_bad_payloads_are_not_rendered() {
        assert_eq!(render("something.else", "{}"), None);
        assert_eq!(render("request.acknowledged", "not json"), None);
        assert_eq!(render("request.acknowledged", "{}"), None);
    }

    #[test]
    fn no_template_contains_html() {
        for kind in KINDS {
            let p = json!({"request": "r", "right": "access", "due_at": "2026-03-31T09:00:00Z",
                           "reason": "x", "extended_until": "2026-04-30T09:00:00Z", "incident": "i",
                           "categories": ["user.name"], "due": "2026-03-04T09:00:00Z",
                           "controller": "acme", "code": "123456",
                           "expires_at": "2026-03-01T09:10:00Z"});
            let (s, b) = r(kind, p);
            assert!(!s.contains('<') && !b.contains('<'), "{kind}");
        }
    }
}
