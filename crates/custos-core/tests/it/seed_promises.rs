//! One scenario per seed promise named in issue 4 (SEED-PROMISES.md), each run end
//! to end against the engine with the seed's own policy from `policies/`, asserting
//! what the person relies on. Deeper tests of each mechanism live beside this file
//! (lifecycle.rs, rights.rs, consent.rs, incidents.rs, processor.rs).

use custos_core::VaultError;
use custos_core::clock::Clock;
use custos_core::incidents::IncidentInput;
use custos_core::rights::{NewRequest, RequestAction};
use custos_core::vault::consent::{ConsentAction, ConsentInput};
use custos_core::vault::{Actor, NewRecord, RequestCtx, WithheldReason, WriteRequest};
use custos_policy::diff::Impact;
use custos_policy::model::Right;
use custos_store::{RequestStore, Store, SubjectId};
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::harness::{H, with_policy};
use crate::processor::{PLOOMES, PLUM_VOICE, routed_then_instructed};

const PLUME: &str = include_str!("../../../../policies/plume-sasu.toml");
const PLUMSENSE: &str = include_str!("../../../../policies/plumsense.toml");

fn ctx() -> RequestCtx {
    RequestCtx::default()
}

fn rec(category: &str, value: Value, purpose: &str, source: Option<&str>) -> NewRecord {
    NewRecord {
        category: category.into(),
        value,
        purpose: purpose.into(),
        source: source.map(str::to_owned),
    }
}

fn create(h: &H, staff: &Actor, records: Vec<NewRecord>) -> SubjectId {
    let req = WriteRequest {
        jurisdiction: None,
        settings: Default::default(),
        consents: Vec::new(),
        records,
    };
    h.vault
        .create_subject(staff, &req, &ctx())
        .unwrap()
        .written()
        .subject
}

/// Plume SASU: a customer with account data, a payment reference and an invoice
/// (the last two kept under the `legal_obligations` purpose).
fn plume_customer(h: &H) -> SubjectId {
    create(
        h,
        &h.staff("sales_order_delivery"),
        vec![
            rec("user.name", json!("Alice Martin"), "account", None),
            rec(
                "user.contact.email",
                json!("alice@example.com"),
                "account",
                None,
            ),
            rec(
                "user.contact.phone_number",
                json!("+33612345678"),
                "account",
                None,
            ),
            rec(
                "user.financial.payment_reference",
                json!("pay_7Hq2Zr81"),
                "payment_and_delivery",
                Some("third_party"),
            ),
            rec(
                "user.financial.invoice",
                json!("Invoice F-2026-0042, 129.00 EUR"),
                "legal_obligations",
                None,
            ),
        ],
    )
}

/// Ploomes: a user of the CRM (the tenant's own data, as controller).
fn ploomes_user(h: &H) -> SubjectId {
    create(
        h,
        &h.staff("operations"),
        vec![
            rec(
                "user.name",
                json!("João Silva"),
                "service_communications",
                None,
            ),
            rec(
                "user.contact.email",
                json!("joao@example.com.br"),
                "service_communications",
                None,
            ),
            // The sign-up says the person is at least 16 (L-10, issue 13.12).
            rec(
                "user.demographic.age_attestation",
                json!(true),
                "service_communications",
                None,
            ),
        ],
    )
}

fn values(h: &H, role: &str, subject: SubjectId, purpose: &str) -> Vec<(String, Value)> {
    h.vault
        .read(&h.actor(role), subject, purpose, &ctx())
        .unwrap()
        .values
        .into_iter()
        .map(|v| (v.category, v.value))
        .collect()
}

fn consent(h: &H, subject: SubjectId, purpose: &str, action: ConsentAction) {
    let input = ConsentInput {
        purpose: purpose.into(),
        action,
        channel: "web".into(),
        notice_text: None,
        ip: None,
        user_agent: Some("test".into()),
    };
    // Grants come from the person (here through the privacy center, issue 13.2);
    // anyone's key may record a withdrawal or an objection.
    let actor = match action {
        ConsentAction::Grant => custos_core::self_service::privacy_center_actor(&h.tenant),
        _ => h.actor("app"),
    };
    h.vault
        .record_consent(&actor, subject, &input, &ctx())
        .unwrap();
}

fn request(right: Right, subject: Option<SubjectId>) -> NewRequest {
    NewRequest {
        right,
        subject,
        jurisdiction: None,
        channel: "privacy_center".into(),
        on_behalf_of: None,
    }
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

#[test]
fn p0_11_the_person_updates_their_data_and_the_change_is_audited() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    let staff = h.staff("sales_order_delivery");
    let email = h
        .vault
        .read(&staff, alice, "account", &ctx())
        .unwrap()
        .values
        .into_iter()
        .find(|v| v.category == "user.contact.email")
        .unwrap();
    let before = h.audit_len();
    h.vault
        .rectify(
            &staff,
            alice,
            email.record,
            &json!("alice.martin@example.org"),
            &ctx(),
        )
        .unwrap();
    let now = values(&h, "sales_order_delivery", alice, "account");
    assert!(now.contains(&(
        "user.contact.email".into(),
        json!("alice.martin@example.org")
    )));
    assert!(!now.iter().any(|(_, v)| v == &json!("alice@example.com")));
    let entries = h.store.audit_entries(&h.tenant, before, 10).unwrap();
    let rectify = entries
        .iter()
        .find(|e| e.draft.action == "rectify")
        .expect("rectification audited");
    assert_eq!(rectify.draft.subject, Some(alice));
    // Audited without the values (old or new).
    assert!(!rectify.draft.reason.contains("alice"));
}

