//! Reddit and Discourse sources end to end: a local server plays Reddit
//! (logged-out search paged by `after`, a subreddit search, app-only OAuth,
//! a 429 with `Retry-After`) and a Discourse forum (one search per term,
//! paged by `page`); the real binary crawls it and the report counts each
//! forum mention exactly once.

use crate::{mentions, write_config};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

const QUERY: &str = r#"(nordkorea* OR "north korea") AND (russland* OR russia*)"#;
const USER_AGENT: &str = "mentions-test/1.0 (by /u/mentions-bot; +https://example.org/bot)";
const CLIENT_ID: &str = "q7Xc2pLmN0aBdE";
const CLIENT_SECRET: &str = "r3dd1t-s3cr3t_Zx9";
/// `CLIENT_ID:CLIENT_SECRET` in base64, computed outside the code under test.
const BASIC: &str = "Basic cTdYYzJwTG1OMGFCZEU6cjNkZDF0LXMzY3IzdF9aeDk=";
const ACCESS_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIiwidHlwIjoiSldUIn0.eyJzdWIiOiJsb2lkIiwiZXhwIjoxNzk1Njg3MTAwfQ.c2lnbmF0dXJl";

fn recorded(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    path: String,
    query: HashMap<String, String>,
    authorization: Option<String>,
    user_agent: Option<String>,
    status: u16,
}

#[derive(Default)]
struct Platforms {
    log: Mutex<Vec<Hit>>,
    /// The busy endpoint answers 429 to its first request.
    busy_refused: Mutex<bool>,
}

fn answer(
    state: &Platforms,
    method: &str,
    path: &str,
    q: &HashMap<String, String>,
    auth: Option<&str>,
    body: &str,
) -> (u16, Vec<(&'static str, String)>, String) {
    let unauthorized = || {
        (
            401,
            vec![],
            r#"{"message": "Unauthorized", "error": 401}"#.to_owned(),
        )
    };
    let param = |name: &str| q.get(name).map(String::as_str);
    match (method, path) {
        // Logged out, paged: page 2 repeats the last post of page 1.
        ("GET", "/plain/search.json") => match param("after") {
            None => (200, ratelimit_ok(), recorded("reddit/search-page1.json")),
            Some("t3_1p6ivx3") => (200, ratelimit_ok(), recorded("reddit/search-page2.json")),
            Some(_) => (400, vec![], "{}".into()),
        },
        ("GET", "/sub/r/de/search.json") if param("restrict_sr") == Some("1") => {
            (200, ratelimit_ok(), recorded("reddit/sub-de.json"))
        }
        ("POST", "/oauth/api/v1/access_token") => {
            if auth == Some(BASIC) && body == "grant_type=client_credentials" {
                (200, vec![], recorded("reddit/token.json"))
            } else {
                unauthorized()
            }
        }
        ("GET", "/oauth/search.json") => {
            if auth == Some(format!("Bearer {ACCESS_TOKEN}").as_str()) {
                (200, ratelimit_ok(), recorded("reddit/oauth-search.json"))
            } else {
                unauthorized()
            }
        }
        ("GET", "/busy/search.json") => {
            let mut refused = state.busy_refused.lock().unwrap();
            if *refused {
                (200, ratelimit_ok(), recorded("reddit/busy-search.json"))
            } else {
                *refused = true;
                (
                    429,
                    vec![("retry-after", "1".into())],
                    r#"{"message": "Too Many Requests", "error": 429}"#.into(),
                )
            }
        }
        ("GET", "/forum/search.json") => match (param("q"), param("page")) {
            (Some("nordkorea order:latest"), Some("1")) => {
                (200, vec![], recorded("discourse/search-nordkorea-p1.json"))
            }
            (Some("nordkorea order:latest"), Some("2")) => {
                (200, vec![], recorded("discourse/search-nordkorea-p2.json"))
            }
            (Some("russland order:latest"), Some("1")) => {
                (200, vec![], recorded("discourse/search-russland-p1.json"))
            }
            (Some(_), Some("1")) => (200, vec![], recorded("discourse/search-empty.json")),
            _ => (400, vec![], r#"{"errors":["invalid page"]}"#.into()),
        },
        _ => (
            404,
            vec![],
            r#"{"message": "Not Found", "error": 404}"#.into(),
        ),
    }
}

fn ratelimit_ok() -> Vec<(&'static str, String)> {
    vec![
        ("x-ratelimit-used", "3".into()),
        ("x-ratelimit-remaining", "97.0".into()),
        ("x-ratelimit-reset", "412".into()),
    ]
}

async fn handle(State(state): State<Arc<Platforms>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 16)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let (status, headers, text) = answer(
        &state,
        &method,
        &path,
        &query,
        authorization.as_deref(),
        &body,
    );
    state.log.lock().unwrap().push(Hit {
        method,
        path,
        query,
        authorization,
        user_agent: header("user-agent"),
        status,
    });
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    for (name, value) in headers {
        resp.headers_mut()
            .insert(name, HeaderValue::from_str(&value).unwrap());
    }
    resp
}

async fn start() -> (SocketAddr, Arc<Platforms>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Platforms::default());
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&state));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, state)
}

