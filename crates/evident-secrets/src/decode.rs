//! Encoded secrets: the base64 `data:` values of Kubernetes Secret manifests are decoded and
//! scanned as `key: "value"` lines, so a password hidden in base64 is found with its key name.

use base64::Engine as _;

/// One decoded `data:` entry of a Kubernetes Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEntry {
    /// Byte offset of the base64 value in the original file.
    pub value_start: usize,
    pub value_end: usize,
    /// Offset of the start of the value's line.
    pub line_start: usize,
    /// `key: "decoded"` (or the decoded text itself when it spans lines), ready to scan.
    pub text: Vec<u8>,
}

/// Is this file likely to hold a Kubernetes Secret?
pub fn has_kubernetes_secret(path: &str, data: &[u8]) -> bool {
    let yaml = match std::path::Path::new(path).extension() {
        Some(ext) => ["yaml", "yml", "json"]
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e)),
        // Standard input and extension-less names (`kubectl get -o yaml` output).
        None => true,
    };
    yaml && memchr::memmem::find(data, b"Secret").is_some()
        && memchr::memmem::find(data, b"kind").is_some()
}

/// Decodes the `data:` entries of every Secret document in `data` (YAML, line-based: robust to
/// templating that breaks a strict parser).
pub fn kubernetes_secret_entries(data: &[u8]) -> Vec<DecodedEntry> {
    let mut out = Vec::new();
    let mut in_secret = false;
    let mut data_indent: Option<usize> = None;
    let mut offset = 0usize;
    for raw_line in data.split_inclusive(|&b| b == b'\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = String::from_utf8_lossy(raw_line);
        let trimmed = line.trim_end();
        if trimmed == "---" {
            in_secret = false;
            data_indent = None;
            continue;
        }
        let indent = trimmed.len() - trimmed.trim_start().len();
        let content = trimmed.trim_start();
        if let Some(kind) = content.strip_prefix("kind:") {
            in_secret = kind.trim().trim_matches(['"', '\'']) == "Secret";
            continue;
        }
        if content == "data:"
            || content.starts_with("data: ") && content["data:".len()..].trim().is_empty()
        {
            data_indent = Some(indent);
            continue;
        }
        let Some(parent) = data_indent else { continue };
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if indent <= parent {
            data_indent = None;
            continue;
        }
        if !in_secret {
            continue;
        }
        let Some((key, value)) = content.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']);
        if value.len() < 4 {
            continue;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value) else {
            continue;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            continue;
        };
        let Some(rel) = line.find(value) else {
            continue;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        let text = if text.contains('\n') {
            text.into_bytes()
        } else {
            format!("{key}: \"{text}\"").into_bytes()
        };
        out.push(DecodedEntry {
            value_start: line_start + rel,
            value_end: line_start + rel + value.len(),
            line_start,
            text,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_secret_data_entries_only() {
        let yaml = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: aGVsbG8gd29ybGQ=\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  DB_PASSWORD: VHI0dmVsLVBhc3MtOTk=\n  user: YWRtaW4=\n";
        let entries = kubernetes_secret_entries(yaml);
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].text, b"DB_PASSWORD: \"Tr4vel-Pass-99\"".to_vec()); // evident:allow decoded test vector
        let v = &yaml[entries[0].value_start..entries[0].value_end];
        assert_eq!(v, b"VHI0dmVsLVBhc3MtOTk=");
    }
}
