//! The service's configuration: its address and limits, with the defaults that the command
//! line's `serve` flags show.

use std::net::SocketAddr;
use std::time::Duration;

/// Limits and address of the service.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Longest `q`, in characters.
    pub max_query_chars: usize,
    /// Largest `limit`.
    pub max_limit: usize,
    /// Requests doing CPU work at once; more get 503.
    pub max_inflight: usize,
    /// Time a request may take before it is answered 408.
    pub timeout: Duration,
    /// Time a client has to send a request's headers before it is disconnected; also the time a
    /// connection may stay open with no request in progress (before its first request, between
    /// requests, or after an HTTP/2 preface).
    pub header_timeout: Duration,
    /// Connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Most lines in one `/api/map/batch` body; more are refused with 413 before any work.
    pub max_batch_lines: usize,
    /// Keys that `/api/*` and `/metrics` require as `Authorization: Bearer KEY` (none: open).
    pub api_keys: Vec<String>,
    /// How `serve` writes its logs.
    pub log_format: LogFormat,
}

/// The format of the service's log lines on stderr (filtered by `RUST_LOG`, default `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

/// Default address: loopback only, so that nothing is exposed until the operator says so.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7700";
/// Default largest request body: 1 MiB holds a long posting many times over.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// Default longest `q`, in characters: a pasted paragraph, far from a denial of service.
pub const DEFAULT_MAX_QUERY_CHARS: usize = 1_000;
/// Default largest `limit`: a page of results for a person or a program (the library allows up
/// to `search::MAX_LIMIT`).
pub const DEFAULT_MAX_LIMIT: usize = 100;
/// Default requests doing CPU work at once: beyond this they queue only in the clients' retries.
pub const DEFAULT_MAX_INFLIGHT: usize = 64;
/// Default time a request may take, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

impl Default for ServeConfig {
    /// The defaults that `skillmap serve` shows in `--help`.
    fn default() -> Self {
        ServeConfig {
            addr: DEFAULT_ADDR
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7700))),
            max_body: DEFAULT_MAX_BODY,
            max_query_chars: DEFAULT_MAX_QUERY_CHARS,
            max_limit: DEFAULT_MAX_LIMIT,
            max_inflight: DEFAULT_MAX_INFLIGHT,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            header_timeout: HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_batch_lines: DEFAULT_MAX_BATCH_LINES,
            api_keys: Vec::new(),
            log_format: LogFormat::Text,
        }
    }
}

/// Default cap on open connections: far above what a loopback or proxied service needs, and
/// under the usual 1,024 file descriptors a process may open.
pub const DEFAULT_MAX_CONNECTIONS: usize = 900;
/// Default cap on lines per batch request: 1,000 postings take about a second on two cores.
pub const DEFAULT_MAX_BATCH_LINES: usize = 1_000;
/// Most header fields in a request head (hyper's default is 100; the 64 KiB head limit is the
/// real bound, and a browser sends about 20).
pub const MAX_HEADERS: usize = 1_000;

/// Default time a client has to send a request's headers; slower clients are disconnected.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) a connection buffers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
