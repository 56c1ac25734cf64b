//! The RFC 6962 / RFC 9162 Merkle tree over SHA-256: hashing, proof generation and proof
//! verification, including the *subtree* proofs of the Merkle Tree Certificates draft
//! (draft-ietf-plants-merkle-tree-certs).
//!
//! # The tree
//!
//! A log of `n` entries is a binary tree whose leaves are [`leaf_hash`]es and whose inner nodes
//! are [`node_hash`]es of their two children. For `n > 1` the left child covers the first `k`
//! entries, where `k` is the largest power of two smaller than `n`, and the right child covers
//! the rest (RFC 9162 section 2.1.1). The root of the empty tree is [`EMPTY_ROOT`].
//!
//! Every complete ("perfect") subtree is named by `(level, index)`: it covers the `2^level`
//! leaves `[index * 2^level, (index + 1) * 2^level)`. These are the hashes a log stores (in the
//! C2SP tlog-tiles layout, for instance) and the ones a [`NodeSource`] hands out. Nodes on the
//! right edge of a tree whose size is not a power of two are not stored: they are computed from
//! perfect ones when needed.
//!
//! # What is here
//!
//! - Hashing: [`leaf_hash`], [`node_hash`], [`EMPTY_ROOT`] and [`root`] (the MTH of a list).
//! - Generation from stored perfect subtrees: [`NodeSource`], [`root_at`], [`inclusion_proof`],
//!   [`consistency_proof`], and the subtree variants [`subtree_root`],
//!   [`subtree_inclusion_proof`] and [`subtree_consistency_proof`].
//! - [`MemoryTree`]: every complete node in memory, for tests, verification and small logs.
//! - [`Frontier`]: the right-edge perfect subtrees of a tree, enough to append and to compute the
//!   root; it reports each node that an append completes so that a store can write it.
//! - Verification: [`verify_inclusion`], [`verify_consistency`],
//!   [`verify_subtree_inclusion`] and [`verify_subtree_consistency`].
//!
//! Everything is pure (no I/O) and no function panics on any input, whatever the sizes (up to
//! `u64::MAX`) or proofs given; the one documented exception is asking a [`MemoryTree`], through
//! the [`NodeSource`] trait, for a node it does not hold.
//!
//! # Subtrees
//!
//! A subtree `[start, end)` (MTC draft section 4.1) is a non-empty range of leaves such that
//! `start` is a multiple of the smallest power of two that is at least `end - start`. Its hash is
//! the MTH of those leaves, and it is a node of every tree that holds them all, so it can be
//! signed once and proven both to contain an entry (a subtree inclusion proof: the ordinary
//! inclusion proof within the subtree) and to sit inside a larger tree (a subtree consistency
//! proof, which for `start == 0` is exactly the RFC 9162 consistency proof).

use std::convert::Infallible;

use sha2::{Digest, Sha256};

use crate::Hash;

// ---------------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------------

/// The root of the empty tree: SHA-256 of the empty string.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The hash of a log entry as a leaf: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(entry)
        .finalize()
        .into()
}

/// The hash of an inner node from its children: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The Merkle tree hash (MTH) of a list of leaf hashes: the root of the tree that holds them.
///
/// `root(&[])` is [`EMPTY_ROOT`] and `root(&[h])` is `h`.
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => EMPTY_ROOT,
        [only] => *only,
        _ => {
            // Fewer than 2^64 leaves fit in memory, so the length is a valid `u64` and the split
            // point a valid `usize`.
            let k = split_point(leaf_hashes.len() as u64) as usize;
            node_hash(&root(&leaf_hashes[..k]), &root(&leaf_hashes[k..]))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tree shape
// ---------------------------------------------------------------------------------------------

/// The largest power of two strictly smaller than `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// The number of bits needed to write `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// `x >> n`, which is 0 (instead of an overflow) when `n >= 64`.
fn shr(x: u64, n: u32) -> u64 {
    x.checked_shr(n).unwrap_or(0)
}

/// Whether `[start, end)` is a subtree in the sense of the Merkle Tree Certificates draft: a
/// non-empty range whose `start` is a multiple of the smallest power of two `>= end - start`.
///
/// Such a range is a node of every tree of at least `end` leaves: a perfect subtree, or the
/// right-edge node of the tree of exactly `end` leaves.
pub fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start >= end {
        return false;
    }
    // `None` means 2^64, which only 0 is a multiple of.
    match (end - start).checked_next_power_of_two() {
        Some(width) => start.is_multiple_of(width),
        None => start == 0,
    }
}

/// Visits, from the root down, the nodes whose hashes make up the inclusion proof of leaf
/// `index` within the node `[lo, hi)` (RFC 9162 PATH): one sibling per level.
///
/// Requires `lo <= index < hi` and `[lo, hi)` to be a node of the tree.
fn walk_inclusion(index: u64, mut lo: u64, mut hi: u64, mut visit: impl FnMut(u64, u64)) {
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            visit(mid, hi);
            hi = mid;
        } else {
            visit(lo, mid);
            lo = mid;
        }
    }
}

