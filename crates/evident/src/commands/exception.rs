//! `evident exception add|list|show|revoke`: risk acceptance, recorded in the ledger.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::anyhow;
use evident_core::Config;
use evident_gate::exception::{Exception, ExceptionAction, Grant, ReasonCode, Scope, Status};
use evident_ledger::record::EvidenceKind;
use evident_ledger::statement::predicate_type;
use jiff::Timestamp;
use serde_json::json;

use super::context;
use super::gate::read_exceptions;
use super::verified::VerifiedLog;
use crate::cli::{ExceptionAddArgs, ExceptionCommand, ListFormat, VkeyArgs};
use crate::{Failure, Outcome};

/// Exceptions support change management and risk treatment.
const CONTROLS: [&str; 2] = ["iso27001:A.8.32", "soc2:CC8.1"];

pub fn run(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    command: &ExceptionCommand,
) -> Result<Outcome, Failure> {
    let (config, _) = super::gate::gate_config(config_path)?;
    match command {
        ExceptionCommand::Add(args) => add(store_opt, &config, args),
        ExceptionCommand::List { all, format, vkey } => {
            list(store_opt, &config, *all, *format, vkey)
        }
        ExceptionCommand::Show { id, format, vkey } => show(store_opt, &config, *id, *format, vkey),
        ExceptionCommand::Revoke {
            id,
            reason,
            actor,
            key,
            vkey,
        } => revoke(store_opt, &config, *id, reason, actor.as_deref(), key, vkey),
    }
}

/// The subject of an exception's records: the digest of its scope, so the grant and its
/// revocation are about the same thing.
fn scope_subject(scope: &Scope) -> Result<String, Failure> {
    let bytes = serde_json::to_vec(scope)?;
    Ok(format!("sha256:{}", evident_core::sha256_hex(&bytes)))
}

fn add(
    store_opt: Option<&Path>,
    config: &Config,
    args: &ExceptionAddArgs,
) -> Result<Outcome, Failure> {
    let reason_code: ReasonCode = args.reason.parse().map_err(|e| anyhow!("--reason: {e}"))?;
    for env in &args.environments {
        if !config.environments.contains_key(env) {
            fail!(
                "--env {env}: not an environment in {} (defined: {})",
                config.source.origin,
                config.environment_names()
            );
        }
    }
    let now = context::now();
    let expires = context::parse_bound(&args.expires, true)?;
    let mut environments = args.environments.clone();
    environments.sort();
    environments.dedup();
    let grant = Grant {
        scope: Scope {
            check: args.check.trim().to_owned(),
            path: args.path.clone(),
            fingerprint: args.fingerprint.clone(),
            resource: args.resource.clone(),
            environments,
        },
        reason_code,
        reason: args.comment.clone(),
        owner: args.owner.trim().to_owned(),
        approver: args.approver.trim().to_owned(),
        requester: context::actor(args.actor.as_deref()),
        ticket: args.ticket.clone(),
        expires: evident_store::timefmt::format(expires),
    };
    grant.validate(config, now).map_err(|e| anyhow!(e))?;
    let subject = scope_subject(&grant.scope)?;
    let serde_json::Value::Object(predicate) =
        serde_json::to_value(ExceptionAction::Grant(grant.clone()))?
    else {
        fail!("internal: the exception predicate is not an object");
    };
    let mut labels = BTreeMap::from([
        ("check".to_owned(), grant.scope.check.clone()),
        ("reason_code".to_owned(), reason_code.as_str().to_owned()),
    ]);
    if let Some(t) = &grant.ticket {
        labels.insert("ticket".into(), t.clone());
    }
    let draft = super::record::Draft {
        kind: EvidenceKind::Exception,
        subject,
        controls: CONTROLS.iter().map(|c| (*c).to_owned()).collect(),
        actor: grant.requester.clone(),
        now,
        retain_until: context::retain_until(None, config, now)?,
        labels,
        predicate_type: predicate_type::EVIDENT_EXCEPTION_V1.to_owned(),
        predicate,
        content: Vec::new(),
    };
    let (seq, _) = super::record::append(store_opt, &args.key, draft.build()?)?;
    match args.format {
        ListFormat::Human => eprintln!(
            "granted exception {seq} for {} until {} (owner {}, approved by {}); revoke it with `evident exception revoke {seq} --reason …`",
            grant.scope.check, grant.expires, grant.owner, grant.approver
        ),
        ListFormat::Json => super::print(&format!(
            "{}\n",
            json!({ "id": seq, "check": grant.scope.check, "expires": grant.expires })
        ))?,
    }
    Ok(Outcome::Clean)
}

