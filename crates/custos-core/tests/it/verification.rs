//! One-time codes to a contact custos holds: expiring, limited, constant-time checked.

use custos_core::VaultError;
use custos_core::vault::RequestCtx;
use custos_core::verification::{MAX_ATTEMPTS, MAX_PER_HOUR};
use custos_store::{RequestStore, SubjectId, VerificationStore};
use jiff::SignedDuration;

use crate::harness::{H, harness};

/// The code as the sink would send it: from the outbox message, the only place it exists.
fn sent_code(h: &H, subject: SubjectId) -> String {
    let msgs = h.store.outbox_of(&h.tenant, subject).unwrap();
    let m = msgs
        .iter()
        .rev()
        .find(|m| m.kind == "verification.code")
        .expect("a code was sent");
    let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
    v["code"].as_str().unwrap().to_owned()
}

fn wrong(code: &str) -> String {
    let last = code.chars().last().unwrap();
    format!("{}{}", &code[..5], if last == '0' { '1' } else { '0' })
}

#[test]
fn the_right_code_verifies_once_and_only_the_hash_is_stored() {
    let h = harness();
    let alice = h.alice();
    let staff = h.actor("sales");
    let ctx = RequestCtx::default();
    let started = h
        .vault
        .start_verification(&staff, alice, "user.contact.email", &ctx)
        .unwrap();
    let code = sent_code(&h, alice);
    assert_eq!(code.len(), 6);
    let stored = h
        .store
        .challenge(&h.tenant, started.challenge)
        .unwrap()
        .unwrap();
    assert!(
        !format!("{stored:?}").contains(&code),
        "the code itself is not stored"
    );

    let ok = h
        .vault
        .check_verification(&staff, started.challenge, &code, &ctx)
        .unwrap();
    assert!(ok.verified);
    assert_eq!(ok.subject, Some(alice));
    let again = h
        .vault
        .check_verification(&staff, started.challenge, &code, &ctx)
        .unwrap();
    assert!(!again.verified, "a code works once");
}

#[test]
fn wrong_codes_spend_attempts_and_a_used_up_challenge_never_verifies() {
    let h = harness();
    let alice = h.alice();
    let staff = h.actor("sales");
    let ctx = RequestCtx::default();
    let started = h
        .vault
        .start_verification(&staff, alice, "user.contact.email", &ctx)
        .unwrap();
    let code = sent_code(&h, alice);
    for left in (0..MAX_ATTEMPTS).rev() {
        let r = h
            .vault
            .check_verification(&staff, started.challenge, &wrong(&code), &ctx)
            .unwrap();
        assert!(!r.verified);
        assert_eq!(r.attempts_left, left);
    }
    assert!(
        !h.vault
            .check_verification(&staff, started.challenge, &code, &ctx)
            .unwrap()
            .verified
    );
    // Malformed input is a wrong guess, not an error.
    let s2 = h
        .vault
        .start_verification(&staff, alice, "user.contact.email", &ctx)
        .unwrap();
    for bad in ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"] {
        assert!(
            !h.vault
                .check_verification(&staff, s2.challenge, bad, &ctx)
                .unwrap()
                .verified
        );
    }
}

#[test]
fn codes_expire_after_ten_minutes() {
    let h = harness();
    let alice = h.alice();
    let staff = h.actor("sales");
    let ctx = RequestCtx::default();
    let started = h
        .vault
        .start_verification(&staff, alice, "user.contact.phone", &ctx)
        .unwrap();
    let code = sent_code(&h, alice);
    h.clock.advance(SignedDuration::from_mins(11));
    assert!(
        !h.vault
            .check_verification(&staff, started.challenge, &code, &ctx)
            .unwrap()
            .verified
    );
}

#[test]
fn at_most_five_codes_per_hour_per_subject() {
    let h = harness();
    let alice = h.alice();
    let staff = h.actor("sales");
    let ctx = RequestCtx::default();
    for _ in 0..MAX_PER_HOUR {
        h.vault
            .start_verification(&staff, alice, "user.contact.email", &ctx)
            .unwrap();
    }
    assert!(matches!(
        h.vault
            .start_verification(&staff, alice, "user.contact.email", &ctx),
        Err(VaultError::TooManyAttempts)
    ));
    h.clock.advance(SignedDuration::from_mins(61));
    assert!(
        h.vault
            .start_verification(&staff, alice, "user.contact.email", &ctx)
            .is_ok()
    );
}

#[test]
fn codes_go_only_to_a_contact_custos_holds() {
    let h = harness();
    let staff = h.actor("sales");
    let ctx = RequestCtx::default();
    let req = crate::harness::request(&[("user.name", serde_json::json!("No Contact"), "account")]);
    let bob = h
        .vault
        .create_subject(&staff, &req, &ctx)
        .unwrap()
        .written()
        .subject;
    assert!(matches!(
        h.vault.start_verification(&staff, bob, "user.contact.email", &ctx),
        Err(VaultError::Invalid(ref l)) if l[0].code == "VAULT-0141"
    ));
    let alice = h.alice();
    assert!(matches!(
        h.vault.start_verification(&staff, alice, "user.name", &ctx),
        Err(VaultError::Invalid(ref l)) if l[0].code == "VAULT-0140"
    ));
    let ghost = SubjectId(custos_store::Uuid::now_v7());
    assert!(matches!(
        h.vault
            .start_verification(&staff, ghost, "user.contact.email", &ctx),
        Err(VaultError::SubjectNotFound)
    ));
}
