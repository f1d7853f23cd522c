//! `impl MerkleStore for PostgresStore`: the audit log's Merkle tree
//! (`audit_nodes`, and the size and frontier in the tenant's `audit_heads` row) and
//! its signed checkpoints (`audit_checkpoints`).
//!
//! The tree is extended by `store::append_audits`, under the same `FOR UPDATE`
//! lock on the head row as the chain, so appends from any number of instances
//! take turns and the tree never forks.

use custos_audit::canonical;
use custos_audit::checkpoint::{Checkpoint, SignedCheckpoint};
use custos_audit::merkle::{CompactTree, Hash, leaf_hash};
use custos_store::{AuditDraft, AuditRef, MerkleStore, Result, StoreError, TenantId};
use postgres::{GenericClient, Row};

use crate::PostgresStore;
use crate::codec::{self, Session, get, int};

/// Entries read per statement when the tree catches up with the log.
const CATCH_UP_PAGE: usize = 10_000;

/// Full subtrees completed by appends, as the three arrays `UNNEST` takes.
#[derive(Debug, Default)]
pub(crate) struct NewNodes {
    pub(crate) levels: Vec<i32>,
    pub(crate) indexes: Vec<i64>,
    pub(crate) hashes: Vec<Vec<u8>>,
}

impl NewNodes {
    /// Appends `leaf` to `tree`, collecting the nodes it completes.
    pub(crate) fn push(&mut self, tree: &mut CompactTree, leaf: Hash) {
        tree.append_with(leaf, |level, index, hash| {
            self.levels.push(i32::try_from(level).unwrap_or(i32::MAX));
            self.indexes.push(int(index));
            self.hashes.push(hash.to_vec());
        });
    }

    fn clear(&mut self) {
        self.levels.clear();
        self.indexes.clear();
        self.hashes.clear();
    }
}

/// The tree from a head row's `tree_size` and `frontier`, extended with the log's
/// entries `tree_size+1 ..= entries` that it lacks (written before the tree
/// existed, or imported); their nodes are inserted. The caller holds the head
/// row's lock and writes the new size and frontier back.
pub(crate) fn open_tree<C: GenericClient>(
    s: &mut Session<'_, C>,
    tenant: &TenantId,
    tree_size: u64,
    frontier: &[u8],
    entries: u64,
) -> Result<CompactTree> {
    let hashes: Option<Vec<Hash>> = frontier
        .chunks(32)
        .map(|c| <[u8; 32]>::try_from(c).ok())
        .collect();
    let mut tree = hashes
        .and_then(|h| CompactTree::from_frontier(tree_size, h))
        .ok_or_else(|| {
            StoreError::Corrupt(format!("audit tree head of tenant {tenant} is malformed"))
        })?;
    if tree.size() > entries {
        return Err(StoreError::Corrupt(format!(
            "audit tree of tenant {tenant} has {} leaves but the log {entries} entries",
            tree.size()
        )));
    }
    let mut nodes = NewNodes::default();
    while tree.size() < entries {
        let rows = s.query(
            "SELECT seq, at, actor, key_id, action, purpose, subject, categories, outcome, \
             reason, request_id, prev_hash, hash FROM audit_log \
             WHERE tenant = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
            &[
                &tenant.as_str(),
                &int(tree.size()),
                &int(entries),
                &int(CATCH_UP_PAGE),
            ],
        )?;
        if rows.is_empty() {
            break;
        }
        nodes.clear();
        for row in &rows {
            let e = codec::audit_entry(row)?;
            if e.seq != tree.size() + 1 {
                return Err(StoreError::Corrupt(format!(
                    "audit log of tenant {tenant} has a gap before seq {}",
                    e.seq
                )));
            }
            let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
            nodes.push(
                &mut tree,
                leaf_hash(&canonical(&e.hash_fields(tenant, &subject))),
            );
        }
        s.execute(
            "INSERT INTO audit_nodes (tenant, level, idx, hash) \
             SELECT $1, n.l, n.i, n.h FROM UNNEST($2::int4[], $3::int8[], $4::bytea[]) AS n(l, i, h)",
            &[&tenant.as_str(), &nodes.levels, &nodes.indexes, &nodes.hashes],
        )?;
    }
    Ok(tree)
}

/// `tenant, tree_size, root_hash, timestamp, signature`
pub(crate) fn checkpoint_row(row: &Row) -> Result<SignedCheckpoint> {
    Ok(SignedCheckpoint {
        checkpoint: Checkpoint {
            tenant: get::<String>(row, 0)?,
            tree_size: codec::u64_col(row, 1)?,
            root_hash: codec::hash32(row, 2)?,
            timestamp_micros: get(row, 3)?,
        },
        signature: <[u8; 64]>::try_from(get::<&[u8]>(row, 4)?)
            .map_err(|_| StoreError::Corrupt("column 4: expected 64 bytes".to_owned()))?,
    })
}

