//! The one shared HTTP client (SPEC §6): retries with `Retry-After`,
//! conditional GET, a body cap after decompression, a redirect cap, global
//! and per-host concurrency limits, and robots.txt.

pub mod client;
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
}
