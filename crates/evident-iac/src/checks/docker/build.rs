//! What `RUN` does during the build: scripts piped from the network, verification turned off,
//! `sudo`, world-writable files, credentials on the command line. Every stage counts.

use evident_core::Severity;

use super::shell::{Cmd, SHELLS, assignments};
use super::{DOCKERFILE, DOWNLOADS, HARDENING, Instr, PRIVILEGE, SECRETS, TLS, stages};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::Resource;

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "docker-curl-pipe-shell",
            "Build runs a script downloaded from the network",
            Severity::Medium,
            DOWNLOADS,
            "`curl … | sh` (or `bash -c \"$(curl …)\"`) executes whatever the server returns at build time, unverified and unpinned: a compromised or hijacked download site, or a truncated transfer, runs arbitrary code inside the image build.",
            "Download to a file, verify it against a pinned checksum or signature, then run it: `RUN curl -fsSLo /tmp/install.sh https://…/v1.2.3/install.sh && echo \"<sha256>  /tmp/install.sh\" | sha256sum -c - && sh /tmp/install.sh`; better, install a versioned package or `COPY --from=<pinned image>`.",
            DOCKERFILE,
            curl_pipe_shell,
        ),
        check(
            "docker-tls-verification-disabled",
            "Build turns off TLS certificate verification",
            Severity::Medium,
            TLS,
            "With certificate verification off (`curl -k`, `wget --no-check-certificate`, `pip --trusted-host`, `strict-ssl false`, `http.sslVerify=false`, `NODE_TLS_REJECT_UNAUTHORIZED=0`), anyone on the network path can impersonate the server and substitute the code or packages the build downloads.",
            "Remove the flag or setting and make the certificate verifiable instead: install the corporate CA into the image (`COPY corp-ca.crt /usr/local/share/ca-certificates/ && RUN update-ca-certificates`) or point the tool at it (`--cacert`, `PIP_CERT`, `NODE_EXTRA_CA_CERTS`, `git config http.sslCAInfo`).",
            DOCKERFILE,
            tls_disabled,
        ),
        check(
            "docker-package-verification-disabled",
            "Build installs packages without verifying signatures",
            Severity::Medium,
            DOWNLOADS,
            "Package managers check repository signatures so a mirror or network attacker cannot slip in modified packages; `--allow-unauthenticated`, `[trusted=yes]`, `--allow-untrusted`, `--nogpgcheck` or `GOSUMDB=off` turn that check off and install whatever arrives.",
            "Remove the option and import the repository's signing key instead (`curl -fsSL https://…/key.gpg | gpg --dearmor -o /etc/apt/keyrings/vendor.gpg` with `deb [signed-by=/etc/apt/keyrings/vendor.gpg] …`, `rpm --import`, `apk add --keys-dir`).",
            DOCKERFILE,
            package_verification,
        ),
        check(
            "docker-sudo",
            "Build uses sudo",
            Severity::Medium,
            PRIVILEGE,
            "`RUN` already runs as the current `USER`; calling `sudo` means the image ships sudo and a user allowed to use it, so anyone who gets a shell in the container as that user can become root again.",
            "Drop `sudo`: run the privileged steps before switching user (`USER root` … `RUN …` … `USER 10001`), and do not install sudo in the image.",
            DOCKERFILE,
            sudo,
        ),
        check(
            "docker-world-writable-chmod",
            "Build makes files world-writable",
            Severity::Medium,
            HARDENING,
            "`chmod 777` (or `o+w`, `--chmod=777`) lets every user in the container, including a compromised service account, modify the binaries, scripts or configuration the application trusts.",
            "Give files the narrowest mode and an owner instead: `COPY --chown=10001:10001 --chmod=755 app /app` or `RUN chown -R 10001 /data && chmod -R 750 /data`; world-writable shared directories need the sticky bit (`chmod 1777 /tmp`).",
            DOCKERFILE,
            world_writable,
        ),
        check(
            "docker-credentials-in-run",
            "Credentials written into a RUN or ADD instruction",
            Severity::High,
            SECRETS,
            "A password or token in a URL (`https://user:pass@host`), after `--password`, `curl -u user:pass` or `_authToken=` is kept in the image history and the build cache and leaks with the Dockerfile itself.",
            "Pass build credentials as BuildKit secrets and read them only in that step: `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci` (built with `docker build --secret id=npmrc,src=$HOME/.npmrc`), or `--mount=type=secret,id=token,env=GIT_TOKEN`.",
            DOCKERFILE,
            credentials,
        )
        .handles_secrets(),
    ]
}

