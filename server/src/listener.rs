//! The HTTP listener: accepting connections within limits, timeouts for slow or silent
//! clients, and a shutdown that ends within a grace period.
//!
//! Nobody needs a token to open a connection, so everything a connection can hold is bounded:
//! - **connections**: at most [`ServeLimits::max_connections`]; at the cap, a new connection
//!   closes the connection that has been idle longest (no request in progress), and waits
//!   only when every connection is busy with a request, so idle sockets cannot lock others out;
//! - **request head**: a connection that does not send a complete request head within
//!   [`ServeLimits::header_timeout`] of being ready for one is closed: slow headers and idle
//!   keep-alive connections alike;
//! - **request body**: the whole body must arrive within [`ServeLimits::body_timeout`], and
//!   the bytes of bodies being received at once are capped by
//!   [`ServeLimits::body_bytes_in_flight`] (a request waits briefly for room, then gets 503),
//!   so stalled uploads cannot grow the server's memory;
//! - **response**: a response that the client stops reading for
//!   [`ServeLimits::send_timeout`] ends its connection;
//! - **accept errors** (out of file descriptors) back off instead of spinning;
//! - **shutdown**: on SIGTERM or Ctrl-C the listener stops accepting, connections finish the
//!   request in progress, and whatever is still open after [`ServeLimits::shutdown_grace`]
//!   is closed.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::error::ApiError;

/// What a connection may hold, and for how long.
#[derive(Clone, Debug)]
pub struct ServeLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to send a complete request head, from when the connection is ready for one.
    pub header_timeout: Duration,
    /// Time to send a whole request body, from the end of the head.
    pub body_timeout: Duration,
    /// Longest stall in sending a response before the connection is closed.
    pub send_timeout: Duration,
    /// Bytes of request bodies being received at once, across all connections.
    pub body_bytes_in_flight: usize,
    /// The most one request body may take of that (the server's body cap).
    pub body_cap: usize,
    /// Time for open connections to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

/// How long a request waits for room among the bodies in flight before it is turned away.
const BODY_ROOM_WAIT: Duration = Duration::from_secs(5);

/// File descriptors kept free of connections: the store's files, Vault connections, the log.
const FD_RESERVE: u64 = 64;

/// The most bytes one request body may take: whitespace and escapes may make a legal set's
/// body larger than its compact form, so the raw cap is generous; the exact limit is checked
/// on the parsed set.
pub fn body_cap(limits: &vdk_secrets::validate::Limits) -> usize {
    limits
        .max_set_bytes
        .saturating_mul(4)
        .saturating_add(64 * 1024)
}

/// Raises this process's soft limit on open files to its hard limit, and returns the number
/// of connections that fits in it with room to spare for everything else.
pub fn connection_budget() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given; nothing else is shared.
    let soft = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 256;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    let usable = soft.saturating_sub(FD_RESERVE).saturating_mul(3) / 4;
    usize::try_from(usable).unwrap_or(usize::MAX).clamp(8, 4096)
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets open
/// connections finish for at most the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let body_room = Arc::new(Semaphore::new(limits.body_bytes_in_flight));
    let registry = Arc::new(Registry::default());
    let (stop_all, stopping) = watch::channel(false);
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff.reset();
                    stream
                }
                Err(e) => {
                    backoff.wait(&e).await;
                    continue;
                }
            },
        };
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // At the cap: close the connection idle longest; when all are busy, wait for
                // one to end, as long as a client would wait for its request head to be read.
                registry.close_idlest();
                let waited =
                    tokio::time::timeout(limits.header_timeout, slots.clone().acquire_owned());
                match waited.await {
                    Ok(Ok(slot)) => slot,
                    _ => {
                        tracing::warn!(
                            max_connections = limits.max_connections,
                            "every connection is busy; a new connection was closed unserved"
                        );
                        continue;
                    }
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            app: app.clone(),
            limits: limits.clone(),
            body_room: body_room.clone(),
            registry: registry.clone(),
            stopping: stopping.clone(),
        };
        tokio::spawn(connection.run(stream, slot));
    }
    drop(listener);
    let open = limits.max_connections - slots.available_permits();
    tracing::info!(
        open_connections = open,
        grace_seconds = limits.shutdown_grace.as_secs_f64(),
        "stopped accepting; letting open connections finish"
    );
    let _ = stop_all.send(true);
    let all_closed = slots.acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX));
    if tokio::time::timeout(limits.shutdown_grace, all_closed)
        .await
        .is_err()
    {
        tracing::warn!(
            still_open = limits.max_connections - slots.available_permits(),
            "connections still open after the grace period are closed"
        );
    }
}

/// Waits between failed accepts, longer each time (up to a second), logging once in a while:
/// without it, running out of file descriptors spins the accept loop.
#[derive(Default)]
struct Backoff {
    delay: Duration,
    failures: u64,
    last_log: Option<Instant>,
}

impl Backoff {
    async fn wait(&mut self, e: &io::Error) {
        self.failures += 1;
        self.delay = (self.delay * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        if self
            .last_log
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(10))
        {
            tracing::warn!(error = %e, failures = self.failures, "accepting a connection failed; backing off");
            self.last_log = Some(Instant::now());
        }
        tokio::time::sleep(self.delay).await;
    }

    fn reset(&mut self) {
        self.delay = Duration::ZERO;
        self.failures = 0;
    }
}

/// The open connections, for closing the one idle longest when the cap is reached.
#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Entry>>,
}

