//! Consumer contracts kept in the store (issue 9): the engine's clocks driven by
//! moving a test clock and running the clock job, notices in the outbox.

use custos_core::VaultError;
use custos_core::contracts::{
    ContractAction, ContractView, NewMembership, NewOrder, codes, doc::Place,
};
use custos_core::vault::RequestCtx;
use custos_store::{RequestStore, SubjectId, Timestamp};
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::harness::{H, request, with_policy};

const TERMS: &str = include_str!("../../../../policies/plume-design-terms.toml");

fn h() -> H {
    with_policy(TERMS)
}

fn person(h: &H, email: &str) -> SubjectId {
    h.vault
        .create_subject(
            &h.staff("support"),
            &request(&[("user.contact.email", json!(email), "account")]),
            &RequestCtx::default(),
        )
        .unwrap()
        .written()
        .subject
}

fn brussels() -> Place {
    Place {
        jurisdiction: "BE".into(),
        subdivision: None,
        time_zone: "Europe/Brussels".into(),
        consumer: true,
    }
}

fn membership(h: &H, subject: SubjectId, plan: &str) -> ContractView {
    h.vault
        .create_membership(
            &h.staff("support"),
            &NewMembership {
                subject,
                customer: brussels(),
                plan: plan.into(),
                price: "9.99 EUR".into(),
                first_time: true,
                payment_ref: Some("psp_ch_123".into()),
            },
            &RequestCtx::default(),
        )
        .unwrap()
}

fn act(h: &H, id: custos_store::Uuid, action: Value) -> Result<ContractView, VaultError> {
    let action: ContractAction = serde_json::from_value(action).unwrap();
    h.vault
        .act_on_contract(&h.staff("support"), id, &action, &RequestCtx::default())
}

fn kinds(h: &H, subject: SubjectId) -> Vec<String> {
    h.store
        .outbox_of(&h.tenant, subject)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect()
}

fn payloads(h: &H, subject: SubjectId, kind: &str) -> Vec<Value> {
    h.store
        .outbox_of(&h.tenant, subject)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == kind)
        .map(|m| serde_json::from_str(&m.payload).unwrap())
        .collect()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn date(v: &ContractView, name: &str) -> Option<Timestamp> {
    v.key_dates.iter().find(|d| d.name == name).map(|d| d.at)
}

fn tick(h: &H) -> custos_core::contracts::TickReport {
    h.vault.tick_contracts(&h.tenant, h.clock.now()).unwrap()
}

use custos_core::clock::Clock;

#[test]
fn homepass_trial_renewal_charge_is_announced_when_its_window_opens() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "homepass");
    assert_eq!(m.status, "awaiting_activation");
    assert!(kinds(&h, alice).is_empty(), "a trial waits for activation");
    assert_eq!(m.next_due, None);

    let m = act(&h, m.id, json!({"action": "activate", "device": "pod-1"})).unwrap();
    assert_eq!(m.status, "active");
    assert_eq!(kinds(&h, alice), ["contract.membership_activated"]);
    let free = &payloads(&h, alice, "contract.membership_activated")[0];
    assert_eq!(free["free_until"], "2026-04-01");
    // Period 1 starts at local midnight on 1 April; charged up to 24 h before.
    assert_eq!(m.next_due, Some(ts("2026-03-30T22:00:00Z")));

    h.clock.set(ts("2026-03-30T21:59:00Z"));
    assert_eq!(tick(&h).advanced, 0);
    assert_eq!(kinds(&h, alice).len(), 1);

    h.clock.set(ts("2026-03-30T22:00:00Z"));
    let r = tick(&h);
    assert_eq!((r.advanced, r.notices), (1, 1));
    let charge = &payloads(&h, alice, "contract.renewal_charge")[0];
    assert_eq!(charge["amount"], "9.99 EUR");
    assert_eq!(charge["period"], 1);
    assert_eq!(charge["period_start"], "2026-03-31T22:00:00Z");
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(
        v.next_due,
        Some(ts("2026-04-29T22:00:00Z")),
        "next month's window"
    );
    // Running the job again at the same instant does nothing twice.
    assert_eq!(tick(&h).advanced, 0);
}

