//! What the platform sources (Mastodon, Bluesky, Reddit, Lemmy, Discourse,
//! Hacker News, Telegram) share beyond the context every source gets
//! (`context`): their config, secrets that never print, and a process-wide
//! cache of access tokens.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
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
