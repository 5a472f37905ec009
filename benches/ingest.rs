//! Ingest benchmark for the daemon: the corpus of `benches/crawl.rs` (200
//! RSS sources x 250 items on 127.0.0.1) crawled by `mentions run` — one
//! daemon on SQLite, then 1, 2 and 3 daemons sharing one PostgreSQL
//! database — from the sources' common fire time until every source has
//! committed. The stored counts are checked against the corpus each time.
//!
//! `cargo build --release && cargo bench --bench ingest -- [--runs N]
//!  [--postgres URL] [--nodes 1,2,3] [--no-sqlite]`
//!
//! `--postgres` is a server URL whose user may create databases (default
//! `MENTIONS_TEST_POSTGRES`, else `postgres://postgres@127.0.0.1:5432/postgres`);
//! each run gets a new database `mentions_ingest_bench`, dropped after it.
//! All sources fire at one second a few seconds after the daemons start,
//! so start-up is not timed. CPU is the daemons' user + system time from
//! the fire time to the last commit, and on PostgreSQL also the server
//! backends serving the benchmark database over their lifetime; on a
//! 2-core machine the daemons, the server and the feed server share the
//! same two cores, so more nodes cannot be faster here: the figures show
//! what coordination costs, not how far it scales.

mod common;

use chrono::{Datelike, Timelike, Utc};
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SOURCES: usize = 200;
const DATABASE: &str = "mentions_ingest_bench";

/// Where a run stores.
#[derive(Clone, Copy)]
enum Store {
    Sqlite,
    Postgres { nodes: usize },
}

struct Outcome {
    wall: f64,
    daemon_cpu: f64,
    server_cpu: f64,
    counts: [u64; 2],
    by_node: Vec<(String, i64)>,
}

fn config(port: u16, database: &str, schedule: &str) -> String {
    feed_sources_config(
        database,
        "[crawler]\nuser_agent = \"mentions-bench/0.1\"\nconcurrency = 16\nper_host_concurrency = 16\nretries = 0\n\n",
        SOURCES,
        |s| format!("url = \"http://127.0.0.1:{port}/feed/{s}.xml\"\nschedule = \"{schedule}\"\n"),
    )
}

/// Counting queries both backends answer the same way.
const COUNT: &str =
    "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id WHERE topic.name = ";
const DONE: &str = "SELECT count(*) FROM source WHERE last_run IS NOT NULL";

fn stop(children: &mut [Child]) {
    for c in children.iter() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
    }
    for c in children.iter_mut() {
        let _ = c.wait();
    }
}

