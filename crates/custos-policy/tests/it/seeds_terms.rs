//! The Plume Design terms of sale (seed 001) as a policy file: it loads cleanly and
//! keeps every promise T-1 … T-21 of SEED-PROMISES.md.

use custos_policy::Policy;
use custos_policy::load;
use custos_policy::model::{
    AfterEnd, Basis, BilledBy, ConsumerLaw, Contract, DocumentKind, Plan, TransferPoint,
    WithdrawalStart,
};
use custos_policy::period::{Period, Span, Unit};

const TEXT: &str = include_str!("../../../../policies/plume-design-terms.toml");

// Helpers panic with a message, like assertions (clippy treats only
// `#[test]` and `#[cfg(test)]` items as tests).
#[cfg(test)]
fn policy() -> Policy {
    load(TEXT, "plume-design-terms.toml")
        .unwrap_or_else(|r| panic!("{r}"))
        .policy
}

#[cfg(test)]
fn contract(p: &Policy) -> &Contract {
    p.contract.as_ref().expect("terms of sale need [contract]")
}

#[cfg(test)]
fn plan<'a>(p: &'a Policy, id: &str) -> &'a Plan {
    contract(p)
        .plan
        .get(id)
        .unwrap_or_else(|| panic!("no plan `{id}`"))
}

#[cfg(test)]
fn consumer<'a>(p: &'a Policy, code: &str) -> &'a ConsumerLaw {
    p.jurisdiction
        .get(code)
        .and_then(|j| j.consumer.as_ref())
        .unwrap_or_else(|| panic!("no consumer law for `{code}`"))
}

#[cfg(test)]
fn span(p: &Period) -> Span {
    p.span()
        .unwrap_or_else(|| panic!("`{}` is not a valid period", p.raw()))
}

fn opt(p: Option<&Period>) -> Option<Span> {
    p.map(span)
}

fn days(n: u32) -> Span {
    Span::new(n, Unit::Days)
}

fn months(n: u32) -> Span {
    Span::new(n, Unit::Months)
}

const COUNTRIES: [&str; 4] = ["BE", "DE", "CH", "UK"];

#[test]
fn plume_terms_load_without_errors_or_warnings() {
    let loaded = load(TEXT, "plume-design-terms.toml").unwrap_or_else(|r| panic!("{r}"));
    assert!(
        loaded.warnings.diagnostics.is_empty(),
        "{}",
        loaded.warnings
    );
    let meta = &loaded.policy.policy;
    assert_eq!(meta.kind, DocumentKind::TermsOfSale);
    assert_eq!(
        meta.source.as_deref(),
        Some("seeds/001_5496f48e331f2d30.txt")
    );
    assert_eq!(loaded.policy.controller.name, "Plume Design, Inc.");
    assert_eq!(loaded.policy.controller.country, "US");
    assert_eq!(
        loaded.policy.controller.email.as_deref(),
        Some("support@plume.com")
    );
}

#[test]
fn t_1_applies_in_belgium_germany_switzerland_and_uk() {
    let p = policy();
    let codes: Vec<&str> = p.jurisdiction.keys().map(String::as_str).collect();
    assert_eq!(codes, COUNTRIES, "exactly the four Addendum countries");
    for code in COUNTRIES {
        assert!(
            p.jurisdiction[code].consumer.is_some(),
            "{code} needs its consumer law"
        );
        assert_eq!(
            p.jurisdiction[code].holidays.as_deref(),
            Some(code),
            "{code} counts business days on its own calendar"
        );
    }
}

#[test]
fn t_2_membership_needs_an_account_with_credentials() {
    let p = policy();
    assert!(contract(&p).account_required_for_membership);
    assert!(p.category.contains_key("user.authorization.credentials"));
    let account = &p.purpose["account"];
    assert_eq!(account.basis, Basis::Contract);
    assert!(
        account
            .categories
            .iter()
            .any(|c| c == "user.authorization.credentials")
    );
    assert!(
        p.rights
            .available
            .contains(&custos_policy::model::Right::Rectification),
        "the owner keeps the account accurate"
    );
}

#[test]
fn t_3_price_fixed_at_order_confirmation() {
    let p = policy();
    let orders = contract(&p).orders.as_ref().expect("[contract.orders]");
    assert!(orders.price_fixed_at_confirmation);
    assert!(orders.contract_at_confirmation);
}

#[test]
fn t_4_membership_changes_need_30_days_notice_and_allow_cancelling() {
    let p = policy();
    for id in ["homepass", "workpass"] {
        assert_eq!(
            opt(plan(&p, id).change_notice.as_ref()),
            Some(days(30)),
            "{id}"
        );
    }
    for code in COUNTRIES {
        assert!(consumer(&p, code).cancel_on_price_change, "{code}");
    }
}

