//! Batch indexing: walk the inputs, parse and validate in parallel, feed one writer, commit once.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ParallelProgressIterator, ProgressBar};
use rayon::prelude::*;
use serde::Serialize;
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexWriter, Searcher, TantivyDocument};

use crate::domain::framework::{ExportError, Framework, parse_export};
use crate::domain::table::{Table, parse_table};
use crate::error::{Error, Result};
use crate::index::engine;
use crate::index::schema::Fields;
use crate::index::vectors;

/// Name of the ignore file (gitignore syntax) that keeps folders or files out of a walk.
pub const IGNORE_FILE: &str = ".skillmapignore";

/// tantivy's most indexing threads (`MAX_NUM_THREAD`, not exported).
const WRITER_MAX_THREADS: usize = 8;
/// tantivy's smallest and (just under) largest arena per indexing thread.
const WRITER_MIN_BYTES_PER_THREAD: usize = 15_000_000;
const WRITER_MAX_BYTES_PER_THREAD: usize = 4_000_000_000;

/// The writer's default memory budget, in MB: enough for the bundled collection in one
/// segment per thread, small beside any machine this runs on.
pub const DEFAULT_MEMORY_MB: usize = 128;
/// The default largest file, in MiB: real exports are a few kB, so 16 MiB is far above any
/// real one and still a bounded read.
pub const DEFAULT_MAX_FILE_MIB: u64 = 16;

/// What `skillmap index` was asked to do.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    pub index_dir: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Threads for parsing; indexing uses as many, up to tantivy's limit of 8.
    pub threads: usize,
    /// Budget of the index writer, in bytes (raised to 15 MB per indexing thread if lower).
    pub memory_bytes: usize,
    pub strict: bool,
    pub rebuild: bool,
    pub max_file_bytes: u64,
    /// Merge the index into one segment after the commit.
    pub optimize: bool,
    /// Write the mapper's tables beside the commit ([`crate::map::prebuilt`]).
    pub map_tables: bool,
}

impl Default for IngestConfig {
    /// The command line's defaults: the default index from the bundled collection, one thread
    /// per core.
    fn default() -> Self {
        IngestConfig {
            index_dir: PathBuf::from(crate::app::DEFAULT_INDEX),
            paths: vec![PathBuf::from(crate::app::BUNDLED_DATA)],
            threads: crate::workers::default_threads(),
            memory_bytes: DEFAULT_MEMORY_MB * 1_000_000,
            strict: false,
            rebuild: false,
            max_file_bytes: DEFAULT_MAX_FILE_MIB << 20,
            optimize: false,
            map_tables: true,
        }
    }
}

/// A file or record that was not indexed, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub path: String,
    #[serde(flatten)]
    pub error: ExportError,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.error)
    }
}

/// A file met in a walked folder that is not an export.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// The outcome of one indexing run.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub index: String,
    pub files_read: usize,
    /// Exports that parsed and validated (including duplicates that lost to a later one).
    pub exports: usize,
    /// Distinct occupations written by this run.
    pub occupations: usize,
    pub statements_added: u64,
    /// Statements that were in the index before and were replaced or removed by this run.
    pub statements_replaced: u64,
    /// Title and technology tables read.
    pub tables: usize,
    /// Titles and tools those tables added (the ones exports carry are not counted here).
    pub table_titles: u64,
    pub table_tools: u64,
    pub rejected: Vec<Rejected>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// False when nothing was committed (`--strict` with errors).
    pub committed: bool,
    pub elapsed_secs: f64,
    pub statements_per_sec: f64,
}

/// The export that currently holds a SOC code in this run.
struct Claim {
    /// `exportedAt` as a point in time; an export without one loses to any that has one.
    exported_at: Option<i128>,
    source: String,
    statements: u64,
}

/// State shared by the parallel workers.
struct Run<'a> {
    writer: &'a IndexWriter<TantivyDocument>,
    fields: Fields,
    claims: Mutex<HashMap<String, Claim>>,
    rejected: Mutex<Vec<Rejected>>,
    warnings: Mutex<Vec<String>>,
    exports: Mutex<usize>,
    /// Titles and tools read from tables, and the number of tables.
    knowledge: Mutex<(u64, u64, usize)>,
    fatal: Mutex<Option<tantivy::TantivyError>>,
    /// Keys of the last commit's vectors whose documents are still alive: carried over.
    live: &'a std::collections::HashSet<u64>,
    /// Vectors of the texts this run adds that the last commit lacks.
    spill: &'a vectors::Spill,
}

/// What an input file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum InputKind {
    /// One export (`.json`).
    Export,
    /// One export per line (`.jsonl`, `.ndjson`).
    Lines,
    /// A title or technology table (`.tsv`).
    Table,
}

