//! Connections: each one's idle deadline, the cap on open connections and the answer to one
//! over it, and the open-files limit that the cap must fit under.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one connection is doing, for its idle deadline.
pub(super) struct Activity {
    pub(super) started: Instant,
    /// Requests whose response has not been sent whole yet.
    pub(super) in_flight: AtomicUsize,
    /// When the last request ended, in milliseconds after `started` (0: none yet).
    pub(super) last_end_ms: std::sync::atomic::AtomicU64,
}

impl Activity {
    pub(super) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_end_ms: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// When the connection is to be closed for idleness, or `None` while a request is in progress.
    pub(super) fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_end_ms.load(Ordering::Acquire));
        Some(self.started + last + idle)
    }
}

/// A request in progress on a connection: from its head until its response body is sent (or
/// dropped with the connection).
pub(super) struct InFlight(pub(super) Arc<Activity>);

impl InFlight {
    pub(super) fn start(a: &Arc<Activity>) -> InFlight {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = self.0.started.elapsed().as_millis() as u64;
        self.0.last_end_ms.fetch_max(ms.max(1), Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in progress until hyper has sent it.
pub(super) struct Tracked {
    pub(super) inner: axum::body::Body,
    pub(super) _request: InFlight,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The body of the 503 sent to a connection over `--max-connections`.
pub(super) const REFUSED_BODY: &str = r#"{"error":{"code":"busy","message":"the server is at its limit of open connections; retry shortly"}}"#;

/// Answers a connection over the cap with a 503 and closes it, giving the client at most a
/// second to take it.
pub(super) async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\nx-content-type-options: nosniff\r\n\r\n{REFUSED_BODY}",
        REFUSED_BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Raises the soft limit on open files to the hard one, and returns how many connections fit
/// under it (leaving room for the index's files and the process's own).
pub(super) fn connection_room(wanted: usize) -> usize {
    const RESERVED_FDS: u64 = 64;
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1_024);
    let room = limit.saturating_sub(RESERVED_FDS).max(1) as usize;
    if room < wanted {
        eprintln!(
            "skillmap serve: only {limit} open files allowed (ulimit -n); serving at most {room} connections"
        );
    }
    wanted.min(room)
}
