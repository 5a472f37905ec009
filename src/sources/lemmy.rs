//! `lemmy` sources: `/api/v3/search` with `type_=All`, which answers one
//! page of posts and one page of comments per request (Lemmy 0.18/0.19).
//! Lemmy's search knows no `OR` and matches the query as a substring, so
//! each search term is its own search, paged by `page`. Posts and comments
//! become items identified by their `ap_id`; their Markdown becomes plain
//! text.

use super::context::Context;
use super::dates::parse_date;
use super::paging::{Harvest, Listing, Page as Paged, Pager};
use super::Item;
use crate::budget::Budget;
use crate::http::Request;
use serde::Deserialize;
use url::Url;

/// Posts (and comments) per page: Lemmy's maximum.
const LIMIT: usize = 50;

pub async fn read(ctx: &Context<'_>, url: &Url) -> Harvest {
    read_paged(ctx, url, LIMIT).await
}

/// `read` with a page size of `limit`, so tests can page with few items.
async fn read_paged(ctx: &Context<'_>, url: &Url, limit: usize) -> Harvest {
    let mut pager = Pager::new(ctx);
    let mut error = None;
    for term in &ctx.search_terms {
        let q = search_text(term);
        if q.is_empty() {
            continue;
        }
        let run = match Search::new(url, q, limit) {
            Ok(mut search) => pager.run(&mut search, 1).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = run {
            error = Some(e);
            break;
        }
    }
    Harvest {
        error,
        ..pager.into_harvest()
    }
}

/// Lemmy matches `q` as a substring (ILIKE) with spaces as wildcards, so
/// the quotes around a phrase would be searched for literally.
fn search_text(term: &str) -> String {
    term.replace('"', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// One search term, paged by page number (from 1).
struct Search {
    /// `/api/v3/search` of the instance.
    base: Url,
    q: String,
    limit: usize,
}

impl Search {
    fn new(instance: &Url, q: String, limit: usize) -> Result<Search, String> {
        let mut base = instance.clone();
        base.set_query(None);
        base.set_fragment(None);
        base.path_segments_mut()
            .map_err(|()| format!("{instance} is not an instance address"))?
            .pop_if_empty()
            .extend(["api", "v3", "search"]);
        Ok(Search { base, q, limit })
    }
}

impl Listing for Search {
    type Cursor = u32;
    type Error = String;

    async fn page(&mut self, ctx: &Context<'_>, page: &u32) -> Result<Paged<u32>, String> {
        let mut url = self.base.clone();
        url.query_pairs_mut()
            .append_pair("q", &self.q)
            .append_pair("type_", "All")
            .append_pair("listing_type", "All")
            .append_pair("sort", "New")
            .append_pair("page", &page.to_string())
            .append_pair("limit", &self.limit.to_string());
        let fetched = ctx
            .fetch(Request::api_get(url).header(http::header::ACCEPT, "application/json"))
            .await
            .map_err(|e| e.to_string())?;
        // Parsed off the async workers (Markdown to text included).
        let body = fetched.body;
        let found = Budget::default()
            .read(move || parse_search(&body))
            .await
            .map_err(|e| format!("{}: {e}", self.base))?;
        // Posts and comments are two lists paged together: there is a next
        // page while either list is full, and it reaches back only as far as
        // the full list that reaches back least.
        let full: Vec<&[Item]> = [
            (&found.posts, found.raw_posts),
            (&found.comments, found.raw_comments),
        ]
        .into_iter()
        .filter(|(_, raw)| *raw >= self.limit)
        .map(|(list, _)| list.as_slice())
        .collect();
        let oldest_of = |list: &[Item]| list.iter().filter_map(|i| i.published).min();
        let oldest = if full.is_empty() {
            None
        } else {
            full.iter()
                .map(|list| oldest_of(list))
                .collect::<Option<Vec<_>>>()
                .and_then(|each| each.into_iter().max())
        };
        let next = (!full.is_empty()).then_some(page + 1);
        let entries = found.raw_posts + found.raw_comments;
        let mut items = found.posts;
        items.extend(found.comments);
        let mut paged = Paged::new(items, next).with_headers(fetched.headers);
        paged.entries = entries;
        paged.oldest = oldest;
        Ok(paged)
    }
}

/// One search page: its posts and comments as items, and how many entries
/// of each the server sent (a full page means there may be another).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub posts: Vec<Item>,
    pub comments: Vec<Item>,
    pub raw_posts: usize,
    pub raw_comments: usize,
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    #[serde(default)]
    posts: Vec<serde_json::Value>,
    #[serde(default)]
    comments: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct PostView {
    post: Post,
    #[serde(default)]
    creator: Option<Person>,
}

#[derive(Debug, Deserialize)]
struct Post {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    ap_id: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    deleted: Option<bool>,
    #[serde(default)]
    removed: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct CommentView {
    comment: Comment,
    #[serde(default)]
    creator: Option<Person>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    ap_id: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    deleted: Option<bool>,
    #[serde(default)]
    removed: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Person {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    actor_id: Option<String>,
}

/// A `/api/v3/search` answer. Entries without an `ap_id`, and deleted or
/// removed ones, are skipped.
pub fn parse_search(body: &[u8]) -> Result<Page, String> {
    let resp: SearchResponse =
        serde_json::from_slice(body).map_err(|e| format!("not a search result ({e})"))?;
    let raw_posts = resp.posts.len();
    let raw_comments = resp.comments.len();
    let posts = resp
        .posts
        .into_iter()
        .filter_map(|v| serde_json::from_value::<PostView>(v).ok())
        .filter_map(post_item)
        .collect();
    let comments = resp
        .comments
        .into_iter()
        .filter_map(|v| serde_json::from_value::<CommentView>(v).ok())
        .filter_map(comment_item)
        .collect();
    Ok(Page {
        posts,
        comments,
        raw_posts,
        raw_comments,
    })
}

fn post_item(view: PostView) -> Option<Item> {
    let p = view.post;
    if p.deleted == Some(true) || p.removed == Some(true) {
        return None;
    }
    let ap_id = p.ap_id.filter(|a| !a.trim().is_empty())?;
    Some(Item {
        url: Some(ap_id.clone()),
        platform_id: Some(ap_id),
        title: p.name.as_deref().map(markdown_to_text).unwrap_or_default(),
        text: p.body.as_deref().map(markdown_to_text).unwrap_or_default(),
        author: view.creator.and_then(person),
        published: p.published.as_deref().and_then(parse_date),
        lang: None,
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
    })
}

fn comment_item(view: CommentView) -> Option<Item> {
    let c = view.comment;
    if c.deleted == Some(true) || c.removed == Some(true) {
        return None;
    }
    let ap_id = c.ap_id.filter(|a| !a.trim().is_empty())?;
    Some(Item {
        url: Some(ap_id.clone()),
        platform_id: Some(ap_id),
        // Matched on its own words only: the post's title would make every
        // off-topic reply under a matching post a mention.
        title: String::new(),
        text: c
            .content
            .as_deref()
            .map(markdown_to_text)
            .unwrap_or_default(),
        author: view.creator.and_then(person),
        published: c.published.as_deref().and_then(parse_date),
        lang: None,
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
    })
}

/// `name@host` of a person, the host taken from its `actor_id`, so the same
/// person reads the same on every instance.
fn person(p: Person) -> Option<String> {
    let name = p.name.filter(|n| !n.is_empty())?;
    match p
        .actor_id
        .as_deref()
        .and_then(|a| Url::parse(a).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
    {
        Some(host) => Some(format!("{name}@{host}")),
        None => Some(name),
    }
}

/// Lemmy's Markdown as plain text: links and images become their text,
/// emphasis, code and heading/quote/list markers go, fences and spoiler
/// markers go while their content stays, reference definitions go.
pub fn markdown_to_text(md: &str) -> String {
    let mut lines = Vec::new();
    for line in md.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            // A fence line may name a language; it is not text.
            continue;
        }
        if let Some(rest) = t.strip_prefix(":::") {
            let rest = rest.trim_start();
            lines.push(rest.strip_prefix("spoiler").unwrap_or(rest).to_owned());
            continue;
        }
        if is_reference_definition(t) || is_rule(t) {
            continue;
        }
        lines.push(inline(block_prefix(t)));
    }
    crate::text::collapse_ws(&lines.join("\n"))
}

/// `[label]: https://…`
fn is_reference_definition(t: &str) -> bool {
    t.starts_with('[')
        && t.find("]:").is_some_and(|i| {
            t.get(i + 2..)
                .is_some_and(|rest| rest.trim_start().contains("://"))
        })
}

/// `---`, `***`, `___` on their own.
fn is_rule(t: &str) -> bool {
    let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3
        && (t.chars().all(|c| c == '-')
            || t.chars().all(|c| c == '*')
            || t.chars().all(|c| c == '_'))
}

/// Drops quote, heading and list markers at the start of a line.
fn block_prefix(mut t: &str) -> &str {
    loop {
        let before = t;
        t = t.trim_start();
        if let Some(r) = t.strip_prefix('>') {
            t = r;
        }
        let hashes = t.bytes().take_while(|&b| b == b'#').count();
        if (1..=6).contains(&hashes) && t.get(hashes..).is_some_and(|r| r.starts_with([' ', '\t']))
        {
            t = t.get(hashes..).unwrap_or(t);
        }
        for marker in ["- [ ] ", "- [x] ", "- ", "* ", "+ "] {
            if let Some(r) = t.strip_prefix(marker) {
                t = r;
                break;
            }
        }
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=9).contains(&digits) {
            if let Some(r) = t
                .get(digits..)
                .and_then(|r| r.strip_prefix(". ").or_else(|| r.strip_prefix(") ")))
            {
                t = r;
            }
        }
        if t == before {
            return t;
        }
    }
}

/// Inline Markdown of one line to text.
/// Links nested deeper than this inside link labels are read as plain text,
/// so a hostile comment cannot recurse without end.
const MAX_LINK_NESTING: usize = 8;
/// A link label or address longer than this (in characters) is not a link:
/// it bounds the look-ahead from each `[`, which keeps reading linear.
const MAX_LINK_PART: usize = 2_000;

fn inline(line: &str) -> String {
    inline_at(line, 0)
}

fn inline_at(line: &str, nesting: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                }
                i += 2;
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                // An image is its alt text.
                i += 1;
            }
            '[' => match link_end(&chars, i) {
                Some((label_end, end)) => {
                    let label: String = chars.get(i + 1..label_end).unwrap_or(&[]).iter().collect();
                    if nesting < MAX_LINK_NESTING {
                        out.push_str(&inline_at(&label, nesting + 1));
                    } else {
                        out.push_str(&label);
                    }
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '<' => {
                // An autolink `<https://…>` is its address.
                let close = chars
                    .get(i + 1..)
                    .and_then(|r| r.iter().position(|&x| x == '>'));
                match close {
                    Some(n) => {
                        let inner: String =
                            chars.get(i + 1..i + 1 + n).unwrap_or(&[]).iter().collect();
                        if inner.contains("://") || inner.starts_with("mailto:") {
                            out.push_str(&inner);
                        } else {
                            out.push('<');
                            out.push_str(&inner);
                            out.push('>');
                        }
                        i += n + 2;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            '`' => i += 1,
            '~' if chars.get(i + 1) == Some(&'~') => i += 2,
            '*' | '_' => {
                // Emphasis markers go; one between two letters or digits stays (snake_case, 2*3).
                let start = i;
                while chars.get(i) == Some(&c) {
                    i += 1;
                }
                let before = start.checked_sub(1).and_then(|b| chars.get(b));
                let after = chars.get(i);
                let inside_word = before.is_some_and(|b| b.is_alphanumeric())
                    && after.is_some_and(|a| a.is_alphanumeric());
                if inside_word {
                    out.extend(std::iter::repeat_n(c, i - start));
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// For `[label](target)` or `[label][ref]` starting at `open`: the index
/// of the label's `]` and the index just past the whole link.
fn link_end(chars: &[char], open: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut label_end = None;
    for (j, &c) in chars.iter().enumerate().skip(open).take(MAX_LINK_PART) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    label_end = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let label_end = label_end?;
    let (opener, closer) = match chars.get(label_end + 1)? {
        '(' => ('(', ')'),
        '[' => ('[', ']'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (j, &c) in chars
        .iter()
        .enumerate()
        .skip(label_end + 1)
        .take(MAX_LINK_PART)
    {
        if c == opener {
            depth += 1;
        } else if c == closer {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some((label_end, j + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpClient;
    use crate::sources::context::testing;
    use axum::extract::{Request as AxumRequest, State};
    use axum::response::{IntoResponse, Response};
    use chrono::{DateTime, Utc};
    use std::collections::HashMap;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const L1: &str = include_str!("../../tests/fixtures/lemmy/l1-search-nordkorea.json");
    const L2: &str = include_str!("../../tests/fixtures/lemmy/l2-search-nordkorea.json");

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn posts_and_comments_of_a_0_19_instance() {
        let page = parse_search(L1.as_bytes()).unwrap();
        assert_eq!((page.raw_posts, page.raw_comments), (3, 2));
        assert_eq!(
            page.posts[0],
            Item {
                url: Some("https://lemmy.beispiel.de/post/4711".into()),
                platform_id: Some("https://lemmy.beispiel.de/post/4711".into()),
                title: "Nordkorea schickt weitere Truppen nach Russland".into(),
                text: "Laut südkoreanischem Geheimdienst sind es diesmal mehrere Tausend Soldaten. Die Truppen sollen in der Region Kursk eingesetzt werden. Quellen Tagesschau https://www.yna.example/view/AEN20261124000351315 Truppenstärke: ~12.000".into(),
                author: Some("ludwig@lemmy.beispiel.de".into()),
                published: Some(t("2026-11-24T08:12:45.812345Z")),
                lang: None,
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        // A post federated from another instance: its ap_id, its author's home.
        assert_eq!(
            page.posts[2].platform_id.as_deref(),
            Some("https://feddit.example.org/post/9001")
        );
        assert_eq!(
            page.posts[2].author.as_deref(),
            Some("mara@feddit.example.org")
        );
        assert_eq!(
            page.posts[2].text,
            "Nordkorea und Russland wollen ihre Zusammenarbeit Partnerschaft ausbauen. Kim und Putin"
        );
        assert_eq!(
            page.comments[0],
            Item {
                url: Some("https://lemmy.beispiel.de/comment/93012".into()),
                platform_id: Some("https://lemmy.beispiel.de/comment/93012".into()),
                title: String::new(),
                text: "Laut Bericht sind es über 10.000 Soldaten.".into(),
                author: Some("sven@lemmy.beispiel.de".into()),
                published: Some(t("2026-11-24T09:01:02.345678Z")),
                lang: None,
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        // Comments are matched on their own words, not their post's title.
        assert_eq!(page.comments[1].title, "");
    }

    #[test]
    fn naive_timestamps_of_a_0_18_instance_are_utc() {
        let page = parse_search(L2.as_bytes()).unwrap();
        let ids: Vec<_> = page
            .posts
            .iter()
            .chain(&page.comments)
            .map(|i| i.platform_id.clone().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "https://lemmy.beispiel.de/post/4711",
                "https://feddit.example.org/post/9001",
                "https://lemmy.beispiel.de/comment/93012",
                "https://feddit.example.org/comment/555"
            ]
        );
        assert_eq!(page.posts[1].published, Some(t("2026-11-23T16:20:00Z")));
        assert_eq!(
            page.comments[1].published,
            Some(t("2026-11-23T17:45:10.12Z"))
        );
        assert_eq!(
            page.comments[1].author.as_deref(),
            Some("ole@feddit.example.org")
        );
        assert_eq!(page.comments[1].title, "");
    }

    #[test]
    fn odd_entries_are_skipped() {
        let body = r#"{"posts": [7, {"post": {"name": "ohne ap_id"}},
              {"post": {"name": "gelöscht", "ap_id": "https://l.example/post/1", "deleted": true}},
              {"post": {"name": 5, "ap_id": "https://l.example/post/2"}},
              {"post": {"name": "Titel", "body": null, "ap_id": "https://l.example/post/3",
                        "published": "kaputt"}, "creator": {"name": "x", "actor_id": "kein url"}}],
            "comments": [{"comment": {"content": "x", "ap_id": "https://l.example/comment/1", "removed": true}},
              {"comment": {"content": "ok", "ap_id": "https://l.example/comment/2"}, "post": null}]}"#;
        let page = parse_search(body.as_bytes()).unwrap();
        assert_eq!((page.raw_posts, page.raw_comments), (5, 2));
        assert_eq!(
            page.posts,
            [Item {
                url: Some("https://l.example/post/3".into()),
                platform_id: Some("https://l.example/post/3".into()),
                title: "Titel".into(),
                author: Some("x".into()),
                ..Item::default()
            }]
        );
        assert_eq!(page.comments.len(), 1);
        assert_eq!(page.comments[0].title, "");
        assert_eq!(parse_search(b"{}").unwrap(), Page::default());
        assert!(parse_search(b"<html>").is_err());
        assert!(parse_search(br#"{"posts": 3}"#).is_err());
    }

    #[test]
    fn markdown_becomes_plain_text() {
        let cases = [
            (
                "# Titel\n\nText mit **fett**, *kursiv*, __auch__ und _so_.",
                "Titel Text mit fett, kursiv, auch und so.",
            ),
            (
                "[Link **fett**](https://x.example/a_(b)) danach",
                "Link fett danach",
            ),
            (
                "![Bild](https://x.example/i.png) und [ref][1]\n\n[1]: https://x.example/",
                "Bild und ref",
            ),
            (
                "> Zitat\n> > tiefer\n\n1. eins\n2) zwei\n- drei\n* vier\n+ fünf",
                "Zitat tiefer eins zwei drei vier fünf",
            ),
            (
                "```rust\nlet snake_case = 2*3;\n```",
                "let snake_case = 2*3;",
            ),
            (
                "~~durch~~ `code` \\*keine\\* Betonung",
                "durch code *keine* Betonung",
            ),
            ("::: spoiler Nordkorea\nRussland\n:::", "Nordkorea Russland"),
            (
                "Autolink <https://x.example/n> und a < b > c",
                "Autolink https://x.example/n und a < b > c",
            ),
            ("Text\n\n---\n\n***\nEnde", "Text Ende"),
            ("[offen ohne Ende", "[offen ohne Ende"),
            ("#hashtag kein Titel", "#hashtag kein Titel"),
        ];
        for (md, text) in cases {
            assert_eq!(markdown_to_text(md), text, "{md}");
        }
    }

    #[test]
    fn search_terms_lose_their_quotes() {
        assert_eq!(search_text("\"north korea\""), "north korea");
        assert_eq!(search_text("  nordkorea "), "nordkorea");
        assert_eq!(search_text("\"\""), "");
    }

    #[derive(Default)]
    struct Mock {
        routes: Mutex<HashMap<String, Vec<(u16, String)>>>,
        log: Mutex<Vec<String>>,
    }

    impl Mock {
        fn route(&self, target: &str, status: u16, body: &str) {
            self.routes
                .lock()
                .unwrap()
                .entry(target.into())
                .or_default()
                .push((status, body.to_owned()));
        }
        fn targets(&self) -> Vec<String> {
            self.log.lock().unwrap().clone()
        }
    }

    async fn handle(State(mock): State<Arc<Mock>>, req: AxumRequest) -> Response {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        mock.log.lock().unwrap().push(target.clone());
        let mut routes = mock.routes.lock().unwrap();
        let Some(queue) = routes.get_mut(&target) else {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                r#"{"error":"couldnt_find_object"}"#,
            )
                .into_response();
        };
        let (status, body) = if queue.len() > 1 {
            queue.remove(0)
        } else {
            queue[0].clone()
        };
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            body,
        )
            .into_response()
    }

    async fn start() -> (Arc<Mock>, Url) {
        let mock = Arc::new(Mock::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&mock));
        let addr = crate::http::testing::serve(app).await;
        (mock, Url::parse(&format!("http://{addr}/")).unwrap())
    }

    macro_rules! known_none {
        () => {
            |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + '_>> {
                let n = items.len();
                Box::pin(async move { vec![false; n] })
            }
        };
    }

    fn client() -> HttpClient {
        testing::client(2)
    }

    fn ctx<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, terms: &[&str]) -> Context<'a> {
        testing::context(http, known, "lemmy", terms, 36500)
    }
    use crate::sources::context::KnownFn;

    fn target(q: &str, page: u32, limit: usize) -> String {
        format!(
            "/api/v3/search?q={q}&type_=All&listing_type=All&sort=New&page={page}&limit={limit}"
        )
    }

    /// Two entries per page: page 1 is full (two comments), page 2 is not.
    fn two_pages(mock: &Mock) {
        let page1 = serde_json::json!({
            "type_": "All",
            "posts": [],
            "comments": [
                {"comment": {"content": "Nordkorea", "ap_id": "https://l.example/comment/10",
                             "published": "2026-11-24T10:00:00.000000Z"}, "post": {"name": "A"}},
                {"comment": {"content": "Russland", "ap_id": "https://l.example/comment/9",
                             "published": "2026-11-20T10:00:00.000000Z"}, "post": {"name": "A"}}
            ],
            "communities": [], "users": []
        });
        let page2 = serde_json::json!({
            "type_": "All",
            "posts": [{"post": {"name": "Alt", "ap_id": "https://l.example/post/1",
                                "published": "2026-11-01T10:00:00Z"}}],
            "comments": [],
            "communities": [], "users": []
        });
        mock.route(&target("nordkorea", 1, 2), 200, &page1.to_string());
        mock.route(&target("nordkorea", 2, 2), 200, &page2.to_string());
    }

    #[tokio::test]
    async fn one_search_per_term_paged_by_page_number() {
        let (mock, base) = start().await;
        two_pages(&mock);
        mock.route(&target("north+korea", 1, 2), 200, L1);
        mock.route(
            &target("north+korea", 2, 2),
            200,
            r#"{"type_":"All","posts":[],"comments":[],"communities":[],"users":[]}"#,
        );
        let http = client();
        let known = known_none!();
        let c = ctx(&http, &known, &["nordkorea", "\"north korea\""]);
        let h = read_paged(&c, &base, 2).await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 3 + 5);
        // Three posts fill a page of two: page 2 is asked for, and is empty.
        assert_eq!(
            mock.targets(),
            [
                target("nordkorea", 1, 2),
                target("nordkorea", 2, 2),
                target("north+korea", 1, 2),
                target("north+korea", 2, 2)
            ]
        );
    }

    #[tokio::test]
    async fn stops_at_too_old_nothing_new_and_max_pages() {
        let (mock, base) = start().await;
        two_pages(&mock);
        let http = client();

        // Page 1's comments reach back to 20 Nov: older than three days.
        let known = known_none!();
        let mut c = ctx(&http, &known, &["nordkorea"]);
        c.lookback = Duration::from_secs(3 * 86400);
        let h = read_paged(&c, &base, 2).await;
        assert_eq!(h.items.len(), 2);
        assert_eq!(mock.targets().len(), 1);

        mock.log.lock().unwrap().clear();
        let known = |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + '_>> {
            Box::pin(async move { vec![true; items.len()] })
        };
        let h = read_paged(&ctx(&http, &known, &["nordkorea"]), &base, 2).await;
        assert_eq!(h.items.len(), 2);
        assert_eq!(mock.targets().len(), 1);

        mock.log.lock().unwrap().clear();
        let known = known_none!();
        let mut c = ctx(&http, &known, &["nordkorea"]);
        c.max_pages = 1;
        let h = read_paged(&c, &base, 2).await;
        assert_eq!(h.items.len(), 2);
        assert_eq!(mock.targets().len(), 1);
    }

    #[tokio::test]
    async fn a_failing_search_keeps_what_was_read() {
        let (mock, base) = start().await;
        mock.route(&target("nordkorea", 1, 50), 502, "bad gateway");
        mock.route(&target("nordkorea", 1, 50), 200, L1);
        let http = client();
        let known = known_none!();
        let c = ctx(&http, &known, &["nordkorea", "kursk"]);
        let h = read(&c, &base).await;
        assert_eq!(h.items.len(), 5);
        assert_eq!(
            h.error.as_deref(),
            Some(
                format!(
                    "{base}api/v3/search?q=kursk&type_=All&listing_type=All&sort=New&page=1&limit=50 answered HTTP 400"
                )
                .as_str()
            )
        );
        assert_eq!(mock.targets().len(), 3);
    }
}
