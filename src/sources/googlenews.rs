//! `googlenews` sources: Google News RSS search,
//! `/rss/search?q=…&hl=…&gl=…&ceid=…`, one request per crawl and at most one
//! a minute for the whole process.
//!
//! An item's link is an opaque `news.google.com/rss/articles/…` token that
//! no longer redirects to the article, and decoding it would need Google's
//! internal endpoints; it stays the link a person opens and the item's
//! identity. The publisher is the host of the item's `<source url>`, which
//! becomes the mention's host: the references count the publisher, and the
//! same-headline rule ties the item to the publisher's own article. The
//! title loses its ` - Publisher` suffix; an item has no text but its title.
//!
//! The search is an API call, not a crawl: robots.txt is not consulted.

use super::context::Context;
use super::paging::Harvest;
use super::{dates, Item, ParseError};
use crate::charset::strip_xml_encoding;
use crate::http::interval::Spacing;
use crate::http::{FetchError, Request};
use crate::query::Query;
use crate::text::collapse_ws;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;
use std::time::Duration;
use url::Url;

/// Requests to Google News from this process: one a minute.
pub static SPACING: Spacing = Spacing::new(Duration::from_secs(60));

/// Deepest element nesting read; an RSS item sits four levels deep.
const MAX_DEPTH: usize = 32;

/// What one search answer holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Items without a `<source url>`: no publisher to count them for.
    pub no_publisher: usize,
    /// Items without a link or a title.
    pub incomplete: usize,
}

/// The edition parameters: `hl` (interface language), `gl` (country) and
/// `ceid` (`COUNTRY:language`), as Google's own edition links write them
/// (`hl=de&gl=DE&ceid=DE:de`, `hl=en-US&gl=US&ceid=US:en`).
pub fn edition(language: &str, country: &str) -> [(&'static str, String); 3] {
    let language = language.to_ascii_lowercase();
    let country = country.to_ascii_uppercase();
    let hl = if language == "en" {
        format!("en-{country}")
    } else {
        language.clone()
    };
    [
        ("hl", hl),
        ("gl", country.clone()),
        ("ceid", format!("{country}:{language}")),
    ]
}

/// The search URL under `base` for `query` in one edition.
pub fn search_url(base: &Url, query: &str, language: &str, country: &str) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["rss", "search"]);
    }
    url.set_fragment(None);
    {
        let mut pairs = url.query_pairs_mut();
        pairs.clear().append_pair("q", query);
        for (key, value) in edition(language, country) {
            pairs.append_pair(key, &value);
        }
    }
    url
}

/// The search for a source's topics when it sets no `search`: each topic's
/// query in Google News syntax, several topics joined by OR. None when no
/// topic narrows the search.
pub fn default_search(queries: &[&Query]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for q in queries {
        // A topic that cannot narrow the search makes it take everything.
        let part = q.google_news()?;
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(
            parts
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(" OR "),
        ),
    }
}

/// `search` limited to the lookback with Google's `when:` operator
/// (`when:7d`, `when:12h`), unless it already says `when:`.
pub fn within_lookback(search: &str, lookback: Duration) -> String {
    if search.split_whitespace().any(|w| w.starts_with("when:")) {
        return search.to_owned();
    }
    let hours = lookback.as_secs().div_ceil(3600).max(1);
    let when = if hours.is_multiple_of(24) || hours > 72 {
        format!("when:{}d", hours.div_ceil(24))
    } else {
        format!("when:{hours}h")
    };
    format!("{search} {when}")
}

/// Fields of the `<item>` being read.
#[derive(Default)]
struct Entry {
    title: Option<String>,
    link: Option<String>,
    date: Option<String>,
    source_name: Option<String>,
    source_url: Option<String>,
}

