use custos_crypto::{blind_index, blind_index_email, blind_index_phone, normalise_email};

use crate::key_ring;

#[test]
fn equal_after_normalisation() {
    let ring = key_ring();
    let key = ring.blind_index_key("acme", "email").unwrap();
    assert_eq!(
        blind_index(&key, &normalise_email(" Alice@Example.COM ")),
        blind_index(&key, &normalise_email("alice@example.com"))
    );
    assert_eq!(
        blind_index_email(&key, " Alice@Example.COM "),
        blind_index_email(&key, "alice@example.com")
    );
    assert_ne!(
        blind_index_email(&key, "alice@example.com"),
        blind_index_email(&key, "alice2@example.com")
    );
}

#[test]
fn differs_across_tenants_and_categories() {
    let ring = key_ring();
    let value = "alice@example.com";
    let acme_email = blind_index(&ring.blind_index_key("acme", "email").unwrap(), value);
    let other_email = blind_index(&ring.blind_index_key("other", "email").unwrap(), value);
    let acme_contact = blind_index(&ring.blind_index_key("acme", "contact").unwrap(), value);
    assert_ne!(acme_email, other_email);
    assert_ne!(acme_email, acme_contact);
    // The 0x00 separator keeps ("ab", "c") and ("a", "bc") apart.
    assert_ne!(
        blind_index(&ring.blind_index_key("ab", "c").unwrap(), value),
        blind_index(&ring.blind_index_key("a", "bc").unwrap(), value)
    );
    // Deterministic for the same ring, different for another instance's keys.
    assert_eq!(
        acme_email,
        blind_index(&ring.blind_index_key("acme", "email").unwrap(), value)
    );
    assert_ne!(
        acme_email,
        blind_index(&key_ring().blind_index_key("acme", "email").unwrap(), value)
    );
}

#[test]
fn phone_normalisation() {
    let ring = key_ring();
    let key = ring.blind_index_key("acme", "phone").unwrap();
    assert_eq!(
        blind_index_phone(&key, "+32 (0)2 555 12 34"),
        blind_index_phone(&key, "+32-0-2-5551234")
    );
    assert_ne!(
        blind_index_phone(&key, "+32 2 555 12 34"),
        blind_index_phone(&key, "02 555 12 34")
    );
}
