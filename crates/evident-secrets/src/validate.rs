//! Format checks that cut false positives: checksums and structure a real credential must have.

use base64::Engine as _;
use serde::Deserialize;

/// A structural check a candidate secret must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// GitHub `gh?_` tokens: the last 6 characters are the base62 CRC32 of the 30 random ones.
    GithubCrc32,
    /// npm `npm_` tokens: same scheme as GitHub's.
    NpmCrc32,
    /// A JSON Web Token: header and payload are base64url JSON objects, the header names `alg`.
    Jwt,
    /// A PEM/OpenSSH/PGP private key block whose body is base64 of a plausible length.
    PemBody,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 of `value`, left-padded with `0` to `width`.
pub fn base62(mut value: u32, width: usize) -> String {
    let mut digits = Vec::new();
    while value > 0 {
        digits.push(BASE62[(value % 62) as usize]);
        value /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

impl Validator {
    /// Does `secret` pass this check?
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubCrc32 | Validator::NpmCrc32 => crc32_token(secret),
            Validator::Jwt => jwt(secret),
            Validator::PemBody => pem_body(secret),
        }
    }
}

fn crc32_token(secret: &[u8]) -> bool {
    let Some(underscore) = secret.iter().rposition(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[underscore + 1..];
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, checksum) = body.split_at(30);
    base62(crc32fast::hash(random), 6).as_bytes() == checksum
}

fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if parts.next().is_some() || signature.len() < 16 {
        return false;
    }
    let decode = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let trimmed: Vec<u8> = part.iter().copied().filter(|&b| b != b'=').collect();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    match (decode(header), decode(payload)) {
        (Some(h), Some(p)) => h.contains_key("alg") && !is_documentation_jwt(&p),
        _ => false,
    }
}

/// The sample token shown by JWT documentation and debuggers (subject `1234567890`, John Doe).
fn is_documentation_jwt(payload: &serde_json::Map<String, serde_json::Value>) -> bool {
    payload.get("sub").and_then(serde_json::Value::as_str) == Some("1234567890")
        || payload.get("name").and_then(serde_json::Value::as_str) == Some("John Doe")
}

fn pem_body(secret: &[u8]) -> bool {
    let text = String::from_utf8_lossy(secret)
        .replace("\\n", "\n")
        .replace("\\r", "");
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.is_empty())
        // PGP armour ends with a `=XXXX` checksum line.
        .filter(|l| !(l.starts_with('=') && l.len() <= 5))
        .collect();
    body.len() >= 64
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        && crate::filters::distinct_bytes(body.as_bytes()) >= 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_crc32_matches_the_published_vector() {
        assert_eq!(
            base62(crc32fast::hash(b"fIkRGaBu5PeKsznMzXQOg3kETH1Sgx"), 6),
            "2oIfSC"
        );
        assert!(Validator::GithubCrc32.check(b"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")); // evident:allow published checksum test vector
        assert!(!Validator::GithubCrc32.check(b"ghp_fIkRGaBu5PeKsznMzXQOg3kETH1Sgx2oIfSD"));
        assert!(!Validator::GithubCrc32.check(b"ghp_short"));
    }

    #[test]
    fn jwt_needs_json_header_with_alg() {
        // Payload {"sub":"user-8812","name":"Jo"}.
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTg4MTIiLCJuYW1lIjoiSm8ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"; // evident:allow synthetic JWT test vector
        assert!(Validator::Jwt.check(good));
        // The documentation sample (subject 1234567890) is not a live token.
        let sample = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert!(!Validator::Jwt.check(sample));
        assert!(
            !Validator::Jwt
                .check(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y")
        );
        assert!(!Validator::Jwt.check(b"a.b.c"));
    }
}