#[test]
fn p0_12_values_are_encrypted_at_rest_and_only_recipients_read_them() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    // Not a recipient of `account`: refused, and the refusal is audited.
    let before = h.audit_len();
    let e = h
        .vault
        .read(
            &h.actor("marketing_communication"),
            alice,
            "account",
            &ctx(),
        )
        .unwrap_err();
    assert!(matches!(e, VaultError::PurposeNotPermitted { .. }));
    let denial = h.store.audit_entries(&h.tenant, before, 10).unwrap();
    assert!(denial.iter().any(|e| e.draft.action == "read"));
    // At rest, no value appears in the database files.
    let path = h.store.path().to_path_buf();
    let dir = path.parent().unwrap();
    let stem = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_name().to_string_lossy().starts_with(&stem) {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        scanned += 1;
        for secret in [
            "alice@example.com",
            "Alice Martin",
            "pay_7Hq2Zr81",
            "F-2026-0042",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in {:?}",
                entry.path()
            );
        }
    }
    assert!(scanned >= 1);
}

#[test]
fn p0_13_a_breach_informs_the_affected_customers_immediately() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    let bob = create(
        &h,
        &h.staff("sales_order_delivery"),
        vec![rec("user.name", json!("Bob"), "account", None)],
    );
    let from = h.clock.now();
    h.clock.advance(SignedDuration::from_hours(1));
    // A leaked key read Alice, not Bob.
    h.vault
        .read(&h.actor("technical_services"), alice, "account", &ctx())
        .unwrap();
    h.clock.advance(SignedDuration::from_hours(1));
    let incident = h
        .vault
        .open_incident(
            &h.staff("admin"),
            &IncidentInput {
                description: "technical services key leaked".into(),
                detected_at: h.clock.now(),
                aware_at: None,
                key_ids: vec![],
                actors: vec!["key:ck_technical_services".into()],
                from,
                to: h.clock.now(),
                categories: vec![],
                law_enforcement_hold: None,
            },
            &ctx(),
        )
        .unwrap();
    let affected: Vec<_> = incident.affected.iter().map(|a| a.subject).collect();
    assert_eq!(affected, [alice]);
    assert_eq!(incident.people_urgency.as_deref(), Some("immediately"));
    // The notice is owed at once: in the outbox, due now, written with the incident.
    let notices: Vec<_> = h
        .store
        .outbox_of(&h.tenant, alice)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "breach.notice")
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].next_attempt_at <= h.clock.now());
    assert!(
        h.store
            .outbox_of(&h.tenant, bob)
            .unwrap()
            .iter()
            .all(|m| m.kind != "breach.notice")
    );
}

#[test]
fn p0_14_an_access_export_contains_every_record_with_why_it_is_held() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    let export = h
        .vault
        .export(&h.staff("sales_order_delivery"), alice, &ctx())
        .unwrap();
    let mut got: Vec<_> = export
        .records
        .iter()
        .map(|r| (r.category.as_str(), r.value.clone()))
        .collect();
    got.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        got,
        [
            ("user.contact.email", json!("alice@example.com")),
            ("user.contact.phone_number", json!("+33612345678")),
            (
                "user.financial.invoice",
                json!("Invoice F-2026-0042, 129.00 EUR")
            ),
            ("user.financial.payment_reference", json!("pay_7Hq2Zr81")),
            ("user.name", json!("Alice Martin")),
        ]
    );
    for r in &export.records {
        assert!(!r.collected_for.is_empty() && !r.lawful_basis.is_empty());
        assert!(!r.purpose_description.is_empty() && !r.source.is_empty());
        assert_eq!(r.collected_at, crate::harness::t0());
    }
    let pay = export
        .records
        .iter()
        .find(|r| r.category == "user.financial.payment_reference")
        .unwrap();
    assert_eq!(pay.source, "third_party");
}

#[test]
fn p0_15_portability_gives_a_machine_readable_package() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    let staff = h.staff("sales_order_delivery");
    let v = h
        .vault
        .open_request(&staff, &request(Right::Portability, Some(alice)), &ctx())
        .unwrap();
    let export = h.vault.export(&staff, alice, &ctx()).unwrap();
    // JSON another controller can read back…
    let json: Value = serde_json::from_str(&serde_json::to_string(&export).unwrap()).unwrap();
    assert_eq!(json["records"].as_array().unwrap().len(), 5);
    assert_eq!(json["subject"], json!(alice));
    // …and CSV: a header and one row per record.
    let csv = export.to_csv();
    assert_eq!(csv.lines().filter(|l| !l.is_empty()).count(), 1 + 5);
    assert!(csv.contains("alice@example.com"));
    h.vault
        .act_on_request(&staff, v.id, &RequestAction::Verify, &ctx())
        .unwrap();
    let done = h
        .vault
        .act_on_request(&staff, v.id, &RequestAction::Fulfil, &ctx())
        .unwrap();
    assert_eq!(done.answered_on_time, Some(true));
}