/// Visits, from the root down, the nodes whose hashes make up the consistency proof of the
/// subtree `[start, end)` in the tree of `size` leaves (the draft's SUBTREE_PROOF, which for
/// `start == 0` is RFC 9162 PROOF).
///
/// Requires `[start, end)` to be a valid subtree with `end <= size`.
fn walk_consistency(start: u64, end: u64, size: u64, mut visit: impl FnMut(u64, u64)) {
    // Invariant: lo <= start < end <= hi, and [lo, hi) is a node of the tree.
    let (mut lo, mut hi, mut start) = (0, size, start);
    // Whether the verifier already knows the hash of the node the descent ends on.
    let mut known = true;
    while !(start == lo && end == hi) {
        let mid = lo + split_point(hi - lo);
        if end <= mid {
            visit(mid, hi);
            hi = mid;
        } else if mid <= start {
            visit(lo, mid);
            lo = mid;
        } else {
            // The subtree straddles `mid`, so it starts at `lo` (it is valid): its left part is
            // the whole left child, and the proof continues with its right part.
            visit(lo, mid);
            lo = mid;
            start = mid;
            known = false;
        }
    }
    if !known {
        visit(lo, hi);
    }
}

/// The number of hashes in the consistency proof of `[start, end)` in a tree of `size` leaves.
fn consistency_proof_len(start: u64, end: u64, size: u64) -> usize {
    let mut len = 0;
    walk_consistency(start, end, size, |_, _| len += 1);
    len
}

// ---------------------------------------------------------------------------------------------
// Proof generation from stored nodes
// ---------------------------------------------------------------------------------------------

/// Where proof generation reads the hashes of perfect subtrees.
///
/// `(level, index)` names the root of the perfect subtree covering leaves
/// `[index * 2^level, (index + 1) * 2^level)`; level 0 holds the leaf hashes. The functions of
/// this module only ask for nodes that exist in the tree whose size they are given (which a
/// store can check), and compute right-edge nodes themselves.
pub trait NodeSource {
    /// Why a node could not be read.
    type Error;

    /// The hash of the perfect subtree `(level, index)`.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Sizes or indexes that do not describe a node or proof of a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The leaf index is not in the tree.
    #[error(
        "leaf index {index} is not in a tree of {size} entries (indexes run from 0 to size - 1)"
    )]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The leaf index is not in the subtree.
    #[error("leaf index {index} is not in the subtree [{start}, {end}) that the proof is for")]
    IndexOutsideSubtree {
        /// The leaf index.
        index: u64,
        /// The first leaf of the subtree.
        start: u64,
        /// One past the last leaf of the subtree.
        end: u64,
    },
    /// The older tree is larger than the newer one.
    #[error(
        "the older tree size {size1} is larger than the newer size {size2}: a log only grows, \
         so pass the smaller size first"
    )]
    SizeDecreased {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// A consistency proof from the empty tree was asked for.
    #[error(
        "a consistency proof from the empty tree proves nothing; use an older size of at least 1"
    )]
    EmptyOldTree,
    /// The range is not a subtree.
    #[error(
        "[{start}, {end}) is not a subtree: a subtree is non-empty and starts at a multiple of \
         the smallest power of two at least as large as its length"
    )]
    InvalidSubtree {
        /// The first leaf of the range.
        start: u64,
        /// One past the last leaf of the range.
        end: u64,
    },
    /// The subtree reaches past the end of the tree.
    #[error("the subtree [{start}, {end}) does not fit in a tree of {size} entries")]
    SubtreeOutsideTree {
        /// The first leaf of the subtree.
        start: u64,
        /// One past the last leaf of the subtree.
        end: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size larger than the tree at hand was asked for.
    #[error("the tree has only {available} entries, not {requested}")]
    TreeTooSmall {
        /// The size asked for.
        requested: u64,
        /// The size of the tree.
        available: u64,
    },
}