#[test]
fn non_payment_runs_the_grace_period_then_basic_mode() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "homepass");
    act(&h, m.id, json!({"action": "activate", "device": "pod-1"})).unwrap();
    h.clock.set(ts("2026-04-01T08:00:00Z"));
    let v = act(&h, m.id, json!({"action": "payment_failed"})).unwrap();
    assert_eq!(v.status, "past_due");
    let grace_ends = date(&v, "grace_ends").unwrap();
    assert_eq!(v.next_due, Some(grace_ends));
    assert_eq!(
        payloads(&h, alice, "contract.payment_failed")[0]["grace_ends"],
        json!(grace_ends)
    );
    assert!(
        v.may_cancel,
        "benefits continue and cancelling is possible in grace"
    );

    h.clock.set(
        grace_ends
            .checked_sub(SignedDuration::from_secs(1))
            .unwrap(),
    );
    assert_eq!(tick(&h).advanced, 0);
    h.clock.set(grace_ends);
    assert_eq!(tick(&h).advanced, 1);
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(v.status, "ended");
    assert_eq!(v.next_due, None);
    assert!(!v.may_cancel);
    let end = &payloads(&h, alice, "contract.membership_terminated")[0];
    assert_eq!(
        end["basic_mode"], true,
        "HomePass falls back to Basic Mode (T-14)"
    );
    assert_eq!(end["at"], json!(grace_ends));
}

#[test]
fn cancellation_takes_effect_at_the_end_of_the_initial_term() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "workpass");
    assert_eq!(m.status, "active");
    assert_eq!(
        kinds(&h, alice),
        ["contract.renewal_charge"],
        "period 0 is charged"
    );

    h.clock.set(ts("2026-03-10T09:00:00Z"));
    let v = h
        .vault
        .cancel_membership(&h.tenant, alice, m.id, h.clock.now())
        .unwrap();
    assert_eq!(v.status, "cancelling");
    assert!(!v.may_cancel);
    // WorkPass: 12-month initial term from the contract day, local midnight.
    let effective = ts("2027-02-28T23:00:00Z");
    assert_eq!(date(&v, "cancel_effective"), Some(effective));
    assert_eq!(
        payloads(&h, alice, "contract.cancellation_confirmed")[0]["effective"],
        json!(effective)
    );
    // Cancelling again is refused with a stable code.
    match h
        .vault
        .cancel_membership(&h.tenant, alice, m.id, h.clock.now())
    {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::STATE),
        other => panic!("{other:?}"),
    }

    h.clock.set(ts("2027-02-28T22:59:59Z"));
    tick(&h);
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(
        v.status, "cancelling",
        "benefits continue until the period ends"
    );
    // The initial term is WorkPass's period 0: no renewal inside it.
    assert_eq!(payloads(&h, alice, "contract.renewal_charge").len(), 1);
    h.clock.set(effective);
    tick(&h);
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(v.status, "ended");
    assert_eq!(v.next_due, None);
    let ended = &payloads(&h, alice, "contract.membership_ended")[0];
    assert_eq!(ended["basic_mode"], false, "WorkPass has no Basic Mode");
    // No charge for a period after the end.
    assert_eq!(payloads(&h, alice, "contract.renewal_charge").len(), 1);
}