/// A unit of input: a whole `.json` file, a JSON Lines file, or a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct InputFile {
    path: PathBuf,
    kind: InputKind,
}

/// Runs one indexing job. Per-file problems are collected in the report; only problems with the
/// index itself (lock, schema, I/O on the index) are returned as errors.
pub fn ingest(opts: &IngestConfig, progress: &ProgressBar) -> Result<IngestReport> {
    let started = Instant::now();
    // The embedding model loads on a thread of its own while the inputs are walked and the
    // writer opens, instead of holding up the first worker that embeds.
    std::thread::spawn(|| crate::embed::Model::bundled().fingerprint());
    let (files, skipped, walk_errors) = collect_inputs(&opts.paths);

    let (index, fields, writer) = open_writer(opts)?;
    // The committed state before this run, to count what it replaces.
    let before = index.reader()?.searcher();
    if opts.rebuild {
        writer.delete_all_documents()?;
    }
    let (old_vectors, live) = previous_vectors(&index, &before, &fields, opts)?;
    let spill = vectors::Spill::create(&opts.index_dir).map_err(|e| Error::WriteFailed {
        path: opts.index_dir.clone(),
        cause: e.to_string(),
        committed: false,
    })?;

    let run = Run {
        writer: &writer,
        fields,
        claims: Mutex::new(HashMap::new()),
        rejected: Mutex::new(walk_errors),
        warnings: Mutex::new(Vec::new()),
        exports: Mutex::new(0),
        knowledge: Mutex::new((0, 0, 0)),
        fatal: Mutex::new(None),
        live: &live,
        spill: &spill,
    };
    run.all(&files, opts, progress)?;

    let Run {
        claims,
        rejected,
        warnings,
        exports,
        knowledge,
        fatal,
        ..
    } = run;
    let (table_titles, table_tools, tables) =
        knowledge.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut writer = writer;
    if let Some(e) = fatal.into_inner().unwrap_or_else(|p| p.into_inner()) {
        let cause = worker_failure(&mut writer, e);
        return Err(abandon(&index, writer, &opts.index_dir, cause));
    }
    let claims = claims.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut rejected = rejected.into_inner().unwrap_or_else(|p| p.into_inner());
    rejected.sort_by(|a, b| (&a.path, a.error.line).cmp(&(&b.path, b.error.line)));
    let mut warnings = warnings.into_inner().unwrap_or_else(|p| p.into_inner());
    warnings.sort();

    let committed = !opts.strict || rejected.is_empty();
    if committed {
        let dir = &opts.index_dir;
        let token = vectors::new_token();
        let outcome = commit_with_vectors(&mut writer, spill, dir, &token, &old_vectors, &live);
        drop(old_vectors);
        if let Err(e) = outcome {
            return Err(abandon(&index, writer, dir, e));
        }
        vectors::remove_others(dir, Some(&token));
        if opts.optimize
            && let Err(e) = merge_into_one(&index, &mut writer, &token)
        {
            return Err(abandon(&index, writer, dir, e).after_commit());
        }
        writer.wait_merging_threads()?;
        write_side_tables(opts, &index, &fields, &mut warnings);
    } else {
        writer.rollback()?;
    }
    let (statements_added, statements_replaced) = if committed {
        let replaced = if opts.rebuild {
            engine::statement_count(&before, &fields)?
        } else {
            replaced_count(&before, &fields, claims.keys())?
        };
        (claims.values().map(|c| c.statements).sum(), replaced)
    } else {
        (0, 0)
    };
    let elapsed = started.elapsed().as_secs_f64();
    Ok(IngestReport {
        index: opts.index_dir.display().to_string(),
        files_read: files.len(),
        exports: exports.into_inner().unwrap_or_else(|p| p.into_inner()),
        occupations: if committed { claims.len() } else { 0 },
        statements_added,
        statements_replaced,
        tables: if committed { tables } else { 0 },
        table_titles: if committed { table_titles } else { 0 },
        table_tools: if committed { table_tools } else { 0 },
        rejected,
        skipped,
        warnings,
        committed,
        elapsed_secs: elapsed,
        statements_per_sec: if elapsed > 0.0 {
            statements_added as f64 / elapsed
        } else {
            0.0
        },
    })
}

