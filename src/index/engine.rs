//! Opening and creating the index directory, checking its schema, and the shared reader.

use std::path::{Path, PathBuf};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, Lock, META_LOCK, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyError};

use crate::error::{Error, Result};
use crate::index::schema::{self, Fields};

/// An open index for reading: one `IndexReader` per process, a `Searcher` per request.
pub struct Engine {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub path: PathBuf,
    /// The vectors of the last commit seen, with its token.
    vectors: std::sync::Mutex<Option<(String, std::sync::Arc<crate::index::vectors::Store>)>>,
    /// Hybrid search's tables (expansion vocabulary, occupations' title vectors), built at the
    /// first hybrid query of each index generation.
    pub(crate) hybrid_vocabulary: ByGeneration<crate::search::hybrid::Vocabulary>,
    pub(crate) occupation_vectors: ByGeneration<crate::search::hybrid::OccupationVectors>,
    /// Occupation numbers for grouping matches (read from the SOC dictionaries once per index
    /// generation).
    pub(crate) occupation_ids: ByGeneration<crate::search::grouped::OccupationIds>,
    /// The titles-and-tools table written beside the commit, when the reader sees that commit
    /// and the file is sound (read at the first occupation ranking of each generation).
    pub(crate) names: ByGeneration<Option<super::names::Names>>,
    /// The statement terms and their deletions, for typo-tolerant words (built at the first
    /// such word of each generation).
    pub(crate) typo_vocabulary: ByGeneration<crate::search::typo::Vocabulary>,
    /// Set for a process that answers one query: tables that pay for themselves only over many
    /// queries (the typo vocabulary) are not built, and their slower equivalent is used.
    pub(crate) one_shot: bool,
}

/// A value derived from one index generation, rebuilt when the reader moves on.
pub(crate) struct ByGeneration<T>(std::sync::Mutex<Option<(u64, std::sync::Arc<T>)>>);

impl<T> Default for ByGeneration<T> {
    fn default() -> Self {
        ByGeneration(std::sync::Mutex::new(None))
    }
}

impl<T> ByGeneration<T> {
    /// The value for `searcher`'s generation, built by `build` when it is not there yet.
    pub(crate) fn get(
        &self,
        searcher: &Searcher,
        build: impl FnOnce() -> Result<T>,
    ) -> Result<std::sync::Arc<T>> {
        let generation = searcher.generation().generation_id();
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((g, v)) = slot.as_ref()
            && *g == generation
        {
            return Ok(v.clone());
        }
        let v = std::sync::Arc::new(build()?);
        *slot = Some((generation, v.clone()));
        Ok(v)
    }
}

impl Engine {
    /// Opens an existing index read-only. It reloads by itself after another process commits.
    /// An index on a read-only file system, or in a folder this user cannot write, opens too.
    pub fn open(path: &Path) -> Result<Engine> {
        let index = open_existing_with(path, Access::Read)?;
        let fields = Fields::from_schema(&index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Engine {
            index,
            reader,
            fields,
            path: path.to_path_buf(),
            vectors: std::sync::Mutex::new(None),
            hybrid_vocabulary: ByGeneration::default(),
            occupation_vectors: ByGeneration::default(),
            occupation_ids: ByGeneration::default(),
            names: ByGeneration::default(),
            typo_vocabulary: ByGeneration::default(),
            one_shot: false,
        })
    }

    /// This engine answers one query (`skillmap search`): it builds no table that pays for
    /// itself only over many queries. The answers are the same.
    pub fn for_one_query(mut self) -> Engine {
        self.one_shot = true;
        self
    }

    /// The vectors of the index's newest commit (read once per commit). They hold every vector
    /// of the commit before too, but for documents deleted before that, so a searcher that has
    /// not reloaded yet finds its documents' vectors as well.
    pub fn vectors(&self) -> Result<std::sync::Arc<crate::index::vectors::Store>> {
        let metas = self.index.load_metas()?;
        let Some(token) = metas.payload.as_deref().and_then(schema::vectors_token) else {
            // Nothing committed yet.
            return Ok(Default::default());
        };
        let mut cached = self.vectors.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((t, store)) = cached.as_ref()
            && t == token
        {
            return Ok(store.clone());
        }
        let store = std::sync::Arc::new(crate::index::vectors::Store::open(&self.path, token)?);
        *cached = Some((token.to_string(), store.clone()));
        Ok(store)
    }

