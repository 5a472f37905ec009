//! One pass of one source through the stages: fetch → parse → (full text) →
//! match → identify → store. `crawl_pass` runs many sources with bounded
//! concurrency; `crawl_source` wires the store into the source's context,
//! lets the source read (`sources`), evaluates what it read (full text,
//! identification) and commits the result in one transaction.

use crate::budget::{Budget, Unread};
use crate::config::{Settings, SourceConfig, SourceSpec, Topic};
use crate::http::{FetchError, HttpClient, Request, Validators};
use crate::identify::{identify, item_key, queue_items};
use crate::sources::context::Context;
use crate::sources::paging::Harvest;
use crate::sources::platform::PlatformSpec;
use crate::sources::{
    bluesky, discourse, fulltext, hackernews, lemmy, mastodon, reddit, telegram, web, Item,
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
    let source_name = source.name.as_str();
    let known = move |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + '_>> {
        let keys: Vec<u64> = items.iter().map(item_key).collect();
        let name = source_name.to_owned();
        Box::pin(async move {
            let n = keys.len();
            with_store(store, move |s| s.seen(&name, &keys))
                .await
                .unwrap_or_else(|_| vec![false; n])
        })
    };
    let validators =
        move |url: String| -> Pin<Box<dyn Future<Output = Option<Validators>> + Send + '_>> {
            let name = source_name.to_owned();
            Box::pin(async move {
                with_store(store, move |s| s.validators(&name, &url))
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!("cannot read stored validators: {e}");
                        None
                    })
            })
        };
    let mut ctx = Context::new(http, source_name, &known);
    ctx.lookback = source.lookback;
    ctx.max_pages = source.max_pages.max(1);
    ctx.validators = Some(&validators);
    if let SourceSpec::Platform(spec) = &source.spec {
        ctx.search_terms = search_terms(spec, &topics);
        let name = source.name.clone();
        ctx.cursor = with_store(store, move |s| s.cursor(&name))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("cannot read the stored cursor: {e}");
                None
            });
    }

    let harvest = read(&ctx, &source.spec).await;
    batch.cursor = harvest.cursor;
    batch.validators = ctx.take_validators();
    let read = harvest.items.len();
    if let Err(e) = evaluate(&ctx, source, &mut batch, harvest.items, &topics, store).await {
        tracing::error!(source = %source.name, "cannot read source state: {e}");
    }
    let not_modified = ctx.not_modified();
    if let Some(e) = harvest.error {
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

/// What a platform source sends to its search: the configured `search`,
/// else the positive terms of the source's topics, each once.
fn search_terms(spec: &PlatformSpec, topics: &[&Topic]) -> Vec<String> {
    match spec.search() {
        Some(search) => vec![search.to_owned()],
        None => {
            let mut terms: Vec<String> = Vec::new();
            for t in topics.iter().flat_map(|t| t.query.positive_terms()) {
                if !terms.contains(&t) {
                    terms.push(t);
                }
            }
            terms
        }
    }
}

/// Has the source read what it brings in this crawl.
async fn read(ctx: &Context<'_>, spec: &SourceSpec) -> Harvest {
    match spec {
        SourceSpec::Feed { url, .. } => web::read_feed(ctx, url).await,
        SourceSpec::Sitemap { url, .. } => web::read_sitemap(ctx, url).await,
        SourceSpec::Html { url, selectors } => web::read_html(ctx, url, selectors).await,
        SourceSpec::Platform(spec) => match spec {
            PlatformSpec::Mastodon {
                url,
                hashtags,
                access_token,
            } => mastodon::read(ctx, url, hashtags, access_token.as_ref()).await,
            PlatformSpec::Bluesky { url, login, .. } => {
                bluesky::read(ctx, url, login.as_ref()).await
            }
            PlatformSpec::Reddit {
                url,
                subreddit,
                credentials,
                ..
            } => reddit::read(ctx, url, subreddit.as_deref(), credentials.as_ref()).await,
            PlatformSpec::Lemmy { url, .. } => lemmy::read(ctx, url).await,
            PlatformSpec::Discourse { url, .. } => discourse::read(ctx, url).await,
            PlatformSpec::HackerNews { url, .. } => hackernews::read(ctx, url).await,
            PlatformSpec::Telegram { url, channels } => telegram::read(ctx, url, channels).await,
        },
    }
}

/// Matches items against the topics and queues mentions into the batch;
/// with `full_text`, fetches each new item's page first.
async fn evaluate(
    ctx: &Context<'_>,
    source: &SourceConfig,
    batch: &mut CrawlBatch,
    items: Vec<Item>,
    topics: &[&Topic],
    store: &SharedStore,
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let full_text = matches!(
        source.spec,
        SourceSpec::Feed {
            full_text: true,
            ..
        } | SourceSpec::Sitemap {
            full_text: true,
            ..
        }
    );
    if !full_text {
        queue_items(batch, items, source.kind, topics);
        return Ok(());
    }
    let keys: Vec<u64> = items.iter().map(item_key).collect();
    let known = {
        let (name, keys) = (source.name.clone(), keys.clone());
        with_store(store, move |s| s.seen(&name, &keys)).await?
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

    let budget = &Budget::default();
    let evaluated: Vec<(Item, Option<fulltext::Article>, u64, bool)> =
        futures_util::stream::iter(fresh)
            .map(|(item, key)| async move {
                // Old entries of long sitemaps are not worth a page fetch each.
                let too_old = item.published.is_some_and(|t| ctx.too_old(t));
                let (article, done) = if too_old {
                    (None, true)
                } else {
                    fetch_article(ctx, &item, budget).await
                };
                (item, article, key, done)
            })
            .buffered(PAGE_FETCHES_PER_SOURCE)
            .collect()
            .await;

    for (item, article, key, done) in evaluated {
        if done {
            batch.seen.push(key);
        }
        batch
            .mentions
            .extend(identify(&item, article.as_ref(), source.kind, topics));
    }
    Ok(())
}

/// Fetches and extracts an item's page, off the async workers within the
/// source's reading budget. The flag says whether the item is settled
/// (fetched, refused by robots.txt, or too slow to read) rather than worth a
/// retry.
async fn fetch_article(
    ctx: &Context<'_>,
    item: &Item,
    budget: &Budget,
) -> (Option<fulltext::Article>, bool) {
    let Some(url) = item.url.as_deref().and_then(|u| Url::parse(u).ok()) else {
        return (None, true);
    };
    match ctx.fetch(Request::get(url.clone())).await {
        Ok(page) => {
            let content_type = page.content_type().map(str::to_owned);
            let (body, final_url) = (page.body, page.final_url);
            let read = budget.run(move || {
                let body = crate::charset::decode(&body, content_type.as_deref());
                fulltext::extract(&body, &final_url)
            });
            match read.await {
                Ok(article) => (Some(article), true),
                Err(e) => {
                    tracing::warn!("full text of {url}: {e}; matching on the feed's own text");
                    (None, !matches!(e, Unread::Source(_)))
                }
            }
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
