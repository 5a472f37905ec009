//! The one shared HTTP client (SPEC §6): retries with `Retry-After`,
//! conditional GET, a body cap after decompression, a redirect cap, global
//! and per-host concurrency limits, and robots.txt.

pub mod client;
pub mod limiter;
pub mod ratelimit;
pub mod robots;

pub use client::{Fetched, HttpClient, HttpSettings, Request, Validators};

use url::Url;

/// Why one fetch failed. Each variant renders as one plain sentence.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("robots.txt of {host} disallows {url}")]
    RobotsDisallowed { host: String, url: Url },
    #[error("robots.txt of {host} could not be read ({reason}); the host is skipped for now")]
    RobotsUnavailable { host: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: Url, status: u16 },
    #[error("{url}: body larger than the {limit}-byte limit (max_body)")]
    TooLarge { url: Url, limit: u64 },
    #[error("{url}: timed out after {secs} s")]
    Timeout { url: Url, secs: u64 },
    #[error("{url}: more than {max} redirects")]
    TooManyRedirects { url: Url, max: usize },
    #[error("{url}: connection failed: {reason}")]
    Connect { url: Url, reason: String },
    #[error("{url}: {reason}")]
    Other { url: Url, reason: String },
    /// Only from `HttpClient::new`: a bad proxy or a TLS setup failure.
    #[error("the HTTP client could not be set up: {reason}")]
    Setup { reason: String },
}

/// Local servers and settings shared by this module's tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::HttpSettings;
    use std::net::SocketAddr;
    use std::time::Duration;

    /// Short timeouts and no retries, so failing paths end quickly.
    pub fn settings() -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_secs(2),
            retries: 0,
            ..HttpSettings::default()
        }
    }

    /// Serves `app` on 127.0.0.1 and returns its address.
    pub async fn serve(app: axum::Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// Accepts connections on 127.0.0.1 and hands each raw socket to `handle`,
    /// for servers that misbehave below what axum lets one write.
    pub async fn serve_raw<F, Fut>(handle: F) -> SocketAddr
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(handle(socket));
            }
        });
        addr
    }
}