/// Writes the tables of the commit just made that readers would otherwise build: the
/// titles-and-tools table that occupation ranking reads ([`super::names`]) and, unless told not
/// to, the mapper's tables ([`crate::map::prebuilt`]). Without them the commit is whole (readers
/// build what they need, as before), so a failure is a warning.
fn write_side_tables(
    opts: &IngestConfig,
    index: &tantivy::Index,
    fields: &Fields,
    warnings: &mut Vec<String>,
) {
    let dir = &opts.index_dir;
    let written = if opts.map_tables {
        crate::map::prebuilt::write(index, fields, dir, |token, knowledge| {
            super::names::FILE.write(dir, token, &super::names::Names::build(knowledge))
        })
    } else {
        // Tables of an earlier commit would never be read again.
        crate::map::prebuilt::FILE.remove_others(dir, None);
        super::names::write(index, fields, dir)
    };
    if let Err(e) = written {
        warnings.push(format!(
            "the tables written beside the index were not all written ({e}); what reads them \
             will build them instead"
        ));
    }
}

/// Why the index writer failed: `add_document` only says that a worker died, and joining the
/// workers (`prepare_commit`) tells why.
fn worker_failure(
    writer: &mut IndexWriter<TantivyDocument>,
    reported: tantivy::TantivyError,
) -> tantivy::TantivyError {
    match writer.prepare_commit() {
        Err(real) => real,
        Ok(prepared) => {
            let _ = prepared.abort();
            reported
        }
    }
}

/// The last commit's vector file and the keys of its vectors that live documents still use (none
/// when the run rebuilds). Vector files and spills that no commit names (a run killed between
/// writing its vector file and committing) are removed first.
fn previous_vectors(
    index: &tantivy::Index,
    before: &Searcher,
    fields: &Fields,
    opts: &IngestConfig,
) -> Result<(vectors::Store, std::collections::HashSet<u64>)> {
    let previous_token = index
        .load_metas()?
        .payload
        .as_deref()
        .and_then(crate::index::schema::vectors_token)
        .map(str::to_string);
    vectors::remove_others(&opts.index_dir, previous_token.as_deref());
    if opts.rebuild {
        return Ok((vectors::Store::default(), std::collections::HashSet::new()));
    }
    carried_vectors(before, fields, &opts.index_dir, previous_token.as_deref())
}

/// `--optimize`: merges the committed segments into one, so that every query sets up its
/// scorers once instead of once per segment. The merge is atomic: until it is saved, the
/// committed segments stay the index.
fn merge_into_one(
    index: &tantivy::Index,
    writer: &mut IndexWriter<TantivyDocument>,
    token: &str,
) -> tantivy::Result<()> {
    let segments = index.searchable_segment_ids()?;
    if segments.len() > 1 {
        writer.merge(&segments).wait()?;
        commit(writer, token)?;
    }
    Ok(())
}

/// Opens (or creates) the index and its writer: a schema of another version is wiped when the
/// run rebuilds; files that an earlier, killed run left behind are removed first, so that the
/// space they hold is free for this run.
fn open_writer(
    opts: &IngestConfig,
) -> Result<(tantivy::Index, Fields, IndexWriter<TantivyDocument>)> {
    let index = match engine::open_or_create(&opts.index_dir) {
        Err(Error::SchemaMismatch { .. }) if opts.rebuild => {
            engine::wipe(&opts.index_dir)?;
            engine::open_or_create(&opts.index_dir)?
        }
        other => other?,
    };
    let fields = Fields::from_schema(&index.schema())?;
    // tantivy indexes with at most 8 threads (more parse); each needs 15 MB to 4 GB of arena.
    let writer_threads = opts.threads.clamp(1, WRITER_MAX_THREADS);
    let memory = opts.memory_bytes.clamp(
        WRITER_MIN_BYTES_PER_THREAD * writer_threads,
        WRITER_MAX_BYTES_PER_THREAD * writer_threads,
    );
    let writer: IndexWriter<TantivyDocument> = index
        .writer_with_num_threads(writer_threads, memory)
        .map_err(|e| engine::lock_error(&opts.index_dir, e))?;
    let _ = writer.garbage_collect_files().wait();
    remove_orphan_segments(&index, &opts.index_dir);
    if opts.optimize {
        // All segments are merged into one at the end; merges on the way would be redone (and
        // a background merge would race the final one for the same segments).
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    }
    Ok((index, fields, writer))
}

