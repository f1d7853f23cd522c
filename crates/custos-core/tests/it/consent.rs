//! The consent ledger (L-7, L-9, V-2, L-5): decisions append events; reads follow the
//! latest; withdrawal is not retroactive and leaves other lawful bases alone.

use custos_core::VaultError;
use custos_core::vault::consent::{ConsentAction, ConsentInput};
use custos_core::vault::{RequestCtx, WithheldReason};
use custos_store::{ConsentStore, Store};
use jiff::SignedDuration;

use crate::harness::harness_with_ledger;

fn input(purpose: &str, action: ConsentAction) -> ConsentInput {
    ConsentInput {
        purpose: purpose.into(),
        action,
        channel: "web".into(),
        notice_text: None,
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0".into()),
    }
}

#[test]
fn grant_opens_the_consent_purpose_and_withdrawal_closes_it_from_then_on() {
    let h = harness_with_ledger();
    let alice = h.alice();
    let marketing = h.actor("marketing");
    let read = || {
        h.vault
            .read(&marketing, alice, "newsletter", &RequestCtx::default())
            .unwrap()
    };
    assert!(read().values.is_empty());

    let receipt = h
        .vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("newsletter", ConsentAction::Grant),
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(receipt.kind, "granted");
    assert_eq!(receipt.policy_version, 1);
    assert!(receipt.ip_hashed);
    assert_eq!(read().values.len(), 2);

    h.clock.advance(SignedDuration::from_hours(24));
    h.vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("newsletter", ConsentAction::Withdraw),
            &RequestCtx::default(),
        )
        .unwrap();
    let out = read();
    assert!(out.values.is_empty());
    assert!(
        out.withheld
            .iter()
            .all(|w| w.reason == WithheldReason::ConsentWithdrawn)
    );
    // Not retroactive: the grant stays in the ledger, with its time.
    let events = h.store.consent_events(&h.tenant, alice).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].at < events[1].at);
    // Another lawful basis continues (L-7).
    assert_eq!(
        h.vault
            .read(
                &h.actor("support"),
                alice,
                "support",
                &RequestCtx::default()
            )
            .unwrap()
            .values
            .len(),
        2
    );
}

#[test]
fn consent_does_not_apply_to_other_bases_and_objection_only_to_interests() {
    let h = harness_with_ledger();
    let alice = h.alice();
    let err = h
        .vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("account", ConsentAction::Withdraw),
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid(ref l) if l[0].code == "VAULT-0120"),
        "{err:?}"
    );
    let err = h
        .vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("newsletter", ConsentAction::Object),
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert!(
        matches!(err, VaultError::Invalid(ref l) if l[0].code == "VAULT-0121"),
        "{err:?}"
    );

    h.vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("profiling", ConsentAction::Object),
            &RequestCtx::default(),
        )
        .unwrap();
    let out = h
        .vault
        .read(
            &h.actor("marketing"),
            alice,
            "profiling",
            &RequestCtx::default(),
        )
        .unwrap();
    assert!(out.values.is_empty());
    h.vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("profiling", ConsentAction::LiftObjection),
            &RequestCtx::default(),
        )
        .unwrap();
    assert!(
        !h.vault
            .read(
                &h.actor("marketing"),
                alice,
                "profiling",
                &RequestCtx::default()
            )
            .unwrap()
            .values
            .is_empty()
    );
}

#[test]
fn bad_input_is_refused_with_every_problem_and_nothing_recorded() {
    let h = harness_with_ledger();
    let alice = h.alice();
    let mut bad = input("newsletter", ConsentAction::Grant);
    bad.channel = "carrier_pigeon".into();
    bad.ip = Some("not-an-ip".into());
    bad.user_agent = Some("x".repeat(600));
    let err = h
        .vault
        .record_consent(&h.actor("sales"), alice, &bad, &RequestCtx::default())
        .unwrap_err();
    let VaultError::Invalid(list) = err else {
        panic!()
    };
    let pointers: Vec<&str> = list.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(pointers, ["/channel", "/ip", "/user_agent"]);
    assert!(h.store.consent_events(&h.tenant, alice).unwrap().is_empty());
    assert!(matches!(
        h.vault.record_consent(
            &h.actor("sales"),
            alice,
            &input("nosuch", ConsentAction::Grant),
            &RequestCtx::default()
        ),
        Err(VaultError::UnknownPurpose(_))
    ));
    let ghost = custos_store::SubjectId(custos_store::Uuid::now_v7());
    assert!(matches!(
        h.vault.record_consent(
            &h.actor("sales"),
            ghost,
            &input("newsletter", ConsentAction::Grant),
            &RequestCtx::default()
        ),
        Err(VaultError::SubjectNotFound)
    ));
}