/// Why a proof (or root) could not be generated from a [`NodeSource`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofGenError<E> {
    /// The arguments do not describe a proof of the tree.
    #[error(transparent)]
    OutOfRange(#[from] RangeError),
    /// The node source failed.
    #[error("could not read a stored tree node")]
    Source(#[source] E),
}

/// The hash of the node `[lo, hi)` of a tree, from the perfect subtrees it splits into.
///
/// `lo` must be a multiple of the largest power of two `<= hi - lo` (true of every node of an RFC
/// 6962 tree and of every valid subtree); then the pieces are the set bits of `hi - lo`, largest
/// first, and all of them lie in `[lo, hi)`. They are folded from the right.
fn range_hash<S: NodeSource + ?Sized>(src: &S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let mut pieces = hi - lo;
    let mut end = hi;
    let mut acc: Option<Hash> = None;
    while pieces != 0 {
        let level = pieces.trailing_zeros();
        let begin = end - (1 << level);
        let hash = src.node(level as u8, begin >> level)?;
        acc = Some(match acc {
            None => hash,
            Some(right) => node_hash(&hash, &right),
        });
        end = begin;
        pieces &= pieces - 1;
    }
    Ok(acc.unwrap_or(EMPTY_ROOT))
}

/// The hashes of the nodes a walk visits, in proof order (the walk goes top-down, proofs list
/// the lowest node first).
fn collect_proof<S: NodeSource + ?Sized>(
    src: &S,
    walk: impl FnOnce(&mut dyn FnMut(u64, u64)),
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    let mut ranges = Vec::new();
    walk(&mut |lo, hi| ranges.push((lo, hi)));
    ranges
        .iter()
        .rev()
        .map(|&(lo, hi)| range_hash(src, lo, hi).map_err(ProofGenError::Source))
        .collect()
}

/// The root of the tree of the first `size` leaves ([`EMPTY_ROOT`] for 0).
pub fn root_at<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash, S::Error> {
    range_hash(src, 0, size)
}

/// The hash of the subtree `[start, end)` (see [`is_valid_subtree`]).
pub fn subtree_root<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
) -> Result<Hash, ProofGenError<S::Error>> {
    if !is_valid_subtree(start, end) {
        return Err(RangeError::InvalidSubtree { start, end }.into());
    }
    range_hash(src, start, end).map_err(ProofGenError::Source)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 section 2.1.3),
/// lowest sibling first.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    if index >= size {
        return Err(RangeError::IndexOutOfRange { index, size }.into());
    }
    collect_proof(src, |visit| walk_inclusion(index, 0, size, visit))
}

/// The inclusion proof of leaf `index` in the subtree `[start, end)` (MTC draft section 4.3):
/// the ordinary inclusion proof of leaf `index - start` in the tree of the subtree's leaves.
///
/// Only nodes inside the subtree are read, so the source must hold at least `end` leaves.
pub fn subtree_inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    start: u64,
    end: u64,
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    check_subtree_index(index, start, end)?;
    collect_proof(src, |visit| walk_inclusion(index, start, end, visit))
}

/// The consistency proof from the tree of `size1` leaves to the tree of `size2` leaves (RFC
/// 9162 section 2.1.4). It is empty when the sizes are equal.
///
/// Fails if `size1 > size2`, or if `size1` is 0: a proof from the empty tree proves nothing,
/// and RFC 9162 verifiers reject it.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    check_consistency_sizes(size1, size2)?;
    collect_proof(src, |visit| walk_consistency(0, size1, size2, visit))
}

/// The consistency proof of the subtree `[start, end)` in the tree of `size` leaves (MTC draft
/// section 4.4): it shows that the subtree's hash is that of a node of the tree. It is empty
/// when the subtree is the whole tree, and for an empty range (`start == end <= size`), which
/// every tree trivially contains.
pub fn subtree_consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofGenError<S::Error>> {
    check_subtree_in_tree(start, end, size)?;
    if start == end {
        return Ok(Vec::new());
    }
    collect_proof(src, |visit| walk_consistency(start, end, size, visit))
}

/// Checks that `index` is a leaf of the valid subtree `[start, end)`.
fn check_subtree_index(index: u64, start: u64, end: u64) -> Result<(), RangeError> {
    if !is_valid_subtree(start, end) {
        return Err(RangeError::InvalidSubtree { start, end });
    }
    if index < start || index >= end {
        return Err(RangeError::IndexOutsideSubtree { index, start, end });
    }
    Ok(())
}

/// Checks `0 < size1 <= size2`.
fn check_consistency_sizes(size1: u64, size2: u64) -> Result<(), RangeError> {
    if size1 > size2 {
        return Err(RangeError::SizeDecreased { size1, size2 });
    }
    if size1 == 0 {
        return Err(RangeError::EmptyOldTree);
    }
    Ok(())
}

