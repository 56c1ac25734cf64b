//! rpm's database: `rpmdb.sqlite` (table `Packages(hnum, blob)`), each blob an RPM header.
//!
//! A header blob is `il` (index entry count) and `dl` (data length), both big-endian `u32`, then
//! `il` index entries of 16 bytes (`tag`, `type`, `offset`, `count`, big-endian), then `dl` bytes
//! of data. Headers read from `.rpm` files carry an 8-byte magic first; both forms are accepted.
//! Every offset is checked against the data store; a bad header is an error, never a panic.
//!
//! The BerkeleyDB (`Packages`) and NDB (`Packages.db`) formats are not read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{DbPackage, DbRecords, Notes};

/// Header tags read.
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

/// Value types.
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX`).
const MAX_TAGS: u32 = 0xffff;
const MAX_DATA: u32 = 0x0fff_ffff;

/// The magic of a header as stored in a `.rpm` file.
const HEADER_MAGIC: [u8; 8] = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];

/// The fields of an RPM header that evident reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    /// `None` when the package has no epoch (rpm compares it as 0).
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    pub license: Option<String>,
    /// `openssl-3.0.7-25.el9.src.rpm`.
    pub source_rpm: Option<String>,
}

impl RpmHeader {
    /// `epoch:version-release`, without the epoch when it is absent or 0 — as the RHEL-family
    /// OSV records (Red Hat, AlmaLinux, Rocky Linux) write fixed versions.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) if e > 0 => format!("{e}:{}-{}", self.version, self.release),
            _ => format!("{}-{}", self.version, self.release),
        }
    }
}

/// A header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeaderError(String);

fn err<T>(msg: impl Into<String>) -> Result<T, HeaderError> {
    Err(HeaderError(msg.into()))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses one header blob.
pub fn parse_header(blob: &[u8]) -> Result<RpmHeader, HeaderError> {
    let blob = blob.strip_prefix(&HEADER_MAGIC[..]).unwrap_or(blob);
    let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
        return err(format!("header of {} bytes is too short", blob.len()));
    };
    if il == 0 || il > MAX_TAGS {
        return err(format!("bad index entry count {il}"));
    }
    if dl > MAX_DATA {
        return err(format!("bad data length {dl}"));
    }
    let index_len = il as usize * 16;
    let data_start = 8 + index_len;
    let data_end = data_start + dl as usize;
    let Some(data) = blob.get(data_start..data_end) else {
        return err(format!(
            "header says {il} entries and {dl} data bytes, but has only {} bytes",
            blob.len()
        ));
    };
    let mut h = RpmHeader::default();
    let (mut name, mut version, mut release) = (None, None, None);
    for i in 0..il as usize {
        let at = 8 + i * 16;
        let (Some(tag), Some(ty), Some(offset), Some(count)) = (
            be32(blob, at),
            be32(blob, at + 4),
            be32(blob, at + 8),
            be32(blob, at + 12),
        ) else {
            return err(format!("index entry {i} is truncated"));
        };
        let slot = match tag {
            TAG_NAME => &mut name,
            TAG_VERSION => &mut version,
            TAG_RELEASE => &mut release,
            TAG_ARCH => &mut h.arch,
            TAG_LICENSE => &mut h.license,
            TAG_SOURCERPM => &mut h.source_rpm,
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count == 0 {
                    return err(format!("EPOCH has type {ty} and count {count}"));
                }
                let Some(e) = be32(data, offset as usize) else {
                    return err(format!("EPOCH offset {offset} is outside the data"));
                };
                h.epoch = Some(e);
                continue;
            }
            _ => continue,
        };
        *slot = Some(string_at(data, tag, ty, offset)?);
    }
    let (Some(name), Some(version), Some(release)) = (name, version, release) else {
        return err("NAME, VERSION or RELEASE is missing");
    };
    h.name = name;
    h.version = version;
    h.release = release;
    Ok(h)
}

fn string_at(data: &[u8], tag: u32, ty: u32, offset: u32) -> Result<String, HeaderError> {
    if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
        return err(format!("tag {tag} has type {ty}, not a string"));
    }
    let Some(rest) = data.get(offset as usize..) else {
        return err(format!("tag {tag} offset {offset} is outside the data"));
    };
    let Some(end) = rest.iter().position(|&b| b == 0) else {
        return err(format!("tag {tag} string is not terminated"));
    };
    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// `openssl-3.0.7-25.el9.src.rpm` → (`openssl`, `3.0.7-25.el9`).
pub fn split_source_rpm(srpm: &str) -> Option<(String, String)> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}")))
}

/// Turns a header into a package record (`gpg-pubkey` entries, imported signing keys, are not
/// packages: `None`).
pub fn record(h: &RpmHeader) -> Option<DbPackage> {
    if h.name == "gpg-pubkey" {
        return None;
    }
    let version = h.evr();
    let source = h.source_rpm.as_deref().and_then(split_source_rpm);
    let (source_name, source_version) = match source {
        Some((n, v)) => {
            let v = match h.epoch {
                Some(e) if e > 0 => format!("{e}:{v}"),
                _ => v,
            };
            (Some(n), Some(v))
        }
        None => (None, None),
    };
    Some(DbPackage {
        name: h.name.clone(),
        version,
        arch: h.arch.clone().filter(|a| !a.is_empty() && a != "(none)"),
        source_name,
        source_version,
        licenses: h
            .license
            .clone()
            .filter(|l| !l.is_empty())
            .into_iter()
            .collect(),
        epoch: h.epoch.filter(|e| *e > 0),
    })
}

/// Reads the packages of an `rpmdb.sqlite` file's contents.
///
/// SQLite reads files, so the bytes go to a private temporary file, opened read-only and
/// immutable, and removed afterwards. The work runs on its own thread with a current-thread
/// tokio runtime, so this is safe to call from inside another runtime.
pub fn read_rpmdb(bytes: &[u8], path: &str) -> Result<DbRecords, String> {
    let tmp = TempFile::create(bytes).map_err(|e| format!("cannot stage the database: {e}"))?;
    let file = tmp.path.clone();
    let rows = std::thread::scope(|s| {
        s.spawn(move || query_blobs(&file))
            .join()
            .unwrap_or_else(|_| Err("the SQLite reader failed".to_owned()))
    })?;
    let mut out = DbRecords::default();
    let mut notes = Notes::new(path);
    for (hnum, blob) in rows {
        match parse_header(&blob) {
            Ok(h) => out.packages.extend(record(&h)),
            Err(e) => notes.push(format!("package {hnum}: {e}; not counted")),
        }
    }
    out.notes = notes.finish();
    Ok(out)
}

fn query_blobs(file: &Path) -> Result<Vec<(i64, Vec<u8>)>, String> {
    use sqlx::Row;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    rt.block_on(async {
        // The file comes from the image: functions in its schema are not trusted, and
        // `Packages` must be a real table (a view could generate rows without end).
        let options = SqliteConnectOptions::new()
            .filename(file)
            .read_only(true)
            .immutable(true)
            .pragma("trusted_schema", "OFF");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| format!("not an SQLite database: {e}"))?;
        let kind: Result<Option<(String, String)>, String> = sqlx::query_as(
            "SELECT type, COALESCE(sql, '') FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE",
        )
        .fetch_optional(&pool)
        .await
        .map_err(|e| format!("not an SQLite database: {e}"));
        let rows = match kind {
            Ok(Some((ty, sql)))
                if ty == "table" && !sql.trim_start().to_ascii_uppercase().starts_with("CREATE VIRTUAL") =>
            {
                sqlx::query("SELECT hnum, blob FROM Packages ORDER BY hnum")
                    .fetch_all(&pool)
                    .await
                    .map_err(|e| format!("cannot read the Packages table: {e}"))
            }
            Ok(Some((ty, _))) => Err(format!("`Packages` is a {ty}, not a table")),
            Ok(None) => Err("no `Packages` table".to_owned()),
            Err(e) => Err(e),
        };
        pool.close().await;
        let mut out = Vec::new();
        for row in rows? {
            let hnum: i64 = row.try_get(0).map_err(|e| format!("bad row: {e}"))?;
            let blob: Vec<u8> = row
                .try_get(1)
                .map_err(|e| format!("package {hnum}: bad blob: {e}"))?;
            out.push((hnum, blob));
        }
        Ok(out)
    })
}

/// A file in the temporary directory, created exclusively, removed on drop.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn create(bytes: &[u8]) -> std::io::Result<Self> {
        use std::hash::{BuildHasher, Hasher};
        use std::io::Write;
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut attempt = 0;
        loop {
            // A random name (the hasher's keys are random per process and call), created
            // exclusively: an existing file is never opened.
            let random = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish();
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "evident-rpmdb-{}-{n}-{random:016x}.sqlite",
                std::process::id()
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let tmp = TempFile { path };
                    f.write_all(bytes)?;
                    f.sync_all()?;
                    return Ok(tmp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, value) entries.
    fn header(entries: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, value) in entries {
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&1u32.to_be_bytes());
            data.extend_from_slice(value);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn reads_fields() {
        let blob = header(&[
            (TAG_NAME, TYPE_STRING, b"openssl-libs\0"),
            (TAG_VERSION, TYPE_STRING, b"3.0.7\0"),
            (TAG_RELEASE, TYPE_STRING, b"25.el9\0"),
            (TAG_EPOCH, TYPE_INT32, &1u32.to_be_bytes()),
            (TAG_ARCH, TYPE_STRING, b"x86_64\0"),
            (TAG_LICENSE, TYPE_STRING, b"ASL 2.0\0"),
            (
                TAG_SOURCERPM,
                TYPE_STRING,
                b"openssl-3.0.7-25.el9.src.rpm\0",
            ),
        ]);
        let h = parse_header(&blob).unwrap();
        assert_eq!(h.evr(), "1:3.0.7-25.el9");
        let mut with_magic = HEADER_MAGIC.to_vec();
        with_magic.extend_from_slice(&blob);
        assert_eq!(parse_header(&with_magic).unwrap(), h);
        let r = record(&h).unwrap();
        assert_eq!(r.source_name.as_deref(), Some("openssl"));
        assert_eq!(r.source_version.as_deref(), Some("1:3.0.7-25.el9"));
        assert_eq!(r.licenses, ["ASL 2.0"]);
        assert_eq!(r.epoch, Some(1));
    }

    #[test]
    fn rejects_bad_offsets() {
        let mut blob = header(&[
            (TAG_NAME, TYPE_STRING, b"bash\0"),
            (TAG_VERSION, TYPE_STRING, b"5.1\0"),
            (TAG_RELEASE, TYPE_STRING, b"1\0"),
        ]);
        // Point VERSION's offset far outside the data.
        blob[8 + 16 + 8..8 + 16 + 12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        assert!(parse_header(&blob).unwrap_err().0.contains("outside"));
        assert!(parse_header(&[0, 0, 0, 1]).is_err());
        assert!(parse_header(&[0xff; 16]).is_err());
        let unterminated = header(&[(TAG_NAME, TYPE_STRING, b"bash")]);
        assert!(parse_header(&unterminated).is_err());
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("glibc-2.34-60.el9.src.rpm"),
            Some(("glibc".into(), "2.34-60.el9".into()))
        );
        assert_eq!(
            split_source_rpm("python3-pip-21.2.3-7.el9.noarch.rpm"),
            None
        );
        assert_eq!(split_source_rpm("x.src.rpm"), None);
    }
}
