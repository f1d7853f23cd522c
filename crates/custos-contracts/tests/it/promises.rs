//! One clock-driven scenario per engine promise of the terms of sale (T-xx of
//! SEED-PROMISES.md): each moves dates and checks what a customer relies on.

use custos_contracts::changes::{
    ChangeError, ChangeKind, ChangeOffer, TermsVersion, version_in_force,
};
use custos_contracts::membership::{Billing, EndReason, Entitlement, Membership, MembershipError};
use custos_contracts::orders::{
    BuyerKeys, LimitKey, Order, OrderError, OrderLine, OrderState, PriorPurchase,
};
use custos_contracts::returns::{self, RefundInput, Return, ReturnError, ReturnedItem};
use custos_contracts::warranty::{GuaranteeClaim, UkRemedy, uk_remedy};
use custos_contracts::withdrawal::{
    self, Purchase, StandardForm, Statement, Withdrawal, WithdrawalError,
};
use custos_contracts::{Money, Notice, Terms, changes};
use jiff::Timestamp;

use crate::{at, d, eur, gbp, local, midnight, terms};

fn keys(n: &str) -> BuyerKeys {
    BuyerKeys {
        person: format!("p{n}"),
        email: format!("e{n}"),
        household: format!("h{n}"),
        card: format!("c{n}"),
        address: format!("a{n}"),
    }
}

fn line(sku: &str, qty: u32, cents: i64) -> OrderLine {
    OrderLine {
        sku: sku.to_owned(),
        quantity: qty,
        unit_price: eur(cents),
    }
}

fn placed(t: &Terms) -> Order {
    let lines = vec![line("superpod", 3, 9900)];
    Order::place(
        t,
        "o1",
        keys("1"),
        lines,
        eur(500),
        at("BE", "2024-03-04 10:00"),
        &[],
    )
    .unwrap()
    .next
}

fn homepass(t: &Terms, j: &str, first_time: bool, bought: Timestamp) -> Membership {
    Membership::purchase(
        t,
        "m1",
        "homepass",
        "acct-1",
        j,
        local(j, None),
        eur(999),
        bought,
        first_time,
    )
    .unwrap()
    .next
}

fn workpass(t: &Terms, bought: Timestamp) -> Membership {
    let step = Membership::purchase(
        t,
        "w1",
        "workpass",
        "acct-1",
        "DE",
        local("DE", Some("BY")),
        eur(2900),
        bought,
        true,
    )
    .unwrap();
    assert!(
        matches!(step.notices[..], [Notice::RenewalCharge { period: 0, .. }]),
        "first fee on purchase"
    );
    step.next
}

#[test]
fn t_03_price_fixed_at_confirmation_and_reconfirmed_before() {
    let t = terms();
    let o = placed(&t).acknowledge("PL-1001").unwrap().next;
    // A change before confirmation asks the customer to re-confirm on the new price.
    let step = o
        .change_prices(vec![line("superpod", 3, 10900)], eur(500))
        .unwrap();
    assert_eq!(step.next.state, OrderState::AwaitingReconfirmation);
    assert!(
        matches!(&step.notices[..], [Notice::ReconfirmationRequested { old_total, new_total, .. }]
        if *old_total == eur(30200) && *new_total == eur(33200))
    );
    let o = step.next;
    assert!(matches!(
        o.confirm(d("2024-03-12"), at("BE", "2024-03-05 09:00")),
        Err(OrderError::IllegalTransition { .. })
    ));
    let o = o.reconfirm().unwrap().next;
    let o = o
        .confirm(d("2024-03-12"), at("BE", "2024-03-05 09:00"))
        .unwrap()
        .next;
    // After confirmation, no price change reaches the order.
    assert_eq!(
        o.change_prices(vec![line("superpod", 3, 12900)], eur(500)),
        Err(OrderError::PriceFixed)
    );
    assert_eq!(o.total().unwrap(), eur(33200));
}

