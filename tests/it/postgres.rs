//! `mentions migrate --to postgres://…` against a real PostgreSQL server
//! (`MENTIONS_TEST_POSTGRES`): an SQLite database made by the real commands
//! (crawl, prune, exclude) is copied whole, a second run copies nothing and
//! still matches, an interrupted copy is finished by running it again, a
//! target holding other data is refused, and the password never shows.

#[path = "../../src/store/postgres/testdb.rs"]
pub(crate) mod testdb;

use crate::server::{Route, TestServer};
use crate::{mentions, write_config, Run};
use chrono::{Duration as Days, Utc};
use mentions::store::postgres::TABLES;
use mentions::store::{NewAlert, Store};
use std::path::Path;
use testdb::TestDb;

/// A feed of matching items, `(path, days ago)` each.
pub(crate) fn feed(server: &TestServer, items: &[(&str, i64)]) -> String {
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

/// An SQLite database written by crawl, prune and exclude (and one alert
/// recorded as the alert check records it), with a row in every table.
async fn stocked() -> (TestServer, tempfile::TempDir, std::path::PathBuf) {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    let items: Vec<(String, i64)> = (0..30)
        .map(|i| (format!("/news/{i}"), if i < 3 { 500 } else { i }))
        .collect();
    let items: Vec<(&str, i64)> = items.iter().map(|(p, d)| (p.as_str(), *d)).collect();
    server.route(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server, &items)).with_etag("\"v1\""),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[database]\npath = \"m.db\"\nretention = \"400d\"\n\n\
             [crawler]\nuser_agent = \"mentions-test/1.0\"\nretries = 0\n\n\
             [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n\
             [[source]]\nname = \"feed\"\ntype = \"feed\"\nurl = \"{}\"\n",
            server.url("/feed.xml")
        ),
    );
    let run = mentions(&config, &["crawl"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let run = mentions(&config, &["prune"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let db = dir.path().join("m.db");
    let first: i64 = sqlite_count(&db, "SELECT min(id) FROM mention");
    let run = mentions(
        &config,
        &["exclude", &first.to_string(), "--reason", "test"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let mut store = Store::open(&db).unwrap();
    let now = Utc::now();
    store
        .record_alert(&NewAlert {
            key: "nk-1h-threshold".into(),
            topic: "nk".into(),
            window_secs: 3600,
            trigger: "threshold 5".into(),
            window_start: now - Days::hours(1),
            fired_at: now,
            count: 27,
            baseline: Some(1.25),
            payload: "{\"topic\":\"nk\"}".into(),
        })
        .unwrap();
    // The crawl stored the (absent) robots.txt; a host asked for a back-off.
    store
        .save_backoff(&server.url(""), now + Days::hours(1), "Retry-After")
        .unwrap();
    drop(store);
    for table in TABLES {
        let n = sqlite_count(&db, &format!("SELECT count(*) FROM {table}"));
        assert!(n > 0, "the SQLite database has no {table} rows");
    }
    assert_eq!(sqlite_count(&db, "SELECT count(*) FROM mention"), 27);
    (server, dir, config)
}

pub(crate) fn sqlite_count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

pub(crate) async fn pg(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// SELECT COUNT(*) of every table on both sides.
async fn both_counts(db: &Path, url: &str) -> Vec<(&'static str, i64, i64)> {
    let client = pg(url).await;
    let mut out = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        let p: i64 = client.query_one(&sql, &[]).await.unwrap().get(0);
        out.push((*table, sqlite_count(db, &sql), p));
    }
    out
}

/// The URL with a password: trust authentication ignores it, so it stands
/// for a real one that must never be printed.
pub(crate) fn with_password(url: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_password(Some("N0t-Printed")).unwrap();
    u.to_string()
}

pub(crate) fn assert_no_password(run: &Run) {
    assert!(!run.stdout.contains("N0t-Printed"), "{run:?}");
    assert!(!run.stderr.contains("N0t-Printed"), "{run:?}");
}

/// `copied` column of a table's line in the output.
fn copied(run: &Run, table: &str) -> u64 {
    let line = run
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(table))
        .unwrap_or_else(|| panic!("no line for {table}: {run:?}"));
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_copies_every_table_and_a_rerun_finishes_an_interrupted_copy() {
    let Some(pgdb) = TestDb::create("migrate").await else {
        return;
    };
    let (_server, dir, config) = stocked().await;
    let db = dir.path().join("m.db");
    let url = with_password(pgdb.url());

    let run = mentions(&config, &["migrate", "--to", &url, "--batch", "7"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    assert!(
        run.stdout.contains(&format!(
            "into PostgreSQL at 127.0.0.1:5432/{}",
            pgdb.name()
        )),
        "{run:?}"
    );
    let counts = both_counts(&db, pgdb.url()).await;
    for (table, sqlite, postgres) in &counts {
        assert_eq!(sqlite, postgres, "{table}");
        assert_eq!(copied(&run, table), *sqlite as u64, "{table}");
    }
    let total: i64 = counts.iter().map(|c| c.1).sum();
    assert!(
        run.stdout.contains(&format!(
            "all 16 tables match: {total} rows ({total} copied by this run)"
        )),
        "{run:?}"
    );
    let client = pg(pgdb.url()).await;
    // Values come across as they are: the excluded mention, the alert's
    // baseline, a validator's time (not reset by the trigger).
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM mention WHERE excluded_by IS NOT NULL),
                    (SELECT baseline FROM alert),
                    (SELECT etag FROM http_cache)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    assert_eq!(row.get::<_, Option<f64>>(1), Some(1.25));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("\"v1\""));
    let stored_at: i64 = client
        .query_one("SELECT stored_at FROM http_cache", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        stored_at,
        sqlite_count(&db, "SELECT stored_at FROM http_cache")
    );
    // Sequences moved past the copied ids.
    let id: i64 = client
        .query_one("INSERT INTO topic (name) VALUES ('new') RETURNING id", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(id, sqlite_count(&db, "SELECT max(id) FROM topic") + 1);
    client
        .execute("DELETE FROM topic WHERE name = 'new'", &[])
        .await
        .unwrap();

    // A second run copies nothing and matches.
    let again = mentions(&config, &["migrate", "--to", &url]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains(&format!(
            "all 16 tables match: {total} rows (0 copied by this run)"
        )),
        "{again:?}"
    );

    // Interrupted: the last batches of mentions and sightings never arrived.
    client
        .batch_execute(
            "DELETE FROM mention WHERE id > (SELECT min(id) + 9 FROM mention);
             DELETE FROM sighting WHERE mention_id > (SELECT min(id) + 4 FROM mention);",
        )
        .await
        .unwrap();
    let rerun = mentions(&config, &["migrate", "--to", &url, "--batch", "5"]).await;
    assert_eq!(rerun.code, 0, "{rerun:?}");
    let lost_mentions = sqlite_count(
        &db,
        "SELECT count(*) FROM mention WHERE id > (SELECT min(id) + 9 FROM mention)",
    );
    let lost_sightings = sqlite_count(
        &db,
        "SELECT count(*) FROM sighting WHERE mention_id > (SELECT min(id) + 4 FROM mention)",
    );
    assert_eq!((lost_mentions, lost_sightings), (17, 22));
    assert_eq!(copied(&rerun, "mention"), 17, "{rerun:?}");
    assert_eq!(copied(&rerun, "sighting"), 22, "{rerun:?}");
    assert_eq!(copied(&rerun, "topic"), 0, "{rerun:?}");
    for (table, sqlite, postgres) in both_counts(&db, pgdb.url()).await {
        assert_eq!(sqlite, postgres, "{table}");
    }

    // Other data under a copied key: refused, naming table, key and column.
    client
        .execute(
            "UPDATE mention SET url = 'https://elsewhere.example/x' WHERE id = (SELECT max(id) FROM mention)",
            &[],
        )
        .await
        .unwrap();
    let refused = mentions(&config, &["migrate", "--to", &url]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert_no_password(&refused);
    let max_id = sqlite_count(&db, "SELECT max(id) FROM mention");
    assert!(
        refused.stderr.contains(&format!(
            "the PostgreSQL database holds other data: mention with id {max_id} has url = \"https://elsewhere.example/x\" there, NULL here"
        )),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_refuses_extra_rows_and_names_an_unreachable_host_without_the_password() {
    let Some(pgdb) = TestDb::create("migrate refusals").await else {
        return;
    };
    let (_server, dir, config) = stocked().await;
    let url = with_password(pgdb.url());
    // The target already holds a topic the SQLite database does not.
    {
        let run = mentions(&config, &["migrate", "--to", &url]).await;
        assert_eq!(run.code, 0, "{run:?}");
        pg(pgdb.url())
            .await
            .execute("INSERT INTO topic (name) VALUES ('elsewhere')", &[])
            .await
            .unwrap();
        let run = mentions(&config, &["migrate", "--to", &url]).await;
        assert_eq!(run.code, 1, "{run:?}");
        let topics = sqlite_count(&dir.path().join("m.db"), "SELECT count(*) FROM topic");
        assert!(
            run.stderr.contains(&format!(
                "the copy does not match: topic has {topics} rows in SQLite and {} in PostgreSQL",
                topics + 1
            )),
            "{run:?}"
        );
        // A host the target holds under another id: the copy's row cannot
        // go in (same name) and is not there under its own key.
        let db = dir.path().join("m.db");
        let (hosts, first_host) = (
            sqlite_count(&db, "SELECT count(*) FROM host"),
            sqlite_count(&db, "SELECT min(id) FROM host"),
        );
        assert!(hosts > 0, "the stocked database has hosts");
        pg(pgdb.url())
            .await
            .execute("UPDATE host SET id = id + 1000", &[])
            .await
            .unwrap();
        let run = mentions(&config, &["migrate", "--to", &url]).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "the PostgreSQL database holds other data: a row of host conflicts with the one whose id is {first_host}, \
                 which it does not hold (another row has the same unique value)"
            )),
            "{run:?}"
        );
    }
    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let closed = format!("postgres://mentions:N0t-Printed@127.0.0.1:{port}/shared");
    let run = mentions(&config, &["migrate", "--to", &closed]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert_no_password(&run);
    assert!(
        run.stderr.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/shared"
        )),
        "{run:?}"
    );
    let run = mentions(&config, &["migrate", "--to", "mysql://u:N0t-Printed@h/db"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_no_password(&run);
}

/// `migrate`, which copies an SQLite file into PostgreSQL, refuses a
/// config with `[database] url` (exit 2, naming the command), never falls
/// back to an SQLite file, and never prints the password. No server is
/// needed: the refusal comes before any connection; the commands that do
/// use PostgreSQL find nothing listening and exit 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_do_not_read_postgres_refuse_a_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[database]\nurl = \"postgres://app:N0t-Printed@127.0.0.1:1/news\"\n\n\
         [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n",
    );
    let commands: &[&[&str]] = &[&["migrate", "--to", "postgres://u@127.0.0.1:1/other"]];
    for args in commands {
        let run = mentions(&config, args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        let expected = format!(
            "mentions: `mentions {}` does not read PostgreSQL ({} sets [database] url, \
             PostgreSQL at 127.0.0.1:1/news); ",
            args[0],
            config.display()
        );
        assert!(run.stderr.starts_with(&expected), "{args:?}: {run:?}");
        assert_no_password(&run);
    }
    // The reading commands read PostgreSQL: unreachable exits 3 naming
    // host:port/database, never the password, and makes no SQLite file.
    let readers: &[&[&str]] = &[
        &["report"],
        &["list"],
        &["explain", "1"],
        &["explain", "https://example.org/a"],
        &["exclusions"],
        &["exclude", "1"],
        &["exclude", "--domain", "spam.example"],
        &["include", "1"],
        &["include", "--exclusion", "1"],
        &["alerts"],
        &["prune"],
        &["backup", "copy.db"],
    ];
    for args in readers {
        let run = mentions(&config, args).await;
        assert_eq!(run.code, 3, "{args:?}: {run:?}");
        assert!(
            run.stderr
                .contains("cannot connect to PostgreSQL at 127.0.0.1:1/news"),
            "{args:?}: {run:?}"
        );
        assert_no_password(&run);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["config.toml"], "no SQLite file is made");
}
