//! What the client learns about a host that should outlive one process
//! and, on PostgreSQL, one node: the robots.txt it read, and until when a
//! host asked to be left alone (`Retry-After` on a 429 or 503, or a spent
//! rate-limit budget). The store implements `HostMemory` for both backends
//! (`store/hosts.rs`); the client keeps its in-memory caches as the first
//! level and asks the memory only on a miss, each answer bounded in time.
//! A memory that fails or is slow is logged and passed over: the client
//! then fetches as if it had none, so a database problem never fails a
//! crawl.
//!
//! Content is hostile: a stored body is at most `MAX_ROBOTS_BYTES` of
//! UTF-8 without NUL, an origin longer than `MAX_ORIGIN` is not stored, and
//! a back-off is never longer than `MAX_BACKOFF`, whatever a server (or a
//! row) says. A robots.txt that could not be read is never stored: it
//! closes the host for the crawl that met it only.

use super::robots::MAX_ROBOTS_BYTES;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::future::Future;
use std::time::Duration;

/// The longest back-off stored or honoured.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
/// Origins longer than this (scheme://host:port) are not stored.
pub const MAX_ORIGIN: usize = 300;
/// How long one question to the memory may take before the client goes on without it.
pub const MEMORY_TIMEOUT: Duration = Duration::from_secs(3);

/// A robots.txt as stored: what was read, and until when it is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRobots {
    /// UTF-8 without NUL, at most `MAX_ROBOTS_BYTES`; empty disallows nothing.
    pub body: String,
    pub fetched_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Where robots.txt verdicts and back-offs are kept beyond the process.
/// Errors are sentences for the log.
pub trait HostMemory: Send + Sync {
    /// The stored robots.txt of `origin`, expired or not.
    fn robots<'a>(&'a self, origin: &'a str)
        -> BoxFuture<'a, Result<Option<StoredRobots>, String>>;

    /// Stores (or replaces) the robots.txt of `origin`.
    fn save_robots<'a>(
        &'a self,
        origin: &'a str,
        robots: &'a StoredRobots,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Until when `origin` asked to be left alone, if it did.
    fn backoff<'a>(
        &'a self,
        origin: &'a str,
    ) -> BoxFuture<'a, Result<Option<DateTime<Utc>>, String>>;

    /// Records that `origin` is to be left alone until `until`; an earlier
    /// time than the one stored does not shorten it.
    fn save_backoff<'a>(
        &'a self,
        origin: &'a str,
        until: DateTime<Utc>,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// A body as it may be stored: valid UTF-8 (invalid bytes replaced), no
/// NUL (PostgreSQL text cannot hold it), at most `MAX_ROBOTS_BYTES`.
pub fn storable_body(body: &[u8]) -> String {
    let cap = usize::try_from(MAX_ROBOTS_BYTES).unwrap_or(usize::MAX);
    let mut text = String::from_utf8_lossy(body.get(..cap).unwrap_or(body)).replace('\0', "");
    if text.len() > cap {
        // Replacement characters are longer than the bytes they replace.
        let mut end = cap;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// `question`, or an error once `MEMORY_TIMEOUT` has passed without an answer.
pub async fn bounded<T>(question: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(MEMORY_TIMEOUT, question)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", MEMORY_TIMEOUT.as_secs())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bodies_are_utf8_without_nul_and_capped() {
        assert_eq!(
            storable_body(b"User-agent: *\0\nDisallow: /x\xff"),
            "User-agent: *\nDisallow: /x\u{fffd}"
        );
        let cap = MAX_ROBOTS_BYTES as usize;
        let big = vec![0xffu8; cap + 10];
        let stored = storable_body(&big);
        assert!(stored.len() <= cap, "{}", stored.len());
        assert!(stored.chars().all(|c| c == '\u{fffd}'));
        assert_eq!(storable_body(&vec![b'a'; cap + 1]).len(), cap);
    }
}
