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

/// Asserts that `text` yields a finding with `code` located on the line holding `at`.
fn assert_finding(text: &str, code: Code, at: &str) {
    let report = check(text, "t.toml").report;
    let found = report.diagnostics.iter().find(|d| d.code == code);
    let d = found.unwrap_or_else(|| panic!("no {code} in:\n{report}"));
    assert_eq!(d.position.map(|p| p.line), Some(line_of(text, at)), "{d}");
    assert!(d.hint.is_some() || d.message.len() > 20, "{d}");
    assert_eq!(d.severity, code.severity());
}

#[test]
fn consent_purpose_without_withdrawal_path() {
    let text = edit(
        "withdraw = [\"privacy_center\", \"unsubscribe_link\"]\n",
        "",
    );
    assert_finding(
        &text,
        Code::ConsentWithoutWithdrawal,
        "[purpose.marketing_email]",
    );
}

#[test]
fn special_category_without_art9_condition() {
    let text = edit("art9_condition = \"explicit_consent\"\n", "");
    assert_finding(
        &text,
        Code::SpecialWithoutArt9,
        "categories = [\"user.health\"]",
    );
}

#[test]
fn special_category_reached_through_a_wildcard_needs_art9_too() {
    let text = edit(
        "categories = [\"user.contact.*\"]",
        "categories = [\"user.*\"]",
    );
    assert_finding(&text, Code::SpecialWithoutArt9, "categories = [\"user.*\"]");
}

#[test]
fn third_party_abroad_without_transfer_mechanism() {
    let text = edit("transfer = \"scc\"\n", "");
    assert_finding(
        &text,
        Code::TransferWithoutMechanism,
        "[recipient.payment_agency]",
    );
}

#[test]
fn transfer_mechanism_inside_the_region_is_doubtful() {
    let text = edit("region = \"US\"\n", "region = \"EEA\"\n");
    assert_finding(&text, Code::DoubtfulTransfer, "transfer = \"scc\"");
    assert!(
        !check(&text, "t.toml").report.has_errors(),
        "a warning, not an error"
    );
}

#[test]
fn stored_category_without_retention() {
    let text = edit("retention = \"1y\"\n", "");
    assert_finding(&text, Code::MissingRetention, "[category.\"user.health\"]");
}

#[test]
fn never_store_category_in_a_storing_purpose() {
    let text = edit("stores = false\n", "");
    assert_finding(
        &text,
        Code::NeverStoreStored,
        "categories = [\"user.financial.card_cvv\"]",
    );
}

#[test]
fn duplicate_ids_and_entries() {
    let text = edit(
        "[recipient.marketing]",
        "[recipient.Marketing]\nname = \"M\"\nkind = \"internal\"\n\n[recipient.marketing]",
    );
    assert_finding(&text, Code::Duplicate, "[recipient.marketing]");
    let text = edit(
        "recipients = [\"sales\", \"delivery\"]",
        "recipients = [\"sales\", \"delivery\", \"sales\"]",
    );
    assert_finding(
        &text,
        Code::Duplicate,
        "recipients = [\"sales\", \"delivery\", \"sales\"]",
    );
    // Exact duplicate keys are a TOML error, still with a line.
    let text = edit(
        "[recipient.delivery]",
        "[recipient.sales]\nname = \"S\"\nkind = \"internal\"\n\n[recipient.delivery]",
    );
    let r = check(&text, "t.toml").report;
    let d = r.errors().next().unwrap();
    assert_eq!(d.code, Code::Syntax);
    assert!(d.position.is_some());
}

#[test]
fn impossible_durations() {
    for bad in ["0d", "-1d", "200y", "soon", "3 fortnights", "15"] {
        let text = edit("deadline = \"1mo\"", &format!("deadline = \"{bad}\""));
        assert_finding(&text, Code::ImpossibleDuration, "deadline = ");
    }
    let text = edit("retention = \"1y\"", "retention = \"1y after lunch\"");
    assert_finding(
        &text,
        Code::ImpossibleDuration,
        "retention = \"1y after lunch\"",
    );
}

#[test]
fn unknown_recipient_in_purpose() {
    let text = edit(
        "recipients = [\"marketing\"]",
        "recipients = [\"marketting\"]",
    );
    assert_finding(&text, Code::UnknownRecipient, "\"marketting\"");
    let d = check(&text, "t.toml")
        .report
        .diagnostics
        .into_iter()
        .find(|d| d.code == Code::UnknownRecipient)
        .unwrap();
    assert!(d.hint.unwrap().contains("`marketing`"));
}

