//! `discourse` sources: full-page search `GET {url}/search.json?q=…&page=N`.
//!
//! Discourse search has no `OR`: every search term runs as its own search,
//! with `order:latest` added so pages go from new to old and the lookback
//! rule can stop paging. Pages follow while
//! `grouped_search_result.more_full_page_results` is set (Discourse serves
//! at most 10). A result post is joined to its topic by `topic_id`: its
//! title is the topic's title, its text the `blurb` (an excerpt with HTML
//! entities and `search-highlight` markup, turned into plain text), so a
//! topic query matches on title + blurb. A post's `created_at` is read
//! against the fetch time in `[crawler] timezone`; one that cannot be read
//! is kept as the item's `unread_date`. Identity `discourse:` + host
//! (with a non-default port) + `/` + post id; link
//! `{url}/t/{slug}/{topic_id}/{post_number}`.

use super::context::Context;
use super::paging::{Harvest, Listing, Page as Paged, Pager, RateLimited};
use super::{dates, Item, ParseError};
use crate::http::{FetchError, Request};
use crate::text::{collapse_ws, html_to_text};
use serde::Deserialize;
use std::collections::HashMap;
use url::Url;

/// Discourse refuses `page` above this.
const MAX_PAGE: u32 = 10;

pub async fn read(ctx: &Context<'_>, url: &Url) -> Harvest {
    let forum = Forum::new(url);
    let mut pager = Pager::new(ctx);
    let mut error = None;
    for term in ctx
        .search_terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        let mut search = Search {
            forum: &forum,
            term,
            query: format!("{term} order:latest"),
        };
        match pager.run(&mut search, 1).await {
            Ok(_) => {}
            // A term this forum refuses (too short, say) does not stop the others.
            Err(Failure::Term(e)) => {
                error.get_or_insert(e);
            }
            Err(Failure::Fatal(e)) => {
                error.get_or_insert(e);
                break;
            }
            Err(Failure::RateLimited(e)) => {
                error = Some(e);
                break;
            }
        }
    }
    Harvest {
        error,
        ..pager.into_harvest()
    }
}

/// Why one term's search ended early.
enum Failure {
    /// This term only; the next term is still asked.
    Term(String),
    /// The forum is failing; no further term is asked.
    Fatal(String),
    RateLimited(String),
}

impl From<RateLimited> for Failure {
    fn from(r: RateLimited) -> Failure {
        Failure::RateLimited(r.0)
    }
}

/// One term's search, paged by page number (from 1).
struct Search<'f> {
    forum: &'f Forum,
    term: &'f str,
    query: String,
}

impl Listing for Search<'_> {
    type Cursor = u32;
    type Error = Failure;

    /// Discourse refuses `page` above `MAX_PAGE`.
    fn max_pages(&self, configured: u32) -> u32 {
        configured.clamp(1, MAX_PAGE)
    }

    async fn page(&mut self, ctx: &Context<'_>, page_no: &u32) -> Result<Paged<u32>, Failure> {
        let Some(url) = self.forum.search_url(&self.query, *page_no) else {
            return Err(Failure::Fatal(format!(
                "{} cannot take a search path",
                self.forum.base
            )));
        };
        let fetched = match ctx.fetch(Request::api_get(url)).await {
            Ok(f) => f,
            Err(e) => {
                let sentence = sentence(&e, self.term);
                return Err(match e {
                    FetchError::Status { status, .. }
                        if (400..500).contains(&status) && status != 429 =>
                    {
                        Failure::Term(sentence)
                    }
                    _ => Failure::Fatal(sentence),
                });
            }
        };
        let page = parse_search(&fetched.body, self.forum, &ctx.date_context())
            .map_err(|e| Failure::Term(format!("search for {}: {e}", self.term)))?;
        let next = page.more.then_some(page_no + 1);
        Ok(Paged::new(page.items, next).with_headers(fetched.headers))
    }
}

fn sentence(e: &FetchError, term: &str) -> String {
    match e {
        FetchError::Status { status, .. } => {
            format!("the search for {term} answered HTTP {status}")
        }
        e => format!("the search for {term}: {e}"),
    }
}

