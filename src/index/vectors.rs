//! The index's vector file: the static embedding of every statement and title, written beside
//! tantivy's segments in the same commit, so that readers get vectors without re-embedding.
//!
//! Vectors are keyed by a 64-bit hash of their text ([`key`]); documents carry the keys in fast
//! fields (`vec_key` for a statement, `title_keys` for titles). The file is
//! `vectors-<token>.skv`: magic, the embedding model's fingerprint, the commit token, a CRC-32
//! of the rest, the entry count, the sorted keys, one f32 scale per entry and the int8 rows. The commit's payload names
//! the token; a file whose token or model differs from the commit's is refused, so a vector
//! file can never be paired with another commit's documents.

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

/// Quantises a vector into `values` (its largest value maps to ±127); returns the scale.
pub fn quantise(v: &[f32], values: &mut [i8]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if v.len() == DIMS && values.len() == DIMS && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked), and both slices hold DIMS values.
        return unsafe { quantise_avx2(v, values) };
    }
    quantise_plain(v, values)
}

/// [`quantise_plain`] in AVX2 instructions, eight values a step (the compiler does not vectorise
/// the plain loop's saturating cast), with the same result: the maximum does not depend on the
/// order it is taken in, and each value is multiplied, offset by ±0.5 and truncated as there
/// (no value exceeds ±127.5, so truncating to i32 and narrowing loses nothing). Indexing
/// quantises every vector it makes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantise_avx2(v: &[f32], values: &mut [i8]) -> f32 {
    use std::arch::x86_64::*;
    let sign = _mm256_set1_ps(-0.0);
    let mut max = _mm256_setzero_ps();
    for c in v.chunks_exact(8) {
        // SAFETY: a chunk holds 8 floats; unaligned loads.
        let x = unsafe { _mm256_loadu_ps(c.as_ptr()) };
        max = _mm256_max_ps(max, _mm256_andnot_ps(sign, x));
    }
    let mut lanes = [0.0f32; 8];
    // SAFETY: `lanes` holds 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), max) };
    let max = lanes.iter().fold(0.0f32, |m, &x| m.max(x));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let inv = _mm256_set1_ps(1.0 / scale);
    let half = _mm256_set1_ps(0.5);
    for (c, q) in v.chunks_exact(8).zip(values.chunks_exact_mut(8)) {
        // SAFETY: a chunk holds 8 floats; unaligned loads.
        let y = _mm256_mul_ps(unsafe { _mm256_loadu_ps(c.as_ptr()) }, inv);
        let offset = _mm256_or_ps(half, _mm256_and_ps(y, sign));
        let t = _mm256_cvttps_epi32(_mm256_add_ps(y, offset));
        let mut ints = [0i32; 8];
        // SAFETY: `ints` holds 8 i32s.
        unsafe { _mm256_storeu_si256(ints.as_mut_ptr().cast(), t) };
        for (q, i) in q.iter_mut().zip(ints) {
            *q = i as i8;
        }
    }
    scale
}

