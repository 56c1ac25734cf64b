//! Webhook authenticity: the secrets, and their constant-time checks.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// The webhook secrets; an endpoint whose secret is missing is not served.
#[derive(Clone, Default)]
pub struct Secrets {
    /// GitHub's webhook secret (HMAC-SHA256 key of `X-Hub-Signature-256`).
    pub github: Option<Vec<u8>>,
    /// GitLab's secret token (`X-Gitlab-Token`).
    pub gitlab: Option<Vec<u8>>,
    /// The bearer token Argo CD notifications send.
    pub argocd: Option<Vec<u8>>,
    /// The bearer token Falco (falcosidekick) sends.
    pub falco: Option<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values: only whether each is configured.
        f.debug_struct("Secrets")
            .field("github", &self.github.is_some())
            .field("gitlab", &self.gitlab.is_some())
            .field("argocd", &self.argocd.is_some())
            .field("falco", &self.falco.is_some())
            .finish()
    }
}

/// The environment variables the secrets are read from.
pub const ENV_GITHUB: &str = "EVIDENT_GITHUB_WEBHOOK_SECRET";
/// GitLab's token variable.
pub const ENV_GITLAB: &str = "EVIDENT_GITLAB_WEBHOOK_TOKEN";
/// Argo CD's token variable.
pub const ENV_ARGOCD: &str = "EVIDENT_ARGOCD_TOKEN";
/// Falco's token variable.
pub const ENV_FALCO: &str = "EVIDENT_FALCO_TOKEN";

impl Secrets {
    /// Reads the secrets with `get` (the environment, in production); empty values count as
    /// not configured.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(String::into_bytes)
        };
        Self {
            github: read(ENV_GITHUB),
            gitlab: read(ENV_GITLAB),
            argocd: read(ENV_ARGOCD),
            falco: read(ENV_FALCO),
        }
    }

    /// The names of the configured endpoints.
    pub fn configured(&self) -> Vec<&'static str> {
        [
            ("github", &self.github),
            ("gitlab", &self.gitlab),
            ("argocd", &self.argocd),
            ("falco", &self.falco),
        ]
        .into_iter()
        .filter(|(_, s)| s.is_some())
        .map(|(n, _)| n)
        .collect()
    }
}

/// Why a delivery is not authentic (short, safe to return and record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential header.
    Missing,
    /// The header is not in the expected form.
    Malformed,
    /// The credential does not match.
    Mismatch,
}

impl AuthFailure {
    /// The reason as a label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing credential",
            Self::Malformed => "malformed credential",
            Self::Mismatch => "credential mismatch",
        }
    }
}

/// Checks GitHub's `X-Hub-Signature-256: sha256=<hex>` over the raw body, in constant time.
pub fn github_signature(
    secret: &[u8],
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), AuthFailure> {
    let header = header.ok_or(AuthFailure::Missing)?;
    let hex_sig = header
        .strip_prefix(b"sha256=")
        .ok_or(AuthFailure::Malformed)?;
    let sig = hex::decode(hex_sig).map_err(|_| AuthFailure::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| AuthFailure::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| AuthFailure::Mismatch)
}

/// Compares a shared token in constant time (GitLab's `X-Gitlab-Token`).
pub fn token(secret: &[u8], header: Option<&[u8]>) -> Result<(), AuthFailure> {
    let given = header.ok_or(AuthFailure::Missing)?;
    if bool::from(given.ct_eq(secret)) {
        Ok(())
    } else {
        Err(AuthFailure::Mismatch)
    }
}

/// Checks `Authorization: Bearer <token>` in constant time.
pub fn bearer(secret: &[u8], header: Option<&[u8]>) -> Result<(), AuthFailure> {
    let header = header.ok_or(AuthFailure::Missing)?;
    let given = header
        .strip_prefix(b"Bearer ")
        .or_else(|| header.strip_prefix(b"bearer "))
        .ok_or(AuthFailure::Malformed)?;
    token(secret, Some(given))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn github_signature_matches_githubs_documented_example() {
        // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            github_signature(
                b"It's a Secret to Everybody",
                Some(header.as_bytes()),
                b"Hello, World!"
            ),
            Ok(())
        );
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            header
        );
    }

    #[test]
    fn github_signature_refuses_what_does_not_match() {
        let good = sign(b"s3cret", b"{}");
        assert_eq!(
            github_signature(b"s3cret", Some(good.as_bytes()), b"{} "),
            Err(AuthFailure::Mismatch)
        );
        assert_eq!(
            github_signature(b"other", Some(good.as_bytes()), b"{}"),
            Err(AuthFailure::Mismatch)
        );
        assert_eq!(
            github_signature(b"s3cret", None, b"{}"),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            github_signature(b"s3cret", Some(b"sha1=00"), b"{}"),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            github_signature(b"s3cret", Some(b"sha256=zz"), b"{}"),
            Err(AuthFailure::Malformed)
        );
        // A truncated signature is not a prefix match.
        assert_eq!(
            github_signature(b"s3cret", Some(&good.as_bytes()[..27]), b"{}"),
            Err(AuthFailure::Mismatch)
        );
    }

    #[test]
    fn tokens_and_bearers() {
        assert_eq!(token(b"abc", Some(b"abc")), Ok(()));
        assert_eq!(token(b"abc", Some(b"ab")), Err(AuthFailure::Mismatch));
        assert_eq!(token(b"abc", None), Err(AuthFailure::Missing));
        assert_eq!(bearer(b"abc", Some(b"Bearer abc")), Ok(()));
        assert_eq!(bearer(b"abc", Some(b"abc")), Err(AuthFailure::Malformed));
        assert_eq!(
            bearer(b"abc", Some(b"Bearer abd")),
            Err(AuthFailure::Mismatch)
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let s = Secrets::from_lookup(|n| (n == ENV_GITHUB).then(|| "hunter2".to_owned()));
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(s.configured(), ["github"]);
    }
}
