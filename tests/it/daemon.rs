//! `mentions run` as a service: schedules, signals, restarts after kill -9,
//! reload, the single-instance lock and systemd notifications.

use crate::server::{Behavior, Route, TestServer};
use crate::{mentions, write_config};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `mentions run`, killed when dropped.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, &[])
    }

    fn start_with(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mentions"));
        cmd.arg("--config")
            .arg(config)
            .arg("run")
            .env("NO_PROXY", "*")
            .env("RUST_LOG", "mentions=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon {
            child: cmd.spawn().expect("mentions run starts"),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its exit code and stderr.
    fn wait(mut self, limit: Duration) -> Option<(i32, String)> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Some((status.code().unwrap_or(-1), err));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms for up to `limit`.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

fn items(base: &str, prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "<item><title>Nordkorea und Russland: Meldung {prefix}-{i}</title><link>{base}/{prefix}/{i}.html</link><pubDate>Tue, 24 Nov 2026 10:{:02}:00 +0000</pubDate></item>\n",
                i % 60
            )
        })
        .collect()
}

fn rss(title: &str, items: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>{title}</title><link>http://example.org/</link><description>x</description>\n{items}</channel></rss>")
}

fn feed(base: &str, prefix: &str, n: usize) -> String {
    rss(prefix, &items(base, prefix, n))
}

fn config_text(server: &TestServer, sources: &[(&str, &str)], extra: &str) -> String {
    let mut text = format!(
        "[crawler]\nuser_agent = \"mentions-test/1.0\"\ntimeout = \"30s\"\nretries = 0\nschedule = \"*/1 * * * * *\"\n{extra}\n[[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n"
    );
    for (name, path) in sources {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\ntype = \"feed\"\nurl = \"{}\"\n",
            server.url(path)
        ));
    }
    text
}

/// A server with robots.txt absent and one feed `/a.xml` of one item, and a
/// config in a temporary folder with the source `a` on it.
async fn one_feed_site() -> (TestServer, tempfile::TempDir, PathBuf) {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/a.xml",
        Route::ok("application/rss+xml", feed(&server.url(""), "a", 1)),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, &[("a", "/a.xml")], ""));
    (server, dir, config)
}

/// A daemon on `config` that has fetched the feed `/a.xml` of `server` once.
async fn crawling(server: &TestServer, config: &Path) -> Daemon {
    let daemon = Daemon::start(config);
    assert!(
        eventually(Duration::from_secs(5), || !server
            .requests_to("/a.xml")
            .is_empty())
        .await
    );
    daemon
}

async fn web_count(config: &Path) -> u64 {
    let mut args = vec!["report", "--topic", "nk", "--format", "json"];
    args.extend(crate::ALL_TIME);
    let run = mentions(config, &args).await;
    assert_eq!(run.code, 0, "{run:?}");
    run.json()["counts"]["web"].as_u64().unwrap()
}

fn integrity_ok(db: &Path) {
    let store = mentions::store::Store::open(db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_fire_every_second_with_conditional_requests() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server.url(""), "a", 5)).with_etag("\"v1\""),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, &[("a", "/feed.xml")], ""));
    let daemon = Daemon::start(&config);
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(4), || server
            .requests_to("/feed.xml")
            .len()
            >= 3)
        .await,
        "fewer than 3 fetches: {:?}",
        server.requests_to("/feed.xml").len()
    );
    // Three fetches within 4 s of starting the daemon.
    assert!(started.elapsed() <= Duration::from_millis(4100));
    let first = server.requests_to("/feed.xml")[0].target.clone();
    let log = server.requests_to("/feed.xml");
    assert_eq!(first, "/feed.xml");
    assert!(log[0].headers.get("if-none-match").is_none());
    for repeat in &log[1..] {
        assert_eq!(repeat.headers.get("if-none-match").unwrap(), "\"v1\"");
        assert_eq!(repeat.status, 304);
    }
    // Readers work while the daemon writes.
    assert_eq!(web_count(&config).await, 5);
    let sources = mentions(&config, &["sources", "--format", "json"]).await;
    assert_eq!(sources.code, 0);
    assert_eq!(sources.json()[0]["mentions"], 5);
    daemon.signal("TERM");
    let (code, _) = daemon
        .wait(Duration::from_secs(10))
        .expect("exits within 10 s");
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_crawl_exits_cleanly_and_stores_nothing_partial() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/slow.xml",
        Route::ok("application/rss+xml", feed(&server.url(""), "s", 3)).behave(Behavior::Slow),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config_text(&server, &[("slow", "/slow.xml")], ""),
    );
    let daemon = Daemon::start(&config);
    assert!(
        eventually(Duration::from_secs(5), || !server
            .requests_to("/slow.xml")
            .is_empty())
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    daemon.signal("TERM");
    let (code, stderr) = daemon
        .wait(Duration::from_secs(10))
        .expect("exits within 10 s");
    assert_eq!(code, 0, "{stderr}");
    assert!(asked.elapsed() < Duration::from_secs(10));
    integrity_ok(&dir.path().join("mentions.db"));
    assert_eq!(web_count(&config).await, 0);
    let sources = mentions(&config, &["sources", "--format", "json"])
        .await
        .json();
    assert!(sources[0]["last_run"].is_null(), "{sources}");
}

