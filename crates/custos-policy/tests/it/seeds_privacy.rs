//! The four seed privacy policies under `policies/` keep every promise of
//! SEED-PROMISES.md: one test (at least) per promise id, asserting the values the
//! engine acts on, through the loaded model and the compiled decision tables.

use std::collections::BTreeSet;

use custos_policy::compile::{CompiledPolicy, Decision, compile};
use custos_policy::model::{
    Art9Condition, Basis, Category, Channel, OnExpiry, Policy, Purpose, RecipientKind, Right,
    Sensitivity, Source, TransferMechanism, Urgency, WithdrawPath,
};
use custos_policy::names::pattern_matches;
use custos_policy::period::{Span, Trigger, Unit};
use custos_policy::{Code, check, load};

const PLUME: &str = include_str!("../../../../policies/plume-sasu.toml");
const PLUMSENSE: &str = include_str!("../../../../policies/plumsense.toml");
const PLUM_VOICE: &str = include_str!("../../../../policies/plum-voice.toml");
const PLOOMES: &str = include_str!("../../../../policies/ploomes.toml");

/// A seed policy, loaded with neither errors nor warnings, and its decision tables.
struct Seed {
    policy: Policy,
    table: CompiledPolicy,
}

impl Seed {
    fn load(text: &str, file: &str) -> Seed {
        let loaded = load(text, file).unwrap_or_else(|r| panic!("{file} does not load:\n{r}"));
        assert!(
            loaded.warnings.diagnostics.is_empty(),
            "{file} has warnings:\n{}",
            loaded.warnings
        );
        let table = compile(&loaded.policy);
        Seed {
            policy: loaded.policy,
            table,
        }
    }

    fn category(&self, name: &str) -> &Category {
        self.policy
            .category
            .get(name)
            .unwrap_or_else(|| panic!("category `{name}` is not declared"))
    }

    fn purpose(&self, id: &str) -> &Purpose {
        self.policy
            .purpose
            .get(id)
            .unwrap_or_else(|| panic!("purpose `{id}` is not declared"))
    }

    fn decision(&self, role: &str, purpose: &str) -> &Decision {
        self.table
            .decide(role, purpose)
            .unwrap_or_else(|| panic!("`{role}` gets no decision for `{purpose}`"))
    }

    /// Every (role, purpose, decision) the tables hold.
    fn decisions(&self) -> Vec<(&str, &str, &Decision)> {
        let mut out = Vec::new();
        for role in self.table.roles() {
            for purpose in self.table.purposes() {
                if let Some(d) = self.table.decide(role, purpose) {
                    out.push((role.as_str(), purpose.as_str(), d));
                }
            }
        }
        out
    }

    /// Every (role, purpose) that lets the role read `category`.
    fn readers(&self, category: &str) -> BTreeSet<(String, String)> {
        self.decisions()
            .into_iter()
            .filter(|(r, p, _)| self.table.allows(r, p, category))
            .map(|(r, p, _)| (r.to_owned(), p.to_owned()))
            .collect()
    }

    /// Ids of the purposes that name `category`, directly or by a pattern.
    fn purposes_using(&self, category: &str) -> BTreeSet<&str> {
        self.policy
            .purpose
            .iter()
            .filter(|(_, p)| {
                p.categories
                    .iter()
                    .any(|pat| pattern_matches(pat, category))
            })
            .map(|(id, _)| id.as_str())
            .collect()
    }

    fn bases(&self) -> BTreeSet<Basis> {
        self.policy.purpose.values().map(|p| p.basis).collect()
    }

    fn retention(&self, category: &str) -> (Span, Trigger) {
        let rule = self
            .category(category)
            .retention
            .as_ref()
            .and_then(|r| r.rule())
            .unwrap_or_else(|| panic!("`{category}` has no valid retention"));
        (rule.span, rule.after)
    }
}

fn set<'a>(items: &[&'a str]) -> BTreeSet<&'a str> {
    items.iter().copied().collect()
}

fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Every stored category has a valid retention rule (the sweep has something to run).
fn every_stored_category_expires(s: &Seed) {
    for (name, c) in &s.policy.category {
        if !c.never_store {
            assert!(
                c.retention.as_ref().and_then(|r| r.rule()).is_some(),
                "`{name}` is stored forever"
            );
        }
    }
}

// =============================================================================================
// PLUME SASU (seeds/000_e8f26ee4b0d65592.txt), P0-1 … P0-19

fn plume() -> Seed {
    Seed::load(PLUME, "policies/plume-sasu.toml")
}

const PLUME_ROLES: [&str; 3] = [
    "marketing_communication",
    "sales_order_delivery",
    "technical_services",
];

const PLUME_CARD: [&str; 4] = [
    "user.financial.card_type",
    "user.financial.card_number",
    "user.financial.card_expiry",
    "user.financial.card_cvv",
];

#[test]
fn plume_loads_without_errors_or_warnings() {
    let s = plume();
    assert_eq!(s.policy.policy.id, "plume-sasu");
    assert_eq!(
        s.policy.policy.source.as_deref(),
        Some("seeds/000_e8f26ee4b0d65592.txt")
    );
    assert_eq!(s.policy.controller.name, "PLUME SASU");
    assert_eq!(s.policy.controller.country, "FR");
}

#[test]
fn p0_1_identity_data_is_collected_for_account_purchase_newsletter_and_contact() {
    let s = plume();
    let identity = [
        "user.name",
        "user.contact.address",
        "user.contact.email",
        "user.demographic.date_of_birth",
        "user.contact.phone_number",
        "user.account.profile",
    ];
    for name in identity {
        assert!(
            s.category(name).sources.contains(&Source::DataSubject),
            "{name} comes from the person"
        );
    }
    // Account and purchase rest on the contract; newsletters and contact on consent.
    let account = &s.purpose("account").categories;
    for name in identity {
        assert!(account.iter().any(|p| pattern_matches(p, name)), "{name}");
    }
    assert_eq!(s.purpose("payment_and_delivery").basis, Basis::Contract);
    for purpose in ["targeted_marketing", "contact"] {
        assert_eq!(s.purpose(purpose).basis, Basis::Consent, "{purpose}");
        assert!(
            s.decision("marketing_communication", purpose).needs_consent,
            "{purpose} reads need a live consent"
        );
    }
    assert!(
        s.table
            .allows("marketing_communication", "contact", "user.contact.email")
    );
}

#[test]
fn p0_2_card_data_is_never_stored_and_only_the_payment_agency_keeps_it() {
    let s = plume();
    for name in PLUME_CARD {
        let c = s.category(name);
        assert!(c.never_store, "{name} must be refused at collection");
        assert_eq!(c.sensitivity, Sensitivity::Payment, "{name}");
        assert_eq!(c.held_by.as_deref(), Some("payment_agency"), "{name}");
        assert!(s.readers(name).is_empty(), "nobody at Plume reads {name}");
    }
    let agency = &s.policy.recipient["payment_agency"];
    assert_ne!(agency.kind, RecipientKind::Internal);
    // The card purpose only passes data through and gives no role of Plume any decision.
    let card = s.purpose("card_payment");
    assert!(!card.stores);
    assert!(card.recipients.is_empty());
    for role in s.table.roles() {
        assert!(s.table.decide(role, "card_payment").is_none(), "{role}");
    }
    // Naming a card category in a storing purpose is refused by validation.
    let broken = PLUME.replacen("stores = false\n", "", 1);
    let codes: Vec<Code> = check(&broken, "t.toml").report.codes();
    assert!(codes.contains(&Code::NeverStoreStored), "{codes:?}");
}

#[test]
fn p0_3_satisfaction_surveys_are_anonymous_statistics() {
    let s = plume();
    let survey = s.category("user.survey.satisfaction");
    assert!(survey.anonymous);
    assert_eq!(
        s.purposes_using("user.survey.satisfaction"),
        set(&["product_statistics"])
    );
    let readers = s.readers("user.survey.satisfaction");
    assert!(!readers.is_empty());
    for (role, purpose) in readers {
        assert!(
            s.decision(&role, &purpose).anonymised_only,
            "{role}/{purpose}"
        );
    }
}

