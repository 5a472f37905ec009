//! `bluesky` sources: `app.bsky.feed.searchPosts`, optionally logged in
//! through `com.atproto.server.createSession`. Bluesky's search treats
//! `OR` as a plain word (every word must match), so each search term runs
//! as its own search, paged by `cursor`. A session is kept in the platform
//! token cache and renewed with `refreshSession` (or a new login) when the
//! server answers 400 (`ExpiredToken`) or 401.

use super::context::Context;
use super::paging::{Harvest, Listing, Page as Paged, Pager};
use super::platform::{cached_token, forget_token, store_token, Secret, Token};
use super::{dates, Item};
use crate::http::{FetchError, Fetched, Request};
use crate::text::collapse_ws;
use http::header::AUTHORIZATION;
use serde::Deserialize;
use url::Url;

/// Bluesky's largest page.
const LIMIT: u32 = 100;

/// One page of a search, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Where the next page starts; None on the last page.
    pub cursor: Option<String>,
}

/// The parts of an `app.bsky.feed.defs#postView` a mention needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    #[serde(default)]
    author: Author,
    #[serde(default)]
    record: Record,
    indexed_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Author {
    did: Option<String>,
    handle: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    text: Option<String>,
    created_at: Option<String>,
    langs: Option<Vec<String>>,
}

/// The answer of `createSession` and `refreshSession`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    access_jwt: Option<String>,
    refresh_jwt: Option<String>,
}

/// Parses a `searchPosts` answer; posts without a usable `uri` are skipped.
pub fn parse(body: &[u8]) -> Result<Page, String> {
    let root: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let posts = root
        .get("posts")
        .and_then(|p| p.as_array())
        .ok_or("no \"posts\" list")?;
    let items = posts
        .iter()
        .filter_map(|p| PostView::deserialize(p).ok())
        .filter_map(post_to_item)
        .collect();
    let cursor = root
        .get("cursor")
        .and_then(|c| c.as_str())
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Ok(Page { items, cursor })
}

fn post_to_item(post: PostView) -> Option<Item> {
    // at://DID/app.bsky.feed.post/RKEY
    let rest = post.uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let (repo, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    if repo.is_empty() || rkey.is_empty() || parts.next().is_some() {
        return None;
    }
    let handle = post
        .author
        .handle
        .filter(|h| !h.is_empty() && h != "handle.invalid");
    // bsky.app links by DID as well as by handle; an unverified handle links by DID.
    let profile = handle
        .clone()
        .or(post.author.did.clone())
        .unwrap_or_else(|| repo.to_owned());
    let url = (collection == "app.bsky.feed.post" && is_path_safe(&profile) && is_path_safe(rkey))
        .then(|| format!("https://bsky.app/profile/{profile}/post/{rkey}"));
    let published = post
        .record
        .created_at
        .as_deref()
        .and_then(dates::parse_date)
        .or_else(|| post.indexed_at.as_deref().and_then(dates::parse_date));
    let lang = post
        .record
        .langs
        .unwrap_or_default()
        .first()
        .and_then(|l| language(l));
    Some(Item {
        url,
        title: String::new(),
        text: collapse_ws(post.record.text.as_deref().unwrap_or_default()),
        author: handle.or(post.author.did),
        published,
        lang,
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
        platform_id: Some(post.uri),
    })
}

/// Handles, DIDs and record keys go into a link as they are; anything else is refused.
fn is_path_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:~-".contains(&b))
}

/// The primary subtag of a BCP 47 tag (`pt-BR` → `pt`).
fn language(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.trim();
    (matches!(primary.len(), 2 | 3) && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

/// `{base}/xrpc/{method}`, keeping a path prefix of the configured URL.
fn xrpc(base: &Url, method: &str) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["xrpc", method]);
    }
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// The search URL for one term, at `cursor` if given.
pub fn search_url(base: &Url, term: &str, cursor: Option<&str>) -> Url {
    let mut url = xrpc(base, "app.bsky.feed.searchPosts");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("q", term)
            .append_pair("sort", "latest")
            .append_pair("limit", &LIMIT.to_string());
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
    }
    url
}

/// A login: the account, its cache key and its current tokens.
struct Session<'a> {
    base: &'a Url,
    identifier: &'a str,
    password: &'a Secret,
    key: String,
    token: Token,
}

