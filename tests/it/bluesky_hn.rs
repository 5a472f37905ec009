//! Bluesky and Hacker News end to end: a local server plays a Bluesky PDS
//! (login, search refused without a session, two pages by cursor) and the
//! Algolia HN API (stories and comments over two pages); the real binary
//! crawls it with one logged-in, one wrongly logged-in and one logged-out
//! Bluesky source and a Hacker News source, and the report counts each
//! mention once. The app password reaches the binary only through `${VAR}`
//! and never shows in its output.

use crate::{write_config, Run};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

const ENV_VAR: &str = "MENTIONS_IT_BSKY_APP_PASSWORD";
const APP_PASSWORD: &str = "k7pq-3xzw-ab12-cd34";
const WRONG_PASSWORD: &str = "hunter2-wrong-pass";
const ACCESS: &str = "eyJhbGciOiJFUzI1NksifQ.alice-access.sig";
const QUERY: &str = r#"(nordkorea* OR "north korea") AND (kursk OR russia*)"#;

fn fixture(dir: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the server was asked.
#[derive(Default)]
struct Log {
    /// Identifiers of login attempts.
    logins: Vec<String>,
    /// Bluesky searches: (q, cursor, with a bearer token).
    searches: Vec<(String, Option<String>, bool)>,
    /// Hacker News searches: (query, page).
    hn: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Log>>;

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn xrpc_error(status: StatusCode, error: &str, message: &str) -> Response {
    json(
        status,
        serde_json::json!({"error": error, "message": message}).to_string(),
    )
}

async fn create_session(
    State(log): State<Shared>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let identifier = body["identifier"].as_str().unwrap_or_default().to_owned();
    log.lock().unwrap().logins.push(identifier.clone());
    if identifier != "alice.example" || body["password"] != APP_PASSWORD {
        return xrpc_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "Invalid identifier or password",
        );
    }
    json(
        StatusCode::OK,
        fixture("bluesky", "create_session.json")
            .replace("{ACCESS}", ACCESS)
            .replace("{REFRESH}", "eyJhbGciOiJFUzI1NksifQ.alice-refresh.sig"),
    )
}

async fn search_posts(
    State(log): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let term = q.get("q").cloned().unwrap_or_default();
    let cursor = q.get("cursor").cloned();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    log.lock()
        .unwrap()
        .searches
        .push((term.clone(), cursor.clone(), auth.is_some()));
    match auth {
        None => {
            return xrpc_error(
                StatusCode::FORBIDDEN,
                "AuthMissing",
                "Authentication Required",
            )
        }
        Some(a) if a != format!("Bearer {ACCESS}") => {
            return xrpc_error(StatusCode::UNAUTHORIZED, "InvalidToken", "Malformed token")
        }
        Some(_) => {}
    }
    if q.get("sort").map(String::as_str) != Some("latest") {
        return xrpc_error(StatusCode::BAD_REQUEST, "InvalidRequest", "sort");
    }
    let body = match (term.as_str(), cursor.as_deref()) {
        ("nordkorea", None) => fixture("bluesky", "search_page1.json"),
        ("nordkorea", Some("100")) => fixture("bluesky", "search_page2.json"),
        ("\"north korea\"", None) => fixture("bluesky", "search_phrase.json"),
        _ => r#"{"posts": [], "hitsTotal": 0}"#.to_owned(),
    };
    json(StatusCode::OK, body)
}

async fn search_by_date(
    State(log): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let fixed = q.get("tags").map(String::as_str) == Some("(story,comment)")
        && q.get("hitsPerPage").map(String::as_str) == Some("100")
        && q.get("numericFilters")
            .and_then(|f| f.strip_prefix("created_at_i>"))
            .is_some_and(|t| t.parse::<i64>().is_ok());
    if !fixed {
        return json(
            StatusCode::BAD_REQUEST,
            r#"{"message":"invalid parameters","status":400}"#.to_owned(),
        );
    }
    let query = q.get("query").cloned().unwrap_or_default();
    let page = q.get("page").cloned().unwrap_or_default();
    log.lock().unwrap().hn.push((query.clone(), page.clone()));
    let body = match (query.as_str(), page.as_str()) {
        ("\"north korea\"", "0") => fixture("hackernews", "search_page0.json"),
        ("\"north korea\"", "1") => fixture("hackernews", "search_page1.json"),
        _ => r#"{"hits":[],"nbHits":0,"nbPages":0,"page":0,"hitsPerPage":100}"#.to_owned(),
    };
    json(StatusCode::OK, body)
}

async fn start() -> (String, Shared) {
    let log: Shared = Arc::default();
    let app = Router::new()
        .route(
            "/sky/xrpc/com.atproto.server.createSession",
            post(create_session),
        )
        .route("/sky/xrpc/app.bsky.feed.searchPosts", get(search_posts))
        .route("/hn/api/v1/search_by_date", get(search_by_date))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), log)
}

fn config(base: &str) -> String {
    format!(
        r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 1

[[topic]]
name = "nk-ru"
query = '{QUERY}'

[[source]]
name = "sky"
type = "bluesky"
url = "{base}/sky"
identifier = "alice.example"
app_password = "${{{ENV_VAR}}}"
# The recorded posts are from November 2026; keep them in reach whenever the test runs.
lookback = "36500d"

[[source]]
name = "sky-wrong"
type = "bluesky"
url = "{base}/sky"
identifier = "mallory.example"
app_password = "{WRONG_PASSWORD}"
lookback = "36500d"

[[source]]
name = "sky-public"
type = "bluesky"
url = "{base}/sky"
lookback = "36500d"

[[source]]
name = "hn"
type = "hackernews"
url = "{base}/hn"
lookback = "36500d"
"#
    )
}

