//! Processor mode (issue 4 part 4; S-1, V-3, L-1, L-8): a request about data the
//! tenant holds as processor is routed to the controller, waits for its documented
//! instruction (audited by reference), and only then is fulfilled.

use custos_core::VaultError;
use custos_core::clock::Clock;
use custos_core::rights::{NewRequest, RequestAction};
use custos_core::vault::RequestCtx;
use custos_policy::model::Right;
use custos_store::{RequestStore, Store, Uuid};
use serde_json::{Value, json};

use crate::harness::{H, POLICY, harness, with_policy};

pub const PLOOMES: &str = include_str!("../../../../policies/ploomes.toml");
pub const PLUM_VOICE: &str = include_str!("../../../../policies/plum-voice.toml");

pub fn about_client_data(right: Right, controller: &str) -> NewRequest {
    NewRequest {
        right,
        subject: None,
        jurisdiction: None,
        channel: "email".into(),
        on_behalf_of: Some(controller.into()),
    }
}

/// The payloads of the tenant's undelivered messages of `kind`.
pub fn outbox(h: &H, kind: &str) -> Vec<Value> {
    h.store
        .due_outbox(&h.tenant, h.clock.now(), 100)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == kind)
        .map(|m| serde_json::from_str(&m.payload).unwrap())
        .collect()
}

/// Routed, refused before the instruction, instructed (audited), then fulfilled.
pub fn routed_then_instructed(h: &H, controller: &str) -> Uuid {
    let ctx = RequestCtx::default();
    let staff = h.staff("admin");
    let before = h.audit_len();
    let v = h
        .vault
        .open_request(&staff, &about_client_data(Right::Erasure, controller), &ctx)
        .unwrap();
    assert_eq!(v.state, "routed");

    // The controller hears of it, in the same transaction as the request.
    let routed = outbox(h, "request.routed");
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0]["request"], json!(v.id));
    assert_eq!(routed[0]["right"], "erasure");
    assert_eq!(routed[0]["controller"], controller);
    assert!(routed[0]["received_at"].is_string());
    // The person is told it went to the controller.
    let ack = outbox(h, "request.acknowledged");
    assert_eq!(ack[0]["forwarded_to_controller"], controller);
    let entries = h.store.audit_entries(&h.tenant, before, 10).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.draft.action == "request.routed" && e.draft.reason.contains(controller))
    );

    // No answer of our own before the controller instructs.
    for refused in [
        RequestAction::Fulfil,
        RequestAction::Reject {
            reason: "no".into(),
        },
        RequestAction::Start,
    ] {
        let e = h
            .vault
            .act_on_request(&staff, v.id, &refused, &ctx)
            .unwrap_err();
        assert!(matches!(e, VaultError::Invalid(ref p) if p[0].code == "VAULT-0132"));
    }
    assert_eq!(
        h.vault.request_view(&h.tenant, v.id).unwrap().state,
        "routed"
    );

    // An instruction needs both its reference and its text.
    let e = h
        .vault
        .act_on_request(
            &staff,
            v.id,
            &RequestAction::Instruct {
                controller_reference: " ".into(),
                instruction: "x".repeat(2001),
            },
            &ctx,
        )
        .unwrap_err();
    assert!(matches!(e, VaultError::Invalid(ref p) if p.len() == 2 && p[0].code == "VAULT-0139"));

    let before = h.audit_len();
    let v2 = h
        .vault
        .act_on_request(
            &staff,
            v.id,
            &RequestAction::Instruct {
                controller_reference: "DPA-2026-017 ticket 4411".into(),
                instruction: "Erase the contact Jane Roe from our CRM account".into(),
            },
            &ctx,
        )
        .unwrap();
    assert_eq!(v2.state, "in_progress");
    let entries = h.store.audit_entries(&h.tenant, before, 10).unwrap();
    let instructed: Vec<_> = entries
        .iter()
        .filter(|e| e.draft.action == "request.instructed")
        .collect();
    assert_eq!(instructed.len(), 1);
    assert!(
        instructed[0]
            .draft
            .reason
            .contains("DPA-2026-017 ticket 4411")
    );
    // The reference only: the instruction's text may name the person.
    assert!(!instructed[0].draft.reason.contains("Jane Roe"));

    // A second instruction is refused: the request is no longer routed.
    assert!(
        h.vault
            .act_on_request(
                &staff,
                v.id,
                &RequestAction::Instruct {
                    controller_reference: "again".into(),
                    instruction: "again".into(),
                },
                &ctx,
            )
            .is_err()
    );
    let done = h
        .vault
        .act_on_request(&staff, v.id, &RequestAction::Fulfil, &ctx)
        .unwrap();
    assert_eq!(done.state, "fulfilled");
    v.id
}