/// Checks that `[start, end)` is a valid subtree, or an empty range, with `end <= size`.
fn check_subtree_in_tree(start: u64, end: u64, size: u64) -> Result<(), RangeError> {
    if start > end || (start < end && !is_valid_subtree(start, end)) {
        return Err(RangeError::InvalidSubtree { start, end });
    }
    if end > size {
        return Err(RangeError::SubtreeOutsideTree { start, end, size });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// MemoryTree
// ---------------------------------------------------------------------------------------------

/// A Merkle tree held in memory with every complete node: about two hashes per leaf.
///
/// Appending is amortised O(1) hashes; roots of any earlier size and proofs take O(log n).
///
/// ```
/// use evident_ledger::merkle::{MemoryTree, leaf_hash, verify_inclusion};
///
/// let mut tree = MemoryTree::new();
/// for entry in [&b"a"[..], b"b", b"c"] {
///     tree.push(leaf_hash(entry));
/// }
/// let proof = tree.inclusion_proof(1, 3)?;
/// verify_inclusion(1, 3, &leaf_hash(b"b"), &proof, &tree.root())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is the perfect subtree `(l, i)`; `levels[0]` holds the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash and returns its index. Completes (and stores) every node that the new
    /// leaf closes.
    pub fn push(&mut self, leaf_hash: Hash) -> u64 {
        let index = self.size();
        let mut level = 0;
        let mut hash = leaf_hash;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            if nodes.len() % 2 == 1 {
                return index;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The hash of leaf `index`, if the tree has it.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.get(0, index)
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        infallible(root_at(self, self.size()))
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, RangeError> {
        self.check_size(size)?;
        Ok(infallible(root_at(self, size)))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, RangeError> {
        self.check_size(size)?;
        local(inclusion_proof(self, index, size))
    }

    /// The consistency proof from the tree of `size1` leaves to the tree of `size2` leaves.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, RangeError> {
        self.check_size(size2)?;
        local(consistency_proof(self, size1, size2))
    }

    /// The hash of the subtree `[start, end)`.
    pub fn subtree_root(&self, start: u64, end: u64) -> Result<Hash, RangeError> {
        self.check_size(end)?;
        local(subtree_root(self, start, end))
    }

    /// The inclusion proof of leaf `index` in the subtree `[start, end)`.
    pub fn subtree_inclusion_proof(
        &self,
        index: u64,
        start: u64,
        end: u64,
    ) -> Result<Vec<Hash>, RangeError> {
        self.check_size(end)?;
        local(subtree_inclusion_proof(self, index, start, end))
    }

    /// The consistency proof of the subtree `[start, end)` in the tree of the first `size`
    /// leaves.
    pub fn subtree_consistency_proof(
        &self,
        start: u64,
        end: u64,
        size: u64,
    ) -> Result<Vec<Hash>, RangeError> {
        self.check_size(size)?;
        local(subtree_consistency_proof(self, start, end, size))
    }

    fn get(&self, level: u8, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.get(usize::from(level))?.get(index).copied()
    }

    fn check_size(&self, size: u64) -> Result<(), RangeError> {
        if size > self.size() {
            return Err(RangeError::TreeTooSmall {
                requested: size,
                available: self.size(),
            });
        }
        Ok(())
    }
}

impl NodeSource for MemoryTree {
    type Error = Infallible;

    /// The stored node `(level, index)`.
    ///
    /// # Panics
    ///
    /// If the tree does not (yet) hold that node. The generic functions of this module only ask
    /// for nodes of the tree size they are given, so this happens only when they are given a size
    /// larger than [`MemoryTree::size`]; the tree's own methods check for that and return
    /// [`RangeError::TreeTooSmall`] instead.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Infallible> {
        match self.get(level, index) {
            Some(hash) => Ok(hash),
            None => panic!(
                "MemoryTree of {} leaves has no node (level {level}, index {index})",
                self.size()
            ),
        }
    }
}

impl Extend<Hash> for MemoryTree {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaf_hashes: I) {
        for leaf_hash in leaf_hashes {
            self.push(leaf_hash);
        }
    }
}

impl FromIterator<Hash> for MemoryTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaf_hashes: I) -> Self {
        let mut tree = Self::new();
        tree.extend(leaf_hashes);
        tree
    }
}

fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Drops the impossible source error of a [`MemoryTree`].
fn local<T>(result: Result<T, ProofGenError<Infallible>>) -> Result<T, RangeError> {
    result.map_err(|e| match e {
        ProofGenError::OutOfRange(e) => e,
        ProofGenError::Source(never) => match never {},
    })
}

// ---------------------------------------------------------------------------------------------
// Frontier
// ---------------------------------------------------------------------------------------------

/// The perfect subtrees on the right edge of a tree (its "compact range"): one per set bit of the
/// size, largest first. They are enough to append leaves and to compute the root.
///
/// Each append reports the nodes it completes, so that a log store can write them (to tiles,
/// for instance) and never needs to read the tree back to grow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// The roots of the subtrees named by [`frontier_indexes`]`(size)`, in that order.
    nodes: Vec<Hash>,
}

/// Why a [`Frontier`] could not be built or grown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrontierError {
    /// The number of nodes does not match the size.
    #[error(
        "a tree of {size} entries has {expected} right-edge subtrees (one per set bit of the \
         size), but {actual} hashes were given"
    )]
    WrongNodeCount {
        /// The tree size.
        size: u64,
        /// The number of nodes such a tree has.
        expected: usize,
        /// The number of nodes given.
        actual: usize,
    },
    /// The tree already has the largest possible number of leaves.
    #[error("the tree already holds 2^64 - 1 entries, the most it can")]
    Full,
}

