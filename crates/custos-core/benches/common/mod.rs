//! What the vault benchmarks share, whatever the backend: the ten-field customer,
//! a tenant with the Plume SASU policy and a sales key, and the write/read pair.

use std::sync::Arc;

use criterion::Criterion;
use custos_core::api_keys::{KeySpec, issue};
use custos_core::clock::{Clock, SystemClock};
use custos_core::consent::NothingRecorded;
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_core::vault::{Actor, NewRecord, RequestCtx, Vault, WriteRequest};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{Store, TenantId};
use serde_json::json;

const POLICY: &str = include_str!("../../../../policies/plume-sasu.toml");

/// One customer with ten fields, distinct per `i`.
pub fn ten_fields(i: usize) -> WriteRequest {
    let rec = |c: &str, v: serde_json::Value| NewRecord {
        category: c.into(),
        value: v,
        purpose: "account".into(),
        source: None,
    };
    WriteRequest {
        jurisdiction: None,
        settings: Default::default(),
        consents: Vec::new(),
        records: vec![
            rec("user.name", json!(format!("Person {i}"))),
            rec(
                "user.contact.email",
                json!(format!("person{i}@example.com")),
            ),
            rec(
                "user.contact.phone_number",
                json!(format!("+3361{:07}", i % 10_000_000)),
            ),
            rec(
                "user.contact.address",
                json!(format!("{i} rue de la Paix, 75002 Paris")),
            ),
            rec("user.demographic.date_of_birth", json!("1990-05-17")),
            rec("user.account.profile", json!("cyclist, commutes daily")),
            rec(
                "user.behavior.login_history",
                json!("2026-11-01T08:00:00Z web"),
            ),
            rec("user.account.profile", json!("prefers email")),
            rec("user.name", json!(format!("P. {i}"))),
            rec("user.contact.address", json!("PO box 12")),
        ],
    }
}

/// A vault over `store` with a tenant, the policy and a sales key.
pub fn vault_over<S: Store>(store: Arc<S>) -> (Vault<S>, Actor) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = Arc::new(KeyRing::from_keyfile(&KeyFile::generate("bench").unwrap()));
    let tenant = TenantId::new("bench").unwrap();
    ensure_tenant(store.as_ref(), &tenant, "Bench", clock.now()).unwrap();
    publish_policy(
        store.as_ref(),
        &tenant,
        POLICY,
        "plume-sasu.toml",
        clock.now(),
        clock.now(),
    )
    .unwrap();
    let spec = KeySpec {
        label: "bench".into(),
        role: "sales_order_delivery".into(),
        purposes: vec![],
        admin: false,
    };
    let key = issue(store.as_ref(), &keys, &tenant, &spec, "bench", clock.now()).unwrap();
    let actor = Actor {
        tenant,
        key_id: key.key.id,
        role: key.key.role,
        purposes: vec![],
        admin: false,
    };
    (
        Vault::new(store, keys, clock, Arc::new(NothingRecorded)),
        actor,
    )
}

/// Fills 10,000 subjects, then measures a write and a purpose-bound read in `group`.
pub fn write_and_read<S: Store>(c: &mut Criterion, group: &str, vault: &Vault<S>, actor: &Actor) {
    let ctx = RequestCtx::default();
    let subjects: Vec<_> = (0..10_000)
        .map(|i| {
            vault
                .create_subject(actor, &ten_fields(i), &ctx)
                .unwrap()
                .written()
                .subject
        })
        .collect();
    let mut g = c.benchmark_group(group);
    let mut i = 10_000;
    g.bench_function("write_subject_10_fields", |b| {
        b.iter(|| {
            i += 1;
            vault.create_subject(actor, &ten_fields(i), &ctx).unwrap()
        })
    });
    let mut n = 0usize;
    g.bench_function("read_subject_10_fields_of_10k", |b| {
        b.iter(|| {
            n = (n + 7919) % subjects.len();
            vault.read(actor, subjects[n], "account", &ctx).unwrap()
        })
    });
    g.finish();
}