#[test]
fn p0_16_restriction_blocks_every_purpose_except_the_during_restriction_one() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    h.vault
        .restrict(&h.staff("sales_order_delivery"), alice, &ctx())
        .unwrap();
    let policy = custos_policy::load(PLUME, "plume-sasu.toml")
        .unwrap()
        .policy;
    let mut allowed = Vec::new();
    for (id, purpose) in &policy.purpose {
        for role in &purpose.recipients {
            match h.vault.read(&h.actor(role), alice, id, &ctx()) {
                Ok(out) if !out.values.is_empty() => allowed.push(id.clone()),
                // Nothing released, or refused outright: blocked either way.
                _ => {}
            }
        }
    }
    allowed.sort();
    allowed.dedup();
    assert_eq!(allowed, ["legal_obligations"]);
    let account = h
        .vault
        .read(&h.actor("sales_order_delivery"), alice, "account", &ctx())
        .unwrap();
    assert!(account.values.is_empty());
    assert!(
        account
            .withheld
            .iter()
            .any(|w| w.reason == WithheldReason::Restricted)
    );
}

#[test]
fn p0_17_erasure_keeps_only_the_legal_obligation_records_isolated() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    let staff = h.staff("sales_order_delivery");
    let receipt = h
        .vault
        .erase(&staff, alice, "account deleted by the customer", &ctx())
        .unwrap();
    let mut kept: Vec<_> = receipt
        .kept
        .iter()
        .map(|k| (k.category.as_str(), k.held_for.as_str()))
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            ("user.financial.invoice", "legal_obligations"),
            ("user.financial.payment_reference", "legal_obligations"),
        ]
    );
    assert!(receipt.kept.iter().all(|k| !k.reason.is_empty()));
    for c in [
        "user.name",
        "user.contact.email",
        "user.contact.phone_number",
    ] {
        assert!(receipt.deleted.iter().any(|d| d == c), "{c}");
    }
    // Isolated: no ordinary purpose reads anything.
    for purpose in ["account", "payment_and_delivery", "legal_obligations"] {
        if let Ok(out) = h.vault.read(&staff, alice, purpose, &ctx()) {
            assert!(out.values.is_empty(), "{purpose}");
        }
    }
    // Only the legal-obligation purpose opens the held records.
    let held = h
        .vault
        .read_held(&staff, alice, "legal_obligations", &ctx())
        .unwrap();
    let mut cats: Vec<_> = held.values.iter().map(|v| v.category.as_str()).collect();
    cats.sort();
    assert_eq!(
        cats,
        ["user.financial.invoice", "user.financial.payment_reference"]
    );
}

#[test]
fn p0_18_requests_are_due_in_15_days_and_an_extension_is_told_before_then() {
    let h = with_policy(PLUME);
    let alice = plume_customer(&h);
    let staff = h.staff("sales_order_delivery");
    let v = h
        .vault
        .open_request(&staff, &request(Right::Access, Some(alice)), &ctx())
        .unwrap();
    assert_eq!(v.due_at, v.received_at.checked_add(days(15)).unwrap());
    h.clock.advance(days(13));
    let ext = h
        .vault
        .act_on_request(
            &staff,
            v.id,
            &RequestAction::Extend {
                reason: "several systems to search".into(),
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(
        ext.extended_until,
        Some(v.due_at.checked_add(days(15)).unwrap())
    );
    let notice = h
        .store
        .outbox_of(&h.tenant, alice)
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "request.extended")
        .expect("the applicant is told");
    assert!(notice.created_at < v.due_at, "told before the deadline");
    h.clock.advance(days(3));
    let late = h.vault.request_view(&h.tenant, v.id).unwrap();
    assert!(!late.overdue, "day 16 is within the extension");
}

#[test]
fn l_6_restriction_isolates_a_ploomes_user_until_lifted() {
    let h = with_policy(PLOOMES);
    let joao = ploomes_user(&h);
    let staff = h.staff("operations");
    assert!(!values(&h, "customer_success", joao, "service_communications").is_empty());
    h.vault.restrict(&staff, joao, &ctx()).unwrap();
    for (role, purpose) in [
        ("customer_success", "service_communications"),
        ("security", "security"),
        ("marketing", "lead_enrichment"),
    ] {
        let out = h.vault.read(&h.actor(role), joao, purpose, &ctx()).unwrap();
        assert!(out.values.is_empty(), "{purpose}");
    }
    // The data is still there, isolated; deletion (or lifting) remains possible.
    h.vault.lift_restriction(&staff, joao, &ctx()).unwrap();
    assert!(!values(&h, "customer_success", joao, "service_communications").is_empty());
}

#[test]
fn l_7_revoking_consent_is_not_retroactive_and_another_basis_continues() {
    let h = with_policy(PLOOMES);
    let joao = ploomes_user(&h);
    consent(&h, joao, "marketing", ConsentAction::Grant);
    assert!(!values(&h, "marketing", joao, "marketing").is_empty());
    h.clock.advance(days(1));
    consent(&h, joao, "marketing", ConsentAction::Withdraw);
    assert!(values(&h, "marketing", joao, "marketing").is_empty());
    // Contract-based processing continues.
    assert!(!values(&h, "customer_success", joao, "service_communications").is_empty());
    // Not retroactive: the earlier grant stays on record.
    let record = h
        .vault
        .consent_record(&h.staff("operations"), joao, &ctx())
        .unwrap();
    let kinds: Vec<_> = record.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["granted", "withdrawn"]);
    // Every right of L-7 can be requested.
    for right in [
        Right::Access,
        Right::Rectification,
        Right::Erasure,
        Right::Objection,
        Right::Restriction,
        Right::Portability,
        Right::ConsentWithdrawal,
    ] {
        h.vault
            .open_request(&h.staff("operations"), &request(right, Some(joao)), &ctx())
            .unwrap();
    }
}