/// [`quantise`], value by value.
fn quantise_plain(v: &[f32], values: &mut [i8]) -> f32 {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    let inv = 1.0 / scale;
    for (q, x) in values.iter_mut().zip(v) {
        // Rounds half away from zero, as f32::round, without its library call (the cast
        // saturates, and |x × inv| ≤ 127 by the choice of scale).
        let y = x * inv;
        *q = (y + 0.5f32.copysign(y)) as i8;
    }
    scale
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

/// A commit's vectors, mapped from its file (pages are read as they are used).
#[derive(Debug, Default)]
pub struct Store {
    map: Option<memmap2::Mmap>,
    n: usize,
}

impl Store {
    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.n
    }

    /// No vectors.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Key `i` (in sorted order).
    pub fn key_at(&self, i: usize) -> u64 {
        let at = HEADER + 8 * i;
        u64::from_le_bytes(self.bytes()[at..at + 8].try_into().unwrap_or_default())
    }

    fn scale_at(&self, i: usize) -> f32 {
        let at = HEADER + 8 * self.n + 4 * i;
        f32::from_le_bytes(self.bytes()[at..at + 4].try_into().unwrap_or_default())
    }

    fn values_at(&self, i: usize) -> &[u8] {
        let at = HEADER + 12 * self.n + DIMS * i;
        &self.bytes()[at..at + DIMS]
    }

    /// Row `i`'s values as stored (each byte an `i8`) and its scale: the vector is values ×
    /// scale.
    pub fn quantised_at(&self, i: usize) -> (&[u8], f32) {
        (self.values_at(i), self.scale_at(i))
    }

    /// The row of `key` in the file, when the file has it.
    pub fn position(&self, key: u64) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.key_at(mid).cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Does the store hold `key`?
    pub fn contains(&self, key: u64) -> bool {
        self.position(key).is_some()
    }

    /// The unit vector of a key, if the store has it.
    pub fn get(&self, key: u64) -> Option<embed::Vector> {
        let mut v = Vec::with_capacity(DIMS);
        self.append(key, &mut v).then_some(v)
    }

    /// Row `i` (a [`Store::position`]) into `out`, as [`Store::append`] reads it.
    pub fn row_into(&self, i: usize, out: &mut [f32; DIMS]) {
        let s = self.scale_at(i);
        for (o, &q) in out.iter_mut().zip(self.values_at(i)) {
            *o = f32::from(q as i8) * s;
        }
    }

    /// Appends the vector of `key` to `out` (as [`Store::get`] reads it, without a vector of
    /// its own); false, and `out` unchanged, when the file lacks it.
    pub fn append(&self, key: u64, out: &mut Vec<f32>) -> bool {
        let Some(i) = self.position(key) else {
            return false;
        };
        let s = self.scale_at(i);
        out.extend(self.values_at(i).iter().map(|&q| f32::from(q as i8) * s));
        true
    }

    /// Reads the vector file of the commit whose token is `token`, refusing one of another
    /// commit or another embedding model, or of the wrong length. The checksum over the whole
    /// file is [`Store::verify`]'s (as tantivy checks its files' checksums on demand only).
    pub fn open(dir: &Path, token: &str) -> Result<Store> {
        let path = dir.join(file_name(token));
        let bad = |why: &str| Error::Damaged {
            path: dir.to_path_buf(),
            detail: format!("its vector file {} {why}", file_name(token)),
            damaged: vec![file_name(token)],
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(bad("is missing")),
            Err(e) => return Err(Error::io(&path, e)),
        };
        // SAFETY: a vector file is written once, synced, and never changed afterwards (each
        // commit writes a new file name; old ones are only removed), so the mapping does not
        // change under the reader.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
        let bytes: &[u8] = &map;
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
        let n = u64::from_le_bytes(bytes[108..116].try_into().unwrap_or_default()) as usize;
        let need = n
            .checked_mul(8 + 4 + DIMS)
            .and_then(|b| b.checked_add(HEADER));
        if need != Some(bytes.len()) {
            return Err(bad("is cut short or too long for its entry count"));
        }
        Ok(Store { map: Some(map), n })
    }

    /// Checks the file's checksum and that its keys are sorted.
    pub fn verify(&self, dir: &Path, token: &str) -> Result<()> {
        let bad = |why: &str| Error::Damaged {
            path: dir.to_path_buf(),
            detail: format!("its vector file {} {why}", file_name(token)),
            damaged: vec![file_name(token)],
        };
        let bytes = self.bytes();
        if bytes.len() < HEADER {
            return Ok(());
        }
        let crc = u32::from_le_bytes(bytes[104..108].try_into().unwrap_or_default());
        if crc32fast::hash(&bytes[108..]) != crc {
            return Err(bad("fails its checksum"));
        }
        if !(1..self.n).all(|i| self.key_at(i - 1) < self.key_at(i)) {
            return Err(bad("has unsorted keys"));
        }
        Ok(())
    }
}