/// Every instruction of every stage whose command is `cmd`.
fn each<'a>(r: &'a Resource, cmds: &[&str]) -> Vec<Instr<'a>> {
    stages(r)
        .iter()
        .flat_map(super::Stage::instructions)
        .filter(|i| cmds.contains(&i.cmd.as_str()))
        .collect()
}

const FETCHERS: &[&str] = &["curl", "wget", "fetch"];
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "ruby", "node", "php",
];

/// Does a shell argument substitute a download (`$(curl …)`, `` `wget …` ``, `<(curl …)`)?
fn fetch_substitution(arg: &str) -> bool {
    ["$(", "<(", "`"].iter().any(|open| {
        arg.match_indices(open).any(|(at, _)| {
            let rest = arg[at + open.len()..].trim_start();
            FETCHERS.iter().any(|f| {
                rest.strip_prefix(f)
                    .is_some_and(|after| after.starts_with([' ', '\t']))
            })
        })
    })
}

/// Does a command read its program from standard input (`sh`, `bash -s -- x`, `python3 -`)?
fn runs_stdin(c: &Cmd<'_>) -> bool {
    if SHELLS.contains(&c.name) {
        return !c
            .args
            .iter()
            .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))
            && c.args
                .iter()
                .all(|a| a.starts_with('-') || a == "--" || a.is_empty())
            || c.args.iter().any(|a| a == "-s");
    }
    if INTERPRETERS
        .iter()
        .any(|i| c.name == *i || c.name.starts_with(&format!("{i}3.")))
    {
        return c.args.iter().all(|a| {
            a == "-"
                || (a.starts_with('-')
                    && !["-c", "-m", "-e", "-E", "-p", "-r"].contains(&a.as_str()))
        });
    }
    false
}

fn curl_pipe_shell(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for instr in each(r, &["RUN"]) {
        let mut found: Option<String> = None;
        for pipeline in instr.pipelines() {
            let cmds: Vec<Option<Cmd<'_>>> = pipeline.iter().map(|c| Cmd::of(c)).collect();
            if let Some(at) = cmds
                .iter()
                .position(|c| c.is_some_and(|c| FETCHERS.contains(&c.name)))
                && let Some(runner) = cmds[at + 1..].iter().flatten().find(|c| runs_stdin(c))
            {
                let fetcher = cmds[at].map(|c| c.name).unwrap_or_default();
                found = Some(format!(
                    "`{fetcher} … | {}` runs a downloaded script without verifying it",
                    runner.name
                ));
                break;
            }
            if let Some(c) = cmds.iter().flatten().find(|c| {
                (SHELLS.contains(&c.name) || matches!(c.name, "eval" | "source" | "."))
                    && c.args.iter().any(|a| fetch_substitution(a))
            }) {
                found = Some(format!(
                    "`{} … $(curl …)` runs a downloaded script without verifying it",
                    c.name
                ));
                break;
            }
        }
        if let Some(message) = found {
            out.push(instr.hit(message));
        }
    }
}

/// `setting value` or `setting=value` pairs that turn verification off.
fn insecure_setting(key: &str, value: &str) -> Option<&'static str> {
    let k = key.trim_start_matches('-').to_ascii_lowercase();
    let v = value.to_ascii_lowercase();
    let off = matches!(v.as_str(), "false" | "0" | "no" | "off");
    if (k.ends_with("sslverify") || k.ends_with("ssl-verify") || k == "ssl_verify") && off {
        return Some("`sslVerify false`");
    }
    if (k.ends_with("strict-ssl") || k.ends_with("strict_ssl")) && off {
        return Some("`strict-ssl false`");
    }
    if k.ends_with("disable-tls") && v == "true" {
        return Some("`disable-tls true`");
    }
    None
}

