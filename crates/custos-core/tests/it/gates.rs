//! Collection gates (issue 5 parts 3–4): age (V-5, L-10), opt-out (P0-5), customer
//! settings (S-2), special categories (S-3); and policy versions (S-7, V-6, T-17).

use std::sync::Arc;

use custos_core::VaultError;
use custos_core::clock::{Clock, TestClock};
use custos_core::consent::{ConsentView, Ledger};
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::consent::{ConsentAction, ConsentInput};
use custos_core::vault::gates;
use custos_core::vault::{Actor, RequestCtx, Vault, WriteRequest};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{LifecycleStore, Store, SubjectId, SubjectState, TenantId};
use custos_store_sqlite::SqliteStore;
use serde_json::json;

use crate::harness::{request, t0};

const PLUM_VOICE: &str = include_str!("../../../../policies/plum-voice.toml");
pub const PLOOMES: &str = include_str!("../../../../policies/ploomes.toml");
const PLUME: &str = include_str!("../../../../policies/plume-sasu.toml");
const PLUMSENSE: &str = include_str!("../../../../policies/plumsense.toml");

pub struct G {
    pub vault: Vault<SqliteStore>,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<TestClock>,
    pub tenant: TenantId,
}

pub fn setup(policy: &str) -> G {
    let store = Arc::new(SqliteStore::open_temporary().unwrap());
    let clock = Arc::new(TestClock::at(t0()));
    let key_file = KeyFile::generate("2026-03-01").unwrap();
    let tenant = TenantId::new("gates").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Gates", t0()).unwrap();
    publish_policy(store.as_ref(), &tenant, policy, "p.toml", t0(), t0()).unwrap();
    let vault = Vault::new(
        Arc::clone(&store),
        Arc::new(KeyRing::from_keyfile(&key_file)),
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::new(Ledger::new(Arc::clone(&store))) as Arc<dyn ConsentView>,
    );
    G {
        vault,
        store,
        clock,
        tenant,
    }
}

impl G {
    pub fn staff(&self, role: &str) -> Actor {
        Actor {
            admin: true,
            ..self.actor(role)
        }
    }

    /// A service's (non-admin) key of `role`.
    pub fn actor(&self, role: &str) -> Actor {
        Actor {
            tenant: self.tenant.clone(),
            key_id: format!("ck_{role}"),
            role: role.to_owned(),
            purposes: Vec::new(),
            admin: false,
        }
    }

    pub fn create(&self, role: &str, req: &WriteRequest) -> Result<SubjectId, VaultError> {
        self.vault
            .create_subject(&self.staff(role), req, &RequestCtx::default())
            .map(|o| o.written().subject)
    }

    pub fn consent(&self, role: &str, subject: SubjectId, purpose: &str, action: ConsentAction) {
        let input = ConsentInput {
            purpose: purpose.to_owned(),
            action,
            channel: "app".into(),
            notice_text: None,
            ip: None,
            user_agent: None,
        };
        self.vault
            .record_consent(&self.staff(role), subject, &input, &RequestCtx::default())
            .unwrap();
    }

    pub fn subjects(&self) -> u64 {
        self.store.counts(&self.tenant).unwrap().subjects
    }
}

/// The policy with a birth-date category collected by `purpose` (whose categories
/// line is `line`).
pub fn with_birth_date(policy: &str, line: &str) -> String {
    assert!(policy.contains(line), "{line}");
    let extended = line.replacen(
        "categories = [",
        "categories = [\"user.demographic.date_of_birth\", ",
        1,
    );
    format!(
        "{}\n[category.\"user.demographic.date_of_birth\"]\ndescription = \"Date of birth\"\nshape = \"date\"\nretention = \"3y after last_activity\"\nsources = [\"data_subject\"]\n",
        policy.replacen(line, &extended, 1)
    )
}

pub fn birth(jurisdiction: &str, date: &str, purpose: &str) -> WriteRequest {
    let mut req = request(&[
        ("user.demographic.date_of_birth", json!(date), purpose),
        ("user.contact.email", json!("kid@example.com"), purpose),
    ]);
    req.jurisdiction = Some(jurisdiction.to_owned());
    req
}

/// The request with every record from `source` (the policy lists each category's sources, V-1).
fn from(mut req: WriteRequest, source: &str) -> WriteRequest {
    for r in &mut req.records {
        r.source = Some(source.to_owned());
    }
    req
}

