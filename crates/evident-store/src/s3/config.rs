//! How to reach S3: endpoint, region and credentials.

use std::fmt;

use rusty_s3::Credentials;
use url::Url;

#[allow(clippy::wildcard_imports)]
use super::*;

/// How to reach S3: endpoint, region and credentials. Its `Debug` shows the access key id but
/// never the secret key or the session token.
#[derive(Clone)]
pub struct S3Config {
    endpoint: Option<Url>,
    pub(super) region: String,
    pub(super) credentials: Credentials,
}

impl S3Config {
    /// AWS S3 in `region` with these credentials.
    pub fn new(
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Self, S3Error> {
        check_region(region).map_err(S3Error::Config)?;
        if access_key_id.trim().is_empty() {
            return Err(S3Error::Config("the access key id is empty".to_owned()));
        }
        if secret_access_key.is_empty() {
            return Err(S3Error::Config("the secret access key is empty".to_owned()));
        }
        Ok(Self {
            endpoint: None,
            region: region.to_owned(),
            credentials: Credentials::new(access_key_id, secret_access_key),
        })
    }

    /// Another S3-compatible endpoint (`http(s)://host[:port]`), addressed path-style
    /// (`<endpoint>/<bucket>/<key>`).
    #[must_use = "the endpoint is set on the returned configuration"]
    pub fn with_endpoint(mut self, endpoint: Url) -> Result<Self, S3Error> {
        check_endpoint(&endpoint).map_err(S3Error::Config)?;
        self.endpoint = Some(endpoint);
        Ok(self)
    }

    /// Temporary credentials: the session token that goes with the access key.
    #[must_use]
    pub fn with_session_token(mut self, token: &str) -> Self {
        self.credentials =
            Credentials::new_with_token(self.credentials.key(), self.credentials.secret(), token);
        self
    }

    /// The configuration in the environment: `EVIDENT_S3_ENDPOINT` (optional, for
    /// S3-compatible servers), `EVIDENT_S3_REGION` or else `AWS_REGION` or else
    /// `AWS_DEFAULT_REGION` (default `us-east-1`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and, for temporary credentials, `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Result<Self, S3Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`S3Config::from_env`] with the variables read through `lookup`; empty values count as
    /// unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, S3Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let region = ["EVIDENT_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|name| get(name).map(|v| (*name, v)));
        if let Some((name, value)) = &region {
            check_region(value).map_err(|e| S3Error::Config(format!("{name}: {e}")))?;
        }
        let key = get("AWS_ACCESS_KEY_ID");
        let secret = get("AWS_SECRET_ACCESS_KEY");
        let (key, secret) = match (key, secret) {
            (Some(key), Some(secret)) => (key, secret),
            (key, secret) => {
                let missing: Vec<&str> = [
                    key.is_none().then_some("AWS_ACCESS_KEY_ID"),
                    secret.is_none().then_some("AWS_SECRET_ACCESS_KEY"),
                ]
                .into_iter()
                .flatten()
                .collect();
                return Err(S3Error::Config(format!(
                    "no S3 credentials: {} not set; set AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)",
                    missing.join(" and ")
                )));
            }
        };
        let region = region.map_or_else(|| DEFAULT_REGION.to_owned(), |(_, v)| v);
        let mut config = Self::new(region.trim(), key.trim(), &secret)?;
        if let Some(token) = get("AWS_SESSION_TOKEN") {
            config = config.with_session_token(token.trim());
        }
        if let Some(endpoint) = get("EVIDENT_S3_ENDPOINT") {
            // The value is not repeated: a URL may hold a password.
            let url = Url::parse(endpoint.trim()).map_err(|e| {
                S3Error::Config(format!(
                    "EVIDENT_S3_ENDPOINT is not a URL ({e}); expected e.g. https://s3.example.com:9000"
                ))
            })?;
            check_endpoint(&url)
                .map_err(|e| S3Error::Config(format!("EVIDENT_S3_ENDPOINT: {e}")))?;
            config.endpoint = Some(url);
        }
        Ok(config)
    }

    /// The endpoint requests go to: the one configured, or `https://s3.<region>.amazonaws.com`.
    pub fn endpoint(&self) -> Url {
        self.endpoint.clone().unwrap_or_else(|| {
            Url::parse(&format!("https://s3.{}.amazonaws.com", self.region))
                .expect("checked region names make valid host names")
        })
    }

