//! Alerts end to end: a real crawl of a local feed whose items were published
//! a minute ago fills the database, a spike crosses `[[alert]] threshold`,
//! a local webhook receiver gets exactly one POST per window (none for the
//! alert that stays below its threshold), and `mentions alerts` lists it.

use crate::server::{Route, TestServer};
use crate::{mentions, write_config};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Hook {
    /// The last path segment: which alert it was.
    name: String,
    content_type: String,
    body: serde_json::Value,
}

#[derive(Clone, Default)]
struct Receiver {
    hooks: Arc<Mutex<Vec<Hook>>>,
}

async fn receive(
    State(r): State<Receiver>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    r.hooks.lock().unwrap().push(Hook {
        name,
        content_type,
        body,
    });
    "ok"
}

impl Receiver {
    /// Listens on 127.0.0.1, port 0; returns the base URL of `/hook/NAME`.
    async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        let app = axum::Router::new()
            .route("/hook/{name}", axum::routing::post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (r, format!("http://{addr}/hook"))
    }

    fn hooks(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }

    fn to(&self, name: &str) -> Vec<Hook> {
        self.hooks()
            .into_iter()
            .filter(|h| h.name == name)
            .collect()
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A news feed: three items on the topic published at `recent` (two on this
/// host, one on `localhost`), one from five hours earlier, one off topic.
fn feed(a: &str, b: &str, recent: DateTime<Utc>) -> String {
    let old = recent - chrono::Duration::hours(5);
    let (recent, old) = (recent.to_rfc2822(), old.to_rfc2822());
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Politik – Nachrichten</title><link>{a}/</link><description>Aktuelle Meldungen</description>
<item><title>Nordkorea und Russland vertiefen Militärkooperation</title>
  <link>{a}/politik/kooperation-101.html</link>
  <description>Pjöngjang und Moskau unterzeichnen ein Abkommen über gegenseitigen Beistand.</description>
  <pubDate>{recent}</pubDate></item>
<item><title>Russland liefert Nordkorea Luftabwehrsysteme</title>
  <link>{a}/politik/luftabwehr-102.html</link>
  <description>Im Gegenzug sollen Artilleriegranaten geliefert worden sein.</description>
  <pubDate>{recent}</pubDate></item>
<item><title>Nordkoreanische Soldaten in Kursk: Russland bestätigt Einsatz</title>
  <link>{b}/ausland/kursk-103.html</link>
  <description>Erstmals äußert sich der Kreml zu den Truppen aus Nordkorea.</description>
  <pubDate>{recent}</pubDate></item>
<item><title>Rückblick: Nordkorea und Russland seit 2000</title>
  <link>{a}/politik/rueckblick-99.html</link>
  <description>Eine Chronik der Beziehungen.</description>
  <pubDate>{old}</pubDate></item>
<item><title>Bundesliga: Die Ergebnisse des Spieltags</title>
  <link>{a}/sport/bundesliga-104.html</link>
  <description>Alle Tore im Überblick.</description>
  <pubDate>{recent}</pubDate></item>
</channel></rss>"#
    )
}

/// A config with one feed and two alerts: `nk` (threshold 3, crossed by the
/// three recent items) and `kursk` (threshold 2; only one item mentions Kursk).
fn config(feed_url: &str, hooks: &str, schedule: &str) -> String {
    format!(
        r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 1

[[topic]]
name = "nk"
query = 'nordkorea* AND russland*'

[[topic]]
name = "kursk"
query = 'kursk'

[[source]]
name = "politik"
type = "feed"
url = "{feed_url}"
schedule = "{schedule}"

[[alert]]
topic = "nk"
window = "1h"
threshold = 3
webhook = "{hooks}/nk"

[[alert]]
topic = "kursk"
window = "1h"
threshold = 2
webhook = "{hooks}/kursk"
"#
    )
}

/// The body the `nk` alert must POST for the window holding `recent`.
fn expected_body(recent: DateTime<Utc>) -> serde_json::Value {
    let start = recent.timestamp().div_euclid(3600) * 3600;
    let start = DateTime::from_timestamp(start, 0).unwrap();
    serde_json::json!({
        "topic": "nk",
        "window_start": rfc3339(start),
        "window_end": rfc3339(start + chrono::Duration::hours(1)),
        "count": 3,
        "counts": {"web": 3, "social": 0, "forum": 0},
        "baseline": null,
        "top_references": [
            {"domain": "127.0.0.1", "mentions": 2},
            {"domain": "localhost", "mentions": 1},
        ],
    })
}

/// Serves the feed with items published a minute ago; returns the feed URL
/// and the items' publication time.
fn serve_feed(server: &TestServer) -> (String, DateTime<Utc>) {
    let recent = DateTime::from_timestamp(Utc::now().timestamp() - 60, 0).unwrap();
    let body = feed(&server.url(""), &server.url_as_localhost(""), recent);
    server.route(
        "/politik/rss.xml",
        Route::ok("application/rss+xml; charset=utf-8", body),
    );
    (server.url("/politik/rss.xml"), recent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawled_spike_fires_its_webhook_once() {
    let server = TestServer::start().await;
    let (feed_url, recent) = serve_feed(&server);
    let (receiver, hooks) = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config(&feed_url, &hooks, "0 0 */6 * * *"));

    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    assert_eq!(
        crawl.stdout, "politik: 5 new, 0 already counted, 5 items read\n",
        "4 items of nk and 1 of kursk: {crawl:?}"
    );
    let none = mentions(&config, &["alerts"]).await;
    assert_eq!(none.code, 0, "{none:?}");
    assert!(
        none.stdout.starts_with("No alerts fired since "),
        "{none:?}"
    );
    assert!(receiver.hooks().is_empty());

    let settings = mentions::config::Settings::load(&config).unwrap();
    let store: mentions::crawl::SharedStore =
        mentions::store::shared(mentions::store::Store::open(&settings.database).unwrap());
    let http = mentions::http::HttpClient::new(settings.http.clone()).unwrap();
    mentions::alerts::check(&settings, &store, &http, Utc::now()).await;
    let hooks_got = receiver.hooks();
    assert_eq!(hooks_got.len(), 1, "{hooks_got:?}");
    assert_eq!(hooks_got[0].name, "nk");
    assert_eq!(hooks_got[0].content_type, "application/json");
    assert_eq!(hooks_got[0].body, expected_body(recent));

    // Checking again, in the same window: nothing more is sent.
    mentions::alerts::check(&settings, &store, &http, Utc::now()).await;
    assert_eq!(receiver.hooks().len(), 1);
    drop(store);

    let listed = mentions(&config, &["alerts", "--since", "1h"]).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{listed:?}");
    assert_eq!(
        lines[0],
        "fired\ttopic\twindow_start\twindow_end\ttrigger\tcount\tbaseline\tdelivery"
    );
    let body = expected_body(recent);
    let cells: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(cells.len(), 8, "{}", lines[1]);
    assert_eq!(
        &cells[1..7],
        [
            "nk",
            body["window_start"].as_str().unwrap(),
            body["window_end"].as_str().unwrap(),
            "threshold 3",
            "3",
            "-"
        ]
    );
    assert!(cells[7].starts_with("delivered 20"), "{}", cells[7]);

    let bad = mentions(&config, &["alerts", "--since", "yesterday"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--since"), "{bad:?}");
}

/// Polls `done` every 100 ms for at most `limit`.
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_posts_once_per_window() {
    let server = TestServer::start().await;
    let (feed_url, recent) = serve_feed(&server);
    let (receiver, hooks) = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config(&feed_url, &hooks, "*/1 * * * * *"));
    let mut child = crate::spawn_run(&config, None, &dir.path().join("run.log"));
    let log_text = || std::fs::read_to_string(dir.path().join("run.log")).unwrap_or_default();

    let posted = wait_until(Duration::from_secs(30), || !receiver.hooks().is_empty()).await;
    if !posted {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no webhook POST within 30 s; log:\n{}", log_text());
    }
    // Several more crawls (each followed by a check) in the same window.
    let crawls = server.requests_to("/politik/rss.xml").len();
    let more = wait_until(Duration::from_secs(20), || {
        server.requests_to("/politik/rss.xml").len() >= crawls + 4
    })
    .await;

    let pid = child.id().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let log = log_text();
    assert!(more, "fewer than 4 more crawls within 20 s; log:\n{log}");
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "run did not exit 0 within 15 s of SIGTERM; log:\n{log}"
    );

    let nk = receiver.to("nk");
    assert_eq!(nk.len(), 1, "one POST for the window: {nk:?}\nlog:\n{log}");
    assert_eq!(nk[0].body, expected_body(recent));
    assert!(
        receiver.to("kursk").is_empty(),
        "1 mention of kursk is below its threshold of 2"
    );
    assert_eq!(receiver.hooks().len(), 1);

    let listed = mentions(&config, &["alerts", "--since", "1h"]).await;
    assert_eq!(listed.code, 0, "{listed:?}");
    let rows: Vec<&str> = listed.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{listed:?}");
    let window = expected_body(recent)["window_start"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        rows[0].contains(&format!("\tnk\t{window}\t"))
            && rows[0].contains("\tthreshold 3\t3\t-\tdelivered "),
        "{}",
        rows[0]
    );
}
