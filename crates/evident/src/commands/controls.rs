//! `evident controls`: the framework catalogs.

use std::fmt::Write as _;

use anyhow::anyhow;

use crate::cli::{ControlsArgs, ListFormat};
use crate::{Failure, Outcome};

pub fn run(args: &ControlsArgs) -> Result<Outcome, Failure> {
    let text = match &args.framework {
        None => match args.format {
            ListFormat::Json => {
                let list: Vec<_> = evident_controls::frameworks()
                    .iter()
                    .map(|f| serde_json::json!({ "id": f.id, "name": f.name, "version": f.version, "controls": f.controls.len() }))
                    .collect();
                serde_json::to_string_pretty(&list)? + "\n"
            }
            ListFormat::Human => {
                let mut t = String::new();
                for f in evident_controls::frameworks() {
                    let _ = writeln!(t, "{:<12} {} ({} controls)", f.id, f.name, f.controls.len());
                }
                t.push_str("\nList one with `evident controls <FRAMEWORK>`.\n");
                t
            }
        },
        Some(id) => {
            let framework = evident_controls::framework(id).ok_or_else(|| {
                let known: Vec<&str> = evident_controls::frameworks()
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect();
                anyhow!(
                    "unknown framework `{id}`; known frameworks: {}",
                    known.join(", ")
                )
            })?;
            match args.format {
                ListFormat::Json => serde_json::to_string_pretty(framework)? + "\n",
                ListFormat::Human => {
                    let checks = super::checks::all_checks()?;
                    let mut t = format!("{} — {}\n\n", framework.name, framework.version);
                    let mut family = "";
                    for c in &framework.controls {
                        if c.family != family {
                            family = &c.family;
                            let _ = writeln!(t, "{family}");
                        }
                        let reference = format!("{}:{}", framework.id, c.id);
                        let n = checks
                            .iter()
                            .filter(|k| k.controls.contains(&reference))
                            .count();
                        let automated = if n > 0 {
                            format!("  [{n} checks]")
                        } else {
                            String::new()
                        };
                        let _ = writeln!(t, "  {:<10} {}{automated}", c.id, c.title);
                    }
                    t
                }
            }
        }
    };
    super::print(&text)?;
    Ok(Outcome::Clean)
}
