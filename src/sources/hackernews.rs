//! `hackernews` sources: the Algolia API `/api/v1/search_by_date` for
//! stories and comments. Algolia's query syntax has no `OR` (all words must
//! match; `optionalWords` only relaxes ranking and tightens again past 1,000
//! hits), so each search term runs as its own search, paged by `page` until
//! `nbPages`, newer than the lookback through `numericFilters`.

use super::context::Context;
use super::paging::{Harvest, Listing, Page as Paged, Pager};
use super::{dates, Item};
use crate::http::Request;
use crate::text::{collapse_ws, html_to_text};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

/// Where an item lives on Hacker News itself, whatever API host is configured.
const ITEM_URL: &str = "https://news.ycombinator.com/item?id=";

/// Algolia's largest page.
const HITS_PER_PAGE: u32 = 100;

/// One page of a search, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// `nbPages`: how many pages the search has in all.
    pub pages: u32,
}

/// One hit; every field optional so an odd hit is skipped, not the page.
#[derive(Debug, Deserialize)]
struct Hit {
    #[serde(rename = "objectID")]
    object_id: Option<String>,
    created_at: Option<String>,
    created_at_i: Option<i64>,
    title: Option<String>,
    story_text: Option<String>,
    comment_text: Option<String>,
    author: Option<String>,
}

/// Parses a `search_by_date` answer: stories and comments as items (text
/// from `comment_text` or `story_text` HTML; a comment's title is its
/// story's), and `nbPages`.
pub fn parse(body: &[u8]) -> Result<Page, String> {
    let root: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let hits = root
        .get("hits")
        .and_then(|h| h.as_array())
        .ok_or("no \"hits\" list")?;
    let items = hits
        .iter()
        .filter_map(|h| Hit::deserialize(h).ok())
        .filter_map(hit_to_item)
        .collect();
    let pages = root
        .get("nbPages")
        .and_then(|n| n.as_u64())
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
    Ok(Page { items, pages })
}

fn hit_to_item(hit: Hit) -> Option<Item> {
    let id = hit.object_id.filter(|id| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })?;
    // A comment is matched on its own words: its story's title would make
    // every off-topic reply in a thread a mention.
    let is_comment = hit.comment_text.is_some();
    let title = hit
        .title
        .filter(|t| !t.trim().is_empty() && !is_comment)
        .map(|t| collapse_ws(&t))
        .unwrap_or_default();
    let text = hit
        .comment_text
        .or(hit.story_text)
        .map(|t| html_to_text(&t))
        .unwrap_or_default();
    let published = hit
        .created_at_i
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .or_else(|| hit.created_at.as_deref().and_then(dates::parse_date));
    Some(Item {
        url: Some(format!("{ITEM_URL}{id}")),
        platform_id: Some(format!("hn:{id}")),
        title,
        text,
        author: hit.author.filter(|a| !a.is_empty()),
        published,
        lang: None,
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
    })
}

/// The search URL for one term and page, for hits created after `since`
/// (unix seconds).
pub fn search_url(base: &Url, term: &str, page: u32, since: i64) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend(["api", "v1", "search_by_date"]);
    }
    url.set_fragment(None);
    url.query_pairs_mut()
        .clear()
        .append_pair("query", term)
        .append_pair("tags", "(story,comment)")
        .append_pair("hitsPerPage", &HITS_PER_PAGE.to_string())
        .append_pair("page", &page.to_string())
        .append_pair("numericFilters", &format!("created_at_i>{since}"));
    url
}

/// One term's search, paged by page number (from 0).
struct Search<'s> {
    base: &'s Url,
    term: &'s str,
    /// Unix seconds: only hits created after this.
    since: i64,
}

impl Listing for Search<'_> {
    type Cursor = u32;
    type Error = String;

    async fn page(&mut self, ctx: &Context<'_>, page_no: &u32) -> Result<Paged<u32>, String> {
        let endpoint = search_url(self.base, self.term, *page_no, self.since);
        let fetched = ctx
            .fetch(Request::api_get(endpoint.clone()))
            .await
            .map_err(|e| e.to_string())?;
        let page = parse(&fetched.body)
            .map_err(|e| format!("{endpoint}: not a Hacker News search answer ({e})"))?;
        let next = (page_no + 1 < page.pages).then_some(page_no + 1);
        Ok(Paged::new(page.items, next).with_headers(fetched.headers))
    }
}

