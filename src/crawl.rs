//! One pass of one source through the stages: fetch → parse → (full text) →
//! match → identify → store. `crawl_pass` runs many sources with bounded
//! concurrency (`Slots`: a crawl waiting for the store does not keep the
//! next source from being read); `crawl_source` wires the store into the
//! source's context, lets the source read (`sources`), evaluates what it
//! read (full text, identification) and commits the result in one
//! transaction.

use crate::budget::{Budget, Unread};
use crate::config::{Settings, SourceConfig, SourceSpec, Topic};
use crate::http::{FetchError, HttpClient, Request, Validators};
use crate::identify::{identify, item_key, queue_items};
use crate::sources::context::Context;
use crate::sources::paging::Harvest;
use crate::sources::platform::PlatformSpec;
use crate::sources::{
    bluesky, discourse, fulltext, gdelt, googlenews, hackernews, lemmy, mastodon, reddit, telegram,
    web, Item,
};
use crate::store::{Backend, CommitStats, CrawlBatch, SourceOutcome, StoreError};
use crate::text::quote;
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
    /// What the source read less of than it holds (see `Harvest::warnings`),
    /// `${VAR}` values masked.
    pub warnings: Vec<String>,
    /// The crawl could not be written to the database (SPEC §7: a storage
    /// failure, exit 3); `outcome` says why.
    pub store_failed: bool,
}

impl std::fmt::Display for SourceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.name)?;
        if let SourceOutcome::Failed(e) = &self.outcome {
            if self.items == 0 && self.stats == CommitStats::default() {
                write!(f, "FAILED: {e}")?;
                return self.write_warnings(f);
            }
        }
        if self.not_modified {
            write!(f, "not modified")?;
        } else {
            write!(
                f,
                "{} new, {} already counted, ",
                self.stats.new, self.stats.duplicates
            )?;
            if self.stats.excluded > 0 {
                write!(f, "{} excluded, ", self.stats.excluded)?;
            }
            write!(f, "{} items read", self.items)?;
        }
        if let SourceOutcome::Failed(e) = &self.outcome {
            write!(f, "; FAILED: {e}")?;
        }
        self.write_warnings(f)
    }
}

impl SourceReport {
    /// `; WARNING: …` with every warning, when there are any.
    fn write_warnings(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.warnings.is_empty() {
            return Ok(());
        }
        write!(f, "; WARNING: {}", self.warnings.join("; "))
    }
}

/// Sources whose unreadable dates were logged by this process: each says
/// so once while `mentions` runs, not on every crawl.
static UNREAD_DATES_LOGGED: WarnedSources = WarnedSources::new();

/// The names of sources already warned about something.
pub struct WarnedSources(std::sync::Mutex<std::collections::BTreeSet<String>>);

impl WarnedSources {
    pub const fn new() -> WarnedSources {
        WarnedSources(std::sync::Mutex::new(std::collections::BTreeSet::new()))
    }

    /// True the first time `source` is named, false after.
    pub fn first_time(&self, source: &str) -> bool {
        let mut names = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if names.contains(source) {
            return false;
        }
        names.insert(source.to_owned())
    }
}

impl Default for WarnedSources {
    fn default() -> WarnedSources {
        WarnedSources::new()
    }
}

/// Logs, once per source while the process runs, a date the source gave
/// that could not be read: its items are stored undated.
fn log_unread_dates(source: &str, items: &[Item], logged: &WarnedSources) -> bool {
    let mut unread = items.iter().filter_map(|i| i.unread_date.as_deref());
    let Some(first) = unread.next() else {
        return false;
    };
    if !logged.first_time(source) {
        return false;
    }
    let more = unread.count();
    let others = match more {
        0 => String::new(),
        1 => " (and 1 more item)".to_owned(),
        n => format!(" (and {n} more items)"),
    };
    tracing::warn!(
        source = %source,
        "cannot read the date {}{others}; an item dated so counts as undated when it matches. Said once per source while mentions runs",
        quote(first)
    );
    true
}

