//! What the platform sources (Mastodon, Bluesky, Reddit, Lemmy, Discourse,
//! Hacker News, Telegram) share: their config, the context a crawl hands
//! them, what they hand back, secrets that never print, and a process-wide
//! cache of access tokens.

use super::Item;
use crate::http::HttpClient;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use url::Url;

/// A credential from the config. Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one header or form field that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("…")
    }
}

/// The config of one platform source; `url` is the instance or API base.
#[derive(Debug, Clone)]
pub enum PlatformSpec {
    Mastodon {
        url: Url,
        /// Without the leading `#`.
        hashtags: Vec<String>,
        access_token: Option<Secret>,
    },
    Bluesky {
        url: Url,
        search: Option<String>,
        /// `identifier` and `app_password`, both or neither.
        login: Option<(String, Secret)>,
    },
    Reddit {
        url: Url,
        search: Option<String>,
        subreddit: Option<String>,
        /// `client_id` and `client_secret`, both or neither.
        credentials: Option<(String, Secret)>,
    },
    Lemmy {
        url: Url,
        search: Option<String>,
    },
    Discourse {
        url: Url,
        search: Option<String>,
    },
    HackerNews {
        url: Url,
        search: Option<String>,
    },
    Telegram {
        url: Url,
        /// Channel names without `@` or `t.me/`.
        channels: Vec<String>,
    },
}

impl PlatformSpec {
    pub fn type_name(&self) -> &'static str {
        match self {
            PlatformSpec::Mastodon { .. } => "mastodon",
            PlatformSpec::Bluesky { .. } => "bluesky",
            PlatformSpec::Reddit { .. } => "reddit",
            PlatformSpec::Lemmy { .. } => "lemmy",
            PlatformSpec::Discourse { .. } => "discourse",
            PlatformSpec::HackerNews { .. } => "hackernews",
            PlatformSpec::Telegram { .. } => "telegram",
        }
    }

    /// The configured `search`, for the types that take one.
    pub fn search(&self) -> Option<&str> {
        match self {
            PlatformSpec::Bluesky { search, .. }
            | PlatformSpec::Reddit { search, .. }
            | PlatformSpec::Lemmy { search, .. }
            | PlatformSpec::Discourse { search, .. }
            | PlatformSpec::HackerNews { search, .. } => search.as_deref(),
            PlatformSpec::Mastodon { .. } | PlatformSpec::Telegram { .. } => None,
        }
    }
}

/// Answers which items a source has already evaluated (see `crawl`).
pub type KnownFn<'a> =
    dyn Fn(Vec<Item>) -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + 'a>> + Send + Sync + 'a;

/// What one crawl of a platform source gets.
pub struct Context<'a> {
    pub http: &'a HttpClient,
    /// The source's name, for logs and errors.
    pub source: &'a str,
    /// Don't page back past items older than this.
    pub lookback: Duration,
    pub max_pages: u32,
    /// What to send to the platform's search: the configured `search` as one
    /// entry, else the positive terms of the source's topics
    /// (`Query::positive_terms`, phrases in double quotes), deduplicated.
    /// A platform whose search knows `OR` sends them in one query; others
    /// run one search per entry.
    pub search_terms: Vec<String>,
    /// The cursor stored after the previous crawl, if the source keeps one.
    pub cursor: Option<String>,
    pub now: DateTime<Utc>,
    /// Which of these items were evaluated by an earlier crawl; paging
    /// stops at a page that brings nothing new.
    pub known: &'a KnownFn<'a>,
}

impl Context<'_> {
    /// Sends a request through the shared client and counts it in the
    /// source's metrics.
    pub async fn fetch(
        &self,
        req: crate::http::Request,
    ) -> Result<crate::http::Fetched, crate::http::FetchError> {
        let result = self.http.fetch(req).await;
        crate::telemetry::record_fetch(self.source, &result);
        result
    }

    /// Whether `t` is older than the lookback.
    pub fn too_old(&self, t: DateTime<Utc>) -> bool {
        self.now
            .signed_duration_since(t)
            .to_std()
            .is_ok_and(|age| age > self.lookback)
    }

    /// Whether every one of `items` was evaluated before (false when empty).
    pub async fn all_known(&self, items: &[Item]) -> bool {
        if items.is_empty() {
            return false;
        }
        (self.known)(items.to_vec()).await.iter().all(|&k| k)
    }
}

/// What a platform source brings back from one crawl.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Harvest {
    pub items: Vec<Item>,
    /// Why reading stopped early; what was read is still stored.
    pub error: Option<String>,
    /// A cursor to store for the next crawl.
    pub cursor: Option<String>,
}

/// An access token and when it stops working.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub expires: Option<DateTime<Utc>>,
    /// For sessions that can be renewed (Bluesky's refreshJwt).
    pub refresh: Option<Secret>,
}

/// Process-wide token cache keyed by whatever identifies a login (e.g.
/// `bluesky|https://bsky.social|alice.example`), so a running service logs
/// in once and renews rather than logging in on every crawl.
pub static TOKENS: LazyLock<Mutex<HashMap<String, Token>>> = LazyLock::new(Mutex::default);

/// A shared handle to the token cache entries, for modules that prefer it.
pub fn cached_token(key: &str, now: DateTime<Utc>) -> Option<Token> {
    let tokens = TOKENS.lock().unwrap_or_else(|p| p.into_inner());
    tokens
        .get(key)
        .filter(|t| {
            t.expires
                .is_none_or(|e| e > now + chrono::Duration::seconds(30))
        })
        .cloned()
}

pub fn store_token(key: &str, token: Token) {
    TOKENS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key.to_owned(), token);
}

pub fn forget_token(key: &str) {
    TOKENS.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
}

/// Shared ownership of a context's `known` function, for tests.
pub type SharedKnown = Arc<KnownFn<'static>>;

/// What the platform modules' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Context, Item, KnownFn};
    use crate::http::{HttpClient, HttpSettings};
    use chrono::{DateTime, TimeZone, Utc};
    use std::future::Future;
    use std::pin::Pin;
    use std::time::Duration;

    /// The "now" the platform fixtures were recorded against.
    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    /// A client for local test servers: 5 s timeout, no system proxy.
    pub fn client(retries: u32) -> HttpClient {
        HttpClient::build(
            HttpSettings {
                retries,
                timeout: Duration::from_secs(5),
                ..HttpSettings::default()
            },
            false,
        )
        .unwrap()
    }

    /// A crawl context at `now()` with up to 10 pages per search.
    pub fn context<'a>(
        http: &'a HttpClient,
        known: &'a KnownFn<'a>,
        source: &'a str,
        terms: &[&str],
        lookback_days: u64,
    ) -> Context<'a> {
        Context {
            http,
            source,
            lookback: Duration::from_secs(lookback_days * 86_400),
            max_pages: 10,
            search_terms: terms.iter().map(|t| (*t).to_owned()).collect(),
            cursor: None,
            now: now(),
            known,
        }
    }

    pub type Answer<'a> = Pin<Box<dyn Future<Output = Vec<bool>> + Send + 'a>>;

    /// A `known` check for a store that has seen nothing.
    pub fn nothing_known<'a>(items: Vec<Item>) -> Answer<'a> {
        let n = items.len();
        Box::pin(async move { vec![false; n] })
    }

    /// A `known` check for a store that has seen everything.
    pub fn all_known<'a>(items: Vec<Item>) -> Answer<'a> {
        let n = items.len();
        Box::pin(async move { vec![true; n] })
    }
}
