//! The log's signing key: one Ed25519 key that signs checkpoints (as a C2SP signed note) and
//! every evidence statement (as a DSSE envelope).
//!
//! The private key is kept as text in the signed-note private-key form
//! (`PRIVATE+KEY+<name>+<keyid>+<base64>`), in a file readable only by its owner or in an
//! environment variable for CI. The verifier key (`<name>+<keyid>+<base64>`) is public: publish
//! it where auditors can find it and pin it in `evident.toml`.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use evident_ledger::note::{Signer, Verifier};

/// Why a key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key text is not a valid key.
    #[error("{origin}: not a valid evident signing key: {reason}")]
    Invalid {
        /// Where the key came from.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// The key file is readable by others.
    #[error(
        "{0}: the signing key is readable by other users; run `chmod 600 {0}` (or generate a new key, as this one may be compromised)"
    )]
    TooOpen(PathBuf),
    /// Refusing to overwrite a key.
    #[error(
        "{0} already exists; pass --force to replace it (records signed with the old key then need the old verifier key)"
    )]
    Exists(PathBuf),
    /// No randomness.
    #[error("cannot read random bytes for a new key: {0}")]
    Random(String),
    /// A filesystem error.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The signing key of a log.
pub struct LogKey {
    signer: Signer,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("verifier", &self.verifier_text())
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A new random key named `name` (the log's origin, e.g. `evident.example.com/payments`).
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let signer = Signer::new(name, &seed).map_err(|e| KeyError::Invalid {
            origin: "key name".into(),
            reason: e.to_string(),
        })?;
        seed.fill(0);
        Ok(Self { signer })
    }

    /// Parses the private key text (as written by [`LogKey::generate`]).
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let signer = text.parse::<Signer>().map_err(|e| KeyError::Invalid {
            origin: origin.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self { signer })
    }

    /// Reads a key file, refusing one that others can read.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = fs::read_to_string(path).map_err(|source| KeyError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path)
                .map_err(|source| KeyError::Io {
                    action: "stat",
                    path: path.to_owned(),
                    source,
                })?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen(path.to_owned()));
            }
        }
        Self::parse(&text, &path.display().to_string())
    }

    /// Writes the private key to `path` with owner-only permissions.
    pub fn write(&self, path: &Path, force: bool) -> Result<(), KeyError> {
        if path.exists() && !force {
            return Err(KeyError::Exists(path.to_owned()));
        }
        let io_err = |action| {
            move |source| KeyError::Io {
                action,
                path: path.to_owned(),
                source,
            }
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err("create the folder of"))?;
        }
        let _ = fs::remove_file(path);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io_err("create"))?;
        file.write_all(format!("{}\n", self.signer.to_private_key_text()).as_bytes())
            .map_err(io_err("write"))?;
        file.sync_all().map_err(io_err("sync"))?;
        Ok(())
    }

    /// The key's name: the origin of the log it signs.
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The note signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The public verifier.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The verifier key text, `<name>+<keyid>+<base64>`.
    pub fn verifier_text(&self) -> String {
        self.verifier().to_string()
    }

    /// The Ed25519 key that signs DSSE envelopes.
    pub fn dsse_key(&self) -> &ed25519_dalek::SigningKey {
        self.signer.signing_key()
    }
}