#[test]
fn l_8_ploomes_routes_client_data_requests_to_the_client_and_acts_on_instruction() {
    let h = with_policy(PLOOMES);
    routed_then_instructed(&h, "Acme Imóveis Ltda (Ploomes client 8812)");
}

#[test]
fn v_3_plum_voice_hosted_data_requests_go_to_the_customer_first() {
    let h = with_policy(PLUM_VOICE);
    routed_then_instructed(&h, "Call centre customer C-204");
}

#[test]
fn a_request_about_own_data_is_handled_normally_under_a_processor_policy() {
    let h = with_policy(PLOOMES);
    let ctx = RequestCtx::default();
    let staff = h.staff("admin");
    let v = h
        .vault
        .open_request(
            &staff,
            &NewRequest {
                on_behalf_of: None,
                ..about_client_data(Right::Access, "unused")
            },
            &ctx,
        )
        .unwrap();
    assert_eq!(v.state, "received");
    assert!(outbox(&h, "request.routed").is_empty());
    assert!(outbox(&h, "request.acknowledged")[0]["forwarded_to_controller"].is_null());
    let e = h
        .vault
        .act_on_request(
            &staff,
            v.id,
            &RequestAction::Instruct {
                controller_reference: "r".into(),
                instruction: "i".into(),
            },
            &ctx,
        )
        .unwrap_err();
    assert!(matches!(e, VaultError::Invalid(ref p) if p[0].code == "VAULT-0132"));
    h.vault
        .act_on_request(&staff, v.id, &RequestAction::Verify, &ctx)
        .unwrap();
    let done = h
        .vault
        .act_on_request(&staff, v.id, &RequestAction::Fulfil, &ctx)
        .unwrap();
    assert_eq!(done.state, "fulfilled");
}

#[test]
fn a_policy_without_processor_section_refuses_on_behalf_of() {
    let h = harness();
    assert!(!POLICY.contains("[processor]"));
    let before = h.store.requests(&h.tenant).unwrap().len();
    let e = h
        .vault
        .open_request(
            &h.staff("admin"),
            &about_client_data(Right::Access, "Some controller"),
            &RequestCtx::default(),
        )
        .unwrap_err();
    match e {
        VaultError::Invalid(p) => {
            assert_eq!(p.len(), 1);
            assert_eq!(p[0].pointer, "/on_behalf_of");
            assert_eq!(p[0].code, "VAULT-0138");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.store.requests(&h.tenant).unwrap().len(), before);
}

#[test]
fn on_behalf_of_names_a_controller() {
    let h = with_policy(PLOOMES);
    let e = h
        .vault
        .open_request(
            &h.staff("admin"),
            &about_client_data(Right::Access, "   "),
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert!(matches!(e, VaultError::Invalid(ref p) if p[0].code == "VAULT-0138"));
}

#[test]
fn on_behalf_of_deserialises_with_a_default() {
    let r: NewRequest =
        serde_json::from_value(json!({ "right": "access", "channel": "web" })).unwrap();
    assert!(r.on_behalf_of.is_none());
    let a: RequestAction = serde_json::from_value(
        json!({ "action": "instruct", "controller_reference": "R-1", "instruction": "erase" }),
    )
    .unwrap();
    assert!(matches!(a, RequestAction::Instruct { .. }));
}