#[test]
fn t_5_homepass_in_app_workpass_and_products_in_store() {
    let p = policy();
    assert_eq!(plan(&p, "homepass").billed_by, BilledBy::AppPlatform);
    assert_eq!(plan(&p, "workpass").billed_by, BilledBy::Store);
    let orders = contract(&p).orders.as_ref().unwrap();
    assert_eq!(orders.sold_via, Some(BilledBy::Store));
    // The App Platform, which bills HomePass, may read billing data.
    assert!(
        p.purpose["membership_billing"]
            .recipients
            .iter()
            .any(|r| r == "app_platform")
    );
}

#[test]
fn t_6_contract_forms_at_confirmation_with_delivery_estimate() {
    let p = policy();
    let orders = contract(&p).orders.as_ref().unwrap();
    assert!(orders.contract_at_confirmation);
    assert!(orders.confirmation_states_delivery_estimate);
}

#[test]
fn t_7_quantity_limits_and_dealer_orders_refused() {
    let p = policy();
    let orders = contract(&p).orders.as_ref().unwrap();
    assert!(orders.refuse_dealers);
    let l = orders.limits.as_ref().expect("quantity limits");
    for (key, limit) in [
        ("per_person", l.per_person),
        ("per_email", l.per_email),
        ("per_household", l.per_household),
        ("per_card", l.per_card),
        ("per_address", l.per_address),
    ] {
        let n = limit.unwrap_or_else(|| panic!("{key} limit missing"));
        assert!((1..=10).contains(&n), "{key} = {n}");
    }
}

#[test]
fn t_8_unavailable_products_refunded_immediately() {
    let p = policy();
    assert!(
        contract(&p)
            .orders
            .as_ref()
            .unwrap()
            .refund_unavailable_immediately
    );
}

#[test]
fn t_9_invalid_payment_terminates_order_or_membership() {
    let p = policy();
    assert!(
        contract(&p)
            .orders
            .as_ref()
            .unwrap()
            .invalid_payment_terminates
    );
    // Card data only passes through to the processors; Plume keeps a token.
    let payment = &p.purpose["payment"];
    assert!(!payment.stores);
    for card in ["user.financial.card_number", "user.financial.card_cvv"] {
        assert!(p.category[card].never_store, "{card}");
    }
    assert!(!p.category["user.financial.payment_token"].never_store);
}

#[test]
fn t_10_homepass_monthly_free_first_month_charged_24h_before() {
    let p = policy();
    let hp = plan(&p, "homepass");
    assert!(hp.auto_renew);
    assert_eq!(hp.period.span(), Some(months(1)));
    assert_eq!(opt(hp.free_trial.as_ref()), Some(months(1)));
    assert_eq!(
        opt(hp.charge_before.as_ref()),
        Some(Span::new(24, Unit::Hours))
    );
    assert!(hp.initial_term.is_none(), "HomePass has no fixed term");
}

#[test]
fn t_11_workpass_12_month_term_then_month_to_month() {
    let p = policy();
    let wp = plan(&p, "workpass");
    assert!(wp.auto_renew);
    assert_eq!(opt(wp.initial_term.as_ref()), Some(months(12)));
    assert_eq!(opt(wp.cancel_notice_initial_term.as_ref()), Some(months(1)));
    assert_eq!(wp.period.span(), Some(months(1)), "then month-to-month");
    assert_eq!(opt(wp.termination_notice.as_ref()), Some(months(1)));
}

#[test]
fn t_12_memberships_are_not_transferable() {
    let p = policy();
    for id in ["homepass", "workpass"] {
        assert!(!plan(&p, id).transferable, "{id}");
    }
}

#[test]
fn t_13_no_refund_of_current_period_grace_then_termination_reactivation() {
    let p = policy();
    for id in ["homepass", "workpass"] {
        let pl = plan(&p, id);
        assert!(!pl.refund_current_period, "{id}: no refund");
        assert!(pl.cancel_at_period_end, "{id}: benefits to period end");
        assert!(pl.grace.as_ref().and_then(Period::span).is_some(), "{id}");
        assert!(pl.reactivation, "{id}");
    }
    let wp = plan(&p, "workpass");
    assert_eq!(
        opt(wp.cancel_notice.as_ref()),
        Some(Span::new(1, Unit::BusinessDays))
    );
    // HomePass is cancelled with the App Platform any time before the next period.
    assert!(plan(&p, "homepass").cancel_notice.is_none());
}