/// The `(level, index)` names of the right-edge perfect subtrees of a tree of `size` leaves,
/// largest first: one per set bit of `size`.
///
/// For 6 leaves these are `(2, 0)`, covering leaves 0..4, and `(1, 2)`, covering 4..6.
pub fn frontier_indexes(size: u64) -> Vec<(u8, u64)> {
    (0..u64::BITS)
        .rev()
        .filter(|&level| shr(size, level) & 1 == 1)
        .map(|level| (level as u8, shr(size, level) - 1))
        .collect()
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree of `size` leaves, from the hashes of the subtrees named by
    /// [`frontier_indexes`]`(size)`, in that order.
    pub fn from_nodes(size: u64, nodes: Vec<Hash>) -> Result<Self, FrontierError> {
        let expected = size.count_ones() as usize;
        if nodes.len() != expected {
            return Err(FrontierError::WrongNodeCount {
                size,
                expected,
                actual: nodes.len(),
            });
        }
        Ok(Self { size, nodes })
    }

    /// The frontier of the tree of the first `size` leaves of a node source.
    pub fn from_source<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Self, S::Error> {
        let nodes = frontier_indexes(size)
            .into_iter()
            .map(|(level, index)| src.node(level, index))
            .collect::<Result<_, _>>()?;
        Ok(Self { size, nodes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right-edge subtree hashes, largest first (see [`frontier_indexes`]).
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// The root of the tree.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&smallest) = nodes.next() else {
            return EMPTY_ROOT;
        };
        nodes.fold(smallest, |acc, left| node_hash(left, &acc))
    }

    /// Appends a leaf hash and returns every node the append completes as `(level, index, hash)`,
    /// lowest first: the leaf itself at level 0, then each perfect subtree it closes.
    pub fn push(&mut self, leaf_hash: Hash) -> Result<Vec<(u8, u64, Hash)>, FrontierError> {
        let mut completed = Vec::new();
        self.push_with(leaf_hash, |level, index, hash| {
            completed.push((level, index, hash));
        })?;
        Ok(completed)
    }

    /// Appends a leaf hash, calls `on_completed(level, index, hash)` for every node the append
    /// completes (lowest first, starting with the leaf itself at level 0), and returns the new
    /// leaf's index.
    pub fn push_with(
        &mut self,
        leaf_hash: Hash,
        mut on_completed: impl FnMut(u8, u64, Hash),
    ) -> Result<u64, FrontierError> {
        let index = self.size;
        let size = index.checked_add(1).ok_or(FrontierError::Full)?;
        let mut hash = leaf_hash;
        on_completed(0, index, hash);
        // Each set low bit of `index` is a right-edge subtree that now has a right sibling of
        // the same height; `index < u64::MAX`, so there are at most 63 of them.
        for level in 1..=index.trailing_ones() {
            let left = self
                .nodes
                .pop()
                .expect("a frontier holds one node per set bit of its size");
            hash = node_hash(&left, &hash);
            on_completed(level as u8, index >> level, hash);
        }
        self.nodes.push(hash);
        self.size = size;
        Ok(index)
    }
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The sizes or indexes do not describe a proof of a tree.
    #[error(transparent)]
    OutOfRange(#[from] RangeError),
    /// The proof has the wrong number of hashes for these sizes and indexes.
    #[error(
        "the proof has {actual} hashes, but a proof for these sizes and indexes has exactly \
         {expected}: it was made for another index or size, or it was truncated or padded"
    )]
    WrongProofLength {
        /// The number of hashes such a proof has.
        expected: usize,
        /// The number of hashes given.
        actual: usize,
    },
    /// The proof leads to another root than the one given.
    #[error(
        "the proof leads to root {} but the expected root is {}: the entry, the proof or the \
         root is wrong, or they belong to different trees",
        hex::encode(.computed),
        hex::encode(.expected)
    )]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The root given.
        expected: Hash,
    },
    /// A consistency proof does not reproduce the older tree's root.
    #[error(
        "the proof leads to older root {} but the given older root is {}: the older tree is not \
         a prefix of the newer one, or the proof, sizes or root are wrong",
        hex::encode(.computed),
        hex::encode(.expected)
    )]
    OldRootMismatch {
        /// The older root the proof leads to.
        computed: Hash,
        /// The older root given.
        expected: Hash,
    },
    /// A subtree consistency proof does not reproduce the subtree's hash.
    #[error(
        "the proof leads to subtree hash {} but the given subtree hash is {}: the subtree is \
         not part of the tree, or the proof, range or hash is wrong",
        hex::encode(.computed),
        hex::encode(.expected)
    )]
    SubtreeRootMismatch {
        /// The subtree hash the proof leads to.
        computed: Hash,
        /// The subtree hash given.
        expected: Hash,
    },
}

/// Checks that `computed` is `expected`.
fn expect_root(computed: Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch {
            computed,
            expected: *expected,
        })
    }
}

/// Checks that a proof has `expected` hashes.
fn expect_len(proof: &[Hash], expected: usize) -> Result<(), ProofError> {
    if proof.len() == expected {
        Ok(())
    } else {
        Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        })
    }
}

