//! The effective policy of one environment: its `[environments.NAME]` table, tightened by the
//! `[[tighten]]` entries that match the project's tier and classification, with the
//! `[[rollout]]` entries that keep checks and policies in monitor mode.
//!
//! Every setting remembers the configuration line it came from, so a decision can say which
//! line made something block.

use evident_core::Config;
use evident_core::Severity;
use evident_core::environments::{GateMode, RolloutMode, parse_duration};
use jiff::SignedDuration;
use serde::Serialize;
use toml::Spanned;

use crate::GateError;

/// Where a setting comes from: a line of the configuration, or a built-in default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Because {
    /// The configuration file (empty for a built-in default).
    pub file: String,
    /// Its 1-based line (0 for a built-in default).
    pub line: usize,
    /// The setting, as `key = value`.
    pub setting: String,
}

impl std::fmt::Display for Because {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{} (built-in default)", self.setting)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.setting)
        }
    }
}

/// A value and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting<T> {
    pub value: T,
    pub because: Because,
}

/// A check or policy in monitor mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Monitor {
    /// `check:<id>` or `policy:<package>`.
    pub target: String,
    /// Enforced from this date on (none: until switched to `enforce`).
    pub until: Option<String>,
    pub because: Because,
}

/// What one environment demands.
#[derive(Debug, Clone, Serialize)]
pub struct EnvPolicy {
    pub name: String,
    pub mode: Setting<GateMode>,
    pub block_on: Setting<Severity>,
    /// Required evidence, each with the line that requires it.
    pub require: Vec<Setting<String>>,
    pub approvals: Setting<u32>,
    pub exception_max_days: Setting<u32>,
    /// Absent: break-glass is not allowed here.
    pub break_glass_max: Option<Setting<SignedDuration>>,
    pub break_glass_approvers: Vec<String>,
    /// Checks and policies in monitor mode today.
    pub monitors: Vec<Monitor>,
}

/// The default threshold when an environment names none.
pub const DEFAULT_BLOCK_ON: Severity = Severity::High;
/// The default longest exception, in days.
pub const DEFAULT_EXCEPTION_MAX_DAYS: u32 = 90;

struct Cite<'a> {
    config: &'a Config,
}

impl Cite<'_> {
    fn at<T>(&self, spanned: &Spanned<T>, setting: String) -> Because {
        Because {
            file: self.config.source.origin.clone(),
            line: self.config.source.line_of(spanned.span().start),
            setting,
        }
    }

    fn header(&self, header: &str, n: usize, setting: String) -> Because {
        Because {
            file: self.config.source.origin.clone(),
            line: self.config.source.header_line(header, n).unwrap_or(0),
            setting,
        }
    }

    fn default(setting: String) -> Because {
        Because {
            file: String::new(),
            line: 0,
            setting,
        }
    }
}

fn quoted_list(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", items.join(", "))
}