/// An exception's status: revoked, expired (by its own date or, in some environment, by the
/// longest exception allowed there), or active.
fn status(e: &Exception, config: &Config, now: Timestamp) -> Status {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let caps: Vec<Option<u32>> = config
        .environments
        .keys()
        .filter(|env| e.covers_environment(env))
        .map(|env| {
            evident_gate::policy::EnvPolicy::resolve(config, env, today)
                .ok()
                .map(|p| p.exception_max_days.value)
        })
        .collect();
    if caps.is_empty() {
        return e.status(now, None);
    }
    // Active if it is active in at least one environment it covers.
    let statuses: Vec<Status> = caps.iter().map(|c| e.status(now, *c)).collect();
    if statuses.contains(&Status::Active) {
        Status::Active
    } else {
        statuses[0]
    }
}

fn to_json(e: &Exception, status: Status) -> serde_json::Value {
    json!({
        "id": e.id,
        "status": status.as_str(),
        "scope": e.grant.scope,
        "reason_code": e.grant.reason_code.as_str(),
        "reason": e.grant.reason,
        "owner": e.grant.owner,
        "approver": e.grant.approver,
        "requester": e.grant.requester,
        "ticket": e.grant.ticket,
        "granted_at": evident_store::timefmt::format(e.granted_at),
        "expires": e.grant.expires,
        "revoked": e.revoked.as_ref().map(|(entry, reason)| json!({ "entry": entry, "reason": reason })),
    })
}

fn describe_scope(s: &Scope) -> String {
    let mut parts = vec![s.check.clone()];
    if let Some(p) = &s.path {
        parts.push(format!("path {p}"));
    }
    if let Some(f) = &s.fingerprint {
        parts.push(format!("fingerprint {f}"));
    }
    if let Some(r) = &s.resource {
        parts.push(format!("resource {r}"));
    }
    parts.push(if s.environments.is_empty() {
        "all environments".to_owned()
    } else {
        format!("env {}", s.environments.join(","))
    });
    parts.join(" · ")
}

fn list(
    store_opt: Option<&Path>,
    config: &Config,
    all: bool,
    format: ListFormat,
    vkey: &VkeyArgs,
) -> Result<Outcome, Failure> {
    let log = VerifiedLog::open(store_opt, vkey, config)?;
    let (exceptions, notes) = read_exceptions(&log)?;
    let now = context::now();
    let shown: Vec<(&Exception, Status)> = exceptions
        .iter()
        .map(|e| (e, status(e, config, now)))
        .filter(|(_, s)| all || *s == Status::Active)
        .collect();
    match format {
        ListFormat::Json => {
            let list: Vec<_> = shown.iter().map(|(e, s)| to_json(e, *s)).collect();
            super::print(&format!("{}\n", serde_json::to_string_pretty(&list)?))?;
        }
        ListFormat::Human => {
            let mut out = String::new();
            if shown.is_empty() {
                out.push_str(if all {
                    "no exceptions recorded\n"
                } else {
                    "no active exceptions (--all lists expired and revoked ones)\n"
                });
            }
            for (e, s) in &shown {
                out.push_str(&format!(
                    "{:>5}  {:<8} {}  until {}  {} · owner {} · approved by {}{}\n",
                    e.id,
                    s.as_str(),
                    describe_scope(&e.grant.scope),
                    e.grant.expires,
                    e.grant.reason_code.as_str(),
                    e.grant.owner,
                    e.grant.approver,
                    e.grant
                        .ticket
                        .as_ref()
                        .map(|t| format!(" · {t}"))
                        .unwrap_or_default()
                ));
            }
            for n in notes {
                out.push_str(&format!("note: {n}\n"));
            }
            super::print(&out)?;
        }
    }
    Ok(Outcome::Clean)
}

