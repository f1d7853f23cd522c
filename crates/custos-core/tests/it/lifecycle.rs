//! Rectification (P0-11), restriction (P0-16, L-6) and erasure with legal holds
//! (P0-17, P0-10, L-7) — issue 4's "an erased subject" done-when, on the Plume
//! SASU policy, whose `legal_obligations` purpose keeps payment references and
//! invoices.

use std::sync::Arc;

use custos_core::VaultError;
use custos_core::clock::{Clock, TestClock};
use custos_core::consent::NothingRecorded;
use custos_core::keys::rewrap_tenant;
use custos_core::rights::{NewRequest, RequestAction};
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::consent::{ConsentAction, ConsentInput};
use custos_core::vault::lifecycle::RECORD_NOT_FOUND;
use custos_core::vault::{Actor, NewRecord, RequestCtx, Vault, WriteRequest};
use custos_crypto::{Aad, CryptoError, KeyFile, KeyRing, open, unwrap_dek};
use custos_policy::model::Right;
use custos_store::{LifecycleStore, Store, SubjectId, SubjectState, TenantId};
use custos_store_sqlite::SqliteStore;
use serde_json::{Value, json};

use crate::harness::{harness, request, t0};

const PLUME: &str = include_str!("../../../../policies/plume-sasu.toml");

struct P {
    vault: Vault<SqliteStore>,
    store: Arc<SqliteStore>,
    clock: Arc<TestClock>,
    key_file: KeyFile,
    tenant: TenantId,
}

fn plume() -> P {
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let clock = Arc::new(TestClock::at(t0()));
    let key_file = KeyFile::generate("2026-03-01").unwrap();
    let tenant = TenantId::new("plume").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Plume SASU", t0()).unwrap();
    publish_policy(store.as_ref(), &tenant, PLUME, "plume.toml", t0(), t0()).unwrap();
    let vault = vault_with(&store, &clock, &key_file);
    P {
        vault,
        store,
        clock,
        key_file,
        tenant,
    }
}

fn vault_with(
    store: &Arc<SqliteStore>,
    clock: &Arc<TestClock>,
    kf: &KeyFile,
) -> Vault<SqliteStore> {
    Vault::new(
        Arc::clone(store),
        Arc::new(KeyRing::from_keyfile(kf)),
        Arc::clone(clock) as Arc<dyn Clock>,
        Arc::new(NothingRecorded),
    )
}

