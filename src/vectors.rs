//! The index's vector file: the static embedding of every statement and title, written beside
//! tantivy's segments in the same commit, so that readers get vectors without re-embedding.
//!
//! Vectors are keyed by a 64-bit hash of their text ([`key`]); documents carry the keys in fast
//! fields (`vec_key` for a statement, `title_keys` for titles). The file is
//! `vectors-<token>.skv`: magic, the embedding model's fingerprint, the commit token, a CRC-32
//! of the rest, the entry count, the sorted keys, one f32 scale per entry and the int8 rows. The commit's payload names
//! the token; a file whose token or model differs from the commit's is refused, so a vector
//! file can never be paired with another commit's documents.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::embed::{self, DIMS};
use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"SKVECS01";
/// Magic, model fingerprint (64 hex digits), commit token (32), CRC-32 of what follows the
/// header, entry count.
const HEADER: usize = 8 + 64 + 32 + 4 + 8;

/// The key of a text: FNV-1a, 64 bits (stable across builds and machines).
pub fn key(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One quantised vector: a scale and DIMS int8 values.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantised {
    pub scale: f32,
    pub values: Vec<i8>,
}

impl Quantised {
    /// Quantises a vector (its largest value maps to ±127).
    pub fn of(v: &[f32]) -> Quantised {
        let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        Quantised {
            scale,
            values: v
                .iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
                .collect(),
        }
    }
}

/// The file name of a commit's vectors.
pub fn file_name(token: &str) -> String {
    format!("vectors-{token}.skv")
}

/// A fresh commit token: 32 hex digits from the clock, the process and a counter.
pub fn new_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let a = key(&format!("{nanos}:{}", std::process::id()));
    let b = key(&format!("{}:{a}", N.fetch_add(1, Ordering::Relaxed)));
    format!("{a:016x}{b:016x}")
}

/// A commit's vectors, read into memory.
#[derive(Debug, Default)]
pub struct Store {
    keys: Vec<u64>,
    scales: Vec<f32>,
    values: Vec<i8>,
}

impl Store {
    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No vectors.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The unit vector of a key, if the store has it.
    pub fn get(&self, key: u64) -> Option<embed::Vector> {
        let i = self.keys.binary_search(&key).ok()?;
        let s = self.scales[i];
        Some(
            self.values[i * DIMS..(i + 1) * DIMS]
                .iter()
                .map(|&q| f32::from(q) * s)
                .collect(),
        )
    }

    /// The entry of a key, quantised as stored.
    pub fn quantised(&self, key: u64) -> Option<Quantised> {
        let i = self.keys.binary_search(&key).ok()?;
        Some(Quantised {
            scale: self.scales[i],
            values: self.values[i * DIMS..(i + 1) * DIMS].to_vec(),
        })
    }

