//! `impl MerkleStore for SqliteStore`: the audit log's Merkle tree (`audit_nodes`,
//! `audit_tree_heads`) and its signed checkpoints (`audit_checkpoints`).
//!
//! The tree is written by [`TreeWriter`] inside the audit append's transaction (see
//! `store::append_audits`); this module also serves the reads proofs need.

use custos_audit::canonical;
use custos_audit::checkpoint::{Checkpoint, SignedCheckpoint};
use custos_audit::merkle::{CompactTree, Hash, leaf_hash};
use custos_store::{AuditDraft, AuditRef, MerkleStore, Result, StoreError, TenantId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::codec::{self, db, int};

/// Entries read per statement when the tree catches up with the log.
const CATCH_UP_PAGE: usize = 10_000;

/// A tenant's tree during a write transaction: loaded from its head row, extended
/// leaf by leaf (each completed subtree inserted into `audit_nodes`), and saved back
/// to the head row once at the end, so a batch of appends writes the head once.
#[derive(Debug)]
pub(crate) struct TreeWriter {
    compact: CompactTree,
    dirty: bool,
}

impl TreeWriter {
    /// Loads the tenant's tree and adds the entries `1..=entries` of its log that
    /// the tree lacks (written before the tree existed, or imported).
    pub(crate) fn open(conn: &Connection, tenant: &TenantId, entries: u64) -> Result<Self> {
        let head = conn
            .prepare_cached("SELECT size, frontier FROM audit_tree_heads WHERE tenant = ?1")
            .and_then(|mut st| {
                st.query_row([tenant.as_str()], |row| {
                    Ok((codec::u64_col(row, 0)?, row.get::<_, Vec<u8>>(1)?))
                })
                .optional()
            })
            .map_err(db)?;
        let mut writer = match head {
            None => TreeWriter {
                compact: CompactTree::new(),
                dirty: true,
            },
            Some((size, frontier)) => TreeWriter {
                compact: decode_frontier(tenant, size, &frontier)?,
                dirty: false,
            },
        };
        if writer.compact.size() > entries {
            return Err(StoreError::Corrupt(format!(
                "audit tree of tenant {tenant} has {} leaves but the log {entries} entries",
                writer.compact.size()
            )));
        }
        while writer.compact.size() < entries {
            let from = writer.compact.size() + 1;
            let page = conn
                .prepare_cached(
                    "SELECT seq, at, actor, key_id, action, purpose, subject, categories, \
                     outcome, reason, request_id, prev_hash, hash FROM audit_log \
                     WHERE tenant = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
                )
                .and_then(|mut st| {
                    st.query_map(
                        params![tenant.as_str(), int(from), int(entries), int(CATCH_UP_PAGE)],
                        codec::audit_entry,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(db)?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                if e.seq != writer.compact.size() + 1 {
                    return Err(StoreError::Corrupt(format!(
                        "audit log of tenant {tenant} has a gap before seq {}",
                        e.seq
                    )));
                }
                let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
                let leaf = leaf_hash(&canonical(&e.hash_fields(tenant, &subject)));
                writer.push(conn, tenant, leaf)?;
            }
        }
        Ok(writer)
    }

    /// Appends a leaf, inserting every full subtree it completes.
    pub(crate) fn push(&mut self, conn: &Connection, tenant: &TenantId, leaf: Hash) -> Result<()> {
        let mut st = conn
            .prepare_cached(
                "INSERT INTO audit_nodes (tenant, level, idx, hash) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db)?;
        let mut failed = None;
        self.compact.append_with(leaf, |level, index, hash| {
            if failed.is_none()
                && let Err(e) =
                    st.execute(params![tenant.as_str(), level, int(index), hash.as_slice()])
            {
                failed = Some(e);
            }
        });
        self.dirty = true;
        // On error the caller's transaction rolls back, this half-updated tree with it.
        failed.map_or(Ok(()), |e| Err(db(e)))
    }

    pub(crate) fn size(&self) -> u64 {
        self.compact.size()
    }

    /// Writes the size and frontier to the head row, if anything changed.
    pub(crate) fn save(&self, conn: &Connection, tenant: &TenantId) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let frontier: Vec<u8> = self.compact.frontier().concat();
        conn.prepare_cached(
            "INSERT INTO audit_tree_heads (tenant, size, frontier) VALUES (?1, ?2, ?3) \
             ON CONFLICT (tenant) DO UPDATE SET size = excluded.size, frontier = excluded.frontier",
        )
        .and_then(|mut st| st.execute(params![tenant.as_str(), int(self.compact.size()), frontier]))
        .map_err(db)?;
        Ok(())
    }
}

fn decode_frontier(tenant: &TenantId, size: u64, bytes: &[u8]) -> Result<CompactTree> {
    let hashes: Option<Vec<Hash>> = bytes
        .chunks(32)
        .map(|c| <[u8; 32]>::try_from(c).ok())
        .collect();
    hashes
        .and_then(|h| CompactTree::from_frontier(size, h))
        .ok_or_else(|| {
            StoreError::Corrupt(format!("audit tree head of tenant {tenant} is malformed"))
        })
}

/// `tenant, tree_size, root_hash, timestamp, signature`
pub(crate) fn checkpoint_row(row: &Row<'_>) -> rusqlite::Result<SignedCheckpoint> {
    let signature = row.get::<_, Vec<u8>>(4)?;
    Ok(SignedCheckpoint {
        checkpoint: Checkpoint {
            tenant: row.get(0)?,
            tree_size: codec::u64_col(row, 1)?,
            root_hash: codec::hash32(row, 2)?,
            timestamp_micros: row.get(3)?,
        },
        signature: <[u8; 64]>::try_from(signature.as_slice()).map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Blob,
                "expected 64 bytes".into(),
            )
        })?,
    })
}