#[test]
fn p0_4_usage_data_covers_navigation_logins_purchases_after_sales_and_returns() {
    let s = plume();
    for name in [
        "user.behavior.browsing_history",
        "user.behavior.login_history",
        "user.behavior.purchase_history",
        "user.content.after_sales_exchanges",
        "user.behavior.product_returns",
    ] {
        assert!(!s.category(name).never_store, "{name}");
        assert!(!s.readers(name).is_empty(), "{name} serves a purpose");
    }
    assert!(s.table.allows(
        "technical_services",
        "maintenance_and_repair",
        "user.content.after_sales_exchanges"
    ));
    assert!(s.table.allows(
        "sales_order_delivery",
        "payment_and_delivery",
        "user.behavior.product_returns"
    ));
}

#[test]
fn p0_5_app_telemetry_is_anonymous_and_can_be_switched_off() {
    let s = plume();
    let t = s.category("user.device.telemetry");
    assert!(t.anonymous, "stored with no link to a person");
    assert!(t.opt_out, "the user can deactivate it in the app");
    assert_eq!(t.sources, vec![Source::Device]);
    for (role, purpose) in s.readers("user.device.telemetry") {
        let d = s.decision(&role, &purpose);
        assert!(d.anonymised_only, "{role}/{purpose}");
        assert!(d.objection_stops, "switching it off stops {purpose}");
    }
}

#[test]
fn p0_6_recipients_are_exclusively_the_three_internal_services() {
    let s = plume();
    for role in PLUME_ROLES {
        assert_eq!(
            s.policy.recipient[role].kind,
            RecipientKind::Internal,
            "{role}"
        );
    }
    let with_decisions: BTreeSet<&str> = s.decisions().into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(with_decisions, set(&PLUME_ROLES));
    assert!(s.table.purposes_of("payment_agency").is_empty());
    // Each service reads only its purposes' categories.
    let marketing = "marketing_communication";
    for name in [
        "user.behavior.login_history",
        "user.content.after_sales_exchanges",
        "user.financial.invoice",
        "user.financial.payment_reference",
    ] {
        assert!(
            s.table
                .purposes()
                .iter()
                .all(|p| !s.table.allows(marketing, p, name)),
            "marketing reads {name}"
        );
    }
    assert!(!s.table.allows(
        "technical_services",
        "account",
        "user.behavior.browsing_history"
    ));
    assert_eq!(
        s.table.purposes_of("technical_services"),
        vec!["account", "maintenance_and_repair", "product_statistics"]
    );
}

#[test]
fn p0_7_purposes_are_targeted_information_payment_delivery_maintenance_and_statistics() {
    let s = plume();
    assert!(s.table.allows(
        "marketing_communication",
        "targeted_marketing",
        "user.behavior.browsing_history"
    ));
    assert!(s.table.allows(
        "sales_order_delivery",
        "payment_and_delivery",
        "user.contact.address"
    ));
    assert!(s.table.allows(
        "technical_services",
        "maintenance_and_repair",
        "user.behavior.purchase_history"
    ));
    assert!(s.table.allows(
        "technical_services",
        "product_statistics",
        "user.device.telemetry"
    ));
    let ids: BTreeSet<&str> = s.policy.purpose.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        set(&[
            "account",
            "targeted_marketing",
            "contact",
            "payment_and_delivery",
            "card_payment",
            "maintenance_and_repair",
            "product_statistics",
            "legal_obligations",
        ])
    );
}

