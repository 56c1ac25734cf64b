//! Git sources read with gitoxide: the staged index and every blob in history.
//!
//! History walks commits parents-first and descends each commit's tree, skipping trees and blobs
//! already seen, so every unique blob is read once and attributed to the first commit that
//! introduced it.

use std::collections::HashMap;

use gix::hashtable::HashSet;
use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice as _;

use crate::findings::Provenance;

/// A git read that failed, with the repository path for context.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct GitError {
    pub path: String,
    pub message: String,
}

fn git_err(repo: &Path, e: impl std::fmt::Display) -> GitError {
    GitError {
        path: repo.display().to_string(),
        message: e.to_string(),
    }
}

/// Which commits a history scan covers.
#[derive(Debug, Clone, Default)]
pub enum HistoryRange {
    /// Everything reachable from any reference (and HEAD).
    #[default]
    All,
    /// Commits reachable from any reference but not from `rev`.
    Since(String),
    /// `A..B`: commits reachable from B and not from A.
    Range(String, String),
}

/// One commit's metadata as reported in findings.
#[derive(Debug, Clone)]
struct CommitInfo {
    id: ObjectId,
    author: String,
    date: String,
}

/// Totals a history walk reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct HistoryStats {
    pub commits: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
}

/// Opens the repository that contains `path`.
pub fn open(path: &Path) -> Result<gix::Repository, GitError> {
    let mut repo = gix::discover(path).map_err(|e| {
        git_err(
            path,
            format!("not a git repository (or cannot be opened): {e}; run inside a repository or drop --staged/--history"),
        )
    })?;
    // Every object is read once (trees and blobs are de-duplicated by id): an object cache would
    // only copy. Delta bases are cached by the pack cache.
    repo.object_cache_size(0);
    Ok(repo)
}

fn resolve(repo: &gix::Repository, root: &Path, rev: &str) -> Result<ObjectId, GitError> {
    let id = repo
        .rev_parse_single(rev.as_bytes().as_bstr())
        .map_err(|e| git_err(root, format!("cannot resolve revision `{rev}`: {e}")))?;
    let commit = id
        .object()
        .map_err(|e| git_err(root, e))?
        .peel_to_commit()
        .map_err(|e| git_err(root, format!("`{rev}` does not name a commit: {e}")))?;
    Ok(commit.id)
}