struct Entry {
    /// Requests in progress.
    busy: usize,
    /// When the last request ended (or the connection opened).
    idle_since: Instant,
    close: Arc<Notify>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self) -> (u64, Arc<Notify>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let close = Arc::new(Notify::new());
        let entry = Entry {
            busy: 0,
            idle_since: Instant::now(),
            close: close.clone(),
        };
        self.lock().insert(id, entry);
        (id, close)
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn request_started(&self, id: u64) {
        if let Some(entry) = self.lock().get_mut(&id) {
            entry.busy += 1;
        }
    }

    fn request_ended(&self, id: u64) {
        if let Some(entry) = self.lock().get_mut(&id) {
            entry.busy = entry.busy.saturating_sub(1);
            entry.idle_since = Instant::now();
        }
    }

    /// Tells the connection idle longest to close; false when every connection is busy.
    fn close_idlest(&self) -> bool {
        let mut open = self.lock();
        let idlest = open
            .iter()
            .filter(|(_, entry)| entry.busy == 0)
            .min_by_key(|(_, entry)| entry.idle_since)
            .map(|(id, _)| *id);
        match idlest.and_then(|id| open.remove(&id)) {
            Some(entry) => {
                entry.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Marks a request as in progress for as long as it lives, ended even if it is cancelled.
struct InProgress {
    registry: Arc<Registry>,
    id: u64,
}

impl InProgress {
    fn start(registry: Arc<Registry>, id: u64) -> Self {
        registry.request_started(id);
        InProgress { registry, id }
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.registry.request_ended(self.id);
    }
}

/// One accepted connection and what it shares with the others.
struct Connection {
    app: Router,
    limits: Arc<ServeLimits>,
    body_room: Arc<Semaphore>,
    registry: Arc<Registry>,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, _slot: OwnedSemaphorePermit) {
        let (id, close) = self.registry.add();
        let service = {
            let (app, limits, room, registry) = (
                self.app.clone(),
                self.limits.clone(),
                self.body_room.clone(),
                self.registry.clone(),
            );
            hyper::service::service_fn(move |request: Request<Incoming>| {
                let in_progress = InProgress::start(registry.clone(), id);
                handle(
                    app.clone(),
                    limits.clone(),
                    room.clone(),
                    request,
                    in_progress,
                )
            })
        };
        let io = TokioIo::new(SendTimeout::new(stream, self.limits.send_timeout));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .keep_alive(true)
            .serve_connection(io, service);
        tokio::pin!(connection);
        let stopping = async {
            let _ = self.stopping.wait_for(|stop| *stop).await;
        };
        tokio::select! {
            _ = connection.as_mut() => {}
            () = close.notified() => {
                tracing::debug!("closed an idle connection to make room for a new one");
            }
            () = stopping => {
                connection.as_mut().graceful_shutdown();
                tokio::select! {
                    _ = connection.as_mut() => {}
                    () = close.notified() => {}
                }
            }
        }
        self.registry.remove(id);
    }
}

/// Serves one request: room for its body first (if it has one), then the application.
async fn handle(
    app: Router,
    limits: Arc<ServeLimits>,
    body_room: Arc<Semaphore>,
    request: Request<Incoming>,
    _in_progress: InProgress,
) -> Result<Response<Body>, std::convert::Infallible> {
    let room = match body_reservation(&request, limits.body_cap) {
        0 => None,
        bytes => {
            let wanted = u32::try_from(bytes).unwrap_or(u32::MAX);
            let waited =
                tokio::time::timeout(BODY_ROOM_WAIT, body_room.clone().acquire_many_owned(wanted));
            match waited.await {
                Ok(Ok(room)) => Some(room),
                _ => return Ok(busy_response()),
            }
        }
    };
    let deadline = Box::pin(tokio::time::sleep(limits.body_timeout));
    let request = request.map(|body| {
        Body::new(TimedBody {
            inner: body,
            deadline,
            timeout: limits.body_timeout,
        })
    });
    let response = app.oneshot(request).await;
    // The body's room is given back only once the application is done with the body.
    drop(room);
    Ok(match response {
        Ok(response) => response,
        Err(never) => match never {},
    })
}

/// The bytes to set aside for a request's body: its declared length, or the cap when it
/// declares none or more (the application refuses more than the cap).
fn body_reservation(request: &Request<Incoming>, cap: usize) -> usize {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = request.headers().contains_key(header::TRANSFER_ENCODING);
    match declared {
        Some(0) if !chunked => 0,
        Some(n) if !chunked => usize::try_from(n).unwrap_or(usize::MAX).min(cap),
        // Without a length or chunked encoding, an HTTP/1.1 request has no body.
        None if !chunked => 0,
        _ => cap,
    }
}

fn busy_response() -> Response<Body> {
    tracing::warn!("turned a request away: too many request bodies are being received at once");
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The server is busy",
        "too many request bodies are being received at once",
        "Nothing was changed.",
        "Send the request again in a moment.",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// A request body that must arrive whole before its deadline.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(self.deadline.as_mut().poll(cx));
        let seconds = self.timeout.as_secs_f64();
        Poll::Ready(Some(Err(format!(
            "the request body did not arrive within {seconds} s"
        )
        .into())))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A socket whose writes fail once they have made no progress for `timeout`: a client that
/// stops reading its response does not hold the connection for ever.
struct SendTimeout {
    stream: TcpStream,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl SendTimeout {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        SendTimeout {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// After a write returned Pending: fails once the stall has lasted `timeout`.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stalled.as_mut().poll(cx));
        self.stalled = None;
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading the response",
        ))
    }

    fn progress<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_stall(cx).map(Err),
        }
    }
}

impl AsyncRead for SendTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.progress(result, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.progress(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.stream).poll_flush(cx);
        self.progress(result, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.progress(result, cx)
    }
}