impl EnvPolicy {
    /// Resolves environment `name` as of `today` (UTC date, for rollouts with `until`).
    pub fn resolve(
        config: &Config,
        name: &str,
        today: jiff::civil::Date,
    ) -> Result<Self, GateError> {
        let Some(env) = config.environments.get(name) else {
            return Err(GateError::UnknownEnvironment {
                name: name.to_owned(),
                defined: config.environment_names(),
                file: if config.source.origin.is_empty() {
                    "evident.toml".to_owned()
                } else {
                    config.source.origin.clone()
                },
            });
        };
        let cite = Cite { config };
        let key = |k: &str| format!("environments.{name}.{k}");
        let mode = Setting {
            value: *env.mode.get_ref(),
            because: cite.at(
                &env.mode,
                format!("{} = \"{}\"", key("mode"), env.mode.get_ref().as_str()),
            ),
        };
        let block_on = match &env.block_on {
            Some(s) => Setting {
                value: *s.get_ref(),
                because: cite.at(s, format!("{} = \"{}\"", key("block_on"), s.get_ref())),
            },
            None => Setting {
                value: DEFAULT_BLOCK_ON,
                because: Cite::default(format!("{} = \"{DEFAULT_BLOCK_ON}\"", key("block_on"))),
            },
        };
        let mut require = Vec::new();
        if let Some(list) = &env.require {
            let because = cite.at(
                list,
                format!("{} = {}", key("require"), quoted_list(list.get_ref())),
            );
            for item in list.get_ref() {
                require.push(Setting {
                    value: item.clone(),
                    because: because.clone(),
                });
            }
        }
        let approvals = match &env.approvals {
            Some(s) => Setting {
                value: *s.get_ref(),
                because: cite.at(s, format!("{} = {}", key("approvals"), s.get_ref())),
            },
            None => Setting {
                value: 0,
                because: Cite::default(format!("{} = 0", key("approvals"))),
            },
        };
        let exception_max_days = match &env.exception_max_days {
            Some(s) => Setting {
                value: *s.get_ref(),
                because: cite.at(
                    s,
                    format!("{} = {}", key("exception_max_days"), s.get_ref()),
                ),
            },
            None => Setting {
                value: DEFAULT_EXCEPTION_MAX_DAYS,
                because: Cite::default(format!(
                    "{} = {DEFAULT_EXCEPTION_MAX_DAYS}",
                    key("exception_max_days")
                )),
            },
        };
        let break_glass_max = env
            .break_glass_max
            .as_ref()
            .map(|s| -> Result<_, GateError> {
                Ok(Setting {
                    value: parse_duration(s.get_ref()).map_err(GateError::Config)?,
                    because: cite.at(
                        s,
                        format!("{} = \"{}\"", key("break_glass_max"), s.get_ref()),
                    ),
                })
            })
            .transpose()?;
        let mut policy = EnvPolicy {
            name: name.to_owned(),
            mode,
            block_on,
            require,
            approvals,
            exception_max_days,
            break_glass_max,
            break_glass_approvers: env
                .break_glass_approvers
                .as_ref()
                .map(|l| l.get_ref().clone())
                .unwrap_or_default(),
            monitors: Vec::new(),
        };
        policy.tighten(config, &cite)?;
        policy.rollouts(config, &cite, today);
        Ok(policy)
    }