    /// Every key, sorted.
    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// Reads the vector file of the commit whose token is `token`, refusing one of another
    /// commit or another embedding model.
    pub fn open(dir: &Path, token: &str) -> Result<Store> {
        let path = dir.join(file_name(token));
        let bad = |why: &str| Error::Damaged {
            path: dir.to_path_buf(),
            detail: format!("its vector file {} {why}", file_name(token)),
            damaged: vec![file_name(token)],
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(bad("is missing")),
            Err(e) => return Err(Error::io(&path, e)),
        };
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(bad("is not a vector file"));
        }
        let fingerprint = embed::Model::bundled().fingerprint();
        if &bytes[8..72] != fingerprint.as_bytes() {
            return Err(Error::SchemaMismatch {
                path: dir.to_path_buf(),
            });
        }
        if &bytes[72..104] != token.as_bytes() {
            return Err(bad("belongs to another commit"));
        }
        let crc = u32::from_le_bytes(bytes[104..108].try_into().unwrap_or_default());
        if crc32fast::hash(&bytes[108..]) != crc {
            return Err(bad("fails its checksum"));
        }
        let n = u64::from_le_bytes(bytes[108..116].try_into().unwrap_or_default()) as usize;
        let need = n
            .checked_mul(8 + 4 + DIMS)
            .and_then(|b| b.checked_add(HEADER));
        if need != Some(bytes.len()) {
            return Err(bad("is cut short or too long for its entry count"));
        }
        let mut at = HEADER;
        let keys: Vec<u64> = bytes[at..at + 8 * n]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        at += 8 * n;
        let scales: Vec<f32> = bytes[at..at + 4 * n]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        at += 4 * n;
        let values: Vec<i8> = bytes[at..].iter().map(|&b| b as i8).collect();
        if !keys.windows(2).all(|w| w[0] < w[1]) {
            return Err(bad("has unsorted keys"));
        }
        Ok(Store {
            keys,
            scales,
            values,
        })
    }

    /// Writes entries as the vector file of commit `token` (synced before it returns), and
    /// returns its path.
    pub fn write(
        dir: &Path,
        token: &str,
        entries: &HashMap<u64, Quantised>,
    ) -> std::io::Result<PathBuf> {
        let path = dir.join(file_name(token));
        let mut keys: Vec<u64> = entries.keys().copied().collect();
        keys.sort_unstable();
        let mut out = Vec::with_capacity(HEADER + keys.len() * (12 + DIMS));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(embed::Model::bundled().fingerprint().as_bytes());
        out.extend_from_slice(token.as_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        for k in &keys {
            out.extend_from_slice(&k.to_le_bytes());
        }
        for k in &keys {
            out.extend_from_slice(&entries[k].scale.to_le_bytes());
        }
        for k in &keys {
            out.extend(entries[k].values.iter().map(|&v| v as u8));
        }
        let crc = crc32fast::hash(&out[108..]);
        out[104..108].copy_from_slice(&crc.to_le_bytes());
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&path)?;
            f.write_all(&out)?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(path)
    }
}

/// Removes every vector file in `dir` but the one of `keep`.
pub fn remove_others(dir: &Path, keep: Option<&str>) {
    let keep = keep.map(file_name);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("vectors-") && name.ends_with(".skv") && Some(name) != keep.as_deref() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(key(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(key("nurse"), key("nurses"));
        assert_eq!(key("nurse"), key("nurse"));
    }

    #[test]
    fn a_written_store_reads_back_and_refuses_another_commit() {
        let dir = tempfile::tempdir().unwrap();
        let m = embed::Model::bundled();
        let texts = ["Registered Nurses", "operate a forklift", "Welders"];
        let entries: HashMap<u64, Quantised> = texts
            .iter()
            .map(|t| (key(t), Quantised::of(&m.embed(t))))
            .collect();
        let token = new_token();
        Store::write(dir.path(), &token, &entries).unwrap();
        let store = Store::open(dir.path(), &token).unwrap();
        assert_eq!(store.len(), 3);
        for t in texts {
            let got = store.get(key(t)).unwrap();
            let want = m.embed(t);
            assert!(embed::dot(&got, &want) > 0.999, "{t}");
        }
        assert!(store.get(key("absent")).is_none());

        // The same bytes under another commit's name are refused.
        let other = new_token();
        assert_ne!(other, token);
        std::fs::copy(
            dir.path().join(file_name(&token)),
            dir.path().join(file_name(&other)),
        )
        .unwrap();
        let err = Store::open(dir.path(), &other).unwrap_err().to_string();
        assert!(err.contains("another commit"), "{err}");

        // A flipped byte and a cut file are refused.
        let path = dir.path().join(file_name(&token));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();
        let err = Store::open(dir.path(), &token).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
        assert!(Store::open(dir.path(), &token).is_err());

        remove_others(dir.path(), Some(&other));
        assert!(!path.exists());
        assert!(dir.path().join(file_name(&other)).exists());
    }
}
