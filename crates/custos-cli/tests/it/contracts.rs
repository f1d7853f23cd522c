//! `custos contracts list|show|tick` on a data directory whose tenant sells under
//! Plume Design's terms: a membership set up through the library, its renewal
//! clock advanced from the command line.

use std::sync::Arc;

use custos_core::clock::{Clock, TestClock};
use custos_core::consent::NothingRecorded;
use custos_core::contracts::{ContractAction, NewMembership, doc::Place};
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::{Actor, NewRecord, RequestCtx, Vault, WriteRequest};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{RequestStore, TenantId, Timestamp};
use custos_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::json;

use super::{custos, tempdir, text};

const TERMS: &str = include_str!("../../../../policies/plume-design-terms.toml");

#[test]
fn contracts_list_show_and_tick_from_the_command_line() {
    let data = tempdir().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let dir = data.to_str().unwrap();
    let file = KeyFile::create_new(&data.join("keys.json"), "2026-03-01").unwrap();
    let start: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    let tenant = TenantId::new("default").unwrap();
    let (subject, id) = {
        let store =
            Arc::new(SqliteStore::open(data.join("custos.db"), SqliteOptions::default()).unwrap());
        ensure_tenant(store.as_ref(), &tenant, "Plume Design", start).unwrap();
        publish_policy(store.as_ref(), &tenant, TERMS, "terms.toml", start, start).unwrap();
        let clock = Arc::new(TestClock::at(start));
        let vault = Vault::new(
            Arc::clone(&store),
            Arc::new(KeyRing::from_keyfile(&file)),
            Arc::clone(&clock) as Arc<dyn Clock>,
            Arc::new(NothingRecorded),
        );
        let staff = Actor {
            tenant: tenant.clone(),
            key_id: "operator".into(),
            role: "support".into(),
            purposes: vec![],
            admin: true,
        };
        let ctx = RequestCtx::default();
        let subject = vault
            .create_subject(
                &staff,
                &WriteRequest {
                    jurisdiction: None,
                    settings: Default::default(),
                    consents: Vec::new(),
                    records: vec![NewRecord {
                        category: "user.contact.email".into(),
                        value: json!("alice@example.com"),
                        purpose: "account".into(),
                        source: None,
                    }],
                },
                &ctx,
            )
            .unwrap()
            .written()
            .subject;
        let m = vault
            .create_membership(
                &staff,
                &NewMembership {
                    subject,
                    customer: Place {
                        jurisdiction: "DE".into(),
                        subdivision: Some("BY".into()),
                        time_zone: "Europe/Berlin".into(),
                        consumer: true,
                    },
                    plan: "homepass".into(),
                    price: "4.99 EUR".into(),
                    first_time: true,
                    payment_ref: None,
                },
                &ctx,
            )
            .unwrap();
        let activate: ContractAction =
            serde_json::from_value(json!({"action": "activate", "device": "pod-1"})).unwrap();
        vault
            .act_on_contract(&staff, m.id, &activate, &ctx)
            .unwrap();
        (subject, m.id.to_string())
    };

    let out = custos(&["contracts", "list", "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains(&id) && table.contains("membership") && table.contains("active"),
        "{table}"
    );
    assert!(!table.contains("alice"), "no personal data: {table}");

    // Before the renewal window nothing moves; at it, the charge is announced.
    let out = custos(&[
        "contracts",
        "tick",
        "--at",
        "2026-03-30T21:00:00Z",
        "--data-dir",
        dir,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("0 contract(s) advanced"),
        "{}",
        text(&out.stdout)
    );
    let out = custos(&[
        "contracts",
        "tick",
        "--at",
        "2026-03-31T00:00:00Z",
        "--data-dir",
        dir,
    ]);
    assert!(
        text(&out.stdout).starts_with("1 contract(s) advanced"),
        "{}",
        text(&out.stdout)
    );

    let out = custos(&["contracts", "show", &id, "--data-dir", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "membership");
    assert_eq!(v["next_due"], "2026-04-29T22:00:00Z");
    let out = custos(&[
        "contracts",
        "list",
        "--subject",
        &subject.to_string(),
        "--kind",
        "membership",
        "--json",
        "--data-dir",
        dir,
    ]);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);

    let store = SqliteStore::open(data.join("custos.db"), SqliteOptions::default()).unwrap();
    let kinds: Vec<String> = store
        .outbox_of(&tenant, subject)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        ["contract.membership_activated", "contract.renewal_charge"]
    );

    // Bad input exits 2 with the reason.
    let out = custos(&["contracts", "list", "--kind", "lease", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("order, membership or return"));
    let out = custos(&["contracts", "tick", "--at", "tomorrow", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(2));
    let out = custos(&[
        "contracts",
        "show",
        &custos_store::Uuid::now_v7().to_string(),
        "--data-dir",
        dir,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such contract"));
}