impl P {
    fn actor(&self, role: &str, admin: bool) -> Actor {
        Actor {
            tenant: self.tenant.clone(),
            key_id: format!("ck_{role}"),
            role: role.to_owned(),
            purposes: Vec::new(),
            admin,
        }
    }
    fn staff(&self) -> Actor {
        self.actor("sales_order_delivery", true)
    }
    fn sales(&self) -> Actor {
        self.actor("sales_order_delivery", false)
    }
    fn customer(&self, email: &str, name: &str) -> SubjectId {
        let rec = |category: &str, value: Value, purpose: &str, source: Option<&str>| NewRecord {
            category: category.into(),
            value,
            purpose: purpose.into(),
            source: source.map(str::to_owned),
        };
        let req = WriteRequest {
            jurisdiction: None,
            settings: Default::default(),
            consents: Vec::new(),
            records: vec![
                rec("user.name", json!(name), "account", None),
                rec("user.contact.email", json!(email), "account", None),
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
        };
        self.vault
            .create_subject(&self.staff(), &req, &RequestCtx::default())
            .unwrap()
            .written()
            .subject
    }
    fn read(
        &self,
        s: SubjectId,
        purpose: &str,
    ) -> Result<custos_core::vault::ReadOutcome, VaultError> {
        self.vault
            .read(&self.sales(), s, purpose, &RequestCtx::default())
    }
}

fn values(out: &custos_core::vault::ReadOutcome) -> Vec<(String, Value)> {
    out.values
        .iter()
        .map(|v| (v.category.clone(), v.value.clone()))
        .collect()
}

// --- rectification -------------------------------------------------------------------

#[test]
fn rectification_changes_what_reads_return_and_audits_without_the_value() {
    let h = harness();
    let alice = h.alice();
    let ctx = RequestCtx::default();
    let sales = h.actor("sales");
    let before = h.vault.read(&sales, alice, "account", &ctx).unwrap();
    let notes = before
        .values
        .iter()
        .find(|v| v.category == "user.notes")
        .unwrap();
    let old_cipher = h
        .store
        .subject_records(&h.tenant, alice)
        .unwrap()
        .into_iter()
        .find(|r| r.id == notes.record)
        .unwrap()
        .ciphertext;

    let done = h
        .vault
        .rectify(
            &sales,
            alice,
            notes.record,
            &json!("prefers evenings"),
            &ctx,
        )
        .unwrap();
    assert_eq!(done.category, "user.notes");

    let after = h.vault.read(&sales, alice, "account", &ctx).unwrap();
    let v = after
        .values
        .iter()
        .find(|v| v.record == notes.record)
        .unwrap();
    assert_eq!(v.value, json!("prefers evenings"));
    // Same record, same collection date (retention unchanged); the old ciphertext is gone.
    assert_eq!(v.collected_at, notes.collected_at);
    assert_eq!(after.values.len(), before.values.len());
    let stored = h.store.subject_records(&h.tenant, alice).unwrap();
    assert!(stored.iter().all(|r| r.ciphertext != old_cipher));

    // Audited with the category and the purpose, never the value.
    let entries = h.store.audit_entries(&h.tenant, 1, 1000).unwrap();
    let e = entries.iter().find(|e| e.seq == done.audit_seq).unwrap();
    assert_eq!(e.draft.action, "rectify");
    assert_eq!(e.draft.categories, vec!["user.notes".to_owned()]);
    assert_eq!(e.draft.purpose.as_deref(), Some("account"));
    let all = format!("{entries:?}");
    assert!(!all.contains("evenings") && !all.contains("mornings"));
}

#[test]
fn rectification_is_validated_like_a_write() {
    let h = harness();
    let alice = h.alice();
    let ctx = RequestCtx::default();
    let sales = h.actor("sales");
    let read = h.vault.read(&sales, alice, "account", &ctx).unwrap();
    let rec = |c: &str| read.values.iter().find(|v| v.category == c).unwrap().record;
    let code = |r: Result<_, VaultError>| match r {
        Err(VaultError::Invalid(list)) => list
            .iter()
            .map(|f| format!("{} {}", f.pointer, f.code))
            .collect::<Vec<_>>(),
        other => panic!("expected Invalid, got {other:?}"),
    };
    // A card number hidden in free text, a malformed email, an unknown record.
    assert_eq!(
        code(h.vault.rectify(
            &sales,
            alice,
            rec("user.notes"),
            &json!("card 4111 1111 1111 1111"),
            &ctx
        )),
        vec!["/value VAULT-0103"]
    );
    assert_eq!(
        code(h.vault.rectify(
            &sales,
            alice,
            rec("user.contact.email"),
            &json!("not-an-email"),
            &ctx
        )),
        vec!["/value VAULT-0105"]
    );
    let unknown = custos_store::RecordId(custos_store::Uuid::now_v7());
    assert_eq!(
        code(h.vault.rectify(&sales, alice, unknown, &json!("x"), &ctx)),
        vec![format!("/record {RECORD_NOT_FOUND}")]
    );
    // A role that does not receive the record's purpose may not change it (audited denial).
    let before = h.audit_len();
    let err = h
        .vault
        .rectify(
            &h.actor("marketing"),
            alice,
            rec("user.notes"),
            &json!("x"),
            &ctx,
        )
        .unwrap_err();
    assert!(
        matches!(err, VaultError::PurposeNotPermitted { .. }),
        "{err:?}"
    );
    assert_eq!(h.audit_len(), before + 1);
    // Nothing changed.
    let again = h.vault.read(&sales, alice, "account", &ctx).unwrap();
    assert_eq!(again.values, read.values);
}

#[test]
fn rectifying_an_email_moves_its_lookup() {
    let h = harness();
    let alice = h.alice();
    let ctx = RequestCtx::default();
    let sales = h.actor("sales");
    let email = h
        .vault
        .read(&sales, alice, "account", &ctx)
        .unwrap()
        .values
        .into_iter()
        .find(|v| v.category == "user.contact.email")
        .unwrap();
    h.vault
        .rectify(
            &sales,
            alice,
            email.record,
            &json!("Alice.M@Example.org"),
            &ctx,
        )
        .unwrap();
    let find = |v: &str| {
        h.vault
            .lookup(&sales, "user.contact.email", v, "account", &ctx)
            .unwrap()
    };
    assert!(find("alice@example.com").is_empty());
    assert_eq!(find("alice.m@example.org"), vec![alice]);
}

// --- restriction ---------------------------------------------------------------------

#[test]
fn restriction_blocks_every_purpose_but_legal_ones_and_lifting_restores_reads() {
    let p = plume();
    let s = p.customer("alice@example.com", "Alice Martin");
    let ctx = RequestCtx::default();

    // Only staff (admin keys) restrict.
    let err = p.vault.restrict(&p.sales(), s, &ctx).unwrap_err();
    assert!(matches!(err, VaultError::PurposeNotPermitted { .. }));

    let changed = p.vault.restrict(&p.staff(), s, &ctx).unwrap();
    assert_eq!(changed.state, "restricted");
    assert_eq!(
        p.store.subject(&p.tenant, s).unwrap().unwrap().state,
        SubjectState::Restricted
    );
    for purpose in ["account", "payment_and_delivery", "maintenance_and_repair"] {
        let out = p.read(s, purpose).unwrap();
        assert!(out.values.is_empty(), "{purpose} read restricted data");
        assert!(
            out.withheld
                .iter()
                .all(|w| w.reason == custos_core::vault::WithheldReason::Restricted),
            "{purpose}: {:?}",
            out.withheld
        );
    }
    // The legal-obligation purpose (during_restriction = true) still reads what it needs.
    let legal = p.read(s, "legal_obligations").unwrap();
    let mut cats: Vec<String> = legal.values.iter().map(|v| v.category.clone()).collect();
    cats.sort();
    assert_eq!(
        cats,
        vec!["user.financial.invoice", "user.financial.payment_reference"]
    );
    // Rectification stays possible while restricted (Art. 18(1)(a): accuracy contested).
    let name = p
        .store
        .subject_records(&p.tenant, s)
        .unwrap()
        .into_iter()
        .find(|r| r.category == "user.name")
        .unwrap();
    p.vault
        .rectify(&p.staff(), s, name.id, &json!("Alice Durand"), &ctx)
        .unwrap();

    let lifted = p.vault.lift_restriction(&p.staff(), s, &ctx).unwrap();
    assert_eq!(lifted.state, "active");
    let account = p.read(s, "account").unwrap();
    assert!(values(&account).contains(&("user.name".into(), json!("Alice Durand"))));
    assert!(
        account
            .withheld
            .iter()
            .all(|w| w.reason == custos_core::vault::WithheldReason::NotForPurpose),
        "{:?}",
        account.withheld
    );
}

// --- erasure -------------------------------------------------------------------------

#[test]
fn an_erased_subject_is_gone_its_backup_unreadable_and_legal_holds_kept_apart() {
    let mut p = plume();
    let ctx = RequestCtx::default();
    let alice = p.customer("alice@example.com", "Alice Martin");
    let bob = p.customer("bob@example.com", "Bob Durand");
    let collected = t0();
    p.clock.advance(jiff::SignedDuration::from_hours(24 * 30));

    // The person asks for erasure (P0-17), through a tracked request.
    let req = p
        .vault
        .open_request(
            &p.staff(),
            &NewRequest {
                right: Right::Erasure,
                subject: Some(alice),
                jurisdiction: None,
                channel: "privacy_center".into(),
                on_behalf_of: None,
            },
            &ctx,
        )
        .unwrap();
    p.vault
        .act_on_request(&p.staff(), req.id, &RequestAction::Verify, &ctx)
        .unwrap();

    // A backup taken before the erasure: the record rows and the wrapped data key.
    let backup_subject = p.store.subject(&p.tenant, alice).unwrap().unwrap();
    let backup_records = p.store.subject_records(&p.tenant, alice).unwrap();
    assert_eq!(backup_records.len(), 5);

    // Only staff erase, and a reason is required.
    assert!(matches!(
        p.vault.erase(&p.sales(), alice, "asked", &ctx),
        Err(VaultError::PurposeNotPermitted { .. })
    ));
    assert!(matches!(
        p.vault.erase(&p.staff(), alice, "  ", &ctx),
        Err(VaultError::Invalid(_))
    ));

    let receipt = p
        .vault
        .erase(&p.staff(), alice, "erasure request from the person", &ctx)
        .unwrap();
    assert_eq!(receipt.subject, alice);
    assert_eq!(receipt.erased_at, p.clock.now());
    assert_eq!(
        receipt.deleted,
        vec![
            "user.contact.email",
            "user.contact.phone_number",
            "user.name"
        ]
    );
    let ten_years = collected
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().years(10))
        .unwrap()
        .timestamp();
    let kept: Vec<(&str, &str, Option<jiff::Timestamp>, usize)> = receipt
        .kept
        .iter()
        .map(|k| (k.category.as_str(), k.held_for.as_str(), k.until, k.records))
        .collect();
    assert_eq!(
        kept,
        vec![
            (
                "user.financial.invoice",
                "legal_obligations",
                Some(ten_years),
                1
            ),
            (
                "user.financial.payment_reference",
                "legal_obligations",
                Some(ten_years),
                1
            ),
        ]
    );
    assert!(receipt.kept.iter().all(|k| k.reason.contains("L123-22")));
    // The receipt names categories only.
    let shown = serde_json::to_string(&receipt).unwrap();
    for secret in ["Alice", "alice@", "pay_7Hq2Zr81", "F-2026-0042", "+336"] {
        assert!(!shown.contains(secret), "receipt carries {secret}");
    }
    // The request is then fulfilled (separate step: erasure is its own call).
    let done = p
        .vault
        .act_on_request(&p.staff(), req.id, &RequestAction::Fulfil, &ctx)
        .unwrap();
    assert_eq!(done.state, "fulfilled");

