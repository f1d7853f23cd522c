//! The consumer-terms section, for policies that also carry terms of sale.

use crate::model::{
    AfterEnd, BilledBy, ConsumerLaw, Contract, Orders, Plan, Policy, Returns, TransferPoint,
    Withdrawal, WithdrawalStart,
};

use super::build::{jurisdiction_name, section};
use super::{Block, Section, join_and, join_or};

pub(super) fn consumer_terms(p: &Policy) -> Option<Section> {
    let c = p.contract.as_ref()?;
    let mut blocks = Vec::new();
    let general = general(c);
    if !general.is_empty() {
        blocks.push(Block::List(general));
    }
    if let Some(o) = &c.orders {
        push_list(&mut blocks, "Orders", orders(o));
    }
    if let Some(w) = &c.withdrawal {
        push_list(&mut blocks, "Your right of withdrawal", withdrawal(w));
    }
    if let Some(r) = &c.returns {
        push_list(&mut blocks, "Returns", returns(r));
    }
    for plan in c.plan.values() {
        push_list(
            &mut blocks,
            &format!("Membership: {}", plan.name),
            plan_terms(plan),
        );
    }
    for (code, j) in &p.jurisdiction {
        if let Some(law) = &j.consumer {
            let place = jurisdiction_name(code, j.name.as_ref());
            push_list(
                &mut blocks,
                &format!("Consumer law: {place}"),
                consumer_law(law),
            );
        }
    }
    (!blocks.is_empty()).then(|| section("consumer-terms", "Consumer terms", blocks))
}

fn push_list(blocks: &mut Vec<Block>, heading: &str, items: Vec<String>) {
    if !items.is_empty() {
        blocks.push(Block::Subheading(heading.to_owned()));
        blocks.push(Block::List(items));
    }
}

fn general(c: &Contract) -> Vec<String> {
    let mut items = Vec::new();
    if !c.currencies.is_empty() {
        items.push(format!("Prices are given in {}.", join_or(&c.currencies)));
    }
    if let Some(at) = c.title_and_risk_pass_at {
        let when = match at {
            TransferPoint::Delivery => "on delivery",
            TransferPoint::Payment => "when you pay",
            TransferPoint::Dispatch => "when we dispatch them",
        };
        items.push(format!(
            "Ownership of the goods, and the risk of loss or damage, pass to you {when}."
        ));
    }
    if c.account_required_for_membership {
        items.push(
            "A membership needs an account: keep your login details safe and your account \
             information accurate."
                .to_owned(),
        );
    }
    if let Some(n) = &c.terms_change_notice {
        items.push(format!(
            "We tell you at least {n} before changed terms apply."
        ));
    }
    if c.disputes_use_version_in_force {
        items.push("A dispute is settled under the terms in force when it arose.".to_owned());
    }
    items
}

fn orders(o: &Orders) -> Vec<String> {
    let mut items = Vec::new();
    if o.contract_at_confirmation {
        items.push(
            "Your order is an offer to buy; the contract is made when we confirm it.".to_owned(),
        );
    }
    if o.confirmation_states_delivery_estimate {
        items.push("The order confirmation gives an estimated delivery date.".to_owned());
    }
    if o.price_fixed_at_confirmation {
        items.push(
            "The price is fixed when we confirm your order; if it changes before then, we ask \
             you to confirm again."
                .to_owned(),
        );
    }
    if let Some(l) = &o.limits {
        let caps: Vec<String> = [
            (l.per_person, "per person"),
            (l.per_email, "per email address"),
            (l.per_household, "per household"),
            (l.per_card, "per payment card"),
            (l.per_address, "per delivery address"),
        ]
        .into_iter()
        .filter_map(|(n, per)| n.map(|n| format!("{n} {per}")))
        .collect();
        if !caps.is_empty() {
            items.push(format!(
                "Of any one product, you can buy at most {}.",
                join_and(&caps)
            ));
        }
    }
    if o.refuse_dealers {
        items.push("We refuse orders that appear to be for resale.".to_owned());
    }
    if o.refund_unavailable_immediately {
        items.push(
            "If a product is unavailable, we cancel that order and refund you at once.".to_owned(),
        );
    }
    if o.invalid_payment_terminates {
        items.push("If your payment method is not valid, the order or membership ends.".to_owned());
    }
    match o.sold_via {
        Some(BilledBy::Store) => items.push("We sell through our own store.".to_owned()),
        Some(BilledBy::AppPlatform) => {
            items.push("We sell through app platforms.".to_owned());
        }
        None => {}
    }
    items
}

fn start(s: WithdrawalStart) -> &'static str {
    match s {
        WithdrawalStart::PossessionOfLastItem => "when you receive the last item",
        WithdrawalStart::ContractDate => "on the day the contract is made",
        WithdrawalStart::Delivery => "on delivery",
    }
}

fn withdrawal(w: &Withdrawal) -> Vec<String> {
    let mut items = vec![
        format!(
            "You can withdraw from a purchase within {} without giving a reason.",
            w.period
        ),
        format!(
            "For goods, this period starts {}; for a membership, {}.",
            start(w.goods_from),
            start(w.membership_from)
        ),
    ];
    let mut refund = format!(
        "We refund you within {} of your withdrawal",
        w.refund_within
    );
    if w.same_means_of_payment {
        refund.push_str(", using the means of payment you used");
    }
    refund.push('.');
    if w.refund_may_wait_for_goods {
        refund
            .push_str(" We may wait until we receive the goods, or proof that you sent them back.");
    }
    items.push(refund);
    if let Some(r) = &w.return_within {
        items.push(format!(
            "Send the goods back within {r} of your withdrawal."
        ));
    }
    if !w.max_return_cost.is_empty() {
        items.push(format!(
            "Sending goods back costs you at most {}.",
            join_or(&w.max_return_cost)
        ));
    }
    if w.standard_form {
        items.push("We accept the standard withdrawal form.".to_owned());
    }
    items
}