#[test]
fn legitimate_interest_must_say_which() {
    let text = edit(
        "basis = \"contract\"\ncategories = [\"user.contact.*\"]",
        "basis = \"legitimate_interest\"\ncategories = [\"user.contact.*\"]",
    );
    assert_finding(&text, Code::InterestNotStated, "[purpose.order_fulfilment]");
}

#[test]
fn bad_names() {
    let text = edit("[category.\"user.health\"]", "[category.\"User.Health\"]").replacen(
        "[\"user.health\"]",
        "[\"User.Health\"]",
        1,
    );
    assert_finding(&text, Code::BadName, "[category.\"User.Health\"]");
    let text = edit(
        "categories = [\"user.contact.*\"]",
        "categories = [\"user.*.email\"]",
    );
    assert_finding(&text, Code::BadName, "\"user.*.email\"");
}

#[test]
fn impossible_values() {
    let text = edit("country = \"FR\"", "country = \"France\"");
    assert_finding(&text, Code::ImpossibleValue, "country = \"France\"");
    let text = edit("effective = \"2026-01-01\"", "effective = \"2026-02-30\"");
    assert_finding(&text, Code::ImpossibleValue, "effective = ");
    let text = format!("{BASE}\n[jurisdiction.FR]\nmin_age = 0\n");
    assert_finding(&text, Code::ImpossibleValue, "min_age = 0");
    let text = format!("{BASE}\n[jurisdiction.France]\nmin_age = 15\n");
    assert_finding(&text, Code::ImpossibleValue, "[jurisdiction.France]");
}

#[test]
fn partner_needs_consent() {
    let text = format!(
        "{}\n[recipient.reseller]\nname = \"Reseller\"\nkind = \"partner\"\nrequires_consent = true\n",
        BASE.replacen(
            "recipients = [\"sales\", \"delivery\"]",
            "recipients = [\"sales\", \"delivery\", \"reseller\"]",
            1
        )
    );
    assert_finding(&text, Code::PartnerWithoutConsent, "\"reseller\"]");
    let text = text.replacen("requires_consent = true\n", "", 1);
    assert_finding(&text, Code::PartnerWithoutConsent, "[recipient.reseller]");
}

#[test]
fn unused_category_and_recipient_are_warnings() {
    let text = format!(
        "{BASE}\n[category.\"user.unused\"]\ndescription = \"x\"\nretention = \"1y\"\n\n[recipient.nobody]\nname = \"n\"\nkind = \"internal\"\n"
    );
    assert_finding(&text, Code::UnusedCategory, "[category.\"user.unused\"]");
    assert_finding(&text, Code::UnusedRecipient, "[recipient.nobody]");
    assert!(
        load(&text, "t.toml").is_ok(),
        "warnings do not make a policy invalid"
    );
}

#[test]
fn self_service_right_must_be_available() {
    let text = edit("\"erasure\", \"portability\", ", "\"erasure\", ").replacen(
        "self_service = [\"access\"",
        "self_service = [\"portability\", \"access\"",
        1,
    );
    assert_finding(&text, Code::UnavailableRight, "self_service = ");
}

#[test]
fn held_by_must_name_a_recipient() {
    let text = edit(
        "never_store = true\n",
        "never_store = true\nheld_by = \"bank\"\n",
    );
    assert_finding(&text, Code::DanglingReference, "held_by = \"bank\"");
}

#[test]
fn contract_terms_must_be_consistent() {
    let text = format!(
        "{BASE}\n[contract]\ncurrencies = [\"EUR\", \"euro\"]\n\n[contract.plan.pass]\nname = \"Pass\"\nbilled_by = \"store\"\nperiod = \"1mo\"\ncancel_notice = \"2mo\"\nafter_end = \"nothing\"\ninitial_term = \"1w\"\n"
    );
    assert_finding(&text, Code::ImpossibleValue, "\"euro\"");
    assert_finding(&text, Code::InconsistentTerms, "cancel_notice = \"2mo\"");
    let r = check(&text, "t.toml").report;
    assert!(
        r.diagnostics
            .iter()
            .any(|d| d.code == Code::InconsistentTerms && d.path.ends_with("initial_term")),
        "{r}"
    );
}

#[test]
fn diagnostics_render_code_file_line_and_hint() {
    let text = edit("transfer = \"scc\"\n", "");
    let r = check(&text, "policies/x.toml").report;
    let shown = r.to_string();
    let line = line_of(&text, "[recipient.payment_agency]");
    assert!(shown.contains("error[POL-0006]"), "{shown}");
    assert!(
        shown.contains(&format!("--> policies/x.toml:{line}:")),
        "{shown}"
    );
    assert!(shown.contains("hint: set transfer"), "{shown}");
}