/// Runs the binary like `crate::mentions`, with the app password in its environment.
async fn run(config: &Path, args: &[&str]) -> Run {
    let config = config.to_owned();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let run = tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mentions"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env("RUST_LOG", "mentions=debug")
            .env(ENV_VAR, APP_PASSWORD)
            .env_remove("MENTIONS_CONFIG")
            .env("NO_PROXY", "*")
            .output()
            .expect("the mentions binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap();
    for secret in [APP_PASSWORD, WRONG_PASSWORD] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a password shows in the output: {run:?}"
        );
    }
    run
}

fn source<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn search(q: &str, cursor: Option<&str>, auth: bool) -> (String, Option<String>, bool) {
    (q.to_owned(), cursor.map(str::to_owned), auth)
}

fn hn(q: &str, page: &str) -> (String, String) {
    (q.to_owned(), page.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluesky_and_hacker_news_count_each_mention_once() {
    let (base, log) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config(&base));

    let crawl = run(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 1, "{crawl:?}");
    let lines: Vec<&str> = crawl.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "one line per source: {}", crawl.stdout);
    // Items repeated across searches and pages are read once: 7 Bluesky posts
    // come back as 6, 6 Hacker News hits as 5.
    assert!(
        lines.contains(&"sky: 4 new, 0 already counted, 6 items read"),
        "{}",
        crawl.stdout
    );
    assert!(
        lines.contains(&"hn: 4 new, 0 already counted, 5 items read"),
        "{}",
        crawl.stdout
    );
    assert!(
        lines.contains(&format!(
            "sky-wrong: FAILED: Bluesky login as mallory.example failed: {base}/sky did not accept the identifier or app_password (check both for this source)"
        ).as_str()),
        "{}",
        crawl.stdout
    );
    assert!(
        lines.contains(&"sky-public: FAILED: Bluesky refused the search without login (HTTP 403); set identifier and app_password for this source"),
        "{}",
        crawl.stdout
    );
    assert!(
        crawl
            .stderr
            .contains("2 of 4 sources failed; what the others brought is stored"),
        "{}",
        crawl.stderr
    );

    {
        let mut log = log.lock().unwrap();
        assert_eq!(
            sorted(std::mem::take(&mut log.logins)),
            ["alice.example", "mallory.example"]
        );
        // One search per term (Bluesky has no OR), the first paged by its cursor;
        // the logged-out source stops at its refused first search.
        assert_eq!(
            sorted(std::mem::take(&mut log.searches)),
            sorted(vec![
                search("\"north korea\"", None, true),
                search("kursk", None, true),
                search("nordkorea", None, true),
                search("nordkorea", Some("100"), true),
                search("russia", None, true),
                search("nordkorea", None, false),
            ])
        );
        assert_eq!(
            sorted(std::mem::take(&mut log.hn)),
            [
                hn("\"north korea\"", "0"),
                hn("\"north korea\"", "1"),
                hn("kursk", "0"),
                hn("nordkorea", "0"),
                hn("russia", "0"),
            ]
        );
    }

    let mut args = vec!["report", "--topic", "nk-ru", "--format", "json"];
    args.extend(crate::ALL_TIME);
    let report = run(&config, &args).await.json();
    // sky: 3lbnyxq6wzc2k (also found by the phrase search), 3lbnvbd2mfs2o, 3lbmt7lxcdk2y
    //      (page 2), 3lbnm6hzvbs2d; the Moscow visit and the factory visit do not match.
    // hn: the story, its comment (repeated on page 2), the Ask HN with Russia in its
    //     text, the Kursk comment on page 2; the Red Star OS comment does not match.
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 0, "social": 4, "forum": 4}),
        "{report:#}"
    );
    assert_eq!(report["total"], 8);
    assert_eq!(source(&report, "sky")["mentions"], 4);
    assert_eq!(source(&report, "hn")["mentions"], 4);
    assert!(source(&report, "sky")["last_error"].is_null());
    assert!(source(&report, "hn")["last_error"].is_null());
    assert_eq!(source(&report, "sky-wrong")["mentions"], 0);
    assert!(source(&report, "sky-wrong")["last_error"]
        .as_str()
        .unwrap()
        .contains("mallory.example"));
    assert!(source(&report, "sky-public")["last_error"]
        .as_str()
        .unwrap()
        .contains("without login"));

    // Nothing new: first pages bring only known items, so no second pages are asked for.
    let again = run(&config, &["crawl"]).await;
    assert_eq!(again.code, 1, "{again:?}");
    let report2 = run(&config, &args).await.json();
    assert_eq!(report2["counts"], report["counts"]);
    let log = log.lock().unwrap();
    assert!(
        !log.searches
            .contains(&search("nordkorea", Some("100"), true)),
        "{:?}",
        log.searches
    );
    assert!(
        log.searches.contains(&search("nordkorea", None, true)),
        "{:?}",
        log.searches
    );
    assert!(
        !log.hn.contains(&hn("\"north korea\"", "1")),
        "{:?}",
        log.hn
    );
    assert_eq!(log.hn.len(), 4);
}