impl<'a> Session<'a> {
    /// The cached session of this account at this server, else a new login.
    async fn open(
        ctx: &Context<'_>,
        base: &'a Url,
        identifier: &'a str,
        password: &'a Secret,
    ) -> Result<Session<'a>, String> {
        let key = format!("bluesky|{}|{identifier}", base.as_str());
        let token = match cached_token(&key, ctx.now) {
            Some(t) => t,
            None => {
                let t = create_session(ctx, base, identifier, password).await?;
                store_token(&key, t.clone());
                t
            }
        };
        Ok(Session {
            base,
            identifier,
            password,
            key,
            token,
        })
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.value.expose())
    }

    /// Swaps an expired access token: `refreshSession` first, a new login if that fails.
    async fn renew(&mut self, ctx: &Context<'_>) -> Result<(), String> {
        forget_token(&self.key);
        let refreshed = match &self.token.refresh {
            Some(refresh) => match refresh_session(ctx, self.base, refresh).await {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::info!(
                        source = ctx.source,
                        "Bluesky session not renewed ({e}); logging in again"
                    );
                    None
                }
            },
            None => None,
        };
        let token = match refreshed {
            Some(t) => t,
            None => create_session(ctx, self.base, self.identifier, self.password).await?,
        };
        store_token(&self.key, token.clone());
        self.token = token;
        Ok(())
    }
}

fn token_from(body: &[u8]) -> Option<Token> {
    let answer: SessionAnswer = serde_json::from_slice(body).ok()?;
    let access = answer.access_jwt.filter(|t| !t.is_empty())?;
    Some(Token {
        value: Secret::new(access),
        // Expiry shows as 400 ExpiredToken / 401; renewing then is enough.
        expires: None,
        refresh: answer
            .refresh_jwt
            .filter(|t| !t.is_empty())
            .map(Secret::new),
    })
}

async fn create_session(
    ctx: &Context<'_>,
    base: &Url,
    identifier: &str,
    password: &Secret,
) -> Result<Token, String> {
    let url = xrpc(base, "com.atproto.server.createSession");
    let body = serde_json::json!({"identifier": identifier, "password": password.expose()});
    // The password goes only where it was sent: no redirects.
    match ctx
        .fetch(Request::post_json(url, &body).without_redirects())
        .await
    {
        Ok(f) => token_from(&f.body).ok_or_else(|| {
            format!("Bluesky login as {identifier} brought no access token from {base}")
        }),
        Err(FetchError::Status {
            status: 400 | 401, ..
        }) => Err(format!(
            "Bluesky login as {identifier} failed: {base} did not accept the identifier or app_password (check both for this source)"
        )),
        Err(FetchError::Status {
            status: status @ (404 | 501),
            ..
        }) => Err(format!(
            "Bluesky login as {identifier} failed: {base} offers no login (HTTP {status}); set url to the account's server, e.g. https://bsky.social"
        )),
        Err(e) => Err(format!("Bluesky login as {identifier} failed: {e}")),
    }
}

async fn refresh_session(ctx: &Context<'_>, base: &Url, refresh: &Secret) -> Result<Token, String> {
    let url = xrpc(base, "com.atproto.server.refreshSession");
    let req = Request {
        method: http::Method::POST,
        ..Request::api_get(url)
    }
    .header(AUTHORIZATION, format!("Bearer {}", refresh.expose()))
    .without_redirects();
    let fetched = ctx.fetch(req).await.map_err(|e| e.to_string())?;
    token_from(&fetched.body).ok_or_else(|| "the answer has no access token".to_owned())
}

