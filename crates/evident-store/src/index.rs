//! The evidence index: which entries are about what, for fast queries.
//!
//! The index is derived data: every row can be rebuilt from the log's entries, and the store
//! does so when the index lags behind the checkpoint (after a crash between writing tiles and
//! committing the index).
//!
//! Two databases hold it, behind one [`Index`] trait and one test suite
//! (`tests/index_suite.rs`): the embedded [`SqliteIndex`] (the default) and [`PgIndex`] in
//! PostgreSQL ([`crate::index_pg`]); [`AnyIndex`] is whichever a store was opened with.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Database, Encode, QueryBuilder, Row, Sqlite, SqlitePool, Type};

pub use crate::index_pg::PgIndex;
use crate::index_pg::split_schema_param;

/// One indexed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// Position in the log (0-based).
    pub seq: u64,
    /// Evidence kind (`scan`, `approval`, …).
    pub kind: String,
    /// Canonical subject text.
    pub subject: String,
    /// In-toto predicate type.
    pub predicate_type: String,
    /// Who recorded it.
    pub actor: String,
    /// When, as Unix seconds.
    pub recorded_at: i64,
    /// Kept at least until, as Unix seconds.
    pub retain_until: i64,
    /// Controls it supports.
    pub controls: Vec<String>,
    /// Hex leaf hash.
    pub leaf_hash: String,
}

impl IndexRow {
    /// The row as the listings show it (`evident evidence list --format json`, the API, an
    /// auditor package's `index.json`): times in RFC 3339.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "entry": self.seq,
            "kind": self.kind,
            "subject": self.subject,
            "controls": self.controls,
            "actor": self.actor,
            "recorded_at": crate::timefmt::seconds_text(self.recorded_at),
            "retain_until": crate::timefmt::seconds_text(self.retain_until),
            "predicate_type": self.predicate_type,
            "leaf_hash": self.leaf_hash,
        })
    }
}

/// The indexed facts about one entry that verification compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Position in the log.
    pub seq: u64,
    /// Evidence kind.
    pub kind: String,
    /// Canonical subject text.
    pub subject: String,
    /// Hex leaf hash.
    pub leaf_hash: String,
    /// Controls, sorted.
    pub controls: Vec<String>,
}

/// A query; every filter that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Entries supporting this control.
    pub control: Option<String>,
    /// Entries about this subject.
    pub subject: Option<String>,
    /// Entries of this kind.
    pub kind: Option<String>,
    /// Entries with this predicate type.
    pub predicate_type: Option<String>,
    /// Recorded at or after (Unix seconds).
    pub from: Option<i64>,
    /// Recorded before (Unix seconds).
    pub to: Option<i64>,
    /// Only entries at or after this sequence number.
    pub from_seq: Option<u64>,
    /// Only entries before this sequence number (the size of a checkpoint).
    pub below: Option<u64>,
    /// At most this many rows (the latest first when set with `newest_first`).
    pub limit: Option<u64>,
    /// Order by sequence number descending.
    pub newest_first: bool,
}

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The database failed.
    #[error("evidence index: {0}")]
    Db(#[from] sqlx::Error),
    /// The index is not configured usably (an unsupported database URL, a bad schema name).
    #[error("evidence index: {0}")]
    Config(String),
}

/// Where evidence is looked up by subject, kind, control, time and predicate type.
pub trait Index: Send + Sync {
    /// Adds rows (in one transaction).
    fn insert(&self, rows: &[IndexRow]) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// Rows matching the query, by sequence number.
    fn query(&self, q: &Query) -> impl Future<Output = Result<Vec<IndexRow>, IndexError>> + Send;
    /// The number of indexed entries, which are always the first `count` of the log (read as
    /// the highest sequence number plus one: a lookup in the primary key, not a scan).
    fn count(&self) -> impl Future<Output = Result<u64, IndexError>> + Send;
    /// Forgets rows at or after `seq` (entries that never reached a checkpoint).
    fn truncate(&self, seq: u64) -> impl Future<Output = Result<(), IndexError>> + Send;
}