    fn tighten(&mut self, config: &Config, cite: &Cite<'_>) -> Result<(), GateError> {
        let (tier, class) = (config.project.tier, config.project.classification);
        for (i, t) in config.tighten.iter().enumerate() {
            if !t.when.get_ref().matches(tier, class) {
                continue;
            }
            if let Some(envs) = &t.environments
                && !envs.iter().any(|e| e == &self.name)
            {
                continue;
            }
            let key = |k: &str| format!("tighten[{i}].{k}");
            if let Some(m) = &t.mode
                && *m.get_ref() > self.mode.value
            {
                self.mode = Setting {
                    value: *m.get_ref(),
                    because: cite.at(m, format!("{} = \"{}\"", key("mode"), m.get_ref().as_str())),
                };
            }
            if let Some(s) = &t.block_on
                && *s.get_ref() < self.block_on.value
            {
                self.block_on = Setting {
                    value: *s.get_ref(),
                    because: cite.at(s, format!("{} = \"{}\"", key("block_on"), s.get_ref())),
                };
            }
            if let Some(list) = &t.require {
                let because = cite.at(
                    list,
                    format!("{} = {}", key("require"), quoted_list(list.get_ref())),
                );
                for item in list.get_ref() {
                    if !self.require.iter().any(|r| &r.value == item) {
                        self.require.push(Setting {
                            value: item.clone(),
                            because: because.clone(),
                        });
                    }
                }
            }
            if let Some(s) = &t.approvals
                && *s.get_ref() > self.approvals.value
            {
                self.approvals = Setting {
                    value: *s.get_ref(),
                    because: cite.at(s, format!("{} = {}", key("approvals"), s.get_ref())),
                };
            }
            if let Some(s) = &t.exception_max_days
                && *s.get_ref() < self.exception_max_days.value
            {
                self.exception_max_days = Setting {
                    value: *s.get_ref(),
                    because: cite.at(
                        s,
                        format!("{} = {}", key("exception_max_days"), s.get_ref()),
                    ),
                };
            }
            if let Some(s) = &t.break_glass_max {
                let d = parse_duration(s.get_ref()).map_err(GateError::Config)?;
                if self
                    .break_glass_max
                    .as_ref()
                    .is_some_and(|cur| d < cur.value)
                {
                    self.break_glass_max = Some(Setting {
                        value: d,
                        because: cite.at(
                            s,
                            format!("{} = \"{}\"", key("break_glass_max"), s.get_ref()),
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    fn rollouts(&mut self, config: &Config, cite: &Cite<'_>, today: jiff::civil::Date) {
        for (i, r) in config.rollout.iter().enumerate() {
            if r.mode != RolloutMode::Monitor {
                continue;
            }
            if let Some(envs) = &r.environments
                && !envs.iter().any(|e| e == &self.name)
            {
                continue;
            }
            if let Some(until) = &r.until
                && until.parse::<jiff::civil::Date>().is_ok_and(|d| today >= d)
            {
                continue;
            }
            let target = match (&r.check, &r.policy) {
                (Some(check), _) => format!("check:{check}"),
                (None, Some(policy)) => format!("policy:{policy}"),
                (None, None) => continue,
            };
            let setting = match &r.until {
                Some(until) => format!("rollout[{i}]: {target} mode = \"monitor\" until {until}"),
                None => format!("rollout[{i}]: {target} mode = \"monitor\""),
            };
            self.monitors.push(Monitor {
                target,
                until: r.until.clone(),
                because: cite.header("[[rollout]]", i, setting),
            });
        }
    }

    /// The monitor entry covering a check or a policy, if any.
    pub fn monitor_for(&self, target: &str) -> Option<&Monitor> {
        self.monitors.iter().find(|m| m.target == target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"[project]
tier = 1
classification = "restricted"

[environments.dev]
mode = "warn"

[environments.prod]
mode = "block"
block_on = "high"
require = ["secrets"]
approvals = 1
break_glass_max = "4h"

[[tighten]]
when = { tier = 1, classification = "restricted" }
environments = ["prod"]
block_on = "low"
require = ["sbom"]
approvals = 2
break_glass_max = "2h"

[[rollout]]
check = "generic-api-key"
mode = "monitor"
until = "2027-01-31"
"#;

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().unwrap()
    }

    #[test]
    fn tightening_applies_and_cites_its_line() {
        let config = Config::parse("evident.toml", CONFIG).unwrap();
        let prod = EnvPolicy::resolve(&config, "prod", date("2026-11-23")).unwrap();
        assert_eq!(prod.block_on.value, Severity::Low);
        assert_eq!(prod.block_on.because.line, 18);
        assert_eq!(prod.approvals.value, 2);
        assert_eq!(
            prod.require
                .iter()
                .map(|r| r.value.as_str())
                .collect::<Vec<_>>(),
            ["secrets", "sbom"]
        );
        assert_eq!(prod.require[0].because.line, 11);
        assert_eq!(prod.break_glass_max.as_ref().unwrap().value.as_secs(), 7200);
        assert_eq!(prod.monitors.len(), 1);
        assert_eq!(prod.monitors[0].because.line, 23);

        let dev = EnvPolicy::resolve(&config, "dev", date("2026-11-23")).unwrap();
        assert_eq!(dev.mode.value, GateMode::Warn);
        assert_eq!(dev.block_on.value, DEFAULT_BLOCK_ON);
        assert!(dev.break_glass_max.is_none());
    }

    #[test]
    fn a_less_critical_project_is_not_tightened() {
        let text = CONFIG.replace("tier = 1\n", "tier = 3\n");
        let config = Config::parse("evident.toml", &text).unwrap();
        let prod = EnvPolicy::resolve(&config, "prod", date("2026-11-23")).unwrap();
        assert_eq!(prod.block_on.value, Severity::High);
        assert_eq!(prod.approvals.value, 1);
    }

    #[test]
    fn rollout_ends_on_its_date() {
        let config = Config::parse("evident.toml", CONFIG).unwrap();
        let later = EnvPolicy::resolve(&config, "prod", date("2027-01-31")).unwrap();
        assert!(later.monitors.is_empty());
    }

    #[test]
    fn unknown_environment_lists_the_defined_ones() {
        let config = Config::parse("evident.toml", CONFIG).unwrap();
        let err = EnvPolicy::resolve(&config, "qa", date("2026-11-23")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`qa`") && text.contains("dev, prod"),
            "{text}"
        );
    }
}