/// Environment variables that turn TLS verification off.
fn insecure_env(name: &str, value: &str) -> Option<String> {
    let v = value.trim().to_ascii_lowercase();
    let off = matches!(v.as_str(), "0" | "false" | "no" | "off");
    let bad = match name {
        "GIT_SSL_NO_VERIFY" => !v.is_empty() && !off,
        "NODE_TLS_REJECT_UNAUTHORIZED" | "PYTHONHTTPSVERIFY" | "NPM_CONFIG_STRICT_SSL" => off,
        "PIP_TRUSTED_HOST" | "GOINSECURE" => !v.is_empty(),
        _ => false,
    };
    bad.then(|| format!("`{name}={value}`"))
}

/// Why a command skips TLS verification, if it does.
fn tls_reasons(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = assignments(words)
        .into_iter()
        .filter_map(|(n, v)| insecure_env(n, v))
        .collect();
    let Some(c) = Cmd::of(words) else {
        return out;
    };
    for (i, a) in c.args.iter().enumerate() {
        let lower = a.to_ascii_lowercase();
        let next = c.args.get(i + 1).map_or("", String::as_str);
        if c.name == "curl"
            && (lower == "--insecure"
                || (a.starts_with('-')
                    && !a.starts_with("--")
                    && a.len() > 1
                    && a[1..].chars().all(|ch| ch.is_ascii_alphabetic())
                    && a[1..].contains('k')))
        {
            out.push(format!("`curl {a}`"));
        } else if lower == "--no-check-certificate" {
            out.push(format!("`{} --no-check-certificate`", c.name));
        } else if lower.starts_with("--trusted-host") || lower.ends_with(".trusted-host") {
            out.push(format!("`{} --trusted-host`", c.name));
        } else if lower == "--insecure-skip-tls-verify"
            || lower.starts_with("--insecure-skip-tls-verify=true")
            || lower == "--no-verify-ssl"
        {
            out.push(format!("`{} {a}`", c.name));
        } else if let Some(reason) = match a.split_once('=') {
            Some((k, v)) => insecure_setting(k, v),
            None => insecure_setting(a, next),
        } {
            out.push(format!("`{}` with {reason}", c.name));
        }
    }
    out
}

fn tls_disabled(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for instr in each(r, &["RUN", "ENV"]) {
        let mut reasons: Vec<String> = if instr.cmd == "ENV" {
            super::vars::env_pairs(&instr)
                .into_iter()
                .filter_map(|(n, v)| insecure_env(&n, &v))
                .collect()
        } else {
            instr
                .pipelines()
                .iter()
                .flatten()
                .flat_map(|c| tls_reasons(c))
                .collect()
        };
        reasons.dedup();
        if !reasons.is_empty() {
            out.push(instr.hit(format!(
                "certificate verification turned off: {}",
                reasons.join(", ")
            )));
        }
    }
}

/// Options that install unsigned packages.
const UNVERIFIED_FLAGS: &[&str] = &[
    "--allow-unauthenticated",
    "--allow-insecure-repositories",
    "--force-yes",
    "--allow-untrusted",
    "--nogpgcheck",
    "--no-gpg-checks",
    "--nosignature",
    "--nodigest",
    "--skip-signature-check",
];

/// Settings, anywhere in the text, that turn repository signature checks off.
const UNVERIFIED_TEXT: &[&str] = &[
    "trusted=yes",
    "gpgcheck=0",
    "allowunauthenticated=true",
    "allowinsecurerepositories=true",
    "allow-insecure=yes",
];

