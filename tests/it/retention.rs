//! Retention, `prune` and `backup` (SPEC §7): old mentions go with their
//! counts, bookkeeping goes after twice the longest lookback whatever the
//! setting, a pruned item a feed still lists stays out, `run` applies
//! retention on its own, and `backup` copies the database while `run` writes.

use crate::server::{Route, TestServer};
use crate::{mentions, write_config};
use chrono::{Duration as Days, Utc};
use mentions::http::Validators;
use mentions::sources::Kind;
use mentions::store::{CrawlBatch, NewMention, Store};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An RSS feed of matching items, `(path, days ago)` each.
fn feed(server: &TestServer, items: &[(&str, i64)]) -> String {
    let items: String = items
        .iter()
        .map(|(path, days)| {
            let date = (Utc::now() - Days::days(*days)).to_rfc2822();
            format!(
                "<item><title>Nordkorea und Russland {path}</title><link>{}</link><pubDate>{date}</pubDate></item>\n",
                server.url(path)
            )
        })
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><link>http://example.org/</link><description>x</description>\n{items}</channel></rss>")
}

const OLD_AND_NEW: [(&str, i64); 5] = [
    ("/old/1", 500),
    ("/old/2", 480),
    ("/old/3", 401),
    ("/new/1", 2),
    ("/new/2", 399),
];

fn config_text(server: &TestServer, database: &str, extra: &str) -> String {
    format!(
        "[database]\npath = \"{database}\"\n{extra}\n\
         [crawler]\nuser_agent = \"mentions-test/1.0\"\nretries = 0\nschedule = \"*/1 * * * * *\"\n\n\
         [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n\
         [[source]]\nname = \"feed\"\ntype = \"feed\"\nurl = \"{}\"\n",
        server.url("/feed.xml")
    )
}

/// A server whose feed lists three items older than 400 days and two newer.
async fn site() -> TestServer {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server, &OLD_AND_NEW)).with_etag("\"v1\""),
    );
    server
}

/// What a source that ran 40 days ago left: a mention of 450 days ago and
/// one of 30, ten seen items and a validator — written the way a crawl
/// writes them, with the crawl's time.
fn write_archive(db: &Path) {
    let mut store = Store::open(db).unwrap();
    let started = Utc::now() - Days::days(40);
    let mut batch = CrawlBatch::new("archive", "mastodon", Kind::Social, started);
    batch.mentions = [(1, 450), (2, 30)]
        .map(|(i, days)| NewMention {
            topic: "nk".into(),
            kind: Kind::Social,
            identity: format!("https://social.example/@a/{i}"),
            url: None,
            host: None,
            title: String::new(),
            excerpt: "Nordkorea und Russland".into(),
            author: None,
            lang: None,
            published: Some(Utc::now() - Days::days(days)),
            simhash: i,
            seen: None,
        })
        .to_vec();
    batch.seen = (0..10).collect();
    batch.validators = vec![(
        "https://social.example/api/v1/timelines/tag/nk".into(),
        Validators {
            etag: Some("\"a1\"".into()),
            last_modified: None,
        },
    )];
    store.commit(&batch).unwrap();
    drop(store);
    // What the client remembered of the archive's host then: its
    // robots.txt and a back-off long over; and a back-off still running.
    let then = started.timestamp();
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT INTO robots_txt (origin, body, fetched_at, expires_at)
         VALUES ('https://social.example', 'User-agent: *', ?1, ?1 + 86400)",
        [then],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO host_backoff (origin, until_ms, reason) VALUES
           ('https://social.example', ?1 * 1000, 'Retry-After: 120'),
           ('https://busy.example', ?2 * 1000, 'Retry-After: 3600')",
        [then + 120, Utc::now().timestamp() + 3600],
    )
    .unwrap();
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Every count table equals a direct count of the mentions stored.
fn assert_counts_exact(db: &Path) {
    let spans = "(SELECT 3600 AS span UNION ALL SELECT 86400 UNION ALL SELECT 691200 UNION ALL SELECT 5529600) s";
    let direct = format!(
        "SELECT topic_id, s.span, at - ((at % s.span) + s.span) % s.span AS b, source_id, kind, count(*)
         FROM mention CROSS JOIN {spans} GROUP BY topic_id, s.span, b, source_id, kind"
    );
    let stored = "SELECT * FROM count_source";
    for (a, b) in [(stored, direct.as_str()), (direct.as_str(), stored)] {
        assert_eq!(
            count(db, &format!("SELECT count(*) FROM ({a} EXCEPT {b})")),
            0,
            "{a} differs from {b}"
        );
    }
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM source WHERE mentions != (SELECT count(*) FROM mention WHERE source_id = source.id)"
        ),
        0
    );
}

