//! RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and their
//! verification.
//!
//! - A leaf is `SHA-256(0x00 ‖ entry)`, where `entry` is [`crate::canonical`]'s bytes.
//! - An inner node is `SHA-256(0x01 ‖ left ‖ right)`.
//! - The tree over `n` leaves is the Merkle Tree Hash of RFC 9162 §2.1.1: for `n > 1`,
//!   split at `k`, the largest power of two strictly below `n`, and hash the roots of
//!   the two parts. The empty tree's root is `SHA-256("")`.
//!
//! Storage sees the tree as *full subtrees* addressed by `(level, index)`: the node at
//! `(level, index)` is the root over leaves `index·2^level .. (index+1)·2^level`. Only
//! full subtrees are ever stored; the ragged right edge of a tree whose size is not a
//! power of two is recomputed from them, so proofs cost O(log n) node reads.
//!
//! The verification functions take only sizes, hashes and the proof, so a third party
//! can run them without custos's storage (see `docs/audit-proofs.md`).

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf, a node or a root.
pub type Hash = [u8; 32];

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle Tree Hash (RFC 9162 §2.1.1) over leaf hashes, by the recursive
/// definition. [`CompactTree`] computes the same root incrementally.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len() as u64);
            // `k < len`, so the split is in range; usize fits because `k < len`.
            let (left, right) = leaves.split_at(usize::try_from(k).unwrap_or(leaves.len() / 2));
            node_hash(&root(left), &root(right))
        }
    }
}

/// An append-only tree that keeps only its right edge: one hash per set bit of the
/// size (the roots of the full subtrees the leaves decompose into, largest first).
/// Appending is O(log n) worst case, O(1) amortised; the root is O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactTree {
    size: u64,
    /// Roots of the full subtrees, left (largest) to right (smallest).
    frontier: Vec<Hash>,
}

