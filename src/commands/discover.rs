//! `mentions discover URL…`: what a site offers to read, as ready
//! `[[source]]` blocks. For each address it reads the page and lists, in
//! this order:
//!
//! 1. the feeds the page announces with `<link rel="alternate">` (RSS,
//!    Atom, JSON Feed), or the address itself when it is a feed;
//! 2. when the page announces none, the first of the common feed paths
//!    (`/feed`, `/rss`, `/rss.xml`, …) that holds a feed;
//! 3. the sitemaps named by the site's robots.txt `Sitemap:` lines, news
//!    sitemaps first.
//!
//! Each block is preceded by a comment with what was found in it: its item
//! count and newest item date. Every fetch goes through the shared client,
//! so robots.txt and the private-network rules apply as in a crawl (the
//! address given here is not trusted the way a configured one is). A site
//! with nothing to offer gets a plain sentence.

use super::import::{comment, slug, source_block, Names};
use super::{print, runtime, Failure};
use crate::config::Settings;
use crate::http::{FetchError, HttpClient, Request};
use crate::sources::{feed, sitemap, Item};
use chrono::{DateTime, Utc};
use std::process::ExitCode;
use url::Url;

/// Where sites commonly keep their feed, tried when a page announces none.
pub const COMMON_PATHS: [&str; 8] = [
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
    "/index.rss",
];

/// At most this many announced feeds, and sitemaps, are read per site.
const MAX_PER_KIND: usize = 10;

/// One thing found on a site, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// `feed` or `sitemap`.
    pub source_type: &'static str,
    pub url: Url,
    /// What the comment says: the format and its item count and newest date.
    pub about: String,
    /// A title to name it by, when the site gives one.
    pub title: Option<String>,
    /// A news sitemap (listed before the others).
    pub news: bool,
}

pub(super) fn discover(settings: &Settings, urls: &[String]) -> Result<ExitCode, Failure> {
    let starts: Vec<Url> = urls
        .iter()
        .map(|u| start_url(u))
        .collect::<Result<_, _>>()
        .map_err(Failure::Usage)?;
    let http =
        HttpClient::new(settings.http.clone()).map_err(|e| Failure::Runtime(e.to_string()))?;
    let rt = runtime()?;
    let mut names = Names::new(settings.sources.iter().map(|s| s.name.as_str()));
    let configured: Vec<(&str, &Url)> = settings
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.spec.url()))
        .collect();
    let mut failed = false;
    let mut out = String::new();
    for start in &starts {
        let site = rt.block_on(site(&http, start));
        if let Some(why) = &site.unreachable {
            tracing::error!("cannot discover {start}: {why}");
            failed = true;
        }
        out.push_str(&render(start, &site, &mut names, &configured));
    }
    print(&out)?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The address as typed, `https://` added when it has no scheme.
fn start_url(typed: &str) -> Result<Url, String> {
    let typed = typed.trim();
    let other_scheme = ["mailto:", "javascript:", "data:", "file:", "tel:"]
        .iter()
        .any(|s| typed.len() >= s.len() && typed[..s.len()].eq_ignore_ascii_case(s));
    let with_scheme = if typed.contains("://") || other_scheme {
        typed.to_owned()
    } else {
        format!("https://{typed}")
    };
    match Url::parse(&with_scheme) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.has_host()
                && u.username().is_empty() =>
        {
            Ok(u)
        }
        _ => Err(format!(
            "\"{typed}\" is not a web address; give one like https://www.example.org/"
        )),
    }
}

/// What was found on one site.
#[derive(Debug, Default)]
pub struct Site {
    pub found: Vec<Found>,
    /// Things worth a comment: refused or unreadable documents.
    pub notes: Vec<String>,
    /// The page itself could not be fetched (not refused by robots.txt and
    /// not missing): the sentence saying why.
    pub unreachable: Option<String>,
}

