//! `reddit` sources: post search through `/search.json` or
//! `/r/SUB/search.json` (`q`, `sort=new`, `limit=100`, `type=link`,
//! `raw_json=1`, `after`), optionally through app-only OAuth.
//!
//! Logged out, requests go to the configured `url`. With `client_id` and
//! `client_secret` the source first gets an app-only token
//! (`grant_type=client_credentials`, HTTP Basic auth) and sends it as a
//! Bearer token. For Reddit itself (`url` on `reddit.com`) the token comes
//! from `https://www.reddit.com/api/v1/access_token` and the API is
//! `https://oauth.reddit.com`; for any other `url` (a test server, a proxy)
//! both are under `url` itself: `{url}/api/v1/access_token` and `{url}/…`.
//! Tokens are cached process-wide until they expire. Search terms are sent
//! in one query joined with ` OR ` (Reddit's boolean syntax), split into
//! several queries when that would pass Reddit's 512-character limit.
//! An item is a post (`t3_…`; comments `t1_…` are read too if a listing
//! carries them): title, self text (plain markdown with `raw_json=1`),
//! author, `created_utc`; its identity is `reddit:` + fullname and its link
//! the configured host + `permalink`.

use super::context::Context;
use super::paging::{self, Harvest, Page as Paged, Pager};
use super::platform::{cached_token, forget_token, store_token, Secret, Token};
use super::{Item, ParseError};
use crate::budget::Budget;
use crate::http::{FetchError, Fetched, Request};
use chrono::{DateTime, Utc};
use http::header::AUTHORIZATION;
use serde::Deserialize;
use url::Url;

/// Reddit ignores what a query has past this many characters.
const MAX_QUERY_CHARS: usize = 512;
/// The largest page Reddit serves.
const PAGE_SIZE: &str = "100";
const REDDIT_TOKEN_URL: &str = "https://www.reddit.com/api/v1/access_token";
const REDDIT_OAUTH_API: &str = "https://oauth.reddit.com/";
/// Longest token lifetime believed, whatever the server says (a year).
const MAX_TOKEN_SECS: f64 = 365.0 * 24.0 * 3600.0;

pub async fn read(
    ctx: &Context<'_>,
    url: &Url,
    subreddit: Option<&str>,
    credentials: Option<&(String, Secret)>,
) -> Harvest {
    let queries = or_queries(&ctx.search_terms);
    if queries.is_empty() {
        return Harvest::default();
    }
    let ends = endpoints(url, credentials.is_some());
    let mut reader = Reader {
        site: url,
        ends: &ends,
        subreddit,
        auth: credentials.map(|c| Auth {
            key: token_key(&ends.token, &c.0),
            credentials: c,
            token: None,
            renewed: false,
        }),
        query: String::new(),
    };
    let mut pager = Pager::new(ctx);
    let mut error = None;
    for query in queries {
        reader.query = query;
        if let Err(e) = pager.run(&mut reader, None).await {
            error = Some(e);
            break;
        }
    }
    Harvest {
        error,
        ..pager.into_harvest()
    }
}

/// Where a source's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The base the search paths are appended to (ends with `/`).
    pub api: Url,
    /// The app-only token endpoint.
    pub token: Url,
}

/// The API base and token endpoint for `url`, logged in (`oauth`) or not.
pub fn endpoints(url: &Url, oauth: bool) -> Endpoints {
    let base = base_of(url);
    let local_token = base
        .join("api/v1/access_token")
        .unwrap_or_else(|_| base.clone());
    if oauth && is_reddit(url) {
        if let (Ok(api), Ok(token)) = (Url::parse(REDDIT_OAUTH_API), Url::parse(REDDIT_TOKEN_URL)) {
            return Endpoints { api, token };
        }
    }
    Endpoints {
        api: base,
        token: local_token,
    }
}

fn is_reddit(url: &Url) -> bool {
    url.host_str()
        .map(|h| h.to_ascii_lowercase())
        .is_some_and(|h| h == "reddit.com" || h.ends_with(".reddit.com"))
}

/// `url` without query or fragment, its path ending in `/`.
fn base_of(url: &Url) -> Url {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base
}