/// Commits the run with its vector file. The vector file (synced) is written before the commit
/// that names it, so a crash in between leaves the last commit and its own vector file as they
/// were; it is written while tantivy flushes its segments (`prepare_commit`), so that the two
/// serial tails overlap. On any failure the new vector file is removed.
fn commit_with_vectors(
    writer: &mut IndexWriter<TantivyDocument>,
    spill: vectors::Spill,
    dir: &Path,
    token: &str,
    old_vectors: &vectors::Store,
    live: &std::collections::HashSet<u64>,
) -> tantivy::Result<()> {
    let keep = |k: u64| live.contains(&k);
    std::thread::scope(|s| {
        let vectors = s.spawn(|| spill.write(dir, token, old_vectors, &keep));
        let prepared = writer.prepare_commit();
        let written = vectors
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("writing the vectors panicked")));
        match (prepared, written) {
            (Ok(mut prepared), Ok(path)) => {
                prepared.set_payload(&crate::index::schema::payload(token));
                prepared.commit().map(|_| ()).inspect_err(|_| {
                    let _ = std::fs::remove_file(&path);
                })
            }
            (Ok(prepared), Err(e)) => {
                let _ = prepared.abort();
                Err(tantivy::TantivyError::IoError(std::sync::Arc::new(e)))
            }
            (Err(e), written) => {
                if let Ok(path) = written {
                    let _ = std::fs::remove_file(path);
                }
                Err(e)
            }
        }
    })
}

fn replaced_count<'a>(
    before: &Searcher,
    fields: &Fields,
    socs: impl Iterator<Item = &'a String>,
) -> Result<u64> {
    let mut n = 0;
    for soc in socs {
        let q = TermQuery::new(fields.soc_term(soc), IndexRecordOption::Basic);
        n += before.search(&q, &Count)? as u64;
    }
    Ok(n)
}

impl Run<'_> {
    /// Reads, validates and adds every file on `opts.threads` workers, with the progress bar.
    fn all(&self, files: &[InputFile], opts: &IngestConfig, progress: &ProgressBar) -> Result<()> {
        progress.set_length(files.len() as u64);
        let pool = crate::workers::pool(Some(opts.threads), "indexing workers")?;
        pool.install(|| {
            files
                .par_iter()
                .progress_with(progress.clone())
                .for_each(|f| self.file(f, opts.max_file_bytes));
        });
        progress.finish_and_clear();
        Ok(())
    }

    /// Embeds the texts whose vectors neither the last commit nor this run has yet.
    fn embed<'t>(&self, texts: impl Iterator<Item = &'t str>) {
        let wanted: Vec<(u64, &str)> = texts
            .map(|t| (vectors::key(t), t))
            .filter(|(k, _)| !self.live.contains(k))
            .collect();
        let missing = self.spill.missing(wanted);
        if missing.is_empty() {
            return;
        }
        let model = crate::embed::Model::bundled();
        // One buffer for every text: no vector of its own is allocated (and touched fresh).
        let mut v = [0.0f32; crate::embed::DIMS];
        let fresh: Vec<vectors::Record> = missing
            .into_iter()
            .map(|(k, t)| {
                model.embed_into(t, &mut v);
                vectors::Record::new(k, &v)
            })
            .collect();
        self.spill.push(&fresh);
    }

    fn reject(&self, path: &Path, error: ExportError) {
        lock(&self.rejected).push(Rejected {
            path: path.display().to_string(),
            error,
        });
    }

    fn file(&self, f: &InputFile, max_bytes: u64) {
        let read = || read_limited(&f.path, max_bytes);
        match f.kind {
            InputKind::Export => match read().and_then(|b| parse_export(&b)) {
                Ok(fw) => self.add(fw, f.path.display().to_string()),
                Err(e) => self.reject(&f.path, e),
            },
            InputKind::Table => match read().and_then(|b| parse_table(&b)) {
                Ok(table) => self.table(table, &f.path),
                Err(e) => self.reject(&f.path, e),
            },
            // Streamed, never read whole.
            InputKind::Lines => self.lines(&f.path, max_bytes),
        }
    }

    /// A title or technology table: its rows replace what an earlier run took from the same
    /// file, one knowledge document per occupation; bad rows are rejected by line.
    fn table(&self, table: Table, path: &Path) {
        let source = path.display().to_string();
        self.writer.delete_term(self.fields.source_term(&source));
        for e in table.row_errors {
            self.reject(path, e);
        }
        let mut counts = lock(&self.knowledge);
        for (soc, k) in &table.occupations {
            self.embed(k.titles.iter().map(String::as_str));
            let doc = self.fields.knowledge_document(soc, k, &source, false);
            if let Err(e) = self.writer.add_document(doc) {
                lock(&self.fatal).get_or_insert(e);
                return;
            }
            counts.0 += k.titles.len() as u64;
            counts.1 += k.tools.len() as u64;
        }
        counts.2 += 1;
    }

    /// A JSON Lines file: one export per line, each accepted or rejected on its own. The file is
    /// streamed: chunks of about [`LINES_CHUNK_BYTES`] are read and then parsed, validated and
    /// added on every worker, so memory does not grow with the file and one large file keeps all
    /// the workers busy. `max_bytes` limits each line (a line is one export).
    fn lines(&self, path: &Path, max_bytes: u64) {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return self.reject(path, ExportError::msg(format!("cannot read: {e}"))),
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut number = 0;
        let mut any = false;
        loop {
            let chunk = read_chunk(&mut reader, &mut number, max_bytes);
            let done = chunk.done;
            any |= !chunk.lines.is_empty() || !chunk.too_long.is_empty();
            for (n, size) in chunk.too_long {
                self.reject(
                    path,
                    ExportError::msg(format!(
                        "line is {size} bytes, over the limit of {max_bytes} bytes \
                         (raise it with --max-file-size)"
                    ))
                    .at_line_offset(n),
                );
            }
            chunk
                .lines
                .into_par_iter()
                .for_each(|(n, line)| match parse_export(&line) {
                    Ok(fw) => self.add(fw, format!("{}:{n}", path.display())),
                    Err(e) => self.reject(path, e.at_line_offset(n)),
                });
            if let Some(e) = chunk.error {
                // The lines before it are in; the rest of the file is not.
                return self.reject(path, e);
            }
            if done {
                break;
            }
        }
        if !any {
            self.reject(
                path,
                ExportError::msg("empty file; expected one JSON export per line"),
            );
        }
    }

    /// Adds one validated export, resolving SOC conflicts: within a run the later `exportedAt`
    /// wins (ties: the later source name); across runs the new export replaces the indexed one.
    fn add(&self, fw: Framework, source: String) {
        *lock(&self.exports) += 1;
        let docs = self.fields.documents(&fw, &source);
        // Outside the claims lock, so that the workers embed in parallel.
        self.embed(
            fw.statements
                .iter()
                .map(|s| s.text.as_str())
                .chain(std::iter::once(fw.title.as_str()))
                .chain(fw.knowledge.titles.iter().map(String::as_str)),
        );
        let mut claims = lock(&self.claims);
        match claims.get(&fw.soc) {
            None => {
                // Upsert: removes what earlier commits hold for this SOC (its statements and the
                // titles and tools its export carried); the delete applies only to documents
                // added before it, so the ones added next survive.
                self.writer.delete_term(self.fields.soc_term(&fw.soc));
                self.writer
                    .delete_term(self.fields.know_export_term(&fw.soc));
            }
            Some(prev) => {
                let new_wins = (fw.exported_at_nanos, &source) > (prev.exported_at, &prev.source);
                let (kept, dropped) = if new_wins {
                    (&source, &prev.source)
                } else {
                    (&prev.source, &source)
                };
                lock(&self.warnings).push(format!(
                    "{} appears twice: kept {kept} (later exportedAt), ignored {dropped}",
                    fw.soc
                ));
                if !new_wins {
                    return;
                }
                self.writer
                    .delete_term(self.fields.source_term(&prev.source));
            }
        }
        let statements = docs.len() as u64;
        let knowledge = (!fw.knowledge.is_empty()).then(|| {
            self.fields
                .knowledge_document(&fw.soc, &fw.knowledge, &source, true)
        });
        for d in docs.into_iter().chain(knowledge) {
            if let Err(e) = self.writer.add_document(d) {
                lock(&self.fatal).get_or_insert(e);
                return;
            }
        }
        claims.insert(
            fw.soc.clone(),
            Claim {
                exported_at: fw.exported_at_nanos,
                source,
                statements,
            },
        );
    }
}