fn package_verification(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for instr in each(r, &["RUN", "ENV"]) {
        let mut reasons: Vec<String> = Vec::new();
        if instr.cmd == "ENV" {
            for (n, v) in super::vars::env_pairs(&instr) {
                if n == "GOSUMDB" && v.eq_ignore_ascii_case("off") {
                    reasons.push("`GOSUMDB=off`".to_owned());
                }
            }
        } else {
            for words in instr.pipelines().iter().flatten() {
                for (n, v) in assignments(words) {
                    if n == "GOSUMDB" && v.eq_ignore_ascii_case("off") {
                        reasons.push("`GOSUMDB=off`".to_owned());
                    }
                }
                for w in words {
                    let lower = w.to_ascii_lowercase();
                    if UNVERIFIED_FLAGS.contains(&lower.as_str()) {
                        reasons.push(format!("`{lower}`"));
                    }
                }
            }
            let compact: String = instr
                .value
                .to_ascii_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            for t in UNVERIFIED_TEXT {
                if compact.contains(t) {
                    reasons.push(format!("`{t}`"));
                }
            }
        }
        reasons.sort();
        reasons.dedup();
        if !reasons.is_empty() {
            out.push(instr.hit(format!(
                "package signature checks turned off: {}",
                reasons.join(", ")
            )));
        }
    }
}

fn sudo(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for instr in each(r, &["RUN"]) {
        if let Some(c) = instr
            .pipelines()
            .iter()
            .flatten()
            .filter_map(|w| Cmd::of(w))
            .find(|c| c.sudo)
        {
            out.push(instr.hit(format!("`sudo {}` in a build step", c.name)));
        }
    }
}

/// Does a `chmod` mode give others write access, without the sticky bit?
fn world_writable_mode(mode: &str) -> bool {
    if !mode.is_empty() && mode.len() <= 4 && mode.chars().all(|c| c.is_digit(8)) {
        let m = u32::from_str_radix(mode, 8).unwrap_or(0);
        return m & 0o002 != 0 && m & 0o1000 == 0;
    }
    let clauses: Vec<&str> = mode.split(',').collect();
    if clauses.iter().any(|c| c.contains('t')) {
        return false;
    }
    clauses.iter().any(|c| {
        let Some(op_at) = c.find(['+', '=', '-']) else {
            return false;
        };
        let (who, rest) = c.split_at(op_at);
        who.chars().all(|ch| matches!(ch, 'u' | 'g' | 'o' | 'a'))
            && (who.contains('o') || who.contains('a'))
            && !rest.starts_with('-')
            && rest.contains('w')
    })
}

fn world_writable(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for instr in each(r, &["RUN", "COPY", "ADD"]) {
        if instr.cmd != "RUN" {
            if let Some(mode) = instr.flag("chmod")
                && world_writable_mode(mode)
            {
                out.push(instr.hit(format!(
                    "`{} --chmod={mode}` makes the files world-writable",
                    instr.cmd
                )));
            }
            continue;
        }
        let found = instr.pipelines().iter().flatten().find_map(|w| {
            let c = Cmd::of(w)?;
            if c.name != "chmod" {
                return None;
            }
            let mode = c.args.iter().find(|a| {
                !(a.starts_with("--")
                    || (a.starts_with('-') && a[1..].chars().all(|ch| "Rfvc".contains(ch))))
            })?;
            world_writable_mode(mode).then(|| mode.clone())
        });
        if let Some(mode) = found {
            out.push(instr.hit(format!("`chmod {mode}` makes files world-writable")));
        }
    }
}

/// A literal (not `$VAR`) credential.
fn literal(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('$')
}

/// The hosts of URLs that embed a password or token (`https://user:pass@host/…`).
pub(super) fn url_credentials(text: &str) -> Vec<String> {
    let mut hosts = Vec::new();
    for (at, _) in text.match_indices("://") {
        let rest = &text[at + 3..];
        let end = rest
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | ')')
            })
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let Some((userinfo, host)) = authority.rsplit_once('@') else {
            continue;
        };
        let secret = match userinfo.split_once(':') {
            Some((_, password)) => literal(password),
            // A token as the user name (`https://ghp_…@github.com`).
            None => literal(userinfo) && userinfo.len() >= 20,
        };
        if secret {
            hosts.push(host.to_owned());
        }
    }
    hosts
}

