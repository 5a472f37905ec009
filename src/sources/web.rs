//! Reading the web sources: a feed is one conditional GET; an html listing
//! pages through its `next` links and a sitemap (index) is walked down to
//! its URL sets, both through the pager. Every document is a conditional
//! GET with the validators stored by the last crawl. What a document holds
//! but could not be read from it (skipped entries, a listing whose `item`
//! selector matches nothing, a sitemap without URLs) comes back as the
//! harvest's warnings. Documents are parsed off the async workers, within
//! the source's reading budget (`budget`).

use super::context::Context;
use super::paging::{Harvest, Listing, Page, Pager, Stop};
use super::{feed, html, sitemap};
use crate::budget::Budget;
use url::Url;

/// How deep sitemap indexes are followed.
const MAX_SITEMAP_DEPTH: usize = 2;

/// Reads a feed; nothing when it was not modified. What the reader could
/// not read (skipped items, a document without items) comes back as
/// warnings.
pub async fn read_feed(ctx: &Context<'_>, url: &Url) -> Harvest {
    match ctx.fetch_text(url).await {
        Ok(Some((body, base))) => match Budget::default()
            .read(move || feed::read(&body, &base))
            .await
        {
            Ok(doc) => Harvest {
                warnings: feed_warnings(&doc),
                items: doc.items,
                ..Harvest::default()
            },
            Err(e) => Harvest {
                error: Some(format!("{url}: {e}")),
                ..Harvest::default()
            },
        },
        Ok(None) => Harvest::default(),
        Err(e) => Harvest {
            error: Some(e.to_string()),
            ..Harvest::default()
        },
    }
}

/// The reader's warnings; a document that yields no items always has one.
fn feed_warnings(doc: &feed::FeedDoc) -> Vec<String> {
    let mut warnings = doc.warnings.clone();
    if warnings.is_empty() && doc.skipped > 0 {
        warnings.push(format!("{} items skipped (unreadable)", doc.skipped));
    }
    if warnings.is_empty() && doc.items.is_empty() {
        warnings.push("the feed yields no items".to_owned());
    }
    warnings
}

/// Reads an html listing from `start`, following `next` links.
pub async fn read_html(ctx: &Context<'_>, start: &Url, selectors: &html::Selectors) -> Harvest {
    let mut pager = Pager::new(ctx);
    let mut listing = HtmlListing {
        selectors,
        start,
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
    /// The configured first page.
    start: &'s Url,
    budget: Budget,
}

impl Listing for HtmlListing<'_> {
    type Cursor = Url;
    type Error = String;

    async fn page(&mut self, ctx: &Context<'_>, url: &Url) -> Result<Page<Url>, String> {
        let Some((body, base)) = ctx.fetch_text(url).await.map_err(|e| e.to_string())? else {
            return Ok(Page::not_modified());
        };
        let (selectors, dates) = (self.selectors.clone(), ctx.date_context());
        let blank = body.trim().is_empty();
        let bytes = body.len();
        let page = self
            .budget
            .read(move || html::parse_in(&body, &base, &selectors, &dates))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let warning = html_warning(&page, url == self.start, blank, bytes, url);
        let mut read = Page::new(page.items, page.next);
        read.entries = page.entries;
        Ok(match warning {
            Some(w) => read.with_warning(w),
            None => read,
        })
    }
}

/// What a listing page could not be read for: a first page that is not
/// empty but where `item` matches nothing (the site changed its markup),
/// or entries skipped for want of a title or a link. Later pages may end
/// a listing with no entries.
fn html_warning(
    page: &html::Page,
    first: bool,
    blank: bool,
    bytes: usize,
    url: &Url,
) -> Option<String> {
    let at = if first {
        String::new()
    } else {
        format!(" on {url}")
    };
    if page.entries == 0 {
        return (first && !blank).then(|| {
            format!(
                "the `item` selector matches nothing on the page ({bytes} bytes); check the source's selectors"
            )
        });
    }
    let reasons: Vec<String> = [(page.no_title, "no title"), (page.no_link, "no link")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
    (!reasons.is_empty()).then(|| {
        format!(
            "{} of {} entries skipped{at} ({})",
            page.no_title + page.no_link,
            page.entries,
            reasons.join(", ")
        )
    })
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
        let mut warning = None;
        let at = if url == *self.root {
            String::new()
        } else {
            format!(" {url}")
        };
        match read {
            Ok(sitemap::Sitemap::Urls(found)) => {
                if found.is_empty() {
                    warning = Some(format!("the sitemap{at} lists no URLs"));
                }
                items = found;
            }
            Ok(sitemap::Sitemap::Index(children)) if children.is_empty() => {
                warning = Some(format!("the sitemap index{at} lists no sitemaps"));
            }
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
        let page = Page::new(items, next);
        Ok(match warning {
            Some(w) => page.with_warning(w),
            None => page,
        })
    }
}
