//! `${VAR}` values never leave the process: a feed key in a query, a secret
//! path segment, a password in a source's user info, a proxy password and a
//! webhook path are shown as `***` in crawl output, `sources`, `report`,
//! `alerts`, the daemon's log and `/api/report`, and are not in the database
//! file. Every secret holds the marker `Q7zX`, which percent-encoding leaves
//! as it is, so no spelling of a secret can hide from the checks.

use crate::server::{Route, TestServer};
use crate::write_config;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "Q7zX";

/// The variables the config refers to, with values that need percent-encoding
/// in a query, a path segment and user info.
const ENV: [(&str, &str); 5] = [
    ("FEED_KEY", "fk-Q7zX s3cr\"et"),
    ("PATH_SECRET", "pa-Q7zX{s3cret}"),
    ("USER_PASS", "up-Q7zX:s@cret"),
    ("PROXY_PASS", "px-Q7zX-s3cret"),
    ("HOOK_SECRET", "hk-Q7zX/s3cret"),
];

const FROM: &str = "2000-01-01T00:00:00Z";
const TO: &str = "2100-01-01T00:00:00Z";

/// Runs the binary with the secrets in its environment; the proxy (the test
/// server itself) is used for every host.
fn mentions(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = command(config)
        .args(args)
        .output()
        .expect("the mentions binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn command(config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mentions"));
    cmd.arg("--config")
        .arg(config)
        .env("RUST_LOG", "mentions=info")
        .env_remove("MENTIONS_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for (name, value) in ENV {
        cmd.env(name, value);
    }
    cmd
}

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(MARKER), "a secret shows in {what}:\n{text}");
}

/// Two matching items published a minute ago, so the alert's window holds them.
fn rss(base: &str) -> String {
    let published = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc2822();
    let items: String = (0..2)
        .map(|i| {
            format!(
                "<item><title>Nordkorea und Russland: Meldung {i}</title><link>{base}/news/{i}.html</link><pubDate>{published}</pubDate></item>"
            )
        })
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>good</title><link>{base}/</link><description>x</description>{items}</channel></rss>")
}

/// A server with three failing feeds (the secret in a query, a path segment
/// and user info), one good feed with an ETag (its URL holds the feed key),
/// and a webhook whose path is a secret; it is also the configured proxy.
async fn site() -> TestServer {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route("/keyed.xml", Route::status(500));
    server.route("/pa-Q7zX%7Bs3cret%7D/feed.xml", Route::status(500));
    server.route("/private.xml", Route::status(500));
    server.route(
        "/good.xml",
        Route::ok("application/rss+xml", rss(&server.url(""))).with_etag("\"good-v1\""),
    );
    server.route("/hooks/hk-Q7zX/s3cret", Route::status(500));
    server
}

fn config_text(server: &TestServer, listen: &str) -> String {
    let a = server.url("");
    let port = server.addr.port();
    format!(
        r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0"
timeout = "5s"
retries = 0
schedule = "*/1 * * * * *"
proxy = "http://mentions:${{PROXY_PASS}}@127.0.0.1:{port}"
{listen}
[[topic]]
name = "nk"
query = "nordkorea AND russland"

[[source]]
name = "keyed"
type = "feed"
url = "{a}/keyed.xml?key=${{FEED_KEY}}"

[[source]]
name = "pathy"
type = "feed"
url = "{a}/${{PATH_SECRET}}/feed.xml"

[[source]]
name = "private"
type = "feed"
url = "http://reader:${{USER_PASS}}@127.0.0.1:{port}/private.xml"

[[source]]
name = "good"
type = "feed"
url = "{a}/good.xml?key=${{FEED_KEY}}"

[[alert]]
topic = "nk"
window = "1h"
threshold = 1
webhook = "{a}/hooks/${{HOOK_SECRET}}"
"#
    )
}

