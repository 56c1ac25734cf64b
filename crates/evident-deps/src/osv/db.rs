//! The local OSV database: an SQLite file with every imported record and an index by package.
//!
//! Tables:
//! - `advisories(id, modified, modified_key, withdrawn, json)`: one row per record, the record as
//!   normalised JSON (the typed fields of [`Advisory`]); `modified_key` is `modified` as a
//!   fixed-width sortable text.
//! - `affected(ecosystem, name, id, osv_ecosystem)`: which records name which package, with the
//!   ecosystem as evident names it (`crates.io`, `Debian`, `RPM`, or OSV's own name for
//!   ecosystems evident does not know) and the name normalised per ecosystem.
//! - `imports(source, imported_at, …)`: every import, with its source and time.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::matching::{self, Match, Wanted};
use super::record::Advisory;
use super::{EcosystemStatus, ImportError, ImportSummary, OsvError, SourceStatus, Status};
use crate::model::{Ecosystem, Package};

/// Rows per multi-row statement (SQLite allows 32766 bound values).
const CHUNK: usize = 500;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS advisories (
        id TEXT PRIMARY KEY NOT NULL,
        modified TEXT NOT NULL,
        modified_key TEXT NOT NULL,
        withdrawn TEXT,
        json TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS affected (
        ecosystem TEXT NOT NULL,
        name TEXT NOT NULL,
        id TEXT NOT NULL,
        osv_ecosystem TEXT NOT NULL,
        PRIMARY KEY (ecosystem, name, id, osv_ecosystem)
    ) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS affected_id ON affected(id)",
    "CREATE TABLE IF NOT EXISTS imports (
        seq INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        records INTEGER NOT NULL,
        added INTEGER NOT NULL,
        replaced INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        errors INTEGER NOT NULL
    )",
];

/// The local OSV database.
#[derive(Debug)]
pub struct Db {
    rt: tokio::runtime::Runtime,
    pool: SqlitePool,
    path: PathBuf,
}

/// A record read and ready to store.
struct Prepared {
    id: String,
    modified: String,
    modified_key: String,
    withdrawn: Option<String>,
    json: String,
    /// (ecosystem, normalised name, OSV ecosystem as written)
    affected: Vec<(String, String, String)>,
}

/// `Timestamp` as fixed-width text that sorts as time does (nanoseconds since year -9999).
fn time_key(t: Timestamp) -> String {
    const OFFSET: i128 = 10_i128.pow(22);
    format!("{:023}", t.as_nanosecond() + OFFSET)
}

fn from_time_key(key: &str) -> Option<Timestamp> {
    const OFFSET: i128 = 10_i128.pow(22);
    let n: i128 = key.parse().ok()?;
    Timestamp::from_nanosecond(n - OFFSET).ok()
}

/// Whether a file name ends in one of these extensions (any case).
fn has_extension(name: &str, extensions: &[&str]) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn prepare(name: &str, bytes: &[u8]) -> Result<Prepared, String> {
    let advisory = if has_extension(name, &["json"]) {
        Advisory::from_json(bytes)?
    } else {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
        Advisory::from_yaml(text)?
    };
    let modified: Timestamp = advisory
        .modified
        .parse()
        .map_err(|e| format!("`modified`: {e}"))?;
    let mut affected: Vec<(String, String, String)> = Vec::new();
    for a in &advisory.affected {
        let Some(pkg) = &a.package else { continue };
        if pkg.name.trim().is_empty() {
            continue;
        }
        let (eco, name) = match Ecosystem::from_osv(&pkg.ecosystem) {
            Some(e) => (e.osv_name().to_owned(), e.normalize_name(&pkg.name)),
            None => (
                pkg.ecosystem
                    .split(':')
                    .next()
                    .unwrap_or(&pkg.ecosystem)
                    .to_owned(),
                pkg.name.trim().to_owned(),
            ),
        };
        let row = (eco, name, pkg.ecosystem.clone());
        if !affected.contains(&row) {
            affected.push(row);
        }
    }
    let json = serde_json::to_string(&advisory).map_err(|e| e.to_string())?;
    Ok(Prepared {
        id: advisory.id.trim().to_owned(),
        modified: modified.to_string(),
        modified_key: time_key(modified),
        withdrawn: advisory.withdrawn.clone(),
        json,
        affected,
    })
}

fn is_record_name(name: &str) -> bool {
    has_extension(name, &["json", "yaml", "yml"])
}

