//! Properties of `evident_ledger::merkle`: generated proofs verify, tampered ones do not, roots
//! agree with a naive computation, the frontier agrees with the full tree, and verification never
//! panics, whatever the sizes.

use std::collections::BTreeMap;

use evident_ledger::Hash;
use evident_ledger::merkle::{
    self, Frontier, MemoryTree, NodeSource, ProofError, RangeError, frontier_indexes,
    is_valid_subtree, leaf_hash, node_hash, verify_consistency, verify_inclusion,
    verify_subtree_consistency, verify_subtree_inclusion,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The root computed level by level: pair up neighbours, carry an odd last node up unchanged.
/// A different algorithm from the module's (which splits at powers of two), same tree.
fn naive_root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return merkle::EMPTY_ROOT;
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node_hash(left, right),
                [single] => *single,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

fn leaves(count: u64, seed: u64) -> Vec<Hash> {
    (0..count)
        .map(|i| leaf_hash(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
        .collect()
}

fn tree(leaves: &[Hash]) -> MemoryTree {
    leaves.iter().copied().collect()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut flipped = *hash;
    flipped[bit / 8 % 32] ^= 1 << (bit % 8);
    flipped
}

/// A node source that fails on any node outside the tree of `size` leaves: generation must never
/// ask for one.
struct Bounded<'a, S> {
    inner: &'a S,
    size: u64,
}

impl<S: NodeSource> NodeSource for Bounded<'_, S> {
    type Error = String;

    fn node(&self, level: u8, index: u64) -> Result<Hash, String> {
        let end = (u128::from(index) + 1) << level;
        if level >= 64 || end > u128::from(self.size) {
            return Err(format!(
                "asked for node ({level}, {index}), outside a tree of {} leaves",
                self.size
            ));
        }
        self.inner
            .node(level, index)
            .map_err(|_| format!("the source has no node ({level}, {index})"))
    }
}

fn bounded<S>(inner: &S, size: u64) -> Bounded<'_, S> {
    Bounded { inner, size }
}

/// A consistent tree of up to 2^64 - 1 leaves: every leaf is the same filler, except a few
/// "special" ones. Nodes without a special leaf below them are precomputed per level; the others
/// are computed down to their special leaves.
struct SparseTree {
    filler: [Hash; 64],
    special: BTreeMap<u64, Hash>,
}

impl SparseTree {
    fn new(special: impl IntoIterator<Item = u64>) -> Self {
        let mut filler = [leaf_hash(b"filler"); 64];
        for level in 1..64 {
            filler[level] = node_hash(&filler[level - 1], &filler[level - 1]);
        }
        let special = special
            .into_iter()
            .map(|i| {
                (
                    i,
                    leaf_hash(&[b"special".as_slice(), &i.to_le_bytes()].concat()),
                )
            })
            .collect();
        Self { filler, special }
    }

    fn leaf(&self, index: u64) -> Hash {
        self.special.get(&index).copied().unwrap_or(self.filler[0])
    }

    fn has_special(&self, lo: u128, hi: u128) -> bool {
        let lo = u64::try_from(lo).unwrap_or(u64::MAX);
        match u64::try_from(hi) {
            Ok(hi) => self.special.range(lo..hi).next().is_some(),
            Err(_) => self.special.range(lo..).next().is_some(),
        }
    }
}

impl NodeSource for SparseTree {
    type Error = std::convert::Infallible;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        let lo = u128::from(index) << level;
        let hi = (u128::from(index) + 1) << level;
        if level == 0 || !self.has_special(lo, hi) {
            return Ok(if level == 0 {
                self.leaf(index)
            } else {
                self.filler[usize::from(level)]
            });
        }
        let left = self.node(level - 1, index * 2)?;
        let right = self.node(level - 1, index * 2 + 1)?;
        Ok(node_hash(&left, &right))
    }
}