/// The search terms joined with ` OR `, in as few queries as Reddit's
/// length limit allows (a single longer term goes alone).
pub fn or_queries(terms: &[String]) -> Vec<String> {
    let mut queries: Vec<String> = Vec::new();
    let mut current = String::new();
    for term in terms.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if current.is_empty() {
            current.push_str(term);
        } else if current.chars().count() + 4 + term.chars().count() <= MAX_QUERY_CHARS {
            current.push_str(" OR ");
            current.push_str(term);
        } else {
            queries.push(std::mem::take(&mut current));
            current.push_str(term);
        }
    }
    if !current.is_empty() {
        queries.push(current);
    }
    queries
}

/// The URL of one search page.
pub fn search_url(
    api: &Url,
    subreddit: Option<&str>,
    query: &str,
    after: Option<&str>,
) -> Option<Url> {
    let mut url = api.clone();
    {
        let mut segments = url.path_segments_mut().ok()?;
        segments.pop_if_empty();
        if let Some(sub) = subreddit {
            segments.push("r").push(sub);
        }
        segments.push("search.json");
    }
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("q", query)
            .append_pair("sort", "new")
            .append_pair("limit", PAGE_SIZE)
            .append_pair("type", "link")
            .append_pair("raw_json", "1");
        if subreddit.is_some() {
            q.append_pair("restrict_sr", "1");
        }
        if let Some(after) = after {
            q.append_pair("after", after);
        }
    }
    Some(url)
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// The fullname to pass as `after` for the next page.
    pub after: Option<String>,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    data: Option<ListingData>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ListingData {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    children: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Thing {
    kind: String,
    data: ThingData,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ThingData {
    name: Option<String>,
    id: Option<String>,
    title: Option<String>,
    selftext: Option<String>,
    /// Comments: their text and the title of their post.
    body: Option<String>,
    link_title: Option<String>,
    permalink: Option<String>,
    author: Option<String>,
    /// A number; anything else is read as no date rather than dropping the post.
    created_utc: Option<serde_json::Value>,
}

/// Reads a search listing (a listing, or an array of them when Reddit
/// answers for several types). `site` is the host links are made on.
pub fn parse_listing(body: &[u8], site: &Url) -> Result<Page, ParseError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ParseError(format!("the answer is not JSON: {e}")))?;
    let listings: Vec<serde_json::Value> = match value {
        serde_json::Value::Array(all) => all,
        one => vec![one],
    };
    let mut page = Page::default();
    let mut any = false;
    for listing in listings {
        let Ok(listing) = serde_json::from_value::<Listing>(listing) else {
            continue;
        };
        let Some(data) = listing.data else {
            if let Some(reason) = listing.message.or(listing.error.map(|e| e.to_string())) {
                return Err(ParseError(format!(
                    "Reddit answered with an error: {reason}"
                )));
            }
            continue;
        };
        any = true;
        page.after = page.after.or(data.after.filter(|a| !a.is_empty()));
        page.items.extend(
            data.children
                .into_iter()
                .filter_map(|c| serde_json::from_value::<Thing>(c).ok())
                .filter_map(|t| item(t, site)),
        );
    }
    if !any {
        return Err(ParseError("the answer is not a Reddit listing".into()));
    }
    Ok(page)
}

fn item(thing: Thing, site: &Url) -> Option<Item> {
    let d = thing.data;
    let (title, text) = match thing.kind.as_str() {
        "t3" => (d.title?, d.selftext.unwrap_or_default()),
        "t1" => (d.link_title.unwrap_or_default(), d.body?),
        _ => return None,
    };
    let name = d
        .name
        .filter(|n| n.starts_with(&format!("{}_", thing.kind)))
        .or_else(|| d.id.map(|id| format!("{}_{id}", thing.kind)))?;
    let published = d.created_utc.and_then(|v| v.as_f64()).and_then(epoch);
    let url = d
        .permalink
        // A path on the site; `//host/…` would be another host.
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .and_then(|p| site.join(&p).ok())
        .map(String::from);
    let author = d
        .author
        .filter(|a| !a.is_empty() && a != "[deleted]" && a != "[removed]");
    Some(Item {
        url,
        platform_id: Some(format!("reddit:{name}")),
        title: crate::text::collapse_ws(&title),
        text: crate::text::collapse_ws(&text),
        author,
        published,
        lang: None,
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
    })
}