/// Runs `f` over `items` on the machine's cores, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> Vec<R> + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len().div_ceil(64))
        .max(1);
    if threads == 1 {
        return f(items);
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|chunk| s.spawn(|| f(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), OsvError> {
    let entries = std::fs::read_dir(dir).map_err(|e| OsvError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| OsvError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| OsvError::io(&path, e))?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file()
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_record_name)
        {
            out.push(path);
        }
    }
    Ok(())
}

type Outcome = Result<Prepared, ImportError>;

fn read_directory(dir: &Path) -> Result<Vec<Outcome>, OsvError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    Ok(parallel_map(&files, |chunk| {
        chunk
            .iter()
            .map(|path| {
                let shown = path
                    .strip_prefix(dir)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(path).map_err(|e| ImportError {
                    file: shown.clone(),
                    message: e.to_string(),
                })?;
                prepare(&shown, &bytes).map_err(|message| ImportError {
                    file: shown,
                    message,
                })
            })
            .collect()
    }))
}

fn read_zip(bytes: &[u8], source: &str) -> Result<Vec<Outcome>, OsvError> {
    let zip_error = |e: zip::result::ZipError| OsvError::Zip {
        archive: source.to_owned(),
        message: e.to_string(),
    };
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    let indices: Vec<usize> = (0..archive.len()).collect();
    drop(archive);
    let outcomes = parallel_map(&indices, |chunk| {
        // Each thread reads the shared bytes through its own archive handle.
        let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                return vec![Some(Err(ImportError {
                    file: String::new(),
                    message: e.to_string(),
                }))];
            }
        };
        chunk
            .iter()
            .map(|&i| {
                let mut file = match archive.by_index(i) {
                    Ok(f) => f,
                    Err(e) => {
                        return Some(Err(ImportError {
                            file: format!("#{i}"),
                            message: e.to_string(),
                        }));
                    }
                };
                let name = file.name().to_owned();
                if file.is_dir() || !is_record_name(&name) {
                    return None;
                }
                let mut data = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
                if let Err(e) = file.read_to_end(&mut data) {
                    return Some(Err(ImportError {
                        file: name,
                        message: e.to_string(),
                    }));
                }
                Some(prepare(&name, &data).map_err(|message| ImportError {
                    file: name,
                    message,
                }))
            })
            .collect()
    });
    Ok(outcomes.into_iter().flatten().collect())
}