/// Gives up a run whose writing failed: rolls back to the last commit and removes the files the
/// run wrote, so that the next run (or `--rebuild`) has the space back. The error names the
/// cause, e.g. "No space left on device".
fn abandon(
    index: &tantivy::Index,
    mut writer: IndexWriter<TantivyDocument>,
    dir: &Path,
    cause: tantivy::TantivyError,
) -> Error {
    let _ = writer.rollback();
    // Dropping the writer joins its worker threads; until then the segments they wrote still
    // count as in use. A fresh writer's collection then sees them for what they are: garbage.
    drop(writer);
    if let Ok(fresh) =
        index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MIN_BYTES_PER_THREAD)
    {
        let _ = fresh.garbage_collect_files().wait();
        // With the writer lock held, no other writer can be making segments.
        remove_orphan_segments(index, dir);
    }
    Error::WriteFailed {
        path: dir.to_path_buf(),
        cause: io_cause(&cause),
        committed: false,
    }
}

/// Removes segment files that the committed index does not use and tantivy's own collection
/// does not know of: a disk that fills up while tantivy records which files it manages leaves
/// segments behind that no later collection would remove. Only names of tantivy's shape
/// (32 hex digits, a dot, an extension) are touched, and only with the writer lock held.
fn remove_orphan_segments(index: &tantivy::Index, dir: &Path) {
    let Ok(metas) = index.load_metas() else {
        return;
    };
    let living: std::collections::HashSet<String> = metas
        .segments
        .iter()
        .map(|s| s.id().uuid_string())
        .collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((id, _ext)) = name.split_once('.') else {
            continue;
        };
        let tantivy_shaped = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if tantivy_shaped && !living.contains(id) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The operating system's words for a tantivy error, when it has them (tantivy wraps I/O errors
/// in several variants, some only as text).
fn io_cause(e: &tantivy::TantivyError) -> String {
    use tantivy::TantivyError as T;
    match e {
        T::IoError(io) => io.to_string(),
        T::OpenWriteError(w) => w.to_string(),
        T::OpenReadError(r) => r.to_string(),
        T::InternalError(m) | T::ErrorInThread(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Commits, marking the index with the format its documents are in and its vector file.
fn commit(writer: &mut IndexWriter<TantivyDocument>, vectors_token: &str) -> tantivy::Result<u64> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&crate::index::schema::payload(vectors_token));
    prepared.commit()
}

/// The last commit's vectors, and the keys of those whose documents are still alive: the ones
/// this run keeps (vectors of deleted documents are dropped here, one run after their deletion).
fn carried_vectors(
    before: &Searcher,
    fields: &Fields,
    dir: &Path,
    token: Option<&str>,
) -> Result<(vectors::Store, std::collections::HashSet<u64>)> {
    let Some(token) = token else {
        return Ok(Default::default());
    };
    let store = vectors::Store::open(dir, token)?;
    let mut carried = std::collections::HashSet::new();
    for seg in before.segment_readers() {
        let alive = seg.alive_bitset();
        for field in [fields.vec_key, fields.title_keys] {
            let col = crate::index::store::u64_column(seg, before, field)?;
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                for k in col.values_for_doc(doc) {
                    if !carried.contains(&k) && store.contains(k) {
                        carried.insert(k);
                    }
                }
            }
        }
    }
    Ok((store, carried))
}

/// About how many bytes of JSON Lines are read before they are parsed on every worker: enough
/// lines to share out, few enough that memory stays flat.
const LINES_CHUNK_BYTES: usize = 8 << 20;

/// The next lines of a JSON Lines file.
#[derive(Debug, Default)]
struct Chunk {
    /// (line number, bytes) of each line that is not blank.
    lines: Vec<(usize, Vec<u8>)>,
    /// (line number, length without its newline) of each line over the limit, which was
    /// skipped to its end.
    too_long: Vec<(usize, u64)>,
    /// The end of the file was reached, or reading it failed.
    done: bool,
    /// Why reading failed, at the line it failed on (the lines before it are in `lines`).
    error: Option<ExportError>,
}

/// Reads lines until about [`LINES_CHUNK_BYTES`] are held or the file ends; `number` counts the
/// lines read so far. A line longer than `max` bytes is skipped to its end and listed in
/// `too_long`, never held whole. A read error ends the chunk (and the file) with the lines read
/// before it.
fn read_chunk(reader: &mut impl std::io::BufRead, number: &mut usize, max: u64) -> Chunk {
    let mut chunk = Chunk::default();
    if let Err((line, e)) = fill_chunk(reader, number, max, &mut chunk) {
        chunk.error = Some(ExportError::msg(format!("cannot read: {e}")).at_line_offset(line));
        chunk.done = true;
    }
    chunk
}

/// [`read_chunk`]'s reading, into `chunk`; an error comes with the number of the line it hit.
fn fill_chunk(
    reader: &mut impl std::io::BufRead,
    number: &mut usize,
    max: u64,
    chunk: &mut Chunk,
) -> Result<(), (usize, std::io::Error)> {
    let mut held = 0;
    while held < LINES_CHUNK_BYTES {
        let mut line = Vec::new();
        let read = (&mut *reader)
            .take(max.saturating_add(1))
            .read_until(b'\n', &mut line)
            .map_err(|e| (*number + 1, e))?;
        if read == 0 {
            chunk.done = true;
            break;
        }
        *number += 1;
        // The newline is not part of the export (errors count lines and columns without it).
        let ended = line.last() == Some(&b'\n');
        if ended {
            line.pop();
        }
        if line.len() as u64 > max {
            // Over the limit: skip the rest of the line without holding it.
            let mut skipped = line.len() as u64;
            loop {
                let buf = reader.fill_buf().map_err(|e| (*number, e))?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        reader.consume(i + 1);
                        skipped += i as u64;
                        break;
                    }
                    None => {
                        let n = buf.len();
                        reader.consume(n);
                        skipped += n as u64;
                    }
                }
            }
            chunk.too_long.push((*number, skipped));
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        held += line.len();
        chunk.lines.push((*number, line));
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads a file, refusing it when it is larger than `max` bytes (checked before and while reading,
/// so a file that grows cannot get past the limit).
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, ExportError> {
    let io_err = |e: std::io::Error| ExportError {
        line: None,
        column: None,
        field: None,
        message: format!("cannot read: {e}"),
    };
    let too_big = |size: u64| ExportError {
        line: None,
        column: None,
        field: None,
        message: format!(
            "file is {size} bytes, over the limit of {max} bytes (raise it with --max-file-size)"
        ),
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let size = file.metadata().map_err(io_err)?.len();
    if size > max {
        return Err(too_big(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

fn kind_of(path: &Path) -> Option<InputKind> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())?
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => Some(InputKind::Export),
        "jsonl" | "ndjson" => Some(InputKind::Lines),
        "tsv" => Some(InputKind::Table),
        _ => None,
    }
}

/// Expands the input paths into the files to read. Folders are walked recursively (following
/// links, with loop detection), honouring `.skillmapignore` files; a file named on the command
/// line is read whatever its extension.
fn collect_inputs(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<Skipped>, Vec<Rejected>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    let walk_error = |path: &Path, message: String| Rejected {
        path: path.display().to_string(),
        error: ExportError {
            line: None,
            column: None,
            field: None,
            message,
        },
    };
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(walk_error(root, format!("cannot read: {e}")));
                continue;
            }
        };
        if meta.is_file() {
            files.push(InputFile {
                path: root.clone(),
                kind: kind_of(root).unwrap_or(InputKind::Export),
            });
            continue;
        }
        if !meta.is_dir() {
            // Named on purpose, so not read is an error: a FIFO would block, a device never ends.
            errors.push(walk_error(
                root,
                format!(
                    "{}; expected an export file or a folder",
                    not_regular(&meta.file_type())
                ),
            ));
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .standard_filters(false)
            .follow_links(true)
            .add_custom_ignore_filename(IGNORE_FILE)
            .sort_by_file_path(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    match e.file_type() {
                        Some(t) if t.is_file() => {}
                        Some(t) if t.is_dir() => continue,
                        // FIFOs, sockets and devices are never opened: reading one could block
                        // or never end. They are listed, so nothing is dropped unseen.
                        t => {
                            skipped.push(Skipped {
                                path: e.path().display().to_string(),
                                reason: t.map_or_else(
                                    || "not a regular file".to_string(),
                                    |t| not_regular(&t),
                                ),
                            });
                            continue;
                        }
                    }
                    let p = e.into_path();
                    if p.file_name().and_then(|n| n.to_str()) == Some(IGNORE_FILE) {
                        continue;
                    }
                    match kind_of(&p) {
                        Some(kind) => files.push(InputFile { path: p, kind }),
                        None => skipped.push(Skipped {
                            path: p.display().to_string(),
                            reason: "not an export (.json, .jsonl or .ndjson) or a table (.tsv)"
                                .into(),
                        }),
                    }
                }
                Err(e) => {
                    let path = walk_error_path(&e).unwrap_or_else(|| root.clone());
                    if is_loop(&e) {
                        // Everything under the loop is read once, from its first path.
                        skipped.push(Skipped {
                            path: path.display().to_string(),
                            reason: walk_error_message(&e),
                        });
                    } else {
                        errors.push(walk_error(&path, walk_error_message(&e)));
                    }
                }
            }
        }
    }
    // The same file named twice (or reached twice) is read once.
    let mut seen = std::collections::HashSet::new();
    files
        .retain(|f| seen.insert(std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone())));
    (files, skipped, errors)
}