#[test]
fn receipts_carry_the_notice_text_and_its_hash() {
    let h = harness_with_ledger();
    let alice = h.alice();
    h.vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("newsletter", ConsentAction::Grant),
            &RequestCtx::default(),
        )
        .unwrap();
    let mut own = input("newsletter", ConsentAction::Withdraw);
    own.notice_text = Some("Our own banner text".into());
    h.vault
        .record_consent(&h.actor("sales"), alice, &own, &RequestCtx::default())
        .unwrap();
    let record = h
        .vault
        .consent_record(&h.actor("sales"), alice, &RequestCtx::default())
        .unwrap();
    let text = record.events[0].notice_text.as_deref().unwrap();
    assert!(
        text.contains("Newsletter") && text.contains("your consent"),
        "{text}"
    );
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        record.events[0].notice_hash, hash,
        "the hash proves which text was shown"
    );
    assert_eq!(
        record.events[1].notice_text, None,
        "a client's text is kept only as its hash"
    );
    let newsletter = record
        .current
        .iter()
        .find(|p| p.purpose == "newsletter")
        .unwrap();
    assert_eq!(newsletter.consent, "withdrawn");
    let account = record
        .current
        .iter()
        .find(|p| p.purpose == "account")
        .unwrap();
    assert_eq!(account.consent, "not_needed");
    let shown = serde_json::to_string(&record).unwrap();
    assert!(
        !shown.contains("203.0.113.7"),
        "the IP itself is never kept"
    );
}

#[test]
fn unsubscribe_tokens_work_without_login_and_cannot_be_forged() {
    let h = harness_with_ledger();
    let alice = h.alice();
    let bob = h.alice();
    h.vault
        .record_consent(
            &h.actor("sales"),
            alice,
            &input("newsletter", ConsentAction::Grant),
            &RequestCtx::default(),
        )
        .unwrap();
    let token = h
        .vault
        .unsubscribe_token(&h.tenant, alice, "newsletter")
        .unwrap();
    // Forgeries: another subject, another purpose, a changed MAC.
    let forged_subject = token.replace(&alice.to_string(), &bob.to_string());
    let forged_purpose = token.replace("newsletter", "profiling");
    let mut forged_mac = token.clone();
    let last = forged_mac.pop().unwrap();
    forged_mac.push(if last == '0' { '1' } else { '0' });
    for bad in [
        forged_subject.as_str(),
        forged_purpose.as_str(),
        forged_mac.as_str(),
        "",
        "a~b~c~d",
    ] {
        assert!(
            matches!(h.vault.unsubscribe(bad, None), Err(VaultError::BadToken)),
            "{bad}"
        );
    }
    let receipt = h
        .vault
        .unsubscribe(&token, Some("MailClient/1.0".into()))
        .unwrap();
    assert_eq!(receipt.kind, "withdrawn");
    assert_eq!(receipt.channel, "email_link");
    let entry = h
        .store
        .audit_entries(&h.tenant, h.audit_len(), 1)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(entry.draft.action, "consent.withdrawn");
    assert_eq!(entry.draft.actor, "key:unsubscribe-link");
    let out = h
        .vault
        .read(
            &h.actor("marketing"),
            alice,
            "newsletter",
            &RequestCtx::default(),
        )
        .unwrap();
    assert!(out.values.is_empty());
}

#[test]
fn a_gpc_signal_withdraws_only_consents_that_share_with_third_parties() {
    let h = harness_with_ledger();
    let alice = h.alice();
    for p in ["newsletter", "partner_offers"] {
        h.vault
            .record_consent(
                &h.actor("sales"),
                alice,
                &input(p, ConsentAction::Grant),
                &RequestCtx::default(),
            )
            .unwrap();
    }
    let withdrawn = h
        .vault
        .opt_out_signal(&h.actor("sales"), alice, &RequestCtx::default())
        .unwrap();
    assert_eq!(withdrawn, ["partner_offers"]);
    let partner = h
        .vault
        .read(
            &h.actor("partner"),
            alice,
            "partner_offers",
            &RequestCtx::default(),
        )
        .unwrap();
    assert!(
        partner.values.is_empty(),
        "the partner no longer receives the email"
    );
    let own = h
        .vault
        .read(
            &h.actor("marketing"),
            alice,
            "newsletter",
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(own.values.len(), 2, "first-party consent stays");
    let last = h
        .store
        .consent_events(&h.tenant, alice)
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.channel, "gpc", "recorded as a signal, not as a click");
}
