//! The key file: the root of the key hierarchy, created on first run.
//!
//! ```json
//! {"format":1,
//!  "master_keys":[{"version":1,"key":"<base64 32 bytes>","created":"2025-01-01T00:00:00Z"}],
//!  "index_key":"<base64 32 bytes>",
//!  "api_key_pepper":"<base64 32 bytes>",
//!  "audit_signing_seed":"<base64 32 bytes>"}
//! ```
//!
//! * `audit_signing_seed` is the RFC 8032 Ed25519 private key that signs audit-log checkpoints
//!   (`docs/audit-proofs.md`). Key files written before it existed lack it;
//!   [`KeyFile::load_and_upgrade`] adds one (and saves the file) the first time it is loaded.
//!
//! * It is created with mode 0600 and `O_EXCL` ([`KeyFile::create_new`]) so that neither a
//!   permissive umask nor a race with another process can expose it, and [`KeyFile::load`] refuses
//!   a file that group or others can access, like `ssh` does with private keys.
//! * [`KeyFile::save`] replaces it atomically (temporary 0600 file in the same directory, fsync,
//!   rename, fsync of the directory) so a crash leaves either the old or the new file, never half.
//! * Master keys are versioned: [`KeyFile::rotate`] adds one, the highest version is current, and
//!   older versions stay until every wrapped DEK has been rewrapped, then
//!   [`KeyFile::remove_master_key`] retires them.
//! * Errors name the path and the field, never the key (see [`CryptoError`]).
//!
//! This is the only module of the crate that touches the file system.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{CryptoError, Result};
use crate::secret::{KEY_LEN, SecretKey, fill_random};

/// The only key-file format this build reads and writes.
pub const KEY_FILE_FORMAT: u32 = 1;

/// Key files are a few hundred bytes; anything much larger is not ours.
const MAX_KEY_FILE_LEN: u64 = 1 << 20;

/// One version of the master key, from which per-tenant KEKs are derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKey {
    version: u32,
    key: SecretKey,
    created: String,
}

impl MasterKey {
    /// The version number (1, 2, ...), stored next to every wrapped DEK.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The key itself.
    #[must_use]
    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// When it was made, as the RFC 3339 string the caller passed in.
    #[must_use]
    pub fn created(&self) -> &str {
        &self.created
    }
}

/// The parsed key file. Always holds at least one master key; the highest version is current.
///
/// `Debug` shows versions and dates but every key as `SecretKey(***)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    master_keys: Vec<MasterKey>,
    index_key: SecretKey,
    api_key_pepper: SecretKey,
    audit_signing_seed: Option<SecretKey>,
}

/// The on-disk shape. Key strings live in `Zeroizing` so the base64 copies are wiped too.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    format: u32,
    master_keys: Vec<MasterKeyJson>,
    index_key: Zeroizing<String>,
    api_key_pepper: Zeroizing<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audit_signing_seed: Option<Zeroizing<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MasterKeyJson {
    version: u32,
    key: Zeroizing<String>,
    created: String,
}