    // Not readable by any purpose, for any role.
    let policy = custos_policy::load(PLUME, "plume.toml").unwrap().policy;
    let roles: Vec<String> = policy.recipient.keys().cloned().collect();
    for role in &roles {
        for purpose in policy.purpose.keys() {
            let actor = p.actor(role, false);
            match p.vault.read(&actor, alice, purpose, &ctx) {
                Ok(out) => panic!("{role}/{purpose} read an erased subject: {out:?}"),
                Err(
                    VaultError::SubjectErased
                    | VaultError::PurposeNotPermitted { .. }
                    | VaultError::KeyScope(_),
                ) => {}
                Err(other) => panic!("{role}/{purpose}: {other:?}"),
            }
        }
    }
    assert!(matches!(
        p.read(alice, "legal_obligations"),
        Err(VaultError::SubjectErased)
    ));
    // Absent from exports and lookups; no more writes or consent for it.
    assert!(matches!(
        p.vault.export(&p.staff(), alice, &ctx),
        Err(VaultError::SubjectErased)
    ));
    for (cat, v) in [
        ("user.contact.email", "alice@example.com"),
        ("user.contact.phone_number", "+33612345678"),
    ] {
        let found = p.vault.lookup(&p.sales(), cat, v, "account", &ctx).unwrap();
        assert!(
            !found.contains(&alice),
            "{cat} still finds the erased subject"
        );
    }
    assert!(matches!(
        p.vault.add_records(
            &p.staff(),
            alice,
            &request(&[("user.name", json!("Alice"), "account")]),
            &ctx
        ),
        Err(VaultError::SubjectErased)
    ));
    let consent = ConsentInput {
        purpose: "targeted_marketing".into(),
        action: ConsentAction::Grant,
        channel: "web".into(),
        notice_text: None,
        ip: None,
        user_agent: None,
    };
    assert!(matches!(
        p.vault.record_consent(&p.sales(), alice, &consent, &ctx),
        Err(VaultError::SubjectNotFound)
    ));
    assert!(matches!(
        p.vault.restrict(&p.staff(), alice, &ctx),
        Err(VaultError::SubjectErased)
    ));
    assert!(matches!(
        p.vault.erase(&p.staff(), alice, "again", &ctx),
        Err(VaultError::SubjectErased)
    ));

