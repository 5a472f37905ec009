//! `mentions run` with the HTTP endpoint, through the real binary: health,
//! Prometheus metrics with exact database gauges, `/api/report` answering
//! exactly what `mentions report --format json` prints while the daemon
//! runs, and a clean exit on SIGTERM.

use crate::server::{Route, TestServer};
use crate::{fixture, mentions, write_config};
use prometheus_parse::{Sample, Scrape, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const QUERY: &str = r#"(nordkorea* OR "north korea" OR pjöngjang) AND (russland* OR russia* OR putin OR kursk OR moskau) NOT fußball"#;
const FROM: &str = "2026-11-01T00:00:00Z";
const TO: &str = "2026-12-01T00:00:00Z";

/// The daemon as a child process; killed if the test ends early.
struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    fn start(config: &Path, log: PathBuf) -> Daemon {
        Daemon::start_with(Command::new(env!("CARGO_BIN_EXE_mentions")), config, log)
    }

    /// Under `ulimit -n files`, as systemd's default of 1,024 open files would.
    fn start_limited(config: &Path, log: PathBuf, files: u32) -> Daemon {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_mentions"));
        Daemon::start_with(sh, config, log)
    }

    fn start_with(mut command: Command, config: &Path, log: PathBuf) -> Daemon {
        let stderr = std::fs::File::create(&log).unwrap();
        let child = command
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "mentions=info")
            .env_remove("MENTIONS_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env("NO_PROXY", "*")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("the mentions binary starts");
        Daemon {
            child: Some(child),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test with the daemon's log if it has exited.
    fn assert_running(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("mentions run exited early with {status}:\n{}", self.log());
            }
        }
    }

    /// Sends SIGTERM and waits (at most `limit`) for the exit code.
    fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// GET `url`; None when nothing answers.
async fn get(url: &str) -> Option<(u16, String, String)> {
    let client = crate::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = client.get(url).send().await.ok()?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.text().await.ok()?;
    Some((status, content_type, body))
}

fn parse_metrics(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

fn find<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
}

fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    find(scrape, metric, labels).map(|s| match s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        _ => panic!("{metric} is not a single number"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_serves_health_metrics_and_reports() {
    let site = TestServer::start().await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = endpoint_config(dir.path(), &site, port);
    let base = format!("http://127.0.0.1:{port}");
    let started = chrono::Utc::now().timestamp();
    let mut daemon = Daemon::start(&config, dir.path().join("daemon.log"));

    // Healthy once the scheduler runs.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        daemon.assert_running();
        if let Some((200, _, body)) = get(&format!("{base}/healthz")).await {
            assert_eq!(body.trim(), "ok");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never answered 200:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The first crawl lands, and a second one asks the feed conditionally.
    let report_url = format!("{base}/api/report?topic=nk-ru&from={FROM}&to={TO}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        daemon.assert_running();
        let counted = match get(&report_url).await {
            Some((200, _, body)) => {
                let report: serde_json::Value = serde_json::from_str(&body).unwrap();
                report["total"].as_u64().unwrap_or(0) > 0
            }
            _ => false,
        };
        if counted {
            let (status, content_type, text) = get(&format!("{base}/metrics")).await.unwrap();
            assert_eq!(status, 200);
            assert!(content_type.starts_with("text/plain"), "{content_type}");
            let scrape = parse_metrics(&text);
            let fetches = value(
                &scrape,
                "mentions_fetches_total",
                &[("source", "politik-rss")],
            );
            if fetches.is_some_and(|n| n >= 2.0) {
                break scrape;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no two crawls within 10 s:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let src = [("source", "politik-rss")];
    // Three items match (Granaten, Kursk, Delegation); the football and weather items do not.
    assert_eq!(
        value(
            &scrape,
            "mentions_stored",
            &[("topic", "nk-ru"), ("kind", "web")]
        ),
        Some(3.0)
    );
    for kind in ["social", "forum"] {
        assert_eq!(
            value(
                &scrape,
                "mentions_stored",
                &[("topic", "nk-ru"), ("kind", kind)]
            ),
            Some(0.0)
        );
    }
    assert_eq!(
        value(&scrape, "mentions_new_mentions_total", &src),
        Some(3.0)
    );
    // The first fetch got the feed; later ones got 304 through the stored ETag.
    assert_eq!(
        value(
            &scrape,
            "mentions_http_responses_total",
            &[("source", "politik-rss"), ("class", "2xx")]
        ),
        Some(1.0)
    );
    assert!(
        value(
            &scrape,
            "mentions_http_responses_total",
            &[("source", "politik-rss"), ("class", "3xx")]
        )
        .is_some_and(|n| n >= 1.0),
        "{:?}",
        scrape.samples
    );
    assert_eq!(value(&scrape, "mentions_fetch_errors_total", &src), None);
    assert!(value(
        &scrape,
        "mentions_crawls_total",
        &[("source", "politik-rss"), ("outcome", "ok")]
    )
    .is_some_and(|n| n >= 1.0));
    assert_eq!(
        value(
            &scrape,
            "mentions_crawls_total",
            &[("source", "politik-rss"), ("outcome", "failed")]
        ),
        None
    );
    let last_success = value(&scrape, "mentions_last_success_timestamp_seconds", &src).unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        last_success >= started as f64 && last_success <= now as f64,
        "{started} <= {last_success} <= {now}"
    );

    // The API answers what `report --format json` prints for the same window; compare
    // when a crawl did not change the sources' times in between.
    let args = [
        "report", "--topic", "nk-ru", "--format", "json", "--from", FROM, "--to", TO,
    ];
    let mut compared = false;
    for _ in 0..5 {
        let (status, content_type, before) = get(&report_url).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(content_type, "application/json");
        let cli = mentions(&config, &args).await;
        assert_eq!(cli.code, 0, "{cli:?}");
        let (_, _, after) = get(&report_url).await.unwrap();
        let before: serde_json::Value = serde_json::from_str(&before).unwrap();
        let after: serde_json::Value = serde_json::from_str(&after).unwrap();
        if before == after {
            assert_eq!(cli.json(), before);
            assert_eq!(
                before["counts"],
                serde_json::json!({"web": 3, "social": 0, "forum": 0})
            );
            compared = true;
            break;
        }
    }
    assert!(compared, "the report changed during every comparison");

    // All topics: an array, like `report` without --topic.
    let (status, _, all) = get(&format!("{base}/api/report?from={FROM}&to={TO}&top=1"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(all[0]["topic"], "nk-ru");
    assert_eq!(all[0]["total"], 3);
    assert_eq!(
        all[0]["references"],
        serde_json::json!([{"domain": "127.0.0.1", "mentions": 3}])
    );

    // Errors are JSON with the right status.
    for (query, expected) in [
        ("topic=fussball", 404),
        ("topic=nk-ru&since=soon", 400),
        ("topic=nk-ru&from=2026-11-01", 400),
        ("topic=nk-ru&top=many", 400),
        (
            "topic=nk-ru&since=48h&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
            400,
        ),
        ("topics=nk-ru", 400),
    ] {
        let (status, content_type, body) =
            get(&format!("{base}/api/report?{query}")).await.unwrap();
        assert_eq!(status, expected, "{query}: {body}");
        assert_eq!(content_type, "application/json", "{query}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(body["error"].is_string(), "{query}: {body}");
    }
    let (status, _, _) = get(&format!("{base}/nothing-here")).await.unwrap();
    assert_eq!(status, 404);

    // SIGTERM: a clean exit well within 10 s.
    let code = tokio::task::spawn_blocking(move || {
        let code = daemon.terminate(Duration::from_secs(10));
        (code, daemon.log())
    })
    .await
    .unwrap();
    assert_eq!(code.0, Some(0), "{}", code.1);
    assert!(get(&format!("{base}/healthz")).await.is_none());
}

/// A config with the endpoint on `port` and one feed on `site` (with an
/// ETag, so repeats are conditional), crawled every second.
fn endpoint_config(dir: &Path, site: &TestServer, port: u16) -> PathBuf {
    let a = site.url("");
    site.route(
        "/robots.txt",
        Route::ok("text/plain", fixture("robots.txt", &a, &a)),
    );
    site.route(
        "/politik/rss.xml",
        Route::ok("application/rss+xml", fixture("rss-latin1.xml", &a, &a)).with_etag("\"rss-v1\""),
    );
    write_config(
        dir,
        &format!(
            r#"
[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"

[server]
listen = "127.0.0.1:{port}"

[[topic]]
name = "nk-ru"
query = '{QUERY}'

[[source]]
name = "politik-rss"
type = "feed"
url = "{a}/politik/rss.xml"
schedule = "*/1 * * * * *"
"#
        ),
    )
}

/// Polls `url` until it answers `status` or `limit` passes.
async fn wait_for(url: &str, status: u16, limit: Duration, daemon: &mut Daemon) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        daemon.assert_running();
        if get(url).await.is_some_and(|(s, _, _)| s == status) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_and_a_flood_of_requests_cannot_take_the_service_down() {
    let site = TestServer::start().await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = endpoint_config(dir.path(), &site, port);
    let base = format!("http://127.0.0.1:{port}");
    let mut daemon = Daemon::start_limited(&config, dir.path().join("daemon.log"), 1024);
    assert!(
        wait_for(
            &format!("{base}/healthz"),
            200,
            Duration::from_secs(10),
            &mut daemon
        )
        .await,
        "{}",
        daemon.log()
    );

    // 1,000 clients that connect and say nothing: more than the process may
    // have files open.
    let idle: Vec<std::net::TcpStream> = (0..1000)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let fetched_before = site.requests_to("/politik/rss.xml").len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Crawls go on: the feed is fetched every second and nothing fails for files.
    assert!(
        site.requests_to("/politik/rss.xml").len() >= fetched_before + 2,
        "{}",
        daemon.log()
    );
    // The idle clients are dropped after the header timeout, and health answers again.
    assert!(
        wait_for(
            &format!("{base}/healthz"),
            200,
            Duration::from_secs(40),
            &mut daemon
        )
        .await,
        "{}",
        daemon.log()
    );
    drop(idle);

    // 300 report requests at once: every one answered, none an error.
    let client = crate::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = format!("{base}/api/report?topic=nk-ru&from={FROM}&to={TO}");
    let requests: Vec<_> = (0..300)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { client.get(&url).send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for r in requests {
        let status = r.await.unwrap().map_err(|e| e.to_string());
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&Ok(200)), Some(&300), "{statuses:?}");

    let log = daemon.log();
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(
        log.lines().count() < 400,
        "{} log lines",
        log.lines().count()
    );
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_database_makes_health_bad_and_errors_name_no_paths() {
    let site = TestServer::start().await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = endpoint_config(dir.path(), &site, port);
    let base = format!("http://127.0.0.1:{port}");
    let mut daemon = Daemon::start(&config, dir.path().join("daemon.log"));
    assert!(
        wait_for(
            &format!("{base}/healthz"),
            200,
            Duration::from_secs(10),
            &mut daemon
        )
        .await
    );
    let url = format!("{base}/api/report?topic=nk-ru&from={FROM}&to={TO}");
    assert!(wait_for(&url, 200, Duration::from_secs(10), &mut daemon).await);

    for file in ["mentions.db", "mentions.db-wal", "mentions.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    assert!(
        wait_for(
            &format!("{base}/healthz"),
            503,
            Duration::from_secs(10),
            &mut daemon
        )
        .await,
        "{}",
        daemon.log()
    );
    let log = daemon.log();
    assert!(log.contains("deleted or replaced"), "{log}");
    // A reader that fails says so without naming files.
    let dir_name = dir.path().display().to_string();
    let (status, _, body) = get(&url).await.unwrap();
    if status != 200 {
        assert_eq!(status, 503, "{body}");
    }
    assert!(!body.contains(&dir_name), "{body}");
    let (_, _, body) = get(&format!("{base}/api/report?topic=nope")).await.unwrap();
    assert!(
        !body.contains(&dir_name) && !body.contains("config.toml"),
        "{body}"
    );
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_everything_but_health() {
    let site = TestServer::start().await;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = endpoint_config(dir.path(), &site, port);
    let token = "a-long-random-token-0123456789";
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[server]\n",
        "[server]\ntoken = \"${MENTIONS_TEST_TOKEN}\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("daemon.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mentions"));
    command.env("MENTIONS_TEST_TOKEN", token);
    let mut daemon = Daemon::start_with(command, &config, log);
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_for(
            &format!("{base}/healthz"),
            200,
            Duration::from_secs(10),
            &mut daemon
        )
        .await,
        "{}",
        daemon.log()
    );
    let client = crate::http_client().no_proxy().build().unwrap();
    let status = |path: &'static str, auth: Option<String>| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let mut req = client.get(format!("{base}{path}"));
            if let Some(auth) = auth {
                req = req.header("authorization", auth);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    for path in ["/metrics", "/api/report?topic=nk-ru"] {
        assert_eq!(status(path, None).await, 401, "{path}");
        assert_eq!(
            status(path, Some("Bearer wrong".into())).await,
            401,
            "{path}"
        );
        assert_eq!(
            status(path, Some(format!("Bearer {token}x"))).await,
            401,
            "{path}"
        );
        assert_eq!(
            status(path, Some(format!("Bearer {token}"))).await,
            200,
            "{path}"
        );
    }
    assert_eq!(status("/healthz", None).await, 200);
    assert!(!daemon.log().contains(token), "the token is logged");
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
}

#[test]
fn listening_beyond_loopback_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[server]\nlisten = \"0.0.0.0:0\"\n\n[[topic]]\nname = \"nk\"\nquery = \"nordkorea\"\n",
    );
    let run = crate::mentions_blocking(&config, &["run".to_owned()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("[server] token"), "{}", run.stderr);
    assert!(run.stderr.contains("0.0.0.0:0"), "{}", run.stderr);
}