#[test]
fn t_04_membership_change_needs_30_days_notice_and_may_be_cancelled() {
    let t = terms();
    let m = homepass(&t, "BE", false, at("BE", "2024-04-01 10:00"));
    let m = m
        .activate(&t, "pod-1", at("BE", "2024-04-01 10:00"))
        .unwrap()
        .next;
    let offer = |effective: &str| ChangeOffer {
        kind: ChangeKind::Price,
        announced_at: at("BE", "2024-05-02 12:00"),
        effective: d(effective),
        new_price: Some(eur(1299)),
        legally_mandated: false,
    };
    // 30 days from 2 May end on Saturday 1 June, so run to Monday 3 June: the change
    // may apply from 4 June, not before.
    let err = m.announce_change(&t, &offer("2024-06-03")).unwrap_err();
    assert_eq!(
        err,
        MembershipError::Change(ChangeError::NoticeTooShort {
            earliest: midnight("BE", "2024-06-04")
        })
    );
    let step = m.announce_change(&t, &offer("2024-06-04")).unwrap();
    assert!(matches!(
        step.notices[..],
        [Notice::ChangeAnnounced {
            requires_acceptance: false,
            ..
        }]
    ));
    let changed = step.next;
    // Without cancelling, periods starting on or after the change cost the new price.
    assert_eq!(
        changed.price_of(&t, 2).unwrap(),
        eur(999),
        "period from 1 June"
    );
    assert_eq!(
        changed.price_of(&t, 3).unwrap(),
        eur(1299),
        "period from 1 July"
    );
    let later = changed.advance(&t, at("BE", "2024-06-05 00:00")).unwrap();
    assert!(later.notices.contains(&Notice::ChangeApplied {
        effective: midnight("BE", "2024-06-04")
    }));
    assert_eq!(later.next.price, eur(1299));
    // Cancelling within the notice ends the membership before the new price applies.
    let c = changed
        .cancel_for_change(&t, at("BE", "2024-05-20 08:00"))
        .unwrap()
        .next;
    assert_eq!(c.cancel_effective, Some(midnight("BE", "2024-06-01")));
    assert_eq!(
        c.entitlement(&t, at("BE", "2024-05-31 23:00")).unwrap(),
        Entitlement::Full
    );
}

#[test]
fn t_06_contract_forms_only_at_order_confirmation() {
    let t = terms();
    let o = placed(&t);
    assert!(
        o.confirm(d("2024-03-12"), at("BE", "2024-03-04 11:00"))
            .is_err(),
        "no confirmation before acknowledgement"
    );
    let ack = o.acknowledge("PL-1002").unwrap();
    assert_eq!(
        ack.notices,
        vec![Notice::OrderAcknowledged {
            reference: "PL-1002".into()
        }]
    );
    let conf = ack
        .next
        .confirm(d("2024-03-12"), at("BE", "2024-03-05 09:00"))
        .unwrap();
    assert_eq!(
        conf.notices,
        vec![Notice::OrderConfirmed {
            reference: "PL-1002".into(),
            total: eur(30200),
            estimated_delivery: d("2024-03-12"),
            contract_formed_at: at("BE", "2024-03-05 09:00"),
        }]
    );
    // A confirmed order can no longer be declined; an unconfirmed one can.
    assert!(
        conf.next
            .decline("stock", at("BE", "2024-03-06 09:00"))
            .is_err()
    );
    let declined = placed(&t)
        .acknowledge("PL-1003")
        .unwrap()
        .next
        .decline("not accepted", at("BE", "2024-03-05 09:00"))
        .unwrap();
    assert!(matches!(declined.next.state, OrderState::Declined { .. }));
    assert!(declined.next.acknowledge("again").is_err());
}

