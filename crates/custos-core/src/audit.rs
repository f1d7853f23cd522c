//! Checking a tenant's audit log end to end (`custos audit verify`).

use custos_audit::{ChainError, Verifier};
use custos_store::{Store, TenantId};

use crate::error::VaultError;

/// What a verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: u64,
    pub head: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] VaultError),
}

/// Walks the whole log in pages and checks every link and hash.
pub fn verify_chain<S: Store>(store: &S, tenant: &TenantId) -> Result<ChainReport, VerifyError> {
    const PAGE: usize = 10_000;
    let mut v = Verifier::default();
    loop {
        let page = store
            .audit_entries(tenant, v.verified() + 1, PAGE)
            .map_err(VaultError::from)?;
        let n = page.len();
        for e in &page {
            let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
            v.check(&e.hash_fields(tenant, &subject), &e.prev_hash, &e.hash)?;
        }
        if n < PAGE {
            break;
        }
    }
    Ok(ChainReport {
        entries: v.verified(),
        head: v.head(),
    })
}

// --- the Merkle log: checkpoints, full verification, proofs ----------------------------

use custos_audit::checkpoint::{self, Checkpoint, PublicKey, SignedCheckpoint};
use custos_audit::merkle::{self, CompactTree, Hash};
use custos_audit::proof::{Leaf, ProofBundle};
use custos_audit::{GENESIS, canonical, chain_hash_canonical};
use custos_crypto::KeyRing;
use custos_store::{MerkleStore, StoreError, StoredTree, Timestamp, micros};

/// Signs the tenant's current tree head if the tree grew since the latest
/// checkpoint, and stores the checkpoint; `None` if there was nothing new to sign.
/// Called every few seconds by `custos serve` (one checkpoint per batch of appends)
/// and by `custos audit checkpoint`.
///
/// First adds to the tree any entries it lacks (a log written by an older build).
pub fn checkpoint<S: MerkleStore + ?Sized>(
    store: &S,
    keys: &KeyRing,
    tenant: &TenantId,
    now: Timestamp,
) -> Result<Option<SignedCheckpoint>, VaultError> {
    let size = store.catch_up_tree(tenant)?;
    let latest = store.latest_checkpoint(tenant)?;
    if size == 0 || latest.is_some_and(|c| c.checkpoint.tree_size >= size) {
        return Ok(None);
    }
    let root = merkle::root_at(&StoredTree { store, tenant }, size).map_err(prove_error)?;
    let signed = keys
        .audit_signer()?
        .sign(Checkpoint {
            tenant: tenant.to_string(),
            tree_size: size,
            root_hash: root,
            timestamp_micros: micros(now),
        })
        .map_err(|e| VaultError::Internal(e.to_string()))?;
    // Another instance may have signed the same size first; either checkpoint holds.
    store.store_checkpoint(tenant, &signed)?;
    Ok(Some(signed))
}

fn prove_error(e: merkle::ProveError<StoreError>) -> VaultError {
    match e {
        merkle::ProveError::Source(e) => VaultError::from(e),
        other => VaultError::Internal(other.to_string()),
    }
}

/// What [`verify_log`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// Entries whose chain links and hashes were checked.
    pub entries: u64,
    /// The head of the hash chain.
    pub chain_head: [u8; 32],
    /// Leaves in the stored tree; every stored node was recomputed from the entries.
    pub tree_size: u64,
    /// The root recomputed over all `tree_size` leaves.
    pub root: Hash,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: usize,
    /// The largest checkpointed size (0 if none).
    pub checkpointed: u64,
}

/// Why a tenant's audit log fails verification: what broke, and where.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("hash chain: {0}")]
    Chain(#[from] ChainError),
    #[error("tree node (level {level}, index {index}) does not match the entries")]
    NodeMismatch { level: u32, index: u64 },
    #[error("tree node (level {level}, index {index}) is missing")]
    NodeMissing { level: u32, index: u64 },
    #[error("tree node (level {level}, index {index}) lies beyond the tree's size {size}")]
    NodeBeyondTree { level: u32, index: u64, size: u64 },
    #[error("the tree has {tree} leaves but the log only {entries} entries")]
    TreeTooLarge { tree: u64, entries: u64 },
    #[error("checkpoint at size {size}: {reason}")]
    Checkpoint { size: u64, reason: String },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Reads stored nodes level by level, in index order, a page at a time.
struct NodeCursor<'a, S: ?Sized> {
    store: &'a S,
    tenant: &'a TenantId,
    /// Per level: a page of `(index, hash)` and the position in it.
    levels: Vec<(Vec<(u64, Hash)>, usize)>,
}