    /// Whether buckets are addressed path-style (`<endpoint>/<bucket>`): for a configured
    /// endpoint; AWS itself is addressed virtual-host style (`<bucket>.s3.<region>…`).
    pub fn path_style(&self) -> bool {
        self.endpoint.is_some()
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The access key id (not secret).
    pub fn access_key_id(&self) -> &str {
        self.credentials.key()
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint().as_str())
            .field("path_style", &self.path_style())
            .field("region", &self.region)
            .field("access_key_id", &self.credentials.key())
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.credentials.token().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn check_region(region: &str) -> Result<(), String> {
    if region.is_empty()
        || region.len() > 64
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "`{}` is not a region name (lowercase letters, digits and `-`, e.g. us-east-1)",
            region.escape_debug()
        ));
    }
    Ok(())
}

fn check_endpoint(url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the endpoint must be an http:// or https:// URL, not {}://",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the endpoint must not hold credentials: set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY instead"
                .to_owned(),
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the endpoint has no host".to_owned());
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "the endpoint must be scheme, host and port only (like {}), without a path or query",
            origin(url)
        ));
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL: what messages say about an endpoint.
pub(super) fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    #[test]
    fn configuration_comes_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = S3Config::from_lookup(env(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalr-hidden"), // evident:allow synthetic key, checked to stay hidden
        ]))
        .unwrap();
        assert_eq!(config.region(), "us-east-1");
        assert_eq!(
            config.endpoint().as_str(),
            "https://s3.us-east-1.amazonaws.com/"
        );
        assert!(!config.path_style());
        let config = S3Config::from_lookup(env(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalr-hidden"), // evident:allow synthetic key, checked to stay hidden
            ("AWS_SESSION_TOKEN", "session-tok3n"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_REGION", "eu-central-1"),
            ("EVIDENT_S3_ENDPOINT", "http://127.0.0.1:9323"),
        ]))
        .unwrap();
        assert_eq!(config.region(), "eu-central-1");
        assert_eq!(config.endpoint().as_str(), "http://127.0.0.1:9323/");
        assert!(config.path_style());
        let debug = format!("{config:?}");
        assert!(debug.contains("AKIDEXAMPLE"), "{debug}");
        assert!(!debug.contains("wJalr-hidden"), "{debug}");
        assert!(!debug.contains("session-tok3n"), "{debug}");
        let bucket = S3Bucket::new(&config, "evidence").unwrap();
        let debug = format!("{bucket:?}");
        assert!(
            !debug.contains("hidden") && !debug.contains("tok3n"),
            "{debug}"
        );
        let store = S3BlobStore::new(bucket, "", SignedDuration::from_hours(1)).unwrap();
        let debug = format!("{store:?}");
        assert!(
            !debug.contains("hidden") && !debug.contains("tok3n"),
            "{debug}"
        );

        let config = S3Config::from_lookup(env(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalr-hidden"), // evident:allow synthetic key, checked to stay hidden
            ("EVIDENT_S3_REGION", "ap-south-2"),
            ("AWS_REGION", "eu-central-1"),
        ]))
        .unwrap();
        assert_eq!(config.region(), "ap-south-2");

        let err = S3Config::from_lookup(env(&[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AWS_SECRET_ACCESS_KEY not set"), "{err}");
        let err = S3Config::from_lookup(env(&[("AWS_SECRET_ACCESS_KEY", "")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set"),
            "{err}"
        );
        for (endpoint, want) in [
            ("ftp://host", "http:// or https://"),
            ("http://user:pa55word@host", "must not hold credentials"), // evident:allow synthetic URL the check must refuse
            ("http://host/bucket", "without a path"),
            ("not a url", "not a URL"),
        ] {
            let vars: &'static [(&'static str, &'static str)] = Box::leak(Box::new([
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "wJalr-hidden"), // evident:allow synthetic key, checked to stay hidden
                ("EVIDENT_S3_ENDPOINT", endpoint),
            ]));
            let err = S3Config::from_lookup(env(vars)).unwrap_err().to_string();
            assert!(
                err.contains("EVIDENT_S3_ENDPOINT") && err.contains(want),
                "{err}"
            );
            assert!(
                !err.contains("pa55word") && !err.contains("hidden"),
                "{err}"
            );
        }
        let err = S3Config::new("US East", "a", "b").unwrap_err().to_string();
        assert!(err.contains("not a region name"), "{err}");
    }
}