#[test]
fn p0_8_lawful_bases_are_consent_contract_public_interest_and_legal_obligation() {
    let s = plume();
    assert_eq!(
        s.bases(),
        [
            Basis::Consent,
            Basis::Contract,
            Basis::LegalObligation,
            Basis::PublicInterest
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(s.purpose("product_statistics").basis, Basis::PublicInterest);
    let legal = s.purpose("legal_obligations");
    assert_eq!(legal.basis, Basis::LegalObligation);
    assert!(legal.legal_reference.is_some());
    assert!(
        !s.decision("sales_order_delivery", "legal_obligations")
            .needs_consent
    );
}

#[test]
fn p0_9_data_is_kept_only_as_long_as_necessary_and_deleted_with_the_account() {
    let s = plume();
    every_stored_category_expires(&s);
    for name in [
        "user.name",
        "user.contact.email",
        "user.contact.address",
        "user.contact.phone_number",
    ] {
        assert_eq!(
            s.retention(name),
            (Span::new(3, Unit::Years), Trigger::LastActivity),
            "{name}"
        );
    }
    // Deleting the account (or the app) erases: erasure is self-service.
    assert!(s.policy.rights.self_service.contains(&Right::Erasure));
}

#[test]
fn p0_10_after_deletion_only_anonymous_statistics_remain() {
    let s = plume();
    for name in [
        "user.behavior.purchase_history",
        "user.behavior.product_returns",
    ] {
        assert_eq!(s.category(name).on_expiry, OnExpiry::Anonymise, "{name}");
    }
    let stats = s.purpose("product_statistics");
    assert!(stats.anonymised_only);
    for pattern in &stats.categories {
        for (name, c) in &s.policy.category {
            if pattern_matches(pattern, name) {
                assert!(c.anonymous, "statistics read identifying `{name}`");
            }
        }
    }
}

#[test]
fn p0_11_people_update_their_data_in_my_account() {
    let s = plume();
    assert!(s.policy.rights.available.contains(&Right::Rectification));
    assert!(s.policy.rights.self_service.contains(&Right::Rectification));
}

#[test]
fn p0_12_security_measures_include_payment_means() {
    let s = plume();
    let security = s.policy.security.join("\n").to_lowercase();
    for word in [
        "unauthorised",
        "disclosure",
        "alteration",
        "loss",
        "payment",
    ] {
        assert!(security.contains(word), "no measure mentions {word}");
    }
    assert_eq!(
        s.category("user.financial.payment_reference").sensitivity,
        Sensitivity::Payment
    );
}

#[test]
fn p0_13_customers_are_told_of_a_breach_immediately() {
    let s = plume();
    let b = s.policy.breach.as_ref().expect("a breach section");
    assert_eq!(b.notify_people, Urgency::Immediately);
    assert!(!b.channels.is_empty());
    assert!(b.measures.is_some(), "measures are taken without delay");
    assert!(!b.law_enforcement_delay && !b.only_where_law_requires);
}

#[test]
fn p0_14_people_see_their_data_in_my_account() {
    let s = plume();
    assert!(s.policy.rights.available.contains(&Right::Access));
    assert!(s.policy.rights.self_service.contains(&Right::Access));
}

#[test]
fn p0_15_data_can_be_transmitted_to_another_controller() {
    let s = plume();
    assert!(s.policy.rights.available.contains(&Right::Portability));
    assert!(
        s.policy
            .rights
            .contact
            .iter()
            .any(|c| c.contains("DPO PLUME")),
        "portability is asked of the data protection officer"
    );
}

#[test]
fn p0_16_disconnecting_the_app_restricts_processing() {
    let s = plume();
    assert!(s.policy.rights.available.contains(&Right::Restriction));
    assert!(s.policy.rights.self_service.contains(&Right::Restriction));
    // While restricted, only the legal purpose may read.
    for (role, purpose, d) in s.decisions() {
        assert_eq!(
            d.during_restriction,
            purpose == "legal_obligations",
            "{role}/{purpose}"
        );
    }
}

#[test]
fn p0_17_erasure_keeps_only_what_the_law_requires() {
    let s = plume();
    assert!(s.policy.rights.available.contains(&Right::Erasure));
    let legal = s.purpose("legal_obligations");
    assert!(legal.during_restriction);
    assert_eq!(legal.basis, Basis::LegalObligation);
    let kept: BTreeSet<&str> = s
        .table
        .category_names(s.decision("sales_order_delivery", "legal_obligations"))
        .collect();
    assert_eq!(
        kept,
        set(&["user.financial.invoice", "user.financial.payment_reference"])
    );
}

#[test]
fn p0_18_requests_are_answered_within_15_days() {
    let s = plume();
    let r = &s.policy.rights;
    assert_eq!(r.deadline.span(), Some(Span::new(15, Unit::Days)));
    assert!(
        r.extension_notice,
        "the applicant is told when more time is needed"
    );
    let extension = r
        .extension
        .as_ref()
        .and_then(|e| e.span())
        .expect("an extension");
    assert!(extension.approx_hours() + 15 * 24 <= 31 * 24);
}

#[test]
fn p0_19_complaints_go_to_the_cnil() {
    let s = plume();
    let authority = s
        .policy
        .controller
        .supervisory_authority
        .as_ref()
        .expect("a supervisory authority");
    assert_eq!(authority.name, "CNIL");
}

// =============================================================================================
// Plumsense (seeds/002_246aa9190341d905.txt), S-1 … S-7

fn plumsense() -> Seed {
    Seed::load(PLUMSENSE, "policies/plumsense.toml")
}

#[test]
fn plumsense_loads_without_errors_or_warnings() {
    let s = plumsense();
    assert_eq!(s.policy.policy.id, "plumsense");
    assert_eq!(
        s.policy.policy.source.as_deref(),
        Some("seeds/002_246aa9190341d905.txt")
    );
}

#[test]
fn s_1_processor_on_written_instructions_under_a_dpa() {
    let s = plumsense();
    let p = s.policy.processor.as_ref().expect("processor mode");
    assert!(!p.services.is_empty());
    assert!(p.written_instructions_only);
    assert!(p.dpa_required);
    assert_eq!(
        p.dpa_covers,
        vec!["security", "sub-processing", "audit", "breach"]
    );
    assert!(p.route_requests_to_controller);
    // As controller of its own data, it still has its own purposes.
    assert_eq!(s.purpose("billing").basis, Basis::Contract);
}

#[test]
fn s_2_categories_with_gps_only_when_enabled_and_payment_kept_by_the_processor() {
    let s = plumsense();
    for name in [
        "user.name",
        "user.contact.email",
        "user.contact.phone_number",
        "user.workplace",
        "user.contact.address",
        "user.device.sensor_readings",
        "user.device.device_id",
        "user.device.diagnostics",
        "user.behavior.service_logs",
        "user.device.ip_address",
        "user.content.support",
        "user.financial.invoice",
        "user.financial.tax_info",
        "user.job_application",
        "user.health_and_medical",
    ] {
        assert!(!s.readers(name).is_empty(), "{name} serves a purpose");
    }
    let gps = s.category("user.location.precise");
    assert_eq!(gps.requires_setting.as_deref(), Some("gps_enabled"));
    let pay = s.category("user.financial.payment_method");
    assert!(pay.never_store);
    assert_eq!(pay.held_by.as_deref(), Some("payment_processor"));
    assert!(s.readers("user.financial.payment_method").is_empty());
}

#[test]
fn s_3_health_data_is_special_and_needs_an_art9_condition() {
    let s = plumsense();
    let health = s.category("user.health_and_medical");
    assert_eq!(health.sensitivity, Sensitivity::Special);
    let users = s.purposes_using("user.health_and_medical");
    assert_eq!(users, set(&["health_product_monitoring"]));
    for id in users {
        assert_eq!(
            s.purpose(id).art9_condition,
            Some(Art9Condition::ControllerInstruction),
            "{id}: only as requested by the customer"
        );
    }
    // Without the condition the policy is refused.
    let broken = PLUMSENSE.replacen("art9_condition = \"controller_instruction\"\n", "", 1);
    assert!(
        check(&broken, "t.toml")
            .report
            .codes()
            .contains(&Code::SpecialWithoutArt9)
    );
    // Extra protection: sensitive fields are encrypted at rest.
    assert!(s.policy.security.iter().any(|m| m.contains("at rest")));
}

#[test]
fn s_4_lawful_bases_are_contract_legitimate_interest_legal_duty_and_consent() {
    let s = plumsense();
    assert_eq!(
        s.bases(),
        [
            Basis::Consent,
            Basis::Contract,
            Basis::LegalObligation,
            Basis::LegitimateInterest
        ]
        .into_iter()
        .collect()
    );
    assert!(
        s.decision("marketing", "marketing").needs_consent,
        "marketing when consented"
    );
    assert!(s.decision("security", "security_and_fraud").objection_stops);
}

#[test]
fn s_5_security_measures_are_stated() {
    let s = plumsense();
    let security = s.policy.security.join("\n").to_lowercase();
    for measure in [
        "encryption in transit and at rest",
        "role-based access",
        "logging and monitoring",
        "incident response",
    ] {
        assert!(security.contains(measure), "missing: {measure}");
    }
}

#[test]
fn s_6_international_transfers_need_a_mechanism() {
    let s = plumsense();
    let home = s.policy.controller.region.as_str();
    let mut abroad = 0;
    for (id, r) in &s.policy.recipient {
        if r.region.as_deref().is_some_and(|region| region != home) {
            abroad += 1;
            assert!(r.transfer.is_some(), "{id} is abroad without a mechanism");
        }
    }
    assert!(abroad >= 2, "telemetry is routed to cloud servers abroad");
    assert_eq!(
        s.policy.recipient["cloud_hosting_us"].transfer,
        Some(TransferMechanism::TransferAgreement)
    );
    assert!(s.table.allows(
        "cloud_hosting_us",
        "service_provision",
        "user.device.sensor_readings"
    ));
    let broken = PLUMSENSE.replacen("transfer = \"transfer_agreement\"", "", 1);
    assert!(
        check(&broken, "t.toml")
            .report
            .codes()
            .contains(&Code::TransferWithoutMechanism)
    );
}

#[test]
fn s_7_changes_are_posted_with_an_effective_date() {
    let s = plumsense();
    let c = s.policy.changes.as_ref().expect("a changes section");
    assert!(c.effective_date_posted);
    assert!(c.channels.contains(&Channel::SiteNotice));
    assert!(c.notify_material_only);
}

// =============================================================================================
// Plum Voice (seeds/003_c1012440cf332d0e.txt), V-1 … V-6

fn plum_voice() -> Seed {
    Seed::load(PLUM_VOICE, "policies/plum-voice.toml")
}

#[test]
fn plum_voice_loads_without_errors_or_warnings() {
    let s = plum_voice();
    assert_eq!(s.policy.policy.id, "plum-voice");
    assert_eq!(
        s.policy.policy.source.as_deref(),
        Some("seeds/003_c1012440cf332d0e.txt")
    );
}

#[test]
fn v_1_data_comes_from_cookies_forms_sales_communications_offline_and_opt_in_lists() {
    let s = plum_voice();
    let all: Vec<Source> = s
        .policy
        .category
        .values()
        .flat_map(|c| c.sources.iter().copied())
        .collect();
    for source in [
        Source::Cookies,
        Source::DataSubject,
        Source::Offline,
        Source::ThirdParty,
    ] {
        assert!(all.contains(&source), "{source:?}");
    }
    // Offline data is treated like online data: the same categories, the same rules.
    for name in [
        "user.name",
        "user.contact.email",
        "user.contact.phone_number",
    ] {
        let sources = &s.category(name).sources;
        assert!(sources.contains(&Source::Offline) && sources.contains(&Source::DataSubject));
    }
}

#[test]
fn v_2_purposes_with_partner_sharing_only_on_agreement() {
    let s = plum_voice();
    for purpose in [
        "transactions",
        "service_and_support",
        "download_follow_up",
        "inquiries",
        "community_alerts",
        "tailored_marketing",
        "sales_referral",
        "partner_sharing",
        "events",
        "patch_notices",
        "legal_requirements",
    ] {
        assert!(
            s.decisions().iter().any(|(_, p, _)| *p == purpose),
            "purpose {purpose} has no reader"
        );
    }
    let partners = &s.policy.recipient["selected_partners"];
    assert_eq!(partners.kind, RecipientKind::Partner);
    assert!(partners.requires_consent);
    let reads = s.table.purposes_of("selected_partners");
    assert_eq!(reads, vec!["partner_sharing"]);
    for purpose in reads {
        assert!(s.decision("selected_partners", purpose).needs_consent);
    }
    assert_eq!(
        s.purpose("legal_requirements").basis,
        Basis::LegalObligation
    );
}

#[test]
fn v_3_hosted_services_data_is_processed_only_for_the_customer() {
    let s = plum_voice();
    let p = s.policy.processor.as_ref().expect("processor mode");
    assert!(p.written_instructions_only);
    assert!(p.controller_answers_for_consent);
    assert_eq!(
        s.category("user.hosted_data").sources,
        vec![Source::Customer]
    );
    assert_eq!(
        s.readers("user.hosted_data"),
        pairs(&[("hosting_support", "hosted_services")]),
        "no independent use"
    );
    assert_eq!(
        s.table.purposes_of("hosting_support"),
        vec!["hosted_services"]
    );
}

#[test]
fn v_4_breach_notices_by_email_fax_then_post_with_law_enforcement_delay() {
    let s = plum_voice();
    let b = s.policy.breach.as_ref().expect("a breach section");
    assert_eq!(
        b.channels,
        vec![Channel::Email, Channel::Fax, Channel::Post]
    );
    assert!(b.law_enforcement_delay);
    assert_eq!(b.notify_people, Urgency::Promptly);
    assert!(b.only_where_law_requires);
}

#[test]
fn v_5_no_data_from_children_under_13() {
    let s = plum_voice();
    assert_eq!(s.policy.jurisdiction["US"].min_age, Some(13));
}

#[test]
fn v_6_a_new_use_is_notified_by_email_with_a_choice() {
    let s = plum_voice();
    let c = s.policy.changes.as_ref().expect("a changes section");
    assert!(c.reconsent_for_new_use);
    assert_eq!(c.channels.first(), Some(&Channel::Email));
    assert!(
        c.channels.contains(&Channel::SiteNotice),
        "or a prominent notice"
    );
    assert!(c.notify_material_only);
}

// =============================================================================================
// Ploomes (seeds/004_282567914ac52756.txt), L-1 … L-11

fn ploomes() -> Seed {
    Seed::load(PLOOMES, "policies/ploomes.toml")
}

#[test]
fn ploomes_loads_without_errors_or_warnings() {
    let s = ploomes();
    assert_eq!(s.policy.policy.id, "ploomes");
    assert_eq!(
        s.policy.policy.source.as_deref(),
        Some("seeds/004_282567914ac52756.txt")
    );
    assert_eq!(s.policy.controller.country, "BR");
}

#[test]
fn l_1_controller_for_its_own_data_operator_for_clients_data() {
    let s = ploomes();
    let p = s.policy.processor.as_ref().expect("operator mode");
    assert!(p.written_instructions_only);
    assert!(
        p.controller_answers_for_consent,
        "clients answer for consent"
    );
    assert_eq!(
        s.category("user.client_data").sources,
        vec![Source::Customer]
    );
    assert_eq!(
        s.purposes_using("user.client_data"),
        set(&["crm_service", "client_integrations", "machine_learning"])
    );
    // Its own data has its own purposes as controller.
    assert!(!s.purposes_using("user.contact.email").is_empty());
}

#[test]
fn l_2_geolocation_needs_permission_and_serves_only_check_ins() {
    let s = ploomes();
    let loc = s.category("user.location.precise");
    assert_eq!(
        loc.requires_setting.as_deref(),
        Some("device_location_permission")
    );
    assert_eq!(
        s.purposes_using("user.location.precise"),
        set(&["check_in"])
    );
    assert_eq!(
        s.readers("user.location.precise"),
        pairs(&[("operations", "check_in")])
    );
}

#[test]
fn l_3_integrations_get_only_what_the_client_grants() {
    let s = ploomes();
    assert_ne!(
        s.policy.recipient["client_integrations"].kind,
        RecipientKind::Internal
    );
    assert_eq!(
        s.table.purposes_of("client_integrations"),
        vec!["client_integrations"]
    );
    let d = s.decision("client_integrations", "client_integrations");
    let names: Vec<&str> = s.table.category_names(d).collect();
    assert_eq!(
        names,
        vec!["user.client_data"],
        "no Ploomes data of its own"
    );
}

#[test]
fn l_4_machine_learning_uses_only_anonymised_customer_data() {
    let s = ploomes();
    assert!(s.purpose("machine_learning").anonymised_only);
    for (role, purpose) in s.readers("user.client_data") {
        let d = s.decision(&role, &purpose);
        let serving = matches!(purpose.as_str(), "crm_service" | "client_integrations");
        assert!(
            serving || d.anonymised_only,
            "{role}/{purpose} reads client data in clear"
        );
    }
}

#[test]
fn l_5_providers_are_confidential_partners_need_express_consent() {
    let s = ploomes();
    for (id, r) in &s.policy.recipient {
        match r.kind {
            RecipientKind::Processor => assert!(r.confidentiality, "{id}"),
            RecipientKind::Partner => assert!(r.requires_consent, "{id}"),
            _ => {}
        }
    }
    let partners = &s.policy.recipient["partners"];
    assert_eq!(partners.kind, RecipientKind::Partner);
    let reads = s.table.purposes_of("partners");
    assert_eq!(reads, vec!["partner_sharing"]);
    for purpose in reads {
        assert!(s.decision("partners", purpose).needs_consent);
    }
    // Never sold: no third party outside these kinds receives anything.
    for (role, purpose, _) in s.decisions() {
        let kind = s.policy.recipient[role].kind;
        assert!(
            kind != RecipientKind::Partner || s.purpose(purpose).basis == Basis::Consent,
            "{role}/{purpose}"
        );
    }
}

#[test]
fn l_6_data_is_deleted_anonymised_or_isolated_and_preferences_run_from_last_interaction() {
    let s = ploomes();
    every_stored_category_expires(&s);
    assert_eq!(
        s.retention("user.preferences.marketing").1,
        Trigger::LastActivity
    );
    assert_eq!(s.retention("user.device.cookie_id").1, Trigger::Collection);
    assert_eq!(s.category("user.name").on_expiry, OnExpiry::Anonymise);
    // Isolated data is read only for the legal purpose.
    for (role, purpose, d) in s.decisions() {
        assert_eq!(
            d.during_restriction,
            purpose == "legal_obligations",
            "{role}/{purpose}"
        );
    }
    assert!(
        s.policy.rights.available.contains(&Right::Erasure),
        "earlier on request"
    );
}

#[test]
fn l_7_all_rights_and_consent_revocation_is_not_retroactive() {
    let s = ploomes();
    let available: BTreeSet<Right> = s.policy.rights.available.iter().copied().collect();
    assert_eq!(available, Right::ALL.into_iter().collect());
    // Another legal basis continues after consent is revoked.
    assert!(!s.decision("legal", "legal_obligations").needs_consent);
    assert!(!s.decision("operations", "service_provision").needs_consent);
}

#[test]
fn l_8_requests_about_client_data_go_to_the_client() {
    let s = ploomes();
    let p = s.policy.processor.as_ref().expect("operator mode");
    assert!(p.route_requests_to_controller);
}

#[test]
fn l_9_marketing_emails_carry_a_working_unsubscribe_link() {
    let s = ploomes();
    let m = s.purpose("marketing");
    assert_eq!(m.basis, Basis::Consent);
    assert!(m.withdraw.contains(&WithdrawPath::UnsubscribeLink));
    assert!(s.decision("marketing", "marketing").needs_consent);
}

#[test]
fn l_10_no_data_from_children_under_16() {
    let s = ploomes();
    for code in ["BR", "EEA", "UK"] {
        assert_eq!(s.policy.jurisdiction[code].min_age, Some(16), "{code}");
    }
    assert!(
        s.policy
            .jurisdiction
            .values()
            .all(|j| j.min_age == Some(16))
    );
}

#[test]
fn l_11_calls_are_recorded_only_after_notice_and_with_the_option_to_refuse() {
    let s = ploomes();
    let c = s.purpose("call_recording");
    assert!(c.prior_notice);
    assert_eq!(c.basis, Basis::Consent);
    assert!(s.decision("sales", "call_recording").needs_consent);
    assert_eq!(
        s.readers("user.content.call_recording"),
        pairs(&[("sales", "call_recording")])
    );
}