fn all_tips(repo: &gix::Repository, root: &Path) -> Result<Vec<ObjectId>, GitError> {
    let mut tips = Vec::new();
    if let Ok(mut head) = repo.head()
        && let Ok(commit) = head.peel_to_commit()
    {
        tips.push(commit.id);
    }
    let platform = repo.references().map_err(|e| git_err(root, e))?;
    for reference in platform.all().map_err(|e| git_err(root, e))? {
        let Ok(mut reference) = reference else {
            continue;
        };
        // Tags may point at trees or blobs; only commits have history.
        if let Ok(commit) = reference.peel_to_commit() {
            tips.push(commit.id);
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// All ancestors of `tips` (inclusive).
fn ancestors(
    repo: &gix::Repository,
    root: &Path,
    tips: &[ObjectId],
) -> Result<HashSet<ObjectId>, GitError> {
    let mut seen = HashSet::default();
    let mut stack: Vec<ObjectId> = tips.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let commit = repo.find_commit(id).map_err(|e| git_err(root, e))?;
        stack.extend(commit.parent_ids().map(gix::Id::detach));
    }
    Ok(seen)
}

/// Commits reachable from `tips` and not in `hidden`, parents before children, each with its
/// metadata and root tree (read once).
fn parents_first(
    repo: &gix::Repository,
    root: &Path,
    tips: &[ObjectId],
    hidden: &IdSet,
) -> Result<Vec<(CommitInfo, ObjectId)>, GitError> {
    let mut order = Vec::new();
    let mut done = IdSet::default();
    let mut expanded: gix::hashtable::HashMap<ObjectId, (CommitInfo, ObjectId)> =
        gix::hashtable::HashMap::default();
    let mut stack: Vec<ObjectId> = tips.iter().rev().copied().collect();
    while let Some(&id) = stack.last() {
        if done.contains(&id) || hidden.contains(&id) {
            stack.pop();
            continue;
        }
        if let Some(entry) = expanded.remove(&id) {
            stack.pop();
            done.insert(id);
            order.push(entry);
        } else {
            let commit = repo.find_commit(id).map_err(|e| git_err(root, e))?;
            for parent in commit.parent_ids() {
                let parent = parent.detach();
                if !done.contains(&parent) && !hidden.contains(&parent) {
                    stack.push(parent);
                }
            }
            expanded.insert(id, commit_info_of(&commit, root)?);
        }
    }
    Ok(order)
}

fn commit_info(
    repo: &gix::Repository,
    root: &Path,
    id: ObjectId,
) -> Result<(CommitInfo, ObjectId), GitError> {
    let commit = repo.find_commit(id).map_err(|e| git_err(root, e))?;
    commit_info_of(&commit, root)
}

fn commit_info_of(
    commit: &gix::Commit<'_>,
    root: &Path,
) -> Result<(CommitInfo, ObjectId), GitError> {
    let id = commit.id;
    let tree = commit.tree_id().map_err(|e| git_err(root, e))?.detach();
    let (author, date) = match commit.author() {
        Ok(sig) => {
            let sig = sig.trim();
            let seconds = sig.seconds();
            let date = jiff::Timestamp::from_second(seconds)
                .map_or_else(|_| seconds.to_string(), |t| t.to_string());
            (format!("{} <{}>", sig.name, sig.email), date)
        }
        Err(_) => (String::from("unknown"), String::new()),
    };
    Ok((CommitInfo { id, author, date }, tree))
}

/// Walks `tree`, recording blobs not seen before under their path. Subtrees and blobs already
/// seen are skipped before any path is built.
fn collect_tree(
    repo: &gix::Repository,
    root: &Path,
    tree: ObjectId,
    prefix: &str,
    seen_trees: &mut IdSet,
    seen_blobs: &mut IdSet,
    out: &mut Vec<(ObjectId, String)>,
) -> Result<(), GitError> {
    if !seen_trees.insert(tree) {
        return Ok(());
    }
    let data = repo
        .find_object(tree)
        .map_err(|e| git_err(root, e))?
        .detach()
        .data;
    for entry in gix::objs::TreeRefIter::from_bytes(&data, repo.object_hash()) {
        let entry = entry.map_err(|e| git_err(root, e))?;
        let is_tree = entry.mode.is_tree();
        if is_tree {
            if seen_trees.contains(entry.oid) {
                continue;
            }
        } else if !entry.mode.is_blob() || !seen_blobs.insert(entry.oid.to_owned()) {
            continue;
        }
        let name = entry.filename.to_str_lossy();
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        if is_tree {
            collect_tree(
                repo,
                root,
                entry.oid.to_owned(),
                &path,
                seen_trees,
                seen_blobs,
                out,
            )?;
        } else {
            out.push((entry.oid.to_owned(), path));
        }
    }
    Ok(())
}

/// A set of object ids (ids are already uniformly distributed: no hashing needed).
type IdSet = gix::hashtable::HashSet<ObjectId>;

/// The commit index of blobs that belong to the excluded boundary of a range: scanned so their
/// secrets are known, never reported.
pub const BASELINE: usize = usize::MAX;

/// A blob to scan and where it first appeared.
struct BlobJob {
    id: ObjectId,
    path: String,
    commit: usize,
    provenance: std::sync::Arc<Provenance>,
}

/// The scan jobs for the blobs a commit introduced, sharing one provenance.
fn jobs(blobs: Vec<(ObjectId, String)>, commit: usize, info: CommitInfo) -> Vec<BlobJob> {
    let provenance = std::sync::Arc::new(Provenance {
        commit: Some(info.id.to_string()),
        author: Some(info.author),
        date: Some(info.date),
    });
    blobs
        .into_iter()
        .map(|(id, path)| BlobJob {
            id,
            path,
            commit,
            provenance: provenance.clone(),
        })
        .collect()
}

/// Scans every unique blob in the selected history with `scan`. Returns the per-blob results
/// paired with the index of the introducing commit (lower = older), plus totals.
///
/// The commit walk (one thread) and the blob scans (the other workers) run as a pipeline: blobs
/// are scanned while later commits are still being walked.
pub fn scan_history<T: Send>(
    root: &Path,
    range: &HistoryRange,
    threads: usize,
    scan: impl Fn(&str, &[u8], &Provenance) -> T + Sync,
) -> Result<(Vec<(usize, T)>, HistoryStats), GitError> {
    let repo = open(root)?;
    let (tips, hidden_tips) = match range {
        HistoryRange::All => (all_tips(&repo, root)?, Vec::new()),
        HistoryRange::Since(rev) => (all_tips(&repo, root)?, vec![resolve(&repo, root, rev)?]),
        HistoryRange::Range(from, to) => (
            vec![resolve(&repo, root, to)?],
            vec![resolve(&repo, root, from)?],
        ),
    };
    let hidden = ancestors(&repo, root, &hidden_tips)?;
    let order = parents_first(&repo, root, &tips, &hidden)?;
    let workers = if threads == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    } else {
        threads
    }
    .max(1);

    let sync = repo.clone().into_sync();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<BlobJob>>(256);
    let receiver = std::sync::Mutex::new(receiver);
    let results = std::sync::Mutex::new(Vec::new());
    let failure: std::sync::Mutex<Option<GitError>> = std::sync::Mutex::new(None);
    let mut stats = HistoryStats::default();

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sync = &sync;
            let receiver = &receiver;
            let results = &results;
            let failure = &failure;
            let scan = &scan;
            scope.spawn(move || {
                let mut local = sync.to_thread_local();
                local.object_cache_size(0);
                let mut mine = Vec::new();
                loop {
                    let batch = match receiver.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(batch) = batch else { break };
                    for job in batch {
                        match local.find_object(job.id) {
                            Ok(object) => {
                                let data = &object.data;
                                if crate::source::is_binary(data) {
                                    mine.push((job.commit, None, data.len() as u64));
                                } else {
                                    let value = scan(&job.path, data, &job.provenance);
                                    mine.push((job.commit, Some(value), data.len() as u64));
                                }
                            }
                            Err(e) => {
                                if let Ok(mut f) = failure.lock() {
                                    f.get_or_insert_with(|| git_err(root, e));
                                }
                            }
                        }
                    }
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(mine);
                }
            });
        }

        // The walk: parents first, each tree descended once, new blobs handed to the workers.
        let walk = || -> Result<(), GitError> {
            let mut seen_trees = IdSet::default();
            let mut seen_blobs = IdSet::default();
            // What the excluded boundary already had is not "introduced" by the range: its blobs
            // are scanned as the baseline, so a secret carried into the range is recognised.
            for tip in &hidden_tips {
                let (info, tree) = commit_info(&repo, root, *tip)?;
                let mut baseline = Vec::new();
                collect_tree(
                    &repo,
                    root,
                    tree,
                    "",
                    &mut seen_trees,
                    &mut seen_blobs,
                    &mut baseline,
                )?;
                if sender.send(jobs(baseline, BASELINE, info)).is_err() {
                    break;
                }
            }
            for (index, (info, tree)) in order.into_iter().enumerate() {
                let mut new_blobs = Vec::new();
                collect_tree(
                    &repo,
                    root,
                    tree,
                    "",
                    &mut seen_trees,
                    &mut seen_blobs,
                    &mut new_blobs,
                )?;
                stats.commits += 1;
                if new_blobs.is_empty() {
                    continue;
                }
                stats.blobs += new_blobs.len() as u64;
                if sender.send(jobs(new_blobs, index, info)).is_err() {
                    break;
                }
            }
            Ok(())
        };
        let walked = walk();
        drop(sender);
        if let Err(e) = walked
            && let Ok(mut f) = failure.lock()
        {
            f.get_or_insert(e);
        }
    });

    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut out = Vec::new();
    for (commit, value, bytes) in results.into_inner().unwrap_or_default() {
        match value {
            Some(value) => {
                if commit != BASELINE {
                    stats.bytes += bytes;
                }
                out.push((commit, value));
            }
            None if commit != BASELINE => stats.skipped_binary += 1,
            None => {}
        }
    }
    Ok((out, stats))
}

