//! False-positive discipline: what looks like a secret but is not one.

/// Shannon entropy of `bytes`, in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Number of distinct byte values in `bytes`.
pub fn distinct_bytes(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    for &b in bytes {
        seen[b as usize] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

/// Words that mark documentation examples and placeholders rather than live credentials.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxx",
    "****",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpass",
    "dummy",
    "redacted",
    "replace_me",
    "replaceme",
    "replace-me",
    "<",
    ">",
    "...",
    "…",
    "insert_",
    "fake",
    "notreal",
    "not_real",
    "not-a-real",
    "put your",
    "unique phrase",
    "sample",
    "12345678",
    "abcdefgh",
    "000000",
];

/// Is this value a documentation example or a placeholder (`<your-key>`, `xxxx`, `changeme`)?
pub fn is_placeholder(secret: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    // A run of one repeated character covering most of the value (`aaaaaaaa`, `0000…`).
    let bytes = lower.as_bytes();
    distinct_bytes(bytes) <= 3 && bytes.len() >= 6
}

/// Is this value a reference to a secret held elsewhere (`${VAR}`, `${{ secrets.X }}`,
/// `{{ .Values.x }}`, `os.environ[...]`, `process.env.X`, a bare identifier)?
pub fn is_reference(secret: &[u8]) -> bool {
    let text = String::from_utf8_lossy(secret);
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    let starts = [
        "$", "{{", "%(", "%{", "#{", "<%", "{%", "@Value", "!Ref", "!Sub", "!GetAtt", "ENC[",
    ];
    if starts.iter().any(|s| t.starts_with(s)) {
        return true;
    }
    let contains = [
        "${",
        "{{",
        "}}",
        "os.environ",
        "os.getenv",
        "getenv(",
        "process.env",
        "env(",
        "ENV[",
        "secrets.",
        "vault:",
        "ssm:",
        "secretsmanager:",
        "System.getenv",
        "config[",
        "settings.",
        "Environment.GetEnvironmentVariable",
    ];
    if contains.iter().any(|s| t.contains(s)) {
        return true;
    }
    // A call or an attribute path: `get_secret("x")`, `config.db.password`, `self.password`.
    if t.ends_with(')') && t.contains('(') {
        return true;
    }
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    if t.contains('.') && t.split('.').all(ident) && !t.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    // An environment-variable name such as `DB_PASSWORD`.
    t.len() >= 3
        && t.bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        && t.contains('_')
}

/// Values that are well-known defaults or obvious non-values rather than credentials.
const NON_VALUES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "postgres",
    "mysql",
    "root",
    "admin",
    "guest",
    "test",
    "testing",
    "pass",
    "default",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "hidden",
    "masked",
    "filtered",
    "[filtered]",
    "required",
    "optional",
    "string",
    "str",
    "bytes",
    "sensitive",
    "secure",
    "insecure",
    "unset",
];

/// For context-based (generic) rules: is this value something other than a credential — a
/// reference, code, a path, a URL, a hash under a hash-like key, a default, or metadata named by
/// the key (`password_file`, `token_type`, `secret_name`)?
pub fn is_generic_false_positive(value: &[u8], key: Option<&[u8]>) -> bool {
    let text = String::from_utf8_lossy(value);
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if is_reference(value) {
        return true;
    }
    if NON_VALUES.contains(&lower.as_str()) {
        return true;
    }
    // Code, paths, URLs, tags and templated placeholders.
    if looks_like_code(t)
        || t.contains("->")
        || t.contains("::")
        || t.starts_with('/')
        || t.starts_with("./")
        || t.starts_with("~/")
        || t.starts_with('!')
        || t.starts_with('{')
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("file:")
        || t.starts_with("__") && t.ends_with("__")
        || lower.contains("not-the-real")
        || lower.contains("not_the_real")
        || lower.contains("notthereal")
    {
        return true;
    }
    // `id=pip_conf,…`: an option list, not a value.
    if let Some((head, rest)) = t.split_once('=')
        && !head.is_empty()
        && !rest.is_empty()
        && !rest.starts_with('=')
        && head
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && head.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
    {
        return true;
    }
    // Plain words and identifiers (`userPassword`, `hunter`, `pass%20word`) rather than
    // generated secrets.
    let decoded = percent_decode(t);
    if decoded.len() <= 24 && is_identifier_like(&decoded) {
        return true;
    }
    // Prose (`"The password for the key store"`) and bracketed placeholders (`[token]`).
    if t.starts_with('[') || t.starts_with('<') || is_prose(t) {
        return true;
    }
    // A date or a time (`PasswordLastUsed: 2016-09-19T…`).
    let b = t.as_bytes();
    if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' {
        return true;
    }
    let Some(key) = key else {
        return is_hash_like(value);
    };
    let key = String::from_utf8_lossy(key);
    let lower_key = key.to_ascii_lowercase();
    // The value repeats the key (`password_field = "password"`).
    if !lower.is_empty() && lower_key.contains(lower.as_str()) {
        return true;
    }
    !key_names_a_credential(&key)
        || is_uuid(t) && !lower_key.contains("key") && !lower_key.contains("secret")
}