fn epoch(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() || secs.abs() > 1e11 {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9) as u32;
    DateTime::from_timestamp(whole as i64, nanos.min(999_999_999))
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

fn token_key(token_url: &Url, client_id: &str) -> String {
    format!("reddit|{token_url}|{client_id}")
}

/// The login of an OAuth source during one crawl.
struct Auth<'a> {
    key: String,
    credentials: &'a (String, Secret),
    token: Option<Secret>,
    /// A refused token is renewed once per crawl, not in a loop.
    renewed: bool,
}

struct Reader<'c> {
    site: &'c Url,
    ends: &'c Endpoints,
    subreddit: Option<&'c str>,
    auth: Option<Auth<'c>>,
    /// The query being paged through.
    query: String,
}

impl paging::Listing for Reader<'_> {
    /// The fullname passed as `after`; None on the first page.
    type Cursor = Option<String>;
    type Error = String;

    async fn page(
        &mut self,
        ctx: &Context<'_>,
        after: &Option<String>,
    ) -> Result<Paged<Option<String>>, String> {
        let url = search_url(
            &self.ends.api,
            self.subreddit,
            &self.query,
            after.as_deref(),
        )
        .ok_or_else(|| format!("{} cannot take a search path", self.ends.api))?;
        let mut fetched = self.get(ctx, url).await?;
        let (body, site) = (std::mem::take(&mut fetched.body), self.site.clone());
        // Parsed off the async workers, within the reading budget.
        let page = Budget::default()
            .read(move || parse_listing(&body, &site))
            .await?;
        Ok(Paged::new(page.items, page.after.map(Some)).with_headers(fetched.headers))
    }
}