/// What credentials a `RUN` command line carries (descriptions, never the values).
fn run_credentials(instr: &Instr<'_>) -> Vec<String> {
    let mut out: Vec<String> = url_credentials(&instr.value)
        .into_iter()
        .map(|h| format!("a URL with an embedded credential for `{h}`"))
        .collect();
    for words in instr.pipelines().iter().flatten() {
        let Some(c) = Cmd::of(words) else {
            continue;
        };
        for (i, a) in c.args.iter().enumerate() {
            let next = c.args.get(i + 1).map_or("", String::as_str);
            if c.name == "curl" {
                let user = match a.as_str() {
                    "-u" | "--user" | "--proxy-user" | "-U" => Some(next),
                    _ => a
                        .strip_prefix("--user=")
                        .or_else(|| a.strip_prefix("-u").filter(|s| !s.is_empty())),
                };
                if let Some((_, password)) = user.and_then(|u| u.split_once(':'))
                    && literal(password)
                {
                    out.push("`curl -u user:password`".to_owned());
                }
            }
            let password = match a.as_str() {
                "--password" => Some(next),
                "-p" if c.args.first().is_some_and(|s| s == "login") => Some(next),
                _ => a.strip_prefix("--password="),
            };
            if password.is_some_and(literal) {
                out.push(format!("a literal password passed to `{}`", c.name));
            }
        }
    }
    let lower = instr.value.to_ascii_lowercase();
    for (at, m) in lower.match_indices("_authtoken=") {
        let rest = instr.value[at + m.len()..].trim_start_matches(['"', '\'']);
        if literal(rest) && !rest.starts_with(char::is_whitespace) {
            out.push("an npm `_authToken`".to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn credentials(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for instr in each(r, &["RUN", "ADD"]) {
        let found = if instr.cmd == "RUN" {
            run_credentials(&instr)
        } else {
            url_credentials(&instr.value)
                .into_iter()
                .map(|h| format!("a URL with an embedded credential for `{h}`"))
                .collect()
        };
        if !found.is_empty() {
            // The key names what was found, not the instruction (which holds the secret).
            out.push(
                Hit::new(
                    instr.line,
                    format!("`{}` carries {}", instr.cmd, found.join(", ")),
                )
                .key(format!("{} {}", instr.cmd, found.join(","))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{dockerfile, hits};
    use super::*;

    fn run(id: &str, cmd: &str, value: &str) -> Vec<Hit> {
        hits(id, &dockerfile(&[("alpine:3.20", None, &[(cmd, value)])]))
    }

    #[test]
    fn piped_and_substituted_downloads() {
        let id = "docker-curl-pipe-shell";
        for bad in [
            "curl -fsSL https://get.example.com | sh",
            "apt-get update && wget -qO- https://x/install.sh | sudo -E bash -",
            "curl -sSL https://x | bash -s -- --version 1.2",
            "bash -c \"$(curl -fsSL https://x/install.sh)\"",
            "sh -c \"$(wget -O- https://x)\"",
            "curl https://x | python3 -",
            "sh -c 'curl -s https://x | sh'",
            "eval \"$(curl -s https://x)\"",
        ] {
            assert_eq!(run(id, "RUN", bad).len(), 1, "{bad}");
        }
        for good in [
            "curl -fsSLo /tmp/i.sh https://x && echo 'abc  /tmp/i.sh' | sha256sum -c - && sh /tmp/i.sh",
            "curl -s https://api/x | python3 -c 'import json,sys; print(json.load(sys.stdin))'",
            "curl -s https://api/x | jq .version",
            "echo curl | sh",
            "curl -fsSL https://x -o a.tgz || echo failed | tee log",
        ] {
            assert!(run(id, "RUN", good).is_empty(), "{good}");
        }
    }

    #[test]
    fn tls_verification() {
        let id = "docker-tls-verification-disabled";
        for bad in [
            "curl -k https://x -o y",
            "curl -fsSLk https://x",
            "curl --insecure https://x",
            "wget --no-check-certificate https://x",
            "pip install --trusted-host pypi.org requests",
            "pip install --trusted-host=pypi.org requests",
            "npm config set strict-ssl false",
            "git -c http.sslVerify=false clone https://x",
            "git config --global http.sslVerify false",
            "GIT_SSL_NO_VERIFY=1 git clone https://x",
            "export NODE_TLS_REJECT_UNAUTHORIZED=0 && npm ci",
        ] {
            assert_eq!(run(id, "RUN", bad).len(), 1, "{bad}");
        }
        for good in [
            "curl -fsSL https://x -o y",
            "curl -K config https://x",
            "wget -q https://x",
            "pip install requests",
            "git clone https://x",
            "npm config set strict-ssl true",
            "curl -H 'x-k: 1' https://x",
        ] {
            assert!(run(id, "RUN", good).is_empty(), "{good}");
        }
        assert_eq!(run(id, "ENV", "NODE_TLS_REJECT_UNAUTHORIZED=0").len(), 1);
        assert!(run(id, "ENV", "NODE_ENV=production").is_empty());
    }

    #[test]
    fn package_signatures() {
        let id = "docker-package-verification-disabled";
        for bad in [
            "apt-get install -y --allow-unauthenticated foo",
            "echo 'deb [trusted=yes] http://repo/ ./' > /etc/apt/sources.list.d/x.list",
            "apk add --allow-untrusted /tmp/x.apk",
            "dnf install -y --nogpgcheck foo",
            "GOSUMDB=off go mod download",
        ] {
            assert_eq!(run(id, "RUN", bad).len(), 1, "{bad}");
        }
        assert!(run(id, "RUN", "apt-get install -y --no-install-recommends curl").is_empty());
        assert_eq!(run(id, "ENV", "GOSUMDB=off").len(), 1);
    }

    #[test]
    fn sudo_and_chmod() {
        assert_eq!(run("docker-sudo", "RUN", "sudo apt-get update").len(), 1);
        assert_eq!(
            run("docker-sudo", "RUN", "true && sudo -u app make").len(),
            1
        );
        assert!(run("docker-sudo", "RUN", "apt-get install -y sudo-ldap-doc").is_empty());
        let id = "docker-world-writable-chmod";
        for bad in [
            "chmod 777 /app",
            "chmod -R 777 /app",
            "chmod 0666 f",
            "chmod a+rwx /x",
            "chmod -R o+w /data",
            "chmod u+x,o+w f",
        ] {
            assert_eq!(run(id, "RUN", bad).len(), 1, "{bad}");
        }
        for good in [
            "chmod 755 /app",
            "chmod 1777 /tmp",
            "chmod +x run.sh",
            "chmod a+rwxt /tmp",
            "chmod -R o-w /x",
            "chmod 0750 f",
        ] {
            assert!(run(id, "RUN", good).is_empty(), "{good}");
        }
    }

    #[test]
    fn credentials_never_appear_in_hits() {
        let id = "docker-credentials-in-run";
        for bad in [
            "git clone https://bot:s3cr3tpassw0rd@github.com/acme/app.git", // evident:allow synthetic credential the check must find
            "curl -u admin:s3cr3tpassw0rd https://x",
            "docker login -u bot -p s3cr3tpassw0rd registry",
            "helm repo add x https://x --username u --password s3cr3tpassw0rd",
            "echo '//registry.npmjs.org/:_authToken=s3cr3tpassw0rd' > .npmrc", // evident:allow synthetic token the check must find
            "git clone https://ghp_s3cr3tpassw0rds3cr3tpassw0rd@github.com/acme/app.git",
        ] {
            let h = run(id, "RUN", bad);
            assert_eq!(h.len(), 1, "{bad}");
            assert!(
                !h[0].message.contains("s3cr3t") && !h[0].key.contains("s3cr3t"),
                "{h:?}"
            );
        }
        for good in [
            "git clone https://github.com/acme/app.git",
            "git clone https://x-access-token:${GITHUB_TOKEN}@github.com/acme/app.git",
            "git clone ssh://git@github.com/acme/app.git",
            "curl -u \"$USER:$PASS\" https://x",
            "echo '//registry.npmjs.org/:_authToken=${NPM_TOKEN}' > .npmrc",
            "mkdir -p /app",
        ] {
            assert!(run(id, "RUN", good).is_empty(), "{good}");
        }
    }
}
