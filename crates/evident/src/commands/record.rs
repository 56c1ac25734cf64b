//! `evident record` and `evident evidence list|show|delete`.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use evident_ledger::record::EvidenceKind;
use evident_ledger::statement::{Statement, predicate_type};
pub use evident_store::draft::Draft;
use evident_store::index::{IndexRow, Query};
use evident_store::{NewEvidence, Store, timefmt};
use serde_json::json;

use super::context;
use crate::cli::{EvidenceCommand, EvidenceFilter, ListFormat, RecordArgs};
use crate::{Failure, Outcome};

/// The predicate type evident uses for a kind recorded by hand.
pub fn predicate_type_for(kind: EvidenceKind) -> String {
    match kind {
        EvidenceKind::Approval => predicate_type::EVIDENT_APPROVAL_V1.to_owned(),
        EvidenceKind::Deployment => predicate_type::EVIDENT_DEPLOYMENT_V1.to_owned(),
        EvidenceKind::Rollback => predicate_type::EVIDENT_ROLLBACK_V1.to_owned(),
        EvidenceKind::Exception => predicate_type::EVIDENT_EXCEPTION_V1.to_owned(),
        EvidenceKind::BreakGlass => predicate_type::EVIDENT_BREAK_GLASS_V1.to_owned(),
        EvidenceKind::Drift => predicate_type::EVIDENT_DRIFT_V1.to_owned(),
        EvidenceKind::Event => predicate_type::EVIDENT_EVENT_V1.to_owned(),
        EvidenceKind::Scan => predicate_type::EVIDENT_SCAN_SUMMARY_V1.to_owned(),
        other => format!("https://evident.dev/attestations/{other}/v1"),
    }
}

fn guess_media_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "sarif" => "application/sarif+json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "txt" | "log" | "md" => "text/plain",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Appends one piece of evidence and returns its entry number.
pub fn append(
    store_opt: Option<&Path>,
    key_args: &crate::cli::KeyArgs,
    evidence: NewEvidence,
) -> Result<(u64, u64), Failure> {
    let store = context::open_store(store_opt)?;
    let key = context::signing_key(store.root(), key_args)?;
    let mut writer = store.writer(&key)?;
    let seqs = writer.append(vec![evidence])?;
    Ok((seqs[0], writer.size()))
}

pub fn record(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &RecordArgs,
) -> Result<Outcome, Failure> {
    let config = context::project_config(config_path)?;
    let kind: EvidenceKind = args
        .kind
        .parse()
        .map_err(|e: String| anyhow!("--kind: {e}"))?;
    if kind == EvidenceKind::Deletion {
        fail!("--kind deletion is recorded by `evident evidence delete`, not by hand");
    }
    let subject = context::subject_or_head(args.subject.as_deref())?;
    let controls = args
        .controls
        .iter()
        .map(|c| context::parse_control(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut labels = BTreeMap::new();
    for label in &args.labels {
        let (k, v) = label
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| {
                anyhow!("--label `{label}`: expected KEY=VALUE, e.g. environment=prod")
            })?;
        labels.insert(k.trim().to_owned(), v.to_owned());
    }
    let now = context::now();
    let retain_until = context::retain_until(args.retain_until.as_deref(), &config, now)?;
    let mut content = Vec::new();
    if let Some(file) = &args.file {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let media_type = args
            .media_type
            .clone()
            .unwrap_or_else(|| guess_media_type(&name).to_owned());
        content.push((evident_store::draft::blob(&media_type, Some(&name)), bytes));
    } else if args.stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        let media_type = args
            .media_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        content.push((evident_store::draft::blob(&media_type, None), bytes));
    }
    let mut predicate = serde_json::Map::new();
    for (k, v) in [("reason", &args.reason), ("ticket", &args.ticket)] {
        if let Some(v) = v {
            predicate.insert(k.into(), json!(v));
        }
    }
    for (k, v) in &labels {
        predicate.entry(k.clone()).or_insert_with(|| json!(v));
    }
    let draft = Draft {
        kind,
        subject: subject.clone(),
        controls,
        actor: context::actor(args.actor.as_deref()),
        now,
        retain_until,
        labels,
        predicate_type: predicate_type_for(kind),
        predicate,
        content,
    };
    let (seq, size) = append(store_opt, &args.key, draft.build()?)?;
    match args.format {
        ListFormat::Human => eprintln!(
            "recorded entry {seq} ({kind} about {subject}); the log now has {size} entries"
        ),
        ListFormat::Json => super::print(&format!(
            "{}\n",
            json!({ "entry": seq, "kind": kind.as_str(), "subject": subject, "log_size": size })
        ))?,
    }
    Ok(Outcome::Clean)
}

