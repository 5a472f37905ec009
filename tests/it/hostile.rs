//! Servers that misbehave: each fails only its own source with a one-line
//! error, the crawl ends within the configured timeouts, the good source is
//! stored, and memory stays bounded by `max_body`.

use crate::server::{Behavior, Route, TestServer};
use crate::write_config;
use std::io::Write;
use std::time::{Duration, Instant};

/// `mib` MiB of zeros, gzip-compressed (about 1 KiB per MiB).
fn gzip_bomb(mib: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..mib {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

const GOOD_FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Gut</title><link>http://127.0.0.1/</link><description>x</description>
<item><title>Nordkorea und Russland unterzeichnen Abkommen</title><link>http://127.0.0.1/gut/1.html</link><pubDate>Tue, 24 Nov 2026 10:00:00 +0000</pubDate></item>
<item><title>Russland empfängt Nordkoreas Außenministerin</title><link>http://127.0.0.1/gut/2.html</link><pubDate>Tue, 24 Nov 2026 11:00:00 +0000</pubDate></item>
</channel></rss>"#;

/// Runs the binary and samples its peak resident memory (VmHWM) until it exits.
fn run_measured(config: &std::path::Path, args: &[&str]) -> (crate::Run, u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mentions"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("NO_PROXY", "*")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let run = crate::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, peak_kib)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_hostile_server_fails_only_its_own_source() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route("/gut.xml", Route::ok("application/rss+xml", GOOD_FEED));
    server.route(
        "/bomb.xml",
        Route::ok("application/rss+xml", gzip_bomb(512)).with_header("content-encoding", "gzip"),
    );
    server.route(
        "/endless.xml",
        Route::ok("application/rss+xml", "").behave(Behavior::Endless),
    );
    server.route(
        "/loop-a.xml",
        Route::status(302).behave(Behavior::Redirect("/loop-b.xml".into())),
    );
    server.route(
        "/loop-b.xml",
        Route::status(302).behave(Behavior::Redirect("/loop-a.xml".into())),
    );
    server.route(
        "/slow.xml",
        Route::ok("application/rss+xml", GOOD_FEED).behave(Behavior::Slow),
    );
    server.route(
        "/broken.xml",
        Route::ok(
            "application/rss+xml",
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Kaputt</title><item><title>Nordkorea</ti",
        ),
    );
    let feeds = [
        ("gut", server.url("/gut.xml")),
        ("bomb", server.url("/bomb.xml")),
        ("endless", server.url("/endless.xml")),
        ("loop", server.url("/loop-a.xml")),
        ("slow", server.url("/slow.xml")),
        ("broken", server.url("/broken.xml")),
        ("nowhere", "http://nowhere.invalid/feed.xml".to_owned()),
    ];
    let mut config = String::from(
        r#"
[crawler]
user_agent = "mentions-test/1.0"
timeout = "2s"
retries = 1
max_body = "1MiB"
max_redirects = 5

[[topic]]
name = "nk"
query = "nordkorea* AND russland*"
"#,
    );
    for (name, url) in &feeds {
        config.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\ntype = \"feed\"\nurl = \"{url}\"\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &config);

    let started = Instant::now();
    let (run, peak_kib) = tokio::task::spawn_blocking(move || run_measured(&path, &["crawl"]))
        .await
        .unwrap();
    let took = started.elapsed();

    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), feeds.len(), "{}", run.stdout);
    assert!(
        lines.contains(&"gut: 2 new, 0 already counted, 2 items read"),
        "{}",
        run.stdout
    );
    for (name, _) in &feeds[1..] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no line for {name}: {}", run.stdout));
        assert!(line.contains("FAILED: "), "{line}");
    }
    let line = |name: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap()
    };
    assert!(line("bomb").contains("limit"), "{}", line("bomb"));
    assert!(line("endless").contains("limit"), "{}", line("endless"));
    assert!(line("loop").contains("redirect"), "{}", line("loop"));
    assert!(line("slow").contains("timed out"), "{}", line("slow"));
    assert!(
        line("nowhere").contains("nowhere.invalid"),
        "{}",
        line("nowhere")
    );
    // Two attempts of at most 2 s each plus one backoff bound the slowest source.
    assert!(took < Duration::from_secs(20), "crawl took {took:?}");
    // A 512 MiB bomb and an endless body never sit in memory.
    assert!(
        peak_kib > 0 && peak_kib < 150 * 1024,
        "peak RSS {peak_kib} KiB"
    );
}

/// A full-text feed whose item links, directly or through a redirect, point
/// at hosts the config does not name on this machine: nothing there is
/// fetched, user info is never sent or stored, and no internal text becomes
/// an excerpt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_cannot_point_the_crawler_at_private_addresses() {
    let server = TestServer::start().await;
    let a = server.url("");
    // `localhost` reaches the same server, but the config names only 127.0.0.1.
    let inside = server.url_as_localhost("");
    let internal = |p: &str| format!("{inside}/internal/{p}.html");
    let with_user = internal("b").replace("http://", "http://admin:hunter2@");
    let items = [
        ("a", internal("a")),
        ("b", with_user.clone()),
        ("c", format!("{a}/jump")),
    ];
    let entries: Vec<String> = items
        .iter()
        .map(|(id, link)| {
            format!(
                r#"{{"id": "{id}", "url": "{link}", "title": "Nordkorea und Russland: Meldung {id}", "content_text": "Kurz.", "date_published": "2026-11-24T10:00:00Z"}}"#
            )
        })
        .collect();
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/feed.json",
        Route::ok(
            "application/feed+json",
            format!(
                r#"{{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": [{}]}}"#,
                entries.join(",")
            ),
        ),
    );
    server.route(
        "/jump",
        Route::status(302).behave(Behavior::Redirect(internal("c"))),
    );
    for p in ["a", "b", "c"] {
        server.route(
            &format!("/internal/{p}.html"),
            Route::ok(
                "text/html",
                "<html><body><article><p>INTERNAL SECRET Nordkorea Russland</p></article></body></html>",
            ),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[crawler]\nuser_agent = \"mentions-test/1.0\"\ntimeout = \"5s\"\nretries = 0\n\n\
             [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n\
             [[source]]\nname = \"voll\"\ntype = \"feed\"\nurl = \"{a}/feed.json\"\nfull_text = true\nlookback = \"36500d\"\n"
        ),
    );
    let crawl = crate::mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    for p in ["a", "b", "c"] {
        assert!(
            server
                .requests_to(&format!("/internal/{p}.html"))
                .is_empty(),
            "{p} was fetched"
        );
    }
    // The items still count on their own text; no internal text, no user info stored.
    let db = rusqlite::Connection::open(dir.path().join("mentions.db")).unwrap();
    let rows: Vec<(String, String)> = db
        .prepare("SELECT identity, excerpt FROM mention ORDER BY identity")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (identity, excerpt) in &rows {
        assert!(!excerpt.contains("INTERNAL"), "{excerpt}");
        assert!(
            !identity.contains("hunter2") && !identity.contains("admin"),
            "{identity}"
        );
    }
}