fn run_once(store: Store, port: u16, admin: &str, rt: &tokio::runtime::Runtime) -> Outcome {
    let dir = out_dir();
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mentions");
    let sqlite = dir.join("ingest.db");
    let pg_url = {
        let (base, _) = admin
            .rsplit_once('/')
            .expect("a postgres:// URL with a database");
        format!("{base}/{DATABASE}")
    };
    let admin_client = match store {
        Store::Sqlite => {
            remove_database(&sqlite);
            None
        }
        Store::Postgres { .. } => Some(rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
                .await
                .expect("PostgreSQL reachable at --postgres");
            tokio::spawn(conn);
            for sql in [
                format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
                format!("CREATE DATABASE {DATABASE}"),
            ] {
                client
                    .batch_execute(&sql)
                    .await
                    .expect("create the benchmark database");
            }
            client
        })),
    };
    let database = match store {
        Store::Sqlite => database_path(&sqlite),
        Store::Postgres { .. } => format!("url = {pg_url:?}"),
    };
    // One fire time for every source, far enough ahead for the daemons to start.
    let fire = Utc::now() + chrono::Duration::seconds(6);
    let schedule = format!(
        "{} {} {} {} {} *",
        fire.second(),
        fire.minute(),
        fire.hour(),
        fire.day(),
        fire.month()
    );
    let config_path: PathBuf = dir.join("ingest-config.toml");
    std::fs::write(&config_path, config(port, &database, &schedule)).expect("write config");
    let nodes = match store {
        Store::Sqlite => 1,
        Store::Postgres { nodes } => nodes,
    };
    let mut children: Vec<Child> = (0..nodes)
        .map(|n| {
            Command::new(&binary)
                .arg("--config")
                .arg(&config_path)
                .arg("run")
                .env("RUST_LOG", "warn")
                .env("MENTIONS_NODE", format!("bench-{}", n + 1))
                .stdout(Stdio::null())
                .stderr(
                    std::fs::File::create(dir.join(format!("ingest-node-{}.log", n + 1)))
                        .map(Stdio::from)
                        .unwrap_or_else(|_| Stdio::null()),
                )
                .spawn()
                .expect("start mentions run")
        })
        .collect();
    let until_fire = (fire.with_nanosecond(0).unwrap_or(fire) - Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO);
    std::thread::sleep(until_fire);
    let t0 = Instant::now();
    let cpu0: f64 = children.iter().map(|c| cpu_s_of(&c.id().to_string())).sum();

    let pg = admin_client.as_ref().map(|_| {
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&pg_url, tokio_postgres::NoTls)
                .await
                .expect("connect to the benchmark database");
            tokio::spawn(conn);
            client
        })
    });
    let done = || -> i64 {
        match &pg {
            Some(client) => rt
                .block_on(client.query_opt(DONE, &[]))
                .ok()
                .flatten()
                .map_or(0, |r| r.get(0)),
            None => rusqlite::Connection::open_with_flags(
                &sqlite,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .and_then(|c| c.query_row(DONE, [], |r| r.get(0)))
            .unwrap_or(0),
        }
    };
    let deadline = t0 + Duration::from_secs(600);
    while done() < SOURCES as i64 {
        if Instant::now() > deadline {
            stop(&mut children);
            panic!("the daemons did not crawl every source within 600 s; see bench-out/ingest-node-*.log");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = t0.elapsed().as_secs_f64();
    let daemon_cpu = children
        .iter()
        .map(|c| cpu_s_of(&c.id().to_string()))
        .sum::<f64>()
        - cpu0;

    let mut counts = [0u64; 2];
    let mut by_node = Vec::new();
    let mut server_cpu = 0.0;
    match &pg {
        Some(client) => rt.block_on(async {
            for (t, (name, _)) in TOPICS.iter().enumerate() {
                let row = client
                    .query_one(&format!("{COUNT}$1"), &[name])
                    .await
                    .expect("count");
                counts[t] = row.get::<_, i64>(0) as u64;
            }
            for row in client
                .query(
                    "SELECT coalesce(node, '-'), count(*) FROM source GROUP BY 1 ORDER BY 1",
                    &[],
                )
                .await
                .expect("nodes")
            {
                by_node.push((row.get(0), row.get(1)));
            }
            for row in client
                .query(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1",
                    &[&DATABASE],
                )
                .await
                .expect("backends")
            {
                server_cpu += cpu_s_of(&row.get::<_, i32>(0).to_string());
            }
        }),
        None => {
            let conn = rusqlite::Connection::open(&sqlite).expect("open");
            for (t, (name, _)) in TOPICS.iter().enumerate() {
                counts[t] = conn
                    .query_row(&format!("{COUNT}?1"), [name], |r| r.get::<_, i64>(0))
                    .expect("count") as u64;
            }
        }
    }
    stop(&mut children);
    drop(pg);
    if let Some(client) = admin_client {
        rt.block_on(async {
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
                .await;
        });
    }
    Outcome {
        wall,
        daemon_cpu,
        server_cpu,
        counts,
        by_node,
    }
}

fn main() {
    let mut runs = 1usize;
    let mut admin = std::env::var("MENTIONS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut nodes = vec![1usize, 2, 3];
    let mut sqlite = true;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--postgres" => admin = it.next().unwrap_or(admin),
            "--nodes" => {
                nodes = it
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|n| n.trim().parse().ok())
                    .filter(|&n| n > 0)
                    .collect()
            }
            "--no-sqlite" => sqlite = false,
            _ => {}
        }
    }
    let docs: Arc<Vec<String>> =
        Arc::new((0..SOURCES).map(|s| feed_document(s, 0, SOURCES)).collect());
    let items = SOURCES * ITEMS_PER_FEED;
    let expected = expected(SOURCES, 1);
    let (_server, port) = serve_feeds(docs);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    println!("ingest: {SOURCES} feed sources x {ITEMS_PER_FEED} items = {items} items from 127.0.0.1:{port}, `mentions run` (release)");
    let mut stores: Vec<Store> = Vec::new();
    if sqlite {
        stores.push(Store::Sqlite);
    }
    stores.extend(nodes.iter().map(|&n| Store::Postgres { nodes: n }));
    for store in stores {
        let label = match store {
            Store::Sqlite => "sqlite, 1 daemon".to_owned(),
            Store::Postgres { nodes } => {
                format!(
                    "postgres, {nodes} daemon{}",
                    if nodes == 1 { "" } else { "s" }
                )
            }
        };
        let mut walls = Vec::new();
        for run in 0..runs {
            let o = run_once(store, port, &admin, &rt);
            let ok = o.counts == expected;
            let nodes: Vec<String> = o.by_node.iter().map(|(n, c)| format!("{n}: {c}")).collect();
            println!(
                "  {label}, run {}: {:.2} s, {:.0} items/s, daemons {:.1} CPU-µs/item, server {:.1} CPU-µs/item; mentions {:?} (expected {expected:?}) {}{}",
                run + 1,
                o.wall,
                items as f64 / o.wall,
                o.daemon_cpu * 1e6 / items as f64,
                o.server_cpu * 1e6 / items as f64,
                o.counts,
                if ok { "OK" } else { "MISMATCH" },
                if nodes.is_empty() {
                    String::new()
                } else {
                    format!("; sources per node {}", nodes.join(", "))
                }
            );
            assert!(ok, "the daemons stored other counts than the corpus holds");
            walls.push(o.wall);
        }
        walls.sort_by(f64::total_cmp);
        let key = label.replace([',', ' '], "_").replace("__", "_");
        println!(
            "ingest_{key}_items_per_s={:.0}",
            items as f64 / walls[walls.len() / 2]
        );
    }
}
