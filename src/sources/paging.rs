//! The one pager every paged source reads through: platform searches and
//! timelines, html listings and sitemaps. A source only says how to fetch
//! and read one page and what the next page is (a `Listing`); the pager
//! decides when to stop, waits for the rate-limit budget between pages, and
//! drops repeats.
//!
//! Paging stops (SPEC §2) at the first of these named rules, checked after
//! each page in this order; the page's items are kept whichever rule fires:
//!
//! - `NotModified`: the listing's document answered 304.
//! - `Empty`: the page lists no entries (the listing says what an entry is).
//! - `NothingNew`: every item of the page was evaluated by an earlier crawl
//!   of the source (repeats from earlier pages of this crawl don't count).
//! - `TooOld`: the page reaches back past the lookback: the oldest date it
//!   shows is older than `lookback`. Listings run newest first, so the next
//!   page would only be older.
//! - `NoNextPage`: the listing has no further page.
//! - `RepeatedCursor`: the next page is one this listing already read.
//! - `MaxPages`: `max_pages` pages were read (checked before each fetch).
//!
//! `Empty`, `NothingNew` and `TooOld` judge a page's content; a listing that
//! is not ordered by date (a sitemap) names the ones that apply to it in
//! `Listing::STOPS`. Throttling happens before every page but the first of
//! a crawl, from the rate-limit headers of the last answer. Repeats (an item
//! seen twice in one crawl, by its identity before fetch) are dropped as
//! the pager collects items.

use super::context::Context;
use super::Item;
use crate::http::ratelimit;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use std::collections::HashSet;
use std::future::Future;

/// Why a listing stopped paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stop {
    /// The listing has no further page.
    NoNextPage,
    /// Every item of the page was evaluated by an earlier crawl.
    NothingNew,
    /// The page reaches back past the lookback.
    TooOld,
    /// `max_pages` pages were read.
    MaxPages,
    /// The page lists no entries.
    Empty,
    /// The next page is one this listing already read.
    RepeatedCursor,
    /// The document was not modified since the last crawl (HTTP 304).
    NotModified,
}

/// What a source brings back from one crawl.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Harvest {
    pub items: Vec<Item>,
    /// Why reading stopped early; what was read is still stored.
    pub error: Option<String>,
    /// A cursor to store for the next crawl.
    pub cursor: Option<String>,
    /// Why each listing the source paged through stopped, in order.
    pub stops: Vec<Stop>,
    /// What the source read less of than it holds, or why it read nothing
    /// from a document that is not empty (items skipped, a selector that
    /// matches nothing): for the crawl line and `mentions sources`, so that
    /// zero items is never a silent success.
    pub warnings: Vec<String>,
}

impl Stop {
    /// The content rules of a listing that runs newest first.
    pub const NEWEST_FIRST: &'static [Stop] = &[Stop::Empty, Stop::NothingNew, Stop::TooOld];
}

/// The rate-limit budget is spent for longer than a source waits in place;
/// the sentence says so, for the source's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited(pub String);

impl From<RateLimited> for String {
    fn from(r: RateLimited) -> String {
        r.0
    }
}

/// One page as a listing read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<C> {
    pub items: Vec<Item>,
    /// Where the next page starts; None on the last page.
    pub next: Option<C>,
    /// How many entries the page lists, with or without an item each
    /// (`new` counts the items).
    pub entries: usize,
    /// The oldest date the page shows (`new` takes the oldest item's).
    pub oldest: Option<DateTime<Utc>>,
    /// Rate-limit headers of the answer, for the wait before the next request.
    pub headers: Option<HeaderMap>,
    /// The document answered 304; paging ends.
    pub not_modified: bool,
    /// What the page could not be read for (see `Harvest::warnings`).
    pub warnings: Vec<String>,
}

impl<C> Page<C> {
    pub fn new(items: Vec<Item>, next: Option<C>) -> Page<C> {
        Page {
            entries: items.len(),
            oldest: items.iter().filter_map(|i| i.published).min(),
            items,
            next,
            headers: None,
            not_modified: false,
            warnings: Vec::new(),
        }
    }

    /// The page of a document that was not modified since the last crawl.
    pub fn not_modified() -> Page<C> {
        Page {
            not_modified: true,
            ..Page::new(Vec::new(), None)
        }
    }

    /// The page with a warning about what it could not read.
    pub fn with_warning(mut self, warning: String) -> Page<C> {
        self.warnings.push(warning);
        self
    }

    /// The page with the rate-limit headers of its answer.
    pub fn with_headers(mut self, headers: HeaderMap) -> Page<C> {
        self.headers = Some(headers);
        self
    }
}

/// Something a source reads page by page: it fetches and reads one page,
/// and says where the next one starts.
pub trait Listing {
    /// Where a page starts: a URL, a page number, an API cursor.
    type Cursor: Clone + PartialEq + Send + Sync;
    /// Why a page could not be read; a spent rate-limit budget is one.
    type Error: From<RateLimited>;
    /// The content rules that stop this listing (see the module doc).
    const STOPS: &'static [Stop] = Stop::NEWEST_FIRST;

