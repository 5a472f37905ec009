//! `lemmy` sources: `/api/v3/search` with `type_=All`, which answers one
//! page of posts and one page of comments per request (Lemmy 0.18/0.19).
//! Lemmy's search knows no `OR` and matches the query as a substring, so
//! each search term is its own search, paged by `page`. Posts and comments
//! become items identified by their `ap_id`; their Markdown becomes plain
//! text.

use super::dates::parse_date;
use super::platform::{Context, Harvest};
use super::Item;
use crate::http::{ratelimit, Request};
use http::HeaderMap;
use serde::Deserialize;
use std::collections::HashSet;
use url::Url;

/// Posts (and comments) per page: Lemmy's maximum.
const LIMIT: usize = 50;

pub async fn read(ctx: &Context<'_>, url: &Url) -> Harvest {
    read_paged(ctx, url, LIMIT).await
}

/// `read` with a page size of `limit`, so tests can page with few items.
async fn read_paged(ctx: &Context<'_>, url: &Url, limit: usize) -> Harvest {
    let mut harvest = Harvest::default();
    let mut seen = HashSet::new();
    let mut last_headers: Option<HeaderMap> = None;
    for term in &ctx.search_terms {
        let q = search_text(term);
        if q.is_empty() {
            continue;
        }
        if let Err(e) = search(
            ctx,
            url,
            &q,
            limit,
            &mut seen,
            &mut last_headers,
            &mut harvest,
        )
        .await
        {
            harvest.error = Some(e);
            break;
        }
    }
    harvest
}

/// Lemmy matches `q` as a substring (ILIKE) with spaces as wildcards, so
/// the quotes around a phrase would be searched for literally.
fn search_text(term: &str) -> String {
    term.replace('"', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// One search term, page by page.
async fn search(
    ctx: &Context<'_>,
    instance: &Url,
    q: &str,
    limit: usize,
    seen: &mut HashSet<String>,
    last_headers: &mut Option<HeaderMap>,
    harvest: &mut Harvest,
) -> Result<(), String> {
    let mut base = instance.clone();
    base.set_query(None);
    base.set_fragment(None);
    base.path_segments_mut()
        .map_err(|()| format!("{instance} is not an instance address"))?
        .pop_if_empty()
        .extend(["api", "v3", "search"]);
    for page in 1..=ctx.max_pages {
        if let Some(headers) = last_headers.take() {
            ratelimit::throttle(&headers).await?;
        }
        let mut url = base.clone();
        url.query_pairs_mut()
            .append_pair("q", q)
            .append_pair("type_", "All")
            .append_pair("listing_type", "All")
            .append_pair("sort", "New")
            .append_pair("page", &page.to_string())
            .append_pair("limit", &limit.to_string());
        let fetched = ctx
            .http
            .fetch(Request::api_get(url).header(http::header::ACCEPT, "application/json"))
            .await
            .map_err(|e| e.to_string())?;
        *last_headers = Some(fetched.headers.clone());
        let page = parse_search(&fetched.body).map_err(|e| format!("{base}: {e}"))?;
        let mut all: Vec<Item> = Vec::with_capacity(page.posts.len() + page.comments.len());
        all.extend(page.posts.iter().cloned());
        all.extend(page.comments.iter().cloned());
        let nothing_new = ctx.all_known(&all).await;
        // Posts and comments are two lists paged together: go on while either may hold more.
        let more = |list: &[Item], raw: usize| {
            raw >= limit
                && !list
                    .iter()
                    .filter_map(|i| i.published)
                    .min()
                    .is_some_and(|t| ctx.too_old(t))
        };
        let go_on = more(&page.posts, page.raw_posts) || more(&page.comments, page.raw_comments);
        for item in all {
            if let Some(id) = &item.platform_id {
                if seen.insert(id.clone()) {
                    harvest.items.push(item);
                }
            }
        }
        if nothing_new || !go_on {
            break;
        }
    }
    Ok(())
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
    post: Option<PostName>,
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
struct PostName {
    #[serde(default)]
    name: Option<String>,
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
        title: view
            .post
            .and_then(|p| p.name)
            .as_deref()
            .map(markdown_to_text)
            .unwrap_or_default(),
        text: c
            .content
            .as_deref()
            .map(markdown_to_text)
            .unwrap_or_default(),
        author: view.creator.and_then(person),
        published: c.published.as_deref().and_then(parse_date),
        lang: None,
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
fn inline(line: &str) -> String {
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
                    out.push_str(&inline(&label));
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
    for (j, &c) in chars.iter().enumerate().skip(open) {
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
    for (j, &c) in chars.iter().enumerate().skip(label_end + 1) {
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