/// Where a forum lives and how its posts are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forum {
    /// `url` without a trailing `/`, query or fragment.
    base: String,
    /// Host, with the port when it is not the default one.
    host: String,
}

impl Forum {
    pub fn new(url: &Url) -> Forum {
        let mut clean = url.clone();
        clean.set_query(None);
        clean.set_fragment(None);
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{}:{p}", h.to_ascii_lowercase()),
            (Some(h), None) => h.to_ascii_lowercase(),
            (None, _) => String::new(),
        };
        Forum {
            base: clean.as_str().trim_end_matches('/').to_owned(),
            host,
        }
    }

    /// One page of the full-page search.
    pub fn search_url(&self, query: &str, page: u32) -> Option<Url> {
        let mut url = Url::parse(&format!("{}/search.json", self.base)).ok()?;
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("page", &page.to_string());
        Some(url)
    }
}

/// One page of search results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Whether Discourse has another page.
    pub more: bool,
}

#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    posts: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    topics: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    grouped_search_result: Option<Grouped>,
    /// Discourse's error shape (`{"errors": [...]}`).
    #[serde(default)]
    errors: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Grouped {
    more_full_page_results: serde_json::Value,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Post {
    id: u64,
    topic_id: u64,
    #[serde(default)]
    post_number: Option<u64>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    blurb: Option<String>,
    #[serde(default)]
    topic_title_headline: Option<String>,
}

#[derive(Deserialize)]
struct Topic {
    id: u64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    slug: Option<String>,
}

/// Reads one `search.json` answer, its dates against `dates` (the fetch
/// time and the configured timezone).
pub fn parse_search(
    body: &[u8],
    forum: &Forum,
    dates: &dates::DateContext,
) -> Result<Page, ParseError> {
    let answer: SearchAnswer = serde_json::from_slice(body)
        .map_err(|e| ParseError(format!("the answer is not Discourse search JSON: {e}")))?;
    if let Some(errors) = answer.errors.filter(|e| !e.is_empty()) {
        let text: Vec<String> = errors
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect();
        return Err(ParseError(format!(
            "Discourse answered: {}",
            text.join("; ")
        )));
    }
    let grouped = answer.grouped_search_result.unwrap_or_default();
    if let Some(error) = grouped.error.filter(|e| !e.is_empty()) {
        return Err(ParseError(format!("Discourse answered: {error}")));
    }
    let topics: HashMap<u64, Topic> = answer
        .topics
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| serde_json::from_value::<Topic>(t).ok())
        .map(|t| (t.id, t))
        .collect();
    let items = answer
        .posts
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| serde_json::from_value::<Post>(p).ok())
        .map(|p| item(p, &topics, forum, dates))
        .collect();
    // `true` when there is more; older versions and some plugins send a non-empty string.
    let more = match &grouped.more_full_page_results {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => !s.is_empty(),
        _ => false,
    };
    Ok(Page { items, more })
}