impl<S: MerkleStore + ?Sized> NodeCursor<'_, S> {
    const PAGE: usize = 10_000;

    fn check(&mut self, level: u32, index: u64, hash: &Hash) -> Result<(), LogError> {
        let l = level as usize;
        if self.levels.len() <= l {
            self.levels.resize_with(l + 1, || (Vec::new(), 0));
        }
        let Some((page, pos)) = self.levels.get_mut(l) else {
            return Err(LogError::NodeMissing { level, index });
        };
        if *pos >= page.len() {
            *page = self.store.nodes(self.tenant, level, index, Self::PAGE)?;
            *pos = 0;
        }
        match page.get(*pos) {
            Some((i, stored)) if *i == index => {
                *pos += 1;
                if stored == hash {
                    Ok(())
                } else {
                    Err(LogError::NodeMismatch { level, index })
                }
            }
            _ => Err(LogError::NodeMissing { level, index }),
        }
    }
}

/// Verifies a tenant's whole audit log: every entry's chain link and hash; every
/// stored tree node against the tree recomputed from the entries; that no node
/// lies beyond the tree; and every stored checkpoint's signature (under
/// `public_key`) and root. Fails at the first break, naming it.
///
/// Entries not yet in the tree (written by an older build, before the next append
/// or checkpoint catches the tree up) are checked by the chain only.
pub fn verify_log<S: Store + MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    public_key: &PublicKey,
) -> Result<LogReport, LogError> {
    const PAGE: usize = 10_000;
    // Sizes are read before the entries: the log only grows, so everything below
    // them is there when the entries are read.
    let tree_size = store.tree_size(tenant)?;
    let checkpoints = store.checkpoints(tenant)?;
    for c in &checkpoints {
        let size = c.checkpoint.tree_size;
        if c.checkpoint.tenant != tenant.as_str() {
            return Err(LogError::Checkpoint {
                size,
                reason: format!("names tenant {:?}", c.checkpoint.tenant),
            });
        }
        checkpoint::verify(public_key, c).map_err(|e| LogError::Checkpoint {
            size,
            reason: e.to_string(),
        })?;
        if size > tree_size {
            return Err(LogError::Checkpoint {
                size,
                reason: format!("beyond the tree ({tree_size} leaves)"),
            });
        }
    }
    let mut pending = checkpoints.iter().peekable();
    let mut check_roots = |tree: &CompactTree| -> Result<(), LogError> {
        while let Some(c) = pending.next_if(|c| c.checkpoint.tree_size <= tree.size()) {
            if c.checkpoint.root_hash != tree.root() {
                return Err(LogError::Checkpoint {
                    size: c.checkpoint.tree_size,
                    reason: "its root does not match the entries".to_owned(),
                });
            }
        }
        Ok(())
    };

    let mut nodes = NodeCursor {
        store,
        tenant,
        levels: Vec::new(),
    };
    let mut tree = CompactTree::new();
    check_roots(&tree)?;
    let (mut next_seq, mut prev) = (1u64, GENESIS);
    loop {
        let page = store.audit_entries(tenant, next_seq, PAGE)?;
        for e in &page {
            if e.seq != next_seq {
                return Err(ChainError::Gap {
                    seq: e.seq,
                    expected: next_seq,
                }
                .into());
            }
            if e.prev_hash != prev {
                return Err(ChainError::BrokenLink { seq: e.seq }.into());
            }
            let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
            let bytes = canonical(&e.hash_fields(tenant, &subject));
            if chain_hash_canonical(&prev, &bytes) != e.hash {
                return Err(ChainError::Altered { seq: e.seq }.into());
            }
            (prev, next_seq) = (e.hash, e.seq + 1);
            if tree.size() < tree_size {
                let mut failed = None;
                tree.append_with(merkle::leaf_hash(&bytes), |level, index, hash| {
                    if failed.is_none()
                        && let Err(err) = nodes.check(level, index, hash)
                    {
                        failed = Some(err);
                    }
                });
                if let Some(err) = failed {
                    return Err(err);
                }
                check_roots(&tree)?;
            }
        }
        if page.len() < PAGE {
            break;
        }
    }
    let entries = next_seq - 1;
    if tree_size > entries {
        return Err(LogError::TreeTooLarge {
            tree: tree_size,
            entries,
        });
    }
    // No node beyond the tree: at each level, the first index past the full subtrees.
    for level in 0..64u32 {
        let first_beyond = tree_size >> level;
        if let Some((index, _)) = store.nodes(tenant, level, first_beyond, 1)?.first() {
            return Err(LogError::NodeBeyondTree {
                level,
                index: *index,
                size: tree_size,
            });
        }
        if first_beyond == 0 {
            break;
        }
    }
    Ok(LogReport {
        entries,
        chain_head: prev,
        tree_size,
        root: tree.root(),
        checkpoints: checkpoints.len(),
        checkpointed: checkpoints.last().map_or(0, |c| c.checkpoint.tree_size),
    })
}

// --- checkpoints kept outside the database (issue 17.10) --------------------------------

use custos_audit::external::{
    self, Checked, ExternalError, Kept, Restore, SignedRestore, TreeHead,
};