/// The last word of a key name, once environment and encoding suffixes are dropped, must name a
/// credential: `DB_PASSWORD`, `clientSecret`, `x-api-key`, `SECRET_KEY_BASE` do;
/// `password_min_length`, `token_type`, `secret_name`, `PasswordMgrWithDefaultRealm` do not.
pub fn key_names_a_credential(key: &str) -> bool {
    let words = split_key_words(key);
    let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
    while let Some(last) = words.last() {
        let suffix = matches!(
            *last,
            "prod"
                | "production"
                | "dev"
                | "development"
                | "staging"
                | "stage"
                | "test"
                | "testing"
                | "live"
                | "sandbox"
                | "local"
                | "qa"
                | "uat"
                | "value"
                | "val"
                | "str"
                | "string"
                | "b64"
                | "base64"
                | "hex"
                | "raw"
                | "encoded"
                | "plain"
                | "plaintext"
                | "new"
                | "old"
                | "current"
                | "default"
        ) || last.bytes().all(|b| b.is_ascii_digit())
            || (last.len() <= 3
                && last.starts_with('v')
                && last[1..].bytes().all(|b| b.is_ascii_digit()));
        if suffix && words.len() > 1 {
            words.pop();
        } else {
            break;
        }
    }
    let Some(last) = words.last() else {
        return false;
    };
    let last = last.trim_end_matches(|c: char| c.is_ascii_digit());
    // Pagination and request-flow tokens are not credentials.
    if matches!(last, "token" | "tokens")
        && words.len() > 1
        && matches!(
            words[words.len() - 2],
            "next"
                | "page"
                | "continuation"
                | "pagination"
                | "cursor"
                | "marker"
                | "csrf"
                | "xsrf"
                | "idempotency"
                | "request"
                | "sync"
                | "resume"
                | "grant"
                | "import"
                | "cancel"
                | "state"
                | "change"
                | "update"
                | "copy"
                | "verification"
                | "confirmation"
                | "confirm"
                | "client"
                | "upload"
                | "download"
                | "registration"
        )
    {
        return false;
    }
    matches!(
        last,
        "password"
            | "passwd"
            | "pwd"
            | "passphrase"
            | "pass"
            | "secret"
            | "secrets"
            | "key"
            | "keys"
            | "token"
            | "tokens"
            | "salt"
            | "credential"
            | "credentials"
            | "apikey"
            | "accesskey"
            | "secretkey"
            | "privatekey"
            | "authkey"
            | "appkey"
            | "masterkey"
            | "signingkey"
            | "encryptionkey"
            | "requirepass"
            | "auth"
            | "base"
            | "pat"
            | "clientsecret"
            | "authtoken"
            | "accesstoken"
            | "refreshtoken"
            | "bearer"
    )
}

/// Splits a key name into lower-case words on `_`, `-`, `.`, spaces, quotes and camelCase.
fn split_key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let boundary = i > 0
            && c.is_ascii_uppercase()
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_uppercase()
                    && chars.get(i + 1).is_some_and(char::is_ascii_lowercase));
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Two or more plain words separated by spaces: a sentence, not a credential.
fn is_prose(t: &str) -> bool {
    let words: Vec<&str> = t.split(' ').filter(|w| !w.is_empty()).collect();
    words.len() >= 2
        && words
            .iter()
            .filter(|w| {
                w.len() >= 2
                    && w.bytes().all(|b| b.is_ascii_alphabetic())
                    && w[1..].bytes().all(|b| b.is_ascii_lowercase())
            })
            .count()
            >= 2
}

/// A call or an index into a variable: `forms.CharField(`, `self.data[`, `function(t)`.
fn looks_like_code(t: &str) -> bool {
    let Some(open) = t.find(['(', '[']) else {
        return false;
    };
    let head = &t[..open];
    head.len() >= 3
        && head
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'.' || b == b'_' || b == b'$')
}

/// A word or an identifier in a common naming style (`hunter`, `userPassword`, `DB_HOST`,
/// `my-service`), as opposed to a random mix of cases.
fn is_identifier_like(t: &str) -> bool {
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-' || b == b' ')
    {
        return false;
    }
    t.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .all(|word| {
            let b = word.as_bytes();
            let all_upper = b.iter().all(u8::is_ascii_uppercase);
            // camelCase / PascalCase: an upper-case letter only at the start of each part, and
            // every part at least two letters long.
            let mut parts = 0;
            let mut run = 0;
            let mut ok = true;
            for (i, c) in b.iter().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    ok &= run >= 2;
                    parts += 1;
                    run = 1;
                } else {
                    run += 1;
                }
                if i > 0 && c.is_ascii_uppercase() && b[i - 1].is_ascii_uppercase() {
                    ok = false;
                }
            }
            all_upper || (ok && run >= 2 && parts <= 4)
        })
}

