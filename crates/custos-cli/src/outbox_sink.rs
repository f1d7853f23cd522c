//! The default notice sink of the embedded service: each message becomes a JSON file
//! under `<data dir>/outbox/<tenant>/<message id>.json`, for an operator's mail tool
//! to pick up. Written to a temporary name and renamed, so a file is whole or absent;
//! named by message id, so a redelivery after a crash rewrites the same file.
//! Notices name people and carry sign-in codes: the directory is 0700 and every
//! file 0600, whatever the process umask (issue 17.11), and a sign-in code's file is
//! deleted once the code has expired, picked up or not (issue 17.9).

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use custos_core::rights::Sink;
use custos_core::verification::CODE_KIND;
use custos_store::{OutboxMessage, TenantId, Timestamp};
use jiff::SignedDuration;

/// How often the directory is read again for code files this process did not write
/// (another instance sharing the directory, or an earlier run).
const RESCAN: SignedDuration = SignedDuration::from_mins(5);

#[derive(Debug)]
pub struct FileSink {
    dir: PathBuf,
    codes: Mutex<CodeFiles>,
}

/// The code files known to exist, soonest expiry first.
#[derive(Debug, Default)]
struct CodeFiles {
    files: BTreeSet<(Timestamp, PathBuf)>,
    scanned: Option<Timestamp>,
}

/// The expiry of a code message's payload.
fn code_expiry(payload: &serde_json::Value) -> Option<Timestamp> {
    payload.get("expires_at")?.as_str()?.parse().ok()
}

impl FileSink {
    pub fn new(dir: PathBuf) -> Self {
        FileSink {
            dir,
            codes: Mutex::new(CodeFiles::default()),
        }
    }

    fn codes(&self) -> std::sync::MutexGuard<'_, CodeFiles> {
        self.codes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every code file under the directory, with its expiry.
    fn scan(&self) -> Vec<(Timestamp, PathBuf)> {
        let mut found = Vec::new();
        let Ok(tenants) = std::fs::read_dir(&self.dir) else {
            return found;
        };
        for tenant in tenants.flatten() {
            let Ok(files) = std::fs::read_dir(tenant.path()) else {
                continue;
            };
            for f in files.flatten() {
                let path = f.path();
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                if let Some(expires) = file_code_expiry(&path) {
                    found.push((expires, path));
                }
            }
        }
        found
    }
}

/// The expiry of the code a notice file carries (`None`: not a code file).
fn file_code_expiry(path: &Path) -> Option<Timestamp> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    if v.get("kind")?.as_str()? != CODE_KIND {
        return None;
    }
    code_expiry(v.get("payload")?)
}

impl Sink for FileSink {
    fn deliver(&self, tenant: &TenantId, m: &OutboxMessage) -> Result<(), String> {
        let dir = self.dir.join(tenant.as_str());
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("cannot create the outbox directory: {}", e.kind()))?;
        let payload = serde_json::from_str::<serde_json::Value>(&m.payload)
            .unwrap_or(serde_json::Value::Null);
        let expires = (m.kind == CODE_KIND)
            .then(|| code_expiry(&payload))
            .flatten();
        let body = serde_json::json!({
            "id": m.id,
            "tenant": tenant.as_str(),
            "subject": m.subject,
            "kind": m.kind,
            "payload": payload,
            "created_at": m.created_at,
        });
        let tmp = dir.join(format!(".{}.tmp", m.id));
        let done = dir.join(format!("{}.json", m.id));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(body.to_string().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &done)
        };
        write().map_err(|e| format!("cannot write the notice file: {}", e.kind()))?;
        if let Some(expires) = expires {
            self.codes().files.insert((expires, done));
        }
        Ok(())
    }

    /// Deletes the files of codes expired at `now`: a code that can no longer be used
    /// stays on disk no longer than it is worth something.
    fn forget_expired(&self, now: Timestamp) {
        let rescan = self
            .codes()
            .scanned
            .is_none_or(|at| at.checked_add(RESCAN).is_ok_and(|due| now >= due));
        if rescan {
            // Read outside the lock: delivery may add a file meanwhile, kept either way.
            let found = self.scan();
            let mut codes = self.codes();
            codes.files.extend(found);
            codes.scanned = Some(now);
        }
        let mut codes = self.codes();
        while let Some(first) = codes.files.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, path)) = codes.files.pop_first() {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    // Picked up and removed by the mail tool already.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(error = %e.kind(), "cannot delete an expired code file");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn notice_files_are_readable_by_the_owner_only() {
        let root = std::env::temp_dir().join(format!("custos-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let sink = FileSink::new(root.clone());
        let tenant = TenantId::new("default").unwrap();
        let m = OutboxMessage {
            id: Default::default(),
            subject: None,
            kind: "verification.code".into(),
            payload: "{}".into(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            attempts: 0,
            next_attempt_at: jiff::Timestamp::UNIX_EPOCH,
            delivered_at: None,
            last_error: None,
        };
        sink.deliver(&tenant, &m).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root.join("default")), 0o700);
        let file = root
            .join("default")
            .join("00000000-0000-0000-0000-000000000000.json");
        assert_eq!(mode(&file), 0o600);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

#[cfg(test)]
mod expiry_tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn code_message(id: u128, expires: &str) -> OutboxMessage {
        OutboxMessage {
            id: custos_store::Uuid::from_u128(id),
            subject: None,
            kind: CODE_KIND.into(),
            payload: serde_json::json!({ "code": "123456", "expires_at": expires }).to_string(),
            created_at: t("2026-01-01T10:00:00Z"),
            attempts: 0,
            next_attempt_at: t("2026-01-01T10:00:00Z"),
            delivered_at: None,
            last_error: None,
        }
    }

    #[test]
    fn a_code_file_is_0600_and_deleted_once_the_code_expires_even_after_a_restart() {
        let root = std::env::temp_dir().join(format!("custos-codes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let tenant = TenantId::new("default").unwrap();
        let sink = FileSink::new(root.clone());
        sink.deliver(&tenant, &code_message(1, "2026-01-01T10:10:00Z"))
            .unwrap();
        sink.deliver(&tenant, &code_message(2, "2026-01-01T10:20:00Z"))
            .unwrap();
        let mut notice = code_message(3, "2026-01-01T10:10:00Z");
        notice.kind = "request.received".into();
        sink.deliver(&tenant, &notice).unwrap();
        let file = |n: u128| {
            root.join("default")
                .join(format!("{}.json", custos_store::Uuid::from_u128(n)))
        };
        let mode = std::fs::metadata(file(1)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        sink.forget_expired(t("2026-01-01T10:09:59Z"));
        assert!(file(1).exists() && file(2).exists());
        sink.forget_expired(t("2026-01-01T10:10:00Z"));
        assert!(!file(1).exists(), "expired code deleted");
        assert!(file(2).exists(), "live code kept");
        assert!(file(3).exists(), "other notices are the mail tool's");
        // A new process (restart, or another instance) finds the file on its first pass.
        let again = FileSink::new(root.clone());
        again.forget_expired(t("2026-01-01T10:20:00Z"));
        assert!(!file(2).exists());
        assert!(file(3).exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