fn last_seq(conn: &Connection, tenant: &TenantId) -> Result<u64> {
    conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE tenant = ?1")
        .and_then(|mut st| st.query_row([tenant.as_str()], |row| codec::u64_col(row, 0)))
        .map_err(db)
}

impl MerkleStore for SqliteStore {
    fn node(&self, tenant: &TenantId, level: u32, index: u64) -> Result<Option<Hash>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT hash FROM audit_nodes WHERE tenant = ?1 AND level = ?2 AND idx = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), level, int(index)], |row| {
                    codec::hash32(row, 0)
                })
                .optional()
            })
            .map_err(db)
        })
    }

    fn nodes(
        &self,
        tenant: &TenantId,
        level: u32,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Hash)>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT idx, hash FROM audit_nodes WHERE tenant = ?1 AND level = ?2 \
                 AND idx >= ?3 ORDER BY idx LIMIT ?4",
            )
            .and_then(|mut st| {
                st.query_map(
                    params![tenant.as_str(), level, int(from), int(limit)],
                    |row| Ok((codec::u64_col(row, 0)?, codec::hash32(row, 1)?)),
                )?
                .collect()
            })
            .map_err(db)
        })
    }

    fn tree_size(&self, tenant: &TenantId) -> Result<u64> {
        self.read(|conn| {
            conn.prepare_cached("SELECT size FROM audit_tree_heads WHERE tenant = ?1")
                .and_then(|mut st| {
                    st.query_row([tenant.as_str()], |row| codec::u64_col(row, 0))
                        .optional()
                })
                .map(Option::unwrap_or_default)
                .map_err(db)
        })
    }

    fn catch_up_tree(&self, tenant: &TenantId) -> Result<u64> {
        self.write(|tx| {
            let entries = last_seq(tx, tenant)?;
            if entries == 0 {
                return Ok(0);
            }
            let tree = TreeWriter::open(tx, tenant, entries)?;
            tree.save(tx, tenant)?;
            Ok(tree.size())
        })
    }

    fn append_audit_batch(
        &self,
        tenant: &TenantId,
        drafts: &[AuditDraft],
    ) -> Result<Vec<AuditRef>> {
        self.write(|tx| crate::store::append_audits(tx, tenant, drafts))
    }

    fn store_checkpoint(&self, tenant: &TenantId, signed: &SignedCheckpoint) -> Result<bool> {
        let cp = &signed.checkpoint;
        if cp.tenant != tenant.as_str() {
            return Err(StoreError::Conflict(
                "checkpoint names another tenant".to_owned(),
            ));
        }
        self.write(|tx| {
            let size = tx
                .prepare_cached("SELECT size FROM audit_tree_heads WHERE tenant = ?1")
                .and_then(|mut st| {
                    st.query_row([tenant.as_str()], |row| codec::u64_col(row, 0))
                        .optional()
                })
                .map_err(db)?
                .unwrap_or_default();
            if cp.tree_size > size {
                return Err(StoreError::Conflict(format!(
                    "checkpoint of size {} is beyond the audit tree ({size})",
                    cp.tree_size
                )));
            }
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO audit_checkpoints \
                     (tenant, tree_size, root_hash, timestamp, signature) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant, tree_size) DO NOTHING",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.as_str(),
                        int(cp.tree_size),
                        cp.root_hash.as_slice(),
                        cp.timestamp_micros,
                        signed.signature.as_slice(),
                    ])
                })
                .map_err(db)?;
            Ok(inserted == 1)
        })
    }

    fn checkpoints(&self, tenant: &TenantId) -> Result<Vec<SignedCheckpoint>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT tenant, tree_size, root_hash, timestamp, signature \
                 FROM audit_checkpoints WHERE tenant = ?1 ORDER BY tree_size",
            )
            .and_then(|mut st| st.query_map([tenant.as_str()], checkpoint_row)?.collect())
            .map_err(db)
        })
    }

    fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<SignedCheckpoint>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT tenant, tree_size, root_hash, timestamp, signature \
                 FROM audit_checkpoints WHERE tenant = ?1 ORDER BY tree_size DESC LIMIT 1",
            )
            .and_then(|mut st| st.query_row([tenant.as_str()], checkpoint_row).optional())
            .map_err(db)
        })
    }
}