#[test]
fn l_8_requests_about_client_data_are_sent_to_the_client() {
    let h = with_policy(PLOOMES);
    routed_then_instructed(&h, "Imobiliária Exemplo Ltda");
}

#[test]
fn l_9_the_unsubscribe_link_withdraws_without_login() {
    let h = with_policy(PLOOMES);
    let joao = ploomes_user(&h);
    consent(&h, joao, "marketing", ConsentAction::Grant);
    assert!(!values(&h, "marketing", joao, "marketing").is_empty());
    let token = h
        .vault
        .unsubscribe_token(&h.tenant, joao, "marketing")
        .unwrap();
    // No API key, no actor: the token alone.
    let receipt = h.vault.unsubscribe(&token, None).unwrap();
    assert_eq!(receipt.kind, "withdrawn");
    assert!(values(&h, "marketing", joao, "marketing").is_empty());
    // A forged token does nothing.
    let forged = format!("{}0", &token[..token.len() - 1]);
    let forged = if forged == token {
        format!("{}1", &token[..token.len() - 1])
    } else {
        forged
    };
    assert!(h.vault.unsubscribe(&forged, None).is_err());
}

#[test]
fn v_6_a_new_use_of_held_data_needs_re_consent() {
    // The re-consent *engine* (notify by email, ask again, hold the new use until
    // people agree) is issue 5; here the classification that drives it.
    let old = custos_policy::load(PLUM_VOICE, "plum-voice.toml")
        .unwrap()
        .policy;
    let changed = format!(
        "{PLUM_VOICE}\n[purpose.voice_analytics]\ndescription = \"Analyse contacts to rank sales leads\"\nbasis = \"legitimate_interest\"\nlegitimate_interest = \"Prioritising sales\"\ncategories = [\"user.name\", \"user.contact.email\"]\nrecipients = [\"sales\"]\nsubjects = [\"customers\", \"prospects\"]\n"
    );
    let new = custos_policy::load(&changed, "plum-voice.toml")
        .unwrap()
        .policy;
    let d = custos_policy::diff::diff(&old, &new);
    assert_eq!(d.impact(), Impact::Reconsent, "{d}");
    assert!(d.changes.iter().any(|c| c.path.contains("voice_analytics")));
    // A wording-only change does not.
    assert_eq!(custos_policy::diff::diff(&old, &old).impact(), Impact::None);
}

#[test]
fn s_1_plumsense_routes_customer_data_requests_and_answers_for_its_own() {
    let h = with_policy(PLUMSENSE);
    routed_then_instructed(&h, "Hospital customer H-77");
    // As controller for its own data, the request stays with Plumsense.
    let own = h
        .vault
        .open_request(&h.staff("admin"), &request(Right::Access, None), &ctx())
        .unwrap();
    assert_eq!(own.state, "received");
}

#[test]
fn l_1_ploomes_is_controller_for_its_own_data_and_operator_for_clients() {
    let h = with_policy(PLOOMES);
    let policy = custos_policy::load(PLOOMES, "ploomes.toml").unwrap().policy;
    let p = policy.processor.as_ref().unwrap();
    assert!(p.written_instructions_only && p.controller_answers_for_consent);
    routed_then_instructed(&h, "Client 1234");
    let joao = ploomes_user(&h);
    let own = h
        .vault
        .open_request(
            &h.staff("operations"),
            &request(Right::Access, Some(joao)),
            &ctx(),
        )
        .unwrap();
    assert_eq!(own.state, "received");
    assert_eq!(h.store.requests(&h.tenant).unwrap().len(), 2);
}

#[test]
fn v_3_plum_voice_uses_hosted_data_only_on_the_customer_instruction() {
    let h = with_policy(PLUM_VOICE);
    let id = routed_then_instructed(&h, "Hosted customer 42");
    let req = h.store.request(&h.tenant, id).unwrap().unwrap();
    assert!(req.state.is_closed());
}

// ---- issue 13: collection promises that hold (write gate) ----------------------

#[test]
fn v_1_a_category_accepts_only_the_sources_its_policy_lists() {
    let h = with_policy(PLUM_VOICE);
    let staff = h.staff("sales");
    let req = |source: &str| WriteRequest {
        jurisdiction: None,
        settings: Default::default(),
        consents: Vec::new(),
        records: vec![
            rec("user.name", json!("Ann"), "transactions", Some(source)),
            rec(
                "user.demographic.age_attestation",
                json!(true),
                "transactions",
                None,
            ),
        ],
    };
    // Plum Voice lists data_subject, offline and third_party for names; not partners.
    let e = h
        .vault
        .create_subject(&staff, &req("partner"), &ctx())
        .unwrap_err();
    match e {
        VaultError::Invalid(p) => {
            assert_eq!(p.len(), 1);
            assert_eq!(p[0].code, "VAULT-0202");
            assert_eq!(p[0].pointer, "/records/0/source");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.store.counts(&h.tenant).unwrap().subjects, 0);
    // Offline data is treated the same as online data (V-1).
    h.vault
        .create_subject(&staff, &req("offline"), &ctx())
        .unwrap();
}

#[test]
fn l_10_a_rectification_to_under_age_opens_an_erasure_request_and_restricts() {
    use crate::gates::{PLOOMES_SC, birth, codes, setup, with_birth_date};
    let g = setup(&with_birth_date(PLOOMES, PLOOMES_SC));
    let actor = g.staff("customer_success");
    let w = g
        .vault
        .create_subject(
            &actor,
            &birth("BR", "1990-01-01", "service_communications"),
            &ctx(),
        )
        .unwrap();
    let w = w.written();
    let e = g
        .vault
        .rectify(
            &actor,
            w.subject,
            w.records[0],
            &json!("2015-01-01"),
            &ctx(),
        )
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/value", "VAULT-0201")]);
    let row = g.store.subject(&g.tenant, w.subject).unwrap().unwrap();
    assert_eq!(row.state, custos_store::SubjectState::Restricted);
    let queue = g.vault.request_queue(&g.tenant).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].right, "erasure");
}

