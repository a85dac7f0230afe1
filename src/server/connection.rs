//! Connections: our own accept loop under the router, so that no client can
//! starve the service by holding connections open. At most
//! `limits.connections` are open at once (the next callers wait, not yet
//! accepted, in the listen backlog, and are accepted as others close); a
//! connection is closed when a request's head takes longer than
//! `limits.header_timeout`, or when nothing moves on it for
//! `limits.idle_timeout` while no call is being answered on it (a
//! keep-alive connection nobody uses, an answer nobody reads). And hyper's
//! own answers to requests that are not HTTP, empty, get the JSON body
//! every other error has.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};

use super::Limits;
use super::error::ApiError;
use super::log::{Notice, Notify};

/// The largest request head read (its request line and headers), in bytes;
/// a larger one is answered 431 `headers_too_large`.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most headers a request may have; more are answered 431 too
/// (hyper's limit).
pub const MAX_HEADERS: usize = 100;

/// Accepts connections and serves `router` on each until `shutdown`
/// completes; then stops accepting, lets each connection finish the call
/// it is answering, and returns once all are closed.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    notify: Notify,
    shutdown: impl Future<Output = ()>,
) {
    let slots = u32::try_from(limits.connections.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let open = Arc::new(Semaphore::new(slots as usize));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first: past the limit, callers wait in the backlog rather
        // than take a file descriptor each.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = open.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // The caller hung up before it was accepted.
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) => continue,
                // Out of file descriptors, say: waiting is all that helps.
                Err(e) => {
                    notify(&Notice::AcceptFailed(e.to_string()));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(stream, router.clone(), limits, stopping.clone(), slot));
    }
    notify(&Notice::ShuttingDown);
    drop(listener);
    let _ = stop.send(true);
    // Each connection gives its slot back when it closes.
    let _ = open.acquire_many(slots).await;
}

/// Serves one connection, holding its slot until it closes.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let calls = Arc::new(Calls::default());
    let io = hyper_util::rt::TokioIo::new(Guarded::new(stream, limits, calls.clone()));
    let service = Counted { router: TowerToHyperService::new(router), calls };
    let mut http = hyper::server::conn::http1::Builder::new();
    // The guard keeps the time of heads and of idle connections.
    http.header_read_timeout(None).max_header_size(MAX_HEAD_BYTES).max_headers(MAX_HEADERS);
    let mut conn = std::pin::pin!(http.serve_connection(io, service));
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    // Closes at once when idle, else after the call being answered.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// How many calls of a connection were asked and answered: more asked than
/// answered, one is being answered.
#[derive(Debug, Default)]
struct Calls {
    asked: AtomicU64,
    answered: AtomicU64,
}

/// The router, counting the calls it answers.
struct Counted {
    router: TowerToHyperService<Router>,
    calls: Arc<Calls>,
}

impl hyper::service::Service<axum::http::Request<Incoming>> for Counted {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: axum::http::Request<Incoming>) -> Self::Future {
        self.calls.asked.fetch_add(1, Ordering::Relaxed);
        let answer = self.router.call(request);
        let calls = self.calls.clone();
        Box::pin(async move {
            let response = answer.await;
            calls.answered.fetch_add(1, Ordering::Relaxed);
            response
        })
    }
}

/// What a connection is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The rest of a request's head, since its first byte (or since the
    /// connection opened): the header timeout runs.
    Head,
    /// A next request, after an answer: the idle timeout runs, again from
    /// each byte of the answer written.
    Idle,
    /// Nothing: a call is being answered, under the call's own time limit.
    Busy,
}

/// A connection's socket, timed: a read or write that waits past the
/// deadline of the phase fails, and hyper closes the connection.
struct Guarded {
    io: TcpStream,
    header_timeout: Duration,
    idle_timeout: Duration,
    calls: Arc<Calls>,
    /// The answers counted when the phase last became `Idle`.
    seen: u64,
    phase: Phase,
    deadline: Instant,
    /// Wakes the connection at the deadline, or before it: a deadline that
    /// moves later is not set at once, only when the timer fires.
    timer: Pin<Box<Sleep>>,
    /// A JSON answer that replaces one of hyper's empty ones, and how much
    /// of it is written.
    answer: Vec<u8>,
    written: usize,
}

impl Guarded {
    fn new(io: TcpStream, limits: Limits, calls: Arc<Calls>) -> Self {
        let deadline = Instant::now() + limits.header_timeout;
        Guarded {
            io,
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            calls,
            seen: 0,
            phase: Phase::Head,
            deadline,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            answer: Vec::new(),
            written: 0,
        }
    }

