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
        k if k.starts_with("contract.") => contract_notice(k, &p),
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
    if let Some(done) = p.get("done") {
        body.push('\n');
        body.push_str(&what_was_done(done)?);
    }
    body.push_str(FOOTER);
    Some((subject, body))
}

/// What a fulfilment did (`done`, set by the engine once it is done, P0-17). An
/// unknown `done` renders nothing, so the person is never told less than was done.
fn what_was_done(done: &Value) -> Option<String> {
    Some(match text(done, "what")? {
        "erased" => {
            let mut t = "Your data was erased.\n".to_owned();
            let kept = done.get("kept")?.as_array()?;
            if kept.is_empty() {
                t.push_str("Nothing was kept.\n");
            } else {
                t.push_str(
                    "What the law requires us to keep, used for nothing else and \
                     deleted when the time is over:\n",
                );
                for k in kept {
                    let category = text(k, "category")?.replace('_', " ");
                    let reason = text(k, "reason")?;
                    let until =
                        date(k, "until").unwrap_or_else(|| "as long as the law requires".into());
                    t.push_str(&format!("- {category}: {reason}; kept until {until}\n"));
                }
            }
            t
        }
        "restricted" => "Processing of your data is now restricted: we keep it, and use it \
                         only where the law allows (for example, to establish or defend \
                         legal claims).\n"
            .to_owned(),
        "objected" => "We stopped the processing you objected to.\n".to_owned(),
        "withdrawn" => "Your consents were withdrawn; we no longer process your data on the \
                        basis of your consent.\n"
            .to_owned(),
        _ => return None,
    })
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

/// The consumer-contract kinds [`render`] has a template for (`custos_core::contracts`).
pub const CONTRACT_KINDS: [&str; 23] = [
    "contract.order_acknowledged",
    "contract.reconfirmation_requested",
    "contract.order_confirmed",
    "contract.order_declined",
    "contract.order_unavailable",
    "contract.order_terminated",
    "contract.refund_due",
    "contract.membership_activated",
    "contract.renewal_charge",
    "contract.cancellation_confirmed",
    "contract.payment_failed",
    "contract.membership_terminated",
    "contract.membership_ended",
    "contract.membership_reactivated",
    "contract.new_membership_required",
    "contract.change_announced",
    "contract.change_not_applied",
    "contract.change_applied",
    "contract.return_accepted",
    "contract.rma_issued",
    "contract.promotional_period_forfeited",
    "contract.withdrawal_acknowledged",
    "contract.refund_overdue",
];

/// `contract.*`: orders, memberships, returns and withdrawals (T-3 … T-21). The
/// payload carries the contract id, dates, amounts and references only.
fn contract_notice(kind: &str, p: &Value) -> Option<Rendered> {
    let contract = text(p, "contract")?;
    let reference = text(p, "reference").unwrap_or(contract);
    let ended = |what: &str| -> Option<Rendered> {
        let at = date(p, "at")?;
        let basic = p
            .get("basic_mode")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut body = format!("Your membership {what} on {at}.\n");
        if basic {
            body.push_str(
                "Your devices continue in Basic Mode: reduced features, and firmware updates \
                 continue.\n",
            );
        }
        body.push_str("You can reactivate your membership at any time.\n");
        Some((format!("Your membership {what}"), body))
    };
    let (subject, mut body) = match kind {
        "contract.order_acknowledged" => (
            format!("We received your order {reference}"),
            format!(
                "Thank you: we received your order {reference}.\n\
                 This is not yet an acceptance: the contract forms when we send the Order \
                 Confirmation.\n"
            ),
        ),
        "contract.reconfirmation_requested" => (
            format!("Please confirm your order {reference} again"),
            format!(
                "A price in your order {reference} changed before we confirmed it.\n\
                 Previous total: {}\nNew total: {}\n\
                 Nothing is charged on the new terms unless you confirm them.\n",
                text(p, "old_total")?,
                text(p, "new_total")?
            ),
        ),
        "contract.order_confirmed" => (
            format!("Order Confirmation {reference}"),
            format!(
                "We accept your order {reference}: this is your Order Confirmation, and the \
                 contract is formed as of {}.\n\
                 Total: {}\nEstimated delivery: {}\n",
                date(p, "contract_formed_at")?,
                text(p, "total")?,
                text(p, "estimated_delivery")?
            ),
        ),
        "contract.order_declined" => (
            format!("We cannot accept your order {reference}"),
            format!(
                "We are sorry: we cannot accept your order {reference}.\nReason: {}\n\
                 Nothing is charged for it.\n",
                text(p, "reason")?
            ),
        ),
        "contract.order_unavailable" => (
            format!("Your order {reference} is unavailable"),
            format!(
                "The products of your order {reference} are no longer available, so we \
                 withdraw from it. You will be refunded in full.\n"
            ),
        ),
        "contract.order_terminated" => (
            format!("Your order {reference} was cancelled"),
            format!(
                "The payment method for your order {reference} was not valid, so the order \
                 is terminated.\n"
            ),
        ),
        "contract.refund_due" => (
            "Your refund".to_owned(),
            format!(
                "We owe you a refund of {} and will pay it by {}, by the means of payment \
                 you used.\n",
                text(p, "amount")?,
                date(p, "due")?
            ),
        ),
        "contract.membership_activated" => {
            let mut body = "Your membership is active.\n".to_owned();
            if let Some(until) = text(p, "free_until") {
                body.push_str(&format!(
                    "Your free trial runs until {until}; the first charge comes after it.\n"
                ));
            }
            ("Your membership is active".to_owned(), body)
        }
        "contract.renewal_charge" => (
            "Your membership renews".to_owned(),
            format!(
                "Your membership renews for the period starting {}.\n\
                 Amount: {}\nIt may be charged from {}.\n\
                 You can cancel before the period starts to avoid this charge.\n",
                date(p, "period_start")?,
                text(p, "amount")?,
                date(p, "earliest")?
            ),
        ),
        "contract.cancellation_confirmed" => (
            "Your cancellation is confirmed".to_owned(),
            format!(
                "We confirm the cancellation of your membership. It ends on {}; your \
                 benefits continue until then. There is no refund for the current period.\n",
                date(p, "effective")?
            ),
        ),
        "contract.payment_failed" => (
            "Your membership payment failed".to_owned(),
            format!(
                "We could not collect your membership payment. Please update your payment \
                 method before {}; your benefits continue until then, after which the \
                 membership ends.\n",
                date(p, "grace_ends")?
            ),
        ),
        "contract.membership_terminated" => ended("ended for non-payment")?,
        "contract.membership_ended" => ended("ended")?,
        "contract.membership_reactivated" => (
            "Your membership is active again".to_owned(),
            format!("Your membership was reactivated on {}.\n", date(p, "at")?),
        ),
        "contract.new_membership_required" => (
            "A device moved to another account".to_owned(),
            format!(
                "Device {} moved to another account. Memberships stay with their account: \
                 that account needs its own membership for the device.\n",
                text(p, "device")?
            ),
        ),
        "contract.change_announced" => {
            let mut body = format!(
                "We are changing the terms of your membership from {}.\n",
                date(p, "effective")?
            );
            if let Some(price) = text(p, "new_price") {
                body.push_str(&format!("New price: {price}\n"));
            }
            if p.get("requires_acceptance").and_then(Value::as_bool) == Some(true) {
                body.push_str("The change applies to you only if you accept it.\n");
            }
            body.push_str(&format!(
                "You may cancel without charge until {}.\n",
                date(p, "cancel_free_until")?
            ));
            ("A change to your membership".to_owned(), body)
        }
        "contract.change_not_applied" => (
            "Your membership terms are unchanged".to_owned(),
            format!(
                "The change announced for {} does not apply to your membership, as you did \
                 not accept it.\n",
                date(p, "effective")?
            ),
        ),
        "contract.change_applied" => (
            "Your membership terms changed".to_owned(),
            format!(
                "The announced change to your membership applies from {}.\n",
                date(p, "effective")?
            ),
        ),
        "contract.return_accepted" => (
            "Your return".to_owned(),
            format!(
                "We received your return notice. Please send the products back by {}.\n",
                date(p, "ship_by")?
            ),
        ),
        "contract.rma_issued" => (
            format!("Your return authorisation {}", text(p, "rma")?),
            format!(
                "Your return authorisation number is {}. Quote it on the parcel and send the \
                 products back by {}.\n",
                text(p, "rma")?,
                date(p, "ship_by")?
            ),
        ),
        "contract.promotional_period_forfeited" => (
            "Your promotional period".to_owned(),
            "With this return, the unused part of your promotional period is forfeited.\n"
                .to_owned(),
        ),
        "contract.withdrawal_acknowledged" => {
            let mut body = format!(
                "We confirm your withdrawal from the contract. We will refund you by {}.\n",
                date(p, "refund_by")?
            );
            if let Some(by) = date(p, "return_by") {
                body.push_str(&format!(
                    "Please send the goods back by {by}. We may wait for them, or for proof \
                     that you sent them, before refunding.\n"
                ));
            }
            ("Your withdrawal is confirmed".to_owned(), body)
        }
        // To staff.
        "contract.refund_overdue" => {
            let due = date(p, "due")?;
            return Some((
                format!("Action required: a refund was due by {due}"),
                format!(
                    "A refund of {} on {} {contract} was due by {due} and is not recorded as \
                     paid.\nPay it and record it in custos (action `refunded`).\n",
                    text(p, "amount")?,
                    text(p, "kind").unwrap_or("contract")
                ),
            ));
        }
        _ => return None,
    };
    body.push_str(&format!("\nReference: {contract}\n"));
    body.push_str(FOOTER);
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

    /// P0-17 (issue 13.9): the notice says what was done for each right.
    #[test]
    fn fulfilment_says_what_was_done_for_each_right() {
        let done = |right: &str, done: Value| {
            r(
                "request.fulfilled",
                json!({"request": "r9", "right": right, "at": "2026-03-20T10:30:00Z",
                       "done": done}),
            )
            .1
        };
        let b = done(
            "erasure",
            json!({"what": "erased", "kept": [{"category": "billing.invoice",
                   "reason": "GDPR Art. 17(3)(b) legal obligation: Code de commerce L123-22",
                   "until": "2036-03-20T10:30:00Z"}]}),
        );
        assert!(b.contains("Your data was erased."), "{b}");
        assert!(b.contains("What the law requires us to keep"), "{b}");
        assert!(
            b.contains("- billing.invoice: GDPR Art. 17(3)(b) legal obligation: Code de commerce L123-22; kept until 2036-03-20 10:30 UTC"),
            "{b}"
        );
        let b = done("erasure", json!({"what": "erased", "kept": []}));
        assert!(
            b.contains("Your data was erased.\nNothing was kept."),
            "{b}"
        );
        let b = done("restriction", json!({"what": "restricted"}));
        assert!(
            b.contains("Processing of your data is now restricted"),
            "{b}"
        );
        let b = done("objection", json!({"what": "objected"}));
        assert!(
            b.contains("We stopped the processing you objected to."),
            "{b}"
        );
        let b = done("consent_withdrawal", json!({"what": "withdrawn"}));
        assert!(b.contains("Your consents were withdrawn"), "{b}");
        // Access, portability, rectification: as before, nothing more claimed.
        let (_, b) = r(
            "request.fulfilled",
            json!({"request": "r9", "right": "access", "at": "2026-03-20T10:30:00Z"}),
        );
        for claim in ["erased", "restricted", "stopped", "withdrawn"] {
            assert!(!b.contains(claim), "{b}");
        }
        // A `done` the template does not know is no notice (kept undelivered).
        let p = json!({"request": "r9", "right": "erasure", "done": {"what": "shredded"}});
        assert_eq!(render("request.fulfilled", &p.to_string()), None);
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
    fn every_contract_kind_renders_without_html() {
        let p = json!({"contract": "c-1", "reference": "PO-1", "old_total": "10 EUR",
                       "new_total": "12 EUR", "total": "12 EUR", "estimated_delivery": "2026-03-10",
                       "contract_formed_at": "2026-03-01T09:00:00Z", "reason": "out of area",
                       "amount": "9.99 EUR", "due": "2026-03-15T23:00:00Z", "free_until": "2026-04-01",
                       "period": 1, "earliest": "2026-03-31T00:00:00Z",
                       "period_start": "2026-04-01T00:00:00Z", "effective": "2026-04-01T00:00:00Z",
                       "grace_ends": "2026-04-17T00:00:00Z", "at": "2026-04-17T00:00:00Z",
                       "basic_mode": true, "device": "pod-1", "account": "a", "new_price": "11 EUR",
                       "requires_acceptance": true, "cancel_free_until": "2026-04-01T00:00:00Z",
                       "ship_by": "2026-03-20T23:00:00Z", "rma": "RMA-7",
                       "refund_by": "2026-03-20T23:00:00Z", "return_by": "2026-03-20T23:00:00Z",
                       "kind": "order"});
        for kind in CONTRACT_KINDS {
            let (s, b) = r(kind, p.clone());
            assert!(!s.contains('<') && !b.contains('<'), "{kind}");
            assert!(b.contains("c-1"), "{kind}: {b}");
        }
        let (_, b) = r("contract.membership_terminated", p);
        assert!(
            b.contains("Basic Mode") && b.contains("2026-04-17 00:00 UTC"),
            "{b}"
        );
        assert_eq!(
            render("contract.renewal_charge", r#"{"contract":"c"}"#),
            None
        );
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
