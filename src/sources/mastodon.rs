//! `mastodon` sources: `/api/v1/timelines/tag/:tag` per hashtag, paged by
//! the `Link` header; with an access token also `/api/v2/search` (type
//! `statuses`, paged by `offset`) once per search term, since Mastodon's
//! search knows no `OR`. Statuses become items identified by their `uri`; a
//! boost becomes the status it boosts.

use super::context::Context;
use super::dates::parse_date;
use super::paging::{Harvest, Listing, Page, Pager};
use super::platform::Secret;
use super::Item;
use crate::budget::Budget;
use crate::http::{FetchError, Fetched, Request};
use crate::text::html_to_text;
use http::header::AUTHORIZATION;
use http::HeaderMap;
use serde::Deserialize;
use url::Url;

/// Statuses per page: the most either endpoint hands out.
const LIMIT: usize = 40;

pub async fn read(
    ctx: &Context<'_>,
    url: &Url,
    hashtags: &[String],
    token: Option<&Secret>,
) -> Harvest {
    let mut pager = Pager::new(ctx);
    let error = all(&mut pager, url, hashtags, token).await.err();
    Harvest {
        error,
        ..pager.into_harvest()
    }
}

/// Every hashtag timeline, then (with a token) every search.
async fn all(
    pager: &mut Pager<'_, '_>,
    instance: &Url,
    hashtags: &[String],
    token: Option<&Secret>,
) -> Result<(), String> {
    for tag in hashtags {
        let tag = tag.trim().trim_start_matches('#');
        if tag.is_empty() {
            continue;
        }
        let mut first = endpoint(instance, &["api", "v1", "timelines", "tag", tag])?;
        first
            .query_pairs_mut()
            .append_pair("limit", &LIMIT.to_string());
        let mut listing = Statuses {
            instance,
            token,
            paging: Next::Link,
        };
        pager.run(&mut listing, first).await?;
    }
    // Mastodon answers status searches only to a logged-in user.
    if token.is_some() {
        for term in &pager.context().search_terms {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let mut first = endpoint(instance, &["api", "v2", "search"])?;
            first
                .query_pairs_mut()
                .append_pair("q", term)
                .append_pair("type", "statuses")
                .append_pair("limit", &LIMIT.to_string());
            let mut listing = Statuses {
                instance,
                token,
                paging: Next::Offset,
            };
            pager.run(&mut listing, first).await?;
        }
    }
    Ok(())
}

/// One timeline or search of one instance; a page is known by its URL.
struct Statuses<'c> {
    instance: &'c Url,
    token: Option<&'c Secret>,
    paging: Next,
}

/// How the next page of a listing is found.
enum Next {
    /// Follow the `Link` header's `rel="next"`.
    Link,
    /// `/api/v2/search`: add `LIMIT` to `offset` while pages are full.
    Offset,
}

impl Listing for Statuses<'_> {
    type Cursor = Url;
    type Error = String;

    async fn page(&mut self, ctx: &Context<'_>, url: &Url) -> Result<Page<Url>, String> {
        let mut fetched = self.fetch(ctx, url).await?;
        let body = std::mem::take(&mut fetched.body);
        // Parsed off the async workers, within the reading budget.
        let items = match self.paging {
            Next::Link => Budget::default().read(move || parse_statuses(&body)).await,
            Next::Offset => Budget::default().read(move || parse_search(&body)).await,
        }
        .map_err(|e| format!("{}: {e}", without_query(url)))?;
        let next = match self.paging {
            Next::Link => next_link(&fetched.headers).and_then(|n| {
                let n = url.join(&n).ok()?;
                // The token and the budget belong to this instance only.
                if n.origin() == self.instance.origin() {
                    Some(n)
                } else {
                    tracing::warn!(source = ctx.source, "next page on another host ignored");
                    None
                }
            }),
            Next::Offset if items.len() >= LIMIT => {
                let offset: usize = url
                    .query_pairs()
                    .find(|(k, _)| k == "offset")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut n = url.clone();
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != "offset")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                n.query_pairs_mut()
                    .clear()
                    .extend_pairs(pairs)
                    .append_pair("offset", &(offset + LIMIT).to_string());
                Some(n)
            }
            Next::Offset => None,
        };
        Ok(Page::new(items, next).with_headers(fetched.headers))
    }
}