#[test]
fn t_07_quantity_limits_and_dealer_pattern() {
    let t = terms();
    let now = at("DE", "2024-03-04 10:00");
    let order = |k: BuyerKeys, qty: u32, history: &[PriorPurchase]| {
        Order::place(
            &t,
            "o",
            k,
            vec![line("superpod", qty, 9900)],
            eur(0),
            now,
            history,
        )
    };
    assert!(order(keys("1"), 10, &[]).is_ok(), "10 per key is allowed");
    assert!(matches!(
        order(keys("1"), 11, &[]),
        Err(OrderError::QuantityLimit {
            total: 11,
            limit: 10,
            ..
        })
    ));
    // The same e-mail with a new card and address still counts.
    let mut k = keys("2");
    k.email = "e1".into();
    let history = [PriorPurchase {
        keys: keys("1"),
        sku: "superpod".into(),
        quantity: 8,
    }];
    assert!(matches!(
        order(k, 3, &history),
        Err(OrderError::QuantityLimit {
            key: LimitKey::Email,
            ..
        })
    ));
    // Another product is not limited by this one.
    let other = Order::place(
        &t,
        "o",
        keys("1"),
        vec![line("pod", 5, 100)],
        eur(0),
        now,
        &history,
    );
    assert!(other.is_ok());
    // Rotating keys so none reaches 10, but every order links to the next: a dealer.
    let mut a = keys("A");
    let mut b = keys("B");
    b.card = a.card.clone();
    let mut c = keys("C");
    c.address = b.address.clone();
    a.person = "pA".into();
    let history = [
        PriorPurchase {
            keys: a,
            sku: "superpod".into(),
            quantity: 6,
        },
        PriorPurchase {
            keys: b,
            sku: "superpod".into(),
            quantity: 4,
        },
    ];
    assert!(matches!(
        order(c, 6, &history),
        Err(OrderError::DealerPattern {
            total: 16,
            limit: 10,
            ..
        })
    ));
}

#[test]
fn t_08_unavailable_products_refunded_immediately() {
    let t = terms();
    let o = placed(&t)
        .acknowledge("PL-1")
        .unwrap()
        .next
        .confirm(d("2024-03-12"), at("BE", "2024-03-05 09:00"))
        .unwrap()
        .next;
    let when = at("BE", "2024-03-07 14:00");
    let step = o.withdraw_unavailable(&t, when).unwrap();
    assert_eq!(
        step.next.state,
        OrderState::WithdrawnUnavailable { at: when }
    );
    assert!(step.notices.contains(&Notice::RefundDue {
        amount: eur(30200),
        due: when
    }));
}

#[test]
fn t_09_invalid_payment_ends_order_and_membership() {
    let t = terms();
    let when = at("UK", "2024-03-04 12:00");
    let o = placed(&t).payment_invalid(&t, when).unwrap();
    assert_eq!(
        o.next.state,
        OrderState::TerminatedInvalidPayment { at: when }
    );
    assert!(o.next.acknowledge("x").is_err());
    let w = workpass(&t, at("DE", "2024-03-15 12:00"));
    let ended = w
        .payment_method_invalid(&t, at("DE", "2024-03-16 12:00"))
        .unwrap()
        .next;
    assert!(matches!(
        ended.billing,
        Billing::Ended {
            reason: EndReason::InvalidPayment,
            ..
        }
    ));
    assert_eq!(
        ended.entitlement(&t, at("DE", "2024-03-16 12:00")).unwrap(),
        Entitlement::None
    );
}

#[test]
fn t_10_homepass_free_month_from_activation_then_charged_24h_before_each_period() {
    let t = terms();
    let m = homepass(&t, "BE", true, at("BE", "2024-01-10 10:00"));
    assert_eq!(
        m.entitlement(&t, at("BE", "2024-01-20 10:00")).unwrap(),
        Entitlement::None,
        "not activated yet"
    );
    let step = m
        .activate(&t, "pod-1", at("BE", "2024-01-31 18:00"))
        .unwrap();
    assert_eq!(
        step.notices,
        vec![Notice::MembershipActivated {
            free_until: Some(d("2024-02-29"))
        }]
    );
    let m = step.next;
    // Periods are anchored on 31 January: 29 Feb, 31 Mar, 30 Apr — never 29 Mar.
    assert_eq!(m.boundary(&t, 1).unwrap(), d("2024-02-29"));
    assert_eq!(m.boundary(&t, 2).unwrap(), d("2024-03-31"));
    assert_eq!(m.boundary(&t, 3).unwrap(), d("2024-04-30"));
    // Nothing is charged for the free month; the first charge may be taken from 24 h
    // before the first paid period.
    assert!(
        m.advance(&t, at("BE", "2024-02-27 23:59"))
            .unwrap()
            .notices
            .is_empty()
    );
    let step = m.advance(&t, at("BE", "2024-02-28 00:00")).unwrap();
    assert_eq!(
        step.notices,
        vec![Notice::RenewalCharge {
            period: 1,
            amount: eur(999),
            earliest: midnight("BE", "2024-02-28"),
            period_start: midnight("BE", "2024-02-29"),
        }]
    );
    // A returning customer gets no free month.
    let again = homepass(&t, "BE", false, at("BE", "2024-01-10 10:00"))
        .activate(&t, "pod-1", at("BE", "2024-01-31 18:00"))
        .unwrap();
    assert!(matches!(
        again.notices[..],
        [
            Notice::MembershipActivated { free_until: None },
            Notice::RenewalCharge { period: 0, .. }
        ]
    ));
}