    // The live store holds no record, index entry or key for it any more.
    assert!(
        p.store
            .subject_records(&p.tenant, alice)
            .unwrap()
            .is_empty()
    );
    let row = p.store.subject(&p.tenant, alice).unwrap().unwrap();
    assert_eq!(row.state, SubjectState::Erased);
    assert!(
        row.wrapped_dek.is_empty(),
        "the wrapped key was not shredded"
    );
    let tenant = p.tenant.as_str().to_owned();
    let aad = Aad::subject(&tenant, &alice.to_string()).unwrap();
    let ring = KeyRing::from_keyfile(&p.key_file);
    assert!(
        unwrap_dek(
            &ring.kek(&tenant, row.kek_version).unwrap(),
            &row.wrapped_dek,
            &aad
        )
        .is_err()
    );

    // The backup: until the master key version that wrapped the key is retired, the
    // backup's own copy of the wrapped key still opens under the key file — so
    // retire it. Rotation rewraps every live subject; the erased one has no key left.
    assert!(
        unwrap_dek(
            &ring.current_kek(&tenant).unwrap(),
            &backup_subject.wrapped_dek,
            &aad
        )
        .is_ok()
    );
    let old_version = p.key_file.current_version();
    p.key_file.rotate("2026-04-01").unwrap();
    let rotated = KeyRing::from_keyfile(&p.key_file);
    let moved = rewrap_tenant(p.store.as_ref(), &rotated, &p.tenant, 100, p.clock.now()).unwrap();
    assert_eq!(moved, 1, "only Bob's key is rewrapped");
    p.key_file.remove_master_key(old_version).unwrap();
    let ring = KeyRing::from_keyfile(&p.key_file);
    assert!(matches!(
        ring.kek(&tenant, backup_subject.kek_version),
        Err(CryptoError::UnknownKeyVersion(_))
    ));
    assert!(
        unwrap_dek(
            &ring.current_kek(&tenant).unwrap(),
            &backup_subject.wrapped_dek,
            &aad
        )
        .is_err()
    );
    // No key the instance holds opens the backup's values: not the tenant's KEK as a
    // data key, not the hold key.
    let hold = ring.hold_key(&tenant).unwrap();
    for r in &backup_records {
        let aad = Aad::new(&tenant, &alice.to_string(), &r.category, &r.id.to_string()).unwrap();
        assert!(open(&hold, &aad, &r.ciphertext).is_err());
    }
    p.vault = vault_with(&p.store, &p.clock, &p.key_file);