impl KeyFile {
    /// Key-check values: for every key of the file, `HMAC-SHA256(key, label)`
    /// under a fixed label, named `master-<version>`, `index`, `api-pepper` and
    /// `audit-signing`. The database stores them so that a missing, different or
    /// damaged key file is recognised before it is used (fail closed); a value
    /// reveals nothing about its key (a MAC of a public constant).
    #[must_use]
    pub fn key_checks(&self) -> Vec<(String, [u8; 32])> {
        fn kcv(key: &SecretKey) -> [u8; 32] {
            let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.expose_secret());
            let tag = ring::hmac::sign(&mac, b"custos key check v1");
            let mut out = [0u8; 32];
            out.copy_from_slice(tag.as_ref());
            out
        }
        let mut out: Vec<(String, [u8; 32])> = self
            .master_keys
            .iter()
            .map(|m| (format!("master-{}", m.version), kcv(&m.key)))
            .collect();
        out.push(("index".to_owned(), kcv(&self.index_key)));
        out.push(("api-pepper".to_owned(), kcv(&self.api_key_pepper)));
        if let Some(seed) = &self.audit_signing_seed {
            out.push(("audit-signing".to_owned(), kcv(seed)));
        }
        out
    }

    /// A new key file in memory: master key version 1, an index key and an API-key pepper, all
    /// fresh from the system CSPRNG. `created` is the RFC 3339 time of creation (time is injected).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system generator fails.
    pub fn generate(created: &str) -> Result<Self> {
        Ok(Self {
            master_keys: vec![MasterKey {
                version: 1,
                key: SecretKey::generate()?,
                created: created.to_owned(),
            }],
            index_key: SecretKey::generate()?,
            api_key_pepper: SecretKey::generate()?,
            audit_signing_seed: Some(SecretKey::generate()?),
        })
    }

    /// Generates a key file and writes it to `path`, which must not exist yet, with mode 0600.
    ///
    /// # Errors
    /// [`CryptoError::KeyFileIo`] if the file exists or cannot be written (a partly written file is
    /// removed), [`CryptoError::Rng`] if the system generator fails.
    pub fn create_new(path: &Path, created: &str) -> Result<Self> {
        let key_file = Self::generate(created)?;
        let json = key_file.to_json();
        let mut file = open_private(path)?;
        let written = file
            .write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|source| io_error(path, source));
        if let Err(err) = written {
            drop(file);
            // Leave nothing half-written behind: the next start would refuse it or, worse, use it.
            let _ = std::fs::remove_file(path);
            return Err(err);
        }
        sync_parent_dir(path)?;
        Ok(key_file)
    }

    /// Reads and validates the key file at `path`.
    ///
    /// # Errors
    /// [`CryptoError::KeyFilePermissions`] if group or others can access it,
    /// [`CryptoError::KeyFileIo`] if it cannot be read, [`CryptoError::KeyFileInvalid`] if its
    /// content is not a valid key file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|source| io_error(path, source))?;
        // Check the mode on the open handle, not the path, so the file cannot be swapped between
        // the check and the read.
        let metadata = file.metadata().map_err(|source| io_error(path, source))?;
        check_private(path, &metadata)?;
        if !metadata.is_file() {
            return Err(invalid(path, "not a regular file".to_owned()));
        }
        if metadata.len() > MAX_KEY_FILE_LEN {
            return Err(invalid(path, "larger than 1 MiB".to_owned()));
        }
        // Pre-size the buffer so reading never reallocates and leaves unwiped copies behind.
        let capacity = usize::try_from(metadata.len())
            .unwrap_or(0)
            .saturating_add(1);
        let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
        file.read_to_end(&mut bytes)
            .map_err(|source| io_error(path, source))?;
        Self::parse(path, &bytes)
    }

    /// [`KeyFile::load`], then, if the file has no `audit_signing_seed` (it predates audit
    /// checkpoints), generates one and saves the file atomically. Returns whether it added one.
    ///
    /// # Errors
    /// As [`KeyFile::load`] and [`KeyFile::save`]; [`CryptoError::Rng`] if the generator fails.
    pub fn load_and_upgrade(path: &Path) -> Result<(Self, bool)> {
        let mut key_file = Self::load(path)?;
        let added = key_file.add_missing_keys()?;
        if added {
            key_file.save(path)?;
        }
        Ok((key_file, added))
    }

    /// Generates the keys a key file of an older build lacks (the audit signing seed); returns
    /// whether it added any. The caller saves the file.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system generator fails.
    pub fn add_missing_keys(&mut self) -> Result<bool> {
        if self.audit_signing_seed.is_some() {
            return Ok(false);
        }
        self.audit_signing_seed = Some(SecretKey::generate()?);
        Ok(true)
    }

    /// Parses key-file JSON held in memory (for a key file passed through an environment
    /// variable, for example).
    ///
    /// # Errors
    /// [`CryptoError::KeyFileInvalid`] if it is not a valid key file.
    pub fn from_json(json: &[u8]) -> Result<Self> {
        Self::parse(Path::new(""), json)
    }

    /// The key file as JSON, in a buffer that is wiped when dropped.
    #[must_use]
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let doc = KeyFileJson {
            format: KEY_FILE_FORMAT,
            master_keys: self
                .master_keys
                .iter()
                .map(|master| MasterKeyJson {
                    version: master.version,
                    key: encode(&master.key),
                    created: master.created.clone(),
                })
                .collect(),
            index_key: encode(&self.index_key),
            api_key_pepper: encode(&self.api_key_pepper),
            audit_signing_seed: self.audit_signing_seed.as_ref().map(encode),
        };
        // Room for everything up front, so serialising never reallocates and leaves copies.
        let capacity = 256usize.saturating_add(self.master_keys.len().saturating_mul(256));
        let mut out = Zeroizing::new(Vec::with_capacity(capacity));
        // Serialising plain strings and integers into a Vec cannot fail; fall back to empty output
        // rather than panic, which `parse` would then reject.
        if serde_json::to_writer_pretty(&mut *out, &doc).is_err() {
            out.clear();
        }
        out.push(b'\n');
        out
    }

    /// Writes the key file to `path` atomically: a temporary 0600 file in the same directory,
    /// fsync, rename over `path`, fsync of the directory.
    ///
    /// # Errors
    /// [`CryptoError::KeyFileIo`] if any step fails (the temporary file is removed).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = temp_path(path)?;
        let json = self.to_json();
        let mut file = open_private(&tmp)?;
        let written = file
            .write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|source| io_error(&tmp, source));
        drop(file);
        let renamed =
            written.and_then(|()| std::fs::rename(&tmp, path).map_err(|s| io_error(path, s)));
        if let Err(err) = renamed {
            let _ = std::fs::remove_file(&tmp);
            return Err(err);
        }
        sync_parent_dir(path)
    }

    /// Adds a new master key version (the highest so far plus one) and makes it current. Callers
    /// then rewrap each DEK with [`crate::envelope::rewrap`] and finally retire the old version.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the system generator fails, [`CryptoError::InvalidInput`] if the
    /// version number would overflow.
    pub fn rotate(&mut self, created: &str) -> Result<u32> {
        let version = self
            .current_version()
            .checked_add(1)
            .ok_or(CryptoError::InvalidInput(
                "master key version would overflow",
            ))?;
        self.master_keys.push(MasterKey {
            version,
            key: SecretKey::generate()?,
            created: created.to_owned(),
        });
        Ok(version)
    }

    /// Removes an old master key version once no wrapped DEK uses it any more. Data still wrapped
    /// under it becomes unreadable, which is the point.
    ///
    /// # Errors
    /// [`CryptoError::CannotRemoveCurrentKey`] for the current version,
    /// [`CryptoError::UnknownKeyVersion`] if there is no such version.
    pub fn remove_master_key(&mut self, version: u32) -> Result<()> {
        if version == self.current_version() {
            return Err(CryptoError::CannotRemoveCurrentKey(version));
        }
        let before = self.master_keys.len();
        self.master_keys.retain(|master| master.version != version);
        if self.master_keys.len() == before {
            return Err(CryptoError::UnknownKeyVersion(version));
        }
        Ok(())
    }

    /// The current (highest) master key version.
    #[must_use]
    pub fn current_version(&self) -> u32 {
        self.master_keys
            .iter()
            .map(|master| master.version)
            .max()
            .unwrap_or(0)
    }

    /// All master keys, oldest first.
    #[must_use]
    pub fn master_keys(&self) -> &[MasterKey] {
        &self.master_keys
    }

    /// The master key with this version, if it has not been removed.
    #[must_use]
    pub fn master_key(&self, version: u32) -> Option<&SecretKey> {
        self.master_keys
            .iter()
            .find(|master| master.version == version)
            .map(|master| &master.key)
    }

    /// The key from which blind-index keys are derived.
    #[must_use]
    pub fn index_key(&self) -> &SecretKey {
        &self.index_key
    }

    /// The pepper for API-key hashes.
    #[must_use]
    pub fn api_key_pepper(&self) -> &SecretKey {
        &self.api_key_pepper
    }

    /// The Ed25519 seed that signs audit checkpoints; `None` in a key file written before audit
    /// checkpoints existed (see [`KeyFile::load_and_upgrade`]).
    #[must_use]
    pub fn audit_signing_seed(&self) -> Option<&SecretKey> {
        self.audit_signing_seed.as_ref()
    }

    fn parse(path: &Path, json: &[u8]) -> Result<Self> {
        let doc: KeyFileJson =
            serde_json::from_slice(json).map_err(|err| invalid(path, describe_json_error(&err)))?;
        if doc.format != KEY_FILE_FORMAT {
            return Err(invalid(
                path,
                format!(
                    "format {} is not supported (expected {KEY_FILE_FORMAT})",
                    doc.format
                ),
            ));
        }
        if doc.master_keys.is_empty() {
            return Err(invalid(path, "master_keys is empty".to_owned()));
        }
        let mut master_keys: Vec<MasterKey> = Vec::with_capacity(doc.master_keys.len());
        for (i, master) in doc.master_keys.iter().enumerate() {
            if master.version == 0 {
                return Err(invalid(
                    path,
                    format!("master_keys[{i}].version must be >= 1"),
                ));
            }
            if master_keys.iter().any(|m| m.version == master.version) {
                return Err(invalid(
                    path,
                    format!("master_keys[{i}].version {} is repeated", master.version),
                ));
            }
            master_keys.push(MasterKey {
                version: master.version,
                key: decode(path, &master.key, &format!("master_keys[{i}].key"))?,
                created: master.created.clone(),
            });
        }
        Ok(Self {
            master_keys,
            index_key: decode(path, &doc.index_key, "index_key")?,
            api_key_pepper: decode(path, &doc.api_key_pepper, "api_key_pepper")?,
            audit_signing_seed: doc
                .audit_signing_seed
                .as_ref()
                .map(|seed| decode(path, seed, "audit_signing_seed"))
                .transpose()?,
        })
    }
}

