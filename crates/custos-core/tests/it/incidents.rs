//! Breach incidents (P0-13, V-4): blast radius from the audit log, deadlines,
//! notices per person, revoked keys, and a law-enforcement hold.

use std::sync::Arc;

use custos_core::api_keys::{KeySpec, authenticate, issue};
use custos_core::clock::{Clock, TestClock};
use custos_core::consent::NothingRecorded;
use custos_core::incidents::IncidentInput;
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::{Actor, RequestCtx, Vault};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{RequestStore, TenantId};
use custos_store_sqlite::SqliteStore;
use jiff::SignedDuration;
use serde_json::json;

use crate::harness::{POLICY, request, t0};

fn policy() -> String {
    format!(
        "{POLICY}\n[breach]\nnotify_authority = \"72h\"\nnotify_people = \"promptly\"\nchannels = [\"email\", \"fax\", \"post\"]\nlaw_enforcement_delay = true\n"
    )
}

#[test]
fn a_key_that_read_3_of_1000_subjects_affects_exactly_those_3() {
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let clock = Arc::new(TestClock::at(t0()));
    let keys = Arc::new(KeyRing::from_keyfile(&KeyFile::generate("t").unwrap()));
    let tenant = TenantId::new("acme").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Acme", t0()).unwrap();
    publish_policy(store.as_ref(), &tenant, &policy(), "p.toml", t0(), t0()).unwrap();
    let vault = Vault::new(
        Arc::clone(&store),
        Arc::clone(&keys),
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::new(NothingRecorded),
    );
    let ctx = RequestCtx::default();
    let admin = Actor {
        tenant: tenant.clone(),
        key_id: "ck_admin".into(),
        role: "admin".into(),
        purposes: vec![],
        admin: true,
    };

    let subjects: Vec<_> = (0..1000)
        .map(|i| {
            let req = request(&[
                ("user.name", json!(format!("Person {i}")), "account"),
                (
                    "user.contact.email",
                    json!(format!("p{i}@example.com")),
                    "account",
                ),
                ("user.notes", json!("note"), "account"),
            ]);
            vault
                .create_subject(&admin, &req, &ctx)
                .unwrap()
                .written()
                .subject
        })
        .collect();

    // A support key (reads name and notes for `support`) leaks; a sales key is fine.
    let spec = |role: &str| KeySpec {
        label: role.into(),
        role: role.into(),
        purposes: vec![],
        admin: false,
    };
    let leaked = issue(
        store.as_ref(),
        &keys,
        &tenant,
        &spec("support"),
        "operator",
        t0(),
    )
    .unwrap();
    let fine = issue(
        store.as_ref(),
        &keys,
        &tenant,
        &spec("sales"),
        "operator",
        t0(),
    )
    .unwrap();
    let leaked_actor = authenticate(store.as_ref(), &keys, &leaked.token).unwrap();
    let fine_actor = authenticate(store.as_ref(), &keys, &fine.token).unwrap();
    clock.advance(SignedDuration::from_hours(5));
    for s in [subjects[10], subjects[500], subjects[999]] {
        vault.read(&leaked_actor, s, "support", &ctx).unwrap();
    }
    // Before the window, and by another key: not in scope.
    vault
        .read(&fine_actor, subjects[1], "account", &ctx)
        .unwrap();
    let window_start = clock.now();
    clock.advance(SignedDuration::from_hours(-2));
    vault
        .read(&leaked_actor, subjects[2], "support", &ctx)
        .unwrap();
    clock.advance(SignedDuration::from_hours(3));

    let input = IncidentInput {
        description: "support laptop stolen with an API key".into(),
        detected_at: clock.now(),
        aware_at: None,
        key_ids: vec![leaked.key.id.clone()],
        actors: vec![],
        from: window_start
            .checked_sub(SignedDuration::from_mins(90))
            .unwrap(),
        to: clock.now(),
        categories: vec![],
        law_enforcement_hold: Some("police asked for 48 hours".into()),
    };
    let incident = vault.open_incident(&admin, &input, &ctx).unwrap();
    let mut hit: Vec<_> = incident.affected.iter().map(|a| a.subject).collect();
    hit.sort();
    let mut expected = vec![subjects[10], subjects[500], subjects[999]];
    expected.sort();
    assert_eq!(
        hit, expected,
        "exactly the three subjects read in the window"
    );
    for a in &incident.affected {
        assert_eq!(
            a.categories,
            ["user.name", "user.notes"],
            "what the support purpose released"
        );
    }
    assert_eq!(
        incident.authority_due,
        Some(
            input
                .detected_at
                .checked_add(SignedDuration::from_hours(72))
                .unwrap()
        )
    );
    assert_eq!(
        incident.channels,
        ["email", "fax", "post"],
        "email, then fax, then post (V-4)"
    );
    assert_eq!(incident.people_urgency.as_deref(), Some("promptly"));
    assert_eq!(incident.revoked_keys, std::slice::from_ref(&leaked.key.id));
    assert!(
        authenticate(store.as_ref(), &keys, &leaked.token).is_err(),
        "the leaked key no longer works"
    );

    // The hold: notices drafted, none released to people yet.
    assert_eq!(incident.notices_drafted, 3);
    assert!(!incident.notices_released);
    for s in &expected {
        let owed = store.outbox_of(&tenant, *s).unwrap();
        assert!(owed.iter().all(|m| m.kind != "breach.notice"), "held");
    }
    let due = store.due_outbox(&tenant, clock.now(), 100).unwrap();
    assert!(
        due.iter().any(|m| m.kind == "breach.authority"),
        "the authority is not held back"
    );

    clock.advance(SignedDuration::from_hours(48));
    let lifted = vault.lift_hold(&admin, incident.id, &ctx).unwrap();
    assert!(lifted.notices_released);
    for s in &expected {
        let owed = store.outbox_of(&tenant, *s).unwrap();
        let notice = owed
            .iter()
            .find(|m| m.kind == "breach.notice")
            .expect("notice released");
        assert!(notice.payload.contains("user.notes"));
    }
    assert!(
        vault.lift_hold(&admin, incident.id, &ctx).is_err(),
        "lifted once"
    );
    assert_eq!(vault.incidents(&tenant).unwrap().len(), 1);
}

#[test]
fn an_incident_needs_a_scope_and_staff() {
    let h = crate::harness::harness();
    let input = IncidentInput {
        description: " ".into(),
        detected_at: t0(),
        aware_at: None,
        key_ids: vec![],
        actors: vec![],
        from: t0(),
        to: t0().checked_sub(SignedDuration::from_hours(1)).unwrap(),
        categories: vec![],
        law_enforcement_hold: None,
    };
    let mut admin = h.actor("admin");
    admin.admin = true;
    let err = h
        .vault
        .open_incident(&admin, &input, &RequestCtx::default())
        .unwrap_err();
    let custos_core::VaultError::Invalid(list) = err else {
        panic!()
    };
    let pointers: Vec<&str> = list.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(pointers, ["/description", "/from", "/key_ids"]);
    assert!(
        h.vault
            .open_incident(&h.actor("sales"), &input, &RequestCtx::default())
            .is_err()
    );
}
