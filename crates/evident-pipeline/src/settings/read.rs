//! Reading a settings export: the format is detected from the content, not the file name.
//!
//! Accepted documents (JSON, or YAML for `settings.yml`):
//!
//! | document | shape |
//! |---|---|
//! | GitHub branch protection | `GET /repos/{o}/{r}/branches/{b}/protection`; the branch comes from its `url`, from a wrapper `{"branch": "main", "protection": {…}}`, or from an object of branch → protection; a list of these |
//! | GitHub ruleset | `GET /repos/{o}/{r}/rulesets/{id}`, or a list of them; only `active` branch rulesets count |
//! | GitHub settings app | `.github/settings.yml` with `branches: [{name, protection}]` |
//! | GitLab protected branches | `GET /projects/:id/protected_branches` (a list) |
//! | GitLab approval rules | `GET /projects/:id/approval_rules` (a list) |
//! | GitLab approval settings | `GET /projects/:id/approvals` (an object) |
//! | GitLab combined | `{"protected_branches": […], "approval_rules": […], "approvals": {…}}`, any key optional |
//!
//! GitLab approval rules and settings read without protected branches are kept under the key
//! [`PROJECT`]: they say how merge requests are approved, not which branches are protected.

use std::path::Path;

use super::model::{BranchProtection, RepositorySettings};
use super::tree::Node;
use super::{github, gitlab};

/// The branch key of project-wide GitLab approval settings read without protected branches.
pub const PROJECT: &str = "~PROJECT";

/// What every accepted document is, for error messages.
pub(crate) const EXPECTED: &str =
    "not a GitHub branch protection, ruleset, settings.yml or GitLab protected branches document";

/// A settings file that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{file}: cannot read the settings file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON/YAML, or not one of the accepted documents.
    #[error("{}: {message}", at(file, *line))]
    Invalid {
        file: String,
        /// 1-based, when known.
        line: Option<usize>,
        message: String,
    },
}

impl SettingsError {
    /// The 1-based line the error is about, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            SettingsError::Read { .. } => None,
            SettingsError::Invalid { line, .. } => *line,
        }
    }
}

fn at(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    }
}

/// Reads a GitHub or GitLab settings export (see the module docs for the accepted shapes).
pub fn read_settings(path: &Path) -> Result<RepositorySettings, SettingsError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        file: file.clone(),
        source,
    })?;
    parse_settings(&text, &file)
}

/// Parses the text of a settings export; `file` names it in origins and errors.
pub fn parse_settings(text: &str, file: &str) -> Result<RepositorySettings, SettingsError> {
    let root = Node::parse(text).map_err(|e| SettingsError::Invalid {
        file: file.to_owned(),
        line: e.line,
        message: e.message,
    })?;
    let mut reader = Reader {
        file,
        out: RepositorySettings::default(),
    };
    reader.document(&root)?;
    Ok(reader.out)
}

/// Which document an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doc {
    GithubProtection,
    GithubWrapper,
    GithubRuleset,
    GithubSettingsApp,
    GithubBranchMap,
    GitlabCombined,
    GitlabProtectedBranch,
    GitlabApprovalRule,
    GitlabApprovals,
}

impl Doc {
    fn platform(self) -> &'static str {
        match self {
            Doc::GithubProtection
            | Doc::GithubWrapper
            | Doc::GithubRuleset
            | Doc::GithubSettingsApp
            | Doc::GithubBranchMap => "github",
            Doc::GitlabCombined
            | Doc::GitlabProtectedBranch
            | Doc::GitlabApprovalRule
            | Doc::GitlabApprovals => "gitlab",
        }
    }
}

fn classify(n: &Node) -> Option<Doc> {
    if !n.is_map() {
        return None;
    }
    let any = |keys: &[&str]| keys.iter().any(|k| n.has(k));
    // Approval rules carry a `protected_branches` list of their own: test them first.
    if n.has("approvals_required") {
        Some(Doc::GitlabApprovalRule)
    } else if any(&["protected_branches", "approval_rules"])
        || n.get("approvals").is_some_and(Node::is_map)
    {
        Some(Doc::GitlabCombined)
    } else if any(&[
        "push_access_levels",
        "merge_access_levels",
        "unprotect_access_levels",
        "allow_force_push",
        "code_owner_approval_required",
    ]) {
        Some(Doc::GitlabProtectedBranch)
    } else if any(&gitlab::APPROVAL_SETTINGS) {
        Some(Doc::GitlabApprovals)
    } else if n.has("rules") && any(&["enforcement", "target", "conditions", "bypass_actors"]) {
        Some(Doc::GithubRuleset)
    } else if n.get("branches").is_some_and(|b| b.as_seq().is_some()) {
        Some(Doc::GithubSettingsApp)
    } else if n.has("protection") && n.has("branch") {
        Some(Doc::GithubWrapper)
    } else if any(&github::PROTECTION_KEYS) {
        Some(Doc::GithubProtection)
    } else if !n.entries().is_empty()
        && n.entries()
            .iter()
            .all(|(_, v)| v.is_null() || matches!(classify(v), Some(Doc::GithubProtection)))
    {
        Some(Doc::GithubBranchMap)
    } else {
        None
    }
}

