//! robots.txt (RFC 9309) with a per-origin cache of up to 24 h: fetched once
//! per scheme+host+port through the shared client, parsed by `texting_robots`
//! for our user agent's product token. A 4xx robots.txt allows everything; a
//! 5xx, timeout or unreachable one disallows the host, remembered only briefly.

use super::client::{BodyLimit, HttpClient, Request};
use super::FetchError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use texting_robots::Robot;
use tracing::{debug, warn};
use url::Url;

/// How long a readable (or absent) robots.txt is trusted.
const GOOD_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long an unreachable robots.txt keeps the host closed before we ask again.
const UNAVAILABLE_TTL: Duration = Duration::from_secs(5 * 60);
/// RFC 9309 asks parsers to read at least 500 KiB; the rest is ignored.
const MAX_ROBOTS_BYTES: u64 = 500 * 1024;
/// Above this many origins, expired entries are dropped on insertion.
const SWEEP_ABOVE: usize = 1024;

/// What one origin's robots.txt says.
#[derive(Clone)]
enum Verdict {
    AllowAll,
    Rules(Arc<Robot>),
    /// Why robots.txt could not be read.
    Unavailable(String),
}

struct Cached {
    verdict: Verdict,
    expires: Instant,
}

/// One slot per origin; its async mutex makes concurrent first requests
/// wait for a single robots.txt fetch.
type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The per-origin robots.txt cache, shared by all clones of one client.
pub(crate) struct RobotsCache {
    agent: String,
    origins: Mutex<HashMap<String, Slot>>,
}

/// The product token of a user agent (`mentions` in `mentions/0.1 (+https://…)`),
/// which is what robots.txt groups name.
pub fn product_token(user_agent: &str) -> &str {
    let token = user_agent
        .split(['/', ' ', '\t'])
        .next()
        .unwrap_or_default()
        .trim();
    if token.is_empty() {
        "*"
    } else {
        token
    }
}

/// Where the robots.txt governing `url` lives.
pub fn robots_url(url: &Url) -> Url {
    let mut robots = url.clone();
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    // Only fails for URLs that cannot carry credentials, which then have none.
    let _ = robots.set_username("");
    let _ = robots.set_password(None);
    robots
}