#[test]
fn t_11_workpass_initial_term_then_month_to_month() {
    let t = terms();
    let w = workpass(&t, at("DE", "2024-03-15 12:00"));
    assert_eq!(
        w.boundary(&t, 1).unwrap(),
        d("2025-03-15"),
        "12-month initial term"
    );
    assert_eq!(w.boundary(&t, 2).unwrap(), d("2025-04-15"));
    // One month's notice before the initial term ends: 15 February is the last day.
    let ok = w.cancel(&t, at("DE", "2025-02-15 23:30")).unwrap();
    assert_eq!(
        ok.notices,
        vec![Notice::CancellationConfirmed {
            effective: midnight("DE", "2025-03-15")
        }]
    );
    let late = w.cancel(&t, at("DE", "2025-02-16 08:00")).unwrap().next;
    assert_eq!(
        late.cancel_effective,
        Some(midnight("DE", "2025-04-15")),
        "renews for one month"
    );
    // Plume's own termination needs one month and never cuts the initial term.
    let by_seller = w
        .terminate_by_seller(&t, at("DE", "2024-06-01 10:00"))
        .unwrap()
        .next;
    assert_eq!(
        by_seller.cancel_effective,
        Some(midnight("DE", "2025-03-15"))
    );
    let by_seller = w
        .terminate_by_seller(&t, at("DE", "2025-06-01 10:00"))
        .unwrap()
        .next;
    assert_eq!(
        by_seller.cancel_effective,
        Some(midnight("DE", "2025-07-15"))
    );
}

#[test]
fn t_12_memberships_are_not_transferable() {
    let t = terms();
    let m = homepass(&t, "UK", true, at("UK", "2024-01-10 10:00"))
        .activate(&t, "pod-1", at("UK", "2024-01-10 11:00"))
        .unwrap()
        .next;
    assert_eq!(
        m.transfer(&t, "acct-2"),
        Err(MembershipError::NotTransferable)
    );
    let now = at("UK", "2024-01-12 10:00");
    assert_eq!(
        m.entitlement_for(&t, "pod-1", "acct-1", now).unwrap(),
        Entitlement::Full
    );
    let step = m.move_device(&t, "pod-1", "acct-2").unwrap();
    assert_eq!(
        step.notices,
        vec![Notice::NewMembershipRequired {
            device: "pod-1".into(),
            account: "acct-2".into()
        }]
    );
    assert_eq!(
        step.next
            .entitlement_for(&t, "pod-1", "acct-2", now)
            .unwrap(),
        Entitlement::None
    );
    assert_eq!(
        step.next
            .entitlement_for(&t, "pod-1", "acct-1", now)
            .unwrap(),
        Entitlement::None
    );
}

