//! What can go wrong with one fetch, each as one plain sentence.

use url::Url;

/// Why one fetch failed. Each variant renders as one plain sentence.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("robots.txt of {host} disallows {url}")]
    RobotsDisallowed { host: String, url: Url },
    #[error("robots.txt of {host} could not be read ({reason}); the host is skipped for now")]
    RobotsUnavailable { host: String, reason: String },
    /// The private-network check refused the address (see `guard`).
    #[error("{url}: not fetched: {reason}")]
    Refused { url: Url, reason: String },
    /// The host asked to be left alone (`Retry-After`, a spent rate limit)
    /// for longer than a fetch waits; nothing was sent.
    #[error("{url}: not fetched: the host asked to be left alone for another {secs} s (Retry-After or a spent rate limit)")]
    BackingOff { url: Url, secs: u64 },
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