/// Verifies that `leaf` (a [`leaf_hash`]) is entry `index` of the tree of `size` entries whose
/// root is `root`, given its inclusion proof (RFC 9162 section 2.1.3.2).
///
/// The proof does not bind `size` by itself: `root` must be a root known to be of that size
/// (from a signed checkpoint, for instance).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    expect_root(root_from_inclusion(index, size, leaf, proof)?, root)
}

/// The root that an inclusion proof of `leaf` at `index` in a tree of `size` leaves leads to.
fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(RangeError::IndexOutOfRange { index, size }.into());
    }
    // Below level `inner`, the leaf's ancestors are perfect subtrees with a sibling on either
    // side, as the bits of `index` say. From `inner` up they are on the right edge of the tree
    // (they are ancestors of the last leaf too) and have a sibling, always on the left, only
    // where `index` has a set bit.
    let inner = bit_len(index ^ (size - 1));
    let border = shr(index, inner).count_ones();
    expect_len(proof, (inner + border) as usize)?;
    let (lower, upper) = proof.split_at(inner as usize);
    let mut acc = *leaf;
    for (level, sibling) in (0..).zip(lower) {
        acc = if shr(index, level) & 1 == 0 {
            node_hash(&acc, sibling)
        } else {
            node_hash(sibling, &acc)
        };
    }
    Ok(upper
        .iter()
        .fold(acc, |acc, sibling| node_hash(sibling, &acc)))
}

/// Verifies that `leaf` (a [`leaf_hash`]) is entry `index` of the subtree `[start, end)` whose
/// hash is `subtree_root` (MTC draft section 4.3.3).
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree_root: &Hash,
) -> Result<(), ProofError> {
    check_subtree_index(index, start, end)?;
    let computed = root_from_inclusion(index - start, end - start, leaf, proof)?;
    expect_root(computed, subtree_root)
}

/// Verifies that the tree of `size1` entries with root `root1` is a prefix of the tree of
/// `size2` entries with root `root2`, given the consistency proof (RFC 9162 section 2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. `size1 == 0` is rejected, as RFC 9162
/// verifiers do: the empty tree is a prefix of every tree, so such a proof proves nothing.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    check_consistency_sizes(size1, size2)?;
    if size1 == size2 {
        expect_len(proof, 0)?;
        return expect_root(*root1, root2);
    }
    check_subtree_consistency(0, size1, size2, proof, root1, root2).map_err(|e| match e {
        ProofError::SubtreeRootMismatch { computed, expected } => {
            ProofError::OldRootMismatch { computed, expected }
        }
        other => other,
    })
}

/// Verifies that the subtree `[start, end)` with hash `subtree_root` is a node of the tree of
/// `size` entries with root `root`, given the subtree consistency proof (MTC draft section
/// 4.4.3).
///
/// An empty range (`start == end <= size`) is contained in every tree: it is accepted with an
/// empty proof and `subtree_root` equal to [`EMPTY_ROOT`], and says nothing about `root`.
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree_root: &Hash,
    root: &Hash,
) -> Result<(), ProofError> {
    check_subtree_in_tree(start, end, size)?;
    if start == end {
        expect_len(proof, 0)?;
        return expect_subtree_root(EMPTY_ROOT, subtree_root);
    }
    if start == 0 && end == size {
        expect_len(proof, 0)?;
        return expect_root(*subtree_root, root);
    }
    check_subtree_consistency(start, end, size, proof, subtree_root, root)
}

/// Checks that `computed` is the expected subtree hash.
fn expect_subtree_root(computed: Hash, expected: &Hash) -> Result<(), ProofError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(ProofError::SubtreeRootMismatch {
            computed,
            expected: *expected,
        })
    }
}

/// Three leaf positions climbing the tree together: right-shifting them all moves each to its
/// ancestor one level up.
struct Cursors {
    /// The subtree's first leaf.
    first: u64,
    /// The subtree's last leaf.
    last: u64,
    /// The tree's last leaf.
    tree_last: u64,
}

impl Cursors {
    fn climb(&mut self) {
        self.first >>= 1;
        self.last >>= 1;
        self.tree_last >>= 1;
    }
}