/// The index in an SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteIndex {
    pool: SqlitePool,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS evidence (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        predicate_type TEXT NOT NULL,
        actor TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        retain_until INTEGER NOT NULL,
        leaf_hash TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS evidence_control (
        control TEXT NOT NULL,
        seq INTEGER NOT NULL REFERENCES evidence(seq) ON DELETE CASCADE,
        PRIMARY KEY (control, seq)
    ) WITHOUT ROWID",
    // Controls by entry: the listing's per-row lookup and the cascade on truncation use it.
    "CREATE INDEX IF NOT EXISTS evidence_control_seq ON evidence_control(seq, control)",
    "CREATE INDEX IF NOT EXISTS evidence_subject ON evidence(subject, seq)",
    "CREATE INDEX IF NOT EXISTS evidence_kind ON evidence(kind, seq)",
    "CREATE INDEX IF NOT EXISTS evidence_time ON evidence(recorded_at)",
];

impl SqliteIndex {
    /// Opens (creating if needed) the index at `path`.
    pub async fn open(path: &Path) -> Result<Self, IndexError> {
        // Several processes may open a new index at once (server replicas starting together):
        // switching it to WAL and creating the tables can then find the file locked, which
        // SQLite reports at once rather than waiting. Such a start is tried again for a while.
        let mut attempt = 0u32;
        loop {
            match Self::open_once(path).await {
                Err(IndexError::Db(sqlx::Error::Database(e)))
                    if attempt < 100 && e.message().contains("locked") =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                result => return result,
            }
        }
    }

    async fn open_once(path: &Path) -> Result<Self, IndexError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // A big log's subject index takes a random page per appended entry (commits are
            // random): a page cache of up to 128 MB keeps it in memory (about 70 MB at a
            // million entries), and a checkpoint every 20,000 WAL pages (not 1,000) copies a
            // page to the database once for many batches instead of once per batch. At a
            // million entries this takes durable batched appends from 13,300/s to 20,900/s
            // (`bash bench/ledger.sh`).
            .pragma("cache_size", "-131072")
            .pragma("wal_autocheckpoint", "20000")
            // The statement journal of a multi-row insert in memory, not in a temporary file
            // made and deleted at each batch: on a filesystem mounted with `discard`, each
            // deletion made the next sync wait for the device to discard its blocks.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        for stmt in SCHEMA {
            if let Err(e) = sqlx::query(*stmt).execute(&pool).await {
                pool.close().await;
                return Err(e.into());
            }
        }
        Ok(Self { pool })
    }

    /// What `ledger verify` compares, for the entries in `[from, below)`, in two range scans:
    /// (seq, kind, subject, hex leaf hash, sorted controls).
    pub async fn summaries(&self, from: u64, below: u64) -> Result<Vec<Summary>, IndexError> {
        // Each scan as one JSON array: one row crosses the driver instead of one per entry, and
        // rows crossing the driver's worker thread are what costs here. The order is put right
        // below, whatever the aggregates' order was.
        let scan = |sql: &'static str| {
            sqlx::query_scalar::<_, Option<String>>(sql)
                .bind(to_i64(from))
                .bind(to_i64(below))
                .fetch_one(&self.pool)
        };
        let entries = scan(
            "SELECT json_group_array(json_array(seq, kind, subject, leaf_hash)) FROM
             (SELECT seq, kind, subject, leaf_hash FROM evidence
              WHERE seq >= ?1 AND seq < ?2 ORDER BY seq)",
        )
        .await?;
        let controls = scan(
            "SELECT json_group_array(json_array(seq, control)) FROM
             (SELECT seq, control FROM evidence_control
              WHERE seq >= ?1 AND seq < ?2 ORDER BY seq, control)",
        )
        .await?;
        let decode = |e: serde_json::Error| {
            IndexError::Db(sqlx::Error::Decode(
                format!("the index rows of entries {from}..{below}: {e}").into(),
            ))
        };
        let rows: Vec<(u64, String, String, String)> =
            serde_json::from_str(entries.as_deref().unwrap_or("[]")).map_err(decode)?;
        let mut controls: Vec<(u64, String)> =
            serde_json::from_str(controls.as_deref().unwrap_or("[]")).map_err(decode)?;
        if !controls.is_sorted() {
            controls.sort();
        }
        let mut out: Vec<Summary> = rows
            .into_iter()
            .map(|(seq, kind, subject, leaf_hash)| Summary {
                seq,
                kind,
                subject,
                leaf_hash,
                controls: Vec::new(),
            })
            .collect();
        if !out.is_sorted_by_key(|s| s.seq) {
            out.sort_by_key(|s| s.seq);
        }
        merge_controls(&mut out, controls);
        Ok(out)
    }

    /// Closes the database cleanly.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The summaries of `rows` (seq, kind, subject, leaf_hash, by seq) with the `controls` rows
