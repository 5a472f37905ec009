//! `mentions crawl` and `mentions run` on PostgreSQL (`[database] url`),
//! against a local feed server and a database of each test's own
//! (`MENTIONS_TEST_POSTGRES`): counts equal a direct COUNT and the same
//! crawl on SQLite, validators are shared, the password never shows.

use crate::postgres::testdb::TestDb;
use crate::postgres::{assert_no_password, feed, pg, sqlite_count, with_password};
use crate::server::{Route, TestServer};
use crate::{mentions, write_config, Run};

/// A server with three feeds whose items overlap: `a` lists /news/0..20,
/// `b` /news/10..30 and `c` /news/25..35 (35 items in all, 15 listed twice).
async fn overlapping_feeds() -> TestServer {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    for (name, range) in [("a", 0..20), ("b", 10..30), ("c", 25..35)] {
        let paths: Vec<String> = range.map(|i| format!("/news/{i}")).collect();
        let items: Vec<(&str, i64)> = paths.iter().map(|p| (p.as_str(), 0)).collect();
        server.route(
            &format!("/{name}.xml"),
            Route::ok("application/rss+xml", feed(&server, &items))
                .with_etag(&format!("\"{name}-1\"")),
        );
    }
    server
}

/// A config for the three feeds on `database` (a `[database]` key line).
fn config_text(server: &TestServer, database: &str) -> String {
    let mut text = format!(
        "[database]\n{database}\n\n\
         [crawler]\nuser_agent = \"mentions-test/1.0\"\nretries = 0\n\n\
         [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n"
    );
    for name in ["a", "b", "c"] {
        text.push_str(&format!(
            "\n[[source]]\nname = \"{name}\"\ntype = \"feed\"\nurl = \"{}\"\n",
            server.url(&format!("/{name}.xml"))
        ));
    }
    text
}

/// `(new, already counted)` summed over a crawl's lines.
fn totals(run: &Run) -> (u64, u64) {
    let mut sum = (0, 0);
    for line in run.stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[2], "new,", "{line}");
        sum.0 += words[1].parse::<u64>().unwrap();
        sum.1 += words[3].parse::<u64>().unwrap();
    }
    sum
}

async fn pg_count(url: &str, sql: &str) -> i64 {
    pg(url).await.query_one(sql, &[]).await.unwrap().get(0)
}

/// Direct counts of what a crawl wrote, and the count tables beside them.
const COUNTS: [&str; 7] = [
    "SELECT count(*) FROM mention",
    "SELECT count(*) FROM sighting",
    "SELECT count(*) FROM seen",
    "SELECT count(*) FROM http_cache",
    "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM count_source WHERE span = 3600",
    "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM count_host WHERE span = 86400",
    "SELECT CAST(coalesce(sum(mentions), 0) AS BIGINT) FROM source",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_on_postgres_counts_as_on_sqlite_and_shares_validators() {
    let Some(db) = TestDb::create("crawl").await else {
        return;
    };
    let server = overlapping_feeds().await;
    let pg_dir = tempfile::tempdir().unwrap();
    let url = with_password(db.url());
    let pg_config = write_config(
        pg_dir.path(),
        &config_text(&server, &format!("url = \"{url}\"")),
    );
    let run = mentions(&pg_config, &["crawl"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    assert_eq!(totals(&run), (35, 15), "{run:?}");
    let files: Vec<_> = std::fs::read_dir(pg_dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "no SQLite file beside the config");

    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite_config = write_config(sqlite_dir.path(), &config_text(&server, "path = \"m.db\""));
    let run = mentions(&sqlite_config, &["crawl"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(totals(&run), (35, 15), "{run:?}");

    let db_file = sqlite_dir.path().join("m.db");
    for sql in COUNTS {
        let on_pg = pg_count(db.url(), sql).await;
        assert_eq!(on_pg, sqlite_count(&db_file, sql), "{sql}");
    }
    assert_eq!(pg_count(db.url(), COUNTS[0]).await, 35);
    assert_eq!(pg_count(db.url(), COUNTS[4]).await, 35);
    assert_eq!(pg_count(db.url(), COUNTS[5]).await, 35);
    assert_eq!(pg_count(db.url(), COUNTS[6]).await, 35);
    // Every item a source listed is a sighting: 20 + 20 + 10.
    assert_eq!(pg_count(db.url(), COUNTS[1]).await, 50);

    // Each source records the node that ran it: this host and the crawl's pid.
    let nodes: Vec<String> = pg(db.url())
        .await
        .query("SELECT DISTINCT node FROM source", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert!(
        nodes[0]
            .rsplit_once('-')
            .is_some_and(|(host, pid)| !host.is_empty() && pid.parse::<u32>().is_ok()),
        "{nodes:?}"
    );

    // The validators are in the database: the next crawl (any node) asks
    // conditionally and is answered 304.
    server.clear_log();
    let run = mentions(&pg_config, &["crawl"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout, "a: not modified\nb: not modified\nc: not modified\n",
        "{run:?}"
    );
    for name in ["a", "b", "c"] {
        let asked = server.requests_to(&format!("/{name}.xml"));
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert_eq!(asked[0].status, 304);
        assert_eq!(
            asked[0].headers["if-none-match"],
            format!("\"{name}-1\"").as_str()
        );
    }
    assert_eq!(pg_count(db.url(), COUNTS[0]).await, 35);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_with_postgres_unreachable_exits_3_naming_the_host_not_the_password() {
    let server = overlapping_feeds().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config_text(
            &server,
            &format!("url = \"postgres://app:N0t-Printed@127.0.0.1:{port}/news\""),
        ),
    );
    let run = mentions(&config, &["crawl"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/news"
        )),
        "{run:?}"
    );
    assert_no_password(&run);
    assert!(
        server.log().is_empty(),
        "nothing is fetched: {:?}",
        server.log()
    );
}