/// Fetches one search page, renewing the session once when it has expired.
async fn fetch_page(
    ctx: &Context<'_>,
    endpoint: &Url,
    session: &mut Option<Session<'_>>,
    first_page: bool,
) -> Result<Fetched, String> {
    let request = |s: &Option<Session<'_>>| {
        let req = Request::api_get(endpoint.clone());
        match s {
            Some(s) => req.header(AUTHORIZATION, s.bearer()),
            None => req,
        }
    };
    let mut result = ctx.fetch(request(session)).await;
    let mut renewed = false;
    if let (
        Err(FetchError::Status {
            status: 400 | 401, ..
        }),
        Some(s),
    ) = (&result, session.as_mut())
    {
        s.renew(ctx).await?;
        renewed = true;
        result = ctx.fetch(request(session)).await;
    }
    result.map_err(|e| {
        let status = match &e {
            FetchError::Status { status, .. } => *status,
            _ => return e.to_string(),
        };
        match (session.as_ref(), status) {
            (None, 401 | 403) if first_page => format!(
                "Bluesky refused the search without login (HTTP {status}); set identifier and app_password for this source"
            ),
            (None, 400 | 401 | 403) if !first_page => format!(
                "Bluesky refused to page past the first results without login (HTTP {status}); set identifier and app_password for this source"
            ),
            (Some(s), 400 | 401) if renewed => format!(
                "Bluesky refused the search as {} even with a renewed session (HTTP {status}): {e}",
                s.identifier
            ),
            (Some(s), 403) => format!(
                "Bluesky refused the search as {} (HTTP 403): {e}",
                s.identifier
            ),
            _ => e.to_string(),
        }
    })
}

/// One term's search, paged by `cursor` (None on the first page).
struct Search<'s, 'l> {
    base: &'s Url,
    term: &'s str,
    session: &'s mut Option<Session<'l>>,
}

impl Listing for Search<'_, '_> {
    type Cursor = Option<String>;
    type Error = String;

    async fn page(
        &mut self,
        ctx: &Context<'_>,
        cursor: &Option<String>,
    ) -> Result<Paged<Option<String>>, String> {
        let endpoint = search_url(self.base, self.term, cursor.as_deref());
        let fetched = fetch_page(ctx, &endpoint, self.session, cursor.is_none()).await?;
        let page = parse(&fetched.body)
            .map_err(|e| format!("{endpoint}: not a Bluesky search answer ({e})"))?;
        Ok(Paged::new(page.items, page.cursor.map(Some)).with_headers(fetched.headers))
    }
}

