//! KEK rotation re-wraps data keys; values stay readable; old versions can go.

use custos_core::keys::rewrap_tenant;
use custos_core::vault::RequestCtx;
use custos_crypto::KeyRing;
use custos_store::Store;

use crate::harness::{harness, t0};

#[test]
fn rotation_rewraps_every_key_and_data_stays_readable() {
    let mut h = harness();
    let subjects: Vec<_> = (0..5).map(|_| h.alice()).collect();
    let v2 = h.key_file.rotate("2026-04-01").unwrap();
    let ring = KeyRing::from_keyfile(&h.key_file);
    assert_eq!(
        rewrap_tenant(h.store.as_ref(), &ring, &h.tenant, 2, t0()).unwrap(),
        5
    );
    assert!(
        h.store
            .subjects_to_rewrap(&h.tenant, v2, 10)
            .unwrap()
            .is_empty()
    );
    // Running it again moves nothing.
    assert_eq!(
        rewrap_tenant(h.store.as_ref(), &ring, &h.tenant, 2, t0()).unwrap(),
        0
    );

    // With the old master key removed, a vault on the new ring still reads everything.
    h.key_file.remove_master_key(1).unwrap();
    let ring = std::sync::Arc::new(KeyRing::from_keyfile(&h.key_file));
    let vault = custos_core::vault::Vault::new(
        std::sync::Arc::clone(&h.store),
        ring,
        h.clock.clone() as std::sync::Arc<dyn custos_core::clock::Clock>,
        h.consent.clone() as std::sync::Arc<dyn custos_core::consent::ConsentView>,
    );
    for s in subjects {
        let out = vault
            .read(&h.actor("support"), s, "support", &RequestCtx::default())
            .unwrap();
        assert_eq!(out.values.len(), 2);
    }
    custos_core::audit::verify_chain(h.store.as_ref(), &h.tenant).unwrap();
}
