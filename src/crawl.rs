//! One pass of one source through the stages: fetch → parse → (full text) →
//! match → identify → store. `crawl_pass` runs many sources with bounded
//! concurrency; each source's result is committed in one transaction.

use crate::config::{Settings, SourceConfig, SourceSpec, Topic};
use crate::http::{FetchError, Fetched, HttpClient, Request};
use crate::identify::{identify, identity_before_fetch, queue_items, seen_key};
use crate::sources::platform::{Context, PlatformSpec};
use crate::sources::{
    bluesky, discourse, feed, fulltext, hackernews, html, lemmy, mastodon, reddit, sitemap,
    telegram, Item,
};
use crate::store::{with_store, CommitStats, CrawlBatch, SourceOutcome, StoreError};
use chrono::Utc;
use futures_util::StreamExt;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use url::Url;

/// The shared database connection, where the crawl's callers look for it.
pub use crate::store::SharedStore;

/// Full-text pages fetched at once for one source (the client's host limits still apply).
const PAGE_FETCHES_PER_SOURCE: usize = 4;
/// How deep sitemap indexes are followed.
const MAX_SITEMAP_DEPTH: usize = 2;

/// What the crawl of one source did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceReport {
    pub name: String,
    pub outcome: SourceOutcome,
    pub stats: CommitStats,
    /// Items read from the source in this crawl.
    pub items: usize,
    /// Every fetch answered 304.
    pub not_modified: bool,
}

impl std::fmt::Display for SourceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.name)?;
        if let SourceOutcome::Failed(e) = &self.outcome {
            if self.items == 0 && self.stats == CommitStats::default() {
                return write!(f, "FAILED: {e}");
            }
        }
        if self.not_modified {
            write!(f, "not modified")?;
        } else {
            write!(
                f,
                "{} new, {} already counted, {} items read",
                self.stats.new, self.stats.duplicates, self.items
            )?;
        }
        if let SourceOutcome::Failed(e) = &self.outcome {
            write!(f, "; FAILED: {e}")?;
        }
        Ok(())
    }
}