/// One crawl slot (`concurrency = 1`), a slow source holding it and two
/// quick ones waiting for it: SIGTERM lets the running crawl finish within
/// the grace period but begins neither of the waiting ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_begins_no_crawl_that_waits_for_a_slot() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    // Six bytes at one a second: about 6 s in flight, within the grace period.
    server.route(
        "/slow.xml",
        Route::ok("application/rss+xml", "<rss/>").behave(Behavior::Slow),
    );
    for name in ["a", "b"] {
        server.route(
            &format!("/{name}.xml"),
            Route::ok("application/rss+xml", feed(&server.url(""), name, 2)),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config_text(
            &server,
            &[("slow", "/slow.xml"), ("a", "/a.xml"), ("b", "/b.xml")],
            "concurrency = 1\n",
        ),
    );
    let daemon = Daemon::start(&config);
    assert!(
        eventually(Duration::from_secs(10), || !server
            .requests_to("/slow.xml")
            .is_empty())
        .await
    );
    // The quick sources fire every second meanwhile and wait for the slot.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let quick = || server.requests_to("/a.xml").len() + server.requests_to("/b.xml").len();
    let before = quick();
    daemon.signal("TERM");
    let (code, stderr) = daemon
        .wait(Duration::from_secs(15))
        .expect("exits within 15 s");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.requests_to("/slow.xml").len(), 1, "{stderr}");
    assert_eq!(
        quick(),
        before,
        "a waiting crawl began after SIGTERM: {stderr}"
    );
    assert!(stderr.contains("slow: 0 new"), "{stderr}");
    assert!(!stderr.contains("abandoned"), "{stderr}");
    integrity_ok(&dir.path().join("mentions.db"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_nothing_and_counts_nothing_twice() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    let base = server.url("");
    let names: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
    let mut sources = Vec::new();
    for name in &names {
        // Every feed also carries the same 20 shared items: duplicates across sources.
        let path = format!("/{name}.xml");
        let body = rss(
            name,
            &format!("{}{}", items(&base, name, 40), items(&base, "shared", 20)),
        );
        server.route(&path, Route::ok("application/rss+xml", body));
        sources.push((name.clone(), path));
    }
    let list: Vec<(&str, &str)> = sources
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_str()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, &list, ""));
    let expected = 12 * 40 + 20;
    let db = dir.path().join("mentions.db");
    for round in 0..6 {
        let mut daemon = Daemon::start(&config);
        let wait = Duration::from_millis(150 + fastrand::u64(0..1200));
        tokio::time::sleep(wait).await;
        assert!(daemon.running(), "round {round}");
        daemon.signal("KILL");
        daemon.wait(Duration::from_secs(5)).expect("killed");
        integrity_ok(&db);
        let counted = web_count(&config).await;
        assert!(
            counted <= expected as u64,
            "round {round}: {counted} > {expected}"
        );
    }
    let last = mentions(&config, &["crawl"]).await;
    assert_eq!(last.code, 0, "{last:?}");
    assert_eq!(web_count(&config).await, expected as u64);
    integrity_ok(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_keeps_the_old_config_when_broken_and_applies_a_good_one() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/a.xml",
        Route::ok("application/rss+xml", feed(&server.url(""), "a", 2)),
    );
    server.route(
        "/b.xml",
        Route::ok("application/rss+xml", feed(&server.url(""), "b", 3)),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, &[("a", "/a.xml")], ""));
    let mut daemon = Daemon::start(&config);
    assert!(
        eventually(Duration::from_secs(5), || !server
            .requests_to("/a.xml")
            .is_empty())
        .await
    );

    std::fs::write(&config, "[[topic]]\nname = \"nk\"\nquery = \"(broken\"\n").unwrap();
    daemon.signal("HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.requests_to("/a.xml").len();
    assert!(
        eventually(Duration::from_secs(4), || server
            .requests_to("/a.xml")
            .len()
            >= before + 2)
        .await
    );
    assert!(daemon.running());
    assert!(server.requests_to("/b.xml").is_empty());

    write_config(
        dir.path(),
        &config_text(&server, &[("a", "/a.xml"), ("b", "/b.xml")], ""),
    );
    daemon.signal("HUP");
    assert!(
        eventually(Duration::from_secs(5), || !server
            .requests_to("/b.xml")
            .is_empty())
        .await
    );
    assert!(eventually(Duration::from_secs(5), || daemon.running()).await);
    daemon.signal("TERM");
    let (code, stderr) = daemon.wait(Duration::from_secs(10)).expect("exits");
    assert_eq!(code, 0);
    assert!(stderr.contains("config not reloaded"), "{stderr}");
    assert_eq!(web_count(&config).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_database_exits_2_naming_the_holder() {
    let (server, _dir, config) = one_feed_site().await;
    let first = crawling(&server, &config).await;
    let second = Daemon::start(&config);
    let (code, stderr) = second
        .wait(Duration::from_secs(5))
        .expect("the second exits");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.pid())), "{stderr}");
    assert!(stderr.contains("mentions.db.lock"), "{stderr}");
    // Readers never need the lock.
    assert_eq!(web_count(&config).await, 1);
    first.signal("TERM");
    assert_eq!(first.wait(Duration::from_secs(10)).expect("exits").0, 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlinked_database_path_takes_the_same_lock() {
    let (server, dir, config) = one_feed_site().await;
    let first = crawling(&server, &config).await;
    // Another folder whose mentions.db is a symlink to the first one's.
    let other = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("mentions.db"),
        other.path().join("mentions.db"),
    )
    .unwrap();
    let other_config = other.path().join("config.toml");
    std::fs::copy(&config, &other_config).unwrap();
    let second = Daemon::start(&other_config);
    let (code, stderr) = second
        .wait(Duration::from_secs(5))
        .expect("the second exits");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.pid())), "{stderr}");
    first.signal("TERM");
    assert_eq!(first.wait(Duration::from_secs(10)).expect("exits").0, 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let (_server, dir, config) = one_feed_site().await;
    let socket_path: PathBuf = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let daemon = Daemon::start_with(&config, &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())]);
    let mut buf = [0u8; 256];
    let read = |buf: &mut [u8]| {
        let n = socket
            .recv(buf)
            .unwrap_or_else(|e| panic!("no notification within 10 s: {e}"));
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(read(&mut buf).trim(), "READY=1");
    daemon.signal("TERM");
    let mut seen = Vec::new();
    while !seen.iter().any(|m: &String| m.contains("STOPPING=1")) {
        seen.push(read(&mut buf));
    }
    assert_eq!(daemon.wait(Duration::from_secs(10)).expect("exits").0, 0);
}

