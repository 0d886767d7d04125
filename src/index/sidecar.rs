//! Files written beside a commit and named by its vector token (the mapper's tables, the
//! titles-and-tools table): postcard behind a header that says what the file is and its layout,
//! the body's CRC-32 and its length; written atomically (temporary file, sync, rename) and read
//! back only when whole, so a reader never takes a damaged or foreign file for tables.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tantivy::Searcher;

use crate::error::{Error, Result};

/// One kind of file: its name's prefix and its magic (what it is, and its layout's version in
/// the last two bytes; bump them when what the file holds or how it is built changes).
#[derive(Debug, Clone, Copy)]
pub struct Sidecar {
    /// `map-tables-` names `map-tables-<token>.bin`.
    pub prefix: &'static str,
    pub magic: &'static [u8; 8],
    /// What the file holds, for messages ("the mapper's tables").
    pub what: &'static str,
}

impl Sidecar {
    /// The file of the commit with vector token `token`.
    pub fn path(&self, dir: &Path, token: &str) -> PathBuf {
        dir.join(format!("{}{token}.bin", self.prefix))
    }

    /// `value` encoded with its header.
    pub fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>> {
        let body = self.body_of(value)?;
        Ok([self.header(&body), body].concat())
    }

    fn body_of<T: Serialize>(&self, value: &T) -> Result<Vec<u8>> {
        postcard::to_stdvec(value)
            .map_err(|e| Error::Invalid(format!("{} do not encode: {e}", self.what)))
    }

    /// The header before `body`: the magic, the body's CRC-32 and its length.
    fn header(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        out.extend_from_slice(self.magic);
        out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out
    }