/// Reads one site: the page, its announced feeds or the common paths, and
/// the sitemaps of its robots.txt.
pub async fn site(http: &HttpClient, start: &Url) -> Site {
    let mut site = Site::default();
    let mut page_title = None;
    let mut announced = Vec::new();
    match http.fetch(Request::get(start.clone())).await {
        Ok(page) => {
            let body = crate::charset::decode(&page.body, page.content_type());
            if let Some(found) = as_feed(&page.final_url, &body, None) {
                site.found.push(found);
            } else {
                let links = alternates(&body, &page.final_url);
                page_title = links.title;
                announced = links.feeds;
            }
        }
        Err(e @ (FetchError::RobotsDisallowed { .. } | FetchError::Status { .. })) => {
            site.notes.push(e.to_string());
        }
        Err(e) => {
            site.unreachable = Some(e.to_string());
            return site;
        }
    }
    for (url, title) in announced.into_iter().take(MAX_PER_KIND) {
        // A feed the page does not name is named after the page.
        let title = title.or_else(|| page_title.clone());
        match fetch_text(http, &url).await {
            Ok((body, final_url)) => match as_feed(&final_url, &body, title) {
                Some(found) => site.found.push(found),
                None => site.notes.push(format!(
                    "{url} is announced as a feed but is not one that can be read"
                )),
            },
            Err(e) => site.notes.push(e.to_string()),
        }
    }
    if site.found.is_empty() {
        for path in COMMON_PATHS {
            let Ok(url) = start.join(path) else { continue };
            // A missing path is the usual answer, not worth a note.
            let Ok((body, final_url)) = fetch_text(http, &url).await else {
                continue;
            };
            if let Some(found) = as_feed(&final_url, &body, page_title.clone()) {
                site.found.push(found);
                break;
            }
        }
    }
    let mut sitemaps = Vec::new();
    for url in robots_sitemaps(http, start)
        .await
        .into_iter()
        .take(MAX_PER_KIND)
    {
        match read_sitemap(http, &url).await {
            Ok(found) => sitemaps.push(found),
            Err(note) => site.notes.push(note),
        }
    }
    // News sitemaps first; otherwise as robots.txt lists them.
    sitemaps.sort_by_key(|f| !f.news);
    site.found.extend(sitemaps);
    site
}

/// Fetches a document (robots.txt permitting) and decodes it.
async fn fetch_text(http: &HttpClient, url: &Url) -> Result<(String, Url), FetchError> {
    let fetched = http.fetch(Request::get(url.clone())).await?;
    Ok((
        crate::charset::decode(&fetched.body, fetched.content_type()),
        fetched.final_url,
    ))
}

/// What a page announces: its `<title>`, and its feed links with their titles.
#[derive(Debug, Default, PartialEq)]
pub struct Alternates {
    pub title: Option<String>,
    pub feeds: Vec<(Url, Option<String>)>,
}

/// The feeds a page announces with `<link rel="alternate" type="…">`
/// (RSS, Atom, JSON Feed), absolute, each once, in page order.
pub fn alternates(html: &str, base: &Url) -> Alternates {
    let doc = scraper::Html::parse_document(html);
    let mut out = Alternates::default();
    if let Ok(title) = scraper::Selector::parse("title") {
        out.title = doc
            .select(&title)
            .next()
            .map(|t| crate::text::collapse_ws(&t.text().collect::<String>()))
            .filter(|t| !t.is_empty());
    }
    let Ok(links) = scraper::Selector::parse("link[href]") else {
        return out;
    };
    // `<base href>` moves where relative links point.
    let base = scraper::Selector::parse("base[href]")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| base.join(h).ok())
        .unwrap_or_else(|| base.clone());
    for link in doc.select(&links) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
        if !rel.split_ascii_whitespace().any(|r| r == "alternate") {
            continue;
        }
        let kind = el
            .attr("type")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let kind = kind.split(';').next().unwrap_or_default().trim();
        if !matches!(
            kind,
            "application/rss+xml"
                | "application/atom+xml"
                | "application/feed+json"
                | "application/json"
                | "application/rdf+xml"
        ) {
            continue;
        }
        let Some(url) = el
            .attr("href")
            .and_then(|h| base.join(h.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            continue;
        };
        if out.feeds.iter().any(|(u, _)| *u == url) {
            continue;
        }
        let title = el
            .attr("title")
            .map(crate::text::collapse_ws)
            .filter(|t| !t.is_empty());
        out.feeds.push((url, title));
    }
    out
}