/// (seq, control, by seq and control) merged into them: what both databases' `summaries`
/// answer from their two range scans.
pub(crate) fn summaries_from_rows<R: Row>(
    rows: &[R],
    controls: &[R],
) -> Result<Vec<Summary>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut out: Vec<Summary> = rows
        .iter()
        .map(|r| {
            Ok(Summary {
                seq: r.try_get::<i64, _>(0)? as u64,
                kind: r.try_get(1)?,
                subject: r.try_get(2)?,
                leaf_hash: r.try_get(3)?,
                controls: Vec::new(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let controls = controls
        .iter()
        .map(|c| Ok((c.try_get::<i64, _>(0)? as u64, c.try_get(1)?)))
        .collect::<Result<Vec<(u64, String)>, sqlx::Error>>()?;
    merge_controls(&mut out, controls);
    Ok(out)
}

/// Adds `controls` (seq, control; by seq and control) to the summaries `out` (by seq) they
/// belong to; controls of entries not in `out` are left out.
fn merge_controls(out: &mut [Summary], controls: Vec<(u64, String)>) {
    let mut at = 0;
    for (seq, control) in controls {
        while at < out.len() && out[at].seq < seq {
            at += 1;
        }
        if let Some(row) = out.get_mut(at).filter(|r| r.seq == seq) {
            row.controls.push(control);
        }
    }
}

/// Appends the `VALUES` of `rows` to an `INSERT INTO evidence (seq, kind, subject,
/// predicate_type, actor, recorded_at, retain_until, leaf_hash)`.
pub(crate) fn push_evidence_values<DB: Database>(insert: &mut QueryBuilder<DB>, rows: &[IndexRow])
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    insert.push_values(rows, |mut b, row| {
        b.push_bind(to_i64(row.seq))
            .push_bind(row.kind.clone())
            .push_bind(row.subject.clone())
            .push_bind(row.predicate_type.clone())
            .push_bind(row.actor.clone())
            .push_bind(row.recorded_at)
            .push_bind(row.retain_until)
            .push_bind(row.leaf_hash.clone());
    });
}

/// The (control, seq) pairs of `rows`, for `evidence_control`.
pub(crate) fn control_pairs(rows: &[IndexRow]) -> Vec<(&String, u64)> {
    rows.iter()
        .flat_map(|row| row.controls.iter().map(move |c| (c, row.seq)))
        .collect()
}

/// Appends the `VALUES` of `pairs` to an `INSERT INTO evidence_control (control, seq)`.
pub(crate) fn push_control_values<DB: Database>(
    insert: &mut QueryBuilder<DB>,
    pairs: &[(&String, u64)],
) where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    insert.push_values(pairs, |mut b, (control, seq)| {
        b.push_bind((*control).clone()).push_bind(to_i64(*seq));
    });
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `rows` with only the last of the rows that share a sequence number, which is the one an
/// insert keeps (a row that is inserted again replaces the earlier one, controls and all).
pub(crate) fn last_per_seq(rows: &[IndexRow]) -> Cow<'_, [IndexRow]> {
    if rows.windows(2).all(|w| w[0].seq < w[1].seq) {
        return Cow::Borrowed(rows);
    }
    let mut by_seq = BTreeMap::new();
    for row in rows {
        by_seq.insert(row.seq, row);
    }
    Cow::Owned(by_seq.into_values().cloned().collect())
}

impl Index for SqliteIndex {
    async fn insert(&self, rows: &[IndexRow]) -> Result<(), IndexError> {
        // Multi-row statements: one round trip per few hundred rows, not three per row.
        const ROWS_PER_STATEMENT: usize = 500;
        let rows = last_per_seq(rows);
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT OR REPLACE INTO evidence
                 (seq, kind, subject, predicate_type, actor, recorded_at, retain_until, leaf_hash) ",
            );
            push_evidence_values(&mut insert, chunk);
            insert.build().execute(&mut *tx).await?;
            let controls = control_pairs(chunk);
            for part in controls.chunks(ROWS_PER_STATEMENT) {
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT OR IGNORE INTO evidence_control (control, seq) ",
                );
                push_control_values(&mut insert, part);
                insert.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn query(&self, q: &Query) -> Result<Vec<IndexRow>, IndexError> {
        let mut sql = String::from(
            "SELECT e.seq, e.kind, e.subject, e.predicate_type, e.actor, e.recorded_at,
                    e.retain_until, e.leaf_hash,
                    (SELECT group_concat(control, char(31)) FROM
                        (SELECT control FROM evidence_control c WHERE c.seq = e.seq ORDER BY control))
             FROM evidence e WHERE 1 = 1",
        );
        if q.control.is_some() {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM evidence_control c WHERE c.seq = e.seq AND c.control = ?)",
            );
        }
        if q.subject.is_some() {
            sql.push_str(" AND e.subject = ?");
        }
        if q.kind.is_some() {
            sql.push_str(" AND e.kind = ?");
        }
        if q.predicate_type.is_some() {
            sql.push_str(" AND e.predicate_type = ?");
        }
        if q.from.is_some() {
            sql.push_str(" AND e.recorded_at >= ?");
        }
        if q.to.is_some() {
            sql.push_str(" AND e.recorded_at < ?");
        }
        if q.from_seq.is_some() {
            sql.push_str(" AND e.seq >= ?");
        }
        if q.below.is_some() {
            sql.push_str(" AND e.seq < ?");
        }
        sql.push_str(if q.newest_first {
            " ORDER BY e.seq DESC"
        } else {
            " ORDER BY e.seq"
        });
        if q.limit.is_some() {
            sql.push_str(" LIMIT ?");
        }
        // Only fixed fragments are concatenated; every value is bound.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for text in [&q.control, &q.subject, &q.kind, &q.predicate_type]
            .into_iter()
            .flatten()
        {
            query = query.bind(text);
        }
        for time in [q.from, q.to].into_iter().flatten() {
            query = query.bind(time);
        }
        if let Some(from) = q.from_seq {
            query = query.bind(to_i64(from));
        }
        if let Some(below) = q.below {
            query = query.bind(to_i64(below));
        }
        if let Some(limit) = q.limit {
            query = query.bind(to_i64(limit));
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                let controls: Option<String> = r.try_get(8)?;
                Ok(IndexRow {
                    seq: r.try_get::<i64, _>(0)? as u64,
                    kind: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    predicate_type: r.try_get(3)?,
                    actor: r.try_get(4)?,
                    recorded_at: r.try_get(5)?,
                    retain_until: r.try_get(6)?,
                    leaf_hash: r.try_get(7)?,
                    controls: controls
                        .map(|c| c.split('\u{1f}').map(str::to_owned).collect())
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(IndexError::from)
    }

    async fn count(&self) -> Result<u64, IndexError> {
        let n: i64 = sqlx::query_scalar("SELECT coalesce(max(seq) + 1, 0) FROM evidence")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn truncate(&self, seq: u64) -> Result<(), IndexError> {
        sqlx::query("DELETE FROM evidence WHERE seq >= ?")
            .bind(to_i64(seq))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The index of a store, in whichever database holds it.
#[derive(Debug, Clone)]
pub enum AnyIndex {
    /// The embedded SQLite file (the default).
    Sqlite(SqliteIndex),
    /// PostgreSQL (a company-wide store).
    Postgres(PgIndex),
}

/// Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl AnyIndex {
    /// Opens the index: the SQLite file at `sqlite_path` without a URL, or the PostgreSQL
    /// database at `database_url` (`postgres://…`; a `schema=NAME` query parameter picks the
    /// schema, `evident` by default).
    pub async fn open(sqlite_path: &Path, database_url: Option<&str>) -> Result<Self, IndexError> {
        match database_url {
            None => Ok(Self::Sqlite(SqliteIndex::open(sqlite_path).await?)),
            Some(url) if is_postgres_url(url) => {
                let (url, schema) = split_schema_param(url);
                Ok(Self::Postgres(
                    PgIndex::connect(&url, schema.as_deref()).await?,
                ))
            }
            // Never echo the URL: it may hold a password.
            Some(url) => Err(IndexError::Config(format!(
                "unsupported database URL (scheme `{}`): the index is either the embedded SQLite file (no URL) or PostgreSQL (postgres://user@host:port/database)",
                url.split_once(':').map_or("none", |(scheme, _)| scheme)
            ))),
        }
    }

    /// Takes the database's writers' lock, where it has one: PostgreSQL sequences the appends
    /// of every process sharing its schema (`None` for SQLite, whose store's file lock is
    /// enough: an SQLite index is never shared beyond one machine).
    pub async fn lock_writer(&self) -> Result<Option<crate::index_pg::PgWriterLock>, IndexError> {
        match self {
            Self::Sqlite(_) => Ok(None),
            Self::Postgres(i) => i.lock_writer().await.map(Some),
        }
    }

    /// Which database holds the index: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// What `ledger verify` compares, for the entries in `[from, below)`.
    pub async fn summaries(&self, from: u64, below: u64) -> Result<Vec<Summary>, IndexError> {
        match self {
            Self::Sqlite(i) => i.summaries(from, below).await,
            Self::Postgres(i) => i.summaries(from, below).await,
        }
    }

    /// Closes the database cleanly.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(i) => i.close().await,
            Self::Postgres(i) => i.close().await,
        }
    }
}

impl Index for AnyIndex {
    async fn insert(&self, rows: &[IndexRow]) -> Result<(), IndexError> {
        match self {
            Self::Sqlite(i) => i.insert(rows).await,
            Self::Postgres(i) => i.insert(rows).await,
        }
    }

    async fn query(&self, q: &Query) -> Result<Vec<IndexRow>, IndexError> {
        match self {
            Self::Sqlite(i) => i.query(q).await,
            Self::Postgres(i) => i.query(q).await,
        }
    }

    async fn count(&self) -> Result<u64, IndexError> {
        match self {
            Self::Sqlite(i) => i.count().await,
            Self::Postgres(i) => i.count().await,
        }
    }

    async fn truncate(&self, seq: u64) -> Result<(), IndexError> {
        match self {
            Self::Sqlite(i) => i.truncate(seq).await,
            Self::Postgres(i) => i.truncate(seq).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: u64, kind: &str, subject: &str, controls: &[&str], at: i64) -> IndexRow {
        IndexRow {
            seq,
            kind: kind.into(),
            subject: subject.into(),
            predicate_type: format!("https://evident.dev/attestations/{kind}/v1"),
            actor: "ci".into(),
            recorded_at: at,
            retain_until: at + 100,
            controls: controls.iter().map(|c| (*c).to_owned()).collect(),
            leaf_hash: "00".repeat(32),
        }
    }

    #[test]
    fn filters_combine() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let index = SqliteIndex::open(&dir.path().join("index.sqlite"))
                .await
                .unwrap();
            index
                .insert(&[
                    row(0, "scan", "git:aa", &["soc2:CC8.1", "soc2:CC6.1"], 10),
                    row(1, "approval", "git:aa", &["soc2:CC8.1"], 20),
                    row(2, "scan", "git:bb", &["iso27001:A.8.4"], 30),
                ])
                .await
                .unwrap();
            let seqs = |rows: Vec<IndexRow>| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
            let all = index.query(&Query::default()).await.unwrap();
            assert_eq!(seqs(all.clone()), [0, 1, 2]);
            assert_eq!(all[0].controls, ["soc2:CC6.1", "soc2:CC8.1"]);
            let q = Query {
                control: Some("soc2:CC8.1".into()),
                kind: Some("scan".into()),
                ..Query::default()
            };
            assert_eq!(seqs(index.query(&q).await.unwrap()), [0]);
            let q = Query {
                from: Some(20),
                to: Some(30),
                ..Query::default()
            };
            assert_eq!(seqs(index.query(&q).await.unwrap()), [1]);
            let q = Query {
                subject: Some("git:aa".into()),
                newest_first: true,
                limit: Some(1),
                ..Query::default()
            };
            assert_eq!(seqs(index.query(&q).await.unwrap()), [1]);
            assert_eq!(index.count().await.unwrap(), 3);
            index.truncate(1).await.unwrap();
            assert_eq!(index.count().await.unwrap(), 1);
            let q = Query {
                control: Some("soc2:CC8.1".into()),
                ..Query::default()
            };
            assert_eq!(seqs(index.query(&q).await.unwrap()), [0]);
        });
    }
}
