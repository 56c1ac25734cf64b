//! The evidence index in PostgreSQL, for a company-wide store: the same rows, filters and
//! ordering as [`SqliteIndex`](crate::index::SqliteIndex), in tables of one schema (`evident`
//! by default) so several stores, or tests, can share a database without meeting.
//!
//! Every statement names its tables with the schema (`"evident".evidence`), so nothing depends
//! on a connection's `search_path`. Text is compared byte by byte where it is ordered (controls
//! are `COLLATE "C"`), as SQLite and Rust's `String` order it. PostgreSQL text cannot hold NUL
//! characters; nothing evident records has them.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, PgPool, Postgres, QueryBuilder, Row};

use crate::index::{
    Index, IndexError, IndexRow, Query, Summary, control_pairs, last_per_seq, push_control_values,
    push_evidence_values, summaries_from_rows, to_i64,
};

/// The schema the tables live in unless another is named.
pub const DEFAULT_SCHEMA: &str = "evident";

/// PostgreSQL accepts at most 65,535 bind parameters in one statement; an evidence row takes 8
/// and a control 2. 4,096 rows (32,768 parameters) a statement keep well below the limit while
/// making one round trip per few thousand rows.
const ROWS_PER_STATEMENT: usize = 4_096;
const CONTROLS_PER_STATEMENT: usize = 16_384;

/// The key of the transaction-scoped advisory lock held while the schema is created, so two
/// processes opening a new schema at once do not race (`CREATE … IF NOT EXISTS` is not safe
/// against a concurrent creator). The bytes spell `evident` and a version.
const SCHEMA_LOCK: i64 = 0x6576_6964_656e_7401;

/// The index in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgIndex {
    pool: PgPool,
    schema: String,
}

/// Whether `name` is a schema name this index accepts: lowercase ASCII letters, digits and
/// underscores, not starting with a digit, at most 63 bytes (PostgreSQL's identifier length).
/// Such a name needs no escaping and means the same quoted or not.
pub fn valid_schema_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Takes a `schema=NAME` parameter out of a database URL's query: the URL to connect with and
/// the schema named, if any (the last one wins). Other parameters are kept as they are.
pub fn split_schema_param(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("schema", value)) => schema = Some(value.to_owned()),
            _ if pair.is_empty() => {}
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, schema)
}

/// `sql` with every `{s}` replaced by the quoted schema name (a valid one: no quoting can be
/// broken out of).
fn qualify(sql: &str, schema: &str) -> String {
    sql.replace("{s}", &format!("\"{schema}\""))
}