/// Crawls `sources` (indices into `settings.sources`) for `topics` (indices
/// into `settings.topics`), at most `settings.http.concurrency` sources at a
/// time, and returns one report per source in config order.
pub async fn crawl_pass(
    settings: Arc<Settings>,
    http: HttpClient,
    store: SharedStore,
    sources: Vec<usize>,
    topics: Option<Vec<usize>>,
    on_done: &dyn Fn(&SourceReport),
) -> Vec<SourceReport> {
    let limit = Arc::new(tokio::sync::Semaphore::new(
        settings.http.concurrency.max(1),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    let mut names = std::collections::HashMap::new();
    for (order, index) in sources.into_iter().enumerate() {
        let (task_settings, http, store, limit, topics) = (
            Arc::clone(&settings),
            http.clone(),
            Arc::clone(&store),
            Arc::clone(&limit),
            topics.clone(),
        );
        let handle = tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let report =
                crawl_source(&task_settings, &http, &store, index, topics.as_deref()).await;
            (order, report)
        });
        names.insert(handle.id(), (order, settings.sources[index].name.clone()));
    }
    let mut reports = Vec::new();
    while let Some(done) = tasks.join_next_with_id().await {
        let (order, report) = match done {
            Ok((_, r)) => r,
            Err(e) => {
                // A bug must not hide a source: report it as failed under its name.
                let (order, name) = names
                    .remove(&e.id())
                    .unwrap_or((usize::MAX, String::from("?")));
                tracing::error!(source = %name, "crawl task ended abnormally: {e}");
                let report = SourceReport {
                    name,
                    outcome: SourceOutcome::Failed(format!("internal error, nothing stored: {e}")),
                    stats: CommitStats::default(),
                    items: 0,
                    not_modified: false,
                };
                (order, report)
            }
        };
        on_done(&report);
        reports.push((order, report));
    }
    reports.sort_by_key(|(order, _)| *order);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// Crawls one source and commits what it brought.
pub async fn crawl_source(
    settings: &Settings,
    http: &HttpClient,
    store: &SharedStore,
    index: usize,
    only_topics: Option<&[usize]>,
) -> SourceReport {
    let source = &settings.sources[index];
    let topics: Vec<&Topic> = source
        .topics
        .iter()
        .filter(|t| only_topics.is_none_or(|only| only.contains(t)))
        .filter_map(|&t| settings.topics.get(t))
        .collect();
    let mut batch = CrawlBatch::new(
        &source.name,
        source.spec.type_name(),
        source.kind,
        Utc::now(),
    );
    let mut job = Job {
        source,
        topics: &topics,
        http,
        store,
        batch: &mut batch,
        fetches: 0,
        not_modified: 0,
    };
    let (items, error) = match job.read().await {
        Ok(items) => (items, None),
        Err((items, e)) => (items, Some(e)),
    };
    let read = items.len();
    if let Err(e) = job.evaluate(items, &topics).await {
        tracing::error!(source = %source.name, "cannot read source state: {e}");
    }
    let not_modified = job.fetches > 0 && job.fetches == job.not_modified;
    if let Some(e) = error {
        tracing::warn!(source = %source.name, "{e}");
        batch.outcome = SourceOutcome::Failed(e);
    }
    let outcome = batch.outcome.clone();
    let committed = {
        let batch = batch;
        with_store(store, move |s| s.commit(&batch)).await
    };
    match &committed {
        Ok(stats) => crate::telemetry::record_crawl(
            &source.name,
            outcome == SourceOutcome::Ok,
            stats.new as u64,
        ),
        Err(_) => crate::telemetry::record_crawl(&source.name, false, 0),
    }
    match committed {
        Ok(stats) => SourceReport {
            name: source.name.clone(),
            outcome,
            stats,
            items: read,
            not_modified,
        },
        Err(e) => SourceReport {
            name: source.name.clone(),
            outcome: SourceOutcome::Failed(format!("could not store the crawl: {e}")),
            stats: CommitStats::default(),
            items: read,
            not_modified: false,
        },
    }
}

/// Items read so far, and why reading stopped early.
type Partial = (Vec<Item>, String);

struct Job<'a> {
    source: &'a SourceConfig,
    topics: &'a [&'a Topic],
    http: &'a HttpClient,
    store: &'a SharedStore,
    batch: &'a mut CrawlBatch,
    fetches: usize,
    not_modified: usize,
}

