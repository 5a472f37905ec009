//! Reading the web sources: a feed is one conditional GET; an html listing
//! pages through its `next` links and a sitemap (index) is walked down to
//! its URL sets, both through the pager. Every document is a conditional
//! GET with the validators stored by the last crawl. Documents are parsed
//! off the async workers, within the source's reading budget (`budget`).

use super::context::Context;
use super::paging::{Harvest, Listing, Page, Pager, Stop};
use super::{feed, html, sitemap};
use crate::budget::Budget;
use url::Url;

/// How deep sitemap indexes are followed.
const MAX_SITEMAP_DEPTH: usize = 2;

/// Reads a feed; nothing when it was not modified.
pub async fn read_feed(ctx: &Context<'_>, url: &Url) -> Harvest {
    let read = match ctx.fetch_text(url).await {
        Ok(Some((body, base))) => Budget::default()
            .read(move || feed::parse(&body, &base))
            .await
            .map_err(|e| format!("{url}: {e}")),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    };
    match read {
        Ok(items) => Harvest {
            items,
            ..Harvest::default()
        },
        Err(e) => Harvest {
            error: Some(e),
            ..Harvest::default()
        },
    }
}

/// Reads an html listing from `start`, following `next` links.
pub async fn read_html(ctx: &Context<'_>, start: &Url, selectors: &html::Selectors) -> Harvest {
    let mut pager = Pager::new(ctx);
    let mut listing = HtmlListing {
        selectors,
        budget: Budget::default(),
    };
    let error = pager.run(&mut listing, start.clone()).await.err();
    Harvest {
        error,
        ..pager.into_harvest()
    }
}

/// An html listing; a page is known by its URL.
struct HtmlListing<'s> {
    selectors: &'s html::Selectors,
    budget: Budget,
}

impl Listing for HtmlListing<'_> {
    type Cursor = Url;
    type Error = String;

    async fn page(&mut self, ctx: &Context<'_>, url: &Url) -> Result<Page<Url>, String> {
        let Some((body, base)) = ctx.fetch_text(url).await.map_err(|e| e.to_string())? else {
            return Ok(Page::not_modified());
        };
        let selectors = self.selectors.clone();
        let page = self
            .budget
            .read(move || html::parse(&body, &base, &selectors))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(Page::new(page.items, page.next))
    }
}

/// Reads a sitemap, or a sitemap index and the newest of its sitemaps.
/// A sitemap below the index that fails is an error, but the others are
/// still read.
pub async fn read_sitemap(ctx: &Context<'_>, root: &Url) -> Harvest {
    let mut pager = Pager::new(ctx);
    let mut walk = SitemapWalk {
        root,
        first_error: None,
        budget: Budget::default(),
    };
    let failed = pager.run(&mut walk, vec![(root.clone(), 0)]).await.err();
    Harvest {
        error: failed.or(walk.first_error),
        ..pager.into_harvest()
    }
}

/// A sitemap index walked depth first; a page is one document.
struct SitemapWalk<'s> {
    root: &'s Url,
    /// The first sitemap below the root that could not be read.
    first_error: Option<String>,
    budget: Budget,
}

impl Listing for SitemapWalk<'_> {
    /// The documents still to read with their depth, the next one last.
    type Cursor = Vec<(Url, usize)>;
    type Error = String;
    /// Sitemaps are not ordered by date: only running out of documents and
    /// the page limit end the walk.
    const STOPS: &'static [Stop] = &[];

    /// `max_pages` counts the sitemaps below an index, not the index.
    fn max_pages(&self, configured: u32) -> u32 {
        configured.max(1) + 1
    }

    async fn page(
        &mut self,
        ctx: &Context<'_>,
        pending: &Vec<(Url, usize)>,
    ) -> Result<Page<Vec<(Url, usize)>>, String> {
        let mut rest = pending.clone();
        let Some((url, depth)) = rest.pop() else {
            return Ok(Page::new(Vec::new(), None));
        };
        let read = match ctx.fetch_text(&url).await {
            Ok(Some((body, base))) => self
                .budget
                .read(move || sitemap::parse(&body, &base))
                .await
                .map_err(|e| format!("{url}: {e}")),
            Ok(None) if depth == 0 => return Ok(Page::not_modified()),
            Ok(None) => return Ok(Page::new(Vec::new(), (!rest.is_empty()).then_some(rest))),
            Err(e) => Err(e.to_string()),
        };
        let mut items = Vec::new();
        match read {
            Ok(sitemap::Sitemap::Urls(found)) => items = found,
            Ok(sitemap::Sitemap::Index(children)) if depth < MAX_SITEMAP_DEPTH => {
                // Newest first: push in reverse so the newest is read first.
                let take = ctx.max_pages.max(1) as usize;
                for child in children.into_iter().take(take).rev() {
                    rest.push((child, depth + 1));
                }
            }
            Ok(sitemap::Sitemap::Index(_)) => {}
            Err(e) if url == *self.root => return Err(e),
            Err(e) => {
                self.first_error.get_or_insert(e);
            }
        }
        let next = (!rest.is_empty()).then_some(rest);
        Ok(Page::new(items, next))
    }
}