#[test]
fn order_withdrawal_sets_the_refund_due_date_and_reminds_staff() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let o = h
        .vault
        .create_order(
            &h.staff("support"),
            &NewOrder {
                subject: alice,
                customer: brussels(),
                lines: vec![custos_core::contracts::NewLine {
                    sku: "superpod".into(),
                    quantity: 3,
                    unit_price: "99.00 EUR".into(),
                }],
                shipping: "5.00 EUR".into(),
                payment_ref: Some("psp_pi_1".into()),
            },
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(o.status, "placed");
    assert!(!o.may_withdraw, "no contract before the Order Confirmation");
    act(
        &h,
        o.id,
        json!({"action": "acknowledge", "reference": "PO-1001"}),
    )
    .unwrap();
    let v = act(
        &h,
        o.id,
        json!({"action": "confirm", "estimated_delivery": "2026-03-06"}),
    )
    .unwrap();
    assert_eq!(v.status, "confirmed");
    assert_eq!(v.amounts[0].amount, "302.00 EUR");
    assert_eq!(
        kinds(&h, alice),
        ["contract.order_acknowledged", "contract.order_confirmed"]
    );

    h.clock.set(ts("2026-03-05T15:00:00Z"));
    let v = act(&h, o.id, json!({"action": "delivered"})).unwrap();
    assert_eq!(v.status, "delivered");
    // 14 days from possession (Reg. 1182/71: from the next day, to the end of the 14th).
    assert_eq!(v.withdraw_until, Some(ts("2026-03-19T23:00:00Z")));

    h.clock.set(ts("2026-03-08T10:00:00Z"));
    let v = h
        .vault
        .withdraw(&h.tenant, alice, o.id, h.clock.now())
        .unwrap();
    assert_eq!(v.status, "withdrawn");
    assert!(!v.may_withdraw);
    let ack = &payloads(&h, alice, "contract.withdrawal_acknowledged")[0];
    // 14 days end on Sunday 22 March: moved to Monday's end (Art. 3(4)).
    assert_eq!(ack["refund_by"], "2026-03-23T23:00:00Z");
    assert_eq!(ack["return_by"], "2026-03-23T23:00:00Z");
    // The refund may wait for the goods: no due date yet.
    assert_eq!(v.next_due, None);

    h.clock.set(ts("2026-03-12T10:00:00Z"));
    let v = act(&h, o.id, json!({"action": "goods_returned"})).unwrap();
    assert_eq!(date(&v, "refund_due"), Some(ts("2026-03-23T23:00:00Z")));
    assert_eq!(v.next_due, Some(ts("2026-03-23T23:00:00Z")));

    h.clock.set(ts("2026-03-23T22:59:59Z"));
    assert_eq!(tick(&h).notices, 0);
    h.clock.set(ts("2026-03-24T00:00:00Z"));
    assert_eq!(tick(&h).notices, 1);
    let staff: Vec<_> = h
        .store
        .due_outbox(&h.tenant, h.clock.now(), 100)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "contract.refund_overdue")
        .collect();
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].subject, None, "addressed to the operator");
    assert!(!staff[0].payload.contains("alice"));
    assert_eq!(tick(&h).notices, 0, "reminded once");
    let v = act(&h, o.id, json!({"action": "refunded"})).unwrap();
    assert_eq!(v.status, "withdrawn_refunded");
}

#[test]
fn withdrawal_after_the_period_is_refused() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "workpass");
    // From Sunday 1 March: 14 days end on Sunday 15th, moved to Monday's end.
    assert_eq!(m.withdraw_until, Some(ts("2026-03-16T23:00:00Z")));
    h.clock.set(ts("2026-03-17T00:00:00Z"));
    match h.vault.withdraw(&h.tenant, alice, m.id, h.clock.now()) {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::EXPIRED),
        other => panic!("{other:?}"),
    }
    let v = &h.vault.contracts_of_subject(&h.tenant, alice).unwrap()[0];
    assert!(!v.may_withdraw && v.may_cancel);
}

#[test]
fn membership_withdrawal_ends_it_at_once() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "workpass");
    h.clock.set(ts("2026-03-05T10:00:00Z"));
    let v = h
        .vault
        .withdraw(&h.tenant, alice, m.id, h.clock.now())
        .unwrap();
    assert_eq!(v.status, "withdrawn");
    assert!(!v.may_cancel && !v.may_withdraw);
    assert_eq!(
        payloads(&h, alice, "contract.withdrawal_acknowledged")[0]["refund_by"],
        "2026-03-19T23:00:00Z"
    );
    assert_eq!(
        v.next_due,
        Some(ts("2026-03-19T23:00:00Z")),
        "refund reminder"
    );
}