fn config(addr: SocketAddr) -> String {
    let base = format!("http://{addr}");
    format!(
        r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "{USER_AGENT}"
timeout = "5s"
retries = 2

[[topic]]
name = "nk-ru"
query = '{QUERY}'

# The recorded posts are from November 2026; keep them in reach whenever the test runs.
[[source]]
name = "reddit-all"
type = "reddit"
url = "{base}/plain"
lookback = "36500d"

[[source]]
name = "reddit-de"
type = "reddit"
url = "{base}/sub"
subreddit = "r/de"
lookback = "36500d"

[[source]]
name = "reddit-app"
type = "reddit"
url = "{base}/oauth"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
lookback = "36500d"

[[source]]
name = "reddit-busy"
type = "reddit"
url = "{base}/busy"
lookback = "36500d"

[[source]]
name = "forum"
type = "discourse"
url = "{base}/forum"
lookback = "36500d"
"#
    )
}

fn source<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))
}

fn requests(state: &Platforms, path: &str) -> Vec<Hit> {
    state
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.path == path)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reddit_and_discourse_count_each_post_once() {
    let (addr, state) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config(addr));

    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    assert!(!crawl.stderr.contains(CLIENT_SECRET), "{}", crawl.stderr);
    assert!(!crawl.stdout.contains(CLIENT_SECRET), "{}", crawl.stdout);

    let report = mentions(&config, &crate::report_all("nk-ru")).await.json();
    // reddit-all: 1p6k2qa, 1p6ivx3 (on both pages), 1p6h0fd; not the Kim post nor the Transsib one.
    // reddit-de: 1p5zk7w, 1p5wq4e; not the holiday question. reddit-app: both posts.
    // reddit-busy: its one post, after the 429. forum: 48213 (only through its topic's
    // title + blurb), 48102, 47988; not the travel report nor the sanctions post.
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 0, "social": 0, "forum": 11}),
        "{report:#}"
    );
    assert_eq!(report["total"], 11);
    for (name, n) in [
        ("reddit-all", 3),
        ("reddit-de", 2),
        ("reddit-app", 2),
        ("reddit-busy", 1),
        ("forum", 3),
    ] {
        let s = source(&report, name);
        assert_eq!(s["mentions"], n, "{name}: {s}");
        assert_eq!(s["kind"], "forum", "{s}");
        assert!(s["last_error"].is_null(), "{s}");
    }

    // Logged-out search: one OR query, newest first, paged by `after`, the configured user agent.
    let plain = requests(&state, "/plain/search.json");
    assert_eq!(plain.len(), 2);
    for h in &plain {
        assert_eq!(
            h.query.get("q").map(String::as_str),
            Some(r#"nordkorea OR "north korea" OR russland OR russia"#)
        );
        assert_eq!(h.query.get("sort").map(String::as_str), Some("new"));
        assert_eq!(h.query.get("limit").map(String::as_str), Some("100"));
        assert_eq!(h.query.get("raw_json").map(String::as_str), Some("1"));
        assert_eq!(h.user_agent.as_deref(), Some(USER_AGENT));
        assert_eq!(h.authorization, None);
    }
    assert_eq!(plain[0].query.get("after"), None);
    assert_eq!(
        plain[1].query.get("after").map(String::as_str),
        Some("t3_1p6ivx3")
    );
    // App-only OAuth: one login, then the API with the Bearer token.
    let login = requests(&state, "/oauth/api/v1/access_token");
    assert_eq!(login.len(), 1);
    assert_eq!((login[0].method.as_str(), login[0].status), ("POST", 200));
    let app: Vec<u16> = requests(&state, "/oauth/search.json")
        .iter()
        .map(|h| h.status)
        .collect();
    assert_eq!(app, [200]);
    // 429 with Retry-After, then the page.
    let busy: Vec<u16> = requests(&state, "/busy/search.json")
        .iter()
        .map(|h| h.status)
        .collect();
    assert_eq!(busy, [429, 200]);
    // Discourse: one search per term, the first one two pages long.
    let forum: Vec<String> = requests(&state, "/forum/search.json")
        .iter()
        .map(|h| format!("{} p{}", h.query["q"], h.query["page"]))
        .collect();
    assert_eq!(
        forum,
        [
            "nordkorea order:latest p1",
            "nordkorea order:latest p2",
            "\"north korea\" order:latest p1",
            "russland order:latest p1",
            "russia order:latest p1",
        ]
    );

    // A second crawl: every first page brings nothing new, so nothing pages on and nothing is added.
    state.log.lock().unwrap().clear();
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    let report2 = mentions(&config, &crate::report_all("nk-ru")).await.json();
    assert_eq!(report2["counts"], report["counts"]);
    assert_eq!(requests(&state, "/plain/search.json").len(), 1);
    assert_eq!(requests(&state, "/forum/search.json").len(), 4);
    assert_eq!(requests(&state, "/busy/search.json").len(), 1);
}