/// Where each failing source's URL shows, with its secret masked.
fn masked_errors(server: &TestServer) -> [(&'static str, String); 3] {
    let a = server.url("");
    let port = server.addr.port();
    [
        ("keyed", format!("{a}/keyed.xml?key=*** answered HTTP 500")),
        ("pathy", format!("{a}/***/feed.xml answered HTTP 500")),
        (
            "private",
            format!("http://127.0.0.1:{port}/private.xml answered HTTP 500"),
        ),
    ]
}

fn database_bytes(dir: &Path) -> String {
    let mut all = Vec::new();
    for name in ["mentions.db", "mentions.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            all.extend(bytes);
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_and_the_read_commands_show_secrets_as_stars() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, ""));
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || mentions(&config, args))
    };

    let (code, stdout, stderr) = run(&["crawl"]).await.unwrap();
    assert_eq!(code, 1, "three sources fail:\n{stdout}\n{stderr}");
    assert_hidden("crawl's stdout", &stdout);
    assert_hidden("crawl's stderr", &stderr);
    for (name, error) in masked_errors(&server) {
        let line = format!("{name}: FAILED: {error}");
        assert!(
            stdout.lines().any(|l| l == line),
            "{line}\nnot in:\n{stdout}"
        );
        assert!(stderr.contains(&line), "{line}\nnot logged:\n{stderr}");
    }
    assert!(
        stdout.contains("good: 2 new, 0 already counted, 2 items read"),
        "{stdout}"
    );
    // The feed key reached the server: only the output masks it.
    let good = server.requests_to("/good.xml");
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].target, "/good.xml?key=fk-Q7zX%20s3cr%22et");
    // ("reader:up-Q7zX:s@cret" in base64)
    assert_eq!(
        server.requests_to("/private.xml")[0].headers["authorization"],
        "Basic cmVhZGVyOnVwLVE3elg6c0BjcmV0"
    );

    // The validators are kept under the masked URL and still found.
    let (code, stdout, _) = run(&["crawl", "--source", "good"]).await.unwrap();
    assert_eq!(code, 0);
    assert_eq!(stdout, "good: not modified\n");
    let good = server.requests_to("/good.xml");
    assert_eq!(good[1].headers["if-none-match"], "\"good-v1\"");

    for format in ["text", "json", "csv"] {
        let (code, stdout, stderr) = run(match format {
            "text" => &["sources"],
            "json" => &["sources", "--format", "json"],
            _ => &["sources", "--format", "csv"],
        })
        .await
        .unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert_hidden(&format!("sources --format {format}"), &stdout);
        assert_hidden(&format!("sources --format {format} (stderr)"), &stderr);
        assert!(stdout.contains("?key=*** answered HTTP 500"), "{stdout}");
    }
    let (_, stdout, _) = run(&["sources", "--format", "json"]).await.unwrap();
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for (name, error) in masked_errors(&server) {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap();
        assert_eq!(row["last_error"], error.as_str());
    }

    let (code, stdout, _) = run(&[
        "report", "--topic", "nk", "--format", "json", "--from", FROM, "--to", TO,
    ])
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert_hidden("report --format json", &stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let keyed = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "keyed")
        .unwrap();
    assert_eq!(keyed["last_error"], masked_errors(&server)[0].1.as_str());
    assert_eq!(report["total"], 2);

    let (_, stdout, stderr) = run(&["check"]).await.unwrap();
    assert_hidden("check", &(stdout + &stderr));
    assert_hidden("the database", &database_bytes(dir.path()));
}

/// A running `mentions run`, its stderr in a file; killed if the test ends early.
struct Daemon(Option<std::process::Child>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn get(url: &str) -> Option<(u16, String)> {
    let client = crate::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = client.get(url).send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.text().await.ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_its_log_its_endpoint_and_webhook_errors_show_secrets_as_stars() {
    let server = site().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config_text(
            &server,
            &format!("\n[server]\nlisten = \"127.0.0.1:{port}\"\n"),
        ),
    );
    let log_path = dir.path().join("daemon.log");
    let mut daemon = Daemon(Some(
        command(&config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("mentions run starts"),
    ));
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    // Wait for a failed webhook delivery and a report with every source's error.
    let report_url = format!("http://127.0.0.1:{port}/api/report?topic=nk&from={FROM}&to={TO}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Some(Ok(Some(status))) = daemon.0.as_mut().map(|c| c.try_wait()) {
            panic!("mentions run exited early with {status}:\n{}", log());
        }
        if !server.requests_to("/hooks/hk-Q7zX/s3cret").is_empty() {
            if let Some((200, body)) = get(&report_url).await {
                let report: serde_json::Value = serde_json::from_str(&body).unwrap();
                let failing = report["sources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| !s["last_error"].is_null())
                    .count();
                if failing == 3 && log().contains("alert not delivered") {
                    break body;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no failed delivery and report in time:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_hidden("/api/report", &body);
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    for (name, error) in masked_errors(&server) {
        let source = report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap();
        assert_eq!(source["last_error"], error.as_str());
    }

    let child = daemon.0.take().unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut child = child;
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();

    let log = log();
    assert_hidden("the daemon's log", &log);
    for (name, error) in masked_errors(&server) {
        assert!(
            log.contains(&format!("{name}: FAILED: {error}")),
            "{name} not logged masked:\n{log}"
        );
    }
    let (code, stdout, stderr) = mentions(&config, &["alerts"]);
    assert_eq!(code, 0, "{stderr}");
    assert_hidden("alerts", &stdout);
    assert!(stdout.contains("answered HTTP 500"), "{stdout}");
    assert_hidden("the database", &database_bytes(dir.path()));
}
