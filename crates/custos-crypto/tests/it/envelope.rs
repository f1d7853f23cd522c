use custos_crypto::{
    Aad, CryptoError, Dek, KeyFile, KeyRing, open, rewrap, seal, unwrap_dek, wrap_dek,
    wrapped_dek_version,
};

use crate::{CREATED, key_ring};

const TENANT: &str = "acme";
const SUBJECT: &str = "sub_01";

fn aad(subject: &str, category: &str, record: &str) -> Aad {
    Aad::new(TENANT, subject, category, record).unwrap()
}

#[test]
fn full_hierarchy_round_trip() {
    let ring = key_ring();
    let kek = ring.current_kek(TENANT).unwrap();
    let dek = Dek::generate().unwrap();
    let subject = Aad::subject(TENANT, SUBJECT).unwrap();
    let wrapped = wrap_dek(&kek, &dek, &subject).unwrap();

    let sealed = seal(&dek, &aad(SUBJECT, "email", "r1"), b"alice@example.com").unwrap();
    drop(dek);

    // Later: only the wrapped DEK and the ciphertext are stored.
    let dek = unwrap_dek(&ring.current_kek(TENANT).unwrap(), &wrapped, &subject).unwrap();
    let plain = open(&dek, &aad(SUBJECT, "email", "r1"), &sealed).unwrap();
    assert_eq!(&plain[..], b"alice@example.com");
}

#[test]
fn swapped_ciphertexts_between_records_fail() {
    let dek = Dek::generate().unwrap();
    let one = seal(&dek, &aad(SUBJECT, "email", "r1"), b"alice@example.com").unwrap();
    let two = seal(&dek, &aad(SUBJECT, "email", "r2"), b"bob@example.com").unwrap();
    assert!(matches!(
        open(&dek, &aad(SUBJECT, "email", "r1"), &two),
        Err(CryptoError::Tampered)
    ));
    assert!(matches!(
        open(&dek, &aad(SUBJECT, "email", "r2"), &one),
        Err(CryptoError::Tampered)
    ));
}

#[test]
fn wrong_subject_category_or_tenant_fails() {
    let dek = Dek::generate().unwrap();
    let sealed = seal(&dek, &aad(SUBJECT, "email", "r1"), b"secret").unwrap();
    for wrong in [
        aad("sub_02", "email", "r1"),
        aad(SUBJECT, "phone", "r1"),
        Aad::new("other", SUBJECT, "email", "r1").unwrap(),
    ] {
        assert!(matches!(
            open(&dek, &wrong, &sealed),
            Err(CryptoError::Tampered)
        ));
    }
}

#[test]
fn wrong_dek_fails() {
    let sealed = seal(
        &Dek::generate().unwrap(),
        &aad(SUBJECT, "email", "r1"),
        b"x",
    )
    .unwrap();
    let err = open(
        &Dek::generate().unwrap(),
        &aad(SUBJECT, "email", "r1"),
        &sealed,
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::Tampered));
    assert_eq!(err.code(), "CRYPTO-0001");
}

#[test]
fn any_flipped_bit_fails() {
    let dek = Dek::generate().unwrap();
    let context = aad(SUBJECT, "email", "r1");
    let sealed = seal(&dek, &context, b"alice@example.com").unwrap();
    for i in 0..sealed.len() {
        for bit in [0x01u8, 0x80] {
            let mut altered = sealed.clone();
            altered[i] ^= bit;
            let err = open(&dek, &context, &altered).unwrap_err();
            if i == 0 {
                assert!(matches!(err, CryptoError::UnsupportedFormat(_)), "{err:?}");
            } else {
                assert!(matches!(err, CryptoError::Tampered), "byte {i}: {err:?}");
            }
        }
    }
}

#[test]
fn truncated_extended_and_unknown_version_fail() {
    let dek = Dek::generate().unwrap();
    let context = aad(SUBJECT, "email", "r1");
    let sealed = seal(&dek, &context, b"alice@example.com").unwrap();

    assert!(matches!(
        open(&dek, &context, &[]),
        Err(CryptoError::Malformed(_))
    ));
    assert!(matches!(
        open(&dek, &context, &sealed[..28]),
        Err(CryptoError::Malformed(_))
    ));
    // Cutting the end removes part of the tag: authentication fails.
    assert!(matches!(
        open(&dek, &context, &sealed[..sealed.len() - 1]),
        Err(CryptoError::Tampered)
    ));
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(matches!(
        open(&dek, &context, &longer),
        Err(CryptoError::Tampered)
    ));

    let mut v2 = sealed.clone();
    v2[0] = 0x02;
    let err = open(&dek, &context, &v2).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedFormat(0x02)));
    assert_eq!(
        err.to_string(),
        "unsupported ciphertext format version 0x02"
    );
}

#[test]
fn wrapped_dek_is_bound_to_subject_and_tenant_kek() {
    let ring = key_ring();
    let dek = Dek::generate().unwrap();
    let subject = Aad::subject(TENANT, SUBJECT).unwrap();
    let wrapped = wrap_dek(&ring.current_kek(TENANT).unwrap(), &dek, &subject).unwrap();
    let kek = ring.current_kek(TENANT).unwrap();
    assert!(matches!(
        unwrap_dek(&kek, &wrapped, &Aad::subject(TENANT, "sub_02").unwrap()),
        Err(CryptoError::Tampered)
    ));
    assert!(matches!(
        unwrap_dek(&ring.current_kek("other").unwrap(), &wrapped, &subject),
        Err(CryptoError::Tampered)
    ));
    assert!(matches!(
        unwrap_dek(&kek, &wrapped[..20], &subject),
        Err(CryptoError::Malformed(_))
    ));
    for i in 5..wrapped.len() {
        let mut altered = wrapped.clone();
        altered[i] ^= 0x10;
        assert!(matches!(
            unwrap_dek(&kek, &altered, &subject),
            Err(CryptoError::Tampered)
        ));
    }
}