/// One staged file: its path, its staged content, and its content at HEAD (if any).
pub struct StagedFile {
    pub path: String,
    pub staged: Vec<u8>,
    pub head: Option<Vec<u8>>,
}

/// Files whose staged content differs from HEAD.
pub fn staged_files(root: &Path) -> Result<Vec<StagedFile>, GitError> {
    let repo = open(root)?;
    let mut head_blobs: HashMap<String, ObjectId> = HashMap::new();
    if let Ok(tree) = repo.head_tree_id() {
        head_blobs = head_paths(&repo, root, tree.detach())?;
    }
    let index = repo.index_or_empty().map_err(|e| git_err(root, e))?;
    let mut out = Vec::new();
    for entry in index.entries() {
        if !entry.mode.is_submodule()
            && entry.mode.to_tree_entry_mode().is_some_and(|m| m.is_blob())
        {
            let path = entry.path(&index).to_str_lossy().into_owned();
            let head_id = head_blobs.get(&path).copied();
            if head_id == Some(entry.id) {
                continue;
            }
            let staged = repo
                .find_object(entry.id)
                .map_err(|e| git_err(root, e))?
                .detach()
                .data;
            let head = match head_id {
                Some(id) => Some(
                    repo.find_object(id)
                        .map_err(|e| git_err(root, e))?
                        .detach()
                        .data,
                ),
                None => None,
            };
            out.push(StagedFile { path, staged, head });
        }
    }
    Ok(out)
}

fn head_paths(
    repo: &gix::Repository,
    root: &Path,
    tree: ObjectId,
) -> Result<HashMap<String, ObjectId>, GitError> {
    let mut map = HashMap::new();
    let mut stack = vec![(tree, String::new())];
    while let Some((tree, prefix)) = stack.pop() {
        let data = repo
            .find_object(tree)
            .map_err(|e| git_err(root, e))?
            .detach()
            .data;
        for entry in gix::objs::TreeRefIter::from_bytes(&data, repo.object_hash()) {
            let entry = entry.map_err(|e| git_err(root, e))?;
            let name = entry.filename.to_str_lossy();
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            if entry.mode.is_tree() {
                stack.push((entry.oid.to_owned(), path));
            } else if entry.mode.is_blob() {
                map.insert(path, entry.oid.to_owned());
            }
        }
    }
    Ok(map)
}