/// Parses a Google News RSS answer. A document cut off after some items
/// keeps the items read so far; a document that is not RSS is an error.
pub fn parse(body: &str) -> Result<Page, ParseError> {
    let body = strip_xml_encoding(body);
    let mut reader = quick_xml::Reader::from_str(&body);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut entry: Option<Entry> = None;
    let mut channel_lang: Option<String> = None;
    let mut entries: Vec<Entry> = Vec::new();
    let mut rss = false;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                if rss && !entries.is_empty() {
                    break;
                }
                return Err(ParseError(collapse_ws(&format!(
                    "not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ))));
            }
        };
        match event {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_owned();
                if path.is_empty() {
                    if name != "rss" {
                        return Err(ParseError(format!(
                            "not an RSS feed: the root element is <{name}>"
                        )));
                    }
                    rss = true;
                }
                if path.len() >= MAX_DEPTH {
                    return Err(ParseError(format!(
                        "elements nested more than {MAX_DEPTH} deep"
                    )));
                }
                if name == "item" && path.len() == 2 {
                    entry = Some(Entry::default());
                }
                if let Some(e) = entry.as_mut() {
                    if name == "source" && path.len() == 3 {
                        e.source_url = attribute(&start, "url");
                    }
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(start) => {
                if path.is_empty() {
                    return Err(ParseError(format!(
                        "not an RSS feed: the root element is <{}/>",
                        start.local_name().as_ref()
                    )));
                }
                if let Some(e) = entry.as_mut() {
                    if start.local_name().as_ref() == "source" && path.len() == 3 {
                        e.source_url = attribute(&start, "url");
                    }
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(c) => text.push_str(&c.xml10_content()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) = resolve_predefined_entity(&r) {
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                let value = collapse_ws(&text);
                text.clear();
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                match names.as_slice() {
                    [_, "channel", "language"] => channel_lang = Some(value),
                    [_, "channel", "item"] => entries.extend(entry.take()),
                    [_, "channel", "item", field] => {
                        if let Some(e) = entry.as_mut() {
                            let slot = match *field {
                                "title" => &mut e.title,
                                "link" => &mut e.link,
                                "pubDate" => &mut e.date,
                                "source" => &mut e.source_name,
                                _ => &mut None,
                            };
                            if slot.is_none() && !value.is_empty() {
                                *slot = Some(value);
                            }
                        }
                    }
                    _ => {}
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !rss {
        return Err(ParseError("not an RSS feed: the document is empty".into()));
    }
    let lang = channel_lang.as_deref().and_then(super::feed::iso_639_1);
    let mut page = Page::default();
    for e in entries {
        let (Some(title), Some(link)) = (e.title, e.link.as_deref().and_then(http_url)) else {
            page.incomplete += 1;
            continue;
        };
        let Some(publisher) = e.source_url.as_deref().and_then(http_url) else {
            page.no_publisher += 1;
            continue;
        };
        let publisher = crate::canon::host(&publisher);
        let date = e.date.as_deref();
        let published = date.and_then(dates::parse_date);
        page.items.push(Item {
            url: Some(link.to_string()),
            platform_id: None,
            title: strip_publisher(&title, e.source_name.as_deref()),
            text: String::new(),
            author: None,
            published,
            lang: lang.clone(),
            unread_date: date.filter(|_| published.is_none()).map(str::to_owned),
            publisher: Some(publisher),
            parsed_url: Default::default(),
        });
    }
    Ok(page)
}

/// The value of attribute `name`, unescaped.
fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    let attr = start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)?;
    let value = attr
        .normalized_value(XmlVersion::Implicit1_0)
        .map(|v| v.into_owned())
        .unwrap_or_else(|_| attr.value.clone().into_owned());
    Some(value.trim().to_owned())
}

/// An absolute http(s) URL with a host.
fn http_url(s: &str) -> Option<Url> {
    let url = Url::parse(s.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(url)
}

/// The headline without the ` - Publisher` Google appends to it.
pub fn strip_publisher(title: &str, publisher: Option<&str>) -> String {
    let title = title.trim();
    if let Some(name) = publisher.map(str::trim).filter(|n| !n.is_empty()) {
        for dash in [" - ", " – ", " — "] {
            if let Some(head) = title.strip_suffix(name).and_then(|t| t.strip_suffix(dash)) {
                if !head.trim().is_empty() {
                    return head.trim_end().to_owned();
                }
            }
        }
    }
    title.to_owned()
}

/// Reads one search: the source's search (or its topics' queries), within
/// the lookback, in the edition `language`/`country`, after waiting for
/// this process's turn at `spacing`.
pub async fn read(
    ctx: &Context<'_>,
    base: &Url,
    language: &str,
    country: &str,
    spacing: &Spacing,
) -> Harvest {
    let Some(search) = ctx.search_terms.first() else {
        return failed(
            "nothing to search for: set search for this source or give its topics a term that is not under NOT",
        );
    };
    let url = search_url(
        base,
        &within_lookback(search, ctx.lookback),
        language,
        country,
    );
    spacing.wait().await;
    let mut fetched = match ctx.fetch(Request::api_get(url.clone())).await {
        Ok(f) => f,
        Err(FetchError::Status { status: 429, url }) => {
            spacing.back_off(spacing.gap()).await;
            return failed(&format!(
                "{url} answered HTTP 429 (too many requests) after every retry; this process asks Google News again in a minute at the earliest"
            ));
        }
        Err(e) => return failed(&e.to_string()),
    };
    let body = fetched.take_text();
    match parse(&body) {
        Ok(page) => {
            let mut warnings = Vec::new();
            if page.no_publisher > 0 {
                warnings.push(format!(
                    "{} items without a <source url> skipped (no publisher to count them for)",
                    page.no_publisher
                ));
            }
            if page.incomplete > 0 {
                warnings.push(format!(
                    "{} items without a title or link skipped",
                    page.incomplete
                ));
            }
            Harvest {
                items: page.items,
                warnings,
                ..Harvest::default()
            }
        }
        Err(e) => failed(&format!(
            "{url}: not a Google News feed ({e}); it begins {}",
            crate::text::quote(first_line(&body))
        )),
    }
}

/// The first line of a document with something on it.
pub fn first_line(body: &str) -> &str {
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

fn failed(message: &str) -> Harvest {
    Harvest {
        error: Some(message.to_owned()),
        ..Harvest::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::serve;
    use crate::sources::context::testing::{self, nothing_known};
    use crate::sources::context::KnownFn;
    use axum::extract::{Query as Params, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use chrono::{DateTime, Utc};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/googlenews/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn items_name_their_publisher_and_lose_its_name_from_the_title() {
        let page = parse(&fixture("search.xml")).unwrap();
        assert_eq!(page.no_publisher, 1);
        assert_eq!(page.incomplete, 0);
        let shown: Vec<(&str, &str, Option<&str>)> = page
            .items
            .iter()
            .map(|i| {
                (
                    i.title.as_str(),
                    i.publisher.as_deref().unwrap(),
                    i.url.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "Nordkorea schickt weitere Soldaten nach Russland",
                    "www.sueddeutsche.de",
                    Some("https://news.google.com/rss/articles/CBMiX2h0dHBzOi8vd3d3LnN1ZWRkZXV0c2NoZS5kZS9wb2xpdGlrL25vcmRrb3JlYS1ydXNzbGFuZC1zb2xkYXRlbi0xLjcxMjM0NTbSAQA?oc=5")
                ),
                (
                    "Kim und Putin: Was hinter dem Pakt steckt",
                    "www.tagesschau.de",
                    Some("https://news.google.com/rss/articles/CBMiTmh0dHBzOi8vd3d3LnRhZ2Vzc2NoYXUuZGUvYXVzbGFuZC9raW0tcHV0aW4tcGFrdC0xMDAuaHRtbNIBAA?oc=5")
                ),
                (
                    "Russland - Nordkorea: Truppen an der Front - ein Überblick",
                    "www.merkur.de",
                    Some("https://news.google.com/rss/articles/CBMiRWh0dHBzOi8vd3d3Lm1lcmt1ci5kZS9wb2xpdGlrL25vcmRrb3JlYS10cnVwcGVuLWZyb250LTkzMjEwLmh0bWzSAQA?oc=5")
                ),
                (
                    "North Korean troops in Kursk, Kyiv says",
                    "apnews.com",
                    Some("https://news.google.com/rss/articles/CBMiQmh0dHBzOi8vYXBuZXdzLmNvbS9hcnRpY2xlL25vcnRoLWtvcmVhLXJ1c3NpYS10cm9vcHMta3Vyc2stMTIzNDXSAQA?oc=5")
                ),
            ]
        );
        let first = &page.items[0];
        assert_eq!(first.published, at("2026-11-30T09:12:00Z"));
        assert_eq!(first.lang.as_deref(), Some("de"));
        assert_eq!(first.text, "");
        assert_eq!(first.platform_id, None);
    }

    #[test]
    fn a_page_that_is_not_rss_is_an_error_naming_it() {
        let e = parse("<!doctype html><html><body>Before you continue to Google</body></html>")
            .unwrap_err();
        assert!(
            e.0.starts_with("not well-formed XML") || e.0.contains("<html>"),
            "{e}"
        );
        let e = parse("<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>").unwrap_err();
        assert_eq!(e.0, "not an RSS feed: the root element is <feed>");
        assert!(parse("").is_err());
        // An empty answer is an empty search, not an error.
        let empty = parse(
            "<rss version=\"2.0\"><channel><title>\"x\" - Google News</title></channel></rss>",
        )
        .unwrap();
        assert_eq!(empty, Page::default());
    }

    #[test]
    fn titles_lose_only_their_own_publisher() {
        assert_eq!(
            strip_publisher("Krieg - Frieden - DER SPIEGEL", Some("DER SPIEGEL")),
            "Krieg - Frieden"
        );
        assert_eq!(
            strip_publisher("Nur ein Titel", Some("FAZ")),
            "Nur ein Titel"
        );
        assert_eq!(strip_publisher(" - FAZ", Some("FAZ")), "- FAZ");
        assert_eq!(strip_publisher("Titel - FAZ", None), "Titel - FAZ");
    }

    #[test]
    fn editions_and_urls() {
        let base = Url::parse("https://news.google.com").unwrap();
        assert_eq!(
            search_url(&base, "nordkorea -fußball when:7d", "de", "DE").as_str(),
            "https://news.google.com/rss/search?q=nordkorea+-fu%C3%9Fball+when%3A7d&hl=de&gl=DE&ceid=DE%3Ade"
        );
        assert_eq!(
            search_url(&base, "\"north korea\"", "en", "us").as_str(),
            "https://news.google.com/rss/search?q=%22north+korea%22&hl=en-US&gl=US&ceid=US%3Aen"
        );
        assert_eq!(
            within_lookback("kursk", Duration::from_secs(7 * 86_400)),
            "kursk when:7d"
        );
        assert_eq!(
            within_lookback("kursk", Duration::from_secs(90 * 60)),
            "kursk when:2h"
        );
        assert_eq!(
            within_lookback("kursk", Duration::from_secs(100 * 3600)),
            "kursk when:5d"
        );
        assert_eq!(
            within_lookback("kursk when:1d", Duration::ZERO),
            "kursk when:1d"
        );
    }

    #[test]
    fn topics_are_joined_by_or() {
        let a = Query::parse("nordkorea* AND russland").unwrap();
        let b = Query::parse("\"north korea\" NOT sport").unwrap();
        assert_eq!(default_search(&[&a]).as_deref(), Some("nordkorea russland"));
        assert_eq!(
            default_search(&[&a, &b, &a]).as_deref(),
            Some("(nordkorea russland) OR (\"north korea\" -sport)")
        );
        let open = Query::parse("NOT (a AND b)").unwrap();
        assert_eq!(default_search(&[&a, &open]), None);
    }

    type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

    /// A Google News stand-in: `/rss/search` answers `status` with `body`.
    async fn google(status: StatusCode, body: String) -> (Url, Seen) {
        let seen: Seen = Arc::default();
        let app = Router::new()
            .route(
                "/rss/search",
                get(
                    move |State(seen): State<Seen>, Params(q): Params<HashMap<String, String>>| {
                        let body = body.clone();
                        async move {
                            seen.lock().unwrap().push(q);
                            let mut r: Response = body.into_response();
                            *r.status_mut() = status;
                            r
                        }
                    },
                ),
            )
            .with_state(seen.clone());
        let addr = serve(app).await;
        (Url::parse(&format!("http://{addr}")).unwrap(), seen)
    }

    #[tokio::test]
    async fn one_request_brings_every_item_of_the_edition() {
        let (base, seen) = google(StatusCode::OK, fixture("search.xml")).await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(
            &http,
            known,
            "gn",
            &["(nordkorea OR \"north korea\") russland"],
            7,
        );
        let spacing = Spacing::new(Duration::from_millis(10));
        let harvest = read(&ctx, &base, "de", "DE", &spacing).await;
        assert_eq!(harvest.error, None);
        assert_eq!(harvest.items.len(), 4);
        assert_eq!(
            harvest.warnings,
            ["1 items without a <source url> skipped (no publisher to count them for)"]
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "one request per crawl");
        assert_eq!(
            seen[0]["q"],
            "(nordkorea OR \"north korea\") russland when:7d"
        );
        assert_eq!(
            (
                seen[0]["hl"].as_str(),
                seen[0]["gl"].as_str(),
                seen[0]["ceid"].as_str()
            ),
            ("de", "DE", "DE:de")
        );
    }

    #[tokio::test]
    async fn too_many_requests_pushes_the_next_request_back() {
        let (base, seen) = google(StatusCode::TOO_MANY_REQUESTS, "slow down".into()).await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(&http, known, "gn", &["kursk"], 7);
        let spacing = Spacing::new(Duration::from_secs(60));
        let harvest = read(&ctx, &base, "en", "US", &spacing).await;
        let error = harvest.error.unwrap();
        assert!(error.contains("HTTP 429"), "{error}");
        assert!(error.contains("in a minute"), "{error}");
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(spacing.wait_now().await > Duration::from_secs(55));
    }

    #[tokio::test]
    async fn a_consent_page_is_an_error_quoting_its_first_line() {
        let page = "\n<!DOCTYPE html>\n<html lang=\"de\"><head><title>Bevor Sie zu Google weitergehen</title></head><body></body></html>";
        let (base, _) = google(StatusCode::OK, page.into()).await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(&http, known, "gn", &["kursk"], 7);
        let harvest = read(&ctx, &base, "de", "DE", &Spacing::new(Duration::ZERO)).await;
        let error = harvest.error.unwrap();
        assert!(error.contains("not a Google News feed"), "{error}");
        assert!(error.ends_with("it begins \"<!DOCTYPE html>\""), "{error}");
        assert!(harvest.items.is_empty());
    }

    #[tokio::test]
    async fn no_search_no_request() {
        let (base, seen) = google(StatusCode::OK, fixture("search.xml")).await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(&http, known, "gn", &[], 7);
        let harvest = read(&ctx, &base, "de", "DE", &Spacing::new(Duration::ZERO)).await;
        assert!(harvest.error.unwrap().starts_with("nothing to search for"));
        assert!(seen.lock().unwrap().is_empty());
    }
}
