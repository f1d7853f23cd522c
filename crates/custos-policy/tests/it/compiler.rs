//! The compiled decision tables agree with a naive evaluator that reads the
//! policy directly, over random policies.

use custos_policy::compile::compile;
use custos_policy::model::{Basis, Policy};
use proptest::prelude::*;

const CATEGORIES: [&str; 8] = [
    "user.contact.email",
    "user.contact.phone",
    "user.contact.address.postal",
    "user.name",
    "user.device.telemetry",
    "user.health",
    "user.financial.card_cvv",
    "system.logs",
];
const PATTERNS: [&str; 8] = [
    "*",
    "user.*",
    "user.contact.*",
    "user.contact.email",
    "user.health",
    "system.*",
    "user.device.*",
    "nope.*",
];
const ROLES: [&str; 5] = ["sales", "delivery", "marketing", "support", "partner"];
const BASES: [&str; 6] = [
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interest",
    "vital_interest",
    "public_interest",
];

/// (basis, patterns, roles, objectable override, during_restriction)
type GenPurpose = (usize, Vec<usize>, Vec<usize>, Option<bool>, bool);

#[derive(Debug, Clone)]
struct Gen {
    categories: Vec<(usize, bool)>,
    roles: Vec<(usize, bool)>,
    purposes: Vec<GenPurpose>,
}

fn random_policy() -> impl Strategy<Value = Gen> {
    (
        prop::collection::vec((0..CATEGORIES.len(), any::<bool>()), 0..8),
        prop::collection::vec((0..ROLES.len(), any::<bool>()), 0..5),
        prop::collection::vec(
            (
                0..BASES.len(),
                prop::collection::vec(0..PATTERNS.len(), 0..4),
                prop::collection::vec(0..ROLES.len(), 0..4),
                prop::option::of(any::<bool>()),
                any::<bool>(),
            ),
            0..6,
        ),
    )
        .prop_map(|(categories, roles, purposes)| Gen {
            categories,
            roles,
            purposes,
        })
}

/// Renders the random parameters as a policy file (duplicates removed: TOML refuses them).
fn to_toml(g: &Gen) -> String {
    let mut s = String::from(
        "[policy]\nid='p'\ntitle='t'\nversion='1'\n[controller]\nname='c'\naddress='a'\ncountry='FR'\nregion='EEA'\n[rights]\ndeadline='1mo'\navailable=['access']\n",
    );
    let mut seen = std::collections::HashSet::new();
    for (c, never) in &g.categories {
        if seen.insert(*c) {
            s += &format!(
                "[category.\"{}\"]\ndescription='d'\nretention='1y'\nnever_store={never}\n",
                CATEGORIES[*c]
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (r, consent) in &g.roles {
        if seen.insert(*r) {
            s += &format!(
                "[recipient.{}]\nname='r'\nkind='processor'\nrequires_consent={consent}\n",
                ROLES[*r]
            );
        }
    }
    for (i, (b, pats, roles, objectable, restr)) in g.purposes.iter().enumerate() {
        let pats: Vec<String> = pats.iter().map(|p| format!("'{}'", PATTERNS[*p])).collect();
        let roles: Vec<String> = roles.iter().map(|r| format!("'{}'", ROLES[*r])).collect();
        s += &format!(
            "[purpose.p{i}]\ndescription='d'\nbasis='{}'\ncategories=[{}]\nrecipients=[{}]\nwithdraw=['email']\nduring_restriction={restr}\n",
            BASES[*b],
            pats.join(","),
            roles.join(",")
        );
        if let Some(o) = objectable {
            s += &format!("objectable={o}\n");
        }
    }
    s
}

/// Matches a pattern segment by segment, independently of `names::pattern_matches`.
fn naive_match(pattern: &str, name: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let n: Vec<&str> = name.split('.').collect();
    match p.last() {
        Some(&"*") => n.len() > p.len() - 1 && p[..p.len() - 1] == n[..p.len() - 1],
        _ => p == n,
    }
}

struct Naive {
    allowed: bool,
    needs_consent: bool,
    objection_stops: bool,
    during_restriction: bool,
}

fn naive(policy: &Policy, role: &str, purpose: &str, category: &str) -> Option<Naive> {
    let p = policy.purpose.get(purpose)?;
    let r = policy.recipient.get(role)?;
    if !p.recipients.iter().any(|x| x == role) {
        return None;
    }
    let allowed = policy
        .category
        .get(category)
        .is_some_and(|c| !c.never_store)
        && p.categories.iter().any(|pat| naive_match(pat, category));
    Some(Naive {
        allowed,
        needs_consent: p.basis == Basis::Consent || r.requires_consent,
        objection_stops: p.objectable.unwrap_or(matches!(
            p.basis,
            Basis::LegitimateInterest | Basis::PublicInterest
        )),
        during_restriction: p.during_restriction,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn compiled_table_matches_naive_evaluator(g in random_policy()) {
        let text = to_toml(&g);
        let policy = custos_policy::check(&text, "random.toml").policy
            .unwrap_or_else(|| panic!("generator wrote an unreadable policy:\n{text}"));
        let table = compile(&policy);
        let purposes: Vec<String> = (0..g.purposes.len() + 1).map(|i| format!("p{i}")).collect();
        let roles = ROLES.iter().copied().chain(["nobody"]);
        for role in roles {
            for purpose in &purposes {
                let decision = table.decide(role, purpose);
                for category in CATEGORIES.iter().copied().chain(["user.unknown"]) {
                    let expected = naive(&policy, role, purpose, category);
                    prop_assert_eq!(decision.is_some(), expected.is_some(), "{} {} {}", role, purpose, category);
                    prop_assert_eq!(
                        table.allows(role, purpose, category),
                        expected.as_ref().is_some_and(|n| n.allowed),
                        "{} {} {}", role, purpose, category
                    );
                    if let (Some(d), Some(n)) = (decision, expected) {
                        prop_assert_eq!(d.needs_consent, n.needs_consent);
                        prop_assert_eq!(d.objection_stops, n.objection_stops);
                        prop_assert_eq!(d.during_restriction, n.during_restriction);
                    }
                }
            }
        }
    }
}

#[test]
fn decision_lists_only_declared_readable_categories() {
    let policy = custos_policy::load(crate::validation::BASE, "base.toml")
        .unwrap()
        .policy;
    let table = compile(&policy);
    let d = table.decide("delivery", "order_fulfilment").unwrap();
    let names: Vec<&str> = table.category_names(d).collect();
    assert_eq!(names, ["user.contact.email", "user.contact.address"]);
    assert!(table.decide("marketing", "order_fulfilment").is_none());
    assert!(
        table
            .decide("marketing", "marketing_email")
            .unwrap()
            .needs_consent
    );
    // A pass-through purpose reaches its recipient, but the never-stored CVV is never readable.
    assert!(!table.allows("payment_agency", "payment", "user.financial.card_cvv"));
}
