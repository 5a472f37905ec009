//! Telegram channel previews and a phpBB forum through the `html` source,
//! end to end: only a message's own text counts (not the quoted reply, not
//! the link preview), paging by `?before=`, and forum links whose session
//! id changes on every request still name one mention each.

use crate::{mentions, write_config};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const PAGE1: &str = include_str!("../fixtures/telegram/channel_page1.html");
const PAGE2: &str = include_str!("../fixtures/telegram/channel_page2.html");
const PHPBB_START0: &str = include_str!("../fixtures/html/phpbb33_search_posts.html");
const PHPBB_START25: &str = include_str!("../fixtures/html/phpbb33_search_posts_start25.html");
/// The session id written into the recorded phpBB pages.
const RECORDED_SID: &str = "9b1f4c2ad07e83b56f1a2c4e8d9b0a17";

const QUERY: &str = r#"(nordkorea* OR "north korea") AND (russland* OR russia* OR putin OR kursk)"#;

/// One search.php request: `start`, the `sid` it sent, the `sid` it got.
#[derive(Clone, Debug, PartialEq)]
struct ForumHit {
    start: Option<String>,
    sent_sid: Option<String>,
    served_sid: String,
}

#[derive(Clone, Default)]
struct Shared {
    telegram: Arc<Mutex<Vec<String>>>,
    forum: Arc<Mutex<Vec<ForumHit>>>,
    next_session: Arc<Mutex<u64>>,
}

impl Shared {
    fn telegram(&self) -> Vec<String> {
        self.telegram.lock().unwrap().clone()
    }

    fn forum(&self) -> Vec<ForumHit> {
        self.forum.lock().unwrap().clone()
    }
}

fn html(body: String) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/html; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// `t.me/s/CHANNEL`: the newest page, or the older one before message 9.
async fn telegram(
    State(shared): State<Shared>,
    Path(channel): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let before = q.get("before").cloned();
    shared.telegram.lock().unwrap().push(match &before {
        Some(b) => format!("{channel}?before={b}"),
        None => channel.clone(),
    });
    match (channel.as_str(), before.as_deref()) {
        ("koreawatchde", None) => html(PAGE1.to_owned()),
        ("koreawatchde", Some("9")) => html(PAGE2.to_owned()),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// phpBB's search.php: like a guest session, every answer carries a fresh
/// `sid` in every link.
async fn phpbb_search(
    State(shared): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let sid = {
        let mut n = shared.next_session.lock().unwrap();
        *n += 1;
        format!("{:016x}{:016x}", fastrand::u64(..), *n)
    };
    let start = q.get("start").cloned();
    shared.forum.lock().unwrap().push(ForumHit {
        start: start.clone(),
        sent_sid: q.get("sid").cloned(),
        served_sid: sid.clone(),
    });
    let page = match start.as_deref() {
        None | Some("0") => PHPBB_START0,
        Some("25") => PHPBB_START25,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    html(page.replace(RECORDED_SID, &sid))
}

async fn start_server() -> (String, Shared) {
    let shared = Shared::default();
    let app = axum::Router::new()
        .route("/tg/s/{channel}", axum::routing::get(telegram))
        .route("/forum/search.php", axum::routing::get(phpbb_search))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), shared)
}

fn config(base: &str) -> String {
    format!(
        r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 0

[[topic]]
name = "nk-ru"
query = '{QUERY}'

[[source]]
name = "korea-watch"
type = "telegram"
url = "{base}/tg"
channels = ["@koreawatchde"]
# The recorded messages are from November 2026; keep them in reach whenever the test runs.
lookback = "36500d"

[[source]]
name = "weltgeschehen"
type = "html"
kind = "forum"
url = "{base}/forum/search.php?keywords=nordkorea&sr=posts&sk=t&sd=d"
item = ".search.post"
title = "h3 a"
link = "h3 a"
date = ".search-result-date"
text = ".content"
author = ".author .username, .author .username-coloured"
next = ".pagination li.next a"
max_pages = 5
lookback = "36500d"
"#
    )
}

fn mentions_of(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))["mentions"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_own_text_and_phpbb_session_ids() {
    let (base, shared) = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config(&base));
    let report_args = crate::report_all("nk-ru");

    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    let report = mentions(&config, &report_args).await.json();
    // Telegram: 10 (text), 11 (forward), 14 (photo caption), 16 (reply with
    // its own matching text) on the newest page; 5 and 7 (forward) on the
    // older one. Not 12 and 6 (only the quoted message matches), not 13 and
    // 8 (only the link preview matches). phpBB: 48211 and 48102 on page 1,
    // 48064 on page 2, where 48102 shows up again under another session id.
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 0, "social": 6, "forum": 3}),
        "{report:#}"
    );
    assert_eq!(report["total"], 9);
    assert_eq!(mentions_of(&report, "korea-watch"), 6);
    assert_eq!(mentions_of(&report, "weltgeschehen"), 3);
    for s in report["sources"].as_array().unwrap() {
        assert!(s["last_error"].is_null(), "{s}");
    }
    assert_eq!(shared.telegram(), ["koreawatchde", "koreawatchde?before=9"]);
    let forum = shared.forum();
    assert_eq!(forum.len(), 2, "{forum:?}");
    assert_eq!(forum[0].start, None);
    assert_eq!(forum[0].sent_sid, None);
    // Page 2 was reached through page 1's "next" link, session id and all.
    assert_eq!(forum[1].start.as_deref(), Some("25"));
    assert_eq!(forum[1].sent_sid.as_ref(), Some(&forum[0].served_sid));
    assert_ne!(forum[1].served_sid, forum[0].served_sid);

    // Again: a new session id in every forum link, the same messages on
    // Telegram. Nothing is new, so each source reads one page and adds nothing.
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    let report2 = mentions(&config, &report_args).await.json();
    assert_eq!(
        report2["counts"],
        serde_json::json!({"web": 0, "social": 6, "forum": 3}),
        "{report2:#}"
    );
    assert_eq!(mentions_of(&report2, "korea-watch"), 6);
    assert_eq!(mentions_of(&report2, "weltgeschehen"), 3);
    assert_eq!(
        shared.telegram(),
        ["koreawatchde", "koreawatchde?before=9", "koreawatchde"]
    );
    let forum = shared.forum();
    assert_eq!(forum.len(), 3, "{forum:?}");
    assert_eq!(forum[2].start, None);
    let served: std::collections::HashSet<&str> =
        forum.iter().map(|h| h.served_sid.as_str()).collect();
    assert_eq!(served.len(), 3, "every answer had its own session id");
}
