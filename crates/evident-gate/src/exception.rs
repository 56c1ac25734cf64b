//! Exceptions (risk acceptance): a scoped, owned, approved and time-boxed waiver of a check.
//!
//! Exceptions live in the ledger as `exception` records: a grant, and later perhaps a
//! revocation naming the grant's entry. They are read back and resolved here.

use std::collections::BTreeMap;

use evident_core::Config;
use globset::{Glob, GlobMatcher};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::policy::EnvPolicy;

/// Why a risk is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCode {
    /// The finding is wrong.
    FalsePositive,
    /// The risk is known and accepted by its owner.
    RiskAccepted,
    /// Another control covers the risk.
    CompensatingControl,
    /// The check does not apply to this code or resource.
    NotApplicable,
    /// A fix is planned before the exception expires.
    RemediationPlanned,
}

impl ReasonCode {
    pub const ALL: &'static [&'static str] = &[
        "false-positive",
        "risk-accepted",
        "compensating-control",
        "not-applicable",
        "remediation-planned",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::FalsePositive => "false-positive",
            ReasonCode::RiskAccepted => "risk-accepted",
            ReasonCode::CompensatingControl => "compensating-control",
            ReasonCode::NotApplicable => "not-applicable",
            ReasonCode::RemediationPlanned => "remediation-planned",
        }
    }
}

impl std::str::FromStr for ReasonCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "false-positive" => Ok(Self::FalsePositive),
            "risk-accepted" => Ok(Self::RiskAccepted),
            "compensating-control" => Ok(Self::CompensatingControl),
            "not-applicable" => Ok(Self::NotApplicable),
            "remediation-planned" => Ok(Self::RemediationPlanned),
            other => Err(format!(
                "`{other}` is not a reason code; use one of: {}",
                Self::ALL.join(", ")
            )),
        }
    }
}

/// What an exception covers. Every part given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// The check id (or `policy:<package>` for a gate policy).
    pub check: String,
    /// A glob over the finding's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// One finding's fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A resource address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Environments it applies in (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
}

/// The predicate of an exception grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub scope: Scope,
    pub reason_code: ReasonCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The risk owner.
    pub owner: String,
    /// Who approved it (never the requester).
    pub approver: String,
    /// Who asked for it.
    pub requester: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// RFC 3339.
    pub expires: String,
}

/// The predicate of an exception record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
#[allow(clippy::large_enum_variant)] // read and written once per record
pub enum ExceptionAction {
    Grant(Grant),
    Revoke {
        /// The entry of the grant.
        exception: u64,
        reason: String,
    },
}

fn same_person(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    s.split_once('@')
        .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.') && !s.contains(' '))
}

