//! The package as a `.tar.gz`: every file under `evidence-package/`, written deterministically
//! and read back defensively.

use std::io::{self, Read, Write};

use crate::Files;

/// The folder every file of a package is in.
const ROOT: &str = "evidence-package/";

/// The largest file a package may hold: 1 GiB.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

/// Why a package could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A file could not be added to the archive.
    #[error("cannot write {name} into the package: {reason}")]
    File { name: String, reason: io::Error },
    /// The archive or its compression could not be completed.
    #[error("cannot finish the package: {0}")]
    Finish(io::Error),
}

/// Writes `files` as a gzip-compressed ustar archive into `out` and returns `out`. The same
/// files and `mtime` (Unix seconds, the package's creation) always give the same bytes: paths
/// in order, mode `0644`, no owner, no timestamp in the gzip header.
pub(crate) fn write_tar_gz<W: Write>(files: &Files, mtime: i64, out: W) -> Result<W, WriteError> {
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(u64::try_from(mtime).unwrap_or(0));
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{ROOT}{name}"), data.as_slice())
            .map_err(|reason| WriteError::File {
                name: name.clone(),
                reason,
            })?;
    }
    let gz = tar.into_inner().map_err(WriteError::Finish)?;
    gz.finish().map_err(WriteError::Finish)
}

/// Why an archive is not a readable package. Problems of the content (hashes, signatures,
/// proofs) are not errors but findings of [`crate::verify_package`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Not gzip, or not tar inside.
    #[error("not a .tar.gz package: {0}")]
    NotTarGz(io::Error),
    /// The archive breaks off or is corrupt.
    #[error("damaged archive: {0}")]
    Damaged(io::Error),
    /// A link, device or other special file.
    #[error("{0} is not a regular file")]
    NotRegular(String),
    /// A file outside the package's folder.
    #[error("{0} is outside evidence-package/")]
    Outside(String),
    /// An empty, `.` or `..` path component.
    #[error("unsafe path {0}")]
    UnsafePath(String),
    /// A file larger than [`MAX_FILE_SIZE`].
    #[error("{0} is larger than 1 GiB")]
    TooLarge(String),
    /// A file whose content could not be read.
    #[error("cannot read {name}: {reason}")]
    File { name: String, reason: io::Error },
    /// The same path twice.
    #[error("{0} appears twice")]
    Duplicate(String),
}

/// Reads every regular file of a package `.tar.gz` into memory, by its path under
/// `evidence-package/`, refusing unsafe, oversized or duplicate paths and special files.
pub fn read_package<R: Read>(package: R) -> Result<Files, ReadError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package));
    let mut files = Files::new();
    for entry in archive.entries().map_err(ReadError::NotTarGz)? {
        let mut entry = entry.map_err(ReadError::Damaged)?;
        let name = entry
            .path()
            .map_err(ReadError::Damaged)?
            .to_string_lossy()
            .into_owned();
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            if kind.is_dir() {
                continue;
            }
            return Err(ReadError::NotRegular(name));
        }
        let rel = name
            .strip_prefix(ROOT)
            .ok_or_else(|| ReadError::Outside(name.clone()))?
            .to_owned();
        if rel
            .split('/')
            .any(|p| p.is_empty() || p == ".." || p == ".")
        {
            return Err(ReadError::UnsafePath(name));
        }
        if entry.size() > MAX_FILE_SIZE {
            return Err(ReadError::TooLarge(name));
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|reason| ReadError::File {
                name: name.clone(),
                reason,
            })?;
        if files.insert(rel, data).is_some() {
            return Err(ReadError::Duplicate(name));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files::from([
            ("manifest.json".to_owned(), b"{}".to_vec()),
            ("entries/0.json".to_owned(), b"entry".to_vec()),
            ("blobs/sha256/ab".to_owned(), Vec::new()),
        ])
    }

    /// An archive of raw `(path, type, content)` members, paths written as given (the tar
    /// crate's own checks bypassed), as a hostile package would be.
    fn raw_archive(members: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (path, kind, data) in members {
            let mut header = tar::Header::new_ustar();
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(*kind);
            header.set_cksum();
            tar.append(&header, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn what_is_written_is_read_back_the_same_bytes_every_time() {
        let files = files();
        let once = write_tar_gz(&files, 1_772_359_200, Vec::new()).unwrap();
        let twice = write_tar_gz(&files, 1_772_359_200, Vec::new()).unwrap();
        assert_eq!(once, twice);
        assert_eq!(read_package(once.as_slice()).unwrap(), files);
        let later = write_tar_gz(&files, 1_772_359_201, Vec::new()).unwrap();
        assert_ne!(once, later, "the creation time is the files' mtime");
    }

    #[test]
    fn members_are_in_path_order_under_the_package_folder() {
        let bytes = write_tar_gz(&files(), 0, Vec::new()).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "evidence-package/blobs/sha256/ab",
                "evidence-package/entries/0.json",
                "evidence-package/manifest.json",
            ]
        );
    }

    #[test]
    fn hostile_archives_are_refused() {
        use tar::EntryType::{Directory, Regular, Symlink};
        let refused = |members: &[(&str, tar::EntryType, &[u8])]| {
            read_package(raw_archive(members).as_slice()).unwrap_err()
        };
        assert!(matches!(
            refused(&[("evidence-package/../etc/passwd", Regular, b"x")]),
            ReadError::UnsafePath(_)
        ));
        assert!(matches!(
            refused(&[("evidence-package/a//b", Regular, b"x")]),
            ReadError::UnsafePath(_)
        ));
        assert!(matches!(
            refused(&[("elsewhere/manifest.json", Regular, b"x")]),
            ReadError::Outside(_)
        ));
        assert!(matches!(
            refused(&[("evidence-package/link", Symlink, b"")]),
            ReadError::NotRegular(_)
        ));
        let twice = refused(&[
            ("evidence-package/checkpoint", Regular, b"a"),
            ("evidence-package/checkpoint", Regular, b"b"),
        ]);
        assert_eq!(
            twice.to_string(),
            "evidence-package/checkpoint appears twice"
        );
        // Folders are skipped.
        let files = read_package(
            raw_archive(&[
                ("evidence-package/entries/", Directory, b""),
                ("evidence-package/entries/0.json", Regular, b"e"),
            ])
            .as_slice(),
        )
        .unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["entries/0.json"]);
    }

    #[test]
    fn what_is_not_a_tar_gz_is_refused() {
        let e = read_package(&b"not gzip at all"[..]).unwrap_err();
        assert!(
            matches!(e, ReadError::NotTarGz(_) | ReadError::Damaged(_)),
            "{e:?}"
        );
        let whole = write_tar_gz(&files(), 0, Vec::new()).unwrap();
        let cut = &whole[..whole.len() / 2];
        assert!(read_package(cut).is_err());
    }
}
