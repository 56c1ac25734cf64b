//! S3's XML answers: errors and version listings.

use quick_xml::events::Event;

#[allow(clippy::wildcard_imports)]
use super::*;

/// Walks an XML document, calling `on_end(path, text)` at the end of every element, with the
/// path of element names from the root and the text directly inside the element (entities
/// resolved, trimmed).
fn walk_xml(body: &[u8], mut on_end: impl FnMut(&[String], &str)) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().expand_empty_elements = true;
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let decode_err = |e: quick_xml::encoding::EncodingError| format!("malformed XML text: {e}");
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML: {e}"))?;
        match event {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                texts.push(String::new());
            }
            Event::End(_) => {
                let text = texts.pop().unwrap_or_default();
                on_end(&path, text.trim());
                path.pop();
            }
            Event::Text(t) => {
                if let Some(buf) = texts.last_mut() {
                    buf.push_str(&t.decode().map_err(decode_err)?);
                }
            }
            Event::CData(t) => {
                if let Some(buf) = texts.last_mut() {
                    buf.push_str(&t.decode().map_err(decode_err)?);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r
                    .resolve_char_ref()
                    .map_err(|e| format!("malformed XML reference: {e}"))?
                {
                    Some(c) => c,
                    None => match r.decode().map_err(decode_err)?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(format!("unknown XML entity `&{other};`")),
                    },
                };
                if let Some(buf) = texts.last_mut() {
                    buf.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if path.is_empty() {
        Ok(())
    } else {
        Err("the XML document ends inside an element".to_owned())
    }
}

/// S3's error `Code` and `Message` in an error answer (`<Error><Code>…</Code>…`); nothing when
/// the body is empty or not such a document. Control characters are dropped and long messages
/// cut, as they end up in one-line diagnostics.
pub(super) fn parse_error(body: &[u8]) -> (Option<String>, Option<String>) {
    let mut code = None;
    let mut message = None;
    let walked = walk_xml(body, |path, text| {
        let clean = || {
            let text: String = text.chars().filter(|c| !c.is_control()).collect();
            match text.char_indices().nth(300) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        };
        match path {
            [root, field] if root == "Error" && field == "Code" && !text.is_empty() => {
                code = Some(clean());
            }
            [root, field] if root == "Error" && field == "Message" && !text.is_empty() => {
                message = Some(clean());
            }
            _ => {}
        }
    });
    if walked.is_err() {
        return (None, None);
    }
    (code, message)
}

/// One page of `ListObjectVersions`.
#[derive(Debug)]
pub(super) struct VersionsPage {
    pub(super) versions: Vec<ObjectVersion>,
    pub(super) truncated: bool,
    /// `NextKeyMarker` and `NextVersionIdMarker`.
    pub(super) next: Option<(String, String)>,
}

/// The versions of exactly `key` in a `ListVersionsResult` page, in the page's order.
pub(super) fn parse_versions(body: &[u8], key: &str) -> Result<VersionsPage, String> {
    #[derive(Default)]
    struct Entry {
        key: Option<String>,
        version_id: Option<String>,
        is_latest: bool,
        last_modified: Option<String>,
    }
    let mut root = None;
    let mut page = VersionsPage {
        versions: Vec::new(),
        truncated: false,
        next: None,
    };
    let (mut next_key, mut next_version) = (None, None);
    let mut entry = Entry::default();
    let mut missing_id = false;
    walk_xml(body, |path, text| {
        if path.len() == 1 {
            root = Some(path[0].clone());
        }
        if path.first().map(String::as_str) != Some("ListVersionsResult") {
            return;
        }
        match &path[1..] {
            [field] if field == "IsTruncated" => page.truncated = text == "true",
            [field] if field == "NextKeyMarker" => next_key = Some(text.to_owned()),
            [field] if field == "NextVersionIdMarker" => next_version = Some(text.to_owned()),
            [kind, field] if kind == "Version" || kind == "DeleteMarker" => match field.as_str() {
                "Key" => entry.key = Some(text.to_owned()),
                "VersionId" => entry.version_id = Some(text.to_owned()),
                "IsLatest" => entry.is_latest = text == "true",
                "LastModified" => entry.last_modified = Some(text.to_owned()),
                _ => {}
            },
            [kind] if kind == "Version" || kind == "DeleteMarker" => {
                let done = std::mem::take(&mut entry);
                if done.key.as_deref() == Some(key) {
                    match done.version_id {
                        Some(version_id) if !version_id.is_empty() => {
                            page.versions.push(ObjectVersion {
                                version_id,
                                is_latest: done.is_latest,
                                is_delete_marker: kind == "DeleteMarker",
                                last_modified: done.last_modified,
                            });
                        }
                        _ => missing_id = true,
                    }
                }
            }
            _ => {}
        }
    })?;
    match root.as_deref() {
        Some("ListVersionsResult") => {}
        Some(other) => return Err(format!("expected a ListVersionsResult, got <{other}>")),
        None => return Err("the answer is empty, not a ListVersionsResult".to_owned()),
    }
    if missing_id {
        return Err(format!("a version of `{key}` has no VersionId"));
    }
    page.next = next_key.zip(next_version);
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_parsed() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied &amp; &lt;locked&gt; &#x263A;</Message>
<RequestId>4442587FB7D0A2F9</RequestId><HostId/></Error>"#;
        assert_eq!(
            parse_error(body),
            (
                Some("AccessDenied".to_owned()),
                Some("Access Denied & <locked> \u{263a}".to_owned())
            )
        );
        assert_eq!(parse_error(b""), (None, None));
        assert_eq!(parse_error(b"<html>Bad gateway</html>"), (None, None));
        assert_eq!(parse_error(b"<Error><Code>Oops</Code>"), (None, None));
        assert_eq!(parse_error(b"not xml at all &"), (None, None));
        let long = format!(
            "<Error><Code>X</Code><Message>{}\u{7}</Message></Error>",
            "m".repeat(500)
        );
        let (_, message) = parse_error(long.as_bytes());
        assert_eq!(message.unwrap().chars().count(), 301);
        let wrapped = b"<Error><Code><![CDATA[SlowDown]]></Code></Error>";
        assert_eq!(parse_error(wrapped).0.as_deref(), Some("SlowDown"));
    }

    #[test]
    fn version_listings_are_parsed() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p/k</Prefix><KeyMarker/><VersionIdMarker/>
  <NextKeyMarker>p/k</NextKeyMarker><NextVersionIdMarker>v0</NextVersionIdMarker>
  <MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>
  <DeleteMarker><Key>p/k</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-11-22T10:00:03.000Z</LastModified></DeleteMarker>
  <Version><Key>p/k</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-11-22T10:00:02.000Z</LastModified><ETag>"x"</ETag><Size>4</Size></Version>
  <Version><Key>p/k2</Key><VersionId>other</VersionId><IsLatest>true</IsLatest></Version>
  <Version><Key>p/k</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest></Version>
</ListVersionsResult>"#;
        let page = parse_versions(body, "p/k").unwrap();
        let ids: Vec<(&str, bool, bool)> = page
            .versions
            .iter()
            .map(|v| (v.version_id.as_str(), v.is_latest, v.is_delete_marker))
            .collect();
        assert_eq!(
            ids,
            [
                ("v3", true, true),
                ("v2", false, false),
                ("v1", false, false)
            ]
        );
        assert!(page.truncated);
        assert_eq!(page.next, Some(("p/k".to_owned(), "v0".to_owned())));
        assert!(parse_versions(b"<Error><Code>X</Code></Error>", "k").is_err());
        assert!(parse_versions(b"", "k").is_err());
        let no_id = b"<ListVersionsResult><Version><Key>k</Key></Version></ListVersionsResult>";
        assert!(
            parse_versions(no_id, "k")
                .unwrap_err()
                .contains("no VersionId")
        );
    }
}
