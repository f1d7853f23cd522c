//! Policy diffs: each kind of change gets the impact people rely on.

use custos_policy::diff::{Impact, diff};
use custos_policy::load;

use crate::validation::BASE;

fn between(new: &str) -> custos_policy::diff::PolicyDiff {
    let old = load(BASE, "old.toml").unwrap().policy;
    let new = load(new, "new.toml")
        .unwrap_or_else(|r| panic!("{r}"))
        .policy;
    diff(&old, &new)
}

fn impact_at(d: &custos_policy::diff::PolicyDiff, path: &str) -> Option<Impact> {
    d.changes
        .iter()
        .filter(|c| c.path == path)
        .map(|c| c.impact)
        .max()
}

#[test]
fn same_policy_has_no_changes() {
    let d = between(BASE);
    assert!(d.is_empty(), "{d}");
    assert_eq!(d.impact(), Impact::None);
}

#[test]
fn new_purpose_over_data_already_held_needs_reconsent() {
    let new = format!(
        "{BASE}\n[purpose.profiling]\ndescription = \"Profiling\"\nbasis = \"legitimate_interest\"\nlegitimate_interest = \"know our customers\"\ncategories = [\"user.contact.email\"]\nrecipients = [\"marketing\"]\n"
    );
    let d = between(&new);
    assert_eq!(
        impact_at(&d, "purpose.profiling"),
        Some(Impact::Reconsent),
        "{d}"
    );
    assert_eq!(d.impact(), Impact::Reconsent);
}

#[test]
fn more_categories_for_a_purpose_needs_reconsent() {
    let new = BASE.replacen(
        "categories = [\"user.contact.email\"]",
        "categories = [\"user.contact.*\"]",
        1,
    );
    let d = between(&new);
    assert_eq!(
        impact_at(&d, "purpose.marketing_email.categories"),
        Some(Impact::Reconsent),
        "{d}"
    );
    assert!(d.to_string().contains("user.contact.address"));
}

#[test]
fn new_third_party_recipient_needs_reconsent_and_new_internal_role_notice() {
    let new = BASE.replacen(
        "recipients = [\"sales\", \"delivery\"]",
        "recipients = [\"sales\", \"delivery\", \"payment_agency\", \"marketing\"]",
        1,
    );
    let d = between(&new);
    let impacts: Vec<Impact> = d
        .changes
        .iter()
        .filter(|c| c.path == "purpose.order_fulfilment.recipients")
        .map(|c| c.impact)
        .collect();
    assert!(impacts.contains(&Impact::Reconsent), "{d}");
    assert!(impacts.contains(&Impact::Notice), "{d}");
}

#[test]
fn longer_retention_needs_notice_shorter_is_recorded_only() {
    let longer = BASE.replacen("retention = \"1y\"", "retention = \"2y\"", 1);
    assert_eq!(
        impact_at(&between(&longer), "category.\"user.health\".retention"),
        Some(Impact::Notice)
    );
    let shorter = BASE.replacen("retention = \"1y\"", "retention = \"6mo\"", 1);
    assert_eq!(
        impact_at(&between(&shorter), "category.\"user.health\".retention"),
        Some(Impact::None)
    );
}

#[test]
fn transfer_abroad_needs_reconsent() {
    let new = BASE.replacen(
        "[recipient.delivery]\nname = \"Delivery\"\nkind = \"internal\"",
        "[recipient.delivery]\nname = \"Delivery\"\nkind = \"internal\"\nregion = \"IN\"\ntransfer = \"scc\"",
        1,
    );
    let d = between(&new);
    assert_eq!(
        impact_at(&d, "recipient.delivery.region"),
        Some(Impact::Reconsent),
        "{d}"
    );
}

#[test]
fn slower_rights_deadline_needs_notice() {
    let new = BASE.replacen("deadline = \"1mo\"", "deadline = \"45d\"", 1);
    let d = between(&new);
    assert_eq!(
        impact_at(&d, "rights.deadline"),
        Some(Impact::Notice),
        "{d}"
    );
    let faster = BASE.replacen("deadline = \"1mo\"", "deadline = \"15d\"", 1);
    assert_eq!(
        impact_at(&between(&faster), "rights.deadline"),
        Some(Impact::None)
    );
}

#[test]
fn dropping_consent_as_basis_needs_reconsent() {
    let new = BASE.replacen(
        "basis = \"consent\"\ncategories = [\"user.contact.email\"]",
        "basis = \"legitimate_interest\"\nlegitimate_interest = \"direct marketing\"\ncategories = [\"user.contact.email\"]",
        1,
    );
    let d = between(&new);
    assert_eq!(
        impact_at(&d, "purpose.marketing_email.basis"),
        Some(Impact::Reconsent),
        "{d}"
    );
}

#[test]
fn controller_change_needs_notice() {
    let new = BASE.replacen("name = \"Example SAS\"", "name = \"Example Group SAS\"", 1);
    let d = between(&new);
    assert_eq!(
        impact_at(&d, "controller.name"),
        Some(Impact::Notice),
        "{d}"
    );
}