#[test]
fn another_persons_contract_is_not_found() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let bob = person(&h, "bob@example.com");
    let m = membership(&h, alice, "workpass");
    let audit = h.audit_len();
    for r in [
        h.vault
            .cancel_membership(&h.tenant, bob, m.id, h.clock.now()),
        h.vault.withdraw(&h.tenant, bob, m.id, h.clock.now()),
        h.vault
            .cancel_membership(&h.tenant, bob, custos_store::Uuid::now_v7(), h.clock.now()),
    ] {
        assert!(matches!(r, Err(VaultError::ContractNotFound)), "{r:?}");
    }
    assert_eq!(h.audit_len(), audit, "nothing changed");
    assert!(
        h.vault
            .contracts_of_subject(&h.tenant, bob)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.vault
            .contracts_of_subject(&h.tenant, alice)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn staff_only_and_bad_input_has_stable_codes() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let input = NewMembership {
        subject: alice,
        customer: Place {
            time_zone: "Mars/Olympus".into(),
            ..brussels()
        },
        plan: "homepass".into(),
        price: "9.99 EUR".into(),
        first_time: true,
        payment_ref: None,
    };
    assert!(matches!(
        h.vault
            .create_membership(&h.actor("support"), &input, &RequestCtx::default()),
        Err(VaultError::PurposeNotPermitted { .. })
    ));
    let code = |r: Result<ContractView, VaultError>| match r {
        Err(VaultError::Invalid(e)) => e[0].code,
        other => panic!("{other:?}"),
    };
    let staff = h.staff("support");
    let ctx = RequestCtx::default();
    assert_eq!(
        code(h.vault.create_membership(&staff, &input, &ctx)),
        codes::TIME_ZONE
    );
    let bad_plan = NewMembership {
        customer: brussels(),
        plan: "platinum".into(),
        ..input.clone()
    };
    assert_eq!(
        code(h.vault.create_membership(&staff, &bad_plan, &ctx)),
        codes::TERMS
    );
    let bad_price = NewMembership {
        customer: brussels(),
        price: "nine".into(),
        ..input.clone()
    };
    assert_eq!(
        code(h.vault.create_membership(&staff, &bad_price, &ctx)),
        codes::MONEY
    );
    let nobody = NewMembership {
        subject: SubjectId(custos_store::Uuid::now_v7()),
        customer: brussels(),
        ..input
    };
    assert_eq!(
        code(h.vault.create_membership(&staff, &nobody, &ctx)),
        codes::SUBJECT
    );
    let m = membership(&h, alice, "homepass");
    assert_eq!(
        code(act(&h, m.id, json!({"action": "issue_rma", "rma": "R1"}))),
        codes::WRONG_KIND
    );
}

fn order(h: &H, subject: SubjectId, quantity: u32) -> Result<ContractView, VaultError> {
    h.vault.create_order(
        &h.staff("support"),
        &NewOrder {
            subject,
            customer: brussels(),
            lines: vec![custos_core::contracts::NewLine {
                sku: "superpod".into(),
                quantity,
                unit_price: "99.00 EUR".into(),
            }],
            shipping: "0 EUR".into(),
            payment_ref: None,
        },
        &RequestCtx::default(),
    )
}

#[test]
fn quantity_limits_count_the_subjects_earlier_orders() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    order(&h, alice, 6).unwrap();
    match order(&h, alice, 5) {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::LIMIT),
        other => panic!("{other:?}"),
    }
    // Another person is not limited by Alice's orders.
    let bob = person(&h, "bob@example.com");
    order(&h, bob, 10).unwrap();
}

#[test]
fn a_return_runs_to_its_refund_and_reminds_staff_when_overdue() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let o = order(&h, alice, 1).unwrap();
    let r = h
        .vault
        .create_return(
            &h.staff("support"),
            &custos_core::contracts::NewReturn {
                subject: alice,
                customer: brussels(),
                order: Some(o.id),
                delivery_confirmed_at: ts("2026-02-20T10:00:00Z"),
                possession_at: ts("2026-02-21T10:00:00Z"),
            },
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(r.status, "notified");
    assert_eq!(kinds(&h, alice), ["contract.return_accepted"]);
    // Shipping before the RMA is refused (rma_required).
    assert!(act(&h, r.id, json!({"action": "shipped"})).is_err());
    act(&h, r.id, json!({"action": "issue_rma", "rma": "RMA-1"})).unwrap();
    h.clock.set(ts("2026-03-05T10:00:00Z"));
    act(&h, r.id, json!({"action": "shipped"})).unwrap();
    h.clock.set(ts("2026-03-09T10:00:00Z"));
    let v = act(
        &h,
        r.id,
        json!({"action": "received", "original_shipping": "4.90 EUR",
               "items": [{"price_paid": "99.00 EUR", "deterioration": "10.00 EUR"}]}),
    )
    .unwrap();
    assert_eq!(v.status, "received");
    assert_eq!(v.amounts[0].amount, "93.90 EUR");
    let due = date(&v, "refund_due").unwrap();
    assert_eq!(v.next_due, Some(due));
    let refund = &payloads(&h, alice, "contract.refund_due")[0];
    assert_eq!(refund["amount"], "93.90 EUR");
    assert_eq!(
        payloads(&h, alice, "contract.promotional_period_forfeited").len(),
        1
    );
    h.clock.set(due);
    assert_eq!(tick(&h).notices, 1, "staff are reminded");
    let v = act(&h, r.id, json!({"action": "refunded"})).unwrap();
    assert_eq!(v.status, "refunded");
    assert_eq!(v.next_due, None);
    // A return naming another person's order is refused like an unknown one.
    let bob = person(&h, "bob@example.com");
    let refused = h.vault.create_return(
        &h.staff("support"),
        &custos_core::contracts::NewReturn {
            subject: bob,
            customer: brussels(),
            order: Some(o.id),
            delivery_confirmed_at: ts("2026-03-08T10:00:00Z"),
            possession_at: ts("2026-03-08T10:00:00Z"),
        },
        &RequestCtx::default(),
    );
    match refused {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::NOT_FOUND),
        other => panic!("{other:?}"),
    }
}

