//! Accepting connections (plain and TLS): each connection's client address is handed
//! to the application (`ConnectInfo`), a client that does not send a request head in
//! time is cut off, as is one whose request body does not arrive whole in time, and
//! one client address holds only so many connections at once (issue 17.11). A slow or idle connection costs a task and a socket; these bounds
//! keep one client from holding enough of them to starve everyone else.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

/// How a server treats connections.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// A request head (every header) must arrive within this, counted from the
    /// connection's start or, on a kept-alive connection, from the previous answer:
    /// so a connection sending nothing is closed after it as well.
    pub header_read_timeout: Duration,
    /// Connections one client address may hold at once (`None`: no limit — behind a
    /// reverse proxy every connection comes from the proxy, which bounds them).
    pub per_client: Option<usize>,
    /// Connections at once, all clients together.
    pub total: usize,
    /// A TLS handshake must end within this.
    pub handshake_timeout: Duration,
    /// A request's body must have arrived whole within this after its head: a
    /// client trickling a body byte by byte holds its connection no longer.
    pub body_read_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_read_timeout: Duration::from_secs(10),
            per_client: Some(64),
            total: 10_000,
            handshake_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Open connections per client address.
#[derive(Debug, Default)]
struct Open {
    per_client: HashMap<IpAddr, usize>,
    total: usize,
}

/// A connection's place in [`Open`], given back when the connection ends.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &ConnLimits) -> Option<Slot> {
        let mut o = open.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = o.per_client.get(&ip).copied().unwrap_or(0);
        if o.total >= limits.total || limits.per_client.is_some_and(|max| mine >= max) {
            return None;
        }
        o.total += 1;
        *o.per_client.entry(ip).or_insert(0) += 1;
        Some(Slot {
            open: Arc::clone(open),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.per_client.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                o.per_client.remove(&self.ip);
            }
        }
    }
}

/// A request body that must arrive whole before `due`. Past it, reading fails: the
/// handler answers with an error and the connection is closed, since its body was
/// never read to the end.
struct Deadline {
    inner: hyper::body::Incoming,
    due: Pin<Box<tokio::time::Sleep>>,
}

/// The error a body past its deadline reads as.
#[derive(Debug)]
struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTooSlow {}

impl hyper::body::Body for Deadline {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        match this.due.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTooSlow)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The client address as a bucket: IPv6 per /64, like the rate limits.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
        v4 => v4,
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish (at most 10 s). With `tls`, every connection is a TLS one.
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: ConnLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of descriptors and the like: keep serving the connections we have.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let Some(slot) = Slot::take(&open, bucket(peer.ip()), &limits) else {
            // Closed at once, unread: the cheapest answer to a client holding too many.
            drop(tcp);
            continue;
        };
        let app = app.clone();
        let body_read_timeout = limits.body_read_timeout;
        let service = hyper_util::service::TowerToHyperService::new(app.map_request(
            move |req: axum::http::Request<hyper::body::Incoming>| {
                let mut req = req.map(|body| {
                    axum::body::Body::new(Deadline {
                        inner: body,
                        due: Box::pin(tokio::time::sleep(body_read_timeout)),
                    })
                });
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        ));
        let http = http.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake = limits.handshake_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                Some(acceptor) => {
                    // A failed or slow handshake (plain HTTP to the TLS port, a scanner)
                    // is the client's problem; it is dropped without a word.
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
                None => {
                    let conn = http.serve_connection(TokioIo::new(tcp), service);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_client_holds_at_most_its_share_and_gets_it_back() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = ConnLimits {
            per_client: Some(2),
            total: 3,
            ..ConnLimits::default()
        };
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let s1 = Slot::take(&open, a, &limits).unwrap();
        let _s2 = Slot::take(&open, a, &limits).unwrap();
        assert!(Slot::take(&open, a, &limits).is_none(), "per client");
        let _s3 = Slot::take(&open, b, &limits).unwrap();
        assert!(Slot::take(&open, b, &limits).is_none(), "in total");
        drop(s1);
        assert!(Slot::take(&open, a, &limits).is_some());
    }

    #[test]
    fn ipv6_connections_count_per_64() {
        let a: IpAddr = "2001:db8:0:1::5".parse().unwrap();
        let b: IpAddr = "2001:db8:0:1:ffff::9".parse().unwrap();
        assert_eq!(bucket(a), bucket(b));
    }
}