/// A port nothing listens on yet, for the endpoint.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The status of `GET /healthz` and how long it took; None when nothing
/// answered within 5 s.
async fn healthz(port: u16) -> (Option<u16>, Duration) {
    let client = crate::http_client()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let asked = Instant::now();
    let status = client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16());
    (status, asked.elapsed())
}

/// An RSS feed of one item whose description is `depth` nested `<div>`s
/// before the text, as CDATA: about 0.5 MB for 100,000.
fn nested_divs_feed(base: &str, name: &str, depth: usize) -> String {
    let description = format!(
        "<![CDATA[{}Nordkorea und Russland: {name}]]>",
        "<div>".repeat(depth)
    );
    rss(
        name,
        &format!("<item><title>Meldung {name}</title><link>{base}/{name}/1.html</link><pubDate>Tue, 24 Nov 2026 10:00:00 +0000</pubDate><description>{description}</description></item>\n"),
    )
}

/// Two feeds whose descriptions are 100,000 nested `<div>`s (which once
/// took minutes to read, on the async workers) are read every second next
/// to a healthy feed: the endpoint answers within a second throughout, the
/// watchdog pings go on, the healthy feed is crawled every second, the
/// hostile feeds are read too, and SIGTERM ends it all promptly.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_hold_up_neither_the_daemon_nor_other_sources() {
    use std::os::unix::net::UnixDatagram;
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    let base = server.url("");
    server.route(
        "/a.xml",
        Route::ok("application/rss+xml", feed(&base, "a", 1)),
    );
    for name in ["h1", "h2"] {
        let body = nested_divs_feed(&base, name, 100_000);
        assert!(body.len() > 500_000);
        server.route(
            &format!("/{name}.xml"),
            Route::ok("application/rss+xml", body),
        );
    }
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut text = config_text(
        &server,
        &[("a", "/a.xml"), ("h1", "/h1.xml")],
        &format!("\n[server]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    // On another host, so that the two hostile feeds are fetched at once.
    text.push_str(&format!(
        "\n[[source]]\nname = \"h2\"\ntype = \"feed\"\nurl = \"{}\"\n",
        server.url_as_localhost("/h2.xml")
    ));
    let config = write_config(dir.path(), &text);
    // systemd's notifications, with a watchdog ping asked for every 0.5 s.
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let pings = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let listening = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let listener = {
        let (pings, listening) = (pings.clone(), listening.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while listening.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok(n) = socket.recv(&mut buf) {
                    if String::from_utf8_lossy(&buf[..n]).contains("WATCHDOG=1") {
                        pings.lock().unwrap().push(Instant::now());
                    }
                }
            }
        })
    };
    let daemon = Daemon::start_with(
        &config,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );

    // Both hostile feeds have been fetched: their reading has begun.
    assert!(
        eventually(Duration::from_secs(10), || {
            !server.requests_to("/h1.xml").is_empty() && !server.requests_to("/h2.xml").is_empty()
        })
        .await,
        "the hostile feeds were not both fetched"
    );
    let healthy_before = server.requests_to("/a.xml").len();
    let window = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut asked = 0;
    while window.elapsed() < Duration::from_secs(5) {
        let (status, took) = healthz(port).await;
        assert_eq!(status, Some(200), "/healthz after {:?}", window.elapsed());
        slowest = slowest.max(took);
        asked += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let window = window.elapsed();
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?}"
    );
    assert!(asked >= 10, "/healthz answered {asked} times in {window:?}");
    let healthy = server.requests_to("/a.xml").len() - healthy_before;
    assert!(
        healthy >= 3,
        "the healthy feed was fetched {healthy} times in {window:?}"
    );
    {
        let pings = pings.lock().unwrap();
        let longest = pings
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(Duration::MAX);
        assert!(
            pings.len() >= 8 && longest < Duration::from_secs(1),
            "{} watchdog pings, at most {longest:?} apart",
            pings.len()
        );
    }
    // The hostile feeds are read, not just survived: one mention each.
    let mut counted = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        counted = web_count(&config).await;
        if counted == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(counted, 3);

    let asked = Instant::now();
    daemon.signal("TERM");
    let (code, stderr) = daemon
        .wait(Duration::from_secs(10))
        .expect("exits within 10 s of SIGTERM");
    assert_eq!(code, 0, "{stderr}");
    assert!(asked.elapsed() < Duration::from_secs(10));
    listening.store(false, std::sync::atomic::Ordering::SeqCst);
    listener.join().unwrap();
}