impl MerkleStore for PostgresStore {
    fn node(&self, tenant: &TenantId, level: u32, index: u64) -> Result<Option<Hash>> {
        self.run(|s| {
            s.query_opt(
                "SELECT hash FROM audit_nodes WHERE tenant = $1 AND level = $2 AND idx = $3",
                &[
                    &tenant.as_str(),
                    &i32::try_from(level).unwrap_or(i32::MAX),
                    &int(index),
                ],
            )?
            .map(|row| codec::hash32(&row, 0))
            .transpose()
        })
    }

    fn nodes(
        &self,
        tenant: &TenantId,
        level: u32,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Hash)>> {
        self.run(|s| {
            s.query(
                "SELECT idx, hash FROM audit_nodes WHERE tenant = $1 AND level = $2 \
                 AND idx >= $3 ORDER BY idx LIMIT $4",
                &[
                    &tenant.as_str(),
                    &i32::try_from(level).unwrap_or(i32::MAX),
                    &int(from),
                    &int(limit),
                ],
            )?
            .iter()
            .map(|row| Ok((codec::u64_col(row, 0)?, codec::hash32(row, 1)?)))
            .collect()
        })
    }

    fn tree_size(&self, tenant: &TenantId) -> Result<u64> {
        self.run(|s| {
            s.query_opt(
                "SELECT tree_size FROM audit_heads WHERE tenant = $1",
                &[&tenant.as_str()],
            )?
            .map(|row| codec::u64_col(&row, 0))
            .transpose()
            .map(Option::unwrap_or_default)
        })
    }

    fn catch_up_tree(&self, tenant: &TenantId) -> Result<u64> {
        self.write(|s| {
            let head = s
                .query_opt(
                    "SELECT seq, tree_size, frontier FROM audit_heads WHERE tenant = $1 FOR UPDATE",
                    &[&tenant.as_str()],
                )?
                .ok_or_else(|| StoreError::NotFound("tenant".to_owned()))?;
            let entries = codec::u64_col(&head, 0)?;
            let size = codec::u64_col(&head, 1)?;
            if size == entries {
                return Ok(size);
            }
            let tree = open_tree(s, tenant, size, get::<&[u8]>(&head, 2)?, entries)?;
            s.execute(
                "UPDATE audit_heads SET tree_size = $2, frontier = $3 WHERE tenant = $1",
                &[
                    &tenant.as_str(),
                    &int(tree.size()),
                    &tree.frontier().concat(),
                ],
            )?;
            Ok(tree.size())
        })
    }

    fn append_audit_batch(
        &self,
        tenant: &TenantId,
        drafts: &[AuditDraft],
    ) -> Result<Vec<AuditRef>> {
        self.write(|s| crate::store::append_audits(s, tenant, drafts))
    }

    fn store_checkpoint(&self, tenant: &TenantId, signed: &SignedCheckpoint) -> Result<bool> {
        let cp = &signed.checkpoint;
        if cp.tenant != tenant.as_str() {
            return Err(StoreError::Conflict(
                "checkpoint names another tenant".to_owned(),
            ));
        }
        // One statement: inserted only if the tree has reached that size.
        let inserted = self.run(|s| {
            s.execute(
                "INSERT INTO audit_checkpoints (tenant, tree_size, root_hash, timestamp, signature) \
                 SELECT $1, $2, $3, $4, $5 FROM audit_heads WHERE tenant = $1 AND tree_size >= $2 \
                 ON CONFLICT (tenant, tree_size) DO NOTHING",
                &[
                    &tenant.as_str(),
                    &int(cp.tree_size),
                    &cp.root_hash.as_slice(),
                    &cp.timestamp_micros,
                    &signed.signature.as_slice(),
                ],
            )
        })?;
        if inserted == 1 {
            return Ok(true);
        }
        let size = self.tree_size(tenant)?;
        if cp.tree_size > size {
            return Err(StoreError::Conflict(format!(
                "checkpoint of size {} is beyond the audit tree ({size})",
                cp.tree_size
            )));
        }
        Ok(false)
    }

    fn checkpoints(&self, tenant: &TenantId) -> Result<Vec<SignedCheckpoint>> {
        self.run(|s| {
            s.query(
                "SELECT tenant, tree_size, root_hash, timestamp, signature \
                 FROM audit_checkpoints WHERE tenant = $1 ORDER BY tree_size",
                &[&tenant.as_str()],
            )?
            .iter()
            .map(checkpoint_row)
            .collect()
        })
    }

    fn latest_checkpoint(&self, tenant: &TenantId) -> Result<Option<SignedCheckpoint>> {
        self.run(|s| {
            s.query_opt(
                "SELECT tenant, tree_size, root_hash, timestamp, signature \
                 FROM audit_checkpoints WHERE tenant = $1 ORDER BY tree_size DESC LIMIT 1",
                &[&tenant.as_str()],
            )?
            .as_ref()
            .map(checkpoint_row)
            .transpose()
        })
    }
}