/// Builds an index query from the command-line filter.
pub fn query(filter: &EvidenceFilter) -> Result<Query, Failure> {
    Ok(Query {
        control: filter
            .control
            .as_deref()
            .map(context::parse_control)
            .transpose()?,
        subject: filter
            .subject
            .as_deref()
            .map(context::parse_subject)
            .transpose()?,
        kind: filter
            .kind
            .as_deref()
            .map(|k| {
                k.parse::<EvidenceKind>()
                    .map(|k| k.as_str().to_owned())
                    .map_err(|e| anyhow!("--kind: {e}"))
            })
            .transpose()?,
        predicate_type: filter.predicate_type.clone(),
        from: filter
            .from
            .as_deref()
            .map(|t| context::parse_bound(t, false).map(jiff::Timestamp::as_second))
            .transpose()?,
        to: filter
            .to
            .as_deref()
            .map(|t| context::parse_bound(t, true).map(jiff::Timestamp::as_second))
            .transpose()?,
        from_seq: None,
        below: None,
        limit: None,
        newest_first: false,
    })
}

pub fn evidence(store_opt: Option<&Path>, command: &EvidenceCommand) -> Result<Outcome, Failure> {
    match command {
        EvidenceCommand::List {
            filter,
            limit,
            format,
        } => {
            let store = context::open_existing_store(store_opt)?;
            let mut q = query(filter)?;
            if limit.is_some() {
                q.limit = *limit;
                q.newest_first = true;
            }
            // Only what a checkpoint covers is in the log.
            q.below = Some(log_size(&store).unwrap_or(0));
            let mut rows = store.query(&q)?;
            rows.sort_by_key(|r| r.seq);
            list(&rows, *format)
        }
        EvidenceCommand::Show {
            entry,
            content,
            format,
        } => show(store_opt, *entry, *content, *format),
        EvidenceCommand::Delete { entry, reason, key } => delete(store_opt, *entry, reason, key),
    }
}

fn list(rows: &[IndexRow], format: ListFormat) -> Result<Outcome, Failure> {
    let text = match format {
        ListFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows.iter().map(IndexRow::to_json).collect::<Vec<_>>())?
        ),
        ListFormat::Human => {
            let mut out = String::new();
            if rows.is_empty() {
                out.push_str("no evidence matches\n");
            }
            for r in rows {
                let subject = if r.subject.len() > 20 {
                    format!("{}…", &r.subject[..20])
                } else {
                    r.subject.clone()
                };
                out.push_str(&format!(
                    "{:>6}  {}  {:<13} {:<22} {:<16} {}\n",
                    r.seq,
                    timefmt::seconds_text(r.recorded_at),
                    r.kind,
                    subject,
                    r.actor,
                    r.controls.join(", ")
                ));
            }
            out
        }
    };
    super::print(&text)?;
    Ok(Outcome::Clean)
}

fn log_size(store: &Store) -> Result<u64, Failure> {
    Ok(store
        .checkpoint_unverified()?
        .ok_or_else(|| anyhow!("the ledger is empty"))?
        .size)
}