#[test]
fn v_5_an_impossible_birth_date_is_refused() {
    use crate::gates::{PLOOMES_SC, birth, codes, setup, with_birth_date};
    let g = setup(&with_birth_date(PLOOMES, PLOOMES_SC));
    let e = g
        .create(
            "customer_success",
            &birth("BR", "2031-01-01", "service_communications"),
        )
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/records/0/value", "VAULT-0200")]);
    assert_eq!(g.subjects(), 0);
}

#[test]
fn l_5_never_sold_is_stated_and_a_sale_recipient_fails_the_check() {
    let bundled = custos_policy::check(PLOOMES, "ploomes.toml");
    let policy = bundled.policy.expect("ploomes parses");
    assert!(policy.never_sold);
    let notice = custos_policy::notice::build(&policy);
    let text = format!("{notice:?}");
    assert!(text.contains("We never sell your personal data."), "{text}");
    let selling =
        format!("{PLOOMES}\n[recipient.data_broker]\nname = \"Data broker\"\nkind = \"sale\"\n");
    let checked = custos_policy::check(&selling, "ploomes.toml");
    assert!(
        checked
            .report
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == "POL-0100"),
        "{:?}",
        checked.report.diagnostics
    );
}

/// P0-9 (issue 13.7, 13.14): "only for the strictly necessary time". Sign-up is
/// activity, so a "3y after last activity" clock starts at collection; a customer
/// who never comes back is gone three years on — never read, exported or found
/// from the expiry on, even before the sweep, which then deletes the records.
#[test]
fn p0_9_a_customer_who_never_comes_back_is_gone_on_time() {
    use custos_core::retention::sweep;
    use custos_core::rights::add_span;
    use custos_policy::period::{Span, Unit};
    use custos_store::LifecycleStore;

    // Accounting records: 10 years from collection.
    let kept_by_law =
        |c: &str| c == "user.financial.invoice" || c == "user.financial.payment_reference";
    let h = with_policy(PLUME);
    let signed_up = h.clock.now();
    let alice = plume_customer(&h);
    let due = add_span(signed_up, Span::new(3, Unit::Years)).unwrap();
    let name = h
        .store
        .subject_records(&h.tenant, alice)
        .unwrap()
        .into_iter()
        .find(|r| r.category == "user.name")
        .unwrap();
    assert_eq!(name.expires_at, Some(due), "the clock starts at sign-up");
    let found = || {
        h.vault
            .lookup(
                &h.actor("sales_order_delivery"),
                "user.contact.email",
                "alice@example.com",
                "account",
                &ctx(),
            )
            .unwrap()
    };
    assert_eq!(found(), [alice]);
    assert!(
        values(&h, "sales_order_delivery", alice, "account")
            .iter()
            .any(|(c, _)| c == "user.name")
    );

    // She never comes back. At the expiry, before any sweep, it is gone.
    h.clock.set(due);
    let read = h
        .vault
        .read(&h.actor("sales_order_delivery"), alice, "account", &ctx())
        .unwrap();
    assert!(read.values.is_empty(), "{:?}", read.values);
    assert!(
        found().is_empty(),
        "a lookup finds nobody by an expired value"
    );
    // Nor does the privacy center sign anyone in by it.
    assert!(
        h.vault
            .find_by_contact(&h.tenant, "alice@example.com", &ctx())
            .unwrap()
            .is_none()
    );
    assert!(
        read.withheld.iter().all(|w| kept_by_law(&w.category)),
        "{:?}",
        read.withheld
    );
    let export = h
        .vault
        .export(&h.staff("sales_order_delivery"), alice, &ctx())
        .unwrap();
    assert!(
        export.records.iter().all(|r| kept_by_law(&r.category)),
        "{:?}",
        export
            .records
            .iter()
            .map(|r| &r.category)
            .collect::<Vec<_>>()
    );

    // The sweep deletes on time; what the law keeps longer stays.
    let keys = custos_crypto::KeyRing::from_keyfile(&h.key_file);
    let report = sweep(h.store.as_ref(), &keys, &h.tenant, due, 100, false).unwrap();
    assert!(report.deleted >= 3, "{report:?}");
    let left: Vec<String> = h
        .store
        .subject_records(&h.tenant, alice)
        .unwrap()
        .into_iter()
        .map(|r| r.category)
        .collect();
    assert!(left.iter().all(|c| kept_by_law(c)), "{left:?}");
}