    /// A point-in-time view of the index: every search of one request uses the same one.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }
}

/// Does `path` hold a tantivy index (a committed `meta.json`)?
pub fn index_exists(path: &Path) -> bool {
    path.join("meta.json").is_file()
}

/// What an index is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// Opens an existing index for writing and checks that its schema is ours.
pub fn open_existing(path: &Path) -> Result<Index> {
    open_existing_with(path, Access::Write)
}

fn open_existing_with(path: &Path, access: Access) -> Result<Index> {
    check_folder(path)?;
    if !index_exists(path) {
        return Err(Error::NoIndex {
            path: path.to_path_buf(),
        });
    }
    let directory = MmapDirectory::open(path).map_err(|e| Error::Tantivy(e.into()))?;
    let opened = match access {
        Access::Write => Index::open(directory),
        Access::Read => Index::open(ReadOnlyFallback(directory)),
    };
    let index = opened.map_err(|e| match e {
        TantivyError::SchemaError(_) | TantivyError::IncompatibleIndex(_) => {
            Error::SchemaMismatch {
                path: path.to_path_buf(),
            }
        }
        other => Error::Tantivy(other),
    })?;
    let (expected, _) = schema::build();
    if index.schema() != expected {
        return Err(Error::SchemaMismatch {
            path: path.to_path_buf(),
        });
    }
    // Same schema, documents of another format: refused too, unless nothing was ever committed
    // (a new index has no payload yet).
    let metas = index.load_metas()?;
    let ours = metas
        .payload
        .as_deref()
        .and_then(schema::vectors_token)
        .is_some();
    if !metas.segments.is_empty() && !ours {
        return Err(Error::SchemaMismatch {
            path: path.to_path_buf(),
        });
    }
    crate::index::analyzer::register(&index);
    Ok(index)
}

