//! The default notice sink of the embedded service: each message becomes a JSON file
//! under `<data dir>/outbox/<tenant>/<message id>.json`, for an operator's mail tool
//! to pick up. Written to a temporary name and renamed, so a file is whole or absent;
//! named by message id, so a redelivery after a crash rewrites the same file.

use std::io::Write;
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
        std::fs::create_dir_all(&dir)
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
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(body.to_string().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &done)
        };
        write().map_err(|e| format!("cannot write the notice file: {}", e.kind()))
    }
}