/// P0-1 (issue 13.1): identity and contact data for the newsletter and contact
/// purposes are collected "with consent": without a current consent the write is
/// refused and nothing is kept; a write may carry the consent the person gave on
/// the client's form, recorded first with the text shown; after a withdrawal
/// collection stops at once.
#[test]
fn p0_1_consent_gates_collection_not_only_reads() {
    let h = with_policy(PLUME);
    let marketing = h.actor("marketing_communication");
    let sign_up = |consents: Vec<custos_core::vault::CarriedConsent>| WriteRequest {
        jurisdiction: Some("FR".into()),
        settings: Default::default(),
        consents,
        records: vec![rec(
            "user.contact.email",
            json!("lea@example.fr"),
            "targeted_marketing",
            None,
        )],
    };
    let e = h
        .vault
        .create_subject(&marketing, &sign_up(Vec::new()), &ctx())
        .unwrap_err();
    let VaultError::Invalid(problems) = e else {
        panic!("{e:?}")
    };
    assert_eq!(problems[0].code, "VAULT-0203");
    assert_eq!(problems[0].pointer, "/records/0/purpose");
    assert_eq!(h.store.counts(&h.tenant).unwrap().subjects, 0);

    let tick = custos_core::vault::CarriedConsent {
        purpose: "targeted_marketing".into(),
        notice_text: "Send me Plume's offers".into(),
        channel: "web".into(),
        ip: None,
        user_agent: None,
    };
    let lea = h
        .vault
        .create_subject(&marketing, &sign_up(vec![tick.clone()]), &ctx())
        .unwrap()
        .written()
        .subject;
    let record = h.vault.consent_record(&h.staff("x"), lea, &ctx()).unwrap();
    assert_eq!(record.events.len(), 1);
    assert_eq!(record.events[0].kind, "granted");
    assert_eq!(record.events[0].recorded_by, "marketing_communication");
    assert!(!values(&h, "marketing_communication", lea, "targeted_marketing").is_empty());

    consent(&h, lea, "targeted_marketing", ConsentAction::Withdraw);
    let again = WriteRequest {
        jurisdiction: None,
        ..sign_up(Vec::new())
    };
    let e = h
        .vault
        .add_records(&marketing, lea, &again, &ctx())
        .unwrap_err();
    assert!(
        matches!(&e, VaultError::Invalid(p) if p[0].code == "VAULT-0203"),
        "{e:?}"
    );
    // The contract purpose is not gated by consent.
    h.vault
        .add_records(
            &h.actor("sales_order_delivery"),
            lea,
            &WriteRequest {
                jurisdiction: None,
                records: vec![rec("user.name", json!("Léa"), "account", None)],
                ..sign_up(Vec::new())
            },
            &ctx(),
        )
        .unwrap();
}

/// V-2 and L-5 (issue 13.2): partners receive data "only if the person agrees"
/// (with express consent). The partner can never record that consent itself — not
/// through the ledger, not inside a write; the person (privacy center) can, and
/// the partner may still record a withdrawal. The ledger names who recorded each.
#[test]
fn v_2_a_partner_never_grants_itself_consent() {
    let h = with_policy(PLUM_VOICE);
    let sales = h.actor("sales");
    let person = h
        .vault
        .create_subject(
            &sales,
            &WriteRequest {
                jurisdiction: Some("US".into()),
                settings: Default::default(),
                consents: Vec::new(),
                records: vec![
                    rec("user.name", json!("Dana"), "inquiries", None),
                    rec(
                        "user.demographic.age_attestation",
                        json!(true),
                        "inquiries",
                        None,
                    ),
                ],
            },
            &ctx(),
        )
        .unwrap()
        .written()
        .subject;
    let partner = h.actor("selected_partners");
    let grant = ConsentInput {
        purpose: "partner_sharing".into(),
        action: ConsentAction::Grant,
        channel: "web".into(),
        notice_text: None,
        ip: None,
        user_agent: None,
    };
    let e = h
        .vault
        .record_consent(&partner, person, &grant, &ctx())
        .unwrap_err();
    assert!(matches!(e, VaultError::ConsentGrantNotAllowed(_)), "{e:?}");
    assert!(values(&h, "selected_partners", person, "partner_sharing").is_empty());

    let center = custos_core::self_service::privacy_center_actor(&h.tenant);
    let receipt = h
        .vault
        .record_consent(&center, person, &grant, &ctx())
        .unwrap();
    assert_eq!(receipt.recorded_by, "data_subject");
    assert!(!values(&h, "selected_partners", person, "partner_sharing").is_empty());
    let withdraw = ConsentInput {
        action: ConsentAction::Withdraw,
        ..grant
    };
    let receipt = h
        .vault
        .record_consent(&partner, person, &withdraw, &ctx())
        .unwrap();
    assert_eq!(receipt.recorded_by, "selected_partners");
    assert!(values(&h, "selected_partners", person, "partner_sharing").is_empty());

    // A policy cannot make a third party a consent relay (POL-0101).
    let relaying = PLUM_VOICE.replacen(
        "requires_consent = true # V-2",
        "requires_consent = true # V-2\nrecords_consent = true",
        1,
    );
    assert_ne!(relaying, PLUM_VOICE);
    let checked = custos_policy::check(&relaying, "plum-voice.toml");
    assert!(
        checked
            .report
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == "POL-0101"),
        "{:?}",
        checked.report.diagnostics
    );
}