    /// How many pages this listing reads at most, given the source's `max_pages`.
    fn max_pages(&self, configured: u32) -> u32 {
        configured.max(1)
    }

    /// Fetches and reads the page at `cursor`.
    fn page(
        &mut self,
        ctx: &Context<'_>,
        cursor: &Self::Cursor,
    ) -> impl Future<Output = Result<Page<Self::Cursor>, Self::Error>> + Send;
}

/// Pages through the listings of one crawl of one source, collecting items.
pub struct Pager<'c, 'a> {
    ctx: &'c Context<'a>,
    /// Keys of the items collected so far, to drop repeats.
    seen: HashSet<u64>,
    /// Headers of the last answer, for the rate-limit budget.
    last_headers: Option<HeaderMap>,
    items: Vec<Item>,
    stops: Vec<Stop>,
    warnings: Vec<String>,
}

impl<'c, 'a> Pager<'c, 'a> {
    pub fn new(ctx: &'c Context<'a>) -> Pager<'c, 'a> {
        Pager {
            ctx,
            seen: HashSet::new(),
            last_headers: None,
            items: Vec::new(),
            stops: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The context of the crawl, for as long as the pager's borrow of it.
    pub fn context(&self) -> &'c Context<'a> {
        self.ctx
    }

    /// Reads `listing` from `first` until a stop rule holds, and says which.
    /// On an error the items of the pages read so far are kept.
    pub async fn run<L: Listing>(
        &mut self,
        listing: &mut L,
        first: L::Cursor,
    ) -> Result<Stop, L::Error> {
        let max_pages = listing.max_pages(self.ctx.max_pages);
        let mut read: Vec<L::Cursor> = Vec::new();
        let mut cursor = first;
        let stop = loop {
            if read.len() >= max_pages as usize {
                break Stop::MaxPages;
            }
            if let Some(headers) = &self.last_headers {
                ratelimit::throttle(headers).await.map_err(RateLimited)?;
            }
            let page = listing.page(self.ctx, &cursor).await?;
            read.push(cursor);
            if let Some(headers) = page.headers {
                self.last_headers = Some(headers);
            }
            self.warnings.extend(page.warnings);
            if page.not_modified {
                break Stop::NotModified;
            }
            let judged = self
                .judge(L::STOPS, &page.items, page.entries, page.oldest)
                .await;
            self.keep(page.items);
            if let Some(stop) = judged {
                break stop;
            }
            match page.next {
                None => break Stop::NoNextPage,
                Some(next) if read.contains(&next) => break Stop::RepeatedCursor,
                Some(next) => cursor = next,
            }
        };
        tracing::debug!(
            source = self.ctx.source,
            pages = read.len(),
            ?stop,
            "paging stopped"
        );
        self.stops.push(stop);
        Ok(stop)
    }

    /// The first content rule of `rules` that holds for a page.
    async fn judge(
        &self,
        rules: &[Stop],
        items: &[Item],
        entries: usize,
        oldest: Option<DateTime<Utc>>,
    ) -> Option<Stop> {
        if rules.contains(&Stop::Empty) && entries == 0 {
            return Some(Stop::Empty);
        }
        if rules.contains(&Stop::NothingNew) && self.ctx.all_known(items).await {
            return Some(Stop::NothingNew);
        }
        if rules.contains(&Stop::TooOld) && oldest.is_some_and(|t| self.ctx.too_old(t)) {
            return Some(Stop::TooOld);
        }
        None
    }

    /// Collects a page's items, dropping those this crawl already has.
    fn keep(&mut self, items: Vec<Item>) {
        for item in items {
            if self.seen.insert(crate::identify::item_key(&item)) {
                self.items.push(item);
            }
        }
    }

    /// What the listings brought, and why each stopped.
    pub fn into_harvest(self) -> Harvest {
        Harvest {
            items: self.items,
            stops: self.stops,
            warnings: self.warnings,
            ..Harvest::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::context::testing::{self, nothing_known};
    use std::future::Future;
    use std::pin::Pin;

    fn item(id: u32, published: &str) -> Item {
        Item {
            platform_id: Some(format!("t:{id}")),
            published: Some(published.parse().unwrap()),
            ..Item::default()
        }
    }

    /// Pages of items by page number; the next page is the next number.
    struct Numbered {
        pages: Vec<Vec<Item>>,
        asked: Vec<u32>,
    }

    impl Listing for Numbered {
        type Cursor = u32;
        type Error = String;

        async fn page(&mut self, _: &Context<'_>, n: &u32) -> Result<Page<u32>, String> {
            self.asked.push(*n);
            let items = self.pages.get(*n as usize).cloned().unwrap_or_default();
            let next = (*n as usize + 1 < self.pages.len()).then_some(n + 1);
            Ok(Page::new(items, next))
        }
    }

    fn numbered(pages: Vec<Vec<Item>>) -> Numbered {
        Numbered {
            pages,
            asked: Vec::new(),
        }
    }

    #[tokio::test]
    async fn each_rule_stops_and_is_named() {
        let http = testing::client(0);
        let mut ctx = testing::context(&http, &nothing_known, "t", &[], 7);
        let fresh = "2026-11-25T10:00:00Z";
        let pages = vec![
            vec![item(1, fresh)],
            vec![item(2, fresh)],
            vec![item(3, fresh)],
        ];

        let mut l = numbered(pages.clone());
        let mut pager = Pager::new(&ctx);
        assert_eq!(pager.run(&mut l, 0).await, Ok(Stop::NoNextPage));
        assert_eq!(l.asked, [0, 1, 2]);

        ctx.max_pages = 2;
        let mut l = numbered(pages.clone());
        assert_eq!(Pager::new(&ctx).run(&mut l, 0).await, Ok(Stop::MaxPages));
        assert_eq!(l.asked, [0, 1]);

        let mut l = numbered(vec![vec![item(1, fresh)], vec![], vec![item(3, fresh)]]);
        assert_eq!(Pager::new(&ctx).run(&mut l, 0).await, Ok(Stop::Empty));
        assert_eq!(l.asked, [0, 1]);

        let mut l = numbered(vec![vec![item(1, "2026-11-01T00:00:00Z")], vec![]]);
        assert_eq!(Pager::new(&ctx).run(&mut l, 0).await, Ok(Stop::TooOld));
        assert_eq!(l.asked, [0]);

        let known = |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send>> {
            Box::pin(async move { vec![true; items.len()] })
        };
        let ctx = testing::context(&http, &known, "t", &[], 7);
        let mut l = numbered(pages);
        let mut pager = Pager::new(&ctx);
        assert_eq!(pager.run(&mut l, 0).await, Ok(Stop::NothingNew));
        assert_eq!(pager.into_harvest().items.len(), 1, "the page is kept");
    }

    #[tokio::test]
    async fn page_warnings_reach_the_harvest_in_order() {
        struct Warns;
        impl Listing for Warns {
            type Cursor = u32;
            type Error = String;
            async fn page(&mut self, _: &Context<'_>, n: &u32) -> Result<Page<u32>, String> {
                let page = Page::new(
                    vec![item(*n, "2026-11-25T10:00:00Z")],
                    (*n < 2).then_some(n + 1),
                );
                Ok(match n {
                    0 => page.with_warning("2 of 5 entries skipped (2 no link)".into()),
                    2 => page.with_warning("the sitemap lists no URLs".into()),
                    _ => page,
                })
            }
        }
        let http = testing::client(0);
        let ctx = testing::context(&http, &nothing_known, "t", &[], 7);
        let mut pager = Pager::new(&ctx);
        assert_eq!(pager.run(&mut Warns, 0).await, Ok(Stop::NoNextPage));
        let harvest = pager.into_harvest();
        assert_eq!(harvest.items.len(), 3);
        assert_eq!(
            harvest.warnings,
            [
                "2 of 5 entries skipped (2 no link)",
                "the sitemap lists no URLs"
            ]
        );
    }

    #[tokio::test]
    async fn repeats_are_dropped_across_listings_and_a_stuck_cursor_stops() {
        let http = testing::client(0);
        let ctx = testing::context(&http, &nothing_known, "t", &[], 7);
        let fresh = "2026-11-25T10:00:00Z";
        let mut pager = Pager::new(&ctx);
        let mut l = numbered(vec![
            vec![item(1, fresh), item(1, fresh)],
            vec![item(2, fresh)],
        ]);
        pager.run(&mut l, 0).await.unwrap();
        let mut l = numbered(vec![vec![item(2, fresh), item(3, fresh)]]);
        pager.run(&mut l, 0).await.unwrap();

        struct Stuck;
        impl Listing for Stuck {
            type Cursor = Option<String>;
            type Error = String;
            async fn page(
                &mut self,
                _: &Context<'_>,
                _: &Option<String>,
            ) -> Result<Page<Option<String>>, String> {
                let fresh = "2026-11-25T10:00:00Z";
                Ok(Page::new(vec![item(4, fresh)], Some(Some("same".into()))))
            }
        }
        assert_eq!(pager.run(&mut Stuck, None).await, Ok(Stop::RepeatedCursor));
        let harvest = pager.into_harvest();
        let ids: Vec<_> = harvest
            .items
            .iter()
            .filter_map(|i| i.platform_id.as_deref())
            .collect();
        assert_eq!(ids, ["t:1", "t:2", "t:3", "t:4"]);
        assert_eq!(
            harvest.stops,
            [Stop::NoNextPage, Stop::NoNextPage, Stop::RepeatedCursor]
        );
    }
}