/// The document as a feed, when it is one.
fn as_feed(url: &Url, body: &str, title: Option<String>) -> Option<Found> {
    let doc = feed::read(body, url).ok()?;
    let format = match doc.version {
        "rss20" => "RSS 2.0",
        "rss10" => "RSS 1.0",
        "rss090" => "RSS 0.90",
        "rss091u" => "RSS 0.91",
        "rss092" => "RSS 0.92",
        "rss093" => "RSS 0.93",
        "rss094" => "RSS 0.94",
        "atom10" | "atom" => "Atom",
        "atom03" => "Atom 0.3",
        "json1" => "JSON Feed 1.0",
        "json11" => "JSON Feed 1.1",
        _ => "RSS",
    };
    Some(Found {
        source_type: "feed",
        url: url.clone(),
        about: format!("{format} feed: {}", items_and_newest(&doc.items)),
        title,
        news: false,
    })
}

/// `12 items, newest 2026-11-30 09:15 UTC`.
fn items_and_newest(items: &[Item]) -> String {
    let count = match items.len() {
        1 => "1 item".to_owned(),
        n => format!("{n} items"),
    };
    match newest(items) {
        Some(t) => format!("{count}, newest {}", t.format("%Y-%m-%d %H:%M UTC")),
        None if items.is_empty() => count,
        None => format!("{count}, none dated"),
    }
}

fn newest(items: &[Item]) -> Option<DateTime<Utc>> {
    items.iter().filter_map(|i| i.published).max()
}

/// The `Sitemap:` lines of the site's robots.txt, absolute, each once.
async fn robots_sitemaps(http: &HttpClient, start: &Url) -> Vec<Url> {
    let robots = crate::http::robots::robots_url(start);
    // robots.txt itself is always fetched; a missing one names no sitemaps.
    let Ok(fetched) = http.fetch(Request::api_get(robots.clone())).await else {
        return Vec::new();
    };
    sitemap_lines(&String::from_utf8_lossy(&fetched.body), &robots)
}