pub fn codes(e: &VaultError) -> Vec<(&str, &str)> {
    match e {
        VaultError::Invalid(p) => p.iter().map(|p| (p.pointer.as_str(), p.code)).collect(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

const PLUM_TX: &str = "categories = [\"user.demographic.age_attestation\", \"user.name\", \"user.contact.address\", \"user.contact.email\", \"user.behavior.purchase_history\", \"user.financial.payment_token\"]";
pub const PLOOMES_SC: &str = "categories = [\"user.demographic.age_attestation\", \"user.name\", \"user.contact.email\", \"user.account.settings\"]";

#[test]
fn under_13_is_refused_for_plum_voice_and_nothing_is_written() {
    let g = setup(&with_birth_date(PLUM_VOICE, PLUM_TX));
    // t0 is 2026-03-01: born 2013-03-02 is 12 the day before the 13th birthday.
    let e = g
        .create("sales", &birth("US", "2013-03-02", "transactions"))
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/records/0/value", gates::UNDER_AGE)]);
    if let VaultError::Invalid(p) = &e {
        assert!(!p[0].detail.contains("2013"), "the value is never echoed");
    }
    assert_eq!(g.subjects(), 0);
    g.create("sales", &birth("US", "2013-03-01", "transactions"))
        .unwrap();
    assert_eq!(g.subjects(), 1);
}

#[test]
fn under_16_is_refused_for_ploomes_and_exactly_16_is_accepted_on_the_birthday() {
    let g = setup(&with_birth_date(PLOOMES, PLOOMES_SC));
    let e = g
        .create(
            "customer_success",
            &birth("BR", "2010-03-02", "service_communications"),
        )
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/records/0/value", gates::UNDER_AGE)]);
    assert_eq!(g.subjects(), 0);
    // Sixteen today.
    let s = g
        .create(
            "customer_success",
            &birth("EEA", "2010-03-01", "service_communications"),
        )
        .unwrap();
    // The stored jurisdiction gates later writes too.
    let mut more = request(&[(
        "user.demographic.date_of_birth",
        json!("2011-01-01"),
        "service_communications",
    )]);
    more.jurisdiction = None;
    let e = g
        .vault
        .add_records(
            &g.staff("customer_success"),
            s,
            &more,
            &RequestCtx::default(),
        )
        .unwrap_err();
    // Learnt after sign-up: refused, and an erasure request opened (L-10).
    assert_eq!(
        codes(&e),
        vec![("/records/0/value", gates::UNDER_AGE_RECTIFICATION)]
    );
}

// Issue 17.3 / 13.12: the old behaviour (inline erasure with borrowed admin rights) is
// replaced by a refusal, an erasure request and a restriction, audited under the caller.
#[test]
fn a_birth_date_rectified_under_age_is_refused_opens_an_erasure_request_and_restricts() {
    let g = setup(&with_birth_date(PLOOMES, PLOOMES_SC));
    let mut actor = g.staff("customer_success");
    actor.admin = false;
    let w = g
        .vault
        .create_subject(
            &actor,
            &birth("UK", "1990-05-05", "service_communications"),
            &RequestCtx::default(),
        )
        .unwrap();
    let w = w.written();
    let e = g
        .vault
        .rectify(
            &actor,
            w.subject,
            w.records[0],
            &json!("2012-05-05"),
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/value", gates::UNDER_AGE_RECTIFICATION)]);
    if let VaultError::Invalid(p) = &e {
        assert!(!p[0].detail.contains("2012"), "the value is never echoed");
    }
    let row = g.store.subject(&g.tenant, w.subject).unwrap().unwrap();
    assert_eq!(
        row.state,
        SubjectState::Restricted,
        "restricted, not erased"
    );
    let queue = g.vault.request_queue(&g.tenant).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].right, "erasure");
    assert_eq!(queue[0].subject, Some(w.subject));
    let entries = g.store.audit_entries(&g.tenant, 0, 1000).unwrap();
    assert!(
        !entries.iter().any(|e| e.draft.action == "erase"),
        "never an inline erasure"
    );
    let restrict = entries
        .iter()
        .find(|e| e.draft.action == "restrict")
        .expect("restriction audited");
    assert_eq!(
        restrict.draft.key_id.as_deref(),
        Some(actor.key_id.as_str()),
        "under the caller"
    );
    // The old value is still there (nothing rectified).
    let records = g.store.subject_records(&g.tenant, w.subject).unwrap();
    assert_eq!(records.len(), 2);
}

#[test]
fn impossible_birth_dates_are_refused_on_create_and_rectify() {
    let g = setup(&with_birth_date(PLOOMES, PLOOMES_SC));
    // t0 is 2026-03-01.
    for date in ["2026-03-02", "2100-01-01", "1896-02-29", "1800-01-01"] {
        let e = g
            .create(
                "customer_success",
                &birth("UK", date, "service_communications"),
            )
            .unwrap_err();
        assert_eq!(
            codes(&e),
            vec![("/records/0/value", gates::IMPOSSIBLE_BIRTH_DATE)],
            "{date}"
        );
    }
    assert_eq!(g.subjects(), 0);
    let actor = g.staff("customer_success");
    let w = g
        .vault
        .create_subject(
            &actor,
            &birth("UK", "1896-03-01", "service_communications"),
            &RequestCtx::default(),
        )
        .unwrap();
    let w = w.written();
    let e = g
        .vault
        .rectify(
            &actor,
            w.subject,
            w.records[0],
            &json!("2030-01-01"),
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/value", gates::IMPOSSIBLE_BIRTH_DATE)]);
}

#[test]
fn telemetry_is_refused_after_opt_out_and_accepted_again_after_opt_in() {
    // Plume's telemetry is anonymous; a tenant linking it to the person (pseudonymous
    // telemetry) keeps the opt-out of P0-5.
    let linked = PLUME.replacen(
        "anonymous = true # P0-5: \"These data are anonymous.\"",
        "",
        1,
    );
    let g = setup(&linked);
    let staff = "technical_services";
    let s = g
        .create(
            staff,
            &from(
                request(&[(
                    "user.device.telemetry",
                    json!("12 uses"),
                    "product_statistics",
                )]),
                "device",
            ),
        )
        .unwrap();
    g.consent(staff, s, "product_statistics", ConsentAction::Withdraw);
    let again = from(
        request(&[(
            "user.device.telemetry",
            json!("3 uses"),
            "product_statistics",
        )]),
        "device",
    );
    let e = g
        .vault
        .add_records(&g.staff(staff), s, &again, &RequestCtx::default())
        .unwrap_err();
    assert_eq!(codes(&e), vec![("/records/0/category", gates::OPTED_OUT)]);
    g.consent(staff, s, "product_statistics", ConsentAction::Grant);
    g.vault
        .add_records(&g.staff(staff), s, &again, &RequestCtx::default())
        .unwrap();
}

#[test]
fn gps_is_refused_without_the_customer_setting() {
    let g = setup(PLUMSENSE);
    let mut req = from(
        request(&[(
            "user.location.precise",
            json!("48.85,2.35"),
            "health_product_monitoring",
        )]),
        "device",
    );
    let e = g.create("operations", &req).unwrap_err();
    assert_eq!(codes(&e), vec![("/records/0/category", gates::SETTING_OFF)]);
    req.settings.insert("gps_enabled".into(), false);
    assert!(g.create("operations", &req).is_err());
    req.settings.insert("gps_enabled".into(), true);
    g.create("operations", &req).unwrap();
}

#[test]
fn health_data_without_its_condition_is_refused() {
    // Plumsense processes health data on its customer's instruction (accepted); a
    // variant resting on explicit consent needs that consent first.
    let g = setup(PLUMSENSE);
    let health = |p: &str| {
        from(
            request(&[("user.health_and_medical", json!({"temp": 4}), p)]),
            "device",
        )
    };
    let s = g
        .create("operations", &health("health_product_monitoring"))
        .unwrap();
    let _ = s;

    let explicit = PLUMSENSE.replacen(
        "art9_condition = \"controller_instruction\"",
        "art9_condition = \"explicit_consent\"",
        1,
    );
    let g = setup(&explicit);
    // The device is known from the service itself (contract); the health purpose
    // now rests on explicit consent, which nobody gave yet.
    let device = from(
        request(&[("user.device.device_id", json!("dev-1"), "service_provision")]),
        "device",
    );
    let s = g.create("operations", &device).unwrap();
    let e = g
        .vault
        .add_records(
            &g.staff("operations"),
            s,
            &health("health_product_monitoring"),
            &RequestCtx::default(),
        )
        .unwrap_err();
    assert_eq!(
        codes(&e),
        vec![("/records/0/purpose", gates::NO_EXPLICIT_CONSENT)]
    );
    g.consent(
        "operations",
        s,
        "health_product_monitoring",
        ConsentAction::Grant,
    );
    g.vault
        .add_records(
            &g.staff("operations"),
            s,
            &health("health_product_monitoring"),
            &RequestCtx::default(),
        )
        .unwrap();
}

// --- policy versions (S-7, V-6, T-17) --------------------------------------------------

/// Plume SASU v2: a new legitimate-interest purpose over data already held (re-consent),
/// and targeted marketing now also using the phone number (re-consent).
fn plume_v2() -> String {
    let v2 = PLUME.replacen(
        "categories = [\"user.name\", \"user.contact.email\", \"user.demographic.date_of_birth\", \"user.account.profile\", \"user.behavior.browsing_history\", \"user.behavior.purchase_history\"]",
        "categories = [\"user.name\", \"user.contact.email\", \"user.contact.phone_number\", \"user.demographic.date_of_birth\", \"user.account.profile\", \"user.behavior.browsing_history\", \"user.behavior.purchase_history\"]",
        1,
    );
    assert_ne!(v2, PLUME);
    format!(
        "{v2}\n[purpose.loyalty_analysis]\ndescription = \"Analyse purchases to design a loyalty programme\"\nbasis = \"legitimate_interest\"\nlegitimate_interest = \"Designing a loyalty programme for existing customers\"\ncategories = [\"user.contact.email\", \"user.behavior.purchase_history\"]\nrecipients = [\"technical_services\"]\nsubjects = [\"customers\"]\n"
    )
}

fn customer(g: &G) -> SubjectId {
    let mut req = request(&[
        ("user.contact.email", json!("ana@example.com"), "account"),
        (
            "user.contact.phone_number",
            json!("+33612345678"),
            "account",
        ),
        ("user.name", json!("Ana"), "account"),
    ]);
    req.jurisdiction = Some("FR".into());
    g.create("sales_order_delivery", &req).unwrap()
}

fn read(
    g: &G,
    role: &str,
    s: SubjectId,
    purpose: &str,
) -> Result<custos_core::vault::ReadOutcome, VaultError> {
    let actor = Actor {
        admin: false,
        ..g.staff(role)
    };
    g.vault.read(&actor, s, purpose, &RequestCtx::default())
}

fn days(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * n)
}

#[test]
fn a_new_purpose_over_held_data_needs_notice_ahead_and_reconsent_under_the_new_version() {
    use custos_core::policy_change::{PublishOptions, publish_version};
    use custos_core::vault::WithheldReason;
    use custos_policy::diff::Impact;
    use custos_store::RequestStore;

    let g = setup(PLUME);
    let s = customer(&g);
    // Consent to marketing under version 1.
    g.consent(
        "marketing_communication",
        s,
        "targeted_marketing",
        ConsentAction::Grant,
    );
    assert!(
        !read(&g, "marketing_communication", s, "targeted_marketing")
            .unwrap()
            .values
            .is_empty()
    );

    let effective = t0() + days(31);
    let published = publish_version(
        g.store.as_ref(),
        &g.tenant,
        &plume_v2(),
        "v2.toml",
        effective,
        g.clock.now(),
        PublishOptions::default(),
    )
    .unwrap();
    g.vault.policy_changed(&g.tenant);
    assert_eq!(published.number, 2);
    assert_eq!(published.impact, Impact::Reconsent);
    assert_eq!(published.notices, 1);

    // The notice is owed now, ahead of the effective date, with the change list and
    // no personal data.
    let outbox = g.store.outbox_of(&g.tenant, s).unwrap();
    let notice = outbox.iter().find(|m| m.kind == "policy.change").unwrap();
    assert!(notice.next_attempt_at < effective);
    let payload: serde_json::Value = serde_json::from_str(&notice.payload).unwrap();
    assert_eq!(payload["effective_at"], effective.to_string());
    let paths: Vec<&str> = payload["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"purpose.loyalty_analysis"), "{paths:?}");
    assert!(!notice.payload.contains("ana@example.com") && !notice.payload.contains("Ana"));
    let (_, body) = custos_core::notices::render(&notice.kind, &notice.payload).unwrap();
    assert!(body.contains("loyalty_analysis"));

    // Before the effective date the old version is in force: the purpose does not exist,
    // and the old grant still counts.
    g.clock.advance(days(30));
    assert!(matches!(
        read(&g, "technical_services", s, "loyalty_analysis"),
        Err(VaultError::UnknownPurpose(_))
    ));
    assert!(
        !read(&g, "marketing_communication", s, "targeted_marketing")
            .unwrap()
            .values
            .is_empty()
    );

    // From the effective date: blocked until re-consent under version 2.
    g.clock.advance(days(2));
    let r = read(&g, "technical_services", s, "loyalty_analysis").unwrap();
    assert_eq!(r.policy_version, 2);
    assert!(r.values.is_empty());
    assert!(
        r.withheld
            .iter()
            .all(|w| w.reason == WithheldReason::NoConsent)
    );
    let r = read(&g, "marketing_communication", s, "targeted_marketing").unwrap();
    assert!(
        r.values.is_empty(),
        "a grant under version 1 no longer counts"
    );

    g.consent(
        "technical_services",
        s,
        "loyalty_analysis",
        ConsentAction::Grant,
    );
    g.consent(
        "marketing_communication",
        s,
        "targeted_marketing",
        ConsentAction::Grant,
    );
    let r = read(&g, "technical_services", s, "loyalty_analysis").unwrap();
    assert_eq!(r.values.len(), 1, "{r:?}");
    let r = read(&g, "marketing_communication", s, "targeted_marketing").unwrap();
    assert!(
        r.values
            .iter()
            .any(|v| v.category == "user.contact.phone_number")
    );
}

#[test]
fn a_too_short_notice_is_refused_unless_the_law_mandates_it() {
    use custos_core::policy_change::{PublishOptions, SHORT_NOTICE, VersionError, publish_version};

    // French consumers here are owed six weeks (a jurisdiction's change_notice).
    let six_weeks = PLUME.replacen(
        "breach_authority_deadline = \"72h\"",
        "breach_authority_deadline = \"72h\"\nchange_notice = \"6w\"",
        1,
    );
    let v2 = plume_v2().replacen(
        "breach_authority_deadline = \"72h\"",
        "breach_authority_deadline = \"72h\"\nchange_notice = \"6w\"",
        1,
    );
    for (days_ahead, allow) in [(42, false), (35, true)] {
        let g = setup(&six_weeks);
        customer(&g);
        let p = publish_version(
            g.store.as_ref(),
            &g.tenant,
            &v2,
            "v2.toml",
            t0() + days(days_ahead),
            t0(),
            PublishOptions {
                allow_short_notice: allow,
            },
        )
        .unwrap();
        assert_eq!((p.number, p.notices), (2, 1));
    }
    let g = setup(&six_weeks);
    customer(&g);
    let publish = |days_ahead: i64, allow: bool| {
        publish_version(
            g.store.as_ref(),
            &g.tenant,
            &v2,
            "v2.toml",
            t0() + days(days_ahead),
            t0(),
            PublishOptions {
                allow_short_notice: allow,
            },
        )
    };
    match publish(35, false) {
        Err(VersionError::Refused(p)) => {
            assert_eq!(p[0].pointer, "/effective_at");
            assert_eq!(p[0].code, SHORT_NOTICE);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(g.store.policy_versions(&g.tenant).unwrap().len(), 1);
    // The policy's default (30 days) is not enough for people owed six weeks.
    assert!(publish(41, false).is_err());
}

#[test]
fn with_nobody_to_tell_any_effective_date_is_accepted() {
    use custos_core::policy_change::{PublishOptions, publish_version};
    let g = setup(PLUME);
    // Nobody to tell: any effective date is fine.
    let p = publish_version(
        g.store.as_ref(),
        &g.tenant,
        &plume_v2(),
        "v2.toml",
        t0() + days(1),
        t0(),
        PublishOptions::default(),
    )
    .unwrap();
    assert_eq!(p.notices, 0);
}

/// P0-5, L-2, S-2 (issue 13.3): a device setting is recorded subject state with
/// history, not a flag trusted on each write. Switching it off (by anyone) stops
/// collection at once, and a later write cannot quietly switch it back on; only
/// a settings change by the person or the app's own role does.
#[test]
fn a_device_setting_is_recorded_state_and_switching_it_off_stops_collection() {
    use custos_core::vault::settings::SettingInput;
    let g = setup(PLUMSENSE);
    let gps = |on: Option<bool>| {
        let mut req = from(
            request(&[(
                "user.location.precise",
                json!("48.85,2.35"),
                "health_product_monitoring",
            )]),
            "device",
        );
        if let Some(on) = on {
            req.settings.insert("gps_enabled".into(), on);
        }
        req
    };
    let ops = g.staff("operations");
    let s = g.create("operations", &gps(Some(true))).unwrap();
    // Recorded: later writes need not carry it.
    g.vault
        .add_records(&ops, s, &gps(None), &RequestCtx::default())
        .unwrap();
    let settings = g.vault.settings_of(&g.tenant, s).unwrap();
    assert!(settings.iter().any(|x| x.name == "gps_enabled" && x.on));

    // The person switches it off (any key may record that).
    let off = SettingInput {
        name: "gps_enabled".into(),
        on: false,
        channel: "privacy_center".into(),
    };
    g.vault
        .set_setting(&g.actor("support"), s, &off, &RequestCtx::default())
        .unwrap();
    for req in [gps(None), gps(Some(true))] {
        let e = g
            .vault
            .add_records(&ops, s, &req, &RequestCtx::default())
            .unwrap_err();
        assert_eq!(codes(&e), vec![("/records/0/category", gates::SETTING_OFF)]);
    }
    // Only a role the setting serves (or the person) switches it back on.
    let on = SettingInput {
        on: true,
        channel: "app".into(),
        ..off
    };
    assert!(matches!(
        g.vault
            .set_setting(&g.actor("finance"), s, &on, &RequestCtx::default()),
        Err(VaultError::ConsentGrantNotAllowed(_))
    ));
    g.vault
        .set_setting(&g.actor("operations"), s, &on, &RequestCtx::default())
        .unwrap();
    g.vault
        .add_records(&ops, s, &gps(None), &RequestCtx::default())
        .unwrap();
    // The history is in the ledger: on, off, on.
    let record = g
        .vault
        .consent_record(&ops, s, &RequestCtx::default())
        .unwrap();
    let kinds: Vec<&str> = record
        .events
        .iter()
        .filter(|e| e.purpose == "setting.gps_enabled")
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["granted", "withdrawn", "granted"]);
}

/// P0-16 (issue 13.10): a purpose the policy ties to the app (`requires_setting`
/// on the purpose) stops reading and collecting while the app is disconnected,
/// and resumes when it is connected again.
#[test]
fn disconnecting_the_app_restricts_the_purposes_tied_to_it() {
    use custos_core::vault::settings::SettingInput;
    let tied = PLUMSENSE.replacen(
        "[purpose.customer_assistance]\n",
        "[purpose.customer_assistance]\nrequires_setting = \"app_connected\"\n",
        1,
    );
    assert_ne!(tied, PLUMSENSE);
    let g = setup(&tied);
    let mut req = request(&[("user.name", json!("Ines"), "customer_assistance")]);
    req.settings.insert("app_connected".into(), true);
    let s = g.create("support", &req).unwrap();
    let read = || {
        g.vault
            .read(
                &g.actor("support"),
                s,
                "customer_assistance",
                &RequestCtx::default(),
            )
            .unwrap()
    };
    assert_eq!(read().values.len(), 1);
    let set = |on: bool, role: &str| SettingInput {
        name: "app_connected".into(),
        on,
        channel: if role == "support" {
            "app"
        } else {
            "privacy_center"
        }
        .into(),
    };
    let center = custos_core::self_service::privacy_center_actor(&g.tenant);
    g.vault
        .set_setting(&center, s, &set(false, "person"), &RequestCtx::default())
        .unwrap();
    let out = read();
    assert!(out.values.is_empty());
    assert_eq!(
        out.withheld[0].reason,
        custos_core::vault::WithheldReason::SettingOff
    );
    // The app's own role reconnects it.
    g.vault
        .set_setting(
            &g.actor("support"),
            s,
            &set(true, "support"),
            &RequestCtx::default(),
        )
        .unwrap();
    assert_eq!(read().values.len(), 1);
}