/// Crawls `sources` (indices into `settings.sources`) for `topics` (indices
/// into `settings.topics`), at most `settings.http.concurrency` sources at a
/// time, and returns one report per source in config order.
pub async fn crawl_pass(
    settings: Arc<Settings>,
    http: HttpClient,
    store: Backend,
    sources: Vec<usize>,
    topics: Option<Vec<usize>>,
    on_done: &dyn Fn(&SourceReport),
) -> Vec<SourceReport> {
    let slots = Slots::new(settings.http.concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    let mut names = std::collections::HashMap::new();
    for (order, index) in sources.into_iter().enumerate() {
        let (task_settings, http, store, slots, topics) = (
            Arc::clone(&settings),
            http.clone(),
            store.clone(),
            slots.clone(),
            topics.clone(),
        );
        let handle = tasks.spawn(async move {
            let report = crawl_source(
                slots.reading().await,
                Some(&slots),
                &task_settings,
                &http,
                &store,
                index,
                topics.as_deref(),
            )
            .await;
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
                    warnings: Vec::new(),
                    store_failed: false,
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

/// How many sources are read at once, and how many crawls that have been
/// read may wait for the store. A crawl gives up its reading slot once it
/// has read and evaluated its items and holds a writing slot instead until
/// it is committed: the next sources are fetched and parsed while the
/// store writes (SQLite has one writer), and at most `concurrency` crawls
/// wait for it, which bounds the memory they hold. Cheap to clone.
#[derive(Clone)]
pub struct Slots {
    reading: Arc<tokio::sync::Semaphore>,
    writing: Arc<tokio::sync::Semaphore>,
}

impl Slots {
    /// `concurrency` sources read at once (at least 1), as many waiting to be written.
    pub fn new(concurrency: usize) -> Slots {
        let n = concurrency.max(1);
        Slots {
            reading: Arc::new(tokio::sync::Semaphore::new(n)),
            writing: Arc::new(tokio::sync::Semaphore::new(n)),
        }
    }
}

/// A slot of `Slots`, when there are any; a closed semaphore is no limit.
async fn take(
    semaphore: Option<&Arc<tokio::sync::Semaphore>>,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    Arc::clone(semaphore?).acquire_owned().await.ok()
}

impl Slots {
    /// A reading slot, once one is free.
    pub async fn reading(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        take(Some(&self.reading)).await
    }
}

/// Crawls one source and commits what it brought; with `slots`, in the
/// reading slot the caller took of them (`Slots::reading`: the daemon
/// begins no crawl once it stops) and then a writing slot.
pub async fn crawl_source(
    reading: Option<tokio::sync::OwnedSemaphorePermit>,
    slots: Option<&Slots>,
    settings: &Settings,
    http: &HttpClient,
    store: &Backend,
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
            store
                .seen(&name, keys)
                .await
                .unwrap_or_else(|_| vec![false; n])
        })
    };
    let validators =
        move |url: String| -> Pin<Box<dyn Future<Output = Option<Validators>> + Send + '_>> {
            let name = source_name.to_owned();
            Box::pin(async move {
                store.validators(&name, url).await.unwrap_or_else(|e| {
                    tracing::warn!("cannot read stored validators: {e}");
                    None
                })
            })
        };
    // robots.txt verdicts and back-offs go to the store the crawl writes to
    // (shared by every node on PostgreSQL), behind the client's own caches.
    let http = &http.with_memory(store.host_memory());
    let mut ctx = Context::new(http, source_name, &known);
    ctx.lookback = source.lookback;
    ctx.max_pages = source.max_pages.max(1);
    ctx.tz = settings.timezone.unwrap_or(chrono_tz::UTC);
    ctx.validators = Some(&validators);
    if let SourceSpec::Platform(spec) = &source.spec {
        ctx.search_terms = search_terms(spec, &topics);
        ctx.cursor = store.cursor(&source.name).await.unwrap_or_else(|e| {
            tracing::warn!("cannot read the stored cursor: {e}");
            None
        });
    }

    if let Some(search) = news_search(&source.spec, &topics) {
        ctx.search_terms = vec![search];
    }

    let harvest = read(&ctx, &source.spec).await;
    batch.cursor = harvest.cursor;
    batch.validators = ctx.take_validators();
    let read = harvest.items.len();
    log_unread_dates(&source.name, &harvest.items, &UNREAD_DATES_LOGGED);
    let warnings: Vec<String> = harvest
        .warnings
        .iter()
        .map(|w| crate::secrets::mask(w).into_owned())
        .collect();
    if !warnings.is_empty() {
        tracing::warn!(source = %source.name, "{}", warnings.join("; "));
    }
    batch.warnings.clone_from(&warnings);
    if let Err(e) = evaluate(&ctx, source, &mut batch, harvest.items, &topics, store).await {
        tracing::error!(source = %source.name, "cannot read source state: {e}");
    }
    let not_modified = ctx.not_modified();
    batch.not_modified = not_modified;
    if let Some(e) = harvest.error {
        tracing::warn!(source = %source.name, "{e}");
        batch.outcome = SourceOutcome::Failed(e);
    }
    let outcome = batch.outcome.clone();
    // Read and evaluated: the next source may be read while this one waits for the store.
    let writing = take(slots.map(|s| &s.writing)).await;
    drop(reading);
    let committed = store.commit(batch).await;
    drop(writing);
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
            warnings,
            store_failed: false,
        },
        Err(e) => {
            let unstored = match store {
                Backend::Sqlite(_) => format!(
                    "could not store the crawl in {}: {e}",
                    settings.database.display()
                ),
                // The error names the server (host:port/database).
                Backend::Postgres(_) => format!("could not store the crawl: {e}"),
            };
            tracing::error!(source = %source.name, "{unstored}");
            SourceReport {
                name: source.name.clone(),
                outcome: SourceOutcome::Failed(match outcome {
                    SourceOutcome::Failed(failed) => format!("{failed}; {unstored}"),
                    SourceOutcome::Ok => unstored,
                }),
                stats: CommitStats::default(),
                items: read,
                not_modified: false,
                warnings,
                store_failed: true,
            }
        }
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

/// What a news search asks for: its configured search, else its topics'
/// queries in the service's syntax. None for other sources, and for a
/// news search with nothing to ask.
fn news_search(spec: &SourceSpec, topics: &[&Topic]) -> Option<String> {
    let queries: Vec<&crate::query::Query> = topics.iter().map(|t| &t.query).collect();
    match spec {
        SourceSpec::GoogleNews { search, .. } => search
            .clone()
            .or_else(|| googlenews::default_search(&queries)),
        SourceSpec::Gdelt { query, .. } => query.clone().or_else(|| {
            let mut terms: Vec<String> = Vec::new();
            for t in queries.iter().flat_map(|q| q.gdelt_terms()) {
                if !terms.contains(&t) {
                    terms.push(t);
                }
            }
            gdelt::default_query(&terms)
        }),
        _ => None,
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
        SourceSpec::GoogleNews {
            url,
            language,
            country,
            ..
        } => googlenews::read(ctx, url, language, country, &googlenews::SPACING).await,
        SourceSpec::Gdelt {
            url,
            sourcelang,
            sourcecountry,
            ..
        } => {
            gdelt::read(
                ctx,
                url,
                sourcelang.as_deref(),
                sourcecountry.as_deref(),
                &gdelt::SPACING,
            )
            .await
        }
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
    store: &Backend,
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
    let known = store.seen(&source.name, keys.clone()).await?;
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
                let body = crate::charset::decode_owned(body, content_type.as_deref());
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A feed of one item mentioning Nordkorea, numbered `n`.
    fn feed(n: usize) -> String {
        format!(
            "<rss version=\"2.0\"><channel><title>q</title><item><title>Nordkorea {n}</title>\
             <link>http://news.example/{n}</link><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate>\
             <description>Nordkorea und Russland</description></item></channel></rss>"
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_crawl_waiting_for_the_store_gives_its_reading_slot_to_the_next_source() {
        let fetched = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&fetched);
        let app = axum::Router::new().route(
            "/feed/{n}",
            axum::routing::get(move |axum::extract::Path(n): axum::extract::Path<usize>| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move { ([("content-type", "application/rss+xml")], feed(n)) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "[database]\npath = {:?}\n\n[crawler]\nconcurrency = 1\nrespect_robots_txt = false\nretries = 0\n\n\
             [[topic]]\nname = \"nk\"\nquery = \"nordkorea\"\n\n",
            dir.path().join("m.db").display().to_string()
        );
        for n in 0..3 {
            config.push_str(&format!(
                "[[source]]\nname = \"q{n}\"\ntype = \"feed\"\nurl = \"http://127.0.0.1:{port}/feed/{n}\"\n\n"
            ));
        }
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        let settings = Arc::new(Settings::load(&path).unwrap());
        let shared = crate::store::shared(crate::store::Store::open(&settings.database).unwrap());
        let http = HttpClient::new(settings.http.clone()).unwrap();
        // A write in progress: the store is busy until the test lets go.
        let busy = crate::store::hold_busy(&shared);
        let pass = crawl_pass(
            Arc::clone(&settings),
            http,
            Backend::Sqlite(Arc::clone(&shared)),
            vec![0, 1, 2],
            None,
            &|_| {},
        );
        let release = async {
            // One source is read at a time (concurrency 1), yet the second
            // is read while the first waits for the store.
            let mut waited = 0;
            while fetched.load(Ordering::SeqCst) < 2 && waited < 200 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                waited += 1;
            }
            let read = fetched.load(Ordering::SeqCst);
            drop(busy);
            read
        };
        let (reports, read_while_busy) = tokio::join!(pass, release);
        assert_eq!(read_while_busy, 2);
        let lines: Vec<String> = reports.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [0, 1, 2].map(|n| format!("q{n}: 1 new, 0 already counted, 1 items read"))
        );
        assert_eq!(fetched.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn quotes_are_short_and_escaped() {
        assert_eq!(quote("vor 3 Stunden"), "\"vor 3 Stunden\"");
        assert_eq!(
            quote("Mo\t12.\u{1b}[31m \"x\"\n"),
            r#""Mo\t12.\u{1b}[31m \"x\"\n""#
        );
        let long = "ä".repeat(100);
        assert_eq!(quote(&long), format!("\"{}\"…", "ä".repeat(80)));
        assert_eq!(quote(&"a".repeat(80)), format!("\"{}\"", "a".repeat(80)));
    }

    #[test]
    fn an_unread_date_is_logged_once_per_source() {
        let logged = WarnedSources::new();
        let undated = |date: Option<&str>| Item {
            unread_date: date.map(str::to_owned),
            ..Item::default()
        };
        let items = [
            undated(None),
            undated(Some("irgendwann")),
            undated(Some("bald")),
        ];
        assert!(
            !log_unread_dates("a", &items[..1], &logged),
            "nothing unread"
        );
        assert!(log_unread_dates("a", &items, &logged));
        assert!(!log_unread_dates("a", &items, &logged), "said once");
        assert!(log_unread_dates("b", &items[1..], &logged));
        assert!(logged.first_time("c"));
        assert!(!logged.first_time("c"));
    }

    #[test]
    fn the_crawl_line_names_warnings_and_storage_failures() {
        let mut report = SourceReport {
            name: "liste".into(),
            outcome: SourceOutcome::Ok,
            stats: CommitStats::default(),
            items: 0,
            not_modified: false,
            warnings: vec!["3 of 3 entries skipped (3 no link)".into()],
            store_failed: false,
        };
        assert_eq!(
            report.to_string(),
            "liste: 0 new, 0 already counted, 0 items read; WARNING: 3 of 3 entries skipped (3 no link)"
        );
        report.warnings.push("the sitemap lists no URLs".into());
        report.items = 4;
        report.outcome = SourceOutcome::Failed(
            "could not store the crawl in /d/m.db: database error: database or disk is full".into(),
        );
        report.store_failed = true;
        assert_eq!(
            report.to_string(),
            "liste: 0 new, 0 already counted, 4 items read; FAILED: could not store the crawl in /d/m.db: database error: database or disk is full; WARNING: 3 of 3 entries skipped (3 no link); the sitemap lists no URLs"
        );
    }
}