impl RobotsCache {
    pub(crate) fn new(user_agent: &str) -> RobotsCache {
        RobotsCache {
            agent: product_token(user_agent).to_owned(),
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// Ok when robots.txt lets us fetch `url`.
    pub(crate) async fn check(&self, client: &HttpClient, url: &Url) -> Result<(), FetchError> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let slot = self.slot(url.origin().ascii_serialization());
        let verdict = {
            let mut cached = slot.lock().await;
            match cached.as_ref() {
                Some(c) if c.expires > Instant::now() => c.verdict.clone(),
                _ => {
                    let verdict = self.load(client, url).await;
                    let ttl = match verdict {
                        Verdict::Unavailable(_) => UNAVAILABLE_TTL,
                        _ => GOOD_TTL,
                    };
                    *cached = Some(Cached {
                        verdict: verdict.clone(),
                        expires: Instant::now() + ttl,
                    });
                    verdict
                }
            }
        };
        match verdict {
            Verdict::AllowAll => Ok(()),
            Verdict::Rules(robot) if robot.allowed(url.as_str()) => Ok(()),
            Verdict::Rules(_) => Err(FetchError::RobotsDisallowed {
                host,
                url: url.clone(),
            }),
            Verdict::Unavailable(reason) => Err(FetchError::RobotsUnavailable { host, reason }),
        }
    }

    fn slot(&self, origin: String) -> Slot {
        let mut origins = self.lock();
        if !origins.contains_key(&origin) && origins.len() >= SWEEP_ABOVE {
            let now = Instant::now();
            // A slot that is locked is being filled right now and must stay.
            origins.retain(|_, slot| {
                slot.try_lock()
                    .map_or(true, |c| c.as_ref().is_some_and(|c| c.expires > now))
            });
        }
        Arc::clone(origins.entry(origin).or_default())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // The map stays consistent whatever panicked while it was held.
        self.origins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fetches and judges robots.txt for the origin of `url`.
    async fn load(&self, client: &HttpClient, url: &Url) -> Verdict {
        let robots = robots_url(url);
        let req = Request::api_get(robots.clone());
        match client
            .fetch_unchecked(&req, BodyLimit::Truncate(MAX_ROBOTS_BYTES))
            .await
        {
            Ok(fetched) => match Robot::new(&self.agent, &fetched.body) {
                Ok(robot) => {
                    debug!(url = %robots, "robots.txt read");
                    Verdict::Rules(Arc::new(robot))
                }
                Err(e) => {
                    // RFC 9309 wants what can be parsed used; a file we cannot use at all restricts nothing.
                    warn!(url = %robots, error = %e, "robots.txt could not be parsed; treating it as absent");
                    Verdict::AllowAll
                }
            },
            // 429 means "overloaded", which RFC 9309 treats like a server error.
            Err(FetchError::Status { status, .. })
                if (400..500).contains(&status) && status != 429 =>
            {
                debug!(url = %robots, status, "no robots.txt; everything allowed");
                Verdict::AllowAll
            }
            // RFC 9309 §2.3.1.2: a redirect chain too long counts as "unavailable" (allow all).
            Err(FetchError::TooManyRedirects { .. }) => Verdict::AllowAll,
            Err(e) => {
                warn!(url = %robots, error = %e, "robots.txt unreachable; host skipped for now");
                Verdict::Unavailable(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::{serve, settings};
    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    use axum::Router;
    use std::net::SocketAddr;

    type Paths = Arc<Mutex<Vec<String>>>;

    /// A server answering `/robots.txt` with `robots` and every other path with 200,
    /// recording each requested path.
    async fn site(robots: (StatusCode, &'static str)) -> (SocketAddr, Paths) {
        let paths: Paths = Arc::default();
        let app =
            Router::new()
                .fallback(
                    |State((paths, robots)): State<(Paths, (StatusCode, &'static str))>,
                     uri: Uri| async move {
                        paths
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(uri.path().to_owned());
                        if uri.path() == "/robots.txt" {
                            robots
                        } else {
                            (StatusCode::OK, "page")
                        }
                    },
                )
                .with_state((paths.clone(), robots));
        (serve(app).await, paths)
    }

    fn recorded(paths: &Paths) -> Vec<String> {
        paths.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn client() -> HttpClient {
        let mut s = settings();
        s.user_agent = "mentions/0.1 (+https://example.org/about-our-bot)".to_owned();
        HttpClient::build(s, false).unwrap()
    }

    fn url(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).unwrap()
    }

    #[test]
    fn product_token_is_the_part_before_the_slash() {
        assert_eq!(
            product_token("mentions/0.1 (+https://example.org/about-our-bot)"),
            "mentions"
        );
        assert_eq!(product_token("FooBot"), "FooBot");
        assert_eq!(product_token(""), "*");
    }

    #[test]
    fn robots_url_keeps_origin_only() {
        let u = Url::parse("https://user:pw@example.org:8443/a/b?q=1#f").unwrap();
        assert_eq!(
            robots_url(&u).as_str(),
            "https://example.org:8443/robots.txt"
        );
    }

    #[tokio::test]
    async fn disallowed_path_is_never_requested() {
        let (addr, paths) = site((StatusCode::OK, "User-agent: *\nDisallow: /private\n")).await;
        let c = client();
        let err = c
            .fetch(Request::get(url(addr, "/private/x.html")))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, FetchError::RobotsDisallowed { host, url } if host == "127.0.0.1" && url.path() == "/private/x.html"),
            "{err:?}"
        );
        let ok = c.fetch(Request::get(url(addr, "/public"))).await.unwrap();
        assert_eq!(ok.body, b"page");
        assert_eq!(recorded(&paths), ["/robots.txt", "/public"]);
    }

    #[tokio::test]
    async fn longer_allow_wins_in_our_own_group() {
        let (addr, paths) = site((
            StatusCode::OK,
            "User-agent: *\nDisallow: /\n\n\
             User-agent: mentions\nDisallow: /news\nAllow: /news/public\n",
        ))
        .await;
        let c = client();
        c.fetch(Request::get(url(addr, "/news/public/a.html")))
            .await
            .unwrap();
        let err = c
            .fetch(Request::get(url(addr, "/news/secret")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::RobotsDisallowed { .. }),
            "{err:?}"
        );
        // Our group applies, not `*`, so paths it does not mention are open.
        c.fetch(Request::get(url(addr, "/about"))).await.unwrap();
        assert_eq!(
            recorded(&paths),
            ["/robots.txt", "/news/public/a.html", "/about"]
        );
    }

    #[tokio::test]
    async fn dollar_anchors_the_end_and_star_matches_anything() {
        let (addr, paths) = site((
            StatusCode::OK,
            "User-agent: *\nDisallow: /*.pdf$\nDisallow: /tmp*/cache\n",
        ))
        .await;
        let c = client();
        for blocked in ["/docs/file.pdf", "/tmp-1/cache/x"] {
            let err = c.fetch(Request::get(url(addr, blocked))).await.unwrap_err();
            assert!(
                matches!(err, FetchError::RobotsDisallowed { .. }),
                "{blocked}: {err:?}"
            );
        }
        for open in ["/docs/file.pdf?page=2", "/docs/file.pdfx", "/tmp-1/other"] {
            c.fetch(Request::get(url(addr, open))).await.unwrap();
        }
        assert_eq!(
            recorded(&paths),
            [
                "/robots.txt",
                "/docs/file.pdf",
                "/docs/file.pdfx",
                "/tmp-1/other"
            ]
        );
    }

    #[tokio::test]
    async fn missing_robots_allows_all() {
        let (addr, paths) = site((StatusCode::NOT_FOUND, "not found")).await;
        let c = client();
        c.fetch(Request::get(url(addr, "/anything"))).await.unwrap();
        c.fetch(Request::get(url(addr, "/else"))).await.unwrap();
        assert_eq!(recorded(&paths), ["/robots.txt", "/anything", "/else"]);
    }

    #[tokio::test]
    async fn server_error_robots_disallows_the_host_and_is_remembered() {
        let (addr, paths) = site((StatusCode::INTERNAL_SERVER_ERROR, "oops")).await;
        let c = client();
        for path in ["/a", "/b"] {
            let err = c.fetch(Request::get(url(addr, path))).await.unwrap_err();
            match err {
                FetchError::RobotsUnavailable { host, reason } => {
                    assert_eq!(host, "127.0.0.1");
                    assert_eq!(
                        reason,
                        format!("http://{addr}/robots.txt answered HTTP 500")
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(recorded(&paths), ["/robots.txt"]);
    }

    #[tokio::test]
    async fn unreachable_robots_disallows_the_host() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = client()
            .fetch(Request::get(url(addr, "/page")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::RobotsUnavailable { .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn robots_fetched_once_for_many_concurrent_requests() {
        let (addr, paths) = site((StatusCode::OK, "User-agent: *\nDisallow: /x\n")).await;
        let c = client();
        let fetches = (0..12).map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.fetch(Request::get(url(addr, &format!("/p{i}")))).await })
        });
        for f in fetches {
            f.await.unwrap().unwrap();
        }
        let paths = recorded(&paths);
        assert_eq!(paths.iter().filter(|p| *p == "/robots.txt").count(), 1);
        assert_eq!(paths.first().map(String::as_str), Some("/robots.txt"));
        assert_eq!(paths.len(), 13);
    }

    #[tokio::test]
    async fn api_requests_and_disabled_setting_skip_robots() {
        let (addr, paths) = site((StatusCode::OK, "User-agent: *\nDisallow: /\n")).await;
        client()
            .fetch(Request::api_get(url(addr, "/api/v1/x")))
            .await
            .unwrap();
        let mut s = settings();
        s.respect_robots_txt = false;
        HttpClient::build(s, false)
            .unwrap()
            .fetch(Request::get(url(addr, "/page")))
            .await
            .unwrap();
        assert_eq!(recorded(&paths), ["/api/v1/x", "/page"]);
    }

    #[tokio::test]
    async fn oversized_robots_is_read_up_to_the_limit() {
        // A long comment pushes the rule for /late past 500 KiB, so only /early counts.
        let mut body = String::from("User-agent: *\nDisallow: /early\n");
        body.push_str(&format!("# {}\n", "x".repeat(600 * 1024)));
        body.push_str("Disallow: /late\n");
        let body: &'static str = Box::leak(body.into_boxed_str());
        let (addr, _paths) = site((StatusCode::OK, body)).await;
        let c = client();
        let err = c
            .fetch(Request::get(url(addr, "/early")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::RobotsDisallowed { .. }),
            "{err:?}"
        );
        c.fetch(Request::get(url(addr, "/late"))).await.unwrap();
    }
}