fn encode(key: &SecretKey) -> Zeroizing<String> {
    Zeroizing::new(BASE64.encode(key.expose_secret()))
}

fn decode(path: &Path, text: &str, field: &str) -> Result<SecretKey> {
    // base64's own errors quote the offending byte; ours name only the field.
    let bytes = Zeroizing::new(
        BASE64
            .decode(text.trim())
            .map_err(|_| invalid(path, format!("{field} is not valid base64")))?,
    );
    if bytes.len() != KEY_LEN {
        return Err(invalid(
            path,
            format!(
                "{field} must decode to {KEY_LEN} bytes, not {}",
                bytes.len()
            ),
        ));
    }
    SecretKey::try_from_slice(&bytes)
}

/// serde_json's messages quote string values (`invalid type: string "…"`), which could be a key;
/// keep its message only when it quotes nothing, otherwise say where the problem is.
fn describe_json_error(err: &serde_json::Error) -> String {
    let message = err.to_string();
    if message.contains('"') {
        format!(
            "unexpected value at line {} column {}",
            err.line(),
            err.column()
        )
    } else {
        message
    }
}

fn invalid(path: &Path, reason: String) -> CryptoError {
    CryptoError::KeyFileInvalid {
        path: path.to_path_buf(),
        reason,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> CryptoError {
    CryptoError::KeyFileIo {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens a new file (failing if it exists) that only the owner can read and write.
fn open_private(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(|source| io_error(path, source))
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::KeyFilePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

/// `<dir>/.<name>.tmp-<random>` beside the target, so the rename stays within one file system.
fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or(CryptoError::InvalidInput("key file path has no file name"))?;
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{hex}"));
    Ok(path.with_file_name(tmp_name))
}

/// Makes a create or rename durable by syncing the directory entry.
fn sync_parent_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| io_error(dir, source))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: &str = "2025-01-01T00:00:00Z";

    #[test]
    fn json_round_trip() {
        let key_file = KeyFile::generate(CREATED).unwrap();
        let json = key_file.to_json();
        let parsed = KeyFile::from_json(&json).unwrap();
        assert_eq!(parsed, key_file);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["format"], 1);
        assert_eq!(value["master_keys"][0]["version"], 1);
        assert_eq!(value["master_keys"][0]["created"], CREATED);
        assert_eq!(
            BASE64
                .decode(value["index_key"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn generated_key_files_differ() {
        let a = KeyFile::generate(CREATED).unwrap();
        let b = KeyFile::generate(CREATED).unwrap();
        assert_ne!(a.master_key(1), b.master_key(1));
        assert_ne!(a.index_key(), b.index_key());
        assert_ne!(a.api_key_pepper(), b.api_key_pepper());
        // Within one file too: the three keys are independent.
        assert_ne!(a.master_key(1), Some(a.index_key()));
        assert_ne!(a.index_key(), a.api_key_pepper());
    }

    #[test]
    fn rotate_adds_versions_and_remove_retires_old_ones() {
        let mut key_file = KeyFile::generate(CREATED).unwrap();
        assert_eq!(key_file.current_version(), 1);
        assert_eq!(key_file.rotate("2025-06-01T00:00:00Z").unwrap(), 2);
        assert_eq!(key_file.rotate("2026-01-01T00:00:00Z").unwrap(), 3);
        assert_eq!(key_file.current_version(), 3);
        assert_ne!(key_file.master_key(1), key_file.master_key(3));
        assert!(matches!(
            key_file.remove_master_key(3),
            Err(CryptoError::CannotRemoveCurrentKey(3))
        ));
        key_file.remove_master_key(1).unwrap();
        assert!(key_file.master_key(1).is_none());
        assert!(matches!(
            key_file.remove_master_key(1),
            Err(CryptoError::UnknownKeyVersion(1))
        ));
        // Rotation continues from the highest version, never reusing a retired number.
        key_file.remove_master_key(2).unwrap();
        assert_eq!(key_file.rotate(CREATED).unwrap(), 4);
        let versions: Vec<u32> = key_file
            .master_keys()
            .iter()
            .map(MasterKey::version)
            .collect();
        assert_eq!(versions, [3, 4]);
    }

    #[test]
    fn rejects_bad_content_without_quoting_keys() {
        let key_file = KeyFile::generate(CREATED).unwrap();
        let good: serde_json::Value = serde_json::from_slice(&key_file.to_json()).unwrap();
        let secret = good["index_key"].as_str().unwrap().to_owned();

        let cases: Vec<(serde_json::Value, &str)> = vec![
            (
                {
                    let mut v = good.clone();
                    v["format"] = 2.into();
                    v
                },
                "format 2",
            ),
            (
                {
                    let mut v = good.clone();
                    v["master_keys"] = serde_json::json!([]);
                    v
                },
                "empty",
            ),
            (
                {
                    let mut v = good.clone();
                    v["index_key"] = "!!!".into();
                    v
                },
                "index_key is not valid base64",
            ),
            (
                {
                    let mut v = good.clone();
                    v["api_key_pepper"] = "AAAA".into();
                    v
                },
                "api_key_pepper must decode to 32 bytes",
            ),
            (
                {
                    let mut v = good.clone();
                    v["master_keys"][0]["version"] = 0.into();
                    v
                },
                ">= 1",
            ),
            // A key in the wrong place: serde would quote it in its message.
            (
                {
                    let mut v = good.clone();
                    v["format"] = secret.clone().into();
                    v
                },
                "unexpected value",
            ),
            (
                {
                    let mut v = good.clone();
                    v["extra"] = 1.into();
                    v
                },
                "unknown field",
            ),
        ];
        for (doc, expected) in cases {
            let err = KeyFile::from_json(doc.to_string().as_bytes()).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.code(), "CRYPTO-0011");
            assert!(message.contains(expected), "{message} lacks {expected}");
            assert!(!message.contains(&secret), "{message}");
        }
        let mut repeated = good.clone();
        let first = repeated["master_keys"][0].clone();
        repeated["master_keys"].as_array_mut().unwrap().push(first);
        let err = KeyFile::from_json(repeated.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("repeated"), "{err}");
    }

    #[test]
    fn audit_signing_seed_is_generated_and_added_when_missing() {
        let key_file = KeyFile::generate(CREATED).unwrap();
        let seed = key_file.audit_signing_seed().unwrap().clone();
        assert_ne!(&seed, key_file.index_key());
        let json = key_file.to_json();
        assert_eq!(KeyFile::from_json(&json).unwrap(), key_file);
        // A key file of an older build: no seed; it still loads, and one is added on demand.
        let mut value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        value.as_object_mut().unwrap().remove("audit_signing_seed");
        let mut old = KeyFile::from_json(value.to_string().as_bytes()).unwrap();
        assert!(old.audit_signing_seed().is_none());
        assert!(
            !String::from_utf8(old.to_json().to_vec())
                .unwrap()
                .contains("audit_signing_seed")
        );
        assert!(old.add_missing_keys().unwrap());
        assert!(old.audit_signing_seed().is_some());
        assert!(!old.add_missing_keys().unwrap(), "only once");
        value["audit_signing_seed"] = "AAAA".into();
        let err = KeyFile::from_json(value.to_string().as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("audit_signing_seed must decode to 32 bytes"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_keys() {
        let key_file = KeyFile::generate(CREATED).unwrap();
        let shown = format!("{key_file:?}");
        let json = String::from_utf8(key_file.to_json().to_vec()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for key in [
            value["index_key"].as_str().unwrap(),
            value["api_key_pepper"].as_str().unwrap(),
            value["master_keys"][0]["key"].as_str().unwrap(),
        ] {
            assert!(!shown.contains(key), "{shown}");
        }
        assert!(shown.contains("SecretKey(***)"), "{shown}");
    }
}
