//! Which variable names hold secrets, and which values are literals rather than references;
//! shared by the Dockerfile (`ENV`, `ARG`) and the Kubernetes (`env`) checks.

/// Parts of a name that say it holds a credential.
const MARKERS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CLIENT_KEY",
    "AUTH_KEY",
    "CREDENTIAL",
];

/// Endings that make the name about a credential without being one (`DB_PASSWORD_FILE`,
/// `TOKEN_URL`, `AWS_ACCESS_KEY_ID`, `SECRET_NAME`).
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_DIR",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_PORT",
    "_NAME",
    "_ID",
    "_ARN",
    "_REF",
    "_REGION",
    "_LENGTH",
    "_TTL",
    "_TIMEOUT",
    "_EXPIRY",
    "_EXPIRES",
    "_TYPE",
    "_HEADER",
    "_FIELD",
    "_VERSION",
    "_ENABLED",
    "_MODE",
    "_KEY_ID",
    "_LOCATION",
];

/// Does `name` (`DB_PASSWORD`, `stripe-api-key`, `GITHUB_TOKEN`) name a secret?
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    MARKERS.iter().any(|m| upper.contains(m))
        && !NOT_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// Is `value` a literal that could be a secret, not empty, a boolean, nor only a reference
/// to another variable (`$TOKEN`, `${TOKEN}`, `$(TOKEN)` in Kubernetes)?
pub(crate) fn is_literal_secret_value(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty()
        || ["true", "false", "yes", "no", "null", "none"]
            .iter()
            .any(|b| v.eq_ignore_ascii_case(b))
    {
        return false;
    }
    !is_variable_reference(v)
}

/// `$NAME`, `${NAME}`, `${NAME:-default}`, `$(NAME)`: a reference, not a literal.
pub(crate) fn is_variable_reference(v: &str) -> bool {
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some(inner) = v.strip_prefix("${").and_then(|s| s.strip_suffix('}')) {
        let name = inner.split([':', '-', '+', '?']).next().unwrap_or(inner);
        return ident(name);
    }
    if let Some(inner) = v.strip_prefix("$(").and_then(|s| s.strip_suffix(')')) {
        return ident(inner);
    }
    v.strip_prefix('$').is_some_and(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for yes in [
            "DB_PASSWORD",
            "db-password",
            "GITHUB_TOKEN",
            "STRIPE_API_KEY",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "SECRET_KEY_BASE",
            "TLS_PRIVATE_KEY",
            "NPM_AUTH_TOKEN",
        ] {
            assert!(is_secret_name(yes), "{yes}");
        }
        for no in [
            "DB_PASSWORD_FILE",
            "TOKEN_URL",
            "AWS_ACCESS_KEY_ID",
            "SECRET_NAME",
            "LOG_LEVEL",
            "PORT",
            "PASSWORD_MIN_LENGTH",
        ] {
            assert!(!is_secret_name(no), "{no}");
        }
    }

    #[test]
    fn literal_values() {
        assert!(is_literal_secret_value("hunter2"));
        assert!(is_literal_secret_value("123456"));
        assert!(!is_literal_secret_value(""));
        assert!(!is_literal_secret_value("  "));
        assert!(!is_literal_secret_value("true"));
        assert!(!is_literal_secret_value("$TOKEN"));
        assert!(!is_literal_secret_value("${TOKEN}"));
        assert!(!is_literal_secret_value("${TOKEN:-}"));
        assert!(!is_literal_secret_value("$(DB_PASSWORD)"));
        assert!(is_literal_secret_value("pre$TOKEN"));
    }
}