/// L-11 (issue 13.6): "we'll let you know before the call that it will be recorded,
/// and you can refuse". No recording is kept unless the notice given was recorded
/// (with its own text: custos never fills in a notice nobody gave) and not refused;
/// a refusal is recorded like a withdrawal and stops the next recording.
#[test]
fn l_11_no_recording_without_the_notice_given_and_not_refused() {
    let h = with_policy(PLOOMES);
    let joao = ploomes_user(&h);
    let sales = h.actor("sales");
    let recording = |h: &H| {
        h.vault.add_records(
            &sales,
            joao,
            &WriteRequest {
                jurisdiction: None,
                settings: Default::default(),
                consents: Vec::new(),
                records: vec![rec(
                    "user.content.call_recording",
                    json!("call of 5 Dec: demo of the pipeline view"),
                    "call_recording",
                    None,
                )],
            },
            &ctx(),
        )
    };
    let code = |r: Result<custos_core::vault::WriteOutcome, VaultError>| match r {
        Err(VaultError::Invalid(p)) => p[0].code,
        other => panic!("{other:?}"),
    };
    assert_eq!(code(recording(&h)), "VAULT-0206");

    // A notice "given" without its text is refused: no receipt for a notice nobody gave.
    let center = custos_core::self_service::privacy_center_actor(&h.tenant);
    let mut told = ConsentInput {
        purpose: "call_recording".into(),
        action: ConsentAction::Grant,
        channel: "phone".into(),
        notice_text: None,
        ip: None,
        user_agent: None,
    };
    let e = h
        .vault
        .record_consent(&center, joao, &told, &ctx())
        .unwrap_err();
    assert!(
        matches!(&e, VaultError::Invalid(p) if p[0].code == "VAULT-0205" && p[0].pointer == "/notice_text"),
        "{e:?}"
    );
    // Nor is a "notice" of blanks and invisible characters.
    told.notice_text = Some(" \t\n\u{a0}\u{200b}".into());
    let e = h
        .vault
        .record_consent(&center, joao, &told, &ctx())
        .unwrap_err();
    assert!(
        matches!(&e, VaultError::Invalid(p) if p[0].code == "VAULT-0123"),
        "{e:?}"
    );
    told.notice_text = Some("This call will be recorded; say so if you refuse.".into());
    let receipt = h
        .vault
        .record_consent(&center, joao, &told, &ctx())
        .unwrap();
    assert_eq!(
        receipt.notice_text.as_deref(),
        Some("This call will be recorded; say so if you refuse.")
    );
    recording(&h).unwrap();

    // The person refuses before the next call: no more recordings.
    h.clock.advance(days(1));
    consent(&h, joao, "call_recording", ConsentAction::Withdraw);
    assert_eq!(code(recording(&h)), "VAULT-0206");
    assert!(values(&h, "sales", joao, "call_recording").is_empty());
}

/// S-1, V-3, L-1 (issue 13.11): data processed on a customer's instructions
/// serves only those instructions. Sensor readings collected for the customer's
/// service are read for that service and never for Plumsense's own R&D, whatever
/// the category; readings collected for R&D itself stay usable for it.
#[test]
fn s_1_customer_data_serves_only_the_customers_instructions() {
    let h = with_policy(PLUMSENSE);
    let ops = h.actor("operations");
    let reading = |purpose: &str| {
        rec(
            "user.device.sensor_readings",
            json!({"t": 4.2}),
            purpose,
            Some("device"),
        )
    };
    let device = create(&h, &ops, vec![reading("service_provision")]);
    assert_eq!(
        values(&h, "operations", device, "service_provision").len(),
        1
    );
    let rnd = h
        .vault
        .read(
            &h.actor("product"),
            device,
            "research_and_development",
            &ctx(),
        )
        .unwrap();
    assert!(rnd.values.is_empty(), "{:?}", rnd.values);
    assert_eq!(rnd.withheld.len(), 1);
    assert_eq!(rnd.withheld[0].reason, WithheldReason::NotForPurpose);

    // Readings Plumsense collects for its own R&D are its own to use.
    h.vault
        .add_records(
            &h.staff("product"),
            device,
            &WriteRequest {
                jurisdiction: None,
                settings: Default::default(),
                consents: Vec::new(),
                records: vec![reading("research_and_development")],
            },
            &ctx(),
        )
        .unwrap();
    let rnd = h
        .vault
        .read(
            &h.actor("product"),
            device,
            "research_and_development",
            &ctx(),
        )
        .unwrap();
    assert_eq!(rnd.values.len(), 1);
    assert_eq!(rnd.values[0].collected_for, "research_and_development");
}