#[test]
fn t_14_basic_mode_after_homepass_only_if_activated() {
    let p = policy();
    let hp = plan(&p, "homepass");
    assert_eq!(hp.after_end, AfterEnd::BasicMode);
    assert!(hp.after_end_requires_activation);
    assert_eq!(plan(&p, "workpass").after_end, AfterEnd::Nothing);
}

#[test]
fn t_15_return_windows_and_refund_rules() {
    let p = policy();
    let r = contract(&p).returns.as_ref().expect("[contract.returns]");
    assert_eq!(span(&r.notice_after_delivery_confirmation), days(30));
    assert_eq!(span(&r.notice_after_possession), days(14));
    assert!(r.rma_required);
    assert_eq!(span(&r.ship_within), days(14));
    assert_eq!(span(&r.refund_within), days(30));
    assert!(r.refund_includes_original_shipping);
    assert!(r.deduct_lost_bundle_discount);
    assert!(r.deduct_deterioration);
    assert!(r.promotional_period_forfeited);
}

#[test]
fn t_16_title_and_risk_pass_at_delivery() {
    let p = policy();
    assert_eq!(
        contract(&p).title_and_risk_pass_at,
        Some(TransferPoint::Delivery)
    );
}

#[test]
fn t_17_terms_changes_30_days_notice_disputes_use_version_in_force() {
    let p = policy();
    let c = contract(&p);
    assert_eq!(opt(c.terms_change_notice.as_ref()), Some(days(30)));
    assert!(c.disputes_use_version_in_force);
    // Where the Addendum has no specific rule, the 30 days apply.
    for code in ["BE", "CH", "UK"] {
        assert_eq!(
            opt(consumer(&p, code).change_notice.as_ref()),
            Some(days(30)),
            "{code}"
        );
    }
}

#[test]
fn t_18_statutory_withdrawal_14_days() {
    let p = policy();
    let c = contract(&p);
    let w = c.withdrawal.as_ref().expect("[contract.withdrawal]");
    assert_eq!(span(&w.period), days(14));
    assert_eq!(w.goods_from, WithdrawalStart::PossessionOfLastItem);
    assert_eq!(w.membership_from, WithdrawalStart::ContractDate);
    assert_eq!(span(&w.refund_within), days(14));
    assert!(w.refund_may_wait_for_goods);
    assert!(w.same_means_of_payment);
    assert_eq!(opt(w.return_within.as_ref()), Some(days(14)));
    assert_eq!(w.max_return_cost, ["20 EUR", "20 GBP"]);
    assert!(w.standard_form);
    for cur in ["EUR", "GBP"] {
        assert!(c.currencies.iter().any(|c| c == cur), "{cur}");
    }
    for code in COUNTRIES {
        assert_eq!(
            opt(consumer(&p, code).withdrawal.as_ref()),
            Some(days(14)),
            "{code}"
        );
    }
}

#[test]
fn t_19_belgium_legal_guarantee_clocks() {
    let p = policy();
    let be = consumer(&p, "BE");
    assert_eq!(
        opt(be.legal_guarantee.as_ref()),
        Some(Span::new(2, Unit::Years))
    );
    assert_eq!(opt(be.defect_notice.as_ref()), Some(months(2)));
    assert_eq!(
        opt(be.defect_time_bar.as_ref()),
        Some(Span::new(1, Unit::Years))
    );
}

#[test]
fn t_20_germany_six_weeks_notice_and_acceptance() {
    let p = policy();
    let de = consumer(&p, "DE");
    assert_eq!(
        opt(de.change_notice.as_ref()),
        Some(Span::new(6, Unit::Weeks))
    );
    assert!(de.change_requires_acceptance);
    assert!(de.silence_accepts_only_mandated_changes);
    // Elsewhere a change takes effect after the notice without acceptance (§10.1).
    for code in ["BE", "CH", "UK"] {
        assert!(!consumer(&p, code).change_requires_acceptance, "{code}");
    }
}

#[test]
fn t_21_uk_faulty_goods_remedies_and_price_change_cancellation() {
    let p = policy();
    let uk = consumer(&p, "UK");
    assert_eq!(opt(uk.faulty_refund.as_ref()), Some(days(30)));
    assert_eq!(opt(uk.repair_or_replace.as_ref()), Some(months(6)));
    assert_eq!(
        opt(uk.remedy_limit.as_ref()),
        Some(Span::new(6, Unit::Years))
    );
    assert!(uk.cancel_on_price_change);
    assert_eq!(opt(uk.change_notice.as_ref()), Some(days(30)));
}
