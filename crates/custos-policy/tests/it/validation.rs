//! Each validation rule, proven by a policy that breaks it.

use custos_policy::{Code, check, load};

/// A small valid policy; tests break one thing at a time.
pub const BASE: &str = r#"
[policy]
id = "example"
title = "Example privacy notice"
version = "1"
effective = "2026-01-01"

[controller]
name = "Example SAS"
address = "1 rue de l'Exemple, 75001 Paris"
country = "FR"
region = "EEA"
email = "privacy@example.test"
supervisory_authority = { name = "CNIL", url = "https://www.cnil.fr" }

[rights]
deadline = "1mo"
extension = "2mo"
available = ["access", "rectification", "erasure", "portability", "restriction", "objection", "consent_withdrawal"]
self_service = ["access", "rectification", "erasure"]

[category."user.contact.email"]
description = "E-mail address"
shape = "email"
retention = "3y after last_activity"
lookup = true

[category."user.contact.address"]
description = "Postal address"
shape = "postal_address"
retention = "3y after last_activity"

[category."user.financial.card_cvv"]
description = "Card verification code"
sensitivity = "payment"
never_store = true

[category."user.health"]
description = "Health readings"
sensitivity = "special"
retention = "1y"

[purpose.order_fulfilment]
description = "Deliver orders"
basis = "contract"
categories = ["user.contact.*"]
recipients = ["sales", "delivery"]

[purpose.marketing_email]
description = "Newsletters"
basis = "consent"
categories = ["user.contact.email"]
recipients = ["marketing"]
withdraw = ["privacy_center", "unsubscribe_link"]

[purpose.care]
description = "Health monitoring"
basis = "consent"
categories = ["user.health"]
recipients = ["sales"]
withdraw = ["privacy_center"]
art9_condition = "explicit_consent"

[purpose.payment]
description = "Payment by the payment agency"
basis = "contract"
categories = ["user.financial.card_cvv"]
recipients = ["payment_agency"]
stores = false

[recipient.sales]
name = "Sales"
kind = "internal"

[recipient.delivery]
name = "Delivery"
kind = "internal"

[recipient.marketing]
name = "Marketing"
kind = "internal"

[recipient.payment_agency]
name = "Payment agency"
kind = "controller"
region = "US"
transfer = "scc"
"#;

fn codes(text: &str) -> Vec<Code> {
    check(text, "t.toml")
        .report
        .errors()
        .map(|d| d.code)
        .collect()
}

/// Replaces exactly one occurrence, so a test cannot silently edit nothing.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "`{from}` must occur once in BASE"
    );
    BASE.replacen(from, to, 1)
}

/// 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    text[..at].matches('\n').count() + 1
}

#[test]
fn base_policy_is_valid() {
    let loaded = load(BASE, "t.toml").unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(loaded.policy.controller.name, "Example SAS");
    assert!(
        loaded.warnings.diagnostics.is_empty(),
        "{}",
        loaded.warnings
    );
}

#[test]
fn syntax_error_has_line() {
    let text = edit("version = \"1\"", "version = ");
    let r = check(&text, "t.toml").report;
    let d = r.errors().next().unwrap();
    assert_eq!(d.code, Code::Syntax);
    assert_eq!(d.position.unwrap().line, line_of(&text, "version = \n"));
}

#[test]
fn unknown_field_is_refused_with_line() {
    let text = edit("lookup = true", "lookup = true\nretain = \"1y\"");
    let r = check(&text, "t.toml").report;
    let d = r.errors().next().unwrap();
    assert_eq!(d.code, Code::Shape);
    assert!(d.message.contains("retain"), "{}", d.message);
    assert_eq!(d.position.unwrap().line, line_of(&text, "retain ="));
}

#[test]
fn unknown_category_in_purpose() {
    let text = edit(
        "categories = [\"user.contact.email\"]",
        "categories = [\"user.contact.mail\"]",
    );
    let r = check(&text, "t.toml").report;
    let d = r
        .errors()
        .find(|d| d.code == Code::UnknownCategory)
        .unwrap();
    assert_eq!(
        d.position.unwrap().line,
        line_of(&text, "user.contact.mail")
    );
    assert_eq!(d.path, "purpose.marketing_email.categories[0]");
    assert!(d.hint.as_deref().unwrap().contains("user.contact.email"));
}

#[test]
fn every_error_is_listed_at_once() {
    let text = edit(
        "categories = [\"user.contact.email\"]",
        "categories = [\"user.contact.mail\"]",
    )
    .replacen("deadline = \"1mo\"", "deadline = \"0d\"", 1)
    .replacen(
        "withdraw = [\"privacy_center\", \"unsubscribe_link\"]",
        "",
        1,
    );
    let c = codes(&text);
    assert!(c.contains(&Code::UnknownCategory));
    assert!(c.contains(&Code::ImpossibleDuration));
    assert!(c.contains(&Code::ConsentWithoutWithdrawal));
}