/// A random valid subtree `[start, end)` with `end <= size`, from three raw numbers.
fn pick_subtree(size: u64, a: u64, b: u64, c: u64) -> (u64, u64) {
    let max_level = size.ilog2(); // 2^max_level <= size
    let level = (a % u64::from(max_level + 1)) as u32;
    let width = 1u64 << level;
    let blocks = size >> level; // aligned blocks of `width` that start below `size`
    let start = (b % blocks) << level;
    let room = (size - start).min(width);
    let len = 1 + c % room;
    (start, start + len)
}

fn proptest_config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Sizes near every edge: small, powers of two and their neighbours, large, the largest.
fn any_size() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..20,
        (0u32..64).prop_map(|s| 1u64 << s),
        (1u32..64).prop_map(|s| (1u64 << s) - 1),
        (1u32..64).prop_map(|s| (1u64 << s) + 1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        any::<u64>(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Exhaustive checks on small trees
// ---------------------------------------------------------------------------------------------

#[test]
fn every_proof_of_every_small_tree_verifies() {
    let all = leaves(100, 7);
    let tree = tree(&all);
    for size in 1..=all.len() as u64 {
        let prefix = &all[..size as usize];
        let root = naive_root(prefix);
        assert_eq!(merkle::root(prefix), root, "size {size}");
        assert_eq!(tree.root_at(size), Ok(root), "size {size}");
        let src = bounded(&tree, size);
        for index in 0..size {
            let proof = merkle::inclusion_proof(&src, index, size).expect("valid arguments");
            let leaf = &all[index as usize];
            assert_eq!(
                verify_inclusion(index, size, leaf, &proof, &root),
                Ok(()),
                "index {index}, size {size}"
            );
        }
        for size1 in 1..=size {
            let proof = merkle::consistency_proof(&src, size1, size).expect("valid arguments");
            let root1 = naive_root(&all[..size1 as usize]);
            assert_eq!(
                verify_consistency(size1, size, &proof, &root1, &root),
                Ok(()),
                "sizes {size1} -> {size}"
            );
        }
    }
}

/// An inclusion proof binds the leaf's position: it verifies at no other index of the tree.
#[test]
fn no_inclusion_proof_verifies_at_another_index() {
    let all = leaves(64, 5);
    let tree = tree(&all);
    for size in 1..=all.len() as u64 {
        let root = tree.root_at(size).expect("in the tree");
        for index in 0..size {
            let proof = tree.inclusion_proof(index, size).expect("valid arguments");
            let leaf = &all[index as usize];
            for other in (0..size).filter(|&other| other != index) {
                assert!(
                    verify_inclusion(other, size, leaf, &proof, &root).is_err(),
                    "the proof of {index} in {size} verifies at {other}"
                );
            }
        }
    }
}

#[test]
fn every_subtree_proof_of_every_small_tree_verifies() {
    let all = leaves(70, 8);
    let tree = tree(&all);
    for end in 1..=all.len() as u64 {
        for start in 0..end {
            if !is_valid_subtree(start, end) {
                continue;
            }
            let sub_root = naive_root(&all[start as usize..end as usize]);
            let src = bounded(&tree, end);
            assert_eq!(merkle::subtree_root(&src, start, end), Ok(sub_root));
            for index in start..end {
                let proof = merkle::subtree_inclusion_proof(&src, index, start, end)
                    .expect("valid arguments");
                let leaf = &all[index as usize];
                assert_eq!(
                    verify_subtree_inclusion(index, start, end, leaf, &proof, &sub_root),
                    Ok(()),
                    "index {index} in [{start}, {end})"
                );
            }
            for size in end..=all.len() as u64 {
                let src = bounded(&tree, size);
                let proof = merkle::subtree_consistency_proof(&src, start, end, size)
                    .expect("valid arguments");
                let root = naive_root(&all[..size as usize]);
                assert_eq!(
                    verify_subtree_consistency(start, end, size, &proof, &sub_root, &root),
                    Ok(()),
                    "[{start}, {end}) in {size}"
                );
            }
        }
    }
}

#[test]
fn subtree_consistency_from_zero_is_rfc_consistency() {
    let all = leaves(40, 9);
    let tree = tree(&all);
    for size in 1..=40 {
        for end in 1..size {
            assert_eq!(
                tree.subtree_consistency_proof(0, end, size),
                tree.consistency_proof(end, size)
            );
        }
    }
}

#[test]
fn argument_errors() {
    let tree = tree(&leaves(8, 1));
    assert_eq!(
        tree.subtree_inclusion_proof(3, 2, 5),
        Err(RangeError::InvalidSubtree { start: 2, end: 5 })
    );
    assert_eq!(
        tree.subtree_inclusion_proof(1, 2, 4),
        Err(RangeError::IndexOutsideSubtree {
            index: 1,
            start: 2,
            end: 4
        })
    );
    assert_eq!(
        tree.subtree_consistency_proof(4, 8, 9),
        Err(RangeError::TreeTooSmall {
            requested: 9,
            available: 8
        })
    );
    assert_eq!(
        tree.subtree_consistency_proof(4, 8, 6),
        Err(RangeError::SubtreeOutsideTree {
            start: 4,
            end: 8,
            size: 6
        })
    );
    assert_eq!(
        merkle::subtree_consistency_proof(&tree, 4, 8, 6),
        Err(merkle::ProofGenError::OutOfRange(
            RangeError::SubtreeOutsideTree {
                start: 4,
                end: 8,
                size: 6
            }
        ))
    );
    assert_eq!(tree.subtree_consistency_proof(3, 3, 8), Ok(vec![]));
    assert_eq!(
        verify_consistency(0, 0, &[], &merkle::EMPTY_ROOT, &merkle::EMPTY_ROOT),
        Err(ProofError::OutOfRange(RangeError::EmptyOldTree))
    );
}

// ---------------------------------------------------------------------------------------------
// Random trees
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(proptest_config(64))]

    /// Every inclusion and consistency proof of a random tree verifies; all roots agree.
    #[test]
    fn generated_proofs_verify(size in 1u64..300, seed in any::<u64>()) {
        let all = leaves(size, seed);
        let tree = tree(&all);
        let root = tree.root();
        prop_assert_eq!(root, naive_root(&all));
        prop_assert_eq!(root, merkle::root(&all));
        let src = bounded(&tree, size);
        for (index, leaf) in (0..).zip(&all) {
            let proof = merkle::inclusion_proof(&src, index, size).expect("valid arguments");
            prop_assert_eq!(verify_inclusion(index, size, leaf, &proof, &root), Ok(()));
        }
        for size1 in 1..=size {
            let proof = merkle::consistency_proof(&src, size1, size).expect("valid arguments");
            let root1 = tree.root_at(size1).expect("in the tree");
            prop_assert_eq!(verify_consistency(size1, size, &proof, &root1, &root), Ok(()));
        }
    }

    /// Flipping any bit of an inclusion proof, the leaf or the root is caught.
    #[test]
    fn tampered_inclusion_is_rejected(
        size in 1u64..300,
        pick in any::<u64>(),
        bit in 0usize..256,
        seed in any::<u64>(),
    ) {
        let all = leaves(size, seed);
        let tree = tree(&all);
        let index = pick % size;
        let leaf = all[index as usize];
        let root = tree.root();
        let proof = tree.inclusion_proof(index, size).expect("valid arguments");
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err());
        }
        prop_assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &root).is_err());
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &flip(&root, bit)).is_err());
        let mut longer = proof.clone();
        longer.push(leaf);
        prop_assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_inclusion(index, size, &leaf, shorter, &root).is_err());
        }
    }

    /// A proof for one index does not verify another leaf position, and a proof for one size
    /// does not verify against the root of another size.
    #[test]
    fn wrong_index_or_size_is_rejected(
        size in 2u64..300,
        picks in any::<(u64, u64, u64)>(),
        seed in any::<u64>(),
    ) {
        let all = leaves(size, seed);
        let tree = tree(&all);
        let index = picks.0 % size;
        let other_index = (index + 1 + picks.1 % (size - 1)) % size;
        let leaf = all[index as usize];
        let root = tree.root();
        let proof = tree.inclusion_proof(index, size).expect("valid arguments");
        prop_assert!(verify_inclusion(other_index, size, &leaf, &proof, &root).is_err());

        let other_size = index + 1 + picks.2 % (size - index);
        if other_size != size {
            let other_root = tree.root_at(other_size).expect("in the tree");
            prop_assert!(
                verify_inclusion(index, other_size, &leaf, &proof, &other_root).is_err()
            );
        }
        prop_assert!(verify_inclusion(size, size, &leaf, &proof, &root).is_err());
    }

    /// Flipping any bit of a consistency proof or of either root is caught, and so are other
    /// sizes.
    #[test]
    fn tampered_consistency_is_rejected(
        size2 in 2u64..300,
        pick in any::<u64>(),
        other in any::<u64>(),
        bit in 0usize..256,
        seed in any::<u64>(),
    ) {
        let tree = tree(&leaves(size2, seed));
        let size1 = 1 + pick % (size2 - 1);
        let root1 = tree.root_at(size1).expect("in the tree");
        let root2 = tree.root();
        let proof = tree.consistency_proof(size1, size2).expect("valid arguments");
        prop_assert_eq!(verify_consistency(size1, size2, &proof, &root1, &root2), Ok(()));
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_consistency(size1, size2, &bad, &root1, &root2).is_err());
        }
        prop_assert!(verify_consistency(size1, size2, &proof, &flip(&root1, bit), &root2).is_err());
        prop_assert!(verify_consistency(size1, size2, &proof, &root1, &flip(&root2, bit)).is_err());
        prop_assert!(verify_consistency(size1, size2, &proof, &root2, &root1).is_err());

        let other_size1 = 1 + other % (size2 - 1);
        if other_size1 != size1 {
            let other_root1 = tree.root_at(other_size1).expect("in the tree");
            prop_assert!(
                verify_consistency(other_size1, size2, &proof, &other_root1, &root2).is_err()
            );
        }
        let other_size2 = size1 + 1 + other % (size2 - size1);
        if other_size2 != size2 {
            let other_root2 = tree.root_at(other_size2).expect("in the tree");
            prop_assert!(
                verify_consistency(size1, other_size2, &proof, &root1, &other_root2).is_err()
            );
        }
    }

    /// The same for subtree proofs.
    #[test]
    fn tampered_subtree_proofs_are_rejected(
        size in 2u64..300,
        picks in any::<(u64, u64, u64, u64)>(),
        bit in 0usize..256,
        seed in any::<u64>(),
    ) {
        let all = leaves(size, seed);
        let tree = tree(&all);
        let (start, end) = pick_subtree(size, picks.0, picks.1, picks.2);
        let sub_root = tree.subtree_root(start, end).expect("valid subtree");
        prop_assert_eq!(sub_root, naive_root(&all[start as usize..end as usize]));
        let root = tree.root();

        let proof = tree.subtree_consistency_proof(start, end, size).expect("valid arguments");
        prop_assert_eq!(
            verify_subtree_consistency(start, end, size, &proof, &sub_root, &root),
            Ok(())
        );
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(
                verify_subtree_consistency(start, end, size, &bad, &sub_root, &root).is_err()
            );
        }
        prop_assert!(verify_subtree_consistency(
            start, end, size, &proof, &flip(&sub_root, bit), &root
        ).is_err());
        prop_assert!(verify_subtree_consistency(
            start, end, size, &proof, &sub_root, &flip(&root, bit)
        ).is_err());

        let index = start + picks.3 % (end - start);
        let leaf = all[index as usize];
        let proof = tree.subtree_inclusion_proof(index, start, end).expect("valid arguments");
        prop_assert_eq!(
            verify_subtree_inclusion(index, start, end, &leaf, &proof, &sub_root),
            Ok(())
        );
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(
                verify_subtree_inclusion(index, start, end, &leaf, &bad, &sub_root).is_err()
            );
        }
        prop_assert!(verify_subtree_inclusion(
            index, start, end, &flip(&leaf, bit), &proof, &sub_root
        ).is_err());
    }

    /// Roots published earlier stay provably consistent as the log grows, and old inclusion
    /// proofs keep verifying against them.
    #[test]
    fn earlier_roots_stay_valid(size in 1u64..200, seed in any::<u64>()) {
        let all = leaves(size, seed);
        let mut tree = MemoryTree::new();
        let mut published = Vec::new();
        for leaf in &all {
            let index = tree.push(*leaf);
            prop_assert_eq!(index + 1, tree.size());
            published.push(tree.root());
        }
        let latest = tree.root();
        for (size1, root1) in (1..).zip(&published) {
            prop_assert_eq!(tree.root_at(size1), Ok(*root1));
            let proof = tree.consistency_proof(size1, size).expect("valid arguments");
            prop_assert_eq!(verify_consistency(size1, size, &proof, root1, &latest), Ok(()));
            let index = size1 - 1;
            let proof = tree.inclusion_proof(index, size1).expect("valid arguments");
            prop_assert_eq!(
                verify_inclusion(index, size1, &all[index as usize], &proof, root1),
                Ok(())
            );
        }
    }

    /// The frontier agrees with the full tree after every push, reports exactly the nodes each
    /// push completes, and can be rebuilt from its nodes or from a node source.
    #[test]
    fn frontier_tracks_the_tree(size in 1u64..300, cut in any::<u64>(), seed in any::<u64>()) {
        let all = leaves(size, seed);
        let cut = cut % (size + 1);
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::new();
        for leaf in &all[..cut as usize] {
            push_both(&mut tree, &mut frontier, *leaf)?;
        }
        let n = frontier.size();
        prop_assert_eq!(n, cut);
        let rebuilt = Frontier::from_nodes(n, frontier.nodes().to_vec()).expect("right count");
        prop_assert_eq!(&rebuilt, &frontier);
        prop_assert_eq!(&Frontier::from_source(&tree, n).expect("infallible"), &frontier);
        let stored: Vec<Hash> = frontier_indexes(n)
            .into_iter()
            .map(|(level, index)| tree.node(level, index).expect("infallible"))
            .collect();
        prop_assert_eq!(stored.as_slice(), frontier.nodes());
        // Carry on from the rebuilt frontier.
        let mut frontier = rebuilt;
        for leaf in &all[cut as usize..] {
            push_both(&mut tree, &mut frontier, *leaf)?;
        }
    }

    /// Proofs in huge trees (up to 2^64 - 1 leaves) generate from the right nodes and verify.
    #[test]
    fn huge_trees(
        size in prop_oneof![
            (1u64 << 32)..u64::MAX,
            Just(u64::MAX),
            Just(1u64 << 63),
            Just((1u64 << 63) + 1),
        ],
        picks in any::<(u64, u64, u64, u64, u64)>(),
        bit in 0usize..256,
    ) {
        let index = picks.0 % size;
        let size1 = 1 + picks.1 % size;
        let (start, end) = pick_subtree(size, picks.2, picks.3, picks.4);
        let sparse = SparseTree::new([index, size1 - 1, start, end - 1, size - 1, picks.4 % size]);
        let src = bounded(&sparse, size);
        let root = merkle::root_at(&src, size).expect("in the tree");
        prop_assert_eq!(Frontier::from_source(&src, size).expect("in the tree").root(), root);

        let leaf = sparse.leaf(index);
        let proof = merkle::inclusion_proof(&src, index, size).expect("valid arguments");
        prop_assert!(proof.len() <= 64);
        prop_assert_eq!(verify_inclusion(index, size, &leaf, &proof, &root), Ok(()));
        prop_assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &root).is_err());

        let root1 = merkle::root_at(&src, size1).expect("in the tree");
        let proof = merkle::consistency_proof(&src, size1, size).expect("valid arguments");
        prop_assert_eq!(verify_consistency(size1, size, &proof, &root1, &root), Ok(()));
        prop_assert!(
            verify_consistency(size1, size, &proof, &flip(&root1, bit), &root).is_err()
        );

        let sub_root = merkle::subtree_root(&src, start, end).expect("valid subtree");
        let proof = merkle::subtree_consistency_proof(&src, start, end, size)
            .expect("valid arguments");
        prop_assert_eq!(
            verify_subtree_consistency(start, end, size, &proof, &sub_root, &root),
            Ok(())
        );
        prop_assert!(verify_subtree_consistency(
            start, end, size, &proof, &flip(&sub_root, bit), &root
        ).is_err());
        let sub_leaf = sparse.leaf(start);
        let proof = merkle::subtree_inclusion_proof(&src, start, start, end)
            .expect("valid arguments");
        prop_assert_eq!(
            verify_subtree_inclusion(start, start, end, &sub_leaf, &proof, &sub_root),
            Ok(())
        );
    }
}