pub(crate) struct Reader<'a> {
    pub file: &'a str,
    pub out: RepositorySettings,
}

impl Reader<'_> {
    /// An error at `node`'s line.
    pub fn error(&self, node: &Node, message: impl Into<String>) -> SettingsError {
        SettingsError::Invalid {
            file: self.file.to_owned(),
            line: node.line,
            message: message.into(),
        }
    }

    /// Records a branch, merging (most restrictive wins) with an entry already read.
    pub fn insert(&mut self, branch: String, protection: BranchProtection, line: Option<usize>) {
        use std::collections::btree_map::Entry;
        match self.out.branches.entry(branch.clone()) {
            Entry::Vacant(v) => {
                v.insert(protection);
            }
            Entry::Occupied(mut o) => {
                let merged = super::checks::merge(o.get(), &protection);
                o.insert(merged);
            }
        }
        self.out
            .origins
            .entry(branch)
            .or_insert_with(|| super::model::Origin {
                file: self.file.to_owned(),
                line,
            });
    }

    fn set_platform(&mut self, node: &Node, doc: Doc) -> Result<(), SettingsError> {
        let platform = doc.platform();
        if self.out.platform.is_empty() {
            platform.clone_into(&mut self.out.platform);
            Ok(())
        } else if self.out.platform == platform {
            Ok(())
        } else {
            Err(self.error(
                node,
                format!(
                    "a {platform} document in a list of {} documents: export one platform per file",
                    self.out.platform
                ),
            ))
        }
    }

    fn document(&mut self, root: &Node) -> Result<(), SettingsError> {
        if let Some(items) = root.as_seq() {
            if items.is_empty() {
                return Err(self.error(
                    root,
                    format!(
                        "an empty list: nothing to read ({EXPECTED}); for a GitLab project without protected branches use {{\"protected_branches\": []}}"
                    ),
                ));
            }
            let docs: Vec<Doc> = items
                .iter()
                .map(|item| {
                    classify(item).ok_or_else(|| {
                        self.error(item, format!("list item is {}: {EXPECTED}", describe(item)))
                    })
                })
                .collect::<Result<_, _>>()?;
            // GitLab lists: protected branches and approval rules are read together.
            if docs.iter().all(|d| d.platform() == "gitlab") {
                self.set_platform(root, docs[0])?;
                let (branches, rules): (Vec<_>, Vec<_>) = items
                    .iter()
                    .zip(&docs)
                    .partition(|(_, d)| **d != Doc::GitlabApprovalRule);
                if let Some((bad, _)) = branches
                    .iter()
                    .find(|(_, d)| **d != Doc::GitlabProtectedBranch)
                {
                    return Err(self.error(
                        bad,
                        "a list of GitLab protected branches or approval rules may hold only those",
                    ));
                }
                let branches: Vec<&Node> = branches.into_iter().map(|(n, _)| n).collect();
                let rules: Vec<&Node> = rules.into_iter().map(|(n, _)| n).collect();
                return gitlab::read(
                    self,
                    root,
                    (!branches.is_empty()).then_some(branches.as_slice()),
                    (!rules.is_empty()).then_some(rules.as_slice()),
                    None,
                );
            }
            for (item, doc) in items.iter().zip(docs) {
                self.set_platform(item, doc)?;
                self.object(item, doc)?;
            }
            return Ok(());
        }
        let doc = classify(root).ok_or_else(|| {
            self.error(
                root,
                format!("the document is {}: {EXPECTED}", describe(root)),
            )
        })?;
        self.set_platform(root, doc)?;
        self.object(root, doc)
    }

    fn object(&mut self, n: &Node, doc: Doc) -> Result<(), SettingsError> {
        match doc {
            Doc::GithubProtection => github::read_protection(self, n, None),
            Doc::GithubWrapper => github::read_wrapper(self, n),
            Doc::GithubBranchMap => github::read_branch_map(self, n),
            Doc::GithubRuleset => github::read_ruleset(self, n),
            Doc::GithubSettingsApp => github::read_settings_app(self, n),
            Doc::GitlabCombined => gitlab::read_combined(self, n),
            Doc::GitlabProtectedBranch => gitlab::read(self, n, Some(&[n]), None, None),
            Doc::GitlabApprovalRule => gitlab::read(self, n, None, Some(&[n]), None),
            Doc::GitlabApprovals => gitlab::read(self, n, None, None, Some(n)),
        }
    }
}

/// "an object with keys a, b, c" or "a string", for error messages.
pub(crate) fn describe(n: &Node) -> String {
    if n.is_map() {
        let keys: Vec<&str> = n
            .entries()
            .iter()
            .take(5)
            .map(|(k, _)| k.as_str())
            .collect();
        if keys.is_empty() {
            "an empty object".to_owned()
        } else {
            format!("an object with keys `{}`", keys.join("`, `"))
        }
    } else {
        n.type_name().to_owned()
    }
}