#[test]
fn t_13_cancel_at_period_end_no_refund_grace_termination_reactivation() {
    let t = terms();
    let m = homepass(&t, "CH", false, at("CH", "2024-05-10 10:00"))
        .activate(&t, "pod", at("CH", "2024-05-10 10:00"))
        .unwrap()
        .next;
    // Cancel mid-period: benefits until 10 June, no refund notice.
    let step = m.cancel(&t, at("CH", "2024-05-20 10:00")).unwrap();
    assert_eq!(
        step.notices,
        vec![Notice::CancellationConfirmed {
            effective: midnight("CH", "2024-06-10")
        }]
    );
    let c = step.next;
    assert_eq!(
        c.entitlement(&t, at("CH", "2024-06-09 23:59")).unwrap(),
        Entitlement::Full
    );
    assert!(
        c.advance(&t, at("CH", "2024-06-20 10:00"))
            .unwrap()
            .notices
            .iter()
            .all(|n| !matches!(n, Notice::RenewalCharge { .. } | Notice::RefundDue { .. }))
    );
    // WorkPass month-to-month: at least one business day before the next period.
    // 15 Aug 2025 is Assumption Day in Bavaria (a Friday): the period from Monday
    // 15 Sep needs notice by Friday 12 Sep; from 15 Aug 2025 by Thursday 14 Aug.
    let w = workpass(&t, at("DE", "2024-03-15 12:00"));
    assert_eq!(
        w.cancel(&t, at("DE", "2025-09-12 23:00"))
            .unwrap()
            .next
            .cancel_effective,
        Some(midnight("DE", "2025-09-15"))
    );
    assert_eq!(
        w.cancel(&t, at("DE", "2025-09-13 09:00"))
            .unwrap()
            .next
            .cancel_effective,
        Some(midnight("DE", "2025-10-15"))
    );
    assert_eq!(
        w.cancel(&t, at("DE", "2025-07-14 09:00"))
            .unwrap()
            .next
            .cancel_effective,
        Some(midnight("DE", "2025-07-15"))
    );
    // Non-payment: 16 days' grace on the customer's calendar, then termination.
    let failed = m.payment_failed(&t, at("CH", "2024-06-09 10:00")).unwrap();
    let grace_ends = midnight("CH", "2024-06-26");
    assert_eq!(failed.notices, vec![Notice::PaymentFailed { grace_ends }]);
    let pd = failed.next;
    assert_eq!(
        pd.entitlement(&t, at("CH", "2024-06-25 23:00")).unwrap(),
        Entitlement::Full
    );
    assert!(pd.payment_recovered(at("CH", "2024-06-20 10:00")).is_ok());
    let ended = pd.advance(&t, at("CH", "2024-06-30 10:00")).unwrap();
    assert!(ended.notices.contains(&Notice::MembershipTerminated {
        at: grace_ends,
        basic_mode: true
    }));
    assert!(matches!(
        ended.next.billing,
        Billing::Ended {
            reason: EndReason::NonPayment,
            ..
        }
    ));
    // Reactivation restores the membership with a new charge.
    let back = ended
        .next
        .reactivate(&t, at("CH", "2024-07-02 10:00"), eur(999))
        .unwrap();
    assert!(matches!(
        back.notices[..],
        [
            Notice::MembershipReactivated { .. },
            Notice::RenewalCharge { period: 0, .. }
        ]
    ));
    assert_eq!(
        back.next
            .entitlement(&t, at("CH", "2024-07-02 11:00"))
            .unwrap(),
        Entitlement::Full
    );
}

#[test]
fn t_14_basic_mode_after_homepass_only_if_ever_activated() {
    let t = terms();
    let bought = at("BE", "2024-01-10 10:00");
    let never = homepass(&t, "BE", true, bought)
        .cancel(&t, at("BE", "2024-01-11 10:00"))
        .unwrap()
        .next;
    assert_eq!(
        never.entitlement(&t, at("BE", "2024-03-01 10:00")).unwrap(),
        Entitlement::None
    );
    let used = homepass(&t, "BE", true, bought)
        .activate(&t, "pod", bought)
        .unwrap()
        .next;
    let ended = used.cancel(&t, at("BE", "2024-01-20 10:00")).unwrap().next;
    assert_eq!(
        ended.entitlement(&t, at("BE", "2024-02-09 23:00")).unwrap(),
        Entitlement::Full
    );
    assert_eq!(
        ended.entitlement(&t, at("BE", "2024-02-10 00:00")).unwrap(),
        Entitlement::Basic
    );
    let w = workpass(&t, at("DE", "2024-03-15 12:00"))
        .activate(&t, "pod", at("DE", "2024-03-16 12:00"))
        .unwrap()
        .next;
    let w = w.cancel(&t, at("DE", "2024-04-01 10:00")).unwrap().next;
    assert_eq!(
        w.entitlement(&t, at("DE", "2025-03-16 10:00")).unwrap(),
        Entitlement::None,
        "Basic Mode is HomePass only"
    );
}

