//! The package's README: what it holds and how to check it, for an auditor without evident.

use evident_ledger::note::Verifier;

use crate::Scope;

/// The README of a package of `count` records from the ledger `origin` at `size` entries.
pub(crate) fn readme(
    origin: &str,
    size: u64,
    verifier: &Verifier,
    count: usize,
    scope: &Scope,
) -> String {
    let scope = scope.describe();
    format!(
        "# Evidence package\n\n\
         This package holds {count} evidence records from the ledger `{origin}` (which had {size} entries when the \
         package was made){}.\n\n\
         Every record is signed, and every record is proven to be in the ledger by a Merkle inclusion proof \
         against the ledger's signed checkpoint. You can check all of it offline.\n\n\
         ## 1. Make sure you trust the key\n\n\
         The ledger is signed with this key:\n\n    {verifier}\n\n\
         Compare it with the key the organisation published or pinned in its `evident.toml` `[ledger] verifier_key` \
         (a key found only inside this package proves integrity, not who signed).\n\n\
         ## 2. Verify\n\n\
         With evident: `evident verify-package <this file> --vkey '<the key>'`.\n\n\
         Without evident, by hand:\n\
         1. `manifest.json` lists every file with its SHA-256; check them.\n\
         2. `checkpoint` is a C2SP signed note (c2sp.org/signed-note) over a C2SP tlog-checkpoint: origin, tree size, \
         root hash. Its Ed25519 signature must verify with the key above.\n\
         3. For each record `entries/N.json`: its leaf hash is SHA-256(0x00 ‖ file bytes). `proofs/N.tlog-proof` \
         (c2sp.org/tlog-proof@v1) holds the RFC 6962 inclusion proof of leaf N against the same checkpoint.\n\
         4. Each record carries a DSSE envelope (also in `envelopes/N.dsse.json`) whose payload is an in-toto \
         Statement v1; its Ed25519 signature over the DSSE pre-authentication encoding must verify with the same key.\n\
         5. Content files are in `blobs/sha256/<digest>`; each record lists the digests of its content.\n\n\
         ## What is where\n\n\
         - `index.json`: the records by control, with kind, subject, time and actor.\n\
         - `entries/`: the records exactly as logged.\n\
         - `envelopes/`: the signed statements, usable with any in-toto / DSSE tool.\n\
         - `proofs/`: one inclusion proof per record.\n\
         - `blobs/`: the evidence content (scan reports, SBOMs, files).\n",
        if scope.is_empty() {
            String::new()
        } else {
            format!(", selected by {scope}")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> Verifier {
        crate::fixture::key().verifier()
    }

    #[test]
    fn the_readme_names_the_ledger_the_key_and_the_selection() {
        let scope = Scope {
            control: Some("CC8.1".into()),
            subject: Some("env:prod".into()),
            ..Scope::default()
        };
        let key = verifier();
        let text = readme("evident.test/log", 7, &key, 3, &scope);
        assert!(text.starts_with("# Evidence package\n\n"), "{text}");
        assert!(
            text.contains(
                "holds 3 evidence records from the ledger `evident.test/log` (which had 7 entries \
                 when the package was made), selected by control CC8.1, subject env:prod.\n"
            ),
            "{text}"
        );
        assert!(text.contains(&format!("\n    {key}\n")), "{text}");
    }

    #[test]
    fn a_whole_ledger_package_says_no_selection() {
        let text = readme("evident.test/log", 7, &verifier(), 7, &Scope::default());
        assert!(
            text.contains("(which had 7 entries when the package was made).\n"),
            "{text}"
        );
    }
}