fn item(
    post: Post,
    topics: &HashMap<u64, Topic>,
    forum: &Forum,
    dates: &dates::DateContext,
) -> Item {
    let topic = topics.get(&post.topic_id);
    let title = topic
        .and_then(|t| t.title.as_deref())
        .map(collapse_ws)
        .or_else(|| post.topic_title_headline.as_deref().map(html_to_text))
        .unwrap_or_default();
    let slug = topic.and_then(|t| t.slug.as_deref()).filter(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'%')
    });
    let number = post.post_number.unwrap_or(1);
    let url = match slug {
        Some(slug) => format!("{}/t/{slug}/{}/{number}", forum.base, post.topic_id),
        None => format!("{}/t/{}/{number}", forum.base, post.topic_id),
    };
    let created = post
        .created_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let published = created.and_then(|s| dates::parse_date_in(s, dates));
    Item {
        url: Some(url),
        platform_id: Some(format!("discourse:{}/{}", forum.host, post.id)),
        title,
        text: post.blurb.as_deref().map(html_to_text).unwrap_or_default(),
        author: post.username.filter(|u| !u.is_empty()),
        published,
        lang: None,
        unread_date: created.filter(|_| published.is_none()).map(str::to_owned),
        publisher: None,
        parsed_url: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpClient;
    use crate::sources::context::testing::{self, all_known, nothing_known};
    use crate::sources::context::KnownFn;
    use crate::sources::reddit::stub::{json, serve, Reply, Seen};
    use chrono::{TimeZone, Utc};
    use std::time::Duration;

    const NK1: &str = include_str!("../../tests/fixtures/discourse/search-nordkorea-p1.json");
    const NK2: &str = include_str!("../../tests/fixtures/discourse/search-nordkorea-p2.json");
    const RU1: &str = include_str!("../../tests/fixtures/discourse/search-russland-p1.json");
    const EMPTY: &str = include_str!("../../tests/fixtures/discourse/search-empty.json");

    fn client(retries: u32) -> HttpClient {
        testing::client(retries)
    }

    fn context<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, terms: &[&str]) -> Context<'a> {
        testing::context(http, known, "forum-test", terms, 3650)
    }

    /// Dates read at the fixtures' "now" in Berlin.
    fn berlin() -> dates::DateContext {
        dates::DateContext::new(testing::now(), chrono_tz::Europe::Berlin)
    }

    fn forum() -> Forum {
        Forum::new(&Url::parse("https://forum.example.org/").unwrap())
    }

    /// The recorded forum: two pages for `nordkorea`, one for `russland`, nothing else.
    fn recorded(s: &Seen) -> Reply {
        if s.path != "/forum/search.json" {
            return (404, vec![], r#"{"errors":["The requested URL or resource could not be found."],"error_type":"not_found"}"#.into());
        }
        match (s.param("q"), s.param("page")) {
            (Some("nordkorea order:latest"), Some("1")) => json(NK1),
            (Some("nordkorea order:latest"), Some("2")) => json(NK2),
            (Some("russland order:latest"), Some("1")) => json(RU1),
            (Some(_), Some("1")) => json(EMPTY),
            _ => (400, vec![], r#"{"errors":["unexpected page"]}"#.into()),
        }
    }

    fn ids(h: &Harvest) -> Vec<&str> {
        h.items
            .iter()
            .map(|i| i.platform_id.as_deref().unwrap())
            .collect()
    }

    fn targets(log: &[Seen]) -> Vec<String> {
        log.iter()
            .map(|s| format!("{} p{}", s.param("q").unwrap(), s.param("page").unwrap()))
            .collect()
    }

    #[test]
    fn joins_posts_to_their_topics() {
        let page = parse_search(NK1.as_bytes(), &forum(), &berlin()).unwrap();
        assert!(page.more);
        assert_eq!(page.items.len(), 3);
        assert_eq!(
            page.items[0],
            Item {
                url: Some("https://forum.example.org/t/nordkorea-neue-lieferungen/3391/12".into()),
                platform_id: Some("discourse:forum.example.org/48213".into()),
                title: "Nordkorea: neue Lieferungen".into(),
                text: "Laut Agenturberichten sind weitere Granaten & Raketen für Russland unterwegs, schreibt die \"Tagesschau\". Die Route über Rajin ist inzwischen gut dokumentiert...".into(),
                author: Some("jberger".into()),
                published: Some(
                    Utc.with_ymd_and_hms(2026, 11, 25, 7, 41, 18).unwrap()
                        + chrono::Duration::milliseconds(402)
                ),
                lang: None,
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        assert_eq!(page.items[1].title, "Reisebericht aus Pjöngjang");
        assert_eq!(
            page.items[1].text,
            "Zwei Wochen mit einer Reisegruppe in Nordkorea: Pjöngjang, Kaesong und die Grenze. Fotos folgen..."
        );
        assert_eq!(
            page.items[2].text,
            "...Nordkorea hat laut Kreml \"keine Soldaten\" in Russland stationiert. Das glaubt hier niemand..."
        );
        assert_eq!(
            page.items[2].url.as_deref(),
            Some("https://forum.example.org/t/nordkorea-neue-lieferungen/3391/9")
        );
        let last = parse_search(NK2.as_bytes(), &forum(), &berlin()).unwrap();
        assert!(!last.more);
        let none = parse_search(EMPTY.as_bytes(), &forum(), &berlin()).unwrap();
        assert_eq!(none, Page::default());
    }

    #[test]
    fn odd_answers_are_read_as_far_as_they_go() {
        let body = r#"{"posts":[
            {"id":7,"topic_id":70,"post_number":2,"blurb":"ohne Thema","topic_title_headline":"<span class=\"search-highlight\">Kursk</span> &amp; mehr","username":"","created_at":"gestern"},
            {"id":"acht","topic_id":80},
            {"topic_id":90},
            {"id":9,"topic_id":91,"blurb":null,"created_at":"vor langer Zeit"}
          ],
          "topics":[{"id":91,"title":"  Ein   Thema ","slug":"../../admin"},{"title":"ohne id"}],
          "grouped_search_result":{"more_full_page_results":"more"}}"#;
        let f = Forum::new(&Url::parse("http://127.0.0.1:4200/community/?x=1#top").unwrap());
        let page = parse_search(body.as_bytes(), &f, &berlin()).unwrap();
        assert!(page.more);
        assert_eq!(
            page.items,
            [
                Item {
                    url: Some("http://127.0.0.1:4200/community/t/70/2".into()),
                    platform_id: Some("discourse:127.0.0.1:4200/7".into()),
                    title: "Kursk & mehr".into(),
                    text: "ohne Thema".into(),
                    // `gestern` is yesterday where the forum's readers live.
                    published: Some(Utc.with_ymd_and_hms(2026, 11, 23, 23, 0, 0).unwrap()),
                    ..Item::default()
                },
                Item {
                    url: Some("http://127.0.0.1:4200/community/t/91/1".into()),
                    platform_id: Some("discourse:127.0.0.1:4200/9".into()),
                    title: "Ein Thema".into(),
                    unread_date: Some("vor langer Zeit".into()),
                    ..Item::default()
                },
            ]
        );
        let err = parse_search(
            br#"{"errors":["You must be logged in"],"error_type":"not_logged_in"}"#,
            &f,
            &berlin(),
        );
        assert_eq!(
            err.unwrap_err().0,
            "Discourse answered: You must be logged in"
        );
        let busy = br#"{"posts":[],"grouped_search_result":{"error":"The site is under extreme load, search is disabled."}}"#;
        assert_eq!(
            parse_search(busy, &f, &berlin()).unwrap_err().0,
            "Discourse answered: The site is under extreme load, search is disabled."
        );
        assert!(parse_search(b"<!DOCTYPE html>", &f, &berlin()).is_err());
    }

    #[tokio::test]
    async fn one_search_per_term_paged_and_kept_once() {
        let (addr, log) = serve(recorded).await;
        let http = client(0);
        let ctx = context(
            &http,
            &nothing_known,
            &["nordkorea", "\"north korea\"", "russland"],
        );
        let url = Url::parse(&format!("http://{addr}/forum")).unwrap();
        let h = read(&ctx, &url).await;
        assert_eq!(h.error, None);
        let host = format!("discourse:127.0.0.1:{}", addr.port());
        assert_eq!(
            ids(&h),
            [48213, 48190, 48102, 47988, 47901].map(|id| format!("{host}/{id}"))
        );
        assert_eq!(
            h.items[3].url,
            Some(format!("http://{addr}/forum/t/lagebericht-kursk/3402/3"))
        );
        assert_eq!(
            targets(&log.lock().unwrap()),
            [
                "nordkorea order:latest p1",
                "nordkorea order:latest p2",
                "\"north korea\" order:latest p1",
                "russland order:latest p1"
            ]
        );
    }

    #[tokio::test]
    async fn a_page_found_by_an_earlier_term_still_pages_on() {
        // Both terms find the same first page; the second term's page 2 is still read.
        let (addr, log) = serve(|s: &Seen| match s.param("page") {
            Some("1") => json(NK1),
            _ => json(NK2),
        })
        .await;
        let http = client(0);
        let mut ctx = context(&http, &nothing_known, &["nordkorea", "lieferungen"]);
        ctx.max_pages = 1;
        let url = Url::parse(&format!("http://{addr}")).unwrap();
        assert_eq!(read(&ctx, &url).await.items.len(), 3);
        ctx.max_pages = 2;
        log.lock().unwrap().clear();
        let h = read(&ctx, &url).await;
        assert_eq!(h.items.len(), 4);
        assert_eq!(
            targets(&log.lock().unwrap()),
            [
                "nordkorea order:latest p1",
                "nordkorea order:latest p2",
                "lieferungen order:latest p1",
                "lieferungen order:latest p2"
            ]
        );
    }

    #[tokio::test]
    async fn stops_at_known_old_or_max_pages_and_at_page_ten() {
        let (addr, log) = serve(recorded).await;
        let http = client(0);
        let url = Url::parse(&format!("http://{addr}/forum/")).unwrap();

        let ctx = context(&http, &all_known, &["nordkorea"]);
        assert_eq!(read(&ctx, &url).await.items.len(), 3);
        assert_eq!(log.lock().unwrap().len(), 1);

        // Page 1 reaches back to 2026-11-24 15:02, more than 20 h before "now".
        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.lookback = Duration::from_secs(20 * 3600);
        assert_eq!(read(&ctx, &url).await.items.len(), 3);
        assert_eq!(log.lock().unwrap().len(), 2);

        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.max_pages = 1;
        assert_eq!(read(&ctx, &url).await.items.len(), 3);
        assert_eq!(log.lock().unwrap().len(), 3);

        // A forum that always has more: Discourse's own page limit ends it.
        let (addr, log) = serve(|s: &Seen| {
            let page: u64 = s.param("page").unwrap().parse().unwrap();
            json(&format!(
                r#"{{"posts":[{{"id":{page},"topic_id":1,"post_number":{page},"blurb":"x","created_at":"2026-11-25T10:00:00Z"}}],"topics":[],"grouped_search_result":{{"more_full_page_results":true}}}}"#
            ))
        })
        .await;
        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.max_pages = 50;
        let url = Url::parse(&format!("http://{addr}")).unwrap();
        assert_eq!(read(&ctx, &url).await.items.len(), 10);
        assert_eq!(log.lock().unwrap().len(), 10);
    }

    #[tokio::test]
    async fn a_refused_term_does_not_stop_the_others_but_a_server_error_does() {
        let (addr, log) = serve(|s: &Seen| match s.param("q") {
            Some("nk order:latest") => (
                400,
                vec![],
                r#"{"errors":["You supplied invalid parameters to the request: q"],"error_type":"invalid_parameters"}"#.into(),
            ),
            Some("kaputt order:latest") => (500, vec![], "{}".into()),
            _ => recorded(&Seen {
                path: "/forum/search.json".into(),
                ..s.clone()
            }),
        })
        .await;
        let http = client(0);
        let url = Url::parse(&format!("http://{addr}/forum")).unwrap();
        let ctx = context(&http, &nothing_known, &["nk", "russland"]);
        let h = read(&ctx, &url).await;
        assert_eq!(
            h.error.as_deref(),
            Some("the search for nk answered HTTP 400")
        );
        assert_eq!(h.items.len(), 2);

        log.lock().unwrap().clear();
        let ctx = context(&http, &nothing_known, &["kaputt", "russland"]);
        let h = read(&ctx, &url).await;
        assert_eq!(
            h.error.as_deref(),
            Some("the search for kaputt answered HTTP 500")
        );
        assert!(h.items.is_empty());
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_429_with_retry_after_is_waited_out() {
        let hits = std::sync::atomic::AtomicUsize::new(0);
        let (addr, log) = serve(move |s: &Seen| {
            if hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return (
                    429,
                    vec![("retry-after", "1".into())],
                    r#"{"errors":["You’ve performed this action too many times. Please wait 1 second before trying again."],"error_type":"rate_limit","extras":{"wait_seconds":1}}"#.into(),
                );
            }
            recorded(s)
        })
        .await;
        let http = client(2);
        let url = Url::parse(&format!("http://{addr}/forum")).unwrap();
        let ctx = context(&http, &nothing_known, &["russland"]);
        let start = std::time::Instant::now();
        let h = read(&ctx, &url).await;
        assert!(start.elapsed() >= Duration::from_millis(900));
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 2);
        assert_eq!(log.lock().unwrap().len(), 2);
    }
}