#[test]
fn t_15_return_window_rma_shipment_and_refund() {
    let t = terms();
    let be = local("BE", None);
    // Delivery confirmed Friday 1 March 2024; possession the same day. 30 days end on
    // Easter Sunday; Easter Monday is a holiday: the window closes after 2 April.
    let delivered = at("BE", "2024-03-01 11:00");
    let w = returns::window(&t, &be, delivered, delivered).unwrap();
    assert_eq!(w.last_day, d("2024-04-02"));
    // Possession much later: its 14 days win.
    let w = returns::window(&t, &be, delivered, at("BE", "2024-03-27 18:00")).unwrap();
    assert_eq!(w.last_day, d("2024-04-10"));
    assert!(matches!(
        Return::notify(&t, &be, delivered, delivered, at("BE", "2024-04-03 00:01")),
        Err(ReturnError::WindowClosed { .. })
    ));
    let r = Return::notify(&t, &be, delivered, delivered, at("BE", "2024-04-02 22:00"))
        .unwrap()
        .next;
    assert_eq!(r.ship_by.last_day, d("2024-04-16"));
    assert!(
        r.shipped(&t, at("BE", "2024-04-05 10:00")).is_err(),
        "RMA first"
    );
    let r = r.issue_rma("RMA-7").unwrap().next;
    assert!(matches!(
        r.shipped(&t, at("BE", "2024-04-17 10:00")),
        Err(ReturnError::ShippedTooLate { .. })
    ));
    let r = r.shipped(&t, at("BE", "2024-04-05 10:00")).unwrap().next;
    // A partial bundle return: two of three pods, bundle discount 20, one scratched.
    let input = RefundInput {
        currency: custos_contracts::Currency::Eur,
        items: vec![
            ReturnedItem {
                price_paid: eur(9900),
                deterioration: eur(1000),
            },
            ReturnedItem {
                price_paid: eur(7900),
                deterioration: eur(0),
            },
        ],
        original_shipping: eur(500),
        partial_bundle_discount: Some(eur(2000)),
    };
    let step = r
        .received(&t, &be, &input, at("BE", "2024-04-10 09:00"))
        .unwrap();
    assert_eq!(
        step.notices,
        vec![
            Notice::RefundDue {
                amount: eur(15300),
                due: midnight("BE", "2024-05-11")
            },
            Notice::PromotionalPeriodForfeited,
        ]
    );
    // Deterioration never exceeds the price; the refund never goes negative.
    let wrecked = RefundInput {
        items: vec![ReturnedItem {
            price_paid: eur(9900),
            deterioration: eur(50000),
        }],
        ..input
    };
    let refund = returns::refund(&t, &wrecked).unwrap();
    assert_eq!(refund.deterioration, eur(9900));
    assert_eq!(refund.total, Money::zero(custos_contracts::Currency::Eur));
}

#[test]
fn t_17_terms_changes_need_notice_and_disputes_use_the_version_in_force() {
    let t = terms();
    let be = local("BE", None);
    let offer = ChangeOffer {
        kind: ChangeKind::Terms,
        announced_at: at("BE", "2024-09-02 10:00"),
        effective: d("2024-10-01"),
        new_price: None,
        legally_mandated: false,
    };
    assert!(matches!(
        changes::check(&t, &be, "BE", None, &offer),
        Err(ChangeError::NoticeTooShort { .. })
    ));
    let ok = ChangeOffer {
        effective: d("2024-10-03"),
        ..offer
    };
    assert!(changes::check(&t, &be, "BE", None, &ok).is_ok());
    let versions = [
        TermsVersion {
            version: "2021-03-31".into(),
            effective: at("BE", "2021-03-31 00:00"),
        },
        TermsVersion {
            version: t.version().into(),
            effective: at("BE", "2024-03-01 00:00"),
        },
    ];
    assert_eq!(
        version_in_force(&versions, at("BE", "2024-02-29 23:59"))
            .unwrap()
            .version,
        "2021-03-31"
    );
    assert_eq!(
        version_in_force(&versions, at("BE", "2024-03-01 00:00"))
            .unwrap()
            .version,
        "2024-03-01"
    );
}

