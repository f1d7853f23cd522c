//! The audit log as an RFC 9162 Merkle tree in storage (`docs/audit-proofs.md`).
//!
//! Every audit append (whatever [`crate::Store`] method makes it) also appends the
//! entry's leaf `SHA-256(0x00 ‖ canonical entry)` to the tenant's tree, in the same
//! transaction: the full subtrees it completes are stored as nodes `(level, index)`
//! and the tree's right edge (its *frontier*, one hash per set bit of the size) in the
//! tenant's head row. A proof for any size then costs O(log n) node reads.
//!
//! Checkpoints (Ed25519-signed tree heads) are signed outside the store (it never
//! holds a key) and stored here; a checkpoint is never replaced.
//!
//! A separate trait from [`crate::Store`] so a backend can add it on its own; the
//! methods default to "not supported".

use custos_audit::checkpoint::SignedCheckpoint;
use custos_audit::merkle::{Hash, NodeSource};

use crate::types::{AuditDraft, AuditRef, TenantId};
use crate::{Result, StoreError};

/// Merkle-tree storage of the audit log and its signed checkpoints.
pub trait MerkleStore: Send + Sync + 'static {
    /// The full subtree at `(level, index)` of the tenant's tree (level 0: the leaf
    /// hashes, `index = seq − 1`); `None` if it is not (yet) complete.
    fn node(&self, _tenant: &TenantId, _level: u32, _index: u64) -> Result<Option<Hash>> {
        Err(unsupported())
    }
    /// Stored nodes of one level with `index >= from`, in index order, at most
    /// `limit` (for verification, which compares every node with its recomputation).
    fn nodes(
        &self,
        _tenant: &TenantId,
        _level: u32,
        _from: u64,
        _limit: usize,
    ) -> Result<Vec<(u64, Hash)>> {
        Err(unsupported())
    }
    /// Number of leaves in the tenant's tree (0 for a tenant without entries).
    fn tree_size(&self, _tenant: &TenantId) -> Result<u64> {
        Err(unsupported())
    }
    /// Adds to the tree any audit entries it lacks (entries written before the
    /// tree existed, by an older build); returns the tree size. Appends keep the
    /// tree current, so this is a no-op but for the first call after an upgrade.
    fn catch_up_tree(&self, _tenant: &TenantId) -> Result<u64> {
        Err(unsupported())
    }
    /// Appends several entries in one transaction (a batch), each chained and
    /// added to the tree as a single append would.
    fn append_audit_batch(
        &self,
        _tenant: &TenantId,
        _drafts: &[AuditDraft],
    ) -> Result<Vec<AuditRef>> {
        Err(unsupported())
    }
    /// Stores a signed checkpoint. Returns `false` (and stores nothing) if one of
    /// the same tree size is already stored: checkpoints are never replaced.
    /// `Conflict` if its size is beyond the tree.
    fn store_checkpoint(&self, _tenant: &TenantId, _signed: &SignedCheckpoint) -> Result<bool> {
        Err(unsupported())
    }
    /// Every stored checkpoint of the tenant, by tree size.
    fn checkpoints(&self, _tenant: &TenantId) -> Result<Vec<SignedCheckpoint>> {
        Err(unsupported())
    }
    /// The checkpoint with the largest tree size.
    fn latest_checkpoint(&self, _tenant: &TenantId) -> Result<Option<SignedCheckpoint>> {
        Err(unsupported())
    }
}

/// A tenant's stored tree as a [`NodeSource`], for `custos_audit`'s proof and root
/// functions. A node the proof needs but the store lacks is `Corrupt`.
#[derive(Debug)]
pub struct StoredTree<'a, S: ?Sized> {
    pub store: &'a S,
    pub tenant: &'a TenantId,
}

impl<S: MerkleStore + ?Sized> NodeSource for StoredTree<'_, S> {
    type Error = StoreError;

    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        self.store.node(self.tenant, level, index)?.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "audit tree of tenant {} lacks node (level {level}, index {index})",
                self.tenant
            ))
        })
    }
}

fn unsupported() -> StoreError {
    StoreError::Backend("this backend does not implement the Merkle audit log yet".to_owned())
}