/// The archive's old robots.txt and back-off went (`prune`'s last two
/// lines); the feed server's robots.txt, read today, and the busy host's
/// running back-off stay.
fn assert_host_memory_pruned(lines: &[&str], db: &Path) {
    assert!(
        lines[4].starts_with("robots.txt: 1 older than "),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with("back-offs: 1 older than "),
        "{}",
        lines[5]
    );
    assert_eq!(count(db, "SELECT count(*) FROM robots_txt"), 1);
    assert_eq!(count(db, "SELECT count(*) FROM host_backoff"), 1);
}

/// `(web, social)` over all time, as `report` gives them.
async fn counts(config: &Path) -> (u64, u64) {
    let mut args = vec!["report", "--topic", "nk", "--format", "json"];
    args.extend(crate::ALL_TIME);
    let run = mentions(config, &args).await;
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    (
        json["counts"]["web"].as_u64().unwrap(),
        json["counts"]["social"].as_u64().unwrap(),
    )
}

/// A crawled feed plus the archive, in a temporary folder.
async fn stocked(extra: &str) -> (TestServer, tempfile::TempDir, PathBuf, PathBuf) {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, "m.db", extra));
    let db = dir.path().join("m.db");
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    write_archive(&db);
    assert_eq!(counts(&config).await, (5, 2));
    // Five items of the feed, evaluated now, and ten of the archive.
    assert_eq!(count(&db, "SELECT count(*) FROM seen"), 15);
    assert_eq!(count(&db, "SELECT count(*) FROM http_cache"), 2);
    (server, dir, config, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_removes_exactly_the_old_rows_and_their_counts() {
    let (server, _dir, config, db) = stocked("retention = \"400d\"").await;
    let run = mentions(&config, &["prune"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", run.stdout);
    assert!(
        lines[0].starts_with("mentions: 4 older than "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(" UTC (retention 400d)"), "{}", lines[0]);
    assert!(lines[1].starts_with("seen: 10 older than "), "{}", lines[1]);
    assert!(
        lines[1].ends_with(" UTC (twice the longest lookback, 7d)"),
        "{}",
        lines[1]
    );
    // The archive's sighting that outlives its mention's retention.
    assert!(
        lines[2].starts_with("sightings: 1 older than "),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("validators: 1 older than "),
        "{}",
        lines[3]
    );
    assert_host_memory_pruned(&lines, &db);

    // The two new feed items and the 30-day-old post are left, and the
    // reports say so.
    assert_eq!(counts(&config).await, (2, 1));
    assert_eq!(count(&db, "SELECT count(*) FROM mention"), 3);
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM mention WHERE at < {}",
                (Utc::now() - Days::days(400)).timestamp()
            )
        ),
        0
    );
    assert_counts_exact(&db);
    let sources = mentions(&config, &["sources", "--format", "json"]).await;
    let sources = sources.json();
    let stored = |name: &str| {
        sources
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["mentions"].clone())
    };
    assert_eq!(stored("feed"), Some(2.into()), "{sources}");
    assert_eq!(count(&db, "SELECT count(*) FROM seen"), 5);
    assert_eq!(count(&db, "SELECT count(*) FROM http_cache"), 1);

    // The feed still lists the old items: they stay out.
    server.route(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server, &OLD_AND_NEW)),
    );
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    assert_eq!(counts(&config).await, (2, 1));
    assert_counts_exact(&db);

    // Nothing left to do.
    let again = mentions(&config, &["prune"]).await;
    assert!(
        again.stdout.starts_with("mentions: 0 older than "),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retention_mentions_stay_and_bookkeeping_still_goes() {
    let (_server, _dir, config, db) = stocked("").await;
    let run = mentions(&config, &["prune"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "mentions: all kept ([database] retention is not set)"
    );
    assert!(lines[1].starts_with("seen: 10 older than "), "{}", lines[1]);
    // Sightings go by age like the rest of the bookkeeping; their mentions stay.
    assert!(
        lines[2].starts_with("sightings: 2 older than "),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("validators: 1 older than "),
        "{}",
        lines[3]
    );
    assert_host_memory_pruned(&lines, &db);
    assert_eq!(counts(&config).await, (5, 2));
    assert_counts_exact(&db);
    // The feed's own seen items and validator are fresh and stay.
    assert_eq!(count(&db, "SELECT count(*) FROM seen"), 5);
    assert_eq!(count(&db, "SELECT count(*) FROM http_cache"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_and_backup_on_a_missing_database_exit_3_and_create_nothing() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, "m.db", ""));
    let copy = dir.path().join("copy.db");
    for args in [&["prune"][..], &["backup", copy.to_str().unwrap()]] {
        let run = mentions(&config, args).await;
        assert_eq!(run.code, 3, "{args:?}: {run:?}");
        assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
        assert!(!dir.path().join("m.db").exists());
        assert!(!copy.exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_retention_names_its_line_and_key() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config_text(&server, "m.db", "retention = \"forever\""),
    );
    for command in ["check", "prune"] {
        let run = mentions(&config, &[command]).await;
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(
            run.stderr.trim(),
            format!(
                "mentions: {}:3:13: database.retention: \"forever\" is not a duration above zero; \
                 write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\"",
                config.display()
            )
        );
    }
}

/// A running `mentions run`, killed when dropped.
struct Daemon(Child);

impl Daemon {
    fn start(config: &Path) -> Daemon {
        Daemon(
            Command::new(env!("CARGO_BIN_EXE_mentions"))
                .arg("--config")
                .arg(config)
                .arg("run")
                .env("NO_PROXY", "*")
                .env("RUST_LOG", "mentions=info")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("mentions run starts"),
        )
    }

    /// SIGTERM, then its exit code and stderr.
    fn stop(mut self) -> (i32, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if let Some(status) = self.0.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.0.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return (status.code().unwrap_or(-1), err);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("mentions run did not stop within 15 s");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_applies_retention_on_its_own_and_logs_it() {
    let (_server, _dir, config, db) = stocked("retention = \"400d\"").await;
    let daemon = Daemon::start(&config);
    let old = format!(
        "SELECT count(*) FROM mention WHERE at < {}",
        (Utc::now() - Days::days(400)).timestamp()
    );
    assert!(
        eventually(Duration::from_secs(10), || count(&db, &old) == 0).await,
        "old mentions are still there"
    );
    assert!(
        eventually(Duration::from_secs(10), || count(
            &db,
            "SELECT count(*) FROM seen"
        ) == 5)
        .await
    );
    let (code, log) = daemon.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("retention: mentions: 4 older than "), "{log}");
    assert!(log.contains("retention: seen: 10 older than "), "{log}");
    assert_eq!(counts(&config).await, (2, 1));
    assert_counts_exact(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_the_database_while_run_writes() {
    let server = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server, "m.db", ""));
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    let before = 5;
    let daemon = Daemon::start(&config);
    // The feed grows while the daemon crawls it every second.
    let mut items: Vec<(String, i64)> = Vec::new();
    let mut copies = Vec::new();
    for round in 0..4 {
        for i in 0..20 {
            items.push((format!("/more/{round}/{i}"), 1));
        }
        let listed: Vec<(&str, i64)> = items.iter().map(|(p, d)| (p.as_str(), *d)).collect();
        server.route(
            "/feed.xml",
            Route::ok("application/rss+xml", feed(&server, &listed)),
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        let copy = dir.path().join(format!("copy-{round}.db"));
        let run = mentions(&config, &["backup", copy.to_str().unwrap()]).await;
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout
                .starts_with(&format!("backup: wrote {} (", copy.display())),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.trim_end().ends_with("integrity ok)"),
            "{}",
            run.stdout
        );
        copies.push(copy);
    }
    let db = dir.path().join("m.db");
    assert!(
        eventually(Duration::from_secs(10), || count(
            &db,
            "SELECT count(*) FROM mention"
        ) == before + 80)
        .await,
        "the daemon stores every item"
    );
    let (code, log) = daemon.stop();
    assert_eq!(code, 0, "{log}");
    let live = before + 80;
    let mut last = 0;
    for copy in &copies {
        // A file of its own that opens, passes integrity_check and holds at
        // least what was there before.
        assert!(!Path::new(&format!("{}-wal", copy.display())).exists());
        let conn = rusqlite::Connection::open(copy).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let n = count(copy, "SELECT count(*) FROM mention");
        assert!(n >= before && n >= last && n <= live, "{n} mentions");
        last = n;
        assert_counts_exact(copy);
    }
    // The copy is a database `mentions` reads.
    std::fs::create_dir(dir.path().join("copy")).unwrap();
    let copy_config = write_config(
        &dir.path().join("copy"),
        &config_text(&server, "../copy-3.db", ""),
    );
    assert_eq!(counts(&copy_config).await.0, last as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_refuses_to_overwrite_without_force() {
    let (_server, dir, config, _db) = stocked("").await;
    let copy = dir.path().join("copy.db");
    std::fs::write(&copy, "precious").unwrap();
    let run = mentions(&config, &["backup", copy.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("already exists; pass --force"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "precious");
    // Nor onto the database itself, even with --force.
    let db = dir.path().join("m.db");
    let run = mentions(&config, &["backup", "--force", db.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("is the database itself"),
        "{}",
        run.stderr
    );

    let run = mentions(&config, &["backup", "--force", copy.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(count(&copy, "SELECT count(*) FROM mention"), 7);
    // Only the copy is left behind: no partial files.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("copy") || n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names, ["copy.db"]);
}