/// `%XX` escapes decoded (URL user-info); anything malformed is kept as written.
fn percent_decode(t: &str) -> String {
    if !t.contains('%') {
        return t.to_owned();
    }
    let bytes = t.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (
                (bytes[i + 1] as char).to_digit(16),
                (bytes[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Is this value a hash, a digest or an integrity string rather than a credential?
pub fn is_hash_like(secret: &[u8]) -> bool {
    let text = String::from_utf8_lossy(secret);
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    for prefix in [
        "sha1-", "sha256-", "sha384-", "sha512-", "sha1:", "sha256:", "sha512:", "md5:", "h1:",
    ] {
        if lower.starts_with(prefix) {
            return true;
        }
    }
    let hex = t.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && matches!(t.len(), 32 | 40 | 56 | 64 | 96 | 128)) || is_uuid(t)
}

/// Is this an RFC 4122-shaped UUID?
pub fn is_uuid(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Source files in a programming language (where `x = y` assigns an expression, not a literal).
/// Shell scripts, Dockerfiles and Makefiles are not in the list: their bare values are literals.
pub fn is_code(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((_, ext)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(
        ext.to_ascii_lowercase().as_str(),
        "rs" | "py"
            | "pyi"
            | "js"
            | "jsx"
            | "mjs"
            | "cjs"
            | "ts"
            | "tsx"
            | "go"
            | "java"
            | "kt"
            | "kts"
            | "scala"
            | "cs"
            | "fs"
            | "vb"
            | "c"
            | "h"
            | "cc"
            | "cpp"
            | "cxx"
            | "hpp"
            | "hh"
            | "m"
            | "mm"
            | "swift"
            | "rb"
            | "php"
            | "pl"
            | "pm"
            | "lua"
            | "dart"
            | "ex"
            | "exs"
            | "erl"
            | "hs"
            | "ml"
            | "clj"
            | "cljs"
            | "groovy"
            | "gradle"
            | "tf"
            | "hcl"
            | "r"
            | "jl"
            | "vue"
            | "svelte"
            | "zig"
            | "nim"
            | "cr"
            | "v"
            | "sol"
    )
}

/// Lockfiles and checksum files hold integrity hashes, never credentials: generic rules skip them.
pub fn is_lockfile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "Cargo.lock"
            | "go.sum"
            | "poetry.lock"
            | "uv.lock"
            | "Pipfile.lock"
            | "composer.lock"
            | "Gemfile.lock"
            | "packages.lock.json"
            | "gradle.lockfile"
            | "flake.lock"
            | "mix.lock"
            | "pubspec.lock"
            | "Package.resolved"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_orders_random_above_repetitive() {
        assert!(entropy(b"aaaaaaaa") < 0.01);
        assert!(entropy(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9aB3kQ2p") > 4.0);
    }

    #[test]
    fn placeholders_and_references_are_recognised() {
        for p in [
            "<your-key>",
            "xxxxxxxxxxxxxxxx",
            "changeme",
            "AKIAIOSFODNN7EXAMPLE",
            "********",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        assert!(!is_placeholder(b"Zq3v9LkP0wR7tYb2"));
        for r in [
            "${DB_PASSWORD}",
            "${{ secrets.TOKEN }}",
            "{{ .Values.password }}",
            "os.environ['X']",
            "process.env.API_KEY",
            "DB_PASSWORD",
            "config.db.password",
            "get_secret(\"db\")",
        ] {
            assert!(is_reference(r.as_bytes()), "{r}");
        }
        assert!(!is_reference(b"s3cr3t-Pa55w0rd!"));
        for word in [
            "hunter",
            "userPassword",
            "DB_HOST",
            "my-service",
            "PasswordInput",
        ] {
            assert!(is_identifier_like(word), "{word}");
        }
        for random in ["XLTMptdXJh-xNw", "qWeRtYuIoP", "Zq3v9LkP0wR7tYb2"] {
            assert!(!is_identifier_like(random), "{random}");
        }
        assert!(looks_like_code(
            "forms.CharField(widget=forms.PasswordInput"
        ));
        assert!(looks_like_code("self.cleaned_data["));
        assert!(!looks_like_code("Pza1Rz(bi_9Xy2crHpNq"));
    }

    #[test]
    fn hashes_and_uuids_are_not_secrets() {
        assert!(is_hash_like(b"d41d8cd98f00b204e9800998ecf8427e"));
        assert!(is_hash_like(b"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="));
        assert!(is_hash_like(b"123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_hash_like(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9aB3kQ2p"));
    }
}