/// Conformance cases for [`MerkleStore`], run by every backend's tests
/// (`merkle_conformance_tests!`).
#[cfg(feature = "conformance")]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod conformance {
    use custos_audit::checkpoint::{Checkpoint, CheckpointSigner};
    use custos_audit::merkle::{self, Hash};

    use super::{MerkleStore, StoredTree};
    use crate::{AuditDraft, Outcome, Store, StoreError, Tenant, TenantId, Timestamp, Uuid};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_microsecond(1_750_000_000_123_456 + secs * 1_000_000).unwrap()
    }

    fn new_tenant<S: Store>(store: &S, name: &str) -> TenantId {
        let id = TenantId::new(&format!("{name}-{}", Uuid::new_v4().simple())).unwrap();
        store
            .create_tenant(&Tenant {
                id: id.clone(),
                name: format!("Tenant {name}"),
                created_at: at(0),
            })
            .unwrap();
        id
    }

    fn draft(n: u64) -> AuditDraft {
        AuditDraft {
            at: at(i64::try_from(n).unwrap()),
            actor: "operator".to_owned(),
            key_id: None,
            action: "test".to_owned(),
            purpose: None,
            subject: None,
            categories: vec![format!("c.{n}")],
            outcome: Outcome::Allow,
            reason: format!("entry {n}"),
            request_id: None,
        }
    }

    /// The leaf hashes of the stored entries, recomputed.
    fn leaves<S: Store>(store: &S, tenant: &TenantId) -> Vec<Hash> {
        store
            .audit_entries(tenant, 1, usize::MAX >> 1)
            .unwrap()
            .iter()
            .map(|e| {
                let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
                merkle::leaf_hash(&custos_audit::canonical(&e.hash_fields(tenant, &subject)))
            })
            .collect()
    }

    /// Single and batched appends extend the tree in step with the chain: the
    /// stored leaves are the entries' leaf hashes, every prefix's root from the
    /// stored nodes is the RFC 9162 root, and tenants' trees are apart.
    pub fn tree_follows_appends<S: Store + MerkleStore>(store: S) {
        let a = new_tenant(&store, "a");
        let b = new_tenant(&store, "b");
        assert_eq!(store.tree_size(&a).unwrap(), 0);
        store.append_audit(&a, &draft(1)).unwrap();
        store.append_audit(&b, &draft(1)).unwrap();
        let batch: Vec<AuditDraft> = (2..=20).map(draft).collect();
        let refs = store.append_audit_batch(&a, &batch).unwrap();
        assert_eq!(
            refs.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (2..=20).collect::<Vec<_>>()
        );
        for n in 21..=23 {
            store.append_audit(&a, &draft(n)).unwrap();
        }
        assert_eq!(store.append_audit_batch(&a, &[]).unwrap(), vec![]);
        crate::conformance::verify_audit_chain(&store, &a);

        let leaves_a = leaves(&store, &a);
        assert_eq!(leaves_a.len(), 23);
        assert_eq!(store.tree_size(&a).unwrap(), 23);
        assert_eq!(store.tree_size(&b).unwrap(), 1);
        assert_eq!(store.catch_up_tree(&a).unwrap(), 23, "nothing to catch up");
        for (i, leaf) in leaves_a.iter().enumerate() {
            assert_eq!(store.node(&a, 0, i as u64).unwrap(), Some(*leaf));
        }
        assert_eq!(store.node(&a, 0, 23).unwrap(), None);
        assert_eq!(
            store.node(&a, 5, 0).unwrap(),
            None,
            "no full 32-leaf subtree"
        );
        let tree = StoredTree {
            store: &store,
            tenant: &a,
        };
        for n in 0..=23usize {
            assert_eq!(
                merkle::root_at(&tree, n as u64).unwrap(),
                merkle::root(&leaves_a[..n]),
                "size {n}"
            );
        }
        // Level 2 (4-leaf subtrees): indexes 0..5, paged.
        let level2 = store.nodes(&a, 2, 1, 3).unwrap();
        assert_eq!(
            level2.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(level2[0].1, merkle::root(&leaves_a[4..8]));
        assert_eq!(store.nodes(&a, 2, 5, 10).unwrap(), vec![]);
        // Tenant b's tree is its own.
        let leaves_b = leaves(&store, &b);
        assert_eq!(store.node(&b, 0, 0).unwrap(), Some(leaves_b[0]));
        assert_eq!(store.node(&b, 0, 1).unwrap(), None);
    }

    /// Checkpoints are stored once per size, never beyond the tree, never for
    /// another tenant, and read back in order.
    pub fn checkpoints_are_stored_once<S: Store + MerkleStore>(store: S) {
        let a = new_tenant(&store, "a");
        let b = new_tenant(&store, "b");
        let signer = CheckpointSigner::from_seed(&[7; 32]);
        let sign = |tenant: &TenantId, size: u64, secs: i64| {
            let root = merkle::root_at(
                &StoredTree {
                    store: &store,
                    tenant,
                },
                size,
            )
            .unwrap();
            signer
                .sign(Checkpoint {
                    tenant: tenant.to_string(),
                    tree_size: size,
                    root_hash: root,
                    timestamp_micros: at(secs).as_microsecond(),
                })
                .unwrap()
        };
        assert_eq!(store.latest_checkpoint(&a).unwrap(), None);
        store
            .append_audit_batch(&a, &(1..=5).map(draft).collect::<Vec<_>>())
            .unwrap();
        let c3 = sign(&a, 3, 1);
        let c5 = sign(&a, 5, 2);
        assert!(store.store_checkpoint(&a, &c5).unwrap());
        assert!(store.store_checkpoint(&a, &c3).unwrap());
        assert!(
            !store.store_checkpoint(&a, &sign(&a, 5, 3)).unwrap(),
            "a second checkpoint of size 5 is not stored"
        );
        assert_eq!(store.checkpoints(&a).unwrap(), vec![c3.clone(), c5.clone()]);
        assert_eq!(store.latest_checkpoint(&a).unwrap(), Some(c5.clone()));
        let mut beyond = c5.clone();
        beyond.checkpoint.tree_size = 6;
        assert!(matches!(
            store.store_checkpoint(&a, &beyond),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.store_checkpoint(&b, &c3),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.checkpoints(&b).unwrap(), vec![]);
    }
}

/// The [`MerkleStore`] conformance tests, for a backend's test binary:
/// `custos_store::merkle_conformance_tests!(fresh_store_expression);`
#[cfg(feature = "conformance")]
#[macro_export]
macro_rules! merkle_conformance_tests {
    ($fresh:expr $(,)?) => {
        mod merkle_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn tree_follows_appends() {
                $crate::merkle_store::conformance::tree_follows_appends($fresh);
            }
            #[test]
            fn checkpoints_are_stored_once() {
                $crate::merkle_store::conformance::checkpoints_are_stored_once($fresh);
            }
        }
    };
}