fn find(
    store_opt: Option<&Path>,
    config: &Config,
    id: u64,
    vkey: &VkeyArgs,
) -> Result<Exception, Failure> {
    let log = VerifiedLog::open(store_opt, vkey, config)?;
    let (exceptions, _) = read_exceptions(&log)?;
    exceptions.into_iter().find(|e| e.id == id).ok_or_else(|| {
        anyhow!(
            "no exception {id}: `evident exception list --all` shows every exception and its id"
        )
        .into()
    })
}

fn show(
    store_opt: Option<&Path>,
    config: &Config,
    id: u64,
    format: ListFormat,
    vkey: &VkeyArgs,
) -> Result<Outcome, Failure> {
    let e = find(store_opt, config, id, vkey)?;
    let s = status(&e, config, context::now());
    let text = match format {
        ListFormat::Json => format!("{}\n", serde_json::to_string_pretty(&to_json(&e, s))?),
        ListFormat::Human => {
            let g = &e.grant;
            let mut out = format!(
                "exception {}: {}\n  scope:     {}\n  reason:    {}{}\n  owner:     {}\n  approver:  {}\n  requester: {}\n  granted:   {}\n  expires:   {}\n",
                e.id,
                s.as_str(),
                describe_scope(&g.scope),
                g.reason_code.as_str(),
                g.reason
                    .as_ref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default(),
                g.owner,
                g.approver,
                g.requester,
                evident_store::timefmt::format(e.granted_at),
                g.expires
            );
            if let Some(t) = &g.ticket {
                out.push_str(&format!("  ticket:    {t}\n"));
            }
            if let Some((entry, reason)) = &e.revoked {
                out.push_str(&format!("  revoked:   entry {entry}: {reason}\n"));
            }
            out
        }
    };
    super::print(&text)?;
    Ok(Outcome::Clean)
}

fn revoke(
    store_opt: Option<&Path>,
    config: &Config,
    id: u64,
    reason: &str,
    actor: Option<&str>,
    key: &crate::cli::KeyArgs,
    vkey: &VkeyArgs,
) -> Result<Outcome, Failure> {
    let e = find(store_opt, config, id, vkey)?;
    if let Some((entry, _)) = &e.revoked {
        fail!("exception {id} was already revoked by entry {entry}");
    }
    if reason.trim().is_empty() {
        fail!("--reason: say why the exception is revoked");
    }
    let now = context::now();
    let serde_json::Value::Object(predicate) = serde_json::to_value(ExceptionAction::Revoke {
        exception: id,
        reason: reason.to_owned(),
    })?
    else {
        fail!("internal: the revocation predicate is not an object");
    };
    let draft = super::record::Draft {
        kind: EvidenceKind::Exception,
        subject: scope_subject(&e.grant.scope)?,
        controls: CONTROLS.iter().map(|c| (*c).to_owned()).collect(),
        actor: context::actor(actor),
        now,
        retain_until: context::retain_until(None, config, now)?,
        labels: BTreeMap::from([
            ("check".to_owned(), e.grant.scope.check.clone()),
            ("revokes".to_owned(), id.to_string()),
        ]),
        predicate_type: predicate_type::EVIDENT_EXCEPTION_V1.to_owned(),
        predicate,
        content: Vec::new(),
    };
    let (seq, _) = super::record::append(store_opt, key, draft.build()?)?;
    eprintln!("revoked exception {id} (entry {seq}); findings it covered block again");
    Ok(Outcome::Clean)
}