pub async fn read(ctx: &Context<'_>, url: &Url) -> Harvest {
    if ctx.search_terms.is_empty() {
        return Harvest {
            error: Some(
                "nothing to search for: set search for this source or give its topics a positive term"
                    .to_owned(),
            ),
            ..Harvest::default()
        };
    }
    let since = chrono::Duration::from_std(ctx.lookback)
        .ok()
        .and_then(|d| ctx.now.checked_sub_signed(d))
        .map_or(0, |t| t.timestamp().max(0));
    let mut pager = Pager::new(ctx);
    let mut error = None;
    for term in &ctx.search_terms {
        let mut search = Search {
            base: url,
            term,
            since,
        };
        if let Err(e) = pager.run(&mut search, 0).await {
            error = Some(e);
            break;
        }
    }
    Harvest {
        error,
        ..pager.into_harvest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::serve;
    use crate::http::HttpClient;
    use crate::sources::context::testing::{self, all_known, nothing_known};
    use crate::sources::context::KnownFn;
    use axum::extract::{Query, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/hackernews/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn parses_stories_and_comments_with_hn_html() {
        let page = parse(&fixture("search_page0.json")).unwrap();
        assert_eq!(page.pages, 2);
        assert_eq!(
            page.items,
            vec![
                Item {
                    url: Some("https://news.ycombinator.com/item?id=46012705".into()),
                    platform_id: Some("hn:46012705".into()),
                    title: String::new(),
                    text: "I\'m not sure the satellite imagery shows that. North Korea has been shipping shells to Russia for a year: https://www.example.com/report".into(),
                    author: Some("tptacek_fan".into()),
                    published: at("2026-11-25T09:14:52Z"),
                    lang: None,
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
                Item {
                    url: Some("https://news.ycombinator.com/item?id=46012310".into()),
                    platform_id: Some("hn:46012310".into()),
                    title: "Pentagon: North Korea has deployed troops to Kursk".into(),
                    text: String::new(),
                    author: Some("dang_watch".into()),
                    published: at("2026-11-25T08:03:11Z"),
                    lang: None,
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
                Item {
                    url: Some("https://news.ycombinator.com/item?id=46012187".into()),
                    platform_id: Some("hn:46012187".into()),
                    title: String::new(),
                    text: "Most of them run on Red Star OS, which is a Fedora fork.".into(),
                    author: Some("osdever".into()),
                    published: at("2026-11-25T07:40:05Z"),
                    lang: None,
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
                Item {
                    url: Some("https://news.ycombinator.com/item?id=46009876".into()),
                    platform_id: Some("hn:46009876".into()),
                    title: "Ask HN: Good sources on North Korea's economy?".into(),
                    text: "Looking for reliable data on trade with China & Russia since 2022. Anything beyond the usual think-tank PDFs?".into(),
                    author: Some("econ_reader".into()),
                    published: at("2026-11-24T23:58:30Z"),
                    lang: None,
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
            ]
        );
    }

    #[test]
    fn odd_hits_are_skipped_and_garbage_is_an_error() {
        let body = br#"{"hits": [
            {"objectID": 123, "title": "number id"},
            {"title": "no id", "created_at_i": 1795593791},
            {"objectID": "../evil", "title": "path in id"},
            {"objectID": "77", "title": null, "story_title": null, "comment_text": null,
             "created_at": "2026-11-25T08:00:00.000Z", "created_at_i": "soon"},
            {"objectID": "78", "created_at": "2026-11-25T08:00:00.000Z", "title": "  ",
             "story_title": "Parent", "author": ""},
            "not an object"
        ], "nbPages": "two"}"#;
        let page = parse(body).unwrap();
        assert_eq!(page.pages, 0);
        assert_eq!(
            page.items,
            vec![Item {
                url: Some("https://news.ycombinator.com/item?id=78".into()),
                platform_id: Some("hn:78".into()),
                title: String::new(),
                text: String::new(),
                author: None,
                published: at("2026-11-25T08:00:00Z"),
                lang: None,
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }]
        );
        assert!(parse(b"<html>rate limited</html>").is_err());
        assert!(parse(br#"{"message": "nope"}"#).is_err());
    }

    #[test]
    fn search_url_has_every_parameter() {
        let base = Url::parse("https://hn.algolia.com").unwrap();
        assert_eq!(
            search_url(&base, "\"north korea\"", 3, 1795003200).as_str(),
            "https://hn.algolia.com/api/v1/search_by_date?query=%22north+korea%22&tags=%28story%2Ccomment%29&hitsPerPage=100&page=3&numericFilters=created_at_i%3E1795003200"
        );
        let prefixed = Url::parse("http://127.0.0.1:9/hn/").unwrap();
        assert_eq!(
            search_url(&prefixed, "kursk", 0, 0).path(),
            "/hn/api/v1/search_by_date"
        );
    }

    /// Requests the server saw: (query, page, numericFilters).
    type Log = Arc<Mutex<Vec<(String, u32, String)>>>;

    /// Serves the two fixture pages for `"north korea"` and an empty result
    /// for other queries, after checking the fixed parameters.
    async fn server() -> (Url, Log) {
        let log: Log = Arc::default();
        let app = Router::new()
            .route(
                "/api/v1/search_by_date",
                get(
                    |State(log): State<Log>, Query(q): Query<HashMap<String, String>>| async move {
                        let fixed = q.get("tags").map(String::as_str) == Some("(story,comment)")
                            && q.get("hitsPerPage").map(String::as_str) == Some("100");
                        if !fixed {
                            return (StatusCode::BAD_REQUEST, format!("{q:?}")).into_response();
                        }
                        let query = q.get("query").cloned().unwrap_or_default();
                        let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(99);
                        let filter = q.get("numericFilters").cloned().unwrap_or_default();
                        log.lock().unwrap().push((query.clone(), page, filter));
                        let body = match (query.as_str(), page) {
                            ("\"north korea\"", 0) => fixture("search_page0.json"),
                            ("\"north korea\"", 1) => fixture("search_page1.json"),
                            (_, 0) => {
                                br#"{"hits":[],"nbHits":0,"nbPages":0,"page":0,"hitsPerPage":100}"#
                                    .to_vec()
                            }
                            _ => return StatusCode::NOT_FOUND.into_response(),
                        };
                        Response::builder()
                            .header("content-type", "application/json; charset=utf-8")
                            .body(axum::body::Body::from(body))
                            .unwrap()
                    },
                ),
            )
            .with_state(log.clone());
        let addr = serve(app).await;
        (Url::parse(&format!("http://{addr}")).unwrap(), log)
    }

    fn client() -> HttpClient {
        testing::client(0)
    }

    fn context<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, terms: &[&str]) -> Context<'a> {
        testing::context(http, known, "hn", terms, 7)
    }

    fn ids(h: &Harvest) -> Vec<&str> {
        h.items
            .iter()
            .filter_map(|i| i.platform_id.as_deref())
            .collect()
    }

    #[tokio::test]
    async fn pages_until_nb_pages_and_searches_each_term() {
        let (url, log) = server().await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea", "\"north korea\""]);
        let h = read(&ctx, &url).await;
        assert_eq!(h.error, None);
        assert_eq!(h.cursor, None);
        // The comment repeated on page 1 comes back once.
        assert_eq!(
            ids(&h),
            [
                "hn:46012705",
                "hn:46012310",
                "hn:46012187",
                "hn:46009876",
                "hn:46008511"
            ]
        );
        let since = "created_at_i>1795003200".to_owned();
        assert_eq!(
            *log.lock().unwrap(),
            [
                ("nordkorea".to_owned(), 0, since.clone()),
                ("\"north korea\"".to_owned(), 0, since.clone()),
                ("\"north korea\"".to_owned(), 1, since)
            ]
        );
    }

    #[tokio::test]
    async fn stops_at_max_pages_and_at_a_page_with_nothing_new() {
        let (url, log) = server().await;
        let http = client();
        let mut ctx = context(&http, &nothing_known, &["\"north korea\""]);
        ctx.max_pages = 1;
        let h = read(&ctx, &url).await;
        assert_eq!(h.items.len(), 4);
        assert_eq!(log.lock().unwrap().len(), 1);

        log.lock().unwrap().clear();
        let ctx = context(&http, &all_known, &["\"north korea\""]);
        let h = read(&ctx, &url).await;
        assert_eq!(h.items.len(), 4);
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn stops_at_a_page_past_the_lookback() {
        let (url, log) = server().await;
        let http = client();
        let mut ctx = context(&http, &nothing_known, &["\"north korea\""]);
        // At noon, page 0's newest hit (09:14:52) is older than one hour.
        ctx.lookback = Duration::from_secs(3600);
        let h = read(&ctx, &url).await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 4);
        assert_eq!(
            *log.lock().unwrap(),
            [(
                "\"north korea\"".to_owned(),
                0,
                "created_at_i>1795604400".to_owned()
            )]
        );
    }

    #[tokio::test]
    async fn a_failing_server_is_an_error_with_what_was_read() {
        let app = Router::new().route(
            "/api/v1/search_by_date",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                match q.get("page").map(String::as_str) {
                    Some("0") => Response::builder()
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(fixture("search_page0.json")))
                        .unwrap(),
                    _ => (StatusCode::FORBIDDEN, "blocked").into_response(),
                }
            }),
        );
        let url = Url::parse(&format!("http://{}/", serve(app).await)).unwrap();
        let http = client();
        let ctx = context(&http, &nothing_known, &["\"north korea\"", "kursk"]);
        let h = read(&ctx, &url).await;
        assert_eq!(h.items.len(), 4);
        let e = h.error.unwrap();
        assert!(
            e.contains("answered HTTP 403") && e.contains("page=1"),
            "{e}"
        );

        let app = Router::new().route(
            "/api/v1/search_by_date",
            get(|| async { "<html>maintenance</html>" }),
        );
        let url = Url::parse(&format!("http://{}/", serve(app).await)).unwrap();
        let h = read(&ctx, &url).await;
        assert!(h.items.is_empty());
        assert!(h
            .error
            .unwrap()
            .contains("not a Hacker News search answer (not JSON"),);

        let none = context(&http, &nothing_known, &[]);
        assert!(read(&none, &url)
            .await
            .error
            .unwrap()
            .starts_with("nothing to search for"));
    }
}