/// The tenant's root over its first `size` entries, from the stored tree.
fn stored_root<S: MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    size: u64,
) -> Result<Hash, String> {
    merkle::root_at(&StoredTree { store, tenant }, size).map_err(|e| e.to_string())
}

/// Checks the tenant's log against what was kept outside the database
/// ([`external::check`]). Run after [`verify_log`] passed, so the stored nodes it
/// reads are known to match the entries; `tree_size` is the verified tree's size.
pub fn check_external<S: MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    public_key: &PublicKey,
    tree_size: u64,
    kept: &Kept,
) -> Result<Checked, ExternalError> {
    external::check(kept, tenant.as_str(), public_key, tree_size, |n| {
        stored_root(store, tenant, n)
    })
}

/// Moves what is kept outside the database forward to the tenant's newest
/// stored checkpoint, unless the log no longer holds what was kept (then the
/// kept state stays as evidence and the error says why). Returns whether `kept`
/// changed.
pub fn advance_external<S: MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    public_key: &PublicKey,
    kept: &mut Kept,
) -> Result<bool, ExternalError> {
    let Some(newest) = store
        .latest_checkpoint(tenant)
        .map_err(|e| ExternalError::Log(e.to_string()))?
    else {
        return Ok(false);
    };
    let size = store
        .tree_size(tenant)
        .map_err(|e| ExternalError::Log(e.to_string()))?;
    external::advance(kept, &newest, tenant.as_str(), public_key, size, |n| {
        stored_root(store, tenant, n)
    })
}

/// Signs the statement a restore from backup needs: the tenant's log now holds
/// the backup's entries (its current tree) and continues from there; `superseded`,
/// the checkpoint kept outside before the restore, no longer applies. The backup
/// issue's restore command calls this after restoring the database.
pub fn restore_statement<S: MerkleStore + ?Sized>(
    store: &S,
    keys: &KeyRing,
    tenant: &TenantId,
    superseded: &SignedCheckpoint,
    now: Timestamp,
) -> Result<SignedRestore, VaultError> {
    let size = store.catch_up_tree(tenant)?;
    let root = merkle::root_at(&StoredTree { store, tenant }, size).map_err(prove_error)?;
    keys.audit_signer()?
        .sign_restore(Restore {
            tenant: tenant.to_string(),
            restored: TreeHead { size, root },
            superseded: TreeHead::of(&superseded.checkpoint),
            timestamp_micros: micros(now),
        })
        .map_err(|e| VaultError::Internal(e.to_string()))
}

/// Why a proof could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("tenant {0} has no signed checkpoint yet (run `custos audit checkpoint`)")]
    NoCheckpoint(String),
    #[error("entry {index} is not in the latest checkpoint (size {size}); sign a newer one")]
    NotCheckpointed { index: u64, size: u64 },
    #[error("size {from} must be between 1 and the latest checkpoint's size {size}")]
    BadSize { from: u64, size: u64 },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

fn latest<S: MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
) -> Result<SignedCheckpoint, ProveError> {
    store
        .latest_checkpoint(tenant)?
        .ok_or_else(|| ProveError::NoCheckpoint(tenant.to_string()))
}

fn source_error(e: merkle::ProveError<StoreError>) -> ProveError {
    match e {
        merkle::ProveError::Source(e) => ProveError::Store(e),
        other => ProveError::Store(StoreError::Corrupt(other.to_string())),
    }
}

/// An inclusion bundle for entry `entry_index` (`seq − 1`), with the entry
/// disclosed, against the tenant's latest checkpoint.
pub fn prove_inclusion<S: Store + MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    entry_index: u64,
) -> Result<ProofBundle, ProveError> {
    let cp = latest(store, tenant)?;
    let size = cp.checkpoint.tree_size;
    if entry_index >= size {
        return Err(ProveError::NotCheckpointed {
            index: entry_index,
            size,
        });
    }
    let entry = store
        .audit_entries(tenant, entry_index + 1, 1)?
        .into_iter()
        .next()
        .filter(|e| e.seq == entry_index + 1)
        .ok_or_else(|| {
            StoreError::Corrupt(format!("audit entry {} is missing", entry_index + 1))
        })?;
    let subject = entry
        .draft
        .subject
        .map(|s| s.to_string())
        .unwrap_or_default();
    let bytes = canonical(&entry.hash_fields(tenant, &subject));
    ProofBundle::inclusion(
        &StoredTree { store, tenant },
        cp,
        entry_index,
        Leaf::Entry(bytes),
    )
    .map_err(source_error)
}

/// A consistency bundle from the log's first `from` entries to the tenant's latest
/// checkpoint.
pub fn prove_consistency<S: MerkleStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    from: u64,
) -> Result<ProofBundle, ProveError> {
    let cp = latest(store, tenant)?;
    let size = cp.checkpoint.tree_size;
    if from == 0 || from > size {
        return Err(ProveError::BadSize { from, size });
    }
    ProofBundle::consistency(&StoredTree { store, tenant }, cp, from).map_err(source_error)
}