#[test]
fn t_18_statutory_withdrawal() {
    let t = terms();
    let uk = local("UK", None);
    let purchase = Purchase::Goods {
        contract_at: at("UK", "2024-03-04 10:00"),
        possession_of_last_item: at("UK", "2024-03-12 16:00"),
    };
    // 14 days from possession of the last item: Tuesday 26 March 2024.
    assert_eq!(
        withdrawal::deadline(&t, &uk, "UK", &purchase)
            .unwrap()
            .last_day,
        d("2024-03-26")
    );
    let form = Statement::StandardForm(StandardForm {
        order_date: d("2024-03-04"),
        goods_or_services: "3 SuperPods".into(),
        consumer_names: "A. Customer".into(),
        consumer_address: "1 High Street".into(),
        signed_on: d("2024-03-20"),
    });
    assert!(matches!(
        Withdrawal::exercise(
            &t,
            &uk,
            "UK",
            &purchase,
            gbp(30200),
            &Statement::Unambiguous,
            at("UK", "2024-03-27 00:00")
        ),
        Err(WithdrawalError::Expired { .. })
    ));
    let w = Withdrawal::exercise(
        &t,
        &uk,
        "UK",
        &purchase,
        gbp(30200),
        &form,
        at("UK", "2024-03-20 10:00"),
    )
    .unwrap()
    .next;
    assert_eq!(w.refund_due.last_day, d("2024-04-03"));
    assert_eq!(w.return_by.as_ref().unwrap().last_day, d("2024-04-03"));
    // The refund may wait for the goods or proof of dispatch, whichever comes first.
    assert_eq!(w.refund_payable_by(), None);
    let proof = at("UK", "2024-03-25 10:00");
    let w2 = w.dispatch_proven(proof).unwrap().next;
    assert_eq!(w2.refund_payable_by(), Some(midnight("UK", "2024-04-04")));
    let w3 = w2
        .goods_received(at("UK", "2024-04-10 10:00"))
        .unwrap()
        .next;
    assert_eq!(
        w3.refund_payable_by(),
        Some(midnight("UK", "2024-04-04")),
        "proof came first"
    );
    let slow = w.goods_received(at("UK", "2024-04-10 10:00")).unwrap().next;
    assert_eq!(slow.refund_payable_by(), Some(at("UK", "2024-04-10 10:00")));
    assert_eq!(
        w.refund(gbp(29700), gbp(40000)).unwrap(),
        gbp(500),
        "deduction capped at the price"
    );
    // Return cost borne by the consumer is capped at 20 per currency.
    assert_eq!(Withdrawal::return_cost(&t, gbp(3500)).unwrap(), gbp(2000));
    assert_eq!(Withdrawal::return_cost(&t, eur(1250)).unwrap(), eur(1250));
    // Memberships: from the contract date; the refund is not deferred.
    let de = local("DE", Some("BY"));
    let m = Purchase::Membership {
        contract_at: at("DE", "2024-05-16 10:00"),
    };
    let dl = withdrawal::deadline(&t, &de, "DE", &m).unwrap();
    assert_eq!(
        dl.last_day,
        d("2024-05-31"),
        "30 May (Fronleichnam in Bavaria) is passed; 14 days end on 30 May → 31 May"
    );
    let mw = Withdrawal::exercise(
        &t,
        &de,
        "DE",
        &m,
        eur(2900),
        &Statement::Unambiguous,
        at("DE", "2024-05-30 22:00"),
    )
    .unwrap()
    .next;
    assert_eq!(mw.refund_payable_by(), Some(mw.refund_due.ends_at));
    assert!(mw.return_by.is_none());
}

#[test]
fn t_19_belgian_legal_guarantee_clocks() {
    let t = terms();
    let be = local("BE", None);
    let claim = GuaranteeClaim::assess(
        &t,
        &be,
        "BE",
        at("BE", "2024-01-10 10:00"),
        at("BE", "2025-06-01 10:00"),
        at("BE", "2025-06-05 10:00"),
    )
    .unwrap();
    assert!(claim.defect_covered);
    assert_eq!(
        claim.guarantee_ends.last_day,
        d("2026-01-12"),
        "10 Jan 2026 is a Saturday"
    );
    assert_eq!(claim.report_by.last_day, d("2025-08-05"));
    assert!(claim.report_in_time(at("BE", "2025-08-05 23:00")));
    assert!(!claim.report_in_time(at("BE", "2025-08-06 00:00")));
    assert!(claim.enforceable_at(at("BE", "2025-07-01 10:00"), at("BE", "2026-06-05 12:00")));
    assert!(!claim.enforceable_at(at("BE", "2025-07-01 10:00"), at("BE", "2026-06-06 00:00")));
    let late = GuaranteeClaim::assess(
        &t,
        &be,
        "BE",
        at("BE", "2024-01-10 10:00"),
        at("BE", "2026-02-01 10:00"),
        at("BE", "2026-02-01 10:00"),
    )
    .unwrap();
    assert!(!late.defect_covered);
}

