//! The robots.txt check as the client makes it: fetched once per origin
//! through the shared client, judged by `robots::verdict`, cached.

use super::{FetchError, HttpClient, Request};
use crate::http::testing::{serve, settings};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use url::Url;

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