    // Bob is untouched and readable with the rotated keys.
    let bob_read = p.read(bob, "account").unwrap();
    assert!(values(&bob_read).contains(&("user.name".into(), json!("Bob Durand"))));

    // The legal holds: still there, isolated, readable only for legal_obligations.
    let held = p
        .vault
        .read_held(&p.sales(), alice, "legal_obligations", &ctx)
        .unwrap();
    let mut got: Vec<(String, Value, Option<jiff::Timestamp>)> = held
        .values
        .iter()
        .map(|v| (v.category.clone(), v.value.clone(), v.until))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            (
                "user.financial.invoice".into(),
                json!("Invoice F-2026-0042, 129.00 EUR"),
                Some(ten_years)
            ),
            (
                "user.financial.payment_reference".into(),
                json!("pay_7Hq2Zr81"),
                Some(ten_years)
            ),
        ]
    );
    assert!(
        held.values
            .iter()
            .all(|v| v.held_for == "legal_obligations")
    );
    for purpose in ["account", "payment_and_delivery"] {
        assert!(matches!(
            p.vault.read_held(&p.sales(), alice, purpose, &ctx),
            Err(VaultError::PurposeNotPermitted { .. })
        ));
    }
    // A role that is no recipient of legal_obligations cannot read the hold either.
    assert!(matches!(
        p.vault.read_held(
            &p.actor("technical_services", false),
            alice,
            "legal_obligations",
            &ctx
        ),
        Err(VaultError::PurposeNotPermitted { .. })
    ));

    // Every step audited, no value in the log.
    let entries = p.store.audit_entries(&p.tenant, 1, 10_000).unwrap();
    let erase = entries.iter().find(|e| e.draft.action == "erase").unwrap();
    assert_eq!(erase.draft.subject, Some(alice));
    assert!(entries.iter().any(|e| e.draft.action == "read_held"));
    let log = format!("{entries:?}");
    for secret in [
        "Alice",
        "alice@",
        "pay_7Hq2Zr81",
        "F-2026-0042",
        "+336",
        "erasure request from",
    ] {
        assert!(!log.contains(secret), "audit log carries {secret}");
    }

    // When the hold ends, the held records go too.
    assert_eq!(p.vault.purge_expired_holds(&p.tenant).unwrap(), 0);
    p.clock
        .advance(jiff::SignedDuration::from_hours(24 * 366 * 10));
    assert_eq!(p.vault.purge_expired_holds(&p.tenant).unwrap(), 2);
    assert!(
        p.vault
            .read_held(&p.sales(), alice, "legal_obligations", &ctx)
            .unwrap()
            .values
            .is_empty()
    );
}

