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
    // `check` connects, migrates and names the server and schema.
    let run = mentions(&pg_config, &["check"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    assert!(
        run.stdout.contains(&format!(
            "\ndatabase: PostgreSQL at 127.0.0.1:5432/{} (schema version {})\n",
            db.name(),
            mentions::store::postgres::KNOWN_VERSION
        )),
        "{run:?}"
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

    // `mentions sources` reads PostgreSQL too, naming the node; SQLite has none.
    let run = mentions(&pg_config, &["sources", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    let listed = run.json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let mut stored = 0;
    for (row, name) in listed.iter().zip(["a", "b", "c"]) {
        assert_eq!(row["name"], name);
        assert_eq!(row["node"], nodes[0].as_str(), "{row}");
        assert_eq!(row["last_error"], serde_json::Value::Null, "{row}");
        assert!(row["last_run"].is_string(), "{row}");
        stored += row["mentions"].as_u64().unwrap();
    }
    assert_eq!(stored, 35);
    let run = mentions(&sqlite_config, &["sources"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let mut lines = run.stdout.lines();
    assert!(
        lines.next().unwrap().ends_with("\tlast_warning\tnode"),
        "{run:?}"
    );
    assert!(lines.all(|l| l.ends_with("\t-")), "{run:?}");

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
async fn postgres_unreachable_at_start_exits_3_naming_the_host_not_the_password() {
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
    for command in ["check", "sources", "run"] {
        let run = mentions(&config, &[command]).await;
        assert_eq!(run.code, 3, "{command}: {run:?}");
        assert!(
            run.stderr.contains(&format!(
                "cannot connect to PostgreSQL at 127.0.0.1:{port}/news"
            )),
            "{command}: {run:?}"
        );
        assert_no_password(&run);
    }
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

/// A feed server that counts, per feed, the requests in flight and the
/// most ever in flight at once; every feed answer takes `DELAY`, longer
/// than the sources' 2 s schedule, so a crawl is long enough to be caught
/// running (and killed), and the next fire time, claimed by another node,
/// comes while it runs: without leases, two nodes would fetch one feed at
/// once.
mod slow {
    use axum::extract::{Request, State};
    use axum::response::{IntoResponse, Response};
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    pub const DELAY: Duration = Duration::from_millis(2500);

    #[derive(Default, Clone, Debug)]
    pub struct Stats {
        pub in_flight: usize,
        pub most: usize,
        pub answered: usize,
    }

    #[derive(Default)]
    struct Shared {
        feeds: Mutex<HashMap<String, String>>,
        stats: Mutex<HashMap<String, Stats>>,
        /// Bodies POSTed to /hook (alert webhooks).
        hooks: Mutex<Vec<serde_json::Value>>,
    }

    pub struct Server {
        pub addr: SocketAddr,
        shared: Arc<Shared>,
    }

    /// Counts a request out when its handler ends or is dropped.
    struct InFlight(Arc<Shared>, String);

    impl Drop for InFlight {
        fn drop(&mut self) {
            let mut stats = self.0.stats.lock().unwrap();
            if let Some(s) = stats.get_mut(&self.1) {
                s.in_flight -= 1;
            }
        }
    }

    impl Server {
        pub async fn start() -> Server {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let shared = Arc::new(Shared::default());
            let app = axum::Router::new()
                .fallback(handle)
                .with_state(Arc::clone(&shared));
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            Server { addr, shared }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        pub fn feed(&self, path: &str, body: String) {
            self.shared
                .feeds
                .lock()
                .unwrap()
                .insert(path.to_owned(), body);
        }

        pub fn hooks(&self) -> Vec<serde_json::Value> {
            self.shared.hooks.lock().unwrap().clone()
        }

        pub fn stats(&self) -> HashMap<String, Stats> {
            self.shared.stats.lock().unwrap().clone()
        }
    }

    async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
        let path = req.uri().path().to_owned();
        if path == "/hook" {
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            shared.hooks.lock().unwrap().push(value);
            return axum::http::StatusCode::NO_CONTENT.into_response();
        }
        let Some(body) = shared.feeds.lock().unwrap().get(&path).cloned() else {
            return (axum::http::StatusCode::NOT_FOUND, "not found").into_response();
        };
        {
            let mut stats = shared.stats.lock().unwrap();
            let s = stats.entry(path.clone()).or_default();
            s.in_flight += 1;
            s.most = s.most.max(s.in_flight);
        }
        let _guard = InFlight(Arc::clone(&shared), path.clone());
        tokio::time::sleep(DELAY).await;
        if let Some(s) = shared.stats.lock().unwrap().get_mut(&path) {
            s.answered += 1;
        }
        ([("content-type", "application/rss+xml")], body).into_response()
    }
}

/// The `mentions run` processes of a test, killed when it ends however it ends.
struct Nodes(Vec<(String, std::process::Child)>);

impl Nodes {
    /// Starts `count` nodes `node-1` … on `config`, each logging to
    /// `dir/node-N.log`.
    fn start(config: &std::path::Path, dir: &std::path::Path, count: usize) -> Nodes {
        let mut nodes = Nodes(Vec::new());
        for k in 1..=count {
            let name = format!("node-{k}");
            let child = crate::spawn_run(config, Some(&name), &dir.join(format!("{name}.log")));
            nodes.0.push((name, child));
        }
        nodes
    }
}

/// Waits until the first node up has migrated the database and registered
/// the `sources` sources.
async fn registered(client: &tokio_postgres::Client, sources: usize) {
    wait_for("the sources registered", 60, || async {
        let n = client
            .query_one("SELECT count(*) FROM source", &[])
            .await
            .ok()?;
        (n.get::<_, i64>(0) == sources as i64).then_some(())
    })
    .await;
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends SIGTERM to a node and waits for it to exit.
async fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    wait_for("the node to stop", 60, || {
        let done = child.try_wait().unwrap();
        async move { done }
    })
    .await
}

/// Polls `check` every 100 ms until it gives Some, for at most `secs`
/// seconds (a bound on a hang, not a timing assertion).
async fn wait_for<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {secs} s waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// (source, node) of every lease.
async fn leases(client: &tokio_postgres::Client) -> Vec<(String, String)> {
    client
        .query(
            "SELECT s.name, l.node FROM source_lease l JOIN source s ON s.id = l.source_id ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Three `mentions run` nodes on one database, six sources whose feeds
/// overlap, each source due every 2 s: no source is ever fetched by two
/// nodes at once, a node killed (SIGKILL) mid-crawl loses its sources to
/// the others, SIGTERM releases every lease, and the counts are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_the_sources_and_take_over_from_a_killed_one() {
    let Some(db) = TestDb::create("three nodes").await else {
        return;
    };
    let server = slow::Server::start().await;
    const SOURCES: usize = 6;
    // Source i lists items 5i .. 5i+10: 35 items, 25 of them listed twice.
    for i in 0..SOURCES {
        let paths: Vec<String> = (5 * i..5 * i + 10).map(|n| format!("/news/{n}")).collect();
        let items: Vec<(&str, i64)> = paths.iter().map(|p| (p.as_str(), 0)).collect();
        let fake = TestServer::start().await;
        // The item links name the slow server: the same URLs from every feed.
        let body = feed(&fake, &items).replace(&fake.url(""), &server.url(""));
        server.feed(&format!("/f{i}.xml"), body);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!(
        "[database]\nurl = \"{}\"\n\n\
         [crawler]\nuser_agent = \"mentions-test/1.0\"\nretries = 0\nconcurrency = 4\n\
         schedule = \"*/2 * * * * *\"\n\n\
         [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n\
         [[alert]]\ntopic = \"nk\"\nwindow = \"1h\"\nthreshold = 1\nwebhook = \"{}\"\n",
        with_password(db.url()),
        server.url("/hook")
    );
    for i in 0..SOURCES {
        text.push_str(&format!(
            "\n[[source]]\nname = \"s{i}\"\ntype = \"feed\"\nurl = \"{}\"\n",
            server.url(&format!("/f{i}.xml"))
        ));
    }
    let config = write_config(dir.path(), &text);
    let mut nodes = Nodes::start(&config, dir.path(), 3);
    let client = pg(db.url()).await;
    registered(&client, SOURCES).await;

    // Catch a node mid-crawl: it holds a lease on a source whose feed is
    // being fetched right now. Kill it there.
    let (victim, caught) = wait_for("a node caught mid-crawl", 120, || async {
        let stats = server.stats();
        leases(&client)
            .await
            .into_iter()
            .find(|(source, _)| {
                let path = format!("/f{}.xml", &source[1..]);
                stats.get(&path).is_some_and(|s| s.in_flight > 0)
            })
            .map(|(source, node)| (node, source))
    })
    .await;
    let at = nodes.0.iter().position(|(n, _)| *n == victim).unwrap();
    let (_, mut child) = nodes.0.remove(at);
    child.kill().unwrap();
    child.wait().unwrap();
    let orphaned: Vec<String> = leases(&client)
        .await
        .into_iter()
        .filter(|(_, node)| *node == victim)
        .map(|(source, _)| source)
        .collect();
    assert!(orphaned.contains(&caught), "{orphaned:?} {caught}");
    let killed_at: i64 = client
        .query_one(
            "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    // The others take the dead node's sources over once its leases expire,
    // and crawl them to the end.
    let killed = std::time::Instant::now();
    wait_for("the dead node's sources taken over", 150, || async {
        let rows = client
            .query(
                "SELECT s.name, s.node, s.last_run FROM source s WHERE s.name = ANY($1)",
                &[&orphaned],
            )
            .await
            .unwrap();
        let still_dead = leases(&client).await.iter().any(|(_, n)| *n == victim);
        let done = !still_dead
            && rows.len() == orphaned.len()
            && rows.iter().all(|r| {
                let node: Option<String> = r.get(1);
                let last_run: Option<i64> = r.get(2);
                node.is_some_and(|n| n != victim) && last_run.is_some_and(|t| t > killed_at)
            });
        done.then_some(())
    })
    .await;

    eprintln!(
        "the killed node's sources {orphaned:?} were taken over and crawled {:.1} s after the kill",
        killed.elapsed().as_secs_f64()
    );

    // `mentions sources` names the node that took each over.
    let run = mentions(&config, &["sources", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for row in run.json().as_array().unwrap() {
        let node = row["node"].as_str().unwrap_or_default();
        assert!(node.starts_with("node-"), "{row}");
        if orphaned.iter().any(|o| row["name"] == o.as_str()) {
            assert_ne!(node, victim, "{row}");
        }
    }

    // SIGTERM: the two survivors stop and release every lease at once.
    for (_, child) in &nodes.0 {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    for (name, child) in &mut nodes.0 {
        let status = wait_for("a node to stop", 60, || {
            let done = child.try_wait().unwrap();
            async move { done }
        })
        .await;
        let log = std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap();
        assert_eq!(status.code(), Some(0), "{name}: {log}");
        assert!(log.contains("released"), "{name}: {log}");
        assert!(!log.contains("N0t-Printed"), "{name}: {log}");
    }
    nodes.0.clear();
    assert_eq!(leases(&client).await, Vec::<(String, String)>::new());

    // Never two fetches of one feed at once; every feed was fetched and answered.
    let stats = server.stats();
    for i in 0..SOURCES {
        let s = &stats[&format!("/f{i}.xml")];
        assert_eq!(s.most, 1, "s{i} was fetched by two nodes at once: {s:?}");
        assert!(s.answered >= 1, "s{i}: {s:?}");
    }

    // Exact: 35 items once each, every listing a sighting, count tables equal a direct COUNT.
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    // The alert fired once across the three nodes, for the one window
    // the items fall in, with every mention counted.
    let hooks = server.hooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["topic"], "nk");
    assert!(hooks[0]["count"].as_u64().unwrap() >= 1, "{hooks:?}");
    assert_eq!(count("SELECT count(*) FROM alert").await, 1);

    assert_eq!(count(COUNTS[0]).await, 35);
    assert_eq!(count(COUNTS[1]).await, 60);
    assert_eq!(count(COUNTS[4]).await, 35);
    assert_eq!(count(COUNTS[5]).await, 35);
    assert_eq!(count(COUNTS[6]).await, 35);
    assert_eq!(
        count("SELECT count(*) FROM (SELECT topic_id, identity FROM mention GROUP BY 1, 2 HAVING count(*) > 1) d").await,
        0
    );
}

/// A config in `dir` of `sources` slow feeds `s0` … of three items each,
/// all due at one second 10 s from now (once the nodes are up), for nodes
/// of one crawl slot (`concurrency = 1`) on `db`.
async fn due_at_once(
    server: &slow::Server,
    db: &TestDb,
    sources: usize,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    for i in 0..sources {
        let paths: Vec<String> = (10 * i..10 * i + 3).map(|n| format!("/news/{n}")).collect();
        let items: Vec<(&str, i64)> = paths.iter().map(|p| (p.as_str(), 0)).collect();
        let fake = TestServer::start().await;
        let body = feed(&fake, &items).replace(&fake.url(""), &server.url(""));
        server.feed(&format!("/f{i}.xml"), body);
    }
    let fire = chrono::Utc::now() + chrono::Duration::seconds(10);
    let schedule = fire.format("%-S %-M %-H %-d %-m *").to_string();
    let mut text = format!(
        "[database]\nurl = \"{}\"\n\n\
         [crawler]\nuser_agent = \"mentions-test/1.0\"\nretries = 0\nconcurrency = 1\n\
         schedule = \"{schedule}\"\n\n\
         [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n",
        db.url()
    );
    for i in 0..sources {
        text.push_str(&format!(
            "\n[[source]]\nname = \"s{i}\"\ntype = \"feed\"\nurl = \"{}\"\n",
            server.url(&format!("/f{i}.xml"))
        ));
    }
    write_config(dir, &text)
}

/// Two nodes of one crawl slot each (`concurrency = 1`) and four slow
/// sources due at the same second: a node claims a fire time only when it
/// has a free slot, so neither ever holds more leases than its slots, and
/// the sources are shared two and two instead of queueing behind the node
/// that woke first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_node_leaves_due_sources_to_a_free_one() {
    let Some(db) = TestDb::create("busy node").await else {
        return;
    };
    let server = slow::Server::start().await;
    const SOURCES: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let config = due_at_once(&server, &db, SOURCES, dir.path()).await;
    let _nodes = Nodes::start(&config, dir.path(), 2);
    let client = pg(db.url()).await;
    registered(&client, SOURCES).await;
    // Until every source has run: never more leases on a node than its one slot.
    let most = std::cell::Cell::new(0usize);
    wait_for("every source crawled", 120, || {
        let (client, most) = (&client, &most);
        async move {
            let mut per_node: std::collections::HashMap<String, usize> = Default::default();
            for (_, node) in leases(client).await {
                *per_node.entry(node).or_default() += 1;
            }
            most.set(
                most.get()
                    .max(per_node.values().copied().max().unwrap_or(0)),
            );
            let done: i64 = client
                .query_one(
                    "SELECT count(*) FROM source WHERE last_run IS NOT NULL",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            (done == SOURCES as i64).then_some(())
        }
    })
    .await;
    let logs = || {
        (1..=2)
            .map(|k| std::fs::read_to_string(dir.path().join(format!("node-{k}.log"))).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        most.get(),
        1,
        "a node held more leases than crawl slots: {}",
        logs()
    );
    let split: Vec<(String, i64)> = client
        .query(
            "SELECT node, count(*) FROM source GROUP BY node ORDER BY node",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        split,
        [("node-1".to_owned(), 2), ("node-2".to_owned(), 2)],
        "{}",
        logs()
    );
    // Each feed fetched once, by one node; twelve items stored once each.
    let stats = server.stats();
    for i in 0..SOURCES {
        let s = &stats[&format!("/f{i}.xml")];
        assert_eq!((s.most, s.answered), (1, 1), "s{i}: {s:?}");
    }
    let mentions: i64 = client
        .query_one("SELECT count(*) FROM mention", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(mentions, 12);
}

/// A node of one crawl slot with three slow sources due at the same
/// second, stopped (SIGTERM) while its first crawl runs: it finishes that
/// crawl, but claims neither the fire times queued behind its slot nor
/// their leases, and it holds no lease once it has exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_node_claims_nothing_more_and_leaves_no_lease() {
    let Some(db) = TestDb::create("stopping node").await else {
        return;
    };
    let server = slow::Server::start().await;
    const SOURCES: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let config = due_at_once(&server, &db, SOURCES, dir.path()).await;
    let mut nodes = Nodes::start(&config, dir.path(), 1);
    let client = pg(db.url()).await;
    registered(&client, SOURCES).await;
    wait_for("the first crawl under way", 60, || async {
        server
            .stats()
            .values()
            .any(|s| s.in_flight > 0)
            .then_some(())
    })
    .await;
    let status = terminate(&mut nodes.0[0].1).await;
    let log = std::fs::read_to_string(dir.path().join("node-1.log")).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("released 0 leases"), "{log}");
    nodes.0.clear();
    assert_eq!(
        leases(&client).await,
        Vec::<(String, String)>::new(),
        "{log}"
    );
    // One feed fetched and answered, one fire time claimed, three items stored.
    let stats = server.stats();
    assert_eq!(stats.len(), 1, "{stats:?}\n{log}");
    assert!(stats.values().all(|s| s.answered == 1), "{stats:?}");
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM source_fire").await, 1, "{log}");
    assert_eq!(count("SELECT count(*) FROM mention").await, 3);
}

/// A TCP proxy to the PostgreSQL server that a test can cut (every
/// connection closed, new ones refused) and restore: PostgreSQL going
/// away and coming back, for one node only.
struct Proxy {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: std::net::SocketAddr) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> =
            Default::default();
        let (accept_open, accept_links) = (open.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                accept_links.lock().unwrap().push(link.abort_handle());
            }
        });
        Proxy { port, open, links }
    }

    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The status of `GET /healthz`; None when nothing answers.
async fn health(port: u16) -> Option<u16> {
    let client = crate::http_client()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let resp = client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .ok()?;
    Some(resp.status().as_u16())
}

/// PostgreSQL lost while a node runs: health goes bad, crawls fail with a
/// message naming the server (not the password), and once it is back the
/// node reconnects by itself, health is good again and crawls are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_postgres_goes_unhealthy_and_reconnects() {
    let Some(db) = TestDb::create("reconnect").await else {
        return;
    };
    let mut url = url::Url::parse(&with_password(db.url())).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let through = format!("127.0.0.1:{}/{}", proxy.port, db.name());

    let site = overlapping_feeds().await;
    let listen = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[database]\nurl = \"{url}\"\n\n[server]\nlisten = \"127.0.0.1:{listen}\"\n\n\
             [crawler]\nuser_agent = \"mentions-test/1.0\"\nretries = 0\n\
             schedule = \"* * * * * *\"\n\n\
             [[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n\
             [[source]]\nname = \"a\"\ntype = \"feed\"\nurl = \"{}\"\n",
            site.url("/a.xml")
        ),
    );
    let log_path = dir.path().join("node.log");
    let child = crate::spawn_run(&config, None, &log_path);
    let mut nodes = Nodes(vec![("node".into(), child)]);
    let direct = pg(db.url()).await;
    let last_run = || async {
        direct
            .query_opt("SELECT last_run FROM source WHERE name = 'a'", &[])
            .await
            .ok()
            .flatten()
            .and_then(|r| r.get::<_, Option<i64>>(0))
    };

    wait_for("a first crawl stored", 60, || async { last_run().await }).await;
    assert_eq!(health(listen).await, Some(200));
    // The reading endpoints read PostgreSQL (tests/it/postgres_read.rs
    // compares their answers with SQLite's); none reads an SQLite file.
    let stored: i64 = direct
        .query_one("SELECT count(*) FROM mention", &[])
        .await
        .unwrap()
        .get(0);
    for path in [
        "/metrics",
        "/api/report?topic=nk&since=36500d",
        "/api/mentions?topic=nk&since=36500d&limit=1000",
        "/",
    ] {
        let resp = crate::http_client()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://127.0.0.1:{listen}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let body = resp.text().await.unwrap();
        if path == "/metrics" {
            assert!(body.contains("mentions_crawls_total"), "{path}: {body}");
            assert!(
                body.contains("mentions_stored{topic=\"nk\",kind=\"web\"}"),
                "{path}: {body}"
            );
        } else if path.starts_with("/api/report") {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["total"].as_i64(), Some(stored), "{body}");
        } else if path.starts_with("/api/mentions") {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                v["mentions"].as_array().map(|a| a.len() as i64),
                Some(stored),
                "{body}"
            );
        }
    }
    assert!(
        !dir.path().join("mentions.db").exists(),
        "no SQLite file is made or read"
    );

    proxy.cut();
    wait_for("health to go bad", 60, || async {
        (health(listen).await == Some(503)).then_some(())
    })
    .await;
    let cut_at = wait_for("the node's clock", 5, || async {
        let r = direct
            .query_one(
                "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint",
                &[],
            )
            .await
            .ok()?;
        Some(r.get::<_, i64>(0))
    })
    .await;
    wait_for("a crawl failing for want of the database", 60, || async {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        log.lines()
            .any(|l| {
                l.contains("cannot connect to PostgreSQL at")
                    && l.contains(&through)
                    && l.contains("source=a")
            })
            .then_some(())
    })
    .await;

    proxy.restore();
    wait_for("health to be good again", 90, || async {
        (health(listen).await == Some(200)).then_some(())
    })
    .await;
    wait_for("a crawl stored after the reconnection", 60, || async {
        last_run().await.filter(|t| *t > cut_at)
    })
    .await;

    let status = terminate(&mut nodes.0[0].1).await;
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("answers again"), "{log}");
    assert!(!log.contains("N0t-Printed"), "{log}");
    nodes.0.clear();
    // Nothing was counted twice through the outage.
    let n: i64 = direct
        .query_one("SELECT count(*) FROM mention", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 20);
}

/// A node restarted under the same `MENTIONS_NODE` after a kill releases
/// the leases its previous process left, instead of renewing them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_releases_the_leases_its_previous_process_left() {
    let Some(db) = TestDb::create("restart").await else {
        return;
    };
    let site = overlapping_feeds().await;
    let dir = tempfile::tempdir().unwrap();
    // Never due during the test: only the start-up is looked at.
    let config = write_config(
        dir.path(),
        &config_text(&site, &format!("url = \"{}\"", db.url()))
            .replace("retries = 0\n", "retries = 0\nschedule = \"0 0 0 1 1 *\"\n"),
    );
    let run = mentions(&config, &["crawl", "--source", "a"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let client = pg(db.url()).await;
    client
        .execute(
            "INSERT INTO source_lease (source_id, node, acquired_at, expires_at)
             SELECT id, 'node-x', 0, 4102444800 FROM source WHERE name = 'a'",
            &[],
        )
        .await
        .unwrap();
    let log_path = dir.path().join("node.log");
    let child = crate::spawn_run(&config, Some("node-x"), &log_path);
    let mut nodes = Nodes(vec![("node-x".into(), child)]);
    wait_for("the node to start", 60, || async {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        log.contains("scheduling 3 sources").then_some(())
    })
    .await;
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("released 1 leases left by an earlier process of this node"),
        "{log}"
    );
    assert_eq!(leases(&client).await, Vec::<(String, String)>::new());
    let (_, child) = &mut nodes.0[0];
    child.kill().unwrap();
    child.wait().unwrap();
    nodes.0.clear();
}

/// SIGHUP on a node: a source added to the config is registered and
/// crawled; a changed `url` is refused and the old config kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_registers_new_sources_and_refuses_another_database() {
    let Some(db) = TestDb::create("reload").await else {
        return;
    };
    let site = overlapping_feeds().await;
    let dir = tempfile::tempdir().unwrap();
    let every_second =
        |text: String| text.replace("retries = 0\n", "retries = 0\nschedule = \"* * * * * *\"\n");
    let full = every_second(config_text(&site, &format!("url = \"{}\"", db.url())));
    // The first config has sources a and b only.
    let cut = full.find("\n[[source]]\nname = \"c\"").unwrap();
    let config = write_config(dir.path(), &full[..cut]);
    let log_path = dir.path().join("node.log");
    let child = crate::spawn_run(&config, None, &log_path);
    let mut nodes = Nodes(vec![("node".into(), child)]);
    let client = pg(db.url()).await;
    let crawled = |name: &'static str| {
        let client = &client;
        async move {
            client
                .query_opt("SELECT last_run FROM source WHERE name = $1", &[&name])
                .await
                .ok()
                .flatten()
                .and_then(|r| r.get::<_, Option<i64>>(0))
        }
    };
    wait_for("a and b crawled", 60, || async {
        Some((crawled("a").await?, crawled("b").await?))
    })
    .await;
    assert_eq!(crawled("c").await, None);
    let pid = nodes.0[0].1.id().to_string();
    let hup = || {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    };

    // Another database: refused, the node keeps running on this one.
    std::fs::write(&config, full.replace(db.name(), "another_database")).unwrap();
    hup();
    wait_for("the changed url refused", 60, || async {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        log.contains("[database] url changed from").then_some(())
    })
    .await;

    // Source c added: registered and crawled.
    std::fs::write(&config, &full).unwrap();
    hup();
    wait_for("c crawled after the reload", 60, || async {
        crawled("c").await
    })
    .await;
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("config reloaded; scheduling 3 sources"),
        "{log}"
    );
    let (_, child) = &mut nodes.0[0];
    child.kill().unwrap();
    child.wait().unwrap();
    nodes.0.clear();
}