// --- announced changes (T-4, T-20, T-21) ---------------------------------------------

fn membership_in(h: &H, subject: SubjectId, plan: &str, customer: Place) -> ContractView {
    h.vault
        .create_membership(
            &h.staff("support"),
            &NewMembership {
                subject,
                customer,
                plan: plan.into(),
                price: "9.99 EUR".into(),
                first_time: true,
                payment_ref: Some("psp_ch_123".into()),
            },
            &RequestCtx::default(),
        )
        .unwrap()
}

fn berlin() -> Place {
    Place {
        jurisdiction: "DE".into(),
        subdivision: None,
        time_zone: "Europe/Berlin".into(),
        consumer: true,
    }
}

fn amount(v: &ContractView, name: &str) -> Option<String> {
    v.amounts
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.amount.clone())
}

fn announce_price(
    h: &H,
    id: custos_store::Uuid,
    effective: &str,
) -> Result<ContractView, VaultError> {
    act(
        h,
        id,
        json!({"action": "announce_change", "kind": "price", "effective": effective,
               "new_price": "12.99 EUR"}),
    )
}

fn charges(h: &H, subject: SubjectId) -> Vec<(u64, String)> {
    payloads(h, subject, "contract.renewal_charge")
        .into_iter()
        .map(|p| {
            (
                p["period"].as_u64().unwrap(),
                p["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_belgian_price_change_after_30_days_notice_reaches_the_next_renewal() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "homepass");
    act(&h, m.id, json!({"action": "activate", "device": "pod-1"})).unwrap();

    let v = announce_price(&h, m.id, "2026-05-01").unwrap();
    // Brussels midnight on 1 May.
    let effective = ts("2026-04-30T22:00:00Z");
    assert_eq!(date(&v, "change_effective"), Some(effective));
    assert_eq!(amount(&v, "new_price").as_deref(), Some("12.99 EUR"));
    assert_eq!(amount(&v, "price").as_deref(), Some("9.99 EUR"));
    assert!(!v.change_needs_acceptance && !v.may_accept_change);
    assert!(v.may_cancel_for_change);
    let notice = h
        .store
        .outbox_of(&h.tenant, alice)
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "contract.change_announced")
        .unwrap();
    let p: Value = serde_json::from_str(&notice.payload).unwrap();
    assert_eq!(p["effective"], json!(effective));
    assert_eq!(p["new_price"], "12.99 EUR");
    assert_eq!(p["requires_acceptance"], false);
    assert_eq!(p["cancel_free_until"], json!(effective));
    let (_, body) = custos_core::notices::render(&notice.kind, &notice.payload).unwrap();
    assert!(
        body.contains("12.99 EUR") && body.contains("2026-04-30 22:00 UTC"),
        "{body}"
    );

    // A document stored before changes were kept still loads (no pending change).
    let mut old = v.state.clone();
    old.as_object_mut().unwrap().remove("pending_change");
    let old: custos_core::contracts::doc::ContractDoc = serde_json::from_value(old).unwrap();
    let custos_core::contracts::doc::ContractDoc::Membership(old) = old else {
        panic!("not a membership")
    };
    assert_eq!(old.pending_change, None);

    // April's renewal is before the change; May's is after it.
    h.clock.set(ts("2026-03-30T22:00:00Z"));
    tick(&h);
    assert_eq!(charges(&h, alice), [(1, "9.99 EUR".to_owned())]);
    h.clock.set(ts("2026-04-29T22:00:00Z"));
    tick(&h);
    assert_eq!(
        charges(&h, alice),
        [(1, "9.99 EUR".to_owned()), (2, "12.99 EUR".to_owned())]
    );
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(v.next_due, Some(effective), "the change is due to apply");
    h.clock.set(effective);
    tick(&h);
    assert_eq!(payloads(&h, alice, "contract.change_applied").len(), 1);
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(date(&v, "change_effective"), None);
    assert_eq!(amount(&v, "price").as_deref(), Some("12.99 EUR"));
    assert!(!v.may_cancel_for_change);
}

#[test]
fn a_change_with_too_short_notice_is_refused_with_a_stable_code() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let m = membership(&h, alice, "workpass");
    let problem = |r: Result<ContractView, VaultError>| match r {
        Err(VaultError::Invalid(e)) => (e[0].code, e[0].pointer.clone()),
        other => panic!("{other:?}"),
    };
    // 30 days from 1 March end with 31 March: 1 April is the earliest.
    assert_eq!(
        problem(announce_price(&h, m.id, "2026-03-31")),
        (codes::CHANGE, "/effective".to_owned())
    );
    assert_eq!(
        problem(act(
            &h,
            m.id,
            json!({"action": "announce_change", "kind": "colour", "effective": "2026-05-01"})
        )),
        (codes::CHANGE, "/kind".to_owned())
    );
    assert_eq!(
        problem(act(
            &h,
            m.id,
            json!({"action": "announce_change", "kind": "price", "effective": "2026-05-01"})
        )),
        (codes::INPUT, "/new_price".to_owned())
    );
    // Nothing pending, nothing to accept or cancel for.
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(date(&v, "change_effective"), None);
    assert!(!kinds(&h, alice).contains(&"contract.change_announced".to_owned()));
    assert_eq!(
        problem(
            h.vault
                .cancel_for_change(&h.tenant, alice, m.id, h.clock.now())
        )
        .0,
        codes::STATE
    );
    announce_price(&h, m.id, "2026-04-01").unwrap();
}

#[test]
fn cancelling_for_a_change_ends_by_its_effective_date_even_in_the_initial_term() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let bob = person(&h, "bob@example.com");
    let m = membership(&h, alice, "workpass");
    h.clock.set(ts("2026-03-05T09:00:00Z"));
    announce_price(&h, m.id, "2026-05-01").unwrap();
    let effective = ts("2026-04-30T22:00:00Z");

    h.clock.set(ts("2026-03-10T09:00:00Z"));
    let audit = h.audit_len();
    for r in [
        h.vault
            .cancel_for_change(&h.tenant, bob, m.id, h.clock.now()),
        h.vault.accept_change(&h.tenant, bob, m.id, h.clock.now()),
    ] {
        assert!(matches!(r, Err(VaultError::ContractNotFound)), "{r:?}");
    }
    assert_eq!(h.audit_len(), audit, "nothing changed");

    let v = h
        .vault
        .cancel_for_change(&h.tenant, alice, m.id, h.clock.now())
        .unwrap();
    assert_eq!(v.status, "cancelling");
    // Not the end of the 12-month initial term (28 February 2027): the change's day.
    assert_eq!(date(&v, "cancel_effective"), Some(effective));
    assert!(!v.may_cancel_for_change && !v.may_cancel);
    assert_eq!(
        payloads(&h, alice, "contract.cancellation_confirmed")[0]["effective"],
        json!(effective)
    );
    assert_eq!(v.next_due, Some(effective));

    h.clock.set(effective);
    tick(&h);
    let v = h.vault.contract_view(&h.tenant, m.id).unwrap();
    assert_eq!(v.status, "ended");
    assert_eq!(v.next_due, None);
    assert!(payloads(&h, alice, "contract.change_applied").is_empty());
    assert_eq!(payloads(&h, alice, "contract.membership_ended").len(), 1);
    assert_eq!(
        charges(&h, alice).len(),
        1,
        "only the initial term was charged"
    );
}

#[test]
fn a_german_consumers_change_applies_only_once_accepted() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let bob = person(&h, "bob@example.com");
    let a = membership_in(&h, alice, "homepass", berlin());
    let b = membership_in(&h, bob, "homepass", berlin());
    for id in [a.id, b.id] {
        act(&h, id, json!({"action": "activate", "device": "pod-1"})).unwrap();
    }
    // Six weeks' notice (T-20): from 1 March, 12 April is too early.
    match announce_price(&h, a.id, "2026-04-12") {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::CHANGE),
        other => panic!("{other:?}"),
    }
    let effective = ts("2026-04-30T22:00:00Z");
    for id in [a.id, b.id] {
        let v = announce_price(&h, id, "2026-05-01").unwrap();
        assert!(v.change_needs_acceptance && v.may_accept_change);
    }
    assert_eq!(
        payloads(&h, alice, "contract.change_announced")[0]["requires_acceptance"],
        true
    );

    h.clock.set(ts("2026-03-10T09:00:00Z"));
    let v = h
        .vault
        .accept_change(&h.tenant, alice, a.id, h.clock.now())
        .unwrap();
    assert!(v.change_needs_acceptance && !v.may_accept_change);
    match h.vault.accept_change(&h.tenant, alice, a.id, h.clock.now()) {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::STATE),
        other => panic!("{other:?}"),
    }

    // May's renewal: the new price for Alice, who accepted; the old one for Bob.
    h.clock.set(ts("2026-03-30T22:00:00Z"));
    tick(&h);
    h.clock.set(ts("2026-04-29T22:00:00Z"));
    tick(&h);
    assert_eq!(charges(&h, alice)[1], (2, "12.99 EUR".to_owned()));
    assert_eq!(charges(&h, bob)[1], (2, "9.99 EUR".to_owned()));
    h.clock.set(effective);
    tick(&h);
    assert_eq!(payloads(&h, alice, "contract.change_applied").len(), 1);
    assert_eq!(payloads(&h, bob, "contract.change_not_applied").len(), 1);
    let vb = h.vault.contract_view(&h.tenant, b.id).unwrap();
    assert_eq!(amount(&vb, "price").as_deref(), Some("9.99 EUR"));
    assert!(!vb.may_accept_change, "too late once it would have applied");
    // Bob can no longer accept it: it did not apply to him.
    match h.vault.accept_change(&h.tenant, bob, b.id, h.clock.now()) {
        Err(VaultError::Invalid(e)) => assert_eq!(e[0].code, codes::STATE),
        other => panic!("{other:?}"),
    }
    h.clock.set(ts("2026-05-30T22:00:00Z"));
    tick(&h);
    assert_eq!(charges(&h, alice)[2], (3, "12.99 EUR".to_owned()));
    assert_eq!(charges(&h, bob)[2], (3, "9.99 EUR".to_owned()));
}