pub async fn read(ctx: &Context<'_>, url: &Url, login: Option<&(String, Secret)>) -> Harvest {
    if ctx.search_terms.is_empty() {
        return Harvest {
            error: Some(
                "nothing to search for: set search for this source or give its topics a positive term"
                    .to_owned(),
            ),
            ..Harvest::default()
        };
    }
    let mut session = match login {
        Some((identifier, password)) => match Session::open(ctx, url, identifier, password).await {
            Ok(s) => Some(s),
            Err(e) => {
                return Harvest {
                    error: Some(e),
                    ..Harvest::default()
                }
            }
        },
        None => None,
    };
    let mut pager = Pager::new(ctx);
    let mut error = None;
    for term in &ctx.search_terms {
        let mut search = Search {
            base: url,
            term,
            session: &mut session,
        };
        if let Err(e) = pager.run(&mut search, None).await {
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
    use axum::http::{HeaderMap as Headers, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use chrono::{DateTime, Utc};
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const IDENTIFIER: &str = "alice.example";
    const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/bluesky/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn parses_post_views() {
        let page = parse(fixture("search_page1.json").as_bytes()).unwrap();
        assert_eq!(page.cursor.as_deref(), Some("100"));
        assert_eq!(
            page.items,
            vec![
                Item {
                    url: Some("https://bsky.app/profile/newsdesk.example.com/post/3lbnyxq6wzc2k".into()),
                    platform_id: Some("at://did:plc:x2nsupeeo52oznrmplwapppl/app.bsky.feed.post/3lbnyxq6wzc2k".into()),
                    title: String::new(),
                    text: "North Korea has sent more troops to Kursk, according to Seoul's intelligence service. news.example.com/world/2026/...".into(),
                    author: Some("newsdesk.example.com".into()),
                    published: at("2026-11-25T10:42:17.512Z"),
                    lang: Some("en".into()),
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
                Item {
                    url: Some("https://bsky.app/profile/auslandsjournal.bsky.social/post/3lbnwr2ko7k2a".into()),
                    platform_id: Some("at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3lbnwr2ko7k2a".into()),
                    title: String::new(),
                    text: "Nordkoreas Außenministerin in Moskau: Gespräche mit Lawrow über eine „strategische Partnerschaft“.".into(),
                    author: Some("auslandsjournal.bsky.social".into()),
                    published: at("2026-11-25T09:58:03Z"),
                    lang: Some("de".into()),
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
                Item {
                    url: Some("https://bsky.app/profile/auslandsjournal.bsky.social/post/3lbnvbd2mfs2o".into()),
                    platform_id: Some("at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3lbnvbd2mfs2o".into()),
                    title: String::new(),
                    // Post text is plain: `&` and `<…>` stay as typed.
                    text: "Nordkoreanische Soldaten in Russland: neuer Bericht aus Kursk & Belgorod <Liveblog>".into(),
                    author: Some("auslandsjournal.bsky.social".into()),
                    published: at("2026-11-25T08:31:40.218Z"),
                    lang: Some("de".into()),
                    unread_date: None,
                    publisher: None,
                    parsed_url: Default::default(),
                },
            ]
        );
        let page = parse(fixture("search_page2.json").as_bytes()).unwrap();
        assert_eq!(page.cursor, None);
        let first = &page.items[0];
        // An unverified handle links and signs by DID.
        assert_eq!(
            first.url.as_deref(),
            Some("https://bsky.app/profile/did:plc:7iza6de2dwap2sbkpav7c6c6/post/3lbmt7lxcdk2y")
        );
        assert_eq!(
            first.author.as_deref(),
            Some("did:plc:7iza6de2dwap2sbkpav7c6c6")
        );
        assert_eq!(page.items[1].lang, None);
        assert_eq!(page.items[1].published, at("2026-11-24T20:11:27Z"));
    }

    #[test]
    fn odd_posts_are_skipped_and_garbage_is_an_error() {
        let body = br#"{"cursor": "", "posts": [
            {"uri": 7},
            {"cid": "bafy-no-uri", "record": {"text": "x"}},
            {"uri": "https://example.com/not-at"},
            {"uri": "at://did:plc:abc/app.bsky.feed.post/"},
            {"uri": "at://did:plc:abc/app.bsky.feed.post/3k1/extra"},
            {"uri": "at://did:plc:abc/app.bsky.feed.post/3k2", "author": {"handle": "bob.example"},
             "record": {"text": null, "createdAt": "yesterday", "langs": null}, "indexedAt": "2026-11-25T07:00:00Z"},
            {"uri": "at://did:plc:abc/app.bsky.feed.post/3k3", "author": "not an object"},
            "not a post"
        ]}"#;
        let page = parse(body).unwrap();
        assert_eq!(page.cursor, None);
        assert_eq!(
            page.items,
            vec![Item {
                url: Some("https://bsky.app/profile/bob.example/post/3k2".into()),
                platform_id: Some("at://did:plc:abc/app.bsky.feed.post/3k2".into()),
                title: String::new(),
                text: String::new(),
                author: Some("bob.example".into()),
                published: at("2026-11-25T07:00:00Z"),
                lang: None,
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }]
        );
        assert!(parse(b"<html>Bad Gateway</html>").is_err());
        assert!(parse(br#"{"error": "AuthMissing"}"#).is_err());
    }

    #[test]
    fn urls_keep_the_path_prefix() {
        let base = Url::parse("https://public.api.bsky.app").unwrap();
        assert_eq!(
            search_url(&base, "\"north korea\"", Some("100")).as_str(),
            "https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?q=%22north+korea%22&sort=latest&limit=100&cursor=100"
        );
        let prefixed = Url::parse("http://127.0.0.1:9/pds/").unwrap();
        assert_eq!(
            xrpc(&prefixed, "com.atproto.server.createSession").as_str(),
            "http://127.0.0.1:9/pds/xrpc/com.atproto.server.createSession"
        );
    }

    /// A small PDS/AppView: logins, refreshes and searches, with switches.
    #[derive(Default)]
    struct Pds {
        logins: usize,
        refreshes: usize,
        /// Access tokens the server accepts now.
        valid: HashSet<String>,
        refresh_ok: bool,
        /// Serve the first page without login (paging still needs one).
        public_first_page: bool,
        spent_budget: bool,
        /// (q, cursor, Authorization) of every search.
        searches: Vec<(String, Option<String>, Option<String>)>,
    }

    type Shared = Arc<Mutex<Pds>>;

    fn json(status: StatusCode, body: String) -> Response {
        (
            status,
            [("content-type", "application/json; charset=utf-8")],
            body,
        )
            .into_response()
    }

    fn error(status: StatusCode, error: &str, message: &str) -> Response {
        json(
            status,
            serde_json::json!({"error": error, "message": message}).to_string(),
        )
    }

    fn session(pds: &mut Pds, access: String, refresh: String) -> Response {
        pds.valid.insert(access.clone());
        json(
            StatusCode::OK,
            fixture("create_session.json")
                .replace("{ACCESS}", &access)
                .replace("{REFRESH}", &refresh),
        )
    }

    async fn create_session(
        State(s): State<Shared>,
        Json(body): Json<serde_json::Value>,
    ) -> Response {
        if body["identifier"] != IDENTIFIER || body["password"] != PASSWORD {
            return error(
                StatusCode::UNAUTHORIZED,
                "AuthenticationRequired",
                "Invalid identifier or password",
            );
        }
        let mut pds = s.lock().unwrap();
        pds.logins += 1;
        let n = pds.logins;
        session(&mut pds, format!("access-{n}"), format!("refresh-{n}"))
    }

    async fn refresh_session(State(s): State<Shared>, headers: Headers) -> Response {
        let mut pds = s.lock().unwrap();
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if !pds.refresh_ok || !auth.is_some_and(|a| a.starts_with("Bearer refresh-")) {
            return error(StatusCode::BAD_REQUEST, "ExpiredToken", "Token has expired");
        }
        pds.refreshes += 1;
        let n = pds.refreshes;
        session(&mut pds, format!("access-r{n}"), format!("refresh-r{n}"))
    }

    async fn search(
        State(s): State<Shared>,
        Query(q): Query<HashMap<String, String>>,
        headers: Headers,
    ) -> Response {
        let mut pds = s.lock().unwrap();
        if q.get("sort").map(String::as_str) != Some("latest")
            || q.get("limit").map(String::as_str) != Some("100")
        {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "unexpected parameters",
            );
        }
        let term = q.get("q").cloned().unwrap_or_default();
        let cursor = q.get("cursor").cloned();
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        pds.searches
            .push((term.clone(), cursor.clone(), auth.clone()));
        match auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")) {
            Some(token) if !pds.valid.contains(token) => {
                return error(StatusCode::BAD_REQUEST, "ExpiredToken", "Token has expired")
            }
            Some(_) => {}
            None if pds.public_first_page && cursor.is_none() => {}
            None => {
                return error(
                    StatusCode::FORBIDDEN,
                    "AuthMissing",
                    "Authentication Required",
                )
            }
        }
        let body = match (term.as_str(), cursor.as_deref()) {
            ("nordkorea", None) => fixture("search_page1.json"),
            ("nordkorea", Some("100")) => fixture("search_page2.json"),
            ("\"north korea\"", None) => fixture("search_phrase.json"),
            ("stuck", _) => fixture("search_phrase.json").replacen('{', r#"{"cursor": "same","#, 1),
            _ => r#"{"posts": [], "hitsTotal": 0}"#.to_owned(),
        };
        let mut response = json(StatusCode::OK, body);
        if pds.spent_budget {
            let reset = (Utc::now().timestamp() + 3600).to_string();
            let h = response.headers_mut();
            h.insert("ratelimit-limit", "3000".parse().unwrap());
            h.insert("ratelimit-remaining", "0".parse().unwrap());
            h.insert("ratelimit-reset", reset.parse().unwrap());
            h.insert("ratelimit-policy", "3000;w=300".parse().unwrap());
        }
        response
    }

    async fn pds(setup: impl FnOnce(&mut Pds)) -> (Url, Shared) {
        let mut state = Pds {
            refresh_ok: true,
            ..Pds::default()
        };
        setup(&mut state);
        let shared: Shared = Arc::new(Mutex::new(state));
        let app = Router::new()
            .route(
                "/xrpc/com.atproto.server.createSession",
                post(create_session),
            )
            .route(
                "/xrpc/com.atproto.server.refreshSession",
                post(refresh_session),
            )
            .route("/xrpc/app.bsky.feed.searchPosts", get(search))
            .with_state(shared.clone());
        let addr = serve(app).await;
        (Url::parse(&format!("http://{addr}")).unwrap(), shared)
    }

    fn client() -> HttpClient {
        testing::client(0)
    }

    fn context<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, terms: &[&str]) -> Context<'a> {
        testing::context(http, known, "sky", terms, 7)
    }

    fn login() -> (String, Secret) {
        (IDENTIFIER.to_owned(), Secret::new(PASSWORD))
    }

    fn rkeys(h: &Harvest) -> Vec<&str> {
        h.items
            .iter()
            .filter_map(|i| i.platform_id.as_deref()?.rsplit('/').next())
            .collect()
    }

    /// (q, cursor, Authorization) of the searches so far, emptied.
    fn searches(s: &Shared) -> Vec<(String, Option<String>, Option<String>)> {
        std::mem::take(&mut s.lock().unwrap().searches)
    }

    fn search_of(
        q: &str,
        cursor: Option<&str>,
        token: &str,
    ) -> (String, Option<String>, Option<String>) {
        (
            q.to_owned(),
            cursor.map(str::to_owned),
            Some(format!("Bearer {token}")),
        )
    }

    #[tokio::test]
    async fn logged_in_it_pages_each_term_and_keeps_the_session() {
        let (url, s) = pds(|_| {}).await;
        let http = client();
        let ctx = context(
            &http,
            &nothing_known,
            &["nordkorea", "\"north korea\"", "kursk"],
        );
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!(h.error, None);
        assert_eq!(h.cursor, None);
        // The phrase search repeats one post of the first search: it comes back once.
        assert_eq!(
            rkeys(&h),
            [
                "3lbnyxq6wzc2k",
                "3lbnwr2ko7k2a",
                "3lbnvbd2mfs2o",
                "3lbmt7lxcdk2y",
                "3lbmqzfqa4c2x",
                "3lbnm6hzvbs2d"
            ]
        );
        assert_eq!(
            searches(&s),
            [
                search_of("nordkorea", None, "access-1"),
                search_of("nordkorea", Some("100"), "access-1"),
                search_of("\"north korea\"", None, "access-1"),
                search_of("kursk", None, "access-1"),
            ]
        );
        // The next crawl reuses the cached session instead of logging in again.
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!(h.items.len(), 6);
        assert_eq!(s.lock().unwrap().logins, 1);
        assert!(searches(&s)
            .iter()
            .all(|(_, _, a)| a.as_deref() == Some("Bearer access-1")));
    }

    #[tokio::test]
    async fn an_expired_session_is_refreshed_or_logged_in_again() {
        let (url, s) = pds(|_| {}).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["\"north korea\""]);
        assert_eq!(read(&ctx, &url, Some(&login())).await.items.len(), 2);
        searches(&s);

        // The access token expires: refreshSession with the refresh token, then the search again.
        s.lock().unwrap().valid.clear();
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!((h.items.len(), h.error), (2, None));
        assert_eq!(
            searches(&s),
            [
                search_of("\"north korea\"", None, "access-1"),
                search_of("\"north korea\"", None, "access-r1")
            ]
        );
        let counts = {
            let pds = s.lock().unwrap();
            (pds.logins, pds.refreshes)
        };
        assert_eq!(counts, (1, 1));

        // Both expire: a new login.
        {
            let mut pds = s.lock().unwrap();
            pds.valid.clear();
            pds.refresh_ok = false;
        }
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!((h.items.len(), h.error), (2, None));
        assert_eq!(
            searches(&s),
            [
                search_of("\"north korea\"", None, "access-r1"),
                search_of("\"north korea\"", None, "access-2")
            ]
        );
        assert_eq!(s.lock().unwrap().logins, 2);
    }

    #[tokio::test]
    async fn wrong_credentials_name_the_identifier_but_never_the_password() {
        let (url, s) = pds(|_| {}).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let wrong = (IDENTIFIER.to_owned(), Secret::new("not-the-app-password"));
        let h = read(&ctx, &url, Some(&wrong)).await;
        assert!(h.items.is_empty());
        let e = h.error.unwrap();
        assert_eq!(
            e,
            format!("Bluesky login as alice.example failed: {url} did not accept the identifier or app_password (check both for this source)")
        );
        assert!(!e.contains("not-the-app-password"));
        assert!(searches(&s).is_empty());
    }

    #[tokio::test]
    async fn a_redirected_login_does_not_send_the_password_on() {
        let stolen = Arc::new(Mutex::new(Vec::<String>::new()));
        let app = Router::new()
            .route(
                "/xrpc/com.atproto.server.createSession",
                post(|| async { axum::response::Redirect::temporary("/elsewhere/createSession") }),
            )
            .route(
                "/elsewhere/createSession",
                post(
                    |State(stolen): State<Arc<Mutex<Vec<String>>>>, body: String| async move {
                        stolen.lock().unwrap().push(body);
                        StatusCode::OK
                    },
                ),
            )
            .with_state(stolen.clone());
        let url = Url::parse(&format!("http://{}", serve(app).await)).unwrap();
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let h = read(&ctx, &url, Some(&login())).await;
        let e = h.error.unwrap();
        assert!(e.contains("HTTP 307"), "{e}");
        assert!(!e.contains(PASSWORD), "{e}");
        assert!(stolen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_server_without_login_says_where_to_log_in() {
        let app = Router::new().route(
            "/xrpc/app.bsky.feed.searchPosts",
            get(|| async {
                error(
                    StatusCode::FORBIDDEN,
                    "AuthMissing",
                    "Authentication Required",
                )
            }),
        );
        let url = Url::parse(&format!("http://{}/", serve(app).await)).unwrap();
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea"]);
        let e = read(&ctx, &url, Some(&login())).await.error.unwrap();
        assert_eq!(
            e,
            format!("Bluesky login as alice.example failed: {url} offers no login (HTTP 404); set url to the account's server, e.g. https://bsky.social")
        );
    }

    #[tokio::test]
    async fn logged_out_a_refusal_says_that_login_is_needed() {
        let (url, s) = pds(|_| {}).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea", "kursk"]);
        let h = read(&ctx, &url, None).await;
        assert!(h.items.is_empty());
        assert_eq!(
            h.error.as_deref(),
            Some("Bluesky refused the search without login (HTTP 403); set identifier and app_password for this source")
        );
        assert_eq!(searches(&s), [("nordkorea".to_owned(), None, None)]);

        // Where the first page is public, paging is what is refused; page one is kept.
        s.lock().unwrap().public_first_page = true;
        let h = read(&ctx, &url, None).await;
        assert_eq!(h.items.len(), 3);
        assert_eq!(
            h.error.as_deref(),
            Some("Bluesky refused to page past the first results without login (HTTP 403); set identifier and app_password for this source")
        );
    }

    #[tokio::test]
    async fn paging_stops_at_max_pages_known_or_old_items_and_a_stuck_cursor() {
        let (url, s) = pds(|_| {}).await;
        let http = client();
        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.max_pages = 1;
        assert_eq!(read(&ctx, &url, Some(&login())).await.items.len(), 3);
        assert_eq!(searches(&s).len(), 1);

        let ctx = context(&http, &all_known, &["nordkorea", "\"north korea\""]);
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!(h.items.len(), 4);
        assert_eq!(searches(&s).len(), 2);

        // At noon, every post on page one is more than an hour old.
        let mut ctx = context(&http, &nothing_known, &["nordkorea"]);
        ctx.lookback = Duration::from_secs(3600);
        assert_eq!(read(&ctx, &url, Some(&login())).await.items.len(), 3);
        assert_eq!(searches(&s).len(), 1);

        let ctx = context(&http, &nothing_known, &["stuck"]);
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!((h.items.len(), h.error), (2, None));
        assert_eq!(
            searches(&s),
            [
                search_of("stuck", None, "access-1"),
                search_of("stuck", Some("same"), "access-1")
            ]
        );
    }

    #[tokio::test]
    async fn a_spent_rate_limit_budget_stops_with_what_was_read() {
        let (url, s) = pds(|p| p.spent_budget = true).await;
        let http = client();
        let ctx = context(&http, &nothing_known, &["nordkorea", "kursk"]);
        let h = read(&ctx, &url, Some(&login())).await;
        assert_eq!(h.items.len(), 3);
        let e = h.error.unwrap();
        assert!(e.starts_with("rate limit budget spent for the next"), "{e}");
        assert_eq!(searches(&s).len(), 1);
    }
}