impl CompactTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right-edge hashes, largest subtree first; together with [`Self::size`]
    /// they are all a writer needs to keep in memory to go on appending.
    pub fn frontier(&self) -> &[Hash] {
        &self.frontier
    }

    /// Rebuilds a tree from a stored size and frontier (as from [`Self::frontier`]);
    /// `None` if the frontier does not have one hash per set bit of `size`.
    pub fn from_frontier(size: u64, frontier: Vec<Hash>) -> Option<Self> {
        (frontier.len() == size.count_ones() as usize).then_some(CompactTree { size, frontier })
    }

    /// Appends a leaf hash.
    pub fn append(&mut self, leaf: Hash) {
        self.append_with(leaf, |_, _, _| {});
    }

    /// Appends a leaf hash and reports every full subtree it completes, the leaf
    /// itself first, as `(level, index, hash)` — what a store persists to serve
    /// proofs later.
    pub fn append_with(&mut self, leaf: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        let mut hash = leaf;
        let mut level = 0u32;
        completed(0, self.size, &hash);
        // Each set low bit of the old size is a full subtree of that level waiting
        // for a right sibling; the new leaf completes all of them in turn.
        while (self.size >> level) & 1 == 1 {
            let Some(left) = self.frontier.pop() else {
                break; // unreachable: one frontier hash per set bit
            };
            hash = node_hash(&left, &hash);
            level += 1;
            completed(level, self.size >> level, &hash);
        }
        self.frontier.push(hash);
        self.size += 1;
    }

    /// The root of the tree so far (RFC 9162 MTH).
    pub fn root(&self) -> Hash {
        let mut rev = self.frontier.iter().rev();
        match rev.next() {
            None => empty_root(),
            Some(last) => rev.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// Where proofs read full-subtree hashes from: a database table, tiles, or memory.
pub trait NodeSource {
    type Error;

    /// The hash of the full subtree at `(level, index)`: the root over leaves
    /// `index·2^level .. (index+1)·2^level`. Only asked for subtrees that are full in
    /// the tree the proof is for.
    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProveError<E> {
    #[error("entry {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("size {old} is not between 1 and the tree size {new}")]
    BadSizes { old: u64, new: u64 },
    #[error("reading a tree node: {0}")]
    Source(E),
}

/// MTH over leaves `start .. start+len` (`len >= 1`), where the range is one that
/// RFC 9162's recursion produces: a full subtree when `len` is a power of two, else
/// a left full subtree plus a ragged right part.
fn subtree_root<S: NodeSource>(
    src: &S,
    start: u64,
    len: u64,
) -> Result<Hash, ProveError<S::Error>> {
    if len.is_power_of_two() {
        let level = len.trailing_zeros();
        return src.node(level, start >> level).map_err(ProveError::Source);
    }
    let k = split_point(len);
    let left = subtree_root(src, start, k)?;
    let right = subtree_root(src, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of the first `size` leaves, from full subtrees: O(log n)
/// node reads. The empty tree's root for size 0.
pub fn root_at<S: NodeSource>(src: &S, size: u64) -> Result<Hash, ProveError<S::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    subtree_root(src, 0, size)
}

/// The audit path (RFC 9162 §2.1.3.1 PATH) of leaf `index` in the tree of the first
/// `size` leaves, deepest sibling first.
pub fn inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if index >= size {
        return Err(ProveError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::with_capacity(64);
    path_into(src, index, 0, size, &mut path)?;
    Ok(path)
}

fn path_into<S: NodeSource>(
    src: &S,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProveError<S::Error>> {
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path_into(src, m, start, k, out)?;
        out.push(subtree_root(src, start + k, n - k)?);
    } else {
        path_into(src, m - k, start + k, n - k, out)?;
        out.push(subtree_root(src, start, k)?);
    }
    Ok(())
}

/// The consistency proof (RFC 9162 §2.1.4.1 PROOF) that the tree of the first
/// `old_size` leaves is a prefix of the tree of the first `new_size`. Empty when
/// the sizes are equal.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if old_size == 0 || old_size > new_size {
        return Err(ProveError::BadSizes {
            old: old_size,
            new: new_size,
        });
    }
    let mut proof = Vec::with_capacity(64);
    subproof_into(src, old_size, 0, new_size, true, &mut proof)?;
    Ok(proof)
}

fn subproof_into<S: NodeSource>(
    src: &S,
    m: u64,
    start: u64,
    n: u64,
    is_original: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProveError<S::Error>> {
    if m == n {
        if !is_original {
            out.push(subtree_root(src, start, n)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof_into(src, m, start, k, is_original, out)?;
        out.push(subtree_root(src, start + k, n - k)?);
    } else {
        subproof_into(src, m - k, start + k, n - k, false, out)?;
        out.push(subtree_root(src, start, k)?);
    }
    Ok(())
}

/// Why a proof does not verify. Deliberately coarse: a verifier only needs to know
/// that the claim fails, and which check it failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("entry index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size {old} is larger than the new size {new}")]
    SizesReversed { old: u64, new: u64 },
    #[error("the proof has the wrong number of hashes for these sizes")]
    WrongLength,
    #[error("the recomputed root does not match the root given")]
    RootMismatch,
    #[error("the recomputed old root does not match the old root given")]
    OldRootMismatch,
}

/// Checks an audit path (RFC 9162 §2.1.3.2): that `leaf` is leaf `index` of the
/// tree of size `size` whose root is `root`.
///
/// The size itself is not bound by the path alone (index 0 of a 7-leaf tree has the
/// same path shape as in an 8-leaf one); it is bound by the signed checkpoint that
/// carries both size and root.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return Err(VerifyError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                // A right-edge node promoted unchanged through levels where it had
                // no sibling.
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(VerifyError::WrongLength);
    }
    if &r != root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2): that the tree of size `old_size`
/// with root `old_root` is a prefix of the tree of size `new_size` with root
/// `new_root`.
///
/// Equal sizes need an empty proof and equal roots; an old size of 0 needs an empty
/// proof and the empty tree's root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::SizesReversed {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::WrongLength);
        }
        let expected = if old_size == 0 {
            empty_root()
        } else {
            *new_root
        };
        return if *old_root == expected {
            Ok(())
        } else {
            Err(VerifyError::OldRootMismatch)
        };
    }
    // When the old tree is a full subtree its root is the proof's implicit first hash.
    let mut hashes = proof.iter();
    let first = if old_size.is_power_of_two() {
        *old_root
    } else {
        *hashes.next().ok_or(VerifyError::WrongLength)?
    };
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut f_r = first;
    let mut s_r = first;
    for c in hashes {
        if s_n == 0 {
            return Err(VerifyError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(VerifyError::WrongLength);
    }
    if &f_r != old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if &s_r != new_root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Every full subtree of a tree, kept in memory level by level: `levels[l][i]` is
/// the node `(l, i)`. Appends go through a [`CompactTree`], which reports each node
/// it completes. Proofs from it cost O(log n) lookups. For tests, benchmarks, and
/// building a proof over a log read into memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    compact: CompactTree,
    levels: Vec<Vec<Hash>>,
}

/// A node a [`MemoryTree`] does not (yet) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no full subtree at level {level}, index {index}")]
pub struct MissingNode {
    pub level: u32,
    pub index: u64,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash.
    pub fn append(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.compact.append_with(leaf, |level, _index, hash| {
            let level = level as usize;
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            if let Some(row) = levels.get_mut(level) {
                row.push(*hash);
            }
        });
    }

    /// Appends `leaf_hash(entry)`.
    pub fn append_entry(&mut self, entry: &[u8]) {
        self.append(leaf_hash(entry));
    }

    pub fn size(&self) -> u64 {
        self.compact.size()
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.compact.root()
    }

    /// The root of the tree of the first `size` leaves, as it was when it had that
    /// size; `None` past the current size.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        if size > self.size() {
            return None;
        }
        root_at(self, size).ok()
    }

    /// The compact (right-edge) view, e.g. to persist alongside the nodes.
    pub fn compact(&self) -> &CompactTree {
        &self.compact
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;

    fn node(&self, level: u32, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(level as usize)
            .and_then(|row| row.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn empty_tree_root_is_hash_of_nothing() {
        // RFC 9162 §2.1.1: MTH({}) = SHA-256().
        let hex: String = empty_root().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(CompactTree::new().root(), empty_root());
        assert_eq!(root(&[]), empty_root());
    }

    #[test]
    fn three_leaf_tree_by_hand() {
        let l = leaves(3);
        let expected = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
        assert_eq!(root(&l), expected);
        let mut t = CompactTree::new();
        l.iter().for_each(|h| t.append(*h));
        assert_eq!(t.root(), expected);
        assert_eq!(t.frontier().len(), 2);
    }

    #[test]
    fn frontier_round_trips() {
        let mut t = CompactTree::new();
        leaves(11).into_iter().for_each(|h| t.append(h));
        let back = CompactTree::from_frontier(t.size(), t.frontier().to_vec()).unwrap();
        assert_eq!(back, t);
        assert!(CompactTree::from_frontier(12, t.frontier().to_vec()).is_none());
    }

    #[test]
    fn root_at_matches_prefix_roots() {
        let l = leaves(37);
        let mut t = MemoryTree::new();
        l.iter().for_each(|h| t.append(*h));
        for n in 0..=37 {
            assert_eq!(t.root_at(n), Some(root(&l[..n as usize])), "size {n}");
        }
        assert_eq!(t.root_at(38), None);
    }

    #[test]
    fn bad_proof_requests_are_refused() {
        let mut t = MemoryTree::new();
        leaves(4).into_iter().for_each(|h| t.append(h));
        assert_eq!(
            inclusion_proof(&t, 4, 4),
            Err(ProveError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            consistency_proof(&t, 0, 4),
            Err(ProveError::BadSizes { old: 0, new: 4 })
        );
        assert_eq!(
            consistency_proof(&t, 5, 4),
            Err(ProveError::BadSizes { old: 5, new: 4 })
        );
        // A size the source has not reached yet.
        assert!(matches!(
            inclusion_proof(&t, 0, 6),
            Err(ProveError::Source(_))
        ));
    }

    #[test]
    fn trivial_consistency() {
        let r = root(&leaves(5));
        assert_eq!(verify_consistency(5, 5, &r, &r, &[]), Ok(()));
        assert_eq!(
            verify_consistency(5, 5, &r, &r, &[r]),
            Err(VerifyError::WrongLength)
        );
        assert_eq!(verify_consistency(0, 5, &empty_root(), &r, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 5, &r, &r, &[]),
            Err(VerifyError::OldRootMismatch)
        );
    }
}