/// Issue 13 point 15 (P0-9): an erased person's memberships end with the erasure. The
/// clock job charges nothing afterwards, and no step (activation) applies any more.
#[test]
fn p0_9_an_erased_persons_memberships_end_with_the_erasure() {
    let h = h();
    let alice = person(&h, "alice@example.com");
    let active = membership(&h, alice, "homepass");
    let active = act(
        &h,
        active.id,
        json!({"action": "activate", "device": "pod-1"}),
    )
    .unwrap();
    assert_eq!(active.next_due, Some(ts("2026-03-30T22:00:00Z")));
    let waiting = membership(&h, alice, "homepass");

    h.vault
        .erase(
            &h.staff("support"),
            alice,
            "erasure request from the person",
            &RequestCtx::default(),
        )
        .unwrap();

    // No activation after the erasure.
    let e = act(
        &h,
        waiting.id,
        json!({"action": "activate", "device": "pod-2"}),
    )
    .unwrap_err();
    assert!(format!("{e:?}").contains(codes::SUBJECT_ERASED), "{e:?}");

    // The renewal window opens: the membership ends instead of being charged.
    h.clock.set(ts("2026-03-30T22:00:00Z"));
    let r = tick(&h);
    assert_eq!((r.advanced, r.notices, r.failed), (1, 0, 0));
    assert!(charges(&h, alice).is_empty(), "no charge after the erasure");
    let v = h.vault.contract_view(&h.tenant, active.id).unwrap();
    assert_eq!(v.status, "ended");
    assert_eq!(
        v.state["billing"]["reason"], "subject_erased",
        "{}",
        v.state
    );
    assert_eq!(v.next_due, None);
    // Nothing more is due: a month later the job still charges nothing.
    h.clock.set(ts("2026-04-29T22:00:00Z"));
    assert_eq!(tick(&h).advanced, 0);
    assert!(charges(&h, alice).is_empty());
    // Staff cannot revive it either.
    let e = act(
        &h,
        active.id,
        json!({"action": "reactivate", "price": "9.99 EUR"}),
    )
    .unwrap_err();
    assert!(format!("{e:?}").contains(codes::SUBJECT_ERASED), "{e:?}");
}