    /// The body of a file's `bytes`, when they are whole and of this layout.
    fn body<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        let rest = bytes.strip_prefix(self.magic)?;
        let crc = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
        let len = u64::from_le_bytes(rest.get(4..12)?.try_into().ok()?);
        let body = rest.get(12..)?;
        (body.len() as u64 == len && crc32fast::hash(body) == crc).then_some(body)
    }

    /// The value in `bytes`, or `None` when they are not whole, damaged or of another layout.
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        postcard::from_bytes(self.body(bytes)?).ok()
    }

    /// The value written for the commit with `token`, when its file is there and sound. The file
    /// is mapped, not read into a buffer: the mapper's tables are about 100 MB at 2M statements,
    /// and a copy of them would be decoded once and thrown away.
    pub fn read<T: DeserializeOwned>(&self, dir: &Path, token: &str) -> Option<T> {
        let file = std::fs::File::open(self.path(dir, token)).ok()?;
        // SAFETY: a sidecar file is written to a temporary name, synced and renamed, and never
        // changed afterwards (each commit has its own file name; old ones are only removed), so
        // the mapping does not change under the reader.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        self.decode(&map)
    }

    /// Writes `value` as the file of the commit with `token` (temporary file, sync, rename) and
    /// removes the files of other commits. A failure leaves no file of `token`.
    pub fn write<T: Serialize>(&self, dir: &Path, token: &str, value: &T) -> Result<()> {
        let target = self.path(dir, token);
        let tmp = target.with_extension("tmp");
        let written = self
            .stream(&tmp, value)
            .and_then(|()| std::fs::rename(&tmp, &target).map_err(|e| e.to_string()));
        if let Err(cause) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::WriteFailed {
                path: target,
                cause,
                committed: true,
            });
        }
        self.remove_others(dir, Some(token));
        Ok(())
    }

    /// Writes `value` with its header to `path` as it encodes, with no copy of the encoded body
    /// in memory (the mapper's tables of a 2M-statement index encode to about 390 MB): the header
    /// with a zero checksum and length first, then the body through a writer that checksums and
    /// counts it, then the checksum and length in their place, then a sync.
    fn stream<T: Serialize>(&self, path: &Path, value: &T) -> std::result::Result<(), String> {
        use std::io::{Seek, SeekFrom};
        let io = |e: std::io::Error| e.to_string();
        let mut f = std::fs::File::create(path).map_err(io)?;
        f.write_all(self.magic).map_err(io)?;
        f.write_all(&[0; 12]).map_err(io)?;
        let mut out = Checked {
            inner: std::io::BufWriter::with_capacity(1 << 20, f),
            crc: crc32fast::Hasher::new(),
            len: 0,
            error: None,
        };
        if let Err(e) = postcard::to_io(value, &mut out) {
            return Err(match out.error.take() {
                Some(io_error) => io_error.to_string(),
                None => format!("{} do not encode: {e}", self.what),
            });
        }
        let Checked {
            inner, crc, len, ..
        } = out;
        let mut f = inner.into_inner().map_err(|e| e.error().to_string())?;
        f.seek(SeekFrom::Start(self.magic.len() as u64))
            .map_err(io)?;
        f.write_all(&crc.finalize().to_le_bytes()).map_err(io)?;
        f.write_all(&len.to_le_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }

    /// Checks the file of the commit with `token` (`skillmap stats --verify`): false when there
    /// is none or it is of another layout (another skillmap version: no reader takes it, and the
    /// next index run replaces it), [`Error::Damaged`] when it fails its checksum.
    pub fn verify(&self, dir: &Path, token: &str) -> Result<bool> {
        let path = self.path(dir, token);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let magic = self.magic;
        if bytes.len() >= magic.len() && bytes.starts_with(&magic[..6]) && !bytes.starts_with(magic)
        {
            return Ok(false);
        }
        if self.body(&bytes).is_none() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(Error::Damaged {
                path: dir.to_path_buf(),
                detail: format!(
                    "{} {name} fail their checksum (they are built instead; the next \
                     `skillmap index` run writes them again)",
                    self.what
                ),
                damaged: vec![name],
            });
        }
        Ok(true)
    }

    /// Removes the files of this kind of every commit but `keep`'s (and unfinished writes).
    pub fn remove_others(&self, dir: &Path, keep: Option<&str>) {
        let keep = keep.map(|t| self.path(dir, t));
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(self.prefix) && Some(e.path()) != keep {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A writer that checksums and counts what passes through it, and keeps the first I/O error
/// (postcard reports a failed write only as a failed encoding).
struct Checked<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
    error: Option<std::io::Error>,
}

impl<W: Write> Write for Checked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.inner.write(buf) {
            Ok(n) => {
                self.crc.update(&buf[..n]);
                self.len += n as u64;
                Ok(n)
            }
            Err(e) => {
                let again = std::io::Error::new(e.kind(), e.to_string());
                self.error.get_or_insert(e);
                Err(again)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A searcher of the index's newest commit and the commit's vector token (`None` when the
/// index changed between the two reads, or nothing is committed): what the files beside a
/// commit are built from.
pub fn newest(index: &tantivy::Index) -> Result<Option<(Searcher, String)>> {
    let reader: tantivy::IndexReader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    Ok(token_seen(index, &searcher).map(|token| (searcher, token)))
}

/// The vector token of the index's newest commit, when `searcher` sees exactly that commit's
/// segments (a searcher of an older commit, or one taken while a merge was being saved, gets
/// `None`).
pub fn token_seen(index: &tantivy::Index, searcher: &Searcher) -> Option<String> {
    let metas = index.load_metas().ok()?;
    let token = metas
        .payload
        .as_deref()
        .and_then(crate::index::schema::vectors_token)?;
    let mut committed: Vec<(String, u32)> = metas
        .segments
        .iter()
        .map(|s| (s.id().uuid_string(), s.num_deleted_docs()))
        .collect();
    let mut seen: Vec<(String, u32)> = searcher
        .segment_readers()
        .iter()
        .map(|r| (r.segment_id().uuid_string(), r.num_deleted_docs()))
        .collect();
    committed.sort();
    seen.sort();
    (committed == seen).then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST: Sidecar = Sidecar {
        prefix: "test-",
        magic: b"SKMTST01",
        what: "the test table",
    };

    #[test]
    fn a_streamed_file_holds_the_encoded_bytes_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let value: Vec<(String, Vec<u32>)> = (0..5_000)
            .map(|i| (format!("word {i}"), (0..i % 37).collect()))
            .collect();
        TEST.write(dir.path(), "tok", &value).unwrap();
        let bytes = std::fs::read(TEST.path(dir.path(), "tok")).unwrap();
        assert!(
            bytes.len() > 1 << 16,
            "more than the writer's buffer would hide"
        );
        assert_eq!(bytes, TEST.encode(&value).unwrap());
        assert_eq!(
            TEST.read::<Vec<(String, Vec<u32>)>>(dir.path(), "tok"),
            Some(value)
        );
        assert!(TEST.verify(dir.path(), "tok").unwrap());
        assert!(!TEST.path(dir.path(), "tok").with_extension("tmp").exists());
    }

    #[test]
    fn a_write_that_fails_names_the_file_and_leaves_none() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no such folder");
        let err = TEST.write(&missing, "tok", &vec![1u32, 2, 3]).unwrap_err();
        assert!(
            matches!(&err, Error::WriteFailed { path, .. } if *path == TEST.path(&missing, "tok")),
            "{err:?}"
        );
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
