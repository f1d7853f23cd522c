//! RFC 9162 properties over random tree sizes: proofs from stored nodes verify, and
//! any change to a proof, leaf, root, index or size makes them fail.

use custos_audit::merkle::{
    CompactTree, Hash, MemoryTree, VerifyError, consistency_proof, inclusion_proof, leaf_hash,
    node_hash, root, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

fn leaves(n: u64, salt: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[salt.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

fn tree(ls: &[Hash]) -> MemoryTree {
    let mut t = MemoryTree::new();
    ls.iter().for_each(|h| t.append(*h));
    t
}

/// RFC 9162 §2.1.1, literally, as the oracle.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => custos_audit::merkle::empty_root(),
        1 => d[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn flip(h: &Hash, byte: usize, bit: u8) -> Hash {
    let mut out = *h;
    out[byte % 32] ^= 1 << (bit % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn incremental_equals_recursive(n in 0u64..300, salt in any::<u64>()) {
        let ls = leaves(n, salt);
        let mut c = CompactTree::new();
        for (i, h) in ls.iter().enumerate() {
            c.append(*h);
            prop_assert_eq!(c.root(), mth(&ls[..=i]));
        }
        prop_assert_eq!(c.root(), root(&ls));
        prop_assert_eq!(tree(&ls).root(), mth(&ls));
        prop_assert_eq!(c.frontier().len(), n.count_ones() as usize);
    }

    #[test]
    fn every_inclusion_proof_verifies(n in 1u64..300, salt in any::<u64>()) {
        let ls = leaves(n, salt);
        let t = tree(&ls);
        for size in [n, n.div_ceil(2)] {
            let r = t.root_at(size).unwrap();
            for i in 0..size {
                let path = inclusion_proof(&t, i, size).unwrap();
                prop_assert!(path.len() <= 64 - (size - 1).leading_zeros() as usize);
                prop_assert_eq!(verify_inclusion(i, size, &ls[i as usize], &path, &r), Ok(()));
            }
        }
    }

    #[test]
    fn tampered_inclusion_fails(
        n in 1u64..300,
        salt in any::<u64>(),
        pick in any::<u64>(),
        byte in 0usize..32,
        bit in 0u8..8,
        other in any::<u64>(),
    ) {
        let ls = leaves(n, salt);
        let t = tree(&ls);
        let r = t.root();
        let i = pick % n;
        let leaf = ls[i as usize];
        let path = inclusion_proof(&t, i, n).unwrap();

        prop_assert!(verify_inclusion(i, n, &flip(&leaf, byte, bit), &path, &r).is_err());
        prop_assert!(verify_inclusion(i, n, &leaf, &path, &flip(&r, byte, bit)).is_err());
        for k in 0..path.len() {
            let mut p = path.clone();
            p[k] = flip(&p[k], byte, bit);
            prop_assert!(verify_inclusion(i, n, &leaf, &p, &r).is_err());
        }
        // Dropping or adding a hash.
        if !path.is_empty() {
            prop_assert!(verify_inclusion(i, n, &leaf, &path[..path.len() - 1], &r).is_err());
        }
        let mut longer = path.clone();
        longer.push(leaf);
        prop_assert!(verify_inclusion(i, n, &leaf, &longer, &r).is_err());

        // Any other index of the same tree.
        let j = other % n;
        if j != i {
            prop_assert!(verify_inclusion(j, n, &leaf, &path, &r).is_err());
        }
        // A wrong size fails, except where the path has the same shape in the
        // other size (index 0 of 7 and of 8 leaves): the signed checkpoint binds
        // the size, not the path.
        let m = 1 + other % 400;
        if m != n {
            let same_shape = i < m && shape(i, m) == shape(i, n);
            let res = verify_inclusion(i, m, &leaf, &path, &r);
            prop_assert_eq!(res.is_ok(), same_shape, "size {} for {} of {}", m, i, n);
        }
        prop_assert_eq!(
            verify_inclusion(n, n, &leaf, &path, &r),
            Err(VerifyError::IndexOutOfRange { index: n, size: n })
        );
    }

    #[test]
    fn every_consistency_proof_verifies(n in 1u64..300, salt in any::<u64>()) {
        let ls = leaves(n, salt);
        let t = tree(&ls);
        let new_root = t.root();
        for m in 1..=n {
            let proof = consistency_proof(&t, m, n).unwrap();
            let old_root = mth(&ls[..m as usize]);
            prop_assert_eq!(verify_consistency(m, n, &old_root, &new_root, &proof), Ok(()));
        }
    }

    #[test]
    fn tampered_consistency_fails(
        n in 2u64..300,
        salt in any::<u64>(),
        pick in any::<u64>(),
        byte in 0usize..32,
        bit in 0u8..8,
        other in any::<u64>(),
    ) {
        let ls = leaves(n, salt);
        let t = tree(&ls);
        let new_root = t.root();
        let m = 1 + pick % (n - 1); // 1 ..= n-1: a real proof
        let old_root = mth(&ls[..m as usize]);
        let proof = consistency_proof(&t, m, n).unwrap();

        prop_assert!(verify_consistency(m, n, &flip(&old_root, byte, bit), &new_root, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &old_root, &flip(&new_root, byte, bit), &proof).is_err());
        for k in 0..proof.len() {
            let mut p = proof.clone();
            p[k] = flip(&p[k], byte, bit);
            prop_assert!(verify_consistency(m, n, &old_root, &new_root, &p).is_err());
        }
        prop_assert!(verify_consistency(m, n, &old_root, &new_root, &proof[..proof.len() - 1]).is_err());
        let mut longer = proof.clone();
        longer.push(old_root);
        prop_assert!(verify_consistency(m, n, &old_root, &new_root, &longer).is_err());
        // A wrong old size with the right old root, or a wrong new size.
        let m2 = 1 + other % n;
        if m2 != m {
            prop_assert!(verify_consistency(m2, n, &old_root, &new_root, &proof).is_err());
        }
        let n2 = 1 + other % 400;
        if n2 != n {
            let same_shape = m <= n2 && consistency_shape(m, n2) == consistency_shape(m, n);
            let res = verify_consistency(m, n2, &old_root, &new_root, &proof);
            prop_assert_eq!(res.is_ok(), same_shape, "size {} for {} of {}", n2, m, n);
        }
        // A different prefix of another log is not consistent with this one.
        let foreign = mth(&leaves(m, salt ^ 1));
        prop_assert!(verify_consistency(m, n, &foreign, &new_root, &proof).is_err());
    }
}

/// The sequence of combine steps the §2.1.3.2 verifier takes for (index, size):
/// true where the sibling is on the left.
fn shape(index: u64, size: u64) -> Vec<bool> {
    let (mut f, mut s) = (index, size - 1);
    let mut out = Vec::new();
    while s > 0 {
        if f & 1 == 1 || f == s {
            out.push(true);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            out.push(false);
        }
        f >>= 1;
        s >>= 1;
    }
    out
}

/// The same for §2.1.4.2: which hashes feed the old root and on which side.
fn consistency_shape(old: u64, new: u64) -> Option<Vec<(bool, bool)>> {
    if old == new {
        return None;
    }
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut out = vec![(old.is_power_of_two(), false)];
    while s > 0 {
        if f & 1 == 1 || f == s {
            out.push((true, true));
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            out.push((false, false));
        }
        f >>= 1;
        s >>= 1;
    }
    Some(out)
}

#[test]
fn rfc_shapes_by_hand() {
    // RFC 9162 §2.1.5's example tree of 7 leaves d0..d6.
    let ls = leaves(7, 0);
    let t = tree(&ls);
    let (a, b) = (node_hash(&ls[0], &ls[1]), node_hash(&ls[2], &ls[3]));
    let (e, f) = (node_hash(&ls[4], &ls[5]), ls[6]);
    let (g, h) = (node_hash(&a, &b), node_hash(&e, &f));
    // Inclusion of d0: [b_leaf, h(c,d), i].
    assert_eq!(inclusion_proof(&t, 0, 7).unwrap(), vec![ls[1], b, h]);
    // Inclusion of d6: [j... ] = [e, g] (d6 promoted past the missing sibling).
    assert_eq!(inclusion_proof(&t, 6, 7).unwrap(), vec![e, g]);
    // Consistency 3 → 7: [c, d, g, l] in RFC naming = [d2, d3, a, h].
    assert_eq!(
        consistency_proof(&t, 3, 7).unwrap(),
        vec![ls[2], ls[3], a, h]
    );
    // 4 → 7: [l] (the old tree is the full subtree g).
    assert_eq!(consistency_proof(&t, 4, 7).unwrap(), vec![h]);
    // 6 → 7: [i, j, k] = [e, f, g].
    assert_eq!(consistency_proof(&t, 6, 7).unwrap(), vec![e, f, g]);
}