/// V-5 and L-10 (issue 13.12): the age gates can fire without a date of birth. A
/// sign-up in a jurisdiction with an age limit says the person's age (a yes/no
/// attestation); "no" is refused, nothing said is refused, and the customer's own
/// people in its hosted data are the customer's to answer for.
#[test]
fn v_5_an_age_attestation_lets_the_gate_fire_at_sign_up() {
    let h = with_policy(PLUM_VOICE);
    let sales = h.actor("sales");
    let sign_up = |records: Vec<NewRecord>| WriteRequest {
        jurisdiction: Some("US".into()),
        settings: Default::default(),
        consents: Vec::new(),
        records,
    };
    let name = || rec("user.name", json!("Sam"), "inquiries", None);
    let attest = |yes: bool| {
        rec(
            "user.demographic.age_attestation",
            json!(yes),
            "inquiries",
            None,
        )
    };
    let codes = |r: Result<custos_core::vault::WriteOutcome, VaultError>| match r {
        Err(VaultError::Invalid(p)) => p.iter().map(|p| p.code).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        codes(
            h.vault
                .create_subject(&sales, &sign_up(vec![name()]), &ctx())
        ),
        ["VAULT-0207"]
    );
    // Leaving the jurisdiction out never skips the gate: the strictest limit applies.
    let unnamed = WriteRequest {
        jurisdiction: None,
        ..sign_up(vec![name()])
    };
    assert_eq!(
        codes(h.vault.create_subject(&sales, &unnamed, &ctx())),
        ["VAULT-0207"]
    );
    assert_eq!(
        codes(
            h.vault
                .create_subject(&sales, &sign_up(vec![name(), attest(false)]), &ctx())
        ),
        ["VAULT-0180"]
    );
    assert_eq!(h.store.counts(&h.tenant).unwrap().subjects, 0);
    let sam = h
        .vault
        .create_subject(&sales, &sign_up(vec![name(), attest(true)]), &ctx())
        .unwrap()
        .written()
        .subject;
    // Learning later, on any path, that the person is under age: refused, an
    // erasure request opened and the subject restricted until staff decide (L-10).
    let later = WriteRequest {
        jurisdiction: None,
        ..sign_up(vec![attest(false)])
    };
    assert_eq!(
        codes(h.vault.add_records(&sales, sam, &later, &ctx())),
        ["VAULT-0201"]
    );
    assert_eq!(
        h.store.subject(&h.tenant, sam).unwrap().unwrap().state,
        custos_store::SubjectState::Restricted
    );
    assert!(
        h.store
            .requests(&h.tenant)
            .unwrap()
            .iter()
            .any(|r| r.subject == Some(sam) && r.right == "erasure")
    );
    // Hosted data: the customer is the controller and answers for its people.
    h.vault
        .create_subject(
            &h.staff("hosting_support"),
            &sign_up(vec![rec(
                "user.hosted_data",
                json!("caller 42 pressed 1"),
                "hosted_services",
                Some("customer"),
            )]),
            &ctx(),
        )
        .unwrap();

    // A policy whose age limit has nothing to read fails its check (POL-0102).
    let silent = PLUM_VOICE.replace("\"user.demographic.age_attestation\", ", "");
    let checked = custos_policy::check(&silent, "plum-voice.toml");
    assert!(
        checked
            .report
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == "POL-0102"),
        "{:?}",
        checked.report.diagnostics
    );
}

/// P0-17, L-6 (issue 13.8): an erasure keeps only what the law requires. A
/// staff legal hold (legal claims) keeps what it covers until its end, named on
/// the receipt with its ground; a legal obligation keeps only records collected
/// for it (or the contract records it needs) — a marketing lead's e-mail goes at
/// once even though invoices keep an e-mail category.
#[test]
fn p0_17_erasure_honours_staff_holds_and_keeps_only_what_the_law_requires() {
    let h = with_policy(PLUME);
    let staff = h.staff("sales_order_delivery");
    // A marketing lead: only an e-mail for targeted marketing, with consent.
    let lead = h
        .vault
        .create_subject(
            &h.staff("marketing_communication"),
            &WriteRequest {
                jurisdiction: None,
                settings: Default::default(),
                consents: vec![custos_core::vault::CarriedConsent {
                    purpose: "targeted_marketing".into(),
                    notice_text: "Send me offers".into(),
                    channel: "web".into(),
                    ip: None,
                    user_agent: None,
                }],
                records: vec![rec(
                    "user.contact.email",
                    json!("lead@example.fr"),
                    "targeted_marketing",
                    None,
                )],
            },
            &ctx(),
        )
        .unwrap()
        .written()
        .subject;
    let receipt = h.vault.erase(&staff, lead, "lead asked", &ctx()).unwrap();
    assert!(receipt.kept.is_empty(), "{:?}", receipt.kept);

    // A customer under a staff hold for a dispute: everything stays until the
    // hold ends, readable only for the purposes allowed during restriction.
    let alice = plume_customer(&h);
    let until = h.clock.now() + days(90);
    let hold = h
        .vault
        .place_hold(&staff, alice, "dispute 2026-77", until, &ctx())
        .unwrap();
    let receipt = h
        .vault
        .erase(&staff, alice, "customer asked", &ctx())
        .unwrap();
    assert!(receipt.deleted.is_empty(), "{:?}", receipt.deleted);
    let name = receipt
        .kept
        .iter()
        .find(|k| k.category == "user.name")
        .expect("the hold keeps the name");
    assert_eq!(name.held_for, "legal_claims");
    assert!(name.reason.contains("17(3)(e)"), "{}", name.reason);
    assert!(name.reason.contains(&hold.id.to_string()));
    assert_eq!(name.until, Some(until));
    let invoice = receipt
        .kept
        .iter()
        .find(|k| k.category == "user.financial.invoice")
        .unwrap();
    assert!(invoice.reason.contains("17(3)(b)"), "{}", invoice.reason);
    assert!(invoice.until.unwrap() >= until);
    let held = h
        .vault
        .read_held(
            &h.actor("sales_order_delivery"),
            alice,
            "legal_obligations",
            &ctx(),
        )
        .unwrap();
    assert!(
        held.values
            .iter()
            .any(|v| v.category == "user.financial.invoice")
    );
}