#[test]
fn t_20_german_changes_six_weeks_and_acceptance() {
    let t = terms();
    let m = Membership::purchase(
        &t,
        "m",
        "homepass",
        "a",
        "DE",
        local("DE", Some("HH")),
        eur(999),
        at("DE", "2024-04-01 10:00"),
        false,
    )
    .unwrap()
    .next
    .activate(&t, "pod", at("DE", "2024-04-01 10:00"))
    .unwrap()
    .next;
    let offer = |effective: &str, mandated: bool| ChangeOffer {
        kind: ChangeKind::Price,
        announced_at: at("DE", "2024-05-02 12:00"),
        effective: d(effective),
        new_price: Some(eur(1299)),
        legally_mandated: mandated,
    };
    // Six weeks, not 30 days: 13 June is the last day of notice.
    assert!(m.announce_change(&t, &offer("2024-06-13", false)).is_err());
    let step = m.announce_change(&t, &offer("2024-06-14", false)).unwrap();
    assert!(matches!(
        step.notices[..],
        [Notice::ChangeAnnounced {
            requires_acceptance: true,
            ..
        }]
    ));
    // Silence is not acceptance: the change does not reach this customer.
    let after = step.next.advance(&t, at("DE", "2024-07-02 10:00")).unwrap();
    assert!(after.notices.contains(&Notice::ChangeNotApplied {
        effective: midnight("DE", "2024-06-14")
    }));
    assert_eq!(after.next.price, eur(999));
    assert!(
        after
            .notices
            .iter()
            .all(|n| !matches!(n, Notice::RenewalCharge { amount, .. } if *amount == eur(1299)))
    );
    // Accepted, it applies.
    let accepted = step
        .next
        .accept_change()
        .unwrap()
        .next
        .advance(&t, at("DE", "2024-07-02 10:00"))
        .unwrap();
    assert_eq!(accepted.next.price, eur(1299));
    // A legally mandated change: silence counts.
    let mandated = m.announce_change(&t, &offer("2024-06-14", true)).unwrap();
    assert!(matches!(
        mandated.notices[..],
        [Notice::ChangeAnnounced {
            requires_acceptance: false,
            ..
        }]
    ));
}

#[test]
fn t_21_uk_faulty_goods_and_price_change_cancellation() {
    let t = terms();
    let uk = local("UK", Some("ENG"));
    let delivered = at("UK", "2024-01-10 10:00");
    let remedy = |when: &str| uk_remedy(&t, &uk, "UK", delivered, at("UK", when)).unwrap();
    assert_eq!(remedy("2024-02-09 12:00"), UkRemedy::Refund);
    assert_eq!(remedy("2024-02-12 12:00"), UkRemedy::RepairOrReplace);
    assert_eq!(remedy("2025-01-10 12:00"), UkRemedy::SomeMoneyBack);
    assert_eq!(remedy("2030-01-11 12:00"), UkRemedy::None);
    // Price change on a WorkPass in its initial term: cancel within the notice.
    let m = Membership::purchase(
        &t,
        "w",
        "workpass",
        "a",
        "UK",
        uk.clone(),
        gbp(2500),
        at("UK", "2024-03-15 12:00"),
        true,
    )
    .unwrap()
    .next;
    let offer = ChangeOffer {
        kind: ChangeKind::Price,
        announced_at: at("UK", "2024-06-01 10:00"),
        effective: d("2024-07-15"),
        new_price: Some(gbp(3000)),
        legally_mandated: false,
    };
    let c = m
        .announce_change(&t, &offer)
        .unwrap()
        .next
        .cancel_for_change(&t, at("UK", "2024-06-20 10:00"))
        .unwrap()
        .next;
    assert_eq!(
        c.cancel_effective,
        Some(midnight("UK", "2024-07-15")),
        "before the price changes, inside the initial term"
    );
}