/// What kind of non-regular file this is, for a skip or an error.
fn not_regular(t: &std::fs::FileType) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else {
            "not a file or folder"
        };
        format!("not a regular file ({kind})")
    }
    #[cfg(not(unix))]
    {
        let _ = t;
        "not a regular file".to_string()
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn walk_error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        _ => None,
    }
}

fn walk_error_message(e: &ignore::Error) -> String {
    match e {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            walk_error_message(err)
        }
        ignore::Error::Loop { ancestor, .. } => format!(
            "symbolic link loop back to {}; the folder is read once",
            ancestor.display()
        ),
        ignore::Error::Io(io) => format!("cannot read: {io}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_read_in_chunks_with_their_numbers_and_long_lines_skipped() {
        // Lines 1-3 fit, line 4 is 40 bytes over a 16-byte limit, line 5 is blank, line 6 has no
        // newline at the end of the file.
        let long = "x".repeat(40);
        let text = format!("{{\"a\":1}}\n{{\"b\":2}}\r\n\n{long}\n  \n{{\"c\":3}}");
        let mut r = std::io::BufReader::with_capacity(8, text.as_bytes());
        let mut n = 0;
        let c = read_chunk(&mut r, &mut n, 16);
        assert!(c.done);
        assert_eq!(n, 6);
        let lines: Vec<(usize, String)> = c
            .lines
            .into_iter()
            .map(|(n, l)| (n, String::from_utf8(l).unwrap()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, "{\"a\":1}".to_string()),
                (2, "{\"b\":2}\r".to_string()),
                (6, "{\"c\":3}".to_string())
            ]
        );
        assert_eq!(c.too_long, [(4, 40)]);
        // A line of exactly the limit, newline aside, is kept; one byte more is not.
        let text = format!("{}\n{}", "y".repeat(16), "z".repeat(17));
        let mut n = 0;
        let c = read_chunk(&mut text.as_bytes(), &mut n, 16);
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.too_long, [(2, 17)]);
    }

    /// Gives its bytes, then fails.
    struct FailsAfter<'a>(&'a [u8]);

    impl std::io::Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("the disk is gone"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_keeps_the_lines_before_it_and_names_the_line_it_hit() {
        let mut r = std::io::BufReader::with_capacity(4, FailsAfter(b"{}\n{}\n{\"half"));
        let mut n = 0;
        let c = read_chunk(&mut r, &mut n, 1024);
        assert!(c.done);
        assert_eq!(c.lines.iter().map(|l| l.0).collect::<Vec<_>>(), [1, 2]);
        let e = c.error.unwrap();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("the disk is gone"), "{e}");
        // Failing while skipping a line over the limit names that line.
        let mut r = std::io::BufReader::with_capacity(4, FailsAfter(b"{}\nxxxxxxxxxx"));
        let mut n = 0;
        let c = read_chunk(&mut r, &mut n, 4);
        assert_eq!(c.error.unwrap().line, Some(2));
    }

    #[test]
    fn a_chunk_ends_after_about_its_size_and_the_next_goes_on_counting() {
        let line = format!("{}\n", "w".repeat(1 << 20));
        let text = line.repeat(10);
        let mut r = text.as_bytes();
        let mut n = 0;
        let first = read_chunk(&mut r, &mut n, 2 << 20);
        assert!(!first.done);
        assert_eq!(first.lines.len(), LINES_CHUNK_BYTES / line.len() + 1);
        let second = read_chunk(&mut r, &mut n, 2 << 20);
        assert!(second.done);
        assert_eq!(second.lines[0].0, first.lines.len() + 1);
        assert_eq!(first.lines.len() + second.lines.len(), 10);
        assert_eq!(n, 10);
    }

    #[test]
    fn files_are_read_by_extension_in_any_case() {
        let kind = |p: &str| kind_of(Path::new(p));
        assert_eq!(kind("a/b.json"), Some(InputKind::Export));
        assert_eq!(kind("B.JSON"), Some(InputKind::Export));
        assert_eq!(kind("x.jsonl"), Some(InputKind::Lines));
        assert_eq!(kind("x.ndjson"), Some(InputKind::Lines));
        assert_eq!(kind("titles.tsv"), Some(InputKind::Table));
        for other in ["README.md", "x.csv", "noext", "x.json.bak", ".json"] {
            assert_eq!(kind(other), None, "{other}");
        }
    }

    #[test]
    fn a_walk_finds_inputs_skips_others_names_missing_paths_and_honours_ignore_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/skip")).unwrap();
        for f in [
            "a.json",
            "sub/b.jsonl",
            "sub/t.tsv",
            "notes.txt",
            "sub/skip/c.json",
        ] {
            std::fs::write(root.join(f), "{}").unwrap();
        }
        std::fs::write(root.join(IGNORE_FILE), "skip/\n").unwrap();
        let missing = root.join("nowhere.json");
        let (files, skipped, rejected) = collect_inputs(&[root.to_path_buf(), missing]);
        let mut names: Vec<String> = files
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["a.json", "sub/b.jsonl", "sub/t.tsv"]);
        assert!(
            skipped.iter().any(|s| s.path.ends_with("notes.txt")),
            "{skipped:?}"
        );
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert!(rejected[0].path.ends_with("nowhere.json"));
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.json");
        std::fs::write(&p, vec![b' '; 2048]).unwrap();
        let e = read_limited(&p, 1024).unwrap_err();
        assert!(e.message.contains("over the limit of 1024 bytes"), "{e}");
        assert_eq!(read_limited(&p, 4096).unwrap().len(), 2048);
        let gone = read_limited(&dir.path().join("gone.json"), 10).unwrap_err();
        assert!(gone.message.starts_with("cannot read"), "{gone}");
    }
}