/// The core of subtree (and RFC 9162) consistency verification, for a valid, non-empty subtree
/// `[start, end)` that is not the whole tree, with `end <= size`.
///
/// Two hashes climb from the lowest proof node: `sub` takes in only the proof nodes inside the
/// subtree and must end as the subtree's hash; `full` takes in every node and must end as the
/// tree's root.
fn check_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree_root: &Hash,
    root: &Hash,
) -> Result<(), ProofError> {
    let expected_len = consistency_proof_len(start, end, size);
    expect_len(proof, expected_len)?;
    let wrong_len = ProofError::WrongProofLength {
        expected: expected_len,
        actual: proof.len(),
    };

    let mut at = Cursors {
        first: start,
        last: end - 1,
        tree_last: size - 1,
    };
    // Climb to the lowest node the proof starts from. If the subtree ends where the tree does,
    // that is the subtree's own node; otherwise it is the highest node on the subtree's right
    // edge that is a left child (so it has a sibling to the right in the tree).
    if at.last == at.tree_last {
        while at.first != at.last {
            at.climb();
        }
    } else {
        while at.first != at.last && at.last & 1 == 1 {
            at.climb();
        }
    }
    // If that node is the whole subtree, the verifier knows its hash; otherwise the proof
    // starts with it.
    let (seed, rest) = if at.first == at.last {
        (*subtree_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(wrong_len),
        }
    };
    let (mut sub, mut full) = (seed, seed);
    for sibling in rest {
        if at.tree_last == 0 {
            return Err(wrong_len);
        }
        if at.last & 1 == 1 || at.last == at.tree_last {
            // The sibling is on the left. It is inside the subtree only if the subtree's
            // ancestor at this level spans more than its own right edge.
            if at.first < at.last {
                sub = node_hash(sibling, &sub);
            }
            full = node_hash(sibling, &full);
            // Nodes on the tree's right edge that are left children have no sibling: skip them.
            while at.last & 1 == 0 && at.last != 0 {
                at.climb();
            }
        } else {
            full = node_hash(&full, sibling);
        }
        at.climb();
    }
    if at.tree_last != 0 {
        return Err(wrong_len);
    }
    expect_subtree_root(sub, subtree_root)?;
    expect_root(full, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_hex(text: &str) -> Hash {
        let mut hash = [0; 32];
        hex::decode_to_slice(text, &mut hash).expect("valid hex");
        hash
    }

    /// The entries of the RFC 6962 test tree used by Certificate Transparency implementations.
    const RFC6962_ENTRIES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// The roots of that tree at sizes 1 to 8.
    const RFC6962_ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn rfc6962_leaves() -> Vec<Hash> {
        RFC6962_ENTRIES
            .iter()
            .map(|entry| leaf_hash(&hex::decode(entry).expect("valid hex")))
            .collect()
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let digest: Hash = Sha256::digest(b"").into();
        assert_eq!(EMPTY_ROOT, digest);
        assert_eq!(root(&[]), EMPTY_ROOT);
        assert_eq!(MemoryTree::new().root(), EMPTY_ROOT);
        assert_eq!(Frontier::new().root(), EMPTY_ROOT);
    }

    #[test]
    fn one_leaf_tree() {
        let leaf = leaf_hash(b"");
        assert_eq!(
            leaf,
            from_hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
        assert_eq!(root(&[leaf]), leaf);
        let tree: MemoryTree = [leaf].into_iter().collect();
        assert_eq!(tree.root(), leaf);
        assert_eq!(tree.inclusion_proof(0, 1), Ok(vec![]));
        assert_eq!(verify_inclusion(0, 1, &leaf, &[], &leaf), Ok(()));
    }

    #[test]
    fn domain_separation() {
        let left = leaf_hash(b"a");
        let right = leaf_hash(b"b");
        let mut concatenated = left.to_vec();
        concatenated.extend_from_slice(&right);
        assert_ne!(node_hash(&left, &right), leaf_hash(&concatenated));
        assert_ne!(node_hash(&left, &right), node_hash(&right, &left));
    }

    #[test]
    fn rfc6962_roots() {
        let leaves = rfc6962_leaves();
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::new();
        for (i, (leaf, expected)) in leaves.iter().zip(RFC6962_ROOTS).enumerate() {
            tree.push(*leaf);
            frontier.push(*leaf).expect("not full");
            let expected = from_hex(expected);
            assert_eq!(root(&leaves[..=i]), expected, "size {}", i + 1);
            assert_eq!(tree.root(), expected, "size {}", i + 1);
            assert_eq!(frontier.root(), expected, "size {}", i + 1);
        }
        for size in 1..=8 {
            assert_eq!(
                tree.root_at(size),
                Ok(from_hex(RFC6962_ROOTS[size as usize - 1]))
            );
        }
    }

    #[test]
    fn rfc6962_inclusion_proof_of_leaf_0_in_8() {
        let tree: MemoryTree = rfc6962_leaves().into_iter().collect();
        let proof = tree.inclusion_proof(0, 8).expect("in range");
        let expected = [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ];
        assert_eq!(proof, expected.map(from_hex));
    }

    #[test]
    fn split_point_is_largest_smaller_power_of_two() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(split_point((1 << 63) + 1), 1 << 63);
        assert_eq!(split_point(1 << 63), 1 << 62);
    }

    #[test]
    fn valid_subtrees() {
        assert!(is_valid_subtree(0, 1));
        assert!(is_valid_subtree(0, u64::MAX));
        assert!(is_valid_subtree(4, 6));
        assert!(is_valid_subtree(8, 13));
        assert!(!is_valid_subtree(3, 5));
        assert!(!is_valid_subtree(2, 5));
        assert!(!is_valid_subtree(1, 1));
        assert!(!is_valid_subtree(2, 1));
        assert!(!is_valid_subtree(1, (1 << 63) + 2));
        assert!(is_valid_subtree(1 << 63, u64::MAX));
    }

    #[test]
    fn frontier_indexes_follow_the_bits_of_the_size() {
        assert_eq!(frontier_indexes(0), vec![]);
        assert_eq!(frontier_indexes(1), vec![(0, 0)]);
        assert_eq!(frontier_indexes(6), vec![(2, 0), (1, 2)]);
        assert_eq!(frontier_indexes(7), vec![(2, 0), (1, 2), (0, 6)]);
        assert_eq!(frontier_indexes(8), vec![(3, 0)]);
        let all = frontier_indexes(u64::MAX);
        assert_eq!(all.len(), 64);
        assert_eq!(all[0], (63, 0));
        assert_eq!(all[63], (0, u64::MAX - 1));
    }

    #[test]
    fn frontier_push_reports_completed_nodes() {
        let mut frontier = Frontier::new();
        let leaves: Vec<Hash> = (0u8..4).map(|i| leaf_hash(&[i])).collect();
        for leaf in &leaves[..3] {
            frontier.push(*leaf).expect("not full");
        }
        let completed = frontier.push(leaves[3]).expect("not full");
        let pair = node_hash(&leaves[2], &leaves[3]);
        let expected = vec![(0, 3, leaves[3]), (1, 1, pair), (2, 0, root(&leaves))];
        assert_eq!(completed, expected);
        assert_eq!(frontier.nodes(), &[root(&leaves)]);
    }

    #[test]
    fn full_frontier_refuses_to_grow() {
        let nodes = vec![EMPTY_ROOT; 64];
        let mut frontier = Frontier::from_nodes(u64::MAX, nodes).expect("64 nodes");
        assert_eq!(frontier.push(EMPTY_ROOT), Err(FrontierError::Full));
        assert_eq!(frontier.size(), u64::MAX);
    }

    #[test]
    fn from_nodes_checks_the_count() {
        assert_eq!(
            Frontier::from_nodes(6, vec![EMPTY_ROOT]),
            Err(FrontierError::WrongNodeCount {
                size: 6,
                expected: 2,
                actual: 1
            })
        );
    }

    #[test]
    fn memory_tree_refuses_sizes_it_does_not_have() {
        let tree: MemoryTree = rfc6962_leaves().into_iter().collect();
        let too_small = RangeError::TreeTooSmall {
            requested: 9,
            available: 8,
        };
        assert_eq!(tree.root_at(9), Err(too_small));
        assert_eq!(tree.inclusion_proof(0, 9), Err(too_small));
        assert_eq!(tree.consistency_proof(1, 9), Err(too_small));
        assert_eq!(
            tree.inclusion_proof(8, 8),
            Err(RangeError::IndexOutOfRange { index: 8, size: 8 })
        );
        assert_eq!(
            tree.consistency_proof(5, 4),
            Err(RangeError::SizeDecreased { size1: 5, size2: 4 })
        );
        assert_eq!(tree.consistency_proof(0, 4), Err(RangeError::EmptyOldTree));
    }

    #[test]
    fn extreme_sizes_do_not_panic() {
        let leaf = leaf_hash(b"x");
        let proof = vec![leaf; 64];
        for (index, size) in [
            (0, u64::MAX),
            (u64::MAX - 1, u64::MAX),
            (1 << 63, u64::MAX),
            (u64::MAX, u64::MAX),
            (0, 0),
        ] {
            assert!(verify_inclusion(index, size, &leaf, &proof, &leaf).is_err());
        }
        assert!(verify_consistency(1, u64::MAX, &proof, &leaf, &leaf).is_err());
        assert!(verify_consistency(u64::MAX - 1, u64::MAX, &proof, &leaf, &leaf).is_err());
        assert!(
            verify_subtree_consistency(1 << 63, u64::MAX, u64::MAX, &proof, &leaf, &leaf).is_err()
        );
        assert!(verify_subtree_inclusion(1, 1, (1 << 63) + 2, &leaf, &proof, &leaf).is_err());
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let e = ProofError::from(RangeError::SizeDecreased { size1: 5, size2: 3 });
        assert_eq!(
            e.to_string(),
            "the older tree size 5 is larger than the newer size 3: a log only grows, so pass \
             the smaller size first"
        );
        let e = ProofError::WrongProofLength {
            expected: 3,
            actual: 4,
        };
        assert!(e.to_string().starts_with("the proof has 4 hashes, but"));
        let e = ProofError::RootMismatch {
            computed: [0; 32],
            expected: [0xff; 32],
        };
        assert!(e.to_string().contains(&"ff".repeat(32)));
    }
}
