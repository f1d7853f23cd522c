use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use custos_crypto::{CryptoError, KeyFile, KeyRing};

use crate::CREATED;

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn create_new_writes_0600_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.key");
    let created = KeyFile::create_new(&path, CREATED).unwrap();
    assert_eq!(mode(&path), 0o600);
    let loaded = KeyFile::load(&path).unwrap();
    assert_eq!(loaded, created);

    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["master_keys"][0]["version"], 1);
    assert_eq!(json["master_keys"][0]["created"], CREATED);
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "api_key_pepper",
            "audit_signing_seed",
            "format",
            "index_key",
            "master_keys"
        ]
    );
}

#[test]
fn create_new_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.key");
    let first = KeyFile::create_new(&path, CREATED).unwrap();
    let err = KeyFile::create_new(&path, CREATED).unwrap_err();
    match &err {
        CryptoError::KeyFileIo { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(KeyFile::load(&path).unwrap(), first, "original untouched");
}

#[test]
fn load_refuses_group_or_world_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.key");
    KeyFile::create_new(&path, CREATED).unwrap();
    for bad in [0o644, 0o640, 0o604, 0o660] {
        fs::set_permissions(&path, fs::Permissions::from_mode(bad)).unwrap();
        let err = KeyFile::load(&path).unwrap_err();
        assert!(
            matches!(err, CryptoError::KeyFilePermissions { mode, .. } if mode == bad),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("chmod 600 {}", path.display())),
            "{message}"
        );
        assert_eq!(err.code(), "CRYPTO-0010");
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    KeyFile::load(&path).unwrap();
}

#[test]
fn load_missing_file_names_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.key");
    let err = KeyFile::load(&path).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileIo { .. }));
    assert!(err.to_string().contains("absent.key"), "{err}");
}

#[test]
fn invalid_file_error_never_contains_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.key");
    let key_file = KeyFile::create_new(&path, CREATED).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let secret = json["master_keys"][0]["key"].as_str().unwrap().to_owned();

    // Truncate the key by one character and put it where a number belongs.
    let mut broken = json.clone();
    broken["master_keys"][0]["key"] = secret[..secret.len() - 4].into();
    broken["master_keys"][0]["created"] = 5.into();
    fs::write(&path, broken.to_string()).unwrap();
    let err = KeyFile::load(&path).unwrap_err();
    assert!(!err.to_string().contains(&secret[..20]), "{err}");

    let mut broken = json.clone();
    broken["master_keys"][0]["version"] = secret.clone().into();
    fs::write(&path, broken.to_string()).unwrap();
    let err = KeyFile::load(&path).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileInvalid { .. }), "{err:?}");
    assert!(!err.to_string().contains(&secret[..20]), "{err}");
    assert!(!format!("{err:?}").contains(&secret[..20]), "{err:?}");
    drop(key_file);
}

#[test]
fn save_is_atomic_0600_and_keeps_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.key");
    let mut key_file = KeyFile::create_new(&path, CREATED).unwrap();
    assert_eq!(key_file.rotate("2025-07-01T00:00:00Z").unwrap(), 2);
    key_file.save(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    let loaded = KeyFile::load(&path).unwrap();
    assert_eq!(loaded, key_file);
    assert_eq!(loaded.current_version(), 2);
    assert_eq!(loaded.master_keys()[1].created(), "2025-07-01T00:00:00Z");
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["custos.key"]);

    // A saved file whose old version was retired still derives the same current KEK.
    let ring_before = KeyRing::from_keyfile(&loaded);
    key_file.remove_master_key(1).unwrap();
    key_file.save(&path).unwrap();
    let ring_after = KeyRing::from_keyfile(&KeyFile::load(&path).unwrap());
    assert_eq!(ring_after.versions().collect::<Vec<_>>(), [2]);
    assert_eq!(
        ring_before
            .blind_index_key("t", "email")
            .map(|k| custos_crypto::blind_index(&k, "x"))
            .unwrap(),
        ring_after
            .blind_index_key("t", "email")
            .map(|k| custos_crypto::blind_index(&k, "x"))
            .unwrap(),
    );
}

#[test]
fn save_into_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("custos.key");
    let key_file = KeyFile::generate(CREATED).unwrap();
    assert!(matches!(
        key_file.save(&path),
        Err(CryptoError::KeyFileIo { .. })
    ));
}

#[test]
fn generated_files_differ() {
    let dir = tempfile::tempdir().unwrap();
    let a = KeyFile::create_new(&dir.path().join("a.key"), CREATED).unwrap();
    let b = KeyFile::create_new(&dir.path().join("b.key"), CREATED).unwrap();
    assert_ne!(a, b);
    assert_ne!(a.master_key(1), b.master_key(1));
    assert_ne!(a.index_key(), b.index_key());
    assert_ne!(a.api_key_pepper(), b.api_key_pepper());
}

#[test]
fn load_and_upgrade_adds_the_audit_signing_seed_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custos.key");
    let created = KeyFile::create_new(&path, CREATED).unwrap();
    // A key file written before audit checkpoints: drop the seed, keep the mode.
    let mut json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("audit_signing_seed");
    fs::write(&path, json.to_string()).unwrap();
    assert!(KeyFile::load(&path).unwrap().audit_signing_seed().is_none());

    let (upgraded, added) = KeyFile::load_and_upgrade(&path).unwrap();
    assert!(added);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(upgraded.index_key(), created.index_key(), "other keys kept");
    assert_eq!(upgraded.master_key(1), created.master_key(1));
    let signer = KeyRing::from_keyfile(&upgraded).audit_signer().unwrap();

    let (again, added) = KeyFile::load_and_upgrade(&path).unwrap();
    assert!(!added, "added only once");
    assert_eq!(again, upgraded);
    assert_eq!(
        KeyRing::from_keyfile(&again)
            .audit_signer()
            .unwrap()
            .public_key(),
        signer.public_key()
    );
}
