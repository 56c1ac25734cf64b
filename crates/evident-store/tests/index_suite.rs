//! One test suite for the evidence index, run against both databases that hold it: the
//! embedded SQLite file (in a temporary directory, always) and PostgreSQL (the database of
//! `EVIDENT_TEST_DATABASE_URL`, in a fresh schema that is dropped afterwards).
//!
//! Without `EVIDENT_TEST_DATABASE_URL` the PostgreSQL test fails and says how to set it
//! (`bash scripts/test.sh` does); `EVIDENT_TEST_SKIP_POSTGRES=1` skips it, saying so.

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::time::Instant;

use evident_store::index::{AnyIndex, Index, IndexRow, Query, SqliteIndex, Summary};
use evident_store::index_pg::PgIndex;

/// Where the index under test lives; opening it again reaches the same data.
#[derive(Clone)]
enum Target {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

impl Target {
    async fn open(&self) -> AnyIndex {
        match self {
            Target::Sqlite(path) => AnyIndex::Sqlite(SqliteIndex::open(path).await.unwrap()),
            Target::Postgres { url, schema } => {
                AnyIndex::Postgres(PgIndex::connect(url, Some(schema)).await.unwrap())
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn row(seq: u64, kind: &str, subject: &str, controls: &[&str], at: i64) -> IndexRow {
    IndexRow {
        seq,
        kind: kind.into(),
        subject: subject.into(),
        predicate_type: format!("https://evident.dev/attestations/{kind}/v1"),
        actor: format!("actor-{}", seq % 3),
        recorded_at: at,
        retain_until: at + 1_000,
        controls: controls.iter().map(|c| (*c).to_owned()).collect(),
        leaf_hash: format!("{seq:064x}"),
    }
}

/// `row` as the index returns it: controls sorted and without duplicates.
fn stored(mut r: IndexRow) -> IndexRow {
    r.controls.sort();
    r.controls.dedup();
    r
}

fn seqs(rows: &[IndexRow]) -> Vec<u64> {
    rows.iter().map(|r| r.seq).collect()
}

async fn query(index: &AnyIndex, q: Query) -> Vec<u64> {
    seqs(&index.query(&q).await.unwrap())
}

/// Five entries about two subjects, of three kinds, over time 100..=140.
fn sample() -> Vec<IndexRow> {
    vec![
        row(0, "scan", "git:aa", &["soc2:CC8.1", "soc2:CC6.1"], 100),
        row(1, "approval", "git:aa", &["soc2:CC8.1"], 110),
        row(2, "scan", "git:bb", &["iso27001:A.8.4"], 120),
        row(3, "deployment", "git:bb", &[], 130),
        row(
            4,
            "approval",
            "git:bb",
            &["soc2:CC8.1", "iso27001:A.8.4"],
            140,
        ),
    ]
}

/// Every case, in turn, each from an empty index.
async fn suite(target: &Target) {
    let index = target.open().await;
    macro_rules! cases {
        ($($case:ident),* $(,)?) => {$(
            index.truncate(0).await.unwrap();
            assert_eq!(index.count().await.unwrap(), 0, "{}: starts empty", stringify!($case));
            $case(&index).await;
        )*};
    }
    cases!(
        case_empty,
        case_filters,
        case_ordering,
        case_pagination,
        case_truncate,
        case_replace,
        case_summaries,
        case_unicode,
        case_extremes,
        case_many_rows,
    );
    index.close().await;
    case_reopen(target).await;
}

async fn case_empty(index: &AnyIndex) {
    assert!(index.query(&Query::default()).await.unwrap().is_empty());
    assert!(index.summaries(0, u64::MAX).await.unwrap().is_empty());
    index.truncate(5).await.unwrap();
    index.insert(&[]).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 0);
}

async fn case_filters(index: &AnyIndex) {
    let rows = sample();
    index.insert(&rows).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 5);
    let all = index.query(&Query::default()).await.unwrap();
    assert_eq!(
        all,
        rows.iter().cloned().map(stored).collect::<Vec<_>>(),
        "every field comes back"
    );
    let text = |s: &str| Some(s.to_owned());
    let cases: Vec<(Query, Vec<u64>)> = vec![
        (
            Query {
                subject: text("git:aa"),
                ..Query::default()
            },
            vec![0, 1],
        ),
        (
            Query {
                subject: text("git:a"),
                ..Query::default()
            },
            vec![],
        ),
        (
            Query {
                kind: text("approval"),
                ..Query::default()
            },
            vec![1, 4],
        ),
        (
            Query {
                control: text("soc2:CC8.1"),
                ..Query::default()
            },
            vec![0, 1, 4],
        ),
        (
            Query {
                control: text("soc2:CC8"),
                ..Query::default()
            },
            vec![],
        ),
        (
            Query {
                predicate_type: text("https://evident.dev/attestations/scan/v1"),
                ..Query::default()
            },
            vec![0, 2],
        ),
        (
            Query {
                from: Some(120),
                ..Query::default()
            },
            vec![2, 3, 4],
        ),
        (
            Query {
                to: Some(120),
                ..Query::default()
            },
            vec![0, 1],
        ),
        (
            Query {
                from: Some(110),
                to: Some(131),
                ..Query::default()
            },
            vec![1, 2, 3],
        ),
        (
            Query {
                from: Some(141),
                ..Query::default()
            },
            vec![],
        ),
        (
            Query {
                from_seq: Some(2),
                ..Query::default()
            },
            vec![2, 3, 4],
        ),
        (
            Query {
                below: Some(2),
                ..Query::default()
            },
            vec![0, 1],
        ),
        (
            Query {
                from_seq: Some(1),
                below: Some(4),
                ..Query::default()
            },
            vec![1, 2, 3],
        ),
        (
            Query {
                control: text("soc2:CC8.1"),
                kind: text("scan"),
                ..Query::default()
            },
            vec![0],
        ),
        (
            Query {
                control: text("iso27001:A.8.4"),
                subject: text("git:bb"),
                kind: text("approval"),
                predicate_type: text("https://evident.dev/attestations/approval/v1"),
                from: Some(100),
                to: Some(200),
                from_seq: Some(0),
                below: Some(5),
                limit: Some(10),
                newest_first: true,
            },
            vec![4],
        ),
        (
            Query {
                subject: text("git:aa"),
                kind: text("deployment"),
                ..Query::default()
            },
            vec![],
        ),
    ];
    for (q, want) in cases {
        assert_eq!(query(index, q.clone()).await, want, "{q:?}");
    }
    // A row without controls comes back with none.
    let q = Query {
        kind: text("deployment"),
        ..Query::default()
    };
    assert_eq!(
        index.query(&q).await.unwrap()[0].controls,
        Vec::<String>::new()
    );
}

async fn case_ordering(index: &AnyIndex) {
    // Inserted out of order, in two calls.
    index
        .insert(&[
            row(5, "scan", "s", &["b", "a"], 50),
            row(1, "scan", "s", &[], 10),
        ])
        .await
        .unwrap();
    index
        .insert(&[row(3, "scan", "s", &["c"], 30)])
        .await
        .unwrap();
    assert_eq!(query(index, Query::default()).await, [1, 3, 5]);
    let desc = Query {
        newest_first: true,
        ..Query::default()
    };
    assert_eq!(query(index, desc).await, [5, 3, 1]);
    // Controls are ordered byte by byte (as Rust's `String` and `ledger verify` order them),
    // whatever the database's collation: uppercase before lowercase, ASCII before the rest.
    let controls = ["é:1", "a:2", "Z:3", "a:10", "_:4", "ä:5", "A:6", "z:7"];
    index
        .insert(&[row(7, "scan", "s", &controls, 70)])
        .await
        .unwrap();
    let mut want: Vec<String> = controls.iter().map(|c| (*c).to_owned()).collect();
    want.sort();
    let got = index
        .query(&Query {
            from_seq: Some(7),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(got[0].controls, want);
    assert_eq!(index.summaries(7, 8).await.unwrap()[0].controls, want);
}

async fn case_pagination(index: &AnyIndex) {
    let rows: Vec<IndexRow> = (0..25)
        .map(|i| {
            let kind = if i % 2 == 0 { "scan" } else { "approval" };
            row(
                i,
                kind,
                "git:pages",
                &["soc2:CC8.1"],
                1_000 + i.cast_signed(),
            )
        })
        .collect();
    index.insert(&rows).await.unwrap();
    let limit = |n: u64, newest_first: bool| Query {
        limit: Some(n),
        newest_first,
        ..Query::default()
    };
    assert_eq!(query(index, limit(3, false)).await, [0, 1, 2]);
    assert_eq!(query(index, limit(3, true)).await, [24, 23, 22]);
    assert_eq!(query(index, limit(0, false)).await, Vec::<u64>::new());
    assert_eq!(query(index, limit(100, false)).await.len(), 25);
    assert_eq!(query(index, limit(u64::MAX, true)).await.len(), 25);
    // Forward pages: from the last seen sequence number on.
    let mut pages = Vec::new();
    let mut next = 0;
    loop {
        let page = query(
            index,
            Query {
                from_seq: Some(next),
                limit: Some(10),
                ..Query::default()
            },
        )
        .await;
        let Some(last) = page.last() else { break };
        next = last + 1;
        pages.push(page);
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.concat(), (0..25).collect::<Vec<_>>());
    // Backward pages, newest first, under a checkpoint's size, with a filter.
    let mut below = 20;
    let mut seen = Vec::new();
    loop {
        let page = query(
            index,
            Query {
                kind: Some("scan".into()),
                below: Some(below),
                limit: Some(4),
                newest_first: true,
                ..Query::default()
            },
        )
        .await;
        let Some(&last) = page.last() else { break };
        below = last;
        seen.extend(page);
    }
    assert_eq!(seen, [18, 16, 14, 12, 10, 8, 6, 4, 2, 0]);
}

async fn case_truncate(index: &AnyIndex) {
    index.insert(&sample()).await.unwrap();
    index.truncate(10).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 5, "beyond the end: nothing");
    index.truncate(2).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 2);
    assert_eq!(query(index, Query::default()).await, [0, 1]);
    // The truncated rows' controls went with them.
    let iso = Query {
        control: Some("iso27001:A.8.4".into()),
        ..Query::default()
    };
    assert_eq!(query(index, iso.clone()).await, Vec::<u64>::new());
    assert_eq!(index.summaries(0, 10).await.unwrap().len(), 2);
    // Entries written again after a truncation carry only their new controls.
    index
        .insert(&[row(2, "scan", "git:cc", &["soc2:CC7.2"], 150)])
        .await
        .unwrap();
    assert_eq!(query(index, iso).await, Vec::<u64>::new());
    let again = index
        .query(&Query {
            from_seq: Some(2),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(again, [row(2, "scan", "git:cc", &["soc2:CC7.2"], 150)]);
    index.truncate(0).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 0);
    assert!(index.summaries(0, 10).await.unwrap().is_empty());
}

async fn case_replace(index: &AnyIndex) {
    index.insert(&sample()).await.unwrap();
    // Inserting an entry again replaces its row, controls and all.
    index
        .insert(&[row(1, "exception", "git:zz", &["new:1"], 999)])
        .await
        .unwrap();
    assert_eq!(index.count().await.unwrap(), 5);
    let one = index
        .query(&Query {
            from_seq: Some(1),
            below: Some(2),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(one, [row(1, "exception", "git:zz", &["new:1"], 999)]);
    let cc81 = Query {
        control: Some("soc2:CC8.1".into()),
        ..Query::default()
    };
    assert_eq!(query(index, cc81).await, [0, 4]);
    // The same entry twice in one call: the last one wins.
    index
        .insert(&[
            row(9, "scan", "first", &["x:1"], 1),
            row(8, "scan", "other", &[], 1),
            row(9, "scan", "second", &["x:2"], 2),
        ])
        .await
        .unwrap();
    let nine = index
        .query(&Query {
            from_seq: Some(9),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(nine, [row(9, "scan", "second", &["x:2"], 2)]);
    // A control named twice by one entry is kept once.
    index
        .insert(&[row(10, "scan", "dup", &["d:1", "d:1", "d:0"], 3)])
        .await
        .unwrap();
    let ten = index
        .query(&Query {
            from_seq: Some(10),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(ten[0].controls, ["d:0", "d:1"]);
}

async fn case_summaries(index: &AnyIndex) {
    let rows = sample();
    index.insert(&rows).await.unwrap();
    let summary = |r: &IndexRow| {
        let r = stored(r.clone());
        Summary {
            seq: r.seq,
            kind: r.kind,
            subject: r.subject,
            leaf_hash: r.leaf_hash,
            controls: r.controls,
        }
    };
    let all: Vec<Summary> = rows.iter().map(summary).collect();
    assert_eq!(index.summaries(0, 5).await.unwrap(), all);
    assert_eq!(index.summaries(0, u64::MAX).await.unwrap(), all);
    assert_eq!(index.summaries(1, 4).await.unwrap(), all[1..4]);
    assert_eq!(index.summaries(3, 4).await.unwrap()[0].controls.len(), 0);
    assert!(index.summaries(2, 2).await.unwrap().is_empty());
    assert!(index.summaries(5, 100).await.unwrap().is_empty());
}

async fn case_unicode(index: &AnyIndex) {
    let subjects = [
        "git:ümlaut/ß",
        "image:registry.example/中文/镜像@sha256:00",
        "file:🚀/emoji 👩‍💻.txt",
        "pkg:עברית/العربية",
        "caf\u{e9}",   // precomposed é
        "cafe\u{301}", // e and a combining acute: another subject
        "quote'\"\\;--",
    ];
    let rows: Vec<IndexRow> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = row(i as u64, "attestation", s, &["ctl:ünïcödé", "ctl:ascii"], 0);
            r.actor = format!("актёр {i} 🙂");
            r
        })
        .collect();
    index.insert(&rows).await.unwrap();
    for (i, subject) in subjects.iter().enumerate() {
        let got = index
            .query(&Query {
                subject: Some((*subject).to_owned()),
                ..Query::default()
            })
            .await
            .unwrap();
        assert_eq!(got, [stored(rows[i].clone())], "{subject}");
    }
    let q = Query {
        control: Some("ctl:ünïcödé".into()),
        ..Query::default()
    };
    assert_eq!(query(index, q).await.len(), subjects.len());
    let summaries = index.summaries(0, 100).await.unwrap();
    assert_eq!(summaries[2].subject, subjects[2]);
}

async fn case_extremes(index: &AnyIndex) {
    let big = i64::MAX as u64 - 1;
    index
        .insert(&[
            row(0, "scan", "s", &[], -86_400),
            row(1 << 40, "scan", "s", &[], i64::MAX - 2_000),
            row(big, "scan", "s", &["c"], 0),
        ])
        .await
        .unwrap();
    assert_eq!(query(index, Query::default()).await, [0, 1 << 40, big]);
    let before_1970 = Query {
        to: Some(0),
        ..Query::default()
    };
    assert_eq!(query(index, before_1970).await, [0]);
    let late = Query {
        from: Some(i64::MAX - 2_000),
        ..Query::default()
    };
    assert_eq!(query(index, late).await, [1 << 40]);
    assert_eq!(index.summaries(big, u64::MAX).await.unwrap().len(), 1);
    index.truncate(1 << 40).await.unwrap();
    assert_eq!(index.count().await.unwrap(), 1);
}

/// One insert of more rows and controls than one statement can bind (PostgreSQL: 65,535
/// parameters; here 80,000 for the rows and 80,000 for the controls).
async fn case_many_rows(index: &AnyIndex) {
    const N: u64 = 10_000;
    let rows: Vec<IndexRow> = (0..N)
        .map(|i| {
            row(
                i,
                if i % 10 == 0 { "approval" } else { "scan" },
                &format!("git:{i:040x}"),
                &["soc2:CC8.1", "soc2:CC6.1", "iso27001:A.8.4", "ctl:many"],
                i.cast_signed(),
            )
        })
        .collect();
    let started = Instant::now();
    index.insert(&rows).await.unwrap();
    let took = started.elapsed();
    let _ = writeln!(
        std::io::stderr(),
        "{}: inserted {N} rows with 4 controls each in one call in {:.0} ms",
        index.backend(),
        took.as_secs_f64() * 1e3
    );
    assert_eq!(index.count().await.unwrap(), N);
    let q = Query {
        kind: Some("approval".into()),
        ..Query::default()
    };
    assert_eq!(query(index, q).await.len(), (N / 10) as usize);
    let q = Query {
        control: Some("ctl:many".into()),
        newest_first: true,
        limit: Some(2),
        ..Query::default()
    };
    assert_eq!(query(index, q).await, [N - 1, N - 2]);
    let summaries = index.summaries(0, N).await.unwrap();
    assert_eq!(summaries.len(), N as usize);
    assert!(summaries.iter().all(|s| s.controls.len() == 4));
    assert_eq!(summaries[1234], {
        let r = stored(rows[1234].clone());
        Summary {
            seq: r.seq,
            kind: r.kind,
            subject: r.subject,
            leaf_hash: r.leaf_hash,
            controls: r.controls,
        }
    });
    // Replacing them all in one call (every row deleted and written again) keeps the count.
    index.insert(&rows).await.unwrap();
    assert_eq!(index.count().await.unwrap(), N);
    index.truncate(N / 2).await.unwrap();
    assert_eq!(index.count().await.unwrap(), N / 2);
}

/// Opening the same database again finds the schema and the rows there, twice at once too.
async fn case_reopen(target: &Target) {
    let first = target.open().await;
    first.truncate(0).await.unwrap();
    first.insert(&sample()).await.unwrap();
    first.close().await;
    let (a, b) = {
        let (ta, tb) = (target.clone(), target.clone());
        let a = tokio::spawn(async move { ta.open().await });
        let b = tokio::spawn(async move { tb.open().await });
        (a.await.unwrap(), b.await.unwrap())
    };
    assert_eq!(a.count().await.unwrap(), 5);
    assert_eq!(b.count().await.unwrap(), 5);
    assert_eq!(
        a.query(&Query::default()).await.unwrap(),
        sample().into_iter().map(stored).collect::<Vec<_>>()
    );
    a.close().await;
    b.close().await;
}

#[test]
fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::Sqlite(dir.path().join("index.sqlite"));
    runtime().block_on(suite(&target));
}

/// The PostgreSQL database to test against, or `None` when skipping was asked for.
fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("EVIDENT_TEST_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Some(url);
    }
    if std::env::var("EVIDENT_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
        // Straight to stderr, past the test harness's capture: a skip must be visible.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the PostgreSQL index tests (EVIDENT_TEST_SKIP_POSTGRES=1)"
        );
        return None;
    }
    panic!(
        "EVIDENT_TEST_DATABASE_URL is not set, so the PostgreSQL index cannot be tested: run \
         `bash scripts/test.sh` (it starts PostgreSQL and sets it), or set it yourself, e.g. \
         EVIDENT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test; \
         EVIDENT_TEST_SKIP_POSTGRES=1 skips these tests explicitly"
    );
}

/// A schema name no other run uses.
fn random_schema(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    format!("{prefix}_{}", hex::encode(bytes))
}

#[test]
fn postgres() {
    let Some(url) = postgres_url() else { return };
    let schema = random_schema("evident_test_index");
    let target = Target::Postgres {
        url: url.clone(),
        schema: schema.clone(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| runtime().block_on(suite(&target))));
    // Drop the schema whatever happened.
    runtime().block_on(async {
        let index = PgIndex::connect(&url, Some(&schema)).await.unwrap();
        index.drop_schema().await.unwrap();
    });
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

#[test]
fn postgres_url_forms() {
    let Some(url) = postgres_url() else { return };
    let schema = random_schema("evident_test_url");
    let with_schema = format!(
        "{url}{}schema={schema}",
        if url.contains('?') { '&' } else { '?' }
    );
    runtime().block_on(async {
        // `schema=` in the URL picks the schema, as `evident --database-url` does.
        let index = AnyIndex::open(std::path::Path::new("/nonexistent"), Some(&with_schema))
            .await
            .unwrap();
        assert_eq!(index.backend(), "postgres");
        index.insert(&sample()).await.unwrap();
        let direct = PgIndex::connect(&url, Some(&schema)).await.unwrap();
        assert_eq!(direct.schema(), schema);
        assert_eq!(direct.count().await.unwrap(), 5);
        index.close().await;
        direct.drop_schema().await.unwrap();
        // A name that would need quoting is refused before anything is sent.
        let err = PgIndex::connect(&url, Some("Bad-Name")).await.unwrap_err();
        assert!(err.to_string().contains("schema name"), "{err}");
        // Neither SQLite URLs nor other databases are taken for PostgreSQL, and the URL (which
        // may hold a password) is not repeated.
        let err = AnyIndex::open(
            std::path::Path::new("/nonexistent"),
            Some("mysql://root:hunter2@db/x"), // evident:allow synthetic URL, checked not to be repeated
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("unsupported database URL"),
            "{err}"
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
    });
}

#[test]
fn an_unreachable_server_fails_at_once() {
    // Needs no server: nothing listens on port 1.
    let started = Instant::now();
    let err = runtime()
        .block_on(PgIndex::connect(
            "postgres://postgres:secret@127.0.0.1:1/test",
            None,
        ))
        .unwrap_err()
        .to_string();
    assert!(started.elapsed().as_secs() < 5, "{err}");
    assert!(!err.contains("timed out"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}
