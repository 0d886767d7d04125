//! The crate's error type: every fallible library function returns `crate::Result`.

use std::path::PathBuf;

/// Errors of the library. Variants carry the path or the input that caused them so that
/// the message printed once by `main` is enough to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The folder holds no skillmap index.
    #[error("no index at {}; build one with `skillmap index [PATH]... --index {}`", path.display(), path.display())]
    NoIndex { path: PathBuf },
    /// The index was built by another version of the schema.
    #[error("the index at {} was built with another schema version; run `skillmap index --rebuild` to rebuild it", path.display())]
    SchemaMismatch { path: PathBuf },
    /// Another writer holds the index lock.
    #[error("the index at {} is locked by another process (is another `skillmap index` running?)", path.display())]
    Locked { path: PathBuf },
    /// The index folder cannot be written (read-only file system, no permission).
    #[error("the index at {} cannot be written ({cause}); it can still be searched and served, but to index, name a folder you can write with --index", path.display())]
    NotWritable { path: PathBuf, cause: String },
    /// Reading the index failed inside tantivy: a damaged file, most likely.
    #[error("the index at {} could not be read ({detail}){}; rebuild it with `skillmap index --rebuild --index {} PATH...`", path.display(), damaged_hint(damaged), path.display())]
    Damaged {
        path: PathBuf,
        detail: String,
        /// Files whose checksum does not match.
        damaged: Vec<String>,
    },
    /// Writing the index failed (disk full, I/O error); the run was rolled back.
    #[error("could not write the index at {}: {cause}; {}", path.display(), if *committed { "the new statements were committed, but merging them into one segment failed; the index is usable" } else { "nothing was committed: the last committed index is unchanged and the files of this run were removed" })]
    WriteFailed {
        path: PathBuf,
        cause: String,
        /// Whether the run's statements were committed before the failure (`--optimize`).
        committed: bool,
    },
    /// A user-supplied value (query, filter, flag) is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// An occupation code that the index does not hold.
    #[error("no occupation {soc} in the index{}", closest_hint(closest))]
    UnknownSoc { soc: String, closest: Vec<String> },
    /// tantivy failed underneath.
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The work was stopped from outside (its HTTP request ran out of time).
    #[error("stopped: the request ran out of time")]
    Cancelled,
    /// The process could not start what it needs to work (threads, the async runtime).
    #[error("cannot start the {what}: {cause}")]
    Start { what: &'static str, cause: String },
    /// The service cannot listen on its address (in use, or not this machine's).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// JSON serialization of our own values failed (only on I/O errors in practice).
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

fn damaged_hint(files: &[String]) -> String {
    if files.is_empty() {
        String::new()
    } else {
        format!("; damaged files: {}", files.join(", "))
    }
}

fn closest_hint(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; closest codes: {}", closest.join(", "))
    }
}

impl Error {
    /// The same write failure, after the statements had been committed (a failed merge).
    pub fn after_commit(self) -> Self {
        match self {
            Error::WriteFailed { path, cause, .. } => Error::WriteFailed {
                path,
                cause,
                committed: true,
            },
            other => other,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