/// Pushes a leaf into both structures and checks that they agree.
fn push_both(
    tree: &mut MemoryTree,
    frontier: &mut Frontier,
    leaf: Hash,
) -> Result<(), TestCaseError> {
    let index = tree.push(leaf);
    let completed = frontier.push(leaf).expect("far from full");
    prop_assert_eq!(frontier.size(), tree.size());
    prop_assert_eq!(frontier.root(), tree.root());
    prop_assert_eq!(completed.len() as u32, index.trailing_ones() + 1);
    for (i, (level, node_index, hash)) in completed.into_iter().enumerate() {
        prop_assert_eq!(usize::from(level), i);
        prop_assert_eq!(node_index, index >> level);
        prop_assert_eq!(tree.node(level, node_index).expect("infallible"), hash);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Arbitrary input
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(proptest_config(2048))]

    /// Verification returns (never panics) on any sizes, indexes and proofs.
    #[test]
    fn verification_never_panics(
        a in any_size(),
        b in any_size(),
        c in any_size(),
        d in any_size(),
        proof in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        x in any::<[u8; 32]>(),
        y in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(a, b, &x, &proof, &y);
        let _ = verify_consistency(a, b, &proof, &x, &y);
        let _ = verify_subtree_inclusion(a, b, c, &x, &proof, &y);
        let _ = verify_subtree_consistency(a, b, c, &proof, &x, &y);
        let _ = verify_subtree_consistency(a, b, d, &proof, &x, &y);
        let _ = is_valid_subtree(c, d);
        let _ = frontier_indexes(d);
    }

    /// Random proofs of the right length for the given sizes are rejected (and do not panic).
    #[test]
    fn random_proofs_of_the_right_length_are_rejected(
        size in any_size(),
        pick in any::<u64>(),
        hashes in prop::collection::vec(any::<[u8; 32]>(), 64),
        x in any::<[u8; 32]>(),
        y in any::<[u8; 32]>(),
    ) {
        prop_assume!(size >= 2);
        let index = pick % size;
        // Find the right length by asking the verifier.
        for len in 0..=64 {
            match verify_inclusion(index, size, &x, &hashes[..len], &y) {
                Err(ProofError::WrongProofLength { .. }) => {}
                other => {
                    let mismatch = matches!(other, Err(ProofError::RootMismatch { .. }));
                    prop_assert!(mismatch, "{:?}", other);
                    break;
                }
            }
        }
        let size1 = 1 + pick % (size - 1);
        for len in 0..=64 {
            match verify_consistency(size1, size, &hashes[..len], &x, &y) {
                Err(ProofError::WrongProofLength { .. }) => {}
                other => {
                    let mismatch = matches!(
                        other,
                        Err(ProofError::OldRootMismatch { .. } | ProofError::RootMismatch { .. })
                    );
                    prop_assert!(mismatch, "{:?}", other);
                    break;
                }
            }
        }
    }
}