#[test]
fn rotation_rewraps_without_touching_values() {
    let mut key_file = KeyFile::generate(CREATED).unwrap();
    let ring_v1 = KeyRing::from_keyfile(&key_file);
    let subject = Aad::subject(TENANT, SUBJECT).unwrap();
    let context = aad(SUBJECT, "email", "r1");

    let dek = Dek::generate().unwrap();
    let wrapped_v1 = wrap_dek(&ring_v1.current_kek(TENANT).unwrap(), &dek, &subject).unwrap();
    let sealed = seal(&dek, &context, b"alice@example.com").unwrap();
    drop(dek);
    assert_eq!(wrapped_dek_version(&wrapped_v1).unwrap(), 1);

    // Rotate: a new master key version becomes current.
    assert_eq!(key_file.rotate("2025-07-01T00:00:00Z").unwrap(), 2);
    let ring_both = KeyRing::from_keyfile(&key_file);
    assert_eq!(ring_both.current_version(), 2);
    let old_kek = ring_both
        .kek(TENANT, wrapped_dek_version(&wrapped_v1).unwrap())
        .unwrap();
    let new_kek = ring_both.current_kek(TENANT).unwrap();
    assert_eq!(new_kek.version(), 2);
    let wrapped_v2 = rewrap(&old_kek, &new_kek, &wrapped_v1, &subject).unwrap();
    assert_eq!(wrapped_dek_version(&wrapped_v2).unwrap(), 2);

    // Retire the old version: the old wrapped bytes are now useless, the new ones open the value.
    key_file.remove_master_key(1).unwrap();
    let ring_v2 = KeyRing::from_keyfile(&key_file);
    assert!(matches!(
        ring_v2.kek(TENANT, 1),
        Err(CryptoError::UnknownKeyVersion(1))
    ));
    let kek = ring_v2.current_kek(TENANT).unwrap();
    assert!(matches!(
        unwrap_dek(&kek, &wrapped_v1, &subject),
        Err(CryptoError::KeyVersionMismatch {
            expected: 2,
            found: 1
        })
    ));
    let dek = unwrap_dek(&kek, &wrapped_v2, &subject).unwrap();
    assert_eq!(
        &open(&dek, &context, &sealed).unwrap()[..],
        b"alice@example.com"
    );
}

#[test]
fn crypto_shredding_makes_values_unreadable() {
    // Erasure deletes the wrapped DEK; with it gone, no key in the ring opens the value.
    let ring = key_ring();
    let context = aad(SUBJECT, "email", "r1");
    let sealed = seal(&Dek::generate().unwrap(), &context, b"alice@example.com").unwrap();
    // A fresh DEK for the same subject (as if re-registered) does not open old ciphertext.
    let replacement = Dek::generate().unwrap();
    assert!(matches!(
        open(&replacement, &context, &sealed),
        Err(CryptoError::Tampered)
    ));
    assert_eq!(ring.current_version(), 1);
}

#[test]
fn generated_deks_differ() {
    let ring = key_ring();
    let kek = ring.current_kek(TENANT).unwrap();
    let subject = Aad::subject(TENANT, SUBJECT).unwrap();
    let a = Dek::generate().unwrap();
    let b = Dek::generate().unwrap();
    let sealed = seal(&a, &aad(SUBJECT, "email", "r1"), b"x").unwrap();
    assert!(open(&b, &aad(SUBJECT, "email", "r1"), &sealed).is_err());
    assert_ne!(
        wrap_dek(&kek, &a, &subject).unwrap(),
        wrap_dek(&kek, &a, &subject).unwrap()
    );
}

#[test]
fn debug_of_secrets_prints_no_key_bytes() {
    let key_file = KeyFile::generate(CREATED).unwrap();
    let ring = KeyRing::from_keyfile(&key_file);
    let shown = format!(
        "{key_file:?} {ring:?} {:?} {:?} {:?} {:?}",
        ring.current_kek(TENANT).unwrap(),
        Dek::generate().unwrap(),
        ring.blind_index_key(TENANT, "email").unwrap(),
        key_file.master_key(1).unwrap(),
    );
    let json: serde_json::Value = serde_json::from_slice(&key_file.to_json()).unwrap();
    let mut secrets = vec![
        json["index_key"].as_str().unwrap().to_owned(),
        json["api_key_pepper"].as_str().unwrap().to_owned(),
        json["master_keys"][0]["key"].as_str().unwrap().to_owned(),
    ];
    for key in [
        key_file.master_key(1).unwrap(),
        key_file.index_key(),
        key_file.api_key_pepper(),
    ] {
        let bytes = key.expose_secret();
        secrets.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
        secrets.push(format!("{bytes:?}"));
        // Any run of four decimal byte values, as a derived Debug of [u8; 32] would print them.
        secrets.push(format!(
            "{}, {}, {}, {}",
            bytes[0], bytes[1], bytes[2], bytes[3]
        ));
    }
    for secret in &secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "{shown} contains {secret}"
        );
    }
    assert!(shown.contains("SecretKey(***)"));
    assert!(shown.contains("Dek(***)"));
    assert!(shown.contains("BlindIndexKey(***)"));
}