impl Job<'_> {
    /// Fetches one document with the stored validators; None when not modified.
    async fn fetch_text(&mut self, url: &Url) -> Result<Option<(String, Url)>, FetchError> {
        let name = self.source.name.clone();
        let key = url.to_string();
        let validators = with_store(self.store, move |s| s.validators(&name, &key))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("cannot read stored validators: {e}");
                None
            });
        let mut req = Request::get(url.clone());
        req.validators = validators;
        self.fetches += 1;
        let fetched = self.http.fetch(req).await;
        crate::telemetry::record_fetch(&self.source.name, &fetched);
        let fetched: Fetched = fetched?;
        if fetched.not_modified() {
            self.not_modified += 1;
            return Ok(None);
        }
        if fetched.validators.etag.is_some() || fetched.validators.last_modified.is_some() {
            self.batch
                .validators
                .push((url.to_string(), fetched.validators.clone()));
        }
        let text = crate::charset::decode(&fetched.body, fetched.content_type());
        Ok(Some((text, fetched.final_url)))
    }

    async fn read(&mut self) -> Result<Vec<Item>, Partial> {
        match &self.source.spec {
            SourceSpec::Feed { url, .. } => {
                let Some((body, base)) = self
                    .fetch_text(url)
                    .await
                    .map_err(|e| (vec![], e.to_string()))?
                else {
                    return Ok(vec![]);
                };
                feed::parse(&body, &base).map_err(|e| (vec![], format!("{url}: {e}")))
            }
            SourceSpec::Sitemap { url, .. } => self.read_sitemap(url.clone()).await,
            SourceSpec::Html { url, selectors } => self.read_html(url.clone(), selectors).await,
            SourceSpec::Platform(spec) => self.read_platform(spec).await,
        }
    }

    async fn read_platform(&mut self, spec: &PlatformSpec) -> Result<Vec<Item>, Partial> {
        let search_terms = match spec.search() {
            Some(search) => vec![search.to_owned()],
            None => {
                let mut terms: Vec<String> = Vec::new();
                for t in self.topics.iter().flat_map(|t| t.query.positive_terms()) {
                    if !terms.contains(&t) {
                        terms.push(t);
                    }
                }
                terms
            }
        };
        let name = self.source.name.clone();
        let cursor = with_store(self.store, move |s| s.cursor(&name))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("cannot read the stored cursor: {e}");
                None
            });
        let store = self.store;
        let source_name = self.source.name.as_str();
        let known =
            move |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + '_>> {
                let keys: Vec<u64> = items
                    .iter()
                    .map(|i| seen_key(&identity_before_fetch(i)))
                    .collect();
                let name = source_name.to_owned();
                Box::pin(async move {
                    let n = keys.len();
                    with_store(store, move |s| s.seen(&name, &keys))
                        .await
                        .unwrap_or_else(|_| vec![false; n])
                })
            };
        let ctx = Context {
            http: self.http,
            source: &self.source.name,
            lookback: self.source.lookback,
            max_pages: self.source.max_pages.max(1),
            search_terms,
            cursor,
            now: Utc::now(),
            known: &known,
        };
        let harvest = match spec {
            PlatformSpec::Mastodon {
                url,
                hashtags,
                access_token,
            } => mastodon::read(&ctx, url, hashtags, access_token.as_ref()).await,
            PlatformSpec::Bluesky { url, login, .. } => {
                bluesky::read(&ctx, url, login.as_ref()).await
            }
            PlatformSpec::Reddit {
                url,
                subreddit,
                credentials,
                ..
            } => reddit::read(&ctx, url, subreddit.as_deref(), credentials.as_ref()).await,
            PlatformSpec::Lemmy { url, .. } => lemmy::read(&ctx, url).await,
            PlatformSpec::Discourse { url, .. } => discourse::read(&ctx, url).await,
            PlatformSpec::HackerNews { url, .. } => hackernews::read(&ctx, url).await,
            PlatformSpec::Telegram { url, channels } => telegram::read(&ctx, url, channels).await,
        };
        self.batch.cursor = harvest.cursor;
        match harvest.error {
            None => Ok(harvest.items),
            Some(e) => Err((harvest.items, e)),
        }
    }

    async fn read_sitemap(&mut self, root: Url) -> Result<Vec<Item>, Partial> {
        let mut items = Vec::new();
        let mut queue = vec![(root.clone(), 0usize)];
        let mut fetched = 0u32;
        let mut first_error = None;
        while let Some((url, depth)) = queue.pop() {
            if fetched > self.source.max_pages.max(1) {
                break;
            }
            fetched += 1;
            let result = match self.fetch_text(&url).await {
                Ok(Some((body, base))) => {
                    sitemap::parse(&body, &base).map_err(|e| format!("{url}: {e}"))
                }
                Ok(None) => continue,
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(sitemap::Sitemap::Urls(found)) => items.extend(found),
                Ok(sitemap::Sitemap::Index(children)) if depth < MAX_SITEMAP_DEPTH => {
                    // Newest first: push in reverse so the newest is popped first.
                    let take = self.source.max_pages.max(1) as usize;
                    for child in children.into_iter().take(take).rev() {
                        queue.push((child, depth + 1));
                    }
                }
                Ok(sitemap::Sitemap::Index(_)) => {}
                Err(e) if url == root => return Err((items, e)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err((items, e)),
            None => Ok(items),
        }
    }

    async fn read_html(
        &mut self,
        start: Url,
        selectors: &html::Selectors,
    ) -> Result<Vec<Item>, Partial> {
        let mut items: Vec<Item> = Vec::new();
        let mut visited = HashSet::new();
        let mut next = Some(start);
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages >= self.source.max_pages.max(1) || !visited.insert(url.clone()) {
                break;
            }
            pages += 1;
            let page = match self.fetch_text(&url).await {
                Ok(Some((body, base))) => html::parse(&body, &base, selectors)
                    .map_err(|e| (std::mem::take(&mut items), format!("{url}: {e}")))?,
                Ok(None) => break,
                Err(e) if pages == 1 => return Err((items, e.to_string())),
                Err(e) => return Err((items, e.to_string())),
            };
            // Stop paging once a page brings nothing this source has not seen.
            let keys: Vec<u64> = page
                .items
                .iter()
                .map(|i| seen_key(&identity_before_fetch(i)))
                .collect();
            let name = self.source.name.clone();
            let known = with_store(self.store, move |s| s.seen(&name, &keys))
                .await
                .unwrap_or_default();
            let all_known = !page.items.is_empty()
                && known.len() == page.items.len()
                && known.iter().all(|&k| k);
            let oldest_too_old = page
                .items
                .iter()
                .filter_map(|i| i.published)
                .min()
                .is_some_and(|t| older_than(t, self.source.lookback));
            let empty = page.items.is_empty();
            items.extend(page.items);
            if all_known || oldest_too_old || empty {
                break;
            }
            next = page.next;
        }
        Ok(items)
    }

    /// Matches items against the topics and queues mentions into the batch.
    async fn evaluate(&mut self, items: Vec<Item>, topics: &[&Topic]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let full_text = matches!(
            self.source.spec,
            SourceSpec::Feed {
                full_text: true,
                ..
            } | SourceSpec::Sitemap {
                full_text: true,
                ..
            }
        );
        if !full_text {
            queue_items(self.batch, items, self.source.kind, topics);
            return Ok(());
        }
        let keys: Vec<u64> = items
            .iter()
            .map(|i| seen_key(&identity_before_fetch(i)))
            .collect();
        let known = {
            let (name, keys) = (self.source.name.clone(), keys.clone());
            with_store(self.store, move |s| s.seen(&name, &keys)).await?
        };
        // An item listed twice in one document is evaluated once.
        let mut this_crawl = HashSet::new();
        let fresh: Vec<(Item, u64)> = items
            .into_iter()
            .zip(keys)
            .zip(known)
            .filter(|((_, key), known)| !known && this_crawl.insert(*key))
            .map(|(pair, _)| pair)
            .collect();

        let http = self.http;
        let lookback = self.source.lookback;
        let source = self.source.name.as_str();
        let evaluated: Vec<(Item, Option<fulltext::Article>, u64, bool)> =
            futures_util::stream::iter(fresh)
                .map(|(item, key)| async move {
                    // Old entries of long sitemaps are not worth a page fetch each.
                    let too_old = item.published.is_some_and(|t| older_than(t, lookback));
                    let (article, done) = if too_old {
                        (None, true)
                    } else {
                        fetch_article(http, source, &item).await
                    };
                    (item, article, key, done)
                })
                .buffered(PAGE_FETCHES_PER_SOURCE)
                .collect()
                .await;

        for (item, article, key, done) in evaluated {
            if done {
                self.batch.seen.push(key);
            }
            self.batch
                .mentions
                .extend(identify(&item, article.as_ref(), self.source.kind, topics));
        }
        Ok(())
    }
}

/// Whether `t` lies further back than `lookback` from now.
fn older_than(t: chrono::DateTime<Utc>, lookback: std::time::Duration) -> bool {
    Utc::now()
        .signed_duration_since(t)
        .to_std()
        .is_ok_and(|age| age > lookback)
}

/// Fetches and extracts an item's page. The flag says whether the item is
/// settled (fetched, or refused by robots.txt) rather than worth a retry.
async fn fetch_article(
    http: &HttpClient,
    source: &str,
    item: &Item,
) -> (Option<fulltext::Article>, bool) {
    let Some(url) = item.url.as_deref().and_then(|u| Url::parse(u).ok()) else {
        return (None, true);
    };
    let fetched = http.fetch(Request::get(url.clone())).await;
    crate::telemetry::record_fetch(source, &fetched);
    match fetched {
        Ok(page) => {
            let body = crate::charset::decode(&page.body, page.content_type());
            (Some(fulltext::extract(&body, &page.final_url)), true)
        }
        Err(e @ FetchError::RobotsDisallowed { .. }) => {
            tracing::info!("{e}; matching on the feed's own text");
            (None, true)
        }
        Err(e) => {
            tracing::warn!("full text of {url}: {e}");
            (None, false)
        }
    }
}