impl Reader<'_> {
    /// One API GET, logged in when the source has credentials.
    async fn get(&mut self, ctx: &Context<'_>, url: Url) -> Result<Fetched, String> {
        loop {
            let mut req = Request::api_get(url.clone());
            if self.auth.is_some() {
                let token = self.token(ctx).await?;
                req = req.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
            }
            match ctx.fetch(req).await {
                Ok(fetched) => {
                    if let Some(sub) = self.subreddit {
                        // Reddit redirects a search in an unknown subreddit to its subreddit search.
                        if fetched.final_url.path().contains("/subreddits/search") {
                            return Err(format!("r/{sub} does not exist"));
                        }
                    }
                    return Ok(fetched);
                }
                Err(FetchError::Status { status: 401, .. })
                    if self.auth.as_ref().is_some_and(|a| !a.renewed) =>
                {
                    // The cached token was revoked or expired early: log in again, once.
                    if let Some(auth) = &mut self.auth {
                        forget_token(&auth.key);
                        auth.token = None;
                        auth.renewed = true;
                    }
                }
                Err(FetchError::Status { status, .. }) => {
                    return Err(self.refusal(status));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// A plain sentence for a search the API refused.
    fn refusal(&self, status: u16) -> String {
        match (self.subreddit, status) {
            (Some(sub), 403) => format!(
                "r/{sub} refused the search (HTTP 403): the subreddit is private or quarantined"
            ),
            (Some(sub), 404) => format!(
                "r/{sub} was not found (HTTP 404): the subreddit is banned or does not exist"
            ),
            (_, 401) if self.auth.is_some() => format!(
                "{} refused the app-only token (HTTP 401) even after logging in again",
                self.ends.api
            ),
            (None, 403) if self.auth.is_none() => format!(
                "{} refused the search (HTTP 403); Reddit blocks many requests without OAuth: set client_id and client_secret",
                self.ends.api
            ),
            _ => format!("the search at {} answered HTTP {status}", self.ends.api),
        }
    }

    /// The access token: this crawl's, the process-wide cached one, or a new one.
    async fn token(&mut self, ctx: &Context<'_>) -> Result<Secret, String> {
        let Some(auth) = &mut self.auth else {
            return Err("no credentials".into());
        };
        if let Some(t) = &auth.token {
            return Ok(t.clone());
        }
        if let Some(t) = cached_token(&auth.key, Utc::now()) {
            auth.token = Some(t.value.clone());
            return Ok(t.value);
        }
        let token = login(ctx, &self.ends.token, auth.credentials).await?;
        store_token(&auth.key, token.clone());
        auth.token = Some(token.value.clone());
        Ok(token.value)
    }
}

/// App-only OAuth: `grant_type=client_credentials` with the client id and
/// secret as HTTP Basic auth.
async fn login(
    ctx: &Context<'_>,
    token_url: &Url,
    (client_id, secret): &(String, Secret),
) -> Result<Token, String> {
    let basic = base64(format!("{client_id}:{}", secret.expose()).as_bytes());
    // The secret goes only where it was sent: no redirects.
    let req = Request::post_form(token_url.clone(), &[("grant_type", "client_credentials")])
        .header(AUTHORIZATION, format!("Basic {basic}"))
        .without_redirects();
    let fetched = ctx.fetch(req).await.map_err(|e| match e {
        FetchError::Status {
            status: status @ (400 | 401 | 403),
            ..
        } => format!(
            "Reddit refused the app-only login at {token_url} (HTTP {status}): check client_id and client_secret"
        ),
        e => format!("Reddit app-only login: {e}"),
    })?;
    let answer: TokenAnswer = serde_json::from_slice(&fetched.body)
        .map_err(|_| format!("the token endpoint {token_url} did not answer with JSON"))?;
    let Some(value) = answer.access_token.filter(|t| !t.is_empty()) else {
        let reason = answer
            .message
            .or(answer.error.map(|e| e.to_string()))
            .unwrap_or_else(|| "no access_token in the answer".into());
        return Err(format!(
            "Reddit refused the app-only login at {token_url}: {reason}"
        ));
    };
    let expires = answer
        .expires_in
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| s.min(MAX_TOKEN_SECS) as i64)
        .and_then(chrono::Duration::try_seconds)
        .and_then(|d| Utc::now().checked_add_signed(d));
    Ok(Token {
        value: Secret::new(value),
        expires,
        refresh: None,
    })
}

/// Standard base64 with padding, for the Basic auth header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A local stand-in for a platform API, shared by the reddit and discourse tests.
#[cfg(test)]
pub(crate) mod stub {
    use axum::body::Body;
    use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
    use axum::response::Response;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    /// One request as the stub saw it.
    #[derive(Debug, Clone)]
    pub struct Seen {
        pub method: String,
        pub path: String,
        pub query: Vec<(String, String)>,
        pub headers: HeaderMap,
        pub body: String,
    }

    impl Seen {
        pub fn param(&self, name: &str) -> Option<&str> {
            self.query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }

        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).and_then(|v| v.to_str().ok())
        }
    }

    /// Status, extra headers, JSON body.
    pub type Reply = (u16, Vec<(&'static str, String)>, String);

    pub type Log = Arc<Mutex<Vec<Seen>>>;

    /// Serves `answer` on 127.0.0.1 and logs every request.
    pub async fn serve<F>(answer: F) -> (SocketAddr, Log)
    where
        F: Fn(&Seen) -> Reply + Send + Sync + 'static,
    {
        let log: Log = Arc::default();
        let answer = Arc::new(answer);
        let app = axum::Router::new().fallback({
            let log = Arc::clone(&log);
            move |req: axum::extract::Request| {
                let (log, answer) = (Arc::clone(&log), Arc::clone(&answer));
                async move {
                    let (parts, body) = req.into_parts();
                    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                    let seen = Seen {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_owned(),
                        query: url::form_urlencoded::parse(
                            parts.uri.query().unwrap_or_default().as_bytes(),
                        )
                        .into_owned()
                        .collect(),
                        headers: parts.headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    let (status, headers, body) = answer(&seen);
                    log.lock().unwrap().push(seen);
                    let mut resp = Response::new(Body::from(body));
                    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
                    resp.headers_mut().insert(
                        "content-type",
                        HeaderValue::from_static("application/json; charset=utf-8"),
                    );
                    for (n, v) in headers {
                        resp.headers_mut().insert(
                            HeaderName::from_static(n),
                            HeaderValue::from_str(&v).unwrap(),
                        );
                    }
                    resp
                }
            }
        });
        (crate::http::testing::serve(app).await, log)
    }

    pub fn json(body: &str) -> Reply {
        (200, Vec::new(), body.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::stub::{json, serve, Reply, Seen};
    use super::*;
    use crate::http::HttpClient;
    use crate::sources::context::testing::{self, all_known, nothing_known};
    use crate::sources::context::KnownFn;
    use chrono::TimeZone;
    use std::time::Duration;

    const PAGE1: &str = include_str!("../../tests/fixtures/reddit/search-page1.json");
    const PAGE2: &str = include_str!("../../tests/fixtures/reddit/search-page2.json");
    const SUB: &str = include_str!("../../tests/fixtures/reddit/sub-de.json");
    const TOKEN: &str = include_str!("../../tests/fixtures/reddit/token.json");
    const ACCESS: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIiwidHlwIjoiSldUIn0.eyJzdWIiOiJsb2lkIiwiZXhwIjoxNzk1Njg3MTAwfQ.c2lnbmF0dXJl";
    /// `q7Xc2pLmN0aBdE:r3dd1t-s3cr3t_Zx9`, encoded by `base64(1)`.
    const BASIC: &str = "Basic cTdYYzJwTG1OMGFCZEU6cjNkZDF0LXMzY3IzdF9aeDk=";

    fn client() -> HttpClient {
        testing::client(2)
    }

    fn context<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, terms: &[&str]) -> Context<'a> {
        testing::context(http, known, "reddit-test", terms, 3650)
    }

    fn ids(h: &Harvest) -> Vec<&str> {
        h.items
            .iter()
            .map(|i| i.platform_id.as_deref().unwrap())
            .collect()
    }

    fn site(addr: std::net::SocketAddr) -> Url {
        Url::parse(&format!("http://{addr}")).unwrap()
    }

    /// Page 1 without `after`, page 2 with `after=t3_1p6ivx3`.
    fn two_pages(s: &Seen) -> Reply {
        match s.param("after") {
            None => json(PAGE1),
            Some("t3_1p6ivx3") => json(PAGE2),
            Some(other) => (400, vec![], format!("unexpected after {other}")),
        }
    }

    #[test]
    fn parses_a_search_listing() {
        let site = Url::parse("https://www.reddit.com").unwrap();
        let page = parse_listing(PAGE1.as_bytes(), &site).unwrap();
        assert_eq!(page.after.as_deref(), Some("t3_1p6ivx3"));
        assert_eq!(page.items.len(), 3);
        assert_eq!(
            page.items[0],
            Item {
                url: Some(
                    "https://www.reddit.com/r/de/comments/1p6k2qa/nordkorea_schickt_weitere_soldaten/"
                        .into()
                ),
                platform_id: Some("reddit:t3_1p6k2qa".into()),
                title: "Nordkorea schickt weitere Soldaten".into(),
                text: "Laut Südkoreas Geheimdienst sind weitere 3.000 Soldaten unterwegs nach Russland. Quelle: [tagesschau.de](https://www.tagesschau.de/ausland/asien/nordkorea-soldaten-100.html) & Reuters".into(),
                author: Some("Kartoffelsalat_42".into()),
                published: Some(Utc.with_ymd_and_hms(2026, 11, 25, 9, 12, 44).unwrap()),
                lang: None,
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        // A link post by a deleted account: no text, no author.
        assert_eq!(page.items[1].text, "");
        assert_eq!(page.items[1].author, None);
        assert_eq!(
            page.items[2].text,
            "Moscow confirmed on Tuesday that a second delegation from Pyongyang arrived to discuss \"military-technical cooperation\". What does North Korea get in return?"
        );
        let last = parse_listing(PAGE2.as_bytes(), &site).unwrap();
        assert_eq!(last.after, None);
    }

    #[test]
    fn odd_entries_are_skipped_not_fatal() {
        let body = r#"[{"kind":"Listing","data":{"after":"","children":[
            {"kind":"t5","data":{"name":"t5_22i0","display_name":"de"}},
            {"kind":"t3","data":{"name":"t3_a1","title":42}},
            {"kind":"t3","data":{"id":"b2","title":"Ohne name","created_utc":"gestern"}},
            {"kind":"t3","data":{"name":"t3_c3","title":"Zeit","created_utc":1e300,"permalink":"https://evil.example/x"}},
            {"kind":"t3","data":{"name":"t3_c4","title":"Anderswo","permalink":"//evil.example/x"}},
            {"kind":"t1","data":{"name":"t1_d4","body":"Ein Kommentar","link_title":"Der Post","permalink":"/r/de/comments/x/y/d4/","author":"[removed]","created_utc":1795597964.5}},
            "garbage", null
        ]}}, {"kind":"Listing","data":{"after":null,"children":[]}}]"#;
        let site = Url::parse("https://www.reddit.com/").unwrap();
        let page = parse_listing(body.as_bytes(), &site).unwrap();
        assert_eq!(page.after, None);
        assert_eq!(
            page.items
                .iter()
                .map(|i| i.platform_id.as_deref().unwrap())
                .collect::<Vec<_>>(),
            [
                "reddit:t3_b2",
                "reddit:t3_c3",
                "reddit:t3_c4",
                "reddit:t1_d4"
            ]
        );
        assert_eq!(page.items[0].published, None);
        assert_eq!(page.items[1].published, None);
        assert_eq!(page.items[1].url, None);
        // A protocol-relative permalink would lead to another host.
        assert_eq!(page.items[2].url, None);
        let comment = &page.items[3];
        assert_eq!(comment.title, "Der Post");
        assert_eq!(comment.text, "Ein Kommentar");
        assert_eq!(comment.author, None);
        assert_eq!(
            comment.published,
            Some(Utc.timestamp_opt(1795597964, 500_000_000).unwrap())
        );
        assert!(parse_listing(b"<html>blocked</html>", &site).is_err());
        let err = parse_listing(br#"{"message": "Forbidden", "error": 403}"#, &site).unwrap_err();
        assert_eq!(err.0, "Reddit answered with an error: Forbidden");
        assert!(parse_listing(b"[1, 2]", &site).is_err());
    }

    #[test]
    fn terms_are_joined_with_or_within_the_length_limit() {
        let terms: Vec<String> = ["nordkorea", "\"north korea\"", "russland"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            or_queries(&terms),
            ["nordkorea OR \"north korea\" OR russland"]
        );
        let long: Vec<String> = (0..60).map(|i| format!("begriff{i:02}")).collect();
        let queries = or_queries(&long);
        assert_eq!(queries.len(), 2);
        assert!(queries.iter().all(|q| q.chars().count() <= MAX_QUERY_CHARS));
        assert_eq!(
            queries[0].matches(" OR ").count() + queries[1].matches(" OR ").count(),
            58
        );
        assert!(queries[1].ends_with("begriff59"));
        assert!(or_queries(&[" ".to_owned()]).is_empty());
    }

    #[test]
    fn endpoints_for_reddit_and_elsewhere() {
        let reddit = Url::parse("https://www.reddit.com").unwrap();
        assert_eq!(
            endpoints(&reddit, true),
            Endpoints {
                api: Url::parse("https://oauth.reddit.com/").unwrap(),
                token: Url::parse("https://www.reddit.com/api/v1/access_token").unwrap(),
            }
        );
        assert_eq!(
            endpoints(&reddit, false).api.as_str(),
            "https://www.reddit.com/"
        );
        let local = Url::parse("http://127.0.0.1:8080/reddit").unwrap();
        let e = endpoints(&local, true);
        assert_eq!(e.api.as_str(), "http://127.0.0.1:8080/reddit/");
        assert_eq!(
            e.token.as_str(),
            "http://127.0.0.1:8080/reddit/api/v1/access_token"
        );
        assert_eq!(
            search_url(&e.api, Some("de"), "a OR \"b c\"", Some("t3_x")).unwrap().as_str(),
            "http://127.0.0.1:8080/reddit/r/de/search.json?q=a+OR+%22b+c%22&sort=new&limit=100&type=link&raw_json=1&restrict_sr=1&after=t3_x"
        );
    }

    #[test]
    fn basic_auth_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            format!("Basic {}", base64(b"q7Xc2pLmN0aBdE:r3dd1t-s3cr3t_Zx9")),
            BASIC
        );
    }

    #[tokio::test]
    async fn pages_by_after_and_keeps_a_repeated_post_once() {
        let (addr, log) = serve(two_pages).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea", "\"north korea\""]);
        let h = read(&ctx, &site(addr), None, None).await;
        assert_eq!(h.error, None);
        assert_eq!(
            ids(&h),
            [
                "reddit:t3_1p6k2qa",
                "reddit:t3_1p6jz8m",
                "reddit:t3_1p6ivx3",
                "reddit:t3_1p6h0fd",
                "reddit:t3_1p6gq2r"
            ]
        );
        assert_eq!(
            h.items[0].url.as_deref(),
            Some(
                format!("http://{addr}/r/de/comments/1p6k2qa/nordkorea_schickt_weitere_soldaten/")
                    .as_str()
            )
        );
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        for s in log.iter() {
            assert_eq!(s.method, "GET");
            assert_eq!(s.path, "/search.json");
            assert_eq!(s.param("q"), Some("nordkorea OR \"north korea\""));
            assert_eq!(s.param("sort"), Some("new"));
            assert_eq!(s.param("limit"), Some("100"));
            assert_eq!(s.param("raw_json"), Some("1"));
            assert_eq!(s.param("restrict_sr"), None);
            assert_eq!(s.header("authorization"), None);
        }
        assert_eq!(log[1].param("after"), Some("t3_1p6ivx3"));
    }

    #[tokio::test]
    async fn stops_at_a_known_page_an_old_page_or_max_pages() {
        let (addr, log) = serve(two_pages).await;
        let http = client();

        let ctx = context(&http, &all_known, &["nordkorea"]);
        let h = read(&ctx, &site(addr), None, None).await;
        assert_eq!((h.items.len(), log.lock().unwrap().len()), (3, 1));

        // Page 1 reaches back to 2026-11-24 21:47, more than 12 h before "now".
        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.lookback = Duration::from_secs(12 * 3600);
        let h = read(&ctx, &site(addr), None, None).await;
        assert_eq!((h.items.len(), log.lock().unwrap().len()), (3, 2));

        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.lookback = Duration::from_secs(15 * 3600);
        ctx.max_pages = 1;
        let h = read(&ctx, &site(addr), None, None).await;
        assert_eq!((h.items.len(), log.lock().unwrap().len()), (3, 3));

        // No terms at all: nothing to ask.
        let ctx = context(&http, &nothing_known, &[]);
        assert_eq!(
            read(&ctx, &site(addr), None, None).await,
            Harvest::default()
        );
        assert_eq!(log.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn searches_in_a_subreddit_and_names_a_closed_one() {
        let (addr, log) = serve(|s: &Seen| match s.path.as_str() {
            "/r/de/search.json" => json(SUB),
            "/r/geheim/search.json" => (
                403,
                vec![],
                r#"{"reason": "private", "message": "Forbidden", "error": 403}"#.into(),
            ),
            _ => (
                404,
                vec![],
                r#"{"reason": "banned", "message": "Not Found", "error": 404}"#.into(),
            ),
        })
        .await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let h = read(&ctx, &site(addr), Some("de"), None).await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 3);
        let first = log.lock().unwrap()[0].clone();
        assert_eq!(first.param("restrict_sr"), Some("1"));
        assert_eq!(first.param("q"), Some("nordkorea"));

        let h = read(&ctx, &site(addr), Some("geheim"), None).await;
        assert_eq!(
            h.error.as_deref(),
            Some("r/geheim refused the search (HTTP 403): the subreddit is private or quarantined")
        );
        let h = read(&ctx, &site(addr), Some("gesperrt"), None).await;
        assert_eq!(
            h.error.as_deref(),
            Some("r/gesperrt was not found (HTTP 404): the subreddit is banned or does not exist")
        );
        assert!(h.items.is_empty());
    }

    /// A token endpoint that wants Basic auth and a Bearer-only API; the
    /// first `revoked` API calls answer 401.
    fn oauth_server(revoked: usize) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
        let refused = std::sync::atomic::AtomicUsize::new(0);
        move |s: &Seen| match (s.method.as_str(), s.path.as_str()) {
            ("POST", "/api/v1/access_token") => {
                if s.header("authorization") == Some(BASIC)
                    && s.body == "grant_type=client_credentials"
                    && s.header("content-type") == Some("application/x-www-form-urlencoded")
                {
                    json(TOKEN)
                } else {
                    (
                        401,
                        vec![],
                        r#"{"message": "Unauthorized", "error": 401}"#.into(),
                    )
                }
            }
            ("GET", "/search.json") => {
                let bearer = format!("Bearer {ACCESS}");
                if s.header("authorization") != Some(bearer.as_str())
                    || refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < revoked
                {
                    return (
                        401,
                        vec![],
                        r#"{"message": "Unauthorized", "error": 401}"#.into(),
                    );
                }
                let (status, mut headers, body) = two_pages(s);
                headers.push(("x-ratelimit-used", "4".into()));
                headers.push(("x-ratelimit-remaining", "96.0".into()));
                headers.push(("x-ratelimit-reset", "312".into()));
                (status, headers, body)
            }
            _ => (404, vec![], "{}".into()),
        }
    }

    fn credentials(secret: &str) -> (String, Secret) {
        ("q7Xc2pLmN0aBdE".into(), Secret::new(secret))
    }

    #[tokio::test]
    async fn app_only_oauth_logs_in_once_and_sends_the_bearer_token() {
        let (addr, log) = serve(oauth_server(0)).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let creds = credentials("r3dd1t-s3cr3t_Zx9");
        let h = read(&ctx, &site(addr), None, Some(&creds)).await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 5);
        let paths = |log: &[Seen]| -> Vec<String> {
            log.iter()
                .map(|s| format!("{} {}", s.method, s.path))
                .collect()
        };
        assert_eq!(
            paths(&log.lock().unwrap()),
            [
                "POST /api/v1/access_token",
                "GET /search.json",
                "GET /search.json"
            ]
        );
        // The token is cached for the process: the next crawl goes straight to the API.
        let h = read(&ctx, &site(addr), None, Some(&creds)).await;
        assert_eq!(h.items.len(), 5);
        assert_eq!(log.lock().unwrap().len(), 5);
        forget_token(&token_key(&endpoints(&site(addr), true).token, &creds.0));
    }

    #[tokio::test]
    async fn a_revoked_token_is_renewed_once() {
        let (addr, log) = serve(oauth_server(1)).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let creds = credentials("r3dd1t-s3cr3t_Zx9");
        let h = read(&ctx, &site(addr), None, Some(&creds)).await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 5);
        let statuses: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect();
        assert_eq!(
            statuses,
            [
                "POST /api/v1/access_token",
                "GET /search.json",
                "POST /api/v1/access_token",
                "GET /search.json",
                "GET /search.json"
            ]
        );
        forget_token(&token_key(&endpoints(&site(addr), true).token, &creds.0));
    }

    #[tokio::test]
    async fn wrong_credentials_give_a_plain_error_without_the_secret() {
        let (addr, log) = serve(oauth_server(0)).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let creds = credentials("falsch-geheim-123");
        let h = read(&ctx, &site(addr), None, Some(&creds)).await;
        let error = h.error.unwrap();
        assert_eq!(
            error,
            format!("Reddit refused the app-only login at http://{addr}/api/v1/access_token (HTTP 401): check client_id and client_secret")
        );
        assert!(!error.contains("falsch-geheim-123"));
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
                    "{\"message\": \"Too Many Requests\", \"error\": 429}".into(),
                );
            }
            two_pages(s)
        })
        .await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let start = std::time::Instant::now();
        let h = read(&ctx, &site(addr), None, None).await;
        assert!(start.elapsed() >= Duration::from_millis(900));
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 5);
        assert_eq!(log.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_spent_rate_limit_budget_stops_paging_with_a_sentence() {
        let (addr, log) = serve(|s: &Seen| {
            let (status, mut headers, body) = two_pages(s);
            headers.push(("x-ratelimit-used", "100".into()));
            headers.push(("x-ratelimit-remaining", "0".into()));
            headers.push(("x-ratelimit-reset", "540".into()));
            (status, headers, body)
        })
        .await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let h = read(&ctx, &site(addr), None, None).await;
        assert_eq!(h.items.len(), 3);
        assert_eq!(
            h.error.as_deref(),
            Some("rate limit budget spent for the next 540 s; the rest is read on the next crawl")
        );
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_blocked_logged_out_search_says_what_to_do() {
        let (addr, _log) = serve(|_: &Seen| (403, vec![], "<html>blocked</html>".into())).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let h = read(&ctx, &site(addr), None, None).await;
        assert_eq!(
            h.error,
            Some(format!("http://{addr}/ refused the search (HTTP 403); Reddit blocks many requests without OAuth: set client_id and client_secret"))
        );
    }
}
