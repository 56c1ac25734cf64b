//! The evidence the server records: the shared [`Draft`] of the store, with the server's
//! predicate types.

use evident_ledger::record::EvidenceKind;
use evident_ledger::statement::predicate_type;
pub use evident_store::draft::Draft;

/// The predicate type evident uses for a kind the server records.
pub fn predicate_type_for(kind: EvidenceKind) -> String {
    match kind {
        EvidenceKind::Event => predicate_type::EVIDENT_EVENT_V1.to_owned(),
        other => format!("https://evident.dev/attestations/{other}/v1"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use evident_store::blob::sha256_hex;
    use evident_store::draft::blob;
    use evident_store::timefmt;
    use jiff::Timestamp;
    use serde_json::Map;

    use super::*;

    #[test]
    fn builds_an_event_with_its_body_as_content() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let draft = Draft {
            kind: EvidenceKind::Event,
            subject: "env:github".into(),
            controls: Vec::new(),
            predicate_type: predicate_type_for(EvidenceKind::Event),
            actor: "webhook:github".into(),
            now,
            retain_until: timefmt::add_years(now, 7).unwrap(),
            labels: BTreeMap::from([("platform".into(), "github".into())]),
            predicate: Map::new(),
            content: vec![(blob("application/json", None), b"{}".to_vec())],
        };
        let ev = draft.build().unwrap();
        assert_eq!(ev.record.predicate_type, predicate_type::EVIDENT_EVENT_V1);
        assert_eq!(ev.content[0].0.sha256, sha256_hex(b"{}"));
        assert_eq!(ev.statement.predicate["time"], "2026-03-01T10:00:00Z");
        assert!(ev.statement.predicate["content"].is_array());
    }

    #[test]
    fn refuses_a_bad_subject() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let draft = Draft {
            kind: EvidenceKind::Security,
            subject: "env:not ok".into(),
            controls: Vec::new(),
            predicate_type: predicate_type_for(EvidenceKind::Security),
            actor: "x".into(),
            now,
            retain_until: now,
            labels: BTreeMap::new(),
            predicate: Map::new(),
            content: Vec::new(),
        };
        assert!(draft.build().is_err());
    }
}
