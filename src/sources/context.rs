//! What a crawl hands every source, web or platform, and what a source hands
//! back. The context carries the source's settings (lookback, pages, search
//! terms, stored cursor) and its handles on the crawl: the one counted fetch
//! (every request of a source is recorded in its metrics here), conditional
//! GET with the stored validators, and whether the source already evaluated
//! given items. The store stays behind closures, so sources are tested with
//! the stand-ins of `testing`.

use super::dates::DateContext;
use super::Item;
use crate::http::{FetchError, Fetched, HttpClient, Request, Validators};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;

/// Answers which items a source has already evaluated (see `crawl`).
pub type KnownFn<'a> =
    dyn Fn(Vec<Item>) -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + 'a>> + Send + Sync + 'a;

/// Answers the validators stored for a document (by URL) after an earlier crawl.
pub type ValidatorsFn<'a> = dyn Fn(String) -> Pin<Box<dyn Future<Output = Option<Validators>> + Send + 'a>>
    + Send
    + Sync
    + 'a;

/// What one crawl of one source gets.
pub struct Context<'a> {
    pub http: &'a HttpClient,
    /// The source's name, for metrics, logs and errors.
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
    /// The zone of dates written without one (`[crawler] timezone`, else UTC).
    pub tz: chrono_tz::Tz,
    /// Which of these items were evaluated by an earlier crawl; paging
    /// stops at a page that brings nothing new.
    pub known: &'a KnownFn<'a>,
    /// The stored validators for conditional GETs; None sends plain GETs.
    pub validators: Option<&'a ValidatorsFn<'a>>,
    conditional: Mutex<Conditional>,
}

/// What the conditional GETs of one crawl did.
#[derive(Debug, Default)]
struct Conditional {
    fetches: usize,
    not_modified: usize,
    /// Validators of the documents fetched, to store for the next crawl.
    fresh: Vec<(String, Validators)>,
}

impl<'a> Context<'a> {
    /// A context with no search terms, no cursor, a lookback of seven days,
    /// one page, and plain (unconditional) GETs.
    pub fn new(http: &'a HttpClient, source: &'a str, known: &'a KnownFn<'a>) -> Context<'a> {
        Context {
            http,
            source,
            lookback: Duration::from_secs(7 * 86_400),
            max_pages: 1,
            search_terms: Vec::new(),
            cursor: None,
            now: Utc::now(),
            tz: chrono_tz::UTC,
            known,
            validators: None,
            conditional: Mutex::default(),
        }
    }

    /// Sends a request through the shared client and counts it in the
    /// source's metrics; every fetch of a source goes through here.
    pub async fn fetch(&self, req: Request) -> Result<Fetched, FetchError> {
        let result = self.http.fetch(req).await;
        crate::telemetry::record_fetch(self.source, &result);
        result
    }

    /// Fetches one document as a conditional GET with the validators stored
    /// for it, and keeps its new validators for `take_validators`. Gives the
    /// decoded text and the final URL, or None when it was not modified.
    pub async fn fetch_text(&self, url: &Url) -> Result<Option<(String, Url)>, FetchError> {
        let stored = match self.validators {
            Some(stored) => stored(url.to_string()).await,
            None => None,
        };
        self.conditional().fetches += 1;
        let mut fetched = self
            .fetch(Request::get(url.clone()).with_validators(stored))
            .await?;
        if fetched.not_modified() {
            self.conditional().not_modified += 1;
            return Ok(None);
        }
        if fetched.validators.etag.is_some() || fetched.validators.last_modified.is_some() {
            self.conditional()
                .fresh
                .push((url.to_string(), fetched.validators.clone()));
        }
        let text = fetched.take_text();
        Ok(Some((text, fetched.final_url)))
    }

    /// What the dates of a document fetched just now are read against: the
    /// fetch time (now) in the configured timezone, so `vor 3 Stunden` and
    /// `gestern, 14:30` mean what they meant to the page's readers.
    pub fn date_context(&self) -> DateContext {
        DateContext::new(Utc::now(), self.tz)
    }

    /// Whether there were conditional GETs and every one answered 304.
    pub fn not_modified(&self) -> bool {
        let c = self.conditional();
        c.fetches > 0 && c.fetches == c.not_modified
    }

    /// The validators of the documents fetched so far, for the store.
    pub fn take_validators(&self) -> Vec<(String, Validators)> {
        std::mem::take(&mut self.conditional().fresh)
    }

    fn conditional(&self) -> std::sync::MutexGuard<'_, Conditional> {
        self.conditional.lock().unwrap_or_else(|p| p.into_inner())
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

/// What the sources' tests share.
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
                // Test servers listen on 127.0.0.1.
                allow_private_networks: true,
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
        let mut ctx = Context::new(http, source, known);
        ctx.lookback = Duration::from_secs(lookback_days * 86_400);
        ctx.max_pages = 10;
        ctx.search_terms = terms.iter().map(|t| (*t).to_owned()).collect();
        ctx.now = now();
        ctx
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