impl Grant {
    /// Checks a new grant against the configuration: who, how long, where.
    pub fn validate(&self, config: &Config, now: Timestamp) -> Result<Timestamp, String> {
        if self.scope.check.trim().is_empty() {
            return Err("--check: name the check the exception is for".into());
        }
        for (flag, value) in [("--owner", &self.owner), ("--approver", &self.approver)] {
            if !looks_like_email(value) {
                return Err(format!("{flag} `{value}`: give an e-mail address"));
            }
        }
        if same_person(&self.approver, &self.requester) {
            return Err(format!(
                "the approver ({}) cannot be the requester: ask someone else to approve (requester is --actor or the CI user)",
                self.approver
            ));
        }
        if let Some(glob) = &self.scope.path {
            Glob::new(glob).map_err(|e| format!("--path `{glob}`: {e}"))?;
        }
        let expires: Timestamp = self
            .expires
            .parse()
            .map_err(|e| format!("--expires `{}`: {e}", self.expires))?;
        if expires <= now {
            return Err(format!(
                "--expires {}: that is not in the future",
                self.expires
            ));
        }
        let envs: Vec<&String> = if self.scope.environments.is_empty() {
            config.environments.keys().collect()
        } else {
            self.scope.environments.iter().collect()
        };
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        for env in envs {
            let policy = EnvPolicy::resolve(config, env, today).map_err(|e| e.to_string())?;
            let max = policy.exception_max_days.value;
            let limit = now
                .checked_add(jiff::SignedDuration::from_hours(i64::from(max) * 24))
                .map_err(|e| e.to_string())?;
            if expires > limit {
                return Err(format!(
                    "--expires {}: longer than {max} days, the longest exception allowed in `{env}` ({}); pick an earlier date{}",
                    self.expires,
                    policy.exception_max_days.because,
                    if self.scope.environments.is_empty() {
                        " or scope it with --env"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok(expires)
    }
}

/// An exception as the ledger tells it: its grant, and whether it was revoked.
#[derive(Debug, Clone)]
pub struct Exception {
    /// The entry of the grant: the exception's id.
    pub id: u64,
    pub grant: Grant,
    pub granted_at: Timestamp,
    pub expires: Timestamp,
    /// The entry and reason of the revocation.
    pub revoked: Option<(u64, String)>,
    path: Option<GlobMatcher>,
}

/// Where an exception stands at a time, in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Active,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

/// The finding facts an exception is matched on.
pub struct Target<'a> {
    pub check: &'a str,
    pub path: Option<&'a str>,
    pub fingerprint: Option<&'a str>,
    pub resource: Option<&'a str>,
}

impl Exception {
    /// Its status at `now` (the expiry is also capped by `max_days` after the grant).
    pub fn status(&self, now: Timestamp, max_days: Option<u32>) -> Status {
        if self.revoked.is_some() {
            return Status::Revoked;
        }
        if now >= self.effective_expiry(max_days) {
            return Status::Expired;
        }
        Status::Active
    }

    /// The expiry, capped by the environment's longest exception.
    pub fn effective_expiry(&self, max_days: Option<u32>) -> Timestamp {
        let cap = max_days.and_then(|d| {
            self.granted_at
                .checked_add(jiff::SignedDuration::from_hours(i64::from(d) * 24))
                .ok()
        });
        match cap {
            Some(cap) if cap < self.expires => cap,
            _ => self.expires,
        }
    }

    /// Does it apply in `env`?
    pub fn covers_environment(&self, env: &str) -> bool {
        self.grant.scope.environments.is_empty()
            || self.grant.scope.environments.iter().any(|e| e == env)
    }

    /// Does it cover this finding?
    pub fn matches(&self, t: &Target<'_>) -> bool {
        let s = &self.grant.scope;
        if s.check != t.check {
            return false;
        }
        if let Some(m) = &self.path
            && !t.path.is_some_and(|p| m.is_match(p))
        {
            return false;
        }
        if let Some(fp) = &s.fingerprint
            && t.fingerprint != Some(fp.as_str())
        {
            return false;
        }
        if let Some(r) = &s.resource
            && t.resource != Some(r.as_str())
        {
            return false;
        }
        true
    }
}

/// One exception record read back from the ledger.
pub struct ExceptionRecord {
    pub entry: u64,
    pub recorded_at: Timestamp,
    pub action: ExceptionAction,
}

/// Resolves grants and revocations into exceptions, oldest first. Revocations of unknown
/// grants are returned as notes.
pub fn resolve(records: Vec<ExceptionRecord>) -> (Vec<Exception>, Vec<String>) {
    let mut out: BTreeMap<u64, Exception> = BTreeMap::new();
    let mut notes = Vec::new();
    for r in records {
        match r.action {
            ExceptionAction::Grant(grant) => {
                let Ok(expires) = grant.expires.parse::<Timestamp>() else {
                    notes.push(format!(
                        "exception {}: its expiry `{}` is not a time; it never applies",
                        r.entry, grant.expires
                    ));
                    continue;
                };
                let path = match grant.scope.path.as_deref().map(Glob::new) {
                    Some(Ok(g)) => Some(g.compile_matcher()),
                    Some(Err(e)) => {
                        notes.push(format!(
                            "exception {}: its path glob does not compile ({e}); it never applies",
                            r.entry
                        ));
                        continue;
                    }
                    None => None,
                };
                out.insert(
                    r.entry,
                    Exception {
                        id: r.entry,
                        grant,
                        granted_at: r.recorded_at,
                        expires,
                        revoked: None,
                        path,
                    },
                );
            }
            ExceptionAction::Revoke { exception, reason } => match out.get_mut(&exception) {
                Some(e) => e.revoked = Some((r.entry, reason)),
                None => notes.push(format!(
                    "entry {} revokes exception {exception}, which is not an exception grant",
                    r.entry
                )),
            },
        }
    }
    (out.into_values().collect(), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn grant(check: &str, path: Option<&str>, expires: &str) -> Grant {
        Grant {
            scope: Scope {
                check: check.into(),
                path: path.map(str::to_owned),
                ..Scope::default()
            },
            reason_code: ReasonCode::FalsePositive,
            reason: None,
            owner: "owner@example.com".into(),
            approver: "sec@example.com".into(),
            requester: "dev@example.com".into(),
            ticket: None,
            expires: expires.into(),
        }
    }

    const CONFIG: &str = "[environments.prod]\nmode = \"block\"\nexception_max_days = 30\n";

    #[test]
    fn validation_refuses_self_approval_and_long_expiry() {
        let config = Config::parse("evident.toml", CONFIG).unwrap();
        let now = t("2026-11-23T00:00:00Z");
        let ok = grant(
            "aws-access-key-id",
            Some("tests/**"),
            "2026-12-01T00:00:00Z",
        );
        assert!(ok.validate(&config, now).is_ok());
        let mut own = ok.clone();
        own.approver = "DEV@example.com".into();
        assert!(
            own.validate(&config, now)
                .unwrap_err()
                .contains("cannot be the requester")
        );
        let long = grant("x", None, "2027-06-01T00:00:00Z");
        let err = long.validate(&config, now).unwrap_err();
        assert!(
            err.contains("30 days") && err.contains("evident.toml:3"),
            "{err}"
        );
        let past = grant("x", None, "2026-11-01T00:00:00Z");
        assert!(past.validate(&config, now).is_err());
    }

    #[test]
    fn resolution_expiry_and_matching() {
        let records = vec![
            ExceptionRecord {
                entry: 4,
                recorded_at: t("2026-11-01T00:00:00Z"),
                action: ExceptionAction::Grant(grant(
                    "aws-access-key-id",
                    Some("tests/**"),
                    "2026-12-01T00:00:00Z",
                )),
            },
            ExceptionRecord {
                entry: 5,
                recorded_at: t("2026-11-01T00:00:00Z"),
                action: ExceptionAction::Grant(grant("jwt", None, "2027-12-01T00:00:00Z")),
            },
            ExceptionRecord {
                entry: 9,
                recorded_at: t("2026-11-02T00:00:00Z"),
                action: ExceptionAction::Revoke {
                    exception: 5,
                    reason: "fixed".into(),
                },
            },
            ExceptionRecord {
                entry: 10,
                recorded_at: t("2026-11-02T00:00:00Z"),
                action: ExceptionAction::Revoke {
                    exception: 77,
                    reason: "?".into(),
                },
            },
        ];
        let (list, notes) = resolve(records);
        assert_eq!(list.len(), 2);
        assert_eq!(notes.len(), 1);
        let e = &list[0];
        assert_eq!(e.status(t("2026-11-20T00:00:00Z"), None), Status::Active);
        assert_eq!(e.status(t("2026-12-01T00:00:00Z"), None), Status::Expired);
        // A 10-day cap from the grant ends it earlier.
        assert_eq!(
            e.status(t("2026-11-12T00:00:00Z"), Some(10)),
            Status::Expired
        );
        assert_eq!(
            list[1].status(t("2026-11-20T00:00:00Z"), None),
            Status::Revoked
        );
        let hit = Target {
            check: "aws-access-key-id",
            path: Some("tests/fixtures/a.env"),
            fingerprint: None,
            resource: None,
        };
        assert!(e.matches(&hit));
        let miss = Target {
            path: Some("src/a.env"),
            ..hit
        };
        assert!(!e.matches(&miss));
    }

    #[test]
    fn predicates_round_trip() {
        let action = ExceptionAction::Grant(grant("x", None, "2026-12-01T00:00:00Z"));
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["action"], "grant");
        assert_eq!(json["reason_code"], "false-positive");
        let back: ExceptionAction = serde_json::from_value(json).unwrap();
        assert_eq!(back, action);
    }
}