impl PgIndex {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database?…`) and
    /// creates the schema (`evident` unless `schema` names another) and its tables when
    /// missing.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self, IndexError> {
        let schema = schema.unwrap_or(DEFAULT_SCHEMA);
        if !valid_schema_name(schema) {
            return Err(IndexError::Config(format!(
                "`{schema}` is not a usable schema name: use lowercase letters, digits and `_` (at most 63, not starting with a digit)"
            )));
        }
        let options = PgConnectOptions::from_str(url)?;
        // A connection of its own for creating the schema: a server that is down or refuses
        // the login fails here at once, with its own error (a pool would retry until it
        // timed out, and then say only that).
        let mut conn = PgConnection::connect_with(&options).await?;
        let created = create_schema(&mut conn, schema).await;
        let _ = conn.close().await;
        created?;
        let pool = PgPoolOptions::new()
            // The store issues one statement at a time; a writer holds one more connection
            // for its lock while it appends; the third is headroom.
            .max_connections(3)
            .acquire_timeout(Duration::from_secs(15))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            schema: schema.to_owned(),
        })
    }

    /// The schema the tables live in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// `sql` with every `{s}` replaced by the quoted schema name (validated at connection: no
    /// quoting can be broken out of).
    fn sql(&self, sql: &str) -> String {
        qualify(sql, &self.schema)
    }

    /// What `ledger verify` compares, for the entries in `[from, below)`, in two range scans:
    /// (seq, kind, subject, hex leaf hash, sorted controls).
    pub async fn summaries(&self, from: u64, below: u64) -> Result<Vec<Summary>, IndexError> {
        let rows = sqlx::query(AssertSqlSafe(self.sql(
            "SELECT seq, kind, subject, leaf_hash FROM {s}.evidence
             WHERE seq >= $1 AND seq < $2 ORDER BY seq",
        )))
        .bind(to_i64(from))
        .bind(to_i64(below))
        .fetch_all(&self.pool)
        .await?;
        let controls = sqlx::query(AssertSqlSafe(self.sql(
            "SELECT seq, control FROM {s}.evidence_control
             WHERE seq >= $1 AND seq < $2 ORDER BY seq, control",
        )))
        .bind(to_i64(from))
        .bind(to_i64(below))
        .fetch_all(&self.pool)
        .await?;
        Ok(summaries_from_rows(&rows, &controls)?)
    }

    /// Takes the writers' lock of this schema: a session-level advisory lock, held on a
    /// connection of its own until [`PgWriterLock::release`] (or until the connection dies
    /// with its process, when PostgreSQL releases it). Every process appending to the log of
    /// this schema takes it first, so appends from several hosts are sequenced.
    pub async fn lock_writer(&self) -> Result<PgWriterLock, IndexError> {
        let key = writer_lock_key(&self.schema);
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await?;
        Ok(PgWriterLock { conn, key })
    }

    /// Closes the connections cleanly.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Drops the schema and everything in it, then closes the connections (for tests, and for
    /// discarding an index that is to be rebuilt from the log).
    pub async fn drop_schema(&self) -> Result<(), IndexError> {
        sqlx::raw_sql(AssertSqlSafe(self.sql("DROP SCHEMA IF EXISTS {s} CASCADE")))
            .execute(&self.pool)
            .await?;
        self.pool.close().await;
        Ok(())
    }
}

/// The advisory-lock key of the writers of `schema`: the first 8 bytes of a SHA-256 over a
/// fixed label and the schema name (a different key from the schema-creation lock).
fn writer_lock_key(schema: &str) -> i64 {
    let digest = Sha256::digest(format!("evident writer lock\n{schema}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The writers' lock of a schema, held on a connection of its own.
#[derive(Debug)]
pub struct PgWriterLock {
    conn: PoolConnection<Postgres>,
    key: i64,
}

impl PgWriterLock {
    /// Releases the lock and returns the connection to the pool. When the release fails, the
    /// connection is closed instead, which releases the lock too.
    pub async fn release(mut self) {
        let unlocked = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .fetch_one(&mut *self.conn)
            .await;
        if !matches!(unlocked, Ok(true)) {
            let _ = self.conn.close().await;
        }
    }
}

/// Creates the schema and its tables when missing, under a lock that serialises concurrent
/// creators.
async fn create_schema(conn: &mut PgConnection, schema: &str) -> Result<(), IndexError> {
    let sql = |text: &str| AssertSqlSafe(qualify(text, schema));
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await?;
    // Only create the schema when it is missing: `CREATE SCHEMA IF NOT EXISTS` needs the
    // CREATE privilege on the database even when the schema exists.
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await?;
    if !exists {
        sqlx::raw_sql(sql("CREATE SCHEMA IF NOT EXISTS {s}"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::raw_sql(sql(
        "CREATE TABLE IF NOT EXISTS {s}.evidence (
            seq BIGINT PRIMARY KEY,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            predicate_type TEXT NOT NULL,
            actor TEXT NOT NULL,
            recorded_at BIGINT NOT NULL,
            retain_until BIGINT NOT NULL,
            leaf_hash TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS {s}.evidence_control (
            control TEXT COLLATE \"C\" NOT NULL,
            seq BIGINT NOT NULL REFERENCES {s}.evidence(seq) ON DELETE CASCADE,
            PRIMARY KEY (control, seq)
        );
        CREATE INDEX IF NOT EXISTS evidence_control_seq ON {s}.evidence_control(seq, control);
        CREATE INDEX IF NOT EXISTS evidence_subject ON {s}.evidence(subject, seq);
        CREATE INDEX IF NOT EXISTS evidence_kind ON {s}.evidence(kind, seq);
        CREATE INDEX IF NOT EXISTS evidence_time ON {s}.evidence(recorded_at);",
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

impl Index for PgIndex {
    async fn insert(&self, rows: &[IndexRow]) -> Result<(), IndexError> {
        let rows: Cow<'_, [IndexRow]> = last_per_seq(rows);
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            // A row that is already there is replaced, controls and all (SQLite's `INSERT OR
            // REPLACE` with its cascade): delete, then insert.
            let seqs: Vec<i64> = chunk.iter().map(|r| to_i64(r.seq)).collect();
            sqlx::query(AssertSqlSafe(
                self.sql("DELETE FROM {s}.evidence WHERE seq = ANY($1)"),
            ))
            .bind(seqs)
            .execute(&mut *tx)
            .await?;
            let mut insert = QueryBuilder::<Postgres>::new(
                self.sql(
                    "INSERT INTO {s}.evidence
                     (seq, kind, subject, predicate_type, actor, recorded_at, retain_until, leaf_hash) ",
                ),
            );
            push_evidence_values(&mut insert, chunk);
            insert.build().execute(&mut *tx).await?;
            let controls = control_pairs(chunk);
            for part in controls.chunks(CONTROLS_PER_STATEMENT) {
                let mut insert = QueryBuilder::<Postgres>::new(
                    self.sql("INSERT INTO {s}.evidence_control (control, seq) "),
                );
                push_control_values(&mut insert, part);
                insert.push(" ON CONFLICT DO NOTHING");
                insert.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn query(&self, q: &Query) -> Result<Vec<IndexRow>, IndexError> {
        let mut query = QueryBuilder::<Postgres>::new(self.sql(
            "SELECT e.seq, e.kind, e.subject, e.predicate_type, e.actor, e.recorded_at,
                        e.retain_until, e.leaf_hash,
                        ARRAY(SELECT c.control FROM {s}.evidence_control c
                              WHERE c.seq = e.seq ORDER BY c.control)
                 FROM {s}.evidence e WHERE TRUE",
        ));
        if let Some(control) = &q.control {
            query
                .push(self.sql(
                    " AND EXISTS (SELECT 1 FROM {s}.evidence_control c
                           WHERE c.seq = e.seq AND c.control = ",
                ))
                .push_bind(control.clone())
                .push(")");
        }
        if let Some(subject) = &q.subject {
            query.push(" AND e.subject = ").push_bind(subject.clone());
        }
        if let Some(kind) = &q.kind {
            query.push(" AND e.kind = ").push_bind(kind.clone());
        }
        if let Some(predicate_type) = &q.predicate_type {
            query
                .push(" AND e.predicate_type = ")
                .push_bind(predicate_type.clone());
        }
        if let Some(from) = q.from {
            query.push(" AND e.recorded_at >= ").push_bind(from);
        }
        if let Some(to) = q.to {
            query.push(" AND e.recorded_at < ").push_bind(to);
        }
        if let Some(from) = q.from_seq {
            query.push(" AND e.seq >= ").push_bind(to_i64(from));
        }
        if let Some(below) = q.below {
            query.push(" AND e.seq < ").push_bind(to_i64(below));
        }
        query.push(if q.newest_first {
            " ORDER BY e.seq DESC"
        } else {
            " ORDER BY e.seq"
        });
        if let Some(limit) = q.limit {
            query.push(" LIMIT ").push_bind(to_i64(limit));
        }
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok(IndexRow {
                    seq: r.try_get::<i64, _>(0)? as u64,
                    kind: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    predicate_type: r.try_get(3)?,
                    actor: r.try_get(4)?,
                    recorded_at: r.try_get(5)?,
                    retain_until: r.try_get(6)?,
                    leaf_hash: r.try_get(7)?,
                    controls: r.try_get(8)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(IndexError::from)
    }

    async fn count(&self) -> Result<u64, IndexError> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(
            self.sql("SELECT coalesce(max(seq) + 1, 0) FROM {s}.evidence"),
        ))
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    async fn truncate(&self, seq: u64) -> Result<(), IndexError> {
        sqlx::query(AssertSqlSafe(
            self.sql("DELETE FROM {s}.evidence WHERE seq >= $1"),
        ))
        .bind(to_i64(seq))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names() {
        for ok in ["evident", "evident_test_1a2b", "_x", &"a".repeat(63)] {
            assert!(valid_schema_name(ok), "{ok}");
        }
        for bad in ["", "Evident", "1abc", "a-b", "a\"b", "a b", &"a".repeat(64)] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }

    #[test]
    fn schema_parameter() {
        assert_eq!(
            split_schema_param("postgres://u@h/db"),
            ("postgres://u@h/db".into(), None)
        );
        assert_eq!(
            split_schema_param("postgres://u@h/db?schema=s1"),
            ("postgres://u@h/db".into(), Some("s1".into()))
        );
        assert_eq!(
            split_schema_param("postgres://u@h/db?sslmode=disable&schema=s1&application_name=x"),
            (
                "postgres://u@h/db?sslmode=disable&application_name=x".into(),
                Some("s1".into())
            )
        );
    }
}