fn returns(r: &Returns) -> Vec<String> {
    let mut items = vec![format!(
        "Tell us you want to return a product within {} of the delivery confirmation or {} of \
         receiving it, whichever ends later.",
        r.notice_after_delivery_confirmation, r.notice_after_possession
    )];
    if r.rma_required {
        items.push(
            "We then send you a return authorisation, which you need before shipping it."
                .to_owned(),
        );
    }
    items.push(format!(
        "Ship the product within {} of telling us.",
        r.ship_within
    ));
    let mut refund = format!("We refund you within {} of receiving it", r.refund_within);
    if r.refund_includes_original_shipping {
        refund.push_str(", including the original shipping cost");
    }
    refund.push('.');
    items.push(refund);
    if r.deduct_lost_bundle_discount {
        items.push(
            "If you return only part of a bundle, we deduct the bundle discount you no longer \
             qualify for."
                .to_owned(),
        );
    }
    if r.deduct_deterioration {
        items.push(
            "If the product has deteriorated, we deduct the loss of value, never more than its \
             price."
                .to_owned(),
        );
    }
    if r.promotional_period_forfeited {
        items.push(
            "Returning a product ends any promotional membership period that came with it."
                .to_owned(),
        );
    }
    items
}

fn plan_terms(plan: &Plan) -> Vec<String> {
    let mut items = Vec::new();
    let by = match plan.billed_by {
        BilledBy::Store => "by us",
        BilledBy::AppPlatform => "by the app platform you subscribed through",
    };
    let mut billing = format!("Billed {by}, for periods of {}", plan.period);
    if plan.auto_renew {
        billing.push_str(", renewing automatically until you cancel");
    }
    billing.push('.');
    items.push(billing);
    if let Some(t) = &plan.initial_term {
        items.push(format!("It starts with a fixed term of {t}."));
    }
    if let Some(t) = &plan.free_trial {
        items.push(format!(
            "First-time customers get {t} free, counted from activation."
        ));
    }
    if let Some(t) = &plan.charge_before {
        items.push(format!(
            "We may take a renewal payment up to {t} before the period starts."
        ));
    }
    if let Some(t) = &plan.cancel_notice_initial_term {
        items.push(format!(
            "To cancel at the end of the fixed term, tell us at least {t} before it ends."
        ));
    }
    if let Some(t) = &plan.cancel_notice {
        items.push(format!(
            "To cancel, tell us at least {t} before the next period."
        ));
    }
    if plan.cancel_at_period_end {
        items.push(
            if plan.refund_current_period {
                "Cancelling takes effect at the end of the current period, which we refund."
            } else {
                "Cancelling takes effect at the end of the current period, which is not refunded."
            }
            .to_owned(),
        );
    } else if plan.refund_current_period {
        items.push("If you cancel, we refund the current period.".to_owned());
    }
    if let Some(t) = &plan.grace {
        items.push(format!(
            "If a payment fails, you have {t} to fix it before the membership ends."
        ));
    }
    items.push(
        match plan.after_end {
            AfterEnd::BasicMode => {
                "When the membership ends, your product keeps working with basic features, \
                 and its software updates continue."
            }
            AfterEnd::Nothing => "When the membership ends, its features stop.",
        }
        .to_owned(),
    );
    if plan.reactivation {
        items.push("You can reactivate an ended membership.".to_owned());
    }
    items.push(
        if plan.transferable {
            "You can transfer the membership to someone else."
        } else {
            "The membership cannot be transferred to someone else."
        }
        .to_owned(),
    );
    if let Some(t) = &plan.change_notice {
        items.push(format!(
            "We tell you at least {t} before a change of price or features."
        ));
    }
    items
}

fn consumer_law(law: &ConsumerLaw) -> Vec<String> {
    let mut items = Vec::new();
    if let Some(t) = &law.withdrawal {
        items.push(format!("Your withdrawal period is {t}."));
    }
    if let Some(t) = &law.change_notice {
        items.push(format!(
            "We tell you about a change of terms, price or features at least {t} before."
        ));
    }
    if let Some(t) = &law.legal_guarantee {
        items.push(format!("The legal guarantee of conformity lasts {t}."));
    }
    if law.change_requires_acceptance {
        items.push(
            "A change applies to you only once you accept it; silence is not acceptance."
                .to_owned(),
        );
    }
    if law.silence_accepts_only_mandated_changes {
        items.push(
            "Your silence counts as acceptance only for changes the law requires.".to_owned(),
        );
    }
    if law.cancel_on_price_change {
        items.push("If we change the price, you can cancel before the change applies.".to_owned());
    }
    if let Some(t) = &law.defect_notice {
        items.push(format!("Tell us about a defect within {t} of noticing it."));
    }
    if let Some(t) = &law.defect_time_bar {
        items.push(format!(
            "Claims for a defect expire {t} after you noticed it."
        ));
    }
    if let Some(t) = &law.faulty_refund {
        items.push(format!(
            "Faulty goods: you can reject them for a full refund within {t}."
        ));
    }
    if let Some(t) = &law.repair_or_replace {
        items.push(format!(
            "Faulty goods: you can ask for a repair or replacement within {t}."
        ));
    }
    if let Some(t) = &law.remedy_limit {
        items.push(format!(
            "Faulty goods: you can claim a remedy for up to {t}."
        ));
    }
    items
}
