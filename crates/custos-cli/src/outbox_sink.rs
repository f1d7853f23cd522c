//! The default notice sink of the embedded service: each message becomes a JSON file
//! under `<data dir>/outbox/<tenant>/<message id>.json`, for an operator's mail tool
//! to pick up. Written to a temporary name and renamed, so a file is whole or absent;
//! named by message id, so a redelivery after a crash rewrites the same file.
//! Notices name people and carry sign-in codes: the directory is 0700 and every
//! file 0600, whatever the process umask (issue 17.11).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use custos_core::rights::Sink;
use custos_store::{OutboxMessage, TenantId};

#[derive(Debug)]
pub struct FileSink {
    pub dir: PathBuf,
}

impl Sink for FileSink {
    fn deliver(&self, tenant: &TenantId, m: &OutboxMessage) -> Result<(), String> {
        let dir = self.dir.join(tenant.as_str());
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("cannot create the outbox directory: {}", e.kind()))?;
        let body = serde_json::json!({
            "id": m.id,
            "tenant": tenant.as_str(),
            "subject": m.subject,
            "kind": m.kind,
            "payload": serde_json::from_str::<serde_json::Value>(&m.payload).unwrap_or(serde_json::Value::Null),
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
        write().map_err(|e| format!("cannot write the notice file: {}", e.kind()))
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
        let sink = FileSink { dir: root.clone() };
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