/// Length of one spilled record: key, scale, values.
const RECORD: usize = 8 + 4 + DIMS;

/// One vector as the spill holds it: its key, then its quantised form (scale and int8 values).
pub struct Record([u8; RECORD]);

impl Record {
    /// The record of `v` (a unit vector) under `key`.
    pub fn new(key: u64, v: &[f32]) -> Record {
        let mut values = [0i8; DIMS];
        let mut record = [0u8; RECORD];
        let scale = quantise(v, &mut values);
        record[..8].copy_from_slice(&key.to_le_bytes());
        record[8..12].copy_from_slice(&scale.to_le_bytes());
        for (b, q) in record[12..].iter_mut().zip(values) {
            *b = q as u8;
        }
        Record(record)
    }

    fn key(&self) -> u64 {
        let mut k = [0u8; 8];
        k.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(k)
    }
}

/// The vectors one index run adds, spilled to a file beside the index as they are made (so
/// that a run of millions of statements holds a key set in memory, not the vectors).
pub struct Spill {
    path: PathBuf,
    inner: std::sync::Mutex<Option<SpillInner>>,
}

struct SpillInner {
    out: std::io::BufWriter<std::fs::File>,
    /// Key → record number (foldhash: millions of look-ups a run, no untrusted keys to resist).
    keys: foldhash::HashMap<u64, u32>,
    failed: Option<std::io::Error>,
}

