//! The one shared HTTP client (SPEC §6): retries with `Retry-After`,
//! conditional GET, a body cap after decompression, a redirect cap, global
//! and per-host concurrency limits, and robots.txt.

pub mod client;
pub mod error;
pub mod guard;
pub mod interval;
pub mod limiter;
pub mod memory;
pub mod ratelimit;
pub mod robots;
#[cfg(test)]
mod robots_fetch_tests;
pub mod tls;

pub use client::{Fetched, HttpClient, HttpSettings, Request, Validators};
pub use error::FetchError;
pub use memory::{HostMemory, StoredRobots};

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
            // Test servers listen on 127.0.0.1.
            allow_private_networks: true,
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