fn show(
    store_opt: Option<&Path>,
    seq: u64,
    content: bool,
    format: ListFormat,
) -> Result<Outcome, Failure> {
    let store = context::open_existing_store(store_opt)?;
    let size = log_size(&store)?;
    let (bytes, entry) = store.entry(seq, size)?;
    if content {
        let blob = entry
            .record
            .blobs
            .first()
            .ok_or_else(|| anyhow!("entry {seq} has no attached content"))?;
        let data = evident_store::blob::BlobStore::get(store.blobs(), &blob.sha256)?;
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(&mut out, &data)?;
        std::io::Write::flush(&mut out)?;
        return Ok(Outcome::Clean);
    }
    let statement = Statement::from_payload(&entry.envelope.payload)
        .map_err(|e| anyhow!("entry {seq}: {e}"))?;
    let leaf = hex::encode(evident_ledger::merkle::leaf_hash(&bytes));
    let doc = json!({
        "entry": seq,
        "leaf_hash": leaf,
        "record": entry.record,
        "statement": statement,
        "signatures": entry.envelope.signatures.iter().map(|s| s.keyid.clone()).collect::<Vec<_>>(),
    });
    let text = match format {
        ListFormat::Json => format!("{}\n", serde_json::to_string_pretty(&doc)?),
        ListFormat::Human => {
            let r = &entry.record;
            let mut out = format!(
                "entry {seq}\n  kind          {}\n  subject       {}\n  controls      {}\n  actor         {}\n  recorded at   {}\n  retain until  {}\n  predicate     {}\n  leaf hash     {leaf}\n",
                r.kind,
                r.subject,
                r.controls.join(", "),
                r.actor,
                r.recorded_at,
                r.retain_until,
                r.predicate_type
            );
            for b in &r.blobs {
                out.push_str(&format!(
                    "  content       sha256:{} ({} bytes, {}{})\n",
                    b.sha256,
                    b.size,
                    b.media_type,
                    b.name
                        .as_deref()
                        .map(|n| format!(", {n}"))
                        .unwrap_or_default()
                ));
            }
            out.push_str(&format!(
                "  statement\n{}\n",
                serde_json::to_string_pretty(&statement.predicate)?
                    .lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
            out
        }
    };
    super::print(&text)?;
    Ok(Outcome::Clean)
}

fn delete(
    store_opt: Option<&Path>,
    seq: u64,
    reason: &str,
    key_args: &crate::cli::KeyArgs,
) -> Result<Outcome, Failure> {
    let store = context::open_existing_store(store_opt)?;
    let size = log_size(&store)?;
    let (_, entry) = store.entry(seq, size)?;
    let now = context::now();
    let retain = timefmt::parse(&entry.record.retain_until).map_err(|e| anyhow!(e))?;
    if now < retain {
        fail!(
            "entry {seq} must be kept until {} (its retention period); deleting it earlier is refused",
            entry.record.retain_until
        );
    }
    if entry.record.blobs.is_empty() {
        fail!("entry {seq} has no content to delete (its record stays in the log for good)");
    }
    // Content shared with an entry still under retention stays.
    let digests: Vec<String> = entry
        .record
        .blobs
        .iter()
        .map(|b| b.sha256.clone())
        .collect();
    // Every entry sharing the content is named in the one deletion record; all must be past
    // their retention period.
    let mut sharing = vec![seq];
    for other in 0..size {
        if other == seq {
            continue;
        }
        let (_, e) = store.entry(other, size)?;
        if !e.record.blobs.iter().any(|b| digests.contains(&b.sha256)) {
            continue;
        }
        let keep = timefmt::parse(&e.record.retain_until).map_err(|e| anyhow!(e))?;
        if keep > now {
            fail!(
                "the content of entry {seq} is also the content of entry {other}, which must be kept until {}",
                e.record.retain_until
            );
        }
        sharing.push(other);
    }
    let mut predicate = serde_json::Map::new();
    predicate.insert("entries".into(), json!(sharing));
    predicate.insert("blobs".into(), json!(digests));
    predicate.insert("reason".into(), json!(reason));
    let draft = Draft {
        kind: EvidenceKind::Deletion,
        subject: entry.record.subject.clone(),
        controls: entry.record.controls.clone(),
        actor: context::actor(None),
        now,
        retain_until: context::retain_until(None, &context::project_config(None)?, now)?,
        labels: BTreeMap::new(),
        predicate_type: predicate_type_for(EvidenceKind::Deletion),
        predicate,
        content: Vec::new(),
    };
    drop(store);
    let (deletion, _) = append(store_opt, key_args, draft.build()?)?;
    let store = context::open_existing_store(store_opt)?;
    for digest in &digests {
        evident_store::blob::BlobStore::remove(store.blobs(), digest)?;
    }
    eprintln!("deleted the content of entry {seq}; the deletion is entry {deletion}");
    Ok(Outcome::Clean)
}