impl Statuses<'_> {
    /// One API request, with the token when there is one.
    async fn fetch(&self, ctx: &Context<'_>, url: &Url) -> Result<Fetched, String> {
        let mut req =
            Request::api_get(url.clone()).header(http::header::ACCEPT, "application/json");
        if let Some(token) = self.token {
            req = req.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        match ctx.fetch(req).await {
            Ok(f) => Ok(f),
            Err(FetchError::Status { status, .. }) if status == 401 || status == 403 => {
                let host = self.instance.host_str().unwrap_or("the instance");
                Err(if self.token.is_some() {
                    format!(
                        "{host} refused the access token (HTTP {status}); check access_token and its read scope"
                    )
                } else {
                    format!(
                        "{host} answered HTTP {status} to {}: the instance shows it only to logged-in users; set access_token",
                        url.path()
                    )
                })
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// `instance` with its path extended by `segments` (percent-encoded) and no query.
fn endpoint(instance: &Url, segments: &[&str]) -> Result<Url, String> {
    let mut u = instance.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.path_segments_mut()
        .map_err(|()| format!("{instance} is not an instance address"))?
        .pop_if_empty()
        .extend(segments);
    Ok(u)
}

fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

/// The `rel="next"` target of a `Link` header (RFC 8288), as written.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|value| {
            let mut rest = value;
            while let Some(open) = rest.find('<') {
                let after = rest.get(open + 1..)?;
                let close = after.find('>')?;
                let target = after.get(..close)?;
                let params_and_more = after.get(close + 1..)?;
                let params = params_and_more
                    .find('<')
                    .and_then(|i| params_and_more.get(..i))
                    .unwrap_or(params_and_more);
                let is_next = params.split(';').any(|p| {
                    let p = p.trim().trim_end_matches(',').trim();
                    p.split_once('=').is_some_and(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("rel")
                            && v.trim()
                                .trim_matches('"')
                                .split_whitespace()
                                .any(|r| r.eq_ignore_ascii_case("next"))
                    })
                });
                if is_next {
                    return Some(target.trim().to_owned());
                }
                rest = params_and_more;
            }
            None
        })
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    account: Option<Account>,
    #[serde(default)]
    reblog: Option<Box<Status>>,
}

#[derive(Debug, Deserialize)]
struct Account {
    #[serde(default)]
    acct: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<serde_json::Value>,
}

/// A timeline page: a JSON array of statuses. Entries that are not usable
/// statuses are skipped.
pub fn parse_statuses(body: &[u8]) -> Result<Vec<Item>, String> {
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| format!("not a list of statuses ({e})"))?;
    Ok(items(list))
}

/// A `/api/v2/search` answer: `{"accounts":[],"statuses":[…],"hashtags":[]}`.
pub fn parse_search(body: &[u8]) -> Result<Vec<Item>, String> {
    let results: SearchResults =
        serde_json::from_slice(body).map_err(|e| format!("not a search result ({e})"))?;
    Ok(items(results.statuses))
}

fn items(list: Vec<serde_json::Value>) -> Vec<Item> {
    list.into_iter()
        .filter_map(|v| serde_json::from_value::<Status>(v).ok())
        .filter_map(status_item)
        .collect()
}

/// One status as an item; a boost is the boosted status.
fn status_item(status: Status) -> Option<Item> {
    let s = match status.reblog {
        Some(original) => *original,
        None => status,
    };
    let uri = s.uri.filter(|u| !u.trim().is_empty())?;
    let spoiler = s
        .spoiler_text
        .as_deref()
        .map(html_to_text)
        .unwrap_or_default();
    Some(Item {
        url: s.url.filter(|u| !u.trim().is_empty()).or(Some(uri.clone())),
        platform_id: Some(uri),
        title: spoiler,
        text: s.content.as_deref().map(html_to_text).unwrap_or_default(),
        author: s.account.and_then(|a| a.acct).filter(|a| !a.is_empty()),
        published: s.created_at.as_deref().and_then(parse_date),
        lang: s.language.as_deref().and_then(language),
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
    })
}

