//! The GitHub-only supply-chain checks: one entry each (id, severity, controls, why, fix).

use evident_core::{Check, Confidence, Severity};

pub const UNPINNED_ACTION: &str = "unpinned-action";
pub const UNTRUSTED_CHECKOUT: &str = "untrusted-checkout";
pub const SCRIPT_INJECTION: &str = "script-injection";
pub const EXCESSIVE_PERMISSIONS: &str = "excessive-permissions";
pub const MISSING_PERMISSIONS: &str = "missing-permissions";
pub const PERSISTED_CREDENTIALS: &str = "persisted-credentials";
pub const LONG_LIVED_CLOUD_KEYS: &str = "long-lived-cloud-keys";
pub const SELF_HOSTED_RUNNER_ON_PULL_REQUEST: &str = "self-hosted-runner-on-pull-request";

use crate::check;

/// The GitHub supply-chain checks.
pub fn checks() -> Vec<Check> {
    vec![
        check(
            UNPINNED_ACTION,
            "Action or reusable workflow not pinned to a commit SHA",
            Severity::Medium,
            Confidence::High,
            &[
                "soc2:CC8.1",
                "iso27001:A.8.32",
                "iso27001:A.5.21",
                "nist-800-53:SR-3",
                "nist-800-53:CM-14",
            ],
            "A tag or branch can be moved by whoever controls the action's repository: the code that runs in the pipeline (with its secrets and token) can change without any change in this repository.",
            "Pin `uses:` to the full 40-character commit SHA of the release and keep the tag as a comment (`uses: owner/repo@<sha> # v4.1.0`); let Dependabot or Renovate update it. First-party `actions/*` are pinned too.",
        ),
        check(
            UNTRUSTED_CHECKOUT,
            "Privileged workflow checks out untrusted pull request code",
            Severity::High,
            Confidence::High,
            &[
                "soc2:CC6.1",
                "soc2:CC8.1",
                "iso27001:A.8.25",
                "nist-800-53:CM-5",
            ],
            "`pull_request_target` and `workflow_run` run with the base repository's secrets and a write token; checking out the pull request's head and building it runs an outsider's code with those privileges.",
            "Use the `pull_request` trigger for building untrusted code, or do not check out `github.event.pull_request.head.*` / `github.head_ref` / `github.event.workflow_run.head_sha` in the privileged workflow; pass results between workflows as artifacts treated as data.",
        ),
        check(
            SCRIPT_INJECTION,
            "Untrusted event data interpolated into a script",
            Severity::High,
            Confidence::High,
            &["soc2:CC6.1", "iso27001:A.8.28", "nist-800-53:SI-10"],
            "`${{ }}` expressions are pasted into the script before the shell runs it: a pull request title, branch name, issue or comment body chosen by an outsider becomes shell code running with the workflow's secrets.",
            "Pass the value through an environment variable (`env: TITLE: ${{ github.event.pull_request.title }}`) and use `\"$TITLE\"` in the script.",
        ),
        check(
            EXCESSIVE_PERMISSIONS,
            "Workflow token granted every write permission",
            Severity::Medium,
            Confidence::High,
            &[
                "soc2:CC6.1",
                "soc2:CC6.3",
                "iso27001:A.8.2",
                "iso27001:A.5.15",
                "nist-800-53:AC-6",
            ],
            "`permissions: write-all` gives the job's GITHUB_TOKEN write access to code, releases, packages and settings-adjacent scopes: any compromised step can push code or publish artifacts.",
            "Replace `write-all` with the scopes the job needs (for example `contents: read`, `id-token: write`), declared per job.",
        ),
        check(
            MISSING_PERMISSIONS,
            "Workflow token permissions not declared",
            Severity::Low,
            Confidence::Medium,
            &[
                "soc2:CC6.1",
                "soc2:CC6.3",
                "iso27001:A.8.2",
                "nist-800-53:AC-6",
            ],
            "Without `permissions:` the token gets the repository or organisation default, which is read-write in many organisations: least privilege is neither enforced nor evidenced in the file.",
            "Add `permissions: contents: read` at the top of the workflow and grant extra scopes only on the jobs that need them.",
        ),
        check(
            PERSISTED_CREDENTIALS,
            "Checkout leaves the token in the git configuration",
            Severity::Low,
            Confidence::Medium,
            &["soc2:CC6.1", "iso27001:A.5.17", "nist-800-53:IA-5"],
            "`actions/checkout` writes the job token into `.git/config` by default; later steps (and anything that uploads the workspace as an artifact) can read and leak it.",
            "Set `with: persist-credentials: false` on the checkout step, and pass a token explicitly to the one step that pushes.",
        ),
        check(
            LONG_LIVED_CLOUD_KEYS,
            "Long-lived cloud credentials stored as secrets",
            Severity::Medium,
            Confidence::Medium,
            &[
                "soc2:CC6.1",
                "iso27001:A.5.17",
                "iso27001:A.8.5",
                "nist-800-53:IA-5",
            ],
            "Static cloud keys in repository secrets do not expire, can be exfiltrated by any step of any workflow that reads them, and are hard to attribute; GitHub's OIDC tokens are short-lived and bound to the repository and branch.",
            "Use OIDC: `permissions: id-token: write` with `aws-actions/configure-aws-credentials` and `role-to-assume`, `google-github-actions/auth` with `workload_identity_provider`, or `azure/login` with `client-id`/`tenant-id`/`subscription-id`; then delete the static key.",
        ),
        check(
            SELF_HOSTED_RUNNER_ON_PULL_REQUEST,
            "Self-hosted runner runs pull request code",
            Severity::High,
            Confidence::Medium,
            &[
                "soc2:CC6.1",
                "soc2:CC6.8",
                "iso27001:A.8.22",
                "nist-800-53:SC-7",
            ],
            "A pull request (from a fork in a public repository) can run arbitrary code on a self-hosted runner, which persists between jobs and sits inside the network.",
            "Run pull request jobs on GitHub-hosted runners, or on ephemeral, isolated self-hosted runners restricted to trusted branches through runner groups.",
        ),
    ]
}
