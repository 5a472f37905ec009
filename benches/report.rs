//! Report benchmark: `report` latency on a database of 10 M mentions over
//! 10 topics, 100 sources and 90 days, written through `Store::commit` (so
//! the count tables are the ones crawls maintain). Each window's figures are
//! checked against a plain COUNT over the mention rows.
//!
//! `cargo bench --bench report -- [--mentions N] [--runs N] [--postgres URL]`;
//! the database is built once into bench-out/ and reused. With `--postgres
//! URL` the same corpus is copied into a PostgreSQL database on that server
//! (once, then reused) and the same reports are timed there: the library
//! through `PgReader`, the CLI with `[database] url`, each window checked
//! against a COUNT over PostgreSQL's rows.

mod common;
#[path = "common/store10m.rs"]
mod store10m;

use chrono::{DateTime, Utc};
use common::*;
use mentions::store::{PgReader, Reads, Store};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use store10m::*;

/// Counts a window's mentions straight from the rows: (topic or all, from, to).
type DirectCount = dyn Fn(Option<&str>, i64, i64) -> u64;

fn direct_total(conn: &rusqlite::Connection, topic: Option<&str>, from: i64, to: i64) -> u64 {
    match topic {
        Some(t) => conn.query_row(
            "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id WHERE topic.name = ?1 AND at >= ?2 AND at < ?3",
            (t, from, to), |r| r.get::<_, i64>(0)),
        None => conn.query_row("SELECT count(*) FROM mention WHERE at >= ?1 AND at < ?2", (from, to), |r| r.get::<_, i64>(0)),
    }
    .expect("count") as u64
}

fn main() {
    let mut mentions = 10_000_000u64;
    let mut runs = 20usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mentions" => mentions = it.next().and_then(|v| v.parse().ok()).unwrap_or(mentions),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--postgres" => drop(it.next()),
            _ => {}
        }
    }
    // A fixed "now", not on an hour, so windows have partial edges.
    let end: i64 = END;
    let dir = out_dir();
    let db = database(mentions, end);
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);

    // The config the CLI reads: the same topics and sources.
    let mut config = format!("[database]\n{}\n\n", database_path(&db));
    for t in 0..TOPICS_N {
        config.push_str(&format!(
            "[[topic]]\nname = \"topic-{t}\"\nquery = 'word{t}'\n\n"
        ));
    }
    for s in 0..SOURCES_N {
        let kind = kind_of(s).as_str();
        config.push_str(&format!(
            "[[source]]\nname = \"source-{s:03}\"\ntype = \"feed\"\nkind = \"{kind}\"\nurl = \"http://127.0.0.1:9/feed/{s}.xml\"\n\n"
        ));
    }
    let config_path = dir.join("report-config.toml");
    std::fs::write(&config_path, config).expect("write config");
    let settings = mentions::config::Settings::load(&config_path).expect("config loads");
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mentions");

    // SQLite, or with --postgres the same corpus in PostgreSQL: what the
    // library reads, how a window is counted directly, the CLI's config.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let postgres = postgres_arg();
    let store: Box<dyn Reads>;
    let direct: Box<DirectCount>;
    let backend;
    let mut cli_config = config_path.clone();
    match &postgres {
        None => {
            store = Box::new(Store::open(&db).expect("open"));
            let conn = rusqlite::Connection::open(&db).expect("open");
            direct = Box::new(move |t, from, to| direct_total(&conn, t, from, to));
            backend = "SQLite".to_owned();
        }
        Some(url) => {
            let pg = postgres_database(url, &db, mentions, end, &runtime);
            backend = format!("PostgreSQL {}", pg.target().describe());
            let mut url = url::Url::parse(url).expect("a URL");
            url.set_path(&format!("/{}", pg.target().database()));
            let text = std::fs::read_to_string(&config_path).expect("read config");
            let pg_config = text.replacen(
                &format!("path = {:?}", db.display().to_string()),
                &format!("url = {:?}", url.to_string()),
                1,
            );
            cli_config = dir.join("report-config-postgres.toml");
            std::fs::write(&cli_config, pg_config).expect("write config");
            let client = runtime.block_on(pg.client()).expect("client");
            let handle = runtime.handle().clone();
            direct = Box::new(move |t, from, to| {
                let row = match t {
                    Some(t) => handle.block_on(client.query_one(
                        "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id
                         WHERE topic.name = $1 AND at >= $2 AND at < $3",
                        &[&t, &from, &to],
                    )),
                    None => handle.block_on(client.query_one(
                        "SELECT count(*) FROM mention WHERE at >= $1 AND at < $2",
                        &[&from, &to],
                    )),
                };
                row.expect("count").get::<_, i64>(0) as u64
            });
            store = Box::new(PgReader::on(pg, runtime.handle().clone()));
        }
    }
    let store = store.as_ref();
    let total = direct(None, i64::MIN, i64::MAX);
    println!("report on {backend}: {total} mentions, {TOPICS_N} topics, {SOURCES_N} sources, {DAYS} days; SQLite file {:.0} MiB ({:.0} bytes per mention)",
        mib(db_bytes), db_bytes as f64 / total.max(1) as f64);
    assert_eq!(total, mentions, "the database holds what was generated");
    let fmt = |t: i64| {
        DateTime::<Utc>::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut worst = 0f64;
    let mut all_ok = true;
    println!(
        "  {:<6} {:<10} {:>12} {:>14} {:>14}  check",
        "window", "topics", "mentions", "library (med)", "CLI (med)"
    );
    for (label, secs) in [
        ("1h", 3600i64),
        ("24h", 86_400),
        ("7d", 7 * 86_400),
        ("90d", 90 * 86_400),
    ] {
        for one in [false, true] {
            let (from, to) = (end - secs, end);
            let window = mentions::report::Window {
                from: DateTime::from_timestamp(from, 0).unwrap(),
                to: DateTime::from_timestamp(to, 0).unwrap(),
            };
            let names: Vec<&str> = if one {
                vec!["topic-3"]
            } else {
                settings.topics.iter().map(|t| t.name.as_str()).collect()
            };
            let mut lib = Vec::new();
            let mut reports = Vec::new();
            for _ in 0..runs {
                let t0 = Instant::now();
                reports =
                    mentions::report::build(store, &settings, &names, window, 3).expect("report");
                lib.push(t0.elapsed().as_secs_f64());
            }
            let got: u64 = reports.iter().map(|r| r.total).sum();
            let want = direct(one.then_some("topic-3"), from, to);
            let mut cli = Vec::new();
            for _ in 0..runs.min(10) {
                let mut cmd = Command::new(&binary);
                cmd.arg("--config").arg(&cli_config).args([
                    "report",
                    "--format",
                    "json",
                    "--from",
                    &fmt(from),
                    "--to",
                    &fmt(to),
                ]);
                if one {
                    cmd.args(["--topic", "topic-3"]);
                }
                let t0 = Instant::now();
                let out = cmd.output().expect("run mentions report");
                cli.push(t0.elapsed().as_secs_f64());
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let med = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2] * 1000.0
            };
            let (l, c) = (med(&mut lib), med(&mut cli));
            worst = worst.max(c);
            let ok = got == want;
            all_ok &= ok;
            println!(
                "  {label:<6} {:<10} {got:>12} {l:>11.1} ms {c:>11.1} ms  {}",
                if one { "one" } else { "all 10" },
                if ok { "OK" } else { "MISMATCH" }
            );
        }
    }
    println!("report_worst_cli_ms={worst:.1}");
    if !all_ok {
        std::process::exit(2);
    }
}