/// `de`, `en-US` → `de`, `en`; anything else is dropped.
fn language(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    (2..=3)
        .contains(&primary.len())
        .then_some(())
        .filter(|()| primary.bytes().all(|b| b.is_ascii_lowercase()))
        .map(|()| primary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpClient, HttpSettings};
    use crate::sources::context::testing;
    use axum::extract::{Request as AxumRequest, State};
    use axum::response::{IntoResponse, Response};
    use chrono::{DateTime, Utc};
    use std::collections::{HashMap, HashSet};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const PAGE_A1: &str = include_str!("../../tests/fixtures/mastodon/a-tag-nordkorea-1.json");
    const PAGE_A2: &str = include_str!("../../tests/fixtures/mastodon/a-tag-nordkorea-2.json");
    const PAGE_B1: &str = include_str!("../../tests/fixtures/mastodon/b-tag-nordkorea-1.json");
    const SEARCH_B: &str = include_str!("../../tests/fixtures/mastodon/b-search.json");

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn timeline_page_statuses_and_boosts() {
        let items = parse_statuses(PAGE_A1.as_bytes()).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0],
            Item {
                url: Some("https://social.beispiel.de/@alice/113500000000000001".into()),
                platform_id: Some(
                    "https://social.beispiel.de/users/alice/statuses/113500000000000001".into()
                ),
                title: String::new(),
                text: "Russland empfängt eine Delegation aus Pjöngjang. #Nordkorea #Russland"
                    .into(),
                author: Some("alice".into()),
                published: Some(t("2026-11-24T10:15:00Z")),
                lang: Some("de".into()),
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        // The boost is the boosted status, as this instance knows it.
        assert_eq!(
            items[1],
            Item {
                url: Some("https://mstdn.example.org/@bob/113500000000000222".into()),
                platform_id: Some(
                    "https://mstdn.example.org/users/bob/statuses/113500000000000222".into()
                ),
                title: String::new(),
                text: "North Korea sends more troops to Kursk, Kyiv says. https://news.example.com/2026/11/24/nk-kursk #NorthKorea".into(),
                author: Some("bob@mstdn.example.org".into()),
                published: Some(t("2026-11-24T09:02:11.512Z")),
                lang: Some("en".into()),
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        assert_eq!(
            items[2].text,
            "#Nordkorea spielt heute Fußball gegen Japan."
        );
    }

    #[test]
    fn spoiler_text_is_the_title_and_mentions_read_as_text() {
        let items = parse_statuses(PAGE_B1.as_bytes()).unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].title, "Nordkorea, Russland");
        assert_eq!(
            items[0].text,
            "Bericht über Munitionslieferungen, Zahlen im Thread. #Politik"
        );
        assert_eq!(items[0].author.as_deref(), Some("erin"));
        // A federated copy: another local id, the same uri and url.
        assert_eq!(
            items[1].platform_id,
            parse_statuses(PAGE_A1.as_bytes()).unwrap()[0].platform_id
        );
        assert_eq!(items[1].author.as_deref(), Some("alice@social.beispiel.de"));
        let w = parse_statuses(include_bytes!(
            "../../tests/fixtures/mastodon/b-tag-nordkorea-2.json"
        ))
        .unwrap();
        assert_eq!(
            w[0].text,
            "@alice Nordkoreas Soldaten in Russland: https://www.tagesschau.example/ausland/nordkorea-russland-100.html"
        );
        assert_eq!(w[0].published, Some(t("2026-11-22T21:05:45.123Z")));
        // A boost whose original appears nowhere else.
        assert_eq!(w.len(), 2);
        assert_eq!(
            w[1].platform_id.as_deref(),
            Some("https://social.beispiel.de/users/ida/statuses/113499400000000999")
        );
        assert_eq!(w[1].author.as_deref(), Some("ida@social.beispiel.de"));
        assert_eq!(w[1].published, Some(t("2026-11-22T19:00:00Z")));
    }

    #[test]
    fn search_answer_statuses() {
        let items = parse_search(SEARCH_B.as_bytes()).unwrap();
        let ids: Vec<_> = items
            .iter()
            .map(|i| i.platform_id.clone().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "https://social.beispiel.de/users/grace/statuses/113500000000000888",
                "https://mstdn.example.org/users/bob/statuses/113500000000000222"
            ]
        );
        assert_eq!(items[0].author.as_deref(), Some("grace@social.beispiel.de"));
    }

    #[test]
    fn odd_entries_are_skipped_and_odd_bodies_are_errors() {
        let body = r#"[1, null, {"id":"1"}, {"uri":"", "content":"x"},
            {"uri":"https://x.example/s/1", "content": 5},
            {"uri":"https://x.example/s/2", "content": null, "created_at": "gestern",
             "account": null, "language": "zh-Hant-TW", "url": null},
            {"id":"9", "reblog": {"id":"8"}, "uri": "https://x.example/s/3/activity"}]"#;
        let items = parse_statuses(body.as_bytes()).unwrap();
        assert_eq!(
            items,
            [Item {
                url: Some("https://x.example/s/2".into()),
                platform_id: Some("https://x.example/s/2".into()),
                lang: Some("zh".into()),
                ..Item::default()
            }]
        );
        assert!(parse_statuses(br#"{"error":"Record not found"}"#).is_err());
        assert!(parse_statuses(b"<html>").is_err());
        assert!(parse_search("\"Suche nicht verfügbar\"".as_bytes()).is_err());
        assert_eq!(parse_search(b"{}").unwrap(), []);
    }

    #[test]
    fn link_header_next() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::LINK,
            "<https://m.example/api/v1/timelines/tag/nk?limit=40&max_id=113>; rel=\"next\", <https://m.example/api/v1/timelines/tag/nk?limit=40&min_id=115>; rel=\"prev\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://m.example/api/v1/timelines/tag/nk?limit=40&max_id=113")
        );
        h.insert(
            http::header::LINK,
            "<https://m.example/x?min_id=1>; rel=\"prev\", <https://m.example/y?max_id=2>; REL=next"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://m.example/y?max_id=2")
        );
        h.insert(
            http::header::LINK,
            "<https://m.example/x?min_id=1>; rel=\"prev\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&h), None);
        h.insert(http::header::LINK, "<broken; rel=next".parse().unwrap());
        assert_eq!(next_link(&h), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    /// A tiny instance: answers by exact path+query, else by path; a route
    /// may fail with some statuses first. Logs target and Authorization.
    /// Status, headers and body of one answer.
    type Answer = (u16, Vec<(String, String)>, String);

    #[derive(Default)]
    struct Mock {
        routes: Mutex<HashMap<String, Vec<Answer>>>,
        log: Mutex<Vec<(String, Option<String>)>>,
    }

    impl Mock {
        fn route(&self, target: &str, status: u16, headers: &[(&str, &str)], body: &str) {
            self.routes
                .lock()
                .unwrap()
                .entry(target.into())
                .or_default()
                .push((
                    status,
                    headers
                        .iter()
                        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                        .collect(),
                    body.to_owned(),
                ));
        }
        fn targets(&self) -> Vec<String> {
            self.log
                .lock()
                .unwrap()
                .iter()
                .map(|l| l.0.clone())
                .collect()
        }
    }

    async fn handle(State(mock): State<Arc<Mock>>, req: AxumRequest) -> Response {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        mock.log.lock().unwrap().push((target.clone(), auth));
        let mut routes = mock.routes.lock().unwrap();
        let key = if routes.contains_key(&target) {
            target
        } else {
            req.uri().path().to_owned()
        };
        let Some(queue) = routes.get_mut(&key) else {
            return (
                axum::http::StatusCode::NOT_FOUND,
                "{\"error\":\"Not found\"}",
            )
                .into_response();
        };
        let (status, headers, body) = if queue.len() > 1 {
            queue.remove(0)
        } else {
            queue[0].clone()
        };
        let mut resp = (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json; charset=utf-8")],
            body,
        )
            .into_response();
        for (n, v) in headers {
            resp.headers_mut().insert(
                axum::http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        resp
    }

    async fn start() -> (Arc<Mock>, Url) {
        let mock = Arc::new(Mock::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&mock));
        let addr = crate::http::testing::serve(app).await;
        (mock, Url::parse(&format!("http://{addr}")).unwrap())
    }

    use crate::sources::context::KnownFn;

    /// A `known` that has seen none of the items.
    macro_rules! known_none {
        () => {
            |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + '_>> {
                let n = items.len();
                Box::pin(async move { vec![false; n] })
            }
        };
    }

    /// A `known` that has seen the items with these platform ids.
    macro_rules! known_ids {
        ($ids:expr) => {{
            let ids: Arc<HashSet<String>> =
                Arc::new($ids.iter().map(|s: &&str| (*s).to_owned()).collect());
            move |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send + '_>> {
                let ids = Arc::clone(&ids);
                Box::pin(async move {
                    items
                        .iter()
                        .map(|i| i.platform_id.as_ref().is_some_and(|p| ids.contains(p)))
                        .collect()
                })
            }
        }};
    }

    fn client() -> HttpClient {
        testing::client(2)
    }

    fn ctx<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, terms: &[&str]) -> Context<'a> {
        testing::context(http, known, "masto", terms, 36500)
    }

    fn ids(h: &Harvest) -> Vec<String> {
        h.items
            .iter()
            .map(|i| {
                let id = i.platform_id.clone().unwrap();
                id.rsplit('/').next().unwrap().to_owned()
            })
            .collect()
    }

    /// Serves the two pages of instance A's `#nordkorea`, linked by `Link`.
    fn serve_tag_pages(mock: &Mock, base: &Url) {
        let next = format!(
            "<{base}api/v1/timelines/tag/nordkorea?limit=40&max_id=113499000000000555>; rel=\"next\", <{base}api/v1/timelines/tag/nordkorea?limit=40&min_id=113500000000000001>; rel=\"prev\""
        );
        mock.route(
            "/api/v1/timelines/tag/nordkorea?limit=40",
            200,
            &[
                ("link", next.as_str()),
                ("x-ratelimit-limit", "300"),
                ("x-ratelimit-remaining", "299"),
                ("x-ratelimit-reset", "2030-01-01T00:00:00.000Z"),
            ],
            PAGE_A1,
        );
        mock.route(
            "/api/v1/timelines/tag/nordkorea?limit=40&max_id=113499000000000555",
            200,
            &[],
            PAGE_A2,
        );
    }

    #[tokio::test]
    async fn tag_timeline_paged_by_link_header() {
        let (mock, base) = start().await;
        serve_tag_pages(&mock, &base);
        mock.route(
            "/api/v1/timelines/tag/north%20korea?limit=40",
            200,
            &[],
            "[]",
        );
        let http = client();
        let known = known_none!();
        let c = ctx(&http, &known, &["nordkorea"]);
        let h = read(
            &c,
            &base,
            &["nordkorea".into(), "#north korea".into()],
            None,
        )
        .await;
        assert_eq!(h.error, None);
        // The boosted status and its direct appearance are one item; no search without a token.
        assert_eq!(
            ids(&h),
            [
                "113500000000000001",
                "113500000000000222",
                "113499000000000555",
                "113500000000000444"
            ]
        );
        assert_eq!(
            mock.targets(),
            [
                "/api/v1/timelines/tag/nordkorea?limit=40",
                "/api/v1/timelines/tag/nordkorea?limit=40&max_id=113499000000000555",
                "/api/v1/timelines/tag/north%20korea?limit=40",
            ]
        );
        assert!(mock.log.lock().unwrap().iter().all(|l| l.1.is_none()));
        assert_eq!(h.cursor, None);
    }

    #[tokio::test]
    async fn stops_at_a_page_with_nothing_new_too_old_or_max_pages() {
        let (mock, base) = start().await;
        serve_tag_pages(&mock, &base);
        let http = client();
        let tags = ["nordkorea".to_owned()];

        let known = known_ids!([
            "https://social.beispiel.de/users/alice/statuses/113500000000000001",
            "https://mstdn.example.org/users/bob/statuses/113500000000000222",
            "https://social.beispiel.de/users/karl/statuses/113499000000000555",
        ]);
        let h = read(&ctx(&http, &known, &[]), &base, &tags, None).await;
        assert_eq!(h.items.len(), 3);
        assert_eq!(mock.targets().len(), 1);

        let known = known_none!();
        let mut c = ctx(&http, &known, &[]);
        c.lookback = Duration::from_secs(2 * 86400);
        mock.log.lock().unwrap().clear();
        let h = read(&c, &base, &tags, None).await;
        // Page 1's oldest status (23 Nov, 12:00) is older than two days before 25 Nov, 12:00 + a bit.
        c.now = t("2026-11-25T13:00:00Z");
        let h2 = read(&c, &base, &tags, None).await;
        assert_eq!(h.items.len(), 4, "not yet too old at 12:00");
        assert_eq!(h2.items.len(), 3);
        assert_eq!(mock.targets().len(), 3);

        mock.log.lock().unwrap().clear();
        let mut c = ctx(&http, &known, &[]);
        c.max_pages = 1;
        let h = read(&c, &base, &tags, None).await;
        assert_eq!(h.items.len(), 3);
        assert_eq!(mock.targets().len(), 1);
    }

    #[tokio::test]
    async fn next_link_to_another_host_is_not_followed() {
        let (mock, base) = start().await;
        mock.route(
            "/api/v1/timelines/tag/nordkorea",
            200,
            &[(
                "link",
                "<https://elsewhere.example/api/v1/timelines/tag/nordkorea?max_id=1>; rel=\"next\"",
            )],
            PAGE_A2,
        );
        let http = client();
        let known = known_none!();
        let token = Secret::new("tok-123");
        let h = read(
            &ctx(&http, &known, &[]),
            &base,
            &["nordkorea".into()],
            Some(&token),
        )
        .await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 2);
        assert_eq!(mock.targets().len(), 1);
    }

    #[tokio::test]
    async fn token_sends_bearer_and_searches_each_term_paged_by_offset() {
        let (mock, base) = start().await;
        serve_tag_pages(&mock, &base);
        // A full page of 40 search results, then a short one.
        let full: Vec<serde_json::Value> = (0..40)
            .map(|n| {
                serde_json::json!({
                    "id": format!("{}", 200 + n),
                    "uri": format!("https://x.example/users/u/statuses/{}", 200 + n),
                    "url": format!("https://x.example/@u/{}", 200 + n),
                    "created_at": "2026-11-24T08:00:00.000Z",
                    "content": "<p>Nordkorea Russland</p>",
                    "account": {"acct": "u@x.example"}
                })
            })
            .collect();
        let full =
            serde_json::json!({"accounts": [], "statuses": full, "hashtags": []}).to_string();
        mock.route(
            "/api/v2/search?q=nordkorea&type=statuses&limit=40",
            200,
            &[],
            &full,
        );
        mock.route(
            "/api/v2/search?q=nordkorea&type=statuses&limit=40&offset=40",
            200,
            &[],
            SEARCH_B,
        );
        mock.route(
            "/api/v2/search?q=%22north+korea%22&type=statuses&limit=40",
            200,
            &[],
            SEARCH_B,
        );
        let http = client();
        let known = known_none!();
        let token = Secret::new("tok-123");
        let c = ctx(&http, &known, &["nordkorea", "\"north korea\""]);
        let h = read(&c, &base, &["nordkorea".into()], Some(&token)).await;
        assert_eq!(h.error, None);
        // 4 from the timeline, 40 + grace's status from the search (bob's is known already).
        assert_eq!(h.items.len(), 45);
        assert_eq!(
            mock.targets(),
            [
                "/api/v1/timelines/tag/nordkorea?limit=40",
                "/api/v1/timelines/tag/nordkorea?limit=40&max_id=113499000000000555",
                "/api/v2/search?q=nordkorea&type=statuses&limit=40",
                "/api/v2/search?q=nordkorea&type=statuses&limit=40&offset=40",
                "/api/v2/search?q=%22north+korea%22&type=statuses&limit=40",
            ]
        );
        assert!(mock
            .log
            .lock()
            .unwrap()
            .iter()
            .all(|l| l.1.as_deref() == Some("Bearer tok-123")));
    }

    #[tokio::test]
    async fn refused_token_and_login_walls_are_plain_errors() {
        let (mock, base) = start().await;
        mock.route(
            "/api/v1/timelines/tag/nordkorea",
            401,
            &[],
            r#"{"error":"The access token is invalid"}"#,
        );
        let http = client();
        let known = known_none!();
        let token = Secret::new("tok-secret-987");
        let h = read(
            &ctx(&http, &known, &["x"]),
            &base,
            &["nordkorea".into()],
            Some(&token),
        )
        .await;
        let e = h.error.unwrap();
        assert_eq!(
            e,
            "127.0.0.1 refused the access token (HTTP 401); check access_token and its read scope"
        );
        assert!(!e.contains("tok-secret"));
        assert_eq!(mock.targets().len(), 1, "no search after a refused token");

        let h = read(&ctx(&http, &known, &[]), &base, &["nordkorea".into()], None).await;
        assert_eq!(
            h.error.unwrap(),
            "127.0.0.1 answered HTTP 401 to /api/v1/timelines/tag/nordkorea: the instance shows it only to logged-in users; set access_token"
        );
    }

    #[tokio::test]
    async fn items_before_an_error_are_kept() {
        let (mock, base) = start().await;
        let next = format!("<{base}api/v1/timelines/tag/nordkorea?max_id=5>; rel=\"next\"");
        mock.route(
            "/api/v1/timelines/tag/nordkorea?limit=40",
            200,
            &[("link", next.as_str())],
            PAGE_A1,
        );
        mock.route(
            "/api/v1/timelines/tag/nordkorea?max_id=5",
            200,
            &[],
            "<html>oops</html>",
        );
        mock.route("/api/v1/timelines/tag/other", 500, &[], "{}");
        let http = HttpClient::new(HttpSettings {
            retries: 0,
            allow_private_networks: true,
            ..Default::default()
        })
        .unwrap();
        let known = known_none!();
        let c = ctx(&http, &known, &[]);
        let h = read(&c, &base, &["nordkorea".into(), "other".into()], None).await;
        assert_eq!(h.items.len(), 3);
        let e = h.error.unwrap();
        assert!(
            e.starts_with(&format!(
                "{base}api/v1/timelines/tag/nordkorea: not a list of statuses"
            )),
            "{e}"
        );
        assert_eq!(mock.targets().len(), 2, "stops at the first error");
    }

    #[tokio::test]
    async fn retries_429_and_502_then_reads() {
        let (mock, base) = start().await;
        mock.route(
            "/api/v1/timelines/tag/nordkorea",
            429,
            &[("retry-after", "1")],
            "{}",
        );
        mock.route("/api/v1/timelines/tag/nordkorea", 502, &[], "bad gateway");
        mock.route("/api/v1/timelines/tag/nordkorea", 200, &[], PAGE_A2);
        let http = client();
        let known = known_none!();
        let h = read(&ctx(&http, &known, &[]), &base, &["nordkorea".into()], None).await;
        assert_eq!(h.error, None);
        assert_eq!(h.items.len(), 2);
        assert_eq!(mock.targets().len(), 3);
    }

    #[test]
    fn tags_are_percent_encoded_path_segments() {
        let base = Url::parse("https://m.example/").unwrap();
        assert_eq!(
            endpoint(&base, &["api", "v1", "timelines", "tag", "fußball/wm"])
                .unwrap()
                .as_str(),
            "https://m.example/api/v1/timelines/tag/fu%C3%9Fball%2Fwm"
        );
    }
}