/// The sitemaps a robots.txt names (`Sitemap: URL`, any case), each once.
pub fn sitemap_lines(robots_txt: &str, robots: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for line in robots_txt.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("sitemap") {
            continue;
        }
        if let Ok(url) = robots.join(value.trim()) {
            if matches!(url.scheme(), "http" | "https") && !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}

/// Reads a sitemap (robots.txt permitting): its URL count and newest date,
/// and whether it is a news sitemap. An index is described by its newest
/// child.
async fn read_sitemap(http: &HttpClient, url: &Url) -> Result<Found, String> {
    let (body, final_url) = fetch_text(http, url).await.map_err(|e| e.to_string())?;
    let parsed = sitemap::parse(&body, &final_url)
        .map_err(|e| format!("{url} is named by robots.txt but {e}"))?;
    let (about, news) = match parsed {
        sitemap::Sitemap::Urls(items) => describe_urls(&items),
        sitemap::Sitemap::Index(children) => {
            let count = match children.len() {
                1 => "1 sitemap".to_owned(),
                n => format!("{n} sitemaps"),
            };
            let newest = match children.first() {
                Some(child) => match fetch_text(http, child).await {
                    Ok((body, base)) => match sitemap::parse(&body, &base) {
                        Ok(sitemap::Sitemap::Urls(items)) => Some(describe_urls(&items)),
                        _ => None,
                    },
                    Err(_) => None,
                },
                None => None,
            };
            match newest {
                Some((about, news)) => (
                    format!("sitemap index of {count}; the newest is a {about}"),
                    news,
                ),
                None => (format!("sitemap index of {count}"), false),
            }
        }
    };
    Ok(Found {
        source_type: "sitemap",
        url: final_url,
        about,
        title: None,
        news,
    })
}

/// `news sitemap: 120 URLs, newest …`; news when its entries carry news titles.
fn describe_urls(items: &[Item]) -> (String, bool) {
    let news = items.iter().any(|i| !i.title.is_empty());
    let count = match items.len() {
        1 => "1 URL".to_owned(),
        n => format!("{n} URLs"),
    };
    let newest = match newest(items) {
        Some(t) => format!(", newest {}", t.format("%Y-%m-%d %H:%M UTC")),
        None if items.is_empty() => String::new(),
        None => ", none dated".to_owned(),
    };
    let kind = if news { "news sitemap" } else { "sitemap" };
    (format!("{kind}: {count}{newest}"), news)
}

/// The blocks for one site, names unique against `names`.
pub fn render(start: &Url, site: &Site, names: &mut Names, configured: &[(&str, &Url)]) -> String {
    let mut out = String::new();
    if let Some(why) = &site.unreachable {
        out.push_str(&comment(&format!("{start}: {why}")));
        out.push('\n');
        return out;
    }
    if site.found.is_empty() {
        out.push_str(&comment(&format!("Found no feeds or sitemaps at {start}.")));
        for note in &site.notes {
            out.push_str(&comment(note));
        }
        out.push('\n');
        return out;
    }
    out.push_str(&comment(&format!("Found at {start}:")));
    for note in &site.notes {
        out.push_str(&comment(note));
    }
    out.push('\n');
    let host = start.host_str().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    for f in &site.found {
        out.push_str(&comment(&f.about));
        if let Some((name, _)) = configured.iter().find(|(_, u)| **u == f.url) {
            out.push_str(&comment(&format!(
                "{} is already configured as source \"{name}\"",
                f.url
            )));
            out.push('\n');
            continue;
        }
        let wanted = match (&f.title, f.source_type) {
            (Some(title), _) if !slug(title).is_empty() => slug(title),
            (_, "sitemap") if f.news => format!("{}-news-sitemap", slug(host)),
            (_, "sitemap") => format!("{}-sitemap", slug(host)),
            _ => slug(host),
        };
        out.push_str(&source_block(
            &names.unique(&wanted),
            f.source_type,
            f.url.as_str(),
        ));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_feeds_are_read_from_the_head() {
        let base = Url::parse("https://www.example.org/politik/").unwrap();
        let page = r#"<!doctype html><html><head>
            <title> Beispiel-Zeitung –
              Politik </title>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="Beispiel-Zeitung – Politik" href="rss.xml">
            <link rel="alternate" type="application/atom+xml" href="https://www.example.org/atom.xml">
            <link rel="Alternate" type="application/feed+json; charset=utf-8" title="JSON" href="/feed.json">
            <link rel="alternate" hreflang="en" href="https://www.example.org/en/">
            <link rel="alternate" type="application/rss+xml" href="rss.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head><body></body></html>"#;
        let found = alternates(page, &base);
        assert_eq!(found.title.as_deref(), Some("Beispiel-Zeitung – Politik"));
        let feeds: Vec<(&str, Option<&str>)> = found
            .feeds
            .iter()
            .map(|(u, t)| (u.as_str(), t.as_deref()))
            .collect();
        assert_eq!(
            feeds,
            [
                (
                    "https://www.example.org/politik/rss.xml",
                    Some("Beispiel-Zeitung – Politik")
                ),
                ("https://www.example.org/atom.xml", None),
                ("https://www.example.org/feed.json", Some("JSON")),
            ]
        );
    }

    #[test]
    fn robots_txt_names_sitemaps() {
        let robots = Url::parse("https://www.example.org/robots.txt").unwrap();
        let text = "User-agent: *\nDisallow: /intern/\n\nSitemap: https://www.example.org/sitemap.xml\n\
                    sitemap:/news-sitemap.xml # news\nSITEMAP: https://www.example.org/sitemap.xml\nSitemap: ftp://x/y\n";
        let found: Vec<String> = sitemap_lines(text, &robots)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "https://www.example.org/sitemap.xml",
                "https://www.example.org/news-sitemap.xml"
            ]
        );
    }

    #[test]
    fn addresses_as_typed() {
        assert_eq!(
            start_url("www.example.org").unwrap().as_str(),
            "https://www.example.org/"
        );
        assert_eq!(
            start_url(" http://example.org/blog ").unwrap().as_str(),
            "http://example.org/blog"
        );
        assert!(start_url("mailto:a@example.org").is_err());
        assert_eq!(
            start_url("ftp://example.org").unwrap_err(),
            "\"ftp://example.org\" is not a web address; give one like https://www.example.org/"
        );
    }
}