impl Db {
    /// Opens the database at `path`, creating it (and its tables) if missing.
    pub fn open(path: &Path) -> Result<Db, OsvError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(OsvError::Runtime)?;
        let pool = rt.block_on(async {
            let options = SqliteConnectOptions::from_str("sqlite://")?
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            for stmt in SCHEMA {
                sqlx::query(*stmt).execute(&pool).await?;
            }
            Ok::<_, sqlx::Error>(pool)
        })?;
        Ok(Db {
            rt,
            pool,
            path: path.to_owned(),
        })
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Imports OSV records from `source`: a directory (every `*.json`, `*.yaml`, `*.yml` below
    /// it), a `.zip` archive (as osv.dev publishes `<ecosystem>/all.zip`), or a single record
    /// file. A record replaces the stored one with the same id only when its `modified` is
    /// newer. Files that are not valid records are reported in the summary, not stored. The
    /// import is recorded with `source` and `now`.
    pub fn import(&self, source: &Path, now: Timestamp) -> Result<ImportSummary, OsvError> {
        let shown = source.display().to_string();
        let meta = std::fs::metadata(source).map_err(|e| OsvError::io(source, e))?;
        let outcomes = if meta.is_dir() {
            read_directory(source)?
        } else {
            let name = source
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let bytes = std::fs::read(source).map_err(|e| OsvError::io(source, e))?;
            if has_extension(&name, &["zip"]) {
                read_zip(&bytes, &shown)?
            } else if is_record_name(&name) {
                vec![prepare(&name, &bytes).map_err(|message| ImportError {
                    file: name.clone(),
                    message,
                })]
            } else {
                return Err(OsvError::Source(shown));
            }
        };
        self.store(outcomes, &shown, now)
    }

    /// Imports a zip archive held in memory (a download), recording `source` (its URL).
    pub(crate) fn import_zip_bytes(
        &self,
        bytes: &[u8],
        source: &str,
        now: Timestamp,
    ) -> Result<ImportSummary, OsvError> {
        let outcomes = read_zip(bytes, source)?;
        self.store(outcomes, source, now)
    }

    fn store(
        &self,
        outcomes: Vec<Outcome>,
        source: &str,
        now: Timestamp,
    ) -> Result<ImportSummary, OsvError> {
        let mut summary = ImportSummary {
            source: source.to_owned(),
            ..ImportSummary::default()
        };
        // The newest version of each id in this batch.
        let mut batch: HashMap<String, Prepared> = HashMap::new();
        for outcome in outcomes {
            match outcome {
                Ok(p) => {
                    summary.records += 1;
                    match batch.get(&p.id) {
                        Some(q) if q.modified_key >= p.modified_key => summary.unchanged += 1,
                        Some(_) => {
                            summary.unchanged += 1;
                            batch.insert(p.id.clone(), p);
                        }
                        None => {
                            batch.insert(p.id.clone(), p);
                        }
                    }
                }
                Err(e) => summary.errors.push(e),
            }
        }
        summary.errors.sort_by(|a, b| a.file.cmp(&b.file));
        let mut records: Vec<Prepared> = batch.into_values().collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        self.rt.block_on(async {
            let mut tx = self.pool.begin().await?;
            // What is stored already, for these ids.
            let mut stored: HashMap<String, String> = HashMap::new();
            for chunk in records.chunks(CHUNK) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "SELECT id, modified_key FROM advisories WHERE id IN (",
                );
                let mut list = q.separated(", ");
                for r in chunk {
                    list.push_bind(r.id.clone());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut *tx).await? {
                    stored.insert(row.try_get(0)?, row.try_get(1)?);
                }
            }
            let mut write: Vec<&Prepared> = Vec::new();
            let mut replaced: Vec<&str> = Vec::new();
            for r in &records {
                match stored.get(&r.id) {
                    None => {
                        summary.added += 1;
                        write.push(r);
                    }
                    Some(key) if r.modified_key > *key => {
                        summary.replaced += 1;
                        replaced.push(&r.id);
                        write.push(r);
                    }
                    Some(_) => summary.unchanged += 1,
                }
            }
            for chunk in replaced.chunks(CHUNK) {
                let mut q = QueryBuilder::<Sqlite>::new("DELETE FROM affected WHERE id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind((*id).to_owned());
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            for chunk in write.chunks(CHUNK) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT OR REPLACE INTO advisories (id, modified, modified_key, withdrawn, json) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id.clone())
                        .push_bind(r.modified.clone())
                        .push_bind(r.modified_key.clone())
                        .push_bind(r.withdrawn.clone())
                        .push_bind(r.json.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            let rows: Vec<(&str, &(String, String, String))> = write
                .iter()
                .flat_map(|r| r.affected.iter().map(move |a| (r.id.as_str(), a)))
                .collect();
            for chunk in rows.chunks(CHUNK) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT OR IGNORE INTO affected (ecosystem, name, id, osv_ecosystem) ",
                );
                q.push_values(chunk, |mut b, (id, (eco, name, osv))| {
                    b.push_bind(eco.clone())
                        .push_bind(name.clone())
                        .push_bind((*id).to_owned())
                        .push_bind(osv.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO imports (source, imported_at, records, added, replaced, unchanged, errors)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(source.to_owned())
            .bind(time_key(now))
            .bind(to_i64(summary.records))
            .bind(to_i64(summary.added))
            .bind(to_i64(summary.replaced))
            .bind(to_i64(summary.unchanged))
            .bind(to_i64(summary.errors.len()))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(summary)
    }

    /// What the database holds: counts per ecosystem, the newest `modified`, and the latest
    /// import of each source.
    pub fn status(&self) -> Result<Status, OsvError> {
        let status = self.rt.block_on(async {
            let totals = sqlx::query(
                "SELECT count(*), count(withdrawn), max(modified_key) FROM advisories",
            )
            .fetch_one(&self.pool)
            .await?;
            let advisories: i64 = totals.try_get(0)?;
            let withdrawn: i64 = totals.try_get(1)?;
            let newest: Option<String> = totals.try_get(2)?;
            let mut ecosystems = Vec::new();
            for row in sqlx::query(
                "SELECT a.ecosystem, count(DISTINCT a.id), max(v.modified_key)
                 FROM affected a JOIN advisories v ON v.id = a.id
                 GROUP BY a.ecosystem ORDER BY a.ecosystem",
            )
            .fetch_all(&self.pool)
            .await?
            {
                let newest: Option<String> = row.try_get(2)?;
                ecosystems.push(EcosystemStatus {
                    ecosystem: row.try_get(0)?,
                    advisories: row.try_get::<i64, _>(1)?.unsigned_abs(),
                    newest_modified: newest.as_deref().and_then(from_time_key),
                });
            }
            let mut sources = Vec::new();
            for row in sqlx::query(
                "SELECT source, imported_at, records, added, replaced, unchanged, errors
                 FROM imports i WHERE seq = (SELECT max(seq) FROM imports j WHERE j.source = i.source)
                 ORDER BY seq",
            )
            .fetch_all(&self.pool)
            .await?
            {
                let at: String = row.try_get(1)?;
                let count = |i: usize| row.try_get::<i64, _>(i).map(i64::unsigned_abs);
                sources.push(SourceStatus {
                    source: row.try_get(0)?,
                    imported_at: from_time_key(&at).unwrap_or_default(),
                    records: count(2)?,
                    added: count(3)?,
                    replaced: count(4)?,
                    unchanged: count(5)?,
                    errors: count(6)?,
                });
            }
            Ok::<_, sqlx::Error>(Status {
                advisories: advisories.unsigned_abs(),
                withdrawn: withdrawn.unsigned_abs(),
                newest_modified: newest.as_deref().and_then(from_time_key),
                ecosystems,
                sources,
            })
        })?;
        Ok(status)
    }

    /// The stored record with this id.
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>, OsvError> {
        let json: Option<String> = self.rt.block_on(
            sqlx::query_scalar("SELECT json FROM advisories WHERE id = ?")
                .bind(id.to_owned())
                .fetch_optional(&self.pool),
        )?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Every known vulnerability of every package, by the rules of [`super::matching`]: one
    /// [`Match`] per package and vulnerability (aliases merged), ordered by package index, then
    /// id.
    pub fn match_packages(&self, packages: &[Package]) -> Result<Vec<Match>, OsvError> {
        // (ecosystem, normalised name) → packages that go by it.
        let mut keys: HashMap<(&'static str, String), Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            if p.version.trim().is_empty() {
                continue;
            }
            for name in Wanted::of(p).names {
                keys.entry((p.ecosystem.osv_name(), name))
                    .or_default()
                    .push(i);
            }
        }
        let mut by_ecosystem: HashMap<&'static str, Vec<&String>> = HashMap::new();
        for (eco, name) in keys.keys() {
            by_ecosystem.entry(eco).or_default().push(name);
        }
        let (candidates, advisories) = self.rt.block_on(async {
            let mut candidates: Vec<(usize, String)> = Vec::new();
            let mut seen: HashSet<(usize, String)> = HashSet::new();
            for (eco, names) in &by_ecosystem {
                for chunk in names.chunks(CHUNK) {
                    let mut q = QueryBuilder::<Sqlite>::new(
                        "SELECT name, id FROM affected WHERE ecosystem = ",
                    );
                    q.push_bind(*eco);
                    q.push(" AND name IN (");
                    let mut list = q.separated(", ");
                    for name in chunk {
                        list.push_bind((*name).clone());
                    }
                    q.push(")");
                    for row in q.build().fetch_all(&self.pool).await? {
                        let name: String = row.try_get(0)?;
                        let id: String = row.try_get(1)?;
                        for &p in keys.get(&(*eco, name)).into_iter().flatten() {
                            if seen.insert((p, id.clone())) {
                                candidates.push((p, id.clone()));
                            }
                        }
                    }
                }
            }
            let ids: Vec<&String> = candidates
                .iter()
                .map(|(_, id)| id)
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let mut advisories: HashMap<String, Advisory> = HashMap::new();
            for chunk in ids.chunks(CHUNK) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "SELECT json FROM advisories WHERE withdrawn IS NULL AND id IN (",
                );
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind((*id).clone());
                }
                q.push(")");
                for row in q.build().fetch_all(&self.pool).await? {
                    let json: String = row.try_get(0)?;
                    if let Ok(a) = serde_json::from_str::<Advisory>(&json) {
                        advisories.insert(a.id.clone(), a);
                    }
                }
            }
            Ok::<_, sqlx::Error>((candidates, advisories))
        })?;
        let pairs: Vec<(usize, &Advisory)> = candidates
            .iter()
            .filter_map(|(p, id)| advisories.get(id).map(|a| (*p, a)))
            .collect();
        Ok(matching::match_pairs(packages, &pairs))
    }

    /// Closes the database cleanly (also done on drop, less politely).
    pub fn close(self) {
        self.rt.block_on(self.pool.close());
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