    /// Moves to `Busy` while a call is answered, and to `Idle` after it.
    fn observe(&mut self) {
        let answered = self.calls.answered.load(Ordering::Relaxed);
        if self.calls.asked.load(Ordering::Relaxed) > answered {
            self.phase = Phase::Busy;
        } else if answered != self.seen {
            self.seen = answered;
            self.phase = Phase::Idle;
            self.deadline = Instant::now() + self.idle_timeout;
        }
    }

    fn read_some(&mut self) {
        self.observe();
        if self.phase == Phase::Idle {
            self.phase = Phase::Head;
            self.deadline = Instant::now() + self.header_timeout;
        }
    }

    fn wrote_some(&mut self) {
        self.observe();
        if self.phase == Phase::Idle {
            self.deadline = Instant::now() + self.idle_timeout;
        }
    }

    /// Whether the deadline of the phase has passed; else the timer will
    /// wake the connection for it.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.observe();
        if self.phase == Phase::Busy {
            return false;
        }
        if self.timer.deadline() > self.deadline {
            self.timer.as_mut().reset(self.deadline);
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            if self.timer.deadline() >= self.deadline {
                return true;
            }
            self.timer.as_mut().reset(self.deadline);
        }
        false
    }

    /// Sets the timer to wake the connection at the deadline. Needed after
    /// progress too: hyper waits on the read it left pending, and a
    /// connection that turned idle while it wrote must be woken to fail it.
    fn arm(&mut self, cx: &mut Context<'_>) {
        // Not expired: the deadline was just moved, or is the head's.
        let _ = self.expired(cx);
    }

    fn timed_out(&self) -> io::Error {
        let what = match self.phase {
            Phase::Head => "the request head took longer than the header timeout",
            _ => "the connection was idle longer than the idle timeout",
        };
        io::Error::new(io::ErrorKind::TimedOut, what)
    }

    /// Writes what is left of a replacement answer.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(rest) = self.answer.get(self.written..).filter(|rest| !rest.is_empty()) {
            match Pin::new(&mut self.io).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.wrote_some();
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if self.expired(cx) => return Poll::Ready(Err(self.timed_out())),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.answer.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// What a write gave: progress moves the idle deadline; a wait past the
    /// deadline fails.
    fn after_write<T>(&mut self, cx: &mut Context<'_>, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(Ok(n)) => {
                self.wrote_some();
                self.arm(cx);
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(self.timed_out())),
            other => other,
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.read_some();
                    this.arm(cx);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(this.timed_out())),
            other => other,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        if let Some(answer) = json_answer(buf) {
            this.answer = answer;
            return Poll::Ready(Ok(buf.len()));
        }
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        this.after_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        if let [head, rest @ ..] = bufs
            && rest.iter().all(|b| b.is_empty())
            && let Some(answer) = json_answer(head)
        {
            this.answer = answer;
            return Poll::Ready(Ok(head.len()));
        }
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        let flushed = Pin::new(&mut this.io).poll_flush(cx);
        this.after_write(cx, flushed)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_answer(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// The JSON answer for `written` when it is one of hyper's own answers to
/// a request it could not read: a head alone, status 400, 414 or 431, with
/// `content-length: 0` (every answer of the router has a JSON body). Its
/// headers are kept; the body and its type and length are added.
fn json_answer(written: &[u8]) -> Option<Vec<u8>> {
    if written.len() > 512 || !written.starts_with(b"HTTP/1.1 4") || !written.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head = std::str::from_utf8(written).ok()?.strip_suffix("\r\n\r\n")?;
    let (status, headers) = head.split_once("\r\n")?;
    let error = match status.get(9..12)? {
        "400" => ApiError::MalformedRequest,
        "414" => ApiError::UriTooLong,
        "431" => ApiError::HeadersTooLarge { limit: MAX_HEAD_BYTES, headers: MAX_HEADERS },
        _ => return None,
    };
    let mut kept = Vec::new();
    let mut empty = false;
    for header in headers.split("\r\n") {
        if header.eq_ignore_ascii_case("content-length: 0") {
            empty = true;
        } else {
            kept.push(header);
        }
    }
    if !empty {
        return None;
    }
    let body = serde_json::to_vec(&error.body()).ok()?;
    let mut answer =
        format!("{status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    for header in kept {
        answer.push_str(header);
        answer.push_str("\r\n");
    }
    answer.push_str("\r\n");
    let mut answer = answer.into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_empty_error_heads_are_replaced() {
        let empty = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(json_answer(empty).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with(
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        ));
        assert!(head.ends_with("\r\ndate: Tue, 01 Dec 2026 10:00:00 GMT"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "headers_too_large");

        // An answer with a body, another status, or a part of a head: kept.
        for kept in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        ] {
            assert_eq!(json_answer(kept), None, "{}", String::from_utf8_lossy(kept));
        }
    }
}
