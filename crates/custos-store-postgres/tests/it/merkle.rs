//! The audit log's Merkle tree and checkpoints (`MerkleStore`) on PostgreSQL.

use crate::fresh;

custos_store::merkle_conformance_tests!(match fresh() {
    Some(store) => store,
    None => return,
});