impl Spill {
    /// A new spill file in `dir` (removed when the spill is dropped).
    pub fn create(dir: &Path) -> std::io::Result<Spill> {
        let path = dir.join(format!("vectors-{}.spill", new_token()));
        // Read too: the spill is mapped to be read back when the vector file is written.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        Ok(Spill {
            path,
            inner: std::sync::Mutex::new(Some(SpillInner {
                out: std::io::BufWriter::with_capacity(1 << 20, file),
                keys: foldhash::HashMap::default(),
                failed: None,
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SpillInner>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keys of `wanted` that the spill lacks.
    pub fn missing<T: Copy>(&self, wanted: Vec<(u64, T)>) -> Vec<(u64, T)> {
        let inner = self.lock();
        let Some(inner) = inner.as_ref() else {
            return Vec::new();
        };
        wanted
            .into_iter()
            .filter(|(k, _)| !inner.keys.contains_key(k))
            .collect()
    }

    /// Adds quantised vectors (a key already there is skipped). Quantise them before, outside
    /// the lock, so that the workers do it in parallel and hold the lock only to copy records.
    pub fn push(&self, records: &[Record]) {
        let mut guard = self.lock();
        let Some(inner) = guard.as_mut() else {
            return;
        };
        for record in records {
            let k = record.key();
            if inner.failed.is_some() || inner.keys.contains_key(&k) {
                continue;
            }
            let n = inner.keys.len() as u32;
            match inner.out.write_all(&record.0) {
                Ok(()) => {
                    inner.keys.insert(k, n);
                }
                Err(e) => inner.failed = Some(e),
            }
        }
    }

    /// Writes the vector file of commit `token`: the spilled vectors and those of `old` whose
    /// keys are in `keep`, sorted by key, synced before it returns. Returns its path.
    pub fn write(
        self,
        dir: &Path,
        token: &str,
        old: &Store,
        keep: &dyn Fn(u64) -> bool,
    ) -> std::io::Result<PathBuf> {
        let Some(mut inner) = self.lock().take() else {
            return Err(std::io::Error::other("the spill was written already"));
        };
        if let Some(e) = inner.failed.take() {
            return Err(e);
        }
        inner.out.flush()?;
        let spill = inner.out.get_ref();
        // SAFETY: the spill file is ours alone and complete (flushed) from here on.
        let spilled = if inner.keys.is_empty() {
            None
        } else {
            Some(unsafe { memmap2::Mmap::map(spill)? })
        };
        let spilled: &[u8] = spilled.as_deref().unwrap_or(&[]);
        // (key, where): where < 0 is old entry !where, else a spill record.
        let mut order: Vec<(u64, i64)> = inner
            .keys
            .iter()
            .map(|(k, n)| (*k, i64::from(*n)))
            .collect();
        for i in 0..old.len() {
            let k = old.key_at(i);
            if keep(k) && !inner.keys.contains_key(&k) {
                order.push((k, !(i as i64)));
            }
        }
        order.sort_unstable();
        let path = dir.join(file_name(token));
        let result = write_sections(&path, token, &order, old, spilled);
        if result.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        result.map(|()| path)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn write_sections(
    path: &Path,
    token: &str,
    order: &[(u64, i64)],
    old: &Store,
    spilled: &[u8],
) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(embed::Model::bundled().fingerprint().as_bytes());
    header.extend_from_slice(token.as_bytes());
    header.extend_from_slice(&[0; 4]);
    let mut file = std::fs::File::create(path)?;
    file.write_all(&header)?;
    let mut out = Checksummed {
        out: file,
        block: Vec::with_capacity(BLOCK + RECORD),
        crc: crc32fast::Hasher::new(),
    };
    out.put(&(order.len() as u64).to_le_bytes())?;
    for (k, _) in order {
        out.put(&k.to_le_bytes())?;
    }
    let record = |n: i64| &spilled[n as usize * RECORD..(n as usize + 1) * RECORD];
    for &(_, at) in order {
        if at < 0 {
            out.put(&old.scale_at(!at as usize).to_le_bytes())?;
        } else {
            out.put(&record(at)[8..12])?;
        }
    }
    for &(_, at) in order {
        if at < 0 {
            out.put(old.values_at(!at as usize))?;
        } else {
            out.put(&record(at)[12..])?;
        }
    }
    out.flush()?;
    let Checksummed {
        out: mut file, crc, ..
    } = out;
    file.seek(SeekFrom::Start(104))?;
    file.write_all(&crc.finalize().to_le_bytes())?;
    file.sync_all()
}

/// Bytes gathered before they are checksummed and written.
const BLOCK: usize = 1 << 20;

/// A file body written in blocks of about [`BLOCK`] bytes, its CRC-32 taken over each block
/// whole: updating it a key or a scale at a time (8 or 4 bytes) cost more than the checksum.
struct Checksummed {
    out: std::fs::File,
    block: Vec<u8>,
    crc: crc32fast::Hasher,
}

impl Checksummed {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.block.extend_from_slice(b);
        if self.block.len() >= BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.crc.update(&self.block);
        self.out.write_all(&self.block)?;
        self.block.clear();
        Ok(())
    }
}

/// Removes every vector file (and spill) in `dir` but the one of `keep`. Only with the writer
/// lock held: a spill is another writer's work in progress.
pub fn remove_others(dir: &Path, keep: Option<&str>) {
    let keep = keep.map(file_name);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name.ends_with(".skv") || name.ends_with(".spill");
        if name.starts_with("vectors-") && ours && Some(name) != keep.as_deref() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantising_rounds_to_the_nearest_step_and_keeps_the_largest_at_127() {
        let v = [0.5f32, -0.25, 0.0, 0.1251, -0.5];
        let mut q = [0i8; 5];
        let scale = quantise(&v, &mut q);
        assert_eq!(q, [127, -64, 0, 32, -127]);
        for (x, q) in v.iter().zip(q) {
            assert!((x - f32::from(q) * scale).abs() <= scale / 2.0 + 1e-6);
        }
        let mut zero = [5i8; 2];
        assert_eq!(quantise(&[0.0, 0.0], &mut zero), 1.0);
        assert_eq!(zero, [0, 0]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn quantising_for_avx2_gives_the_same_bytes_and_scale() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let m = embed::Model::bundled();
        let mut vectors: Vec<Vec<f32>> = ["Registered nurse in an ICU", "weld steel frames", "x"]
            .iter()
            .map(|t| m.embed(t))
            .collect();
        // A largest value of 127 makes the scale 1, so the others, k + 0.5, are exact halves,
        // which round away from zero; and a vector of zeros.
        let mut halves = vec![0.0f32; DIMS];
        for (i, x) in halves.iter_mut().enumerate() {
            *x = if i == 0 {
                127.0
            } else {
                i as f32 - 128.0 + 0.5
            };
        }
        vectors.push(halves);
        vectors.push(vec![0.0; DIMS]);
        // Pseudo-random values of both signs.
        let mut seed = 12345u64;
        for _ in 0..50 {
            vectors.push(
                (0..DIMS)
                    .map(|_| {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
                    })
                    .collect(),
            );
        }
        for v in &vectors {
            let (mut a, mut b) = ([0i8; DIMS], [0i8; DIMS]);
            let sa = quantise_plain(v, &mut a);
            // SAFETY: AVX2 was detected above; both hold DIMS values.
            let sb = unsafe { quantise_avx2(v, &mut b) };
            assert_eq!((sa.to_bits(), a), (sb.to_bits(), b));
        }
    }

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(key(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(key("nurse"), key("nurses"));
        assert_eq!(key("nurse"), key("nurse"));
    }

    fn write(dir: &Path, texts: &[&str], old: &Store, keep: &dyn Fn(u64) -> bool) -> String {
        let m = embed::Model::bundled();
        let spill = Spill::create(dir).unwrap();
        let records: Vec<Record> = texts
            .iter()
            .map(|t| Record::new(key(t), &m.embed(t)))
            .collect();
        spill.push(&records);
        spill.push(&records[..1]);
        let token = new_token();
        spill.write(dir, &token, old, keep).unwrap();
        token
    }

    #[test]
    fn a_written_store_reads_back_merges_and_refuses_another_commit() {
        let dir = tempfile::tempdir().unwrap();
        let m = embed::Model::bundled();
        let texts = ["Registered Nurses", "operate a forklift", "Welders"];
        let token = write(dir.path(), &texts, &Store::default(), &|_| true);
        let store = Store::open(dir.path(), &token).unwrap();
        assert_eq!(store.len(), 3);
        store.verify(dir.path(), &token).unwrap();
        for t in texts {
            let got = store.get(key(t)).unwrap();
            assert!(embed::dot(&got, &m.embed(t)) > 0.999, "{t}");
        }
        assert!(store.get(key("absent")).is_none());
        // No spill file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, vec![file_name(&token)]);

        // A merge keeps what `keep` keeps of the old store and adds the new.
        let next = write(dir.path(), &["Welders", "Baristas"], &store, &|k| {
            k != key("Welders") && k != key("operate a forklift")
        });
        let merged = Store::open(dir.path(), &next).unwrap();
        merged.verify(dir.path(), &next).unwrap();
        assert_eq!(merged.len(), 3);
        for t in ["Registered Nurses", "Welders", "Baristas"] {
            assert!(
                embed::dot(&merged.get(key(t)).unwrap(), &m.embed(t)) > 0.999,
                "{t}"
            );
        }
        assert!(!merged.contains(key("operate a forklift")));

        // The same bytes under another commit's name are refused.
        let other = new_token();
        std::fs::copy(
            dir.path().join(file_name(&token)),
            dir.path().join(file_name(&other)),
        )
        .unwrap();
        let err = Store::open(dir.path(), &other).unwrap_err().to_string();
        assert!(err.contains("another commit"), "{err}");

        // A flipped byte fails the checksum; a cut file is refused.
        let path = dir.path().join(file_name(&token));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();
        let flipped = Store::open(dir.path(), &token).unwrap();
        let err = flipped.verify(dir.path(), &token).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
        assert!(Store::open(dir.path(), &token).is_err());

        remove_others(dir.path(), Some(&other));
        assert!(!path.exists());
        assert!(dir.path().join(file_name(&other)).exists());
    }
}