/// `--index` must name a folder (or nothing yet): a file there is a mistake worth naming.
fn check_folder(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_dir() => Err(Error::Invalid(format!(
            "--index {} is a file, not a folder; name the folder that holds (or will hold) the index",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Opens the index for writing, creating it (and its folder) when absent.
pub fn open_or_create(path: &Path) -> Result<Index> {
    check_folder(path)?;
    if index_exists(path) {
        return open_existing(path);
    }
    std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
    let (schema, _) = schema::build();
    let index = Index::create_in_dir(path, schema)?;
    crate::index::analyzer::register(&index);
    Ok(index)
}

/// Maps tantivy's lock failure to our errors: "locked by another process" when the lock is
/// held, "cannot be written" when the lock file cannot even be created (read-only file system,
/// no permission).
pub fn lock_error(path: &Path, e: TantivyError) -> Error {
    match e {
        TantivyError::LockFailure(LockError::IoError(io), _) => Error::NotWritable {
            path: path.to_path_buf(),
            cause: io.to_string(),
        },
        TantivyError::LockFailure(..) => Error::Locked {
            path: path.to_path_buf(),
        },
        other => Error::Tantivy(other),
    }
}

/// The reading side's directory: tantivy's memory-mapped one, except that the lock readers take
/// while opening segments (which keeps a writer's garbage collection from deleting them
/// meanwhile) is skipped when the lock file cannot be created because the folder cannot be
/// written. On a read-only file system no writer can run, so there is nothing to guard against;
/// in a folder only another user can write, a commit that lands while a reader opens its
/// segments can make that one reload fail, and the next one succeeds.
#[derive(Debug, Clone)]
struct ReadOnlyFallback(MmapDirectory);

impl Directory for ReadOnlyFallback {
    fn get_file_handle(
        &self,
        path: &Path,
    ) -> std::result::Result<std::sync::Arc<dyn tantivy::directory::FileHandle>, OpenReadError>
    {
        self.0.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> std::result::Result<(), DeleteError> {
        self.0.delete(path)
    }

    fn exists(&self, path: &Path) -> std::result::Result<bool, OpenReadError> {
        self.0.exists(path)
    }

    fn open_write(&self, path: &Path) -> std::result::Result<WritePtr, OpenWriteError> {
        self.0.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> std::result::Result<Vec<u8>, OpenReadError> {
        self.0.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.0.atomic_write(path, data)
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        self.0.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> std::result::Result<DirectoryLock, LockError> {
        match self.0.acquire_lock(lock) {
            Err(LockError::IoError(e))
                if lock.filepath == META_LOCK.filepath && cannot_write(e.kind()) =>
            {
                Ok(DirectoryLock::from(Box::new(())))
            }
            other => other,
        }
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.0.watch(watch_callback)
    }
}

/// Is this the error of a folder that cannot be written?
fn cannot_write(kind: std::io::ErrorKind) -> bool {
    matches!(
        kind,
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// Removes an incompatible index's files (those tantivy manages, listed in `.managed.json`, and
/// the meta files) so that `--rebuild` can create a fresh one in place. Other files in the folder,
/// such as a README, are left alone. `meta.json` goes first: a crash midway leaves "no index",
/// never a half-deleted one that claims to be whole.
pub fn wipe(path: &Path) -> Result<()> {
    let managed_path = path.join(".managed.json");
    let managed: Vec<String> = std::fs::read(&managed_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let remove = |p: PathBuf| match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(p, e)),
        _ => Ok(()),
    };
    remove(path.join("meta.json"))?;
    for name in managed {
        // Only plain names: never follow a path out of the index folder.
        if !name.contains('/') && !name.contains('\\') && name != ".." {
            remove(path.join(name))?;
        }
    }
    remove(managed_path)
}

/// Runs reading work on the index at `path`, turning a panic inside tantivy (some damaged files
/// make it index out of bounds) into [`Error::Damaged`]. The command line and the fuzzer use
/// this boundary; the HTTP service answers such a panic with a 500 and logs it.
pub fn guarded<T>(path: &Path, work: impl FnOnce() -> Result<T>) -> Result<T> {
    match crate::panics::catch(work) {
        Ok(Err(Error::Tantivy(e))) => Err(damaged(path, &e.to_string())),
        Ok(r) => r,
        Err(detail) => Err(damaged(path, &detail)),
    }
}

/// Checks every file of the committed index against the checksum in its footer. Returns how
/// many files were checked, or [`Error::Damaged`] naming the files that do not match.
pub fn verify(engine: &Engine) -> Result<usize> {
    let bad =
        checksum_failures(&engine.index).map_err(|e| damaged(&engine.path, &e.to_string()))?;
    if !bad.is_empty() {
        return Err(Error::Damaged {
            path: engine.path.clone(),
            detail: "checksum mismatch".into(),
            damaged: bad,
        });
    }
    let store = engine.vectors()?;
    let mut tables = 0;
    if let Some(token) = engine
        .index
        .load_metas()?
        .payload
        .as_deref()
        .and_then(schema::vectors_token)
    {
        store.verify(&engine.path, token)?;
        tables = usize::from(crate::map::prebuilt::FILE.verify(&engine.path, token)?)
            + usize::from(super::names::FILE.verify(&engine.path, token)?);
    }
    let vectors = usize::from(!store.is_empty());
    Ok(engine.index.directory().list_managed_files().len() + vectors + tables)
}

/// The error for an index that failed inside tantivy: the detail, and the files whose
/// checksums do not match (when the check itself can run).
pub fn damaged(path: &Path, detail: &str) -> Error {
    // The check may panic too; its message is not the one to report.
    let check = crate::panics::catch(|| -> Option<Vec<String>> {
        let index = Index::open(MmapDirectory::open(path).ok()?).ok()?;
        checksum_failures(&index).ok()
    });
    Error::Damaged {
        path: path.to_path_buf(),
        detail: detail.chars().take(300).collect(),
        damaged: check.ok().flatten().unwrap_or_default(),
    }
}

/// The files of the committed index whose checksums do not match, sorted by name.
fn checksum_failures(index: &Index) -> tantivy::Result<Vec<String>> {
    let mut names: Vec<String> = index
        .validate_checksum()?
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    names.sort();
    Ok(names)
}

/// The number of live statements: every live document but the knowledge documents.
pub fn statement_count(searcher: &Searcher, fields: &crate::index::schema::Fields) -> Result<u64> {
    let knowledge = tantivy::query::TermQuery::new(
        fields.knowledge_term(),
        tantivy::schema::IndexRecordOption::Basic,
    );
    let k = searcher.search(&knowledge, &tantivy::collector::Count)? as u64;
    Ok(searcher.num_docs().saturating_sub(k))
}

/// The BM25 statistics that every scoring search uses: the searcher's own, knowledge documents
/// included in N. (Leaving them out would keep statement scores exactly what an index of
/// statements alone gives, but tantivy's block-max pruning bounds scores with the searcher's own
/// statistics: with a smaller N, real scores exceed those bounds and pruning drops documents
/// that belong in the top — the property test `pruned_ranking_equals_the_merged_one` caught it.
/// So the statistics are the searcher's, and this type only keeps scoring in one place.)
pub struct StatementStats<'a> {
    searcher: &'a Searcher,
    docs: u64,
}

impl<'a> StatementStats<'a> {
    /// The statistics of a searcher.
    pub fn of(searcher: &'a Searcher) -> tantivy::Result<StatementStats<'a>> {
        use tantivy::query::Bm25StatisticsProvider;
        Ok(StatementStats {
            searcher,
            docs: searcher.total_num_docs()?.max(1),
        })
    }

    /// Scoring with these statistics.
    pub fn scoring(&self) -> tantivy::query::EnableScoring<'_> {
        tantivy::query::EnableScoring::enabled_from_statistics_provider(self, self.searcher)
    }

    /// Runs a scoring collector with these statistics.
    pub fn search<C: tantivy::collector::Collector>(
        &self,
        q: &dyn tantivy::query::Query,
        collector: &C,
    ) -> tantivy::Result<C::Fruit> {
        self.searcher
            .search_with_statistics_provider(q, collector, self)
    }

    /// [`StatementStats::search`] for a collector that visits every match, on rayon's pool:
    /// the segments are cut into parts of about `chunk` documents, each part is scored by its
    /// own scorer and collector (a part's scorer seeks to its first document and stops before
    /// the next part's), and the parts' fruits merge as the segments' would. The same matches,
    /// scores and fruit as a search segment by segment, when the collector's merge does not
    /// depend on the order of its parts; only a large segment is cut (tantivy searches in
    /// parallel only by segment, and merging leaves one segment with most of the documents).
    pub fn search_parts<C: tantivy::collector::Collector>(
        &self,
        q: &dyn tantivy::query::Query,
        collector: &C,
        chunk: u32,
    ) -> tantivy::Result<C::Fruit> {
        use rayon::prelude::*;
        use tantivy::collector::SegmentCollector;
        use tantivy::{DocSet, TERMINATED};
        let weight = q.weight(self.scoring())?;
        let chunk = chunk.max(1);
        let parts: Vec<(u32, u32, u32)> = self
            .searcher
            .segment_readers()
            .iter()
            .enumerate()
            .flat_map(|(ord, seg)| {
                let max = seg.max_doc();
                (0..max.div_ceil(chunk)).map(move |k| {
                    let start = k * chunk;
                    (ord as u32, start, (start + chunk).min(max))
                })
            })
            .collect();
        let fruits = parts
            .par_iter()
            .map(|&(ord, start, end)| {
                let reader = self.searcher.segment_reader(ord);
                let mut child = collector.for_segment(ord, reader)?;
                let mut scorer = weight.scorer(reader, 1.0)?;
                let mut doc = scorer.doc();
                if doc < start {
                    doc = scorer.seek(start);
                }
                let alive = reader.alive_bitset();
                while doc != TERMINATED && doc < end {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        child.collect(doc, scorer.score());
                    }
                    doc = scorer.advance();
                }
                Ok(child.harvest())
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        collector.merge_fruits(fruits)
    }

    /// How a document's score comes about, with these statistics.
    pub fn explain(
        &self,
        q: &dyn tantivy::query::Query,
        addr: tantivy::DocAddress,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        let reader = self.searcher.segment_reader(addr.segment_ord);
        q.weight(self.scoring())?.explain(reader, addr.doc_id)
    }
}

impl tantivy::query::Bm25StatisticsProvider for StatementStats<'_> {
    fn total_num_tokens(&self, field: tantivy::schema::Field) -> tantivy::Result<u64> {
        self.searcher.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &tantivy::Term) -> tantivy::Result<u64> {
        self.searcher.doc_freq(term)
    }
}