#[test]
fn erasing_a_subject_without_held_categories_keeps_nothing() {
    let h = harness();
    let alice = h.alice();
    let mut staff = h.actor("sales");
    staff.admin = true;
    let receipt = h
        .vault
        .erase(&staff, alice, "asked by the person", &RequestCtx::default())
        .unwrap();
    assert!(receipt.kept.is_empty());
    assert_eq!(receipt.deleted.len(), 4);
    assert!(matches!(
        h.vault
            .read(&h.actor("sales"), alice, "account", &RequestCtx::default()),
        Err(VaultError::SubjectErased)
    ));
}

/// P0-17 (issue 13.9): the confirmation's preview changes nothing and is what the
/// erasure does; fulfilling the erasure request erases and the person's notice
/// says so, naming what the law keeps and until when (categories, never values).
#[test]
fn a_fulfilled_erasure_tells_the_person_what_was_erased_and_what_the_law_keeps() {
    use custos_store::RequestStore;
    let p = plume();
    let ctx = RequestCtx::default();
    let alice = p.customer("alice@example.com", "Alice Martin");
    assert!(matches!(
        p.vault.erasure_preview(&p.sales(), alice, &ctx),
        Err(VaultError::PurposeNotPermitted { .. })
    ));
    let plan = p.vault.erasure_preview(&p.staff(), alice, &ctx).unwrap();
    assert_eq!(
        plan.deleted,
        vec![
            "user.contact.email",
            "user.contact.phone_number",
            "user.name"
        ]
    );
    let kept: Vec<&str> = plan.kept.iter().map(|k| k.category.as_str()).collect();
    assert_eq!(
        kept,
        vec!["user.financial.invoice", "user.financial.payment_reference"]
    );
    assert_eq!(
        p.vault.subject_state(&p.staff(), alice, &ctx).unwrap(),
        Some(SubjectState::Active),
        "a preview erases nothing"
    );

    let req = p
        .vault
        .open_request(
            &p.staff(),
            &NewRequest {
                right: Right::Erasure,
                subject: Some(alice),
                jurisdiction: None,
                channel: "email".into(),
                on_behalf_of: None,
            },
            &ctx,
        )
        .unwrap();
    for action in [RequestAction::Verify, RequestAction::Fulfil] {
        p.vault.act(&p.staff(), req.id, &action, &ctx).unwrap();
    }
    assert_eq!(
        p.vault.subject_state(&p.staff(), alice, &ctx).unwrap(),
        Some(SubjectState::Erased)
    );
    let notice = p
        .store
        .due_outbox(&p.tenant, p.clock.now(), 50)
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "request.fulfilled")
        .expect("the fulfilled notice");
    let payload: Value = serde_json::from_str(&notice.payload).unwrap();
    assert_eq!(payload["done"]["what"], "erased", "{payload}");
    assert_eq!(
        payload["done"]["kept"][0]["category"],
        "user.financial.invoice"
    );
    // No value of the person in the notice.
    for value in ["Alice", "alice@example.com", "pay_7Hq2Zr81", "F-2026-0042"] {
        assert!(!notice.payload.contains(value), "{}", notice.payload);
    }
    let (_, body) = custos_core::notices::render(&notice.kind, &notice.payload).unwrap();
    assert!(body.contains("Your data was erased."), "{body}");
    assert!(body.contains("- user.financial.invoice: "), "{body}");
    assert!(body.contains("L123-22"), "{body}");
}
