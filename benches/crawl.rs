//! End-to-end crawl benchmark: 200 RSS sources × 250 items served by a local
//! HTTP server on 127.0.0.1, and `mentions crawl` (the release binary) run
//! from start to exit against them, under /usr/bin/time for its peak RSS.
//! The stored counts are checked against what the corpus holds.
//!
//! `cargo build --release && cargo bench --bench crawl -- [--runs N]`
//!
//! CPU time is the crawl process's user + system time (from /usr/bin/time),
//! per item. To profile the crawl, set `CRAWL_BENCH_WRAP` to a command that
//! runs the binary after it, e.g. `CRAWL_BENCH_WRAP="perf record -g -o
//! bench-out/crawl.perf"` (then the figures include the profiler's cost).

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;

const SOURCES: usize = 200;

fn main() {
    let mut runs = 3usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--runs" {
            runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs);
        }
    }
    let docs: Arc<Vec<String>> =
        Arc::new((0..SOURCES).map(|s| feed_document(s, 0, SOURCES)).collect());
    let items = SOURCES * ITEMS_PER_FEED;
    let expected = expected(SOURCES, 1);

    let (_server, port) = serve_feeds(Arc::clone(&docs));

    let wrap: Vec<String> = std::env::var("CRAWL_BENCH_WRAP")
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    // Under a profiler such as valgrind the crawl runs a hundred times
    // slower, and a fetch started while it writes may wait its turn longer
    // than the default 30 s.
    let timeout = if wrap.is_empty() { "30s" } else { "3600s" };
    let dir = out_dir();
    let db = dir.join("crawl.db");
    let crawler = format!(
        "[crawler]\nuser_agent = \"mentions-bench/0.1\"\nconcurrency = 16\nper_host_concurrency = 16\nretries = 0\ntimeout = \"{timeout}\"\n\n"
    );
    let config = feed_sources_config(&database_path(&db), &crawler, SOURCES, |s| {
        format!("url = \"http://127.0.0.1:{port}/feed/{s}.xml\"\n")
    });
    let config_path = dir.join("crawl-config.toml");
    std::fs::write(&config_path, config).expect("write config");
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mentions");
    let time_file = dir.join("crawl.time");

    println!("crawl: {SOURCES} feed sources x {ITEMS_PER_FEED} items = {items} items from 127.0.0.1:{port}, `mentions crawl` (release)");
    let mut results = Vec::new();
    for run in 0..runs {
        remove_database(&db);
        let mut command: Vec<&OsStr> = wrap.iter().map(OsStr::new).collect();
        command.extend([
            binary.as_os_str(),
            OsStr::new("--config"),
            config_path.as_os_str(),
            OsStr::new("crawl"),
        ]);
        let Timed {
            wall,
            peak_rss_kib: rss_kb,
            user,
            sys,
            ..
        } = run_timed(&command, &time_file);
        let conn = rusqlite::Connection::open(&db).expect("open");
        let mut stored = [0u64; 2];
        for (t, (name, _)) in TOPICS.iter().enumerate() {
            stored[t] = conn
                .query_row("SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id WHERE topic.name = ?1", [name], |r| r.get::<_, i64>(0))
                .expect("count") as u64;
        }
        let ok = stored == expected;
        let cpu_us = (user + sys) * 1e6 / items as f64;
        println!(
            "  run {}: {wall:.2} s, {:.0} items/s, {cpu_us:.1} CPU-µs/item, peak RSS {:.1} MiB, CPU {user:.2} s user + {sys:.2} s sys; mentions {stored:?} (expected {expected:?}) {}",
            run + 1,
            items as f64 / wall,
            rss_kb / 1024.0,
            if ok { "OK" } else { "MISMATCH" }
        );
        assert!(ok, "the crawl stored other counts than the corpus holds");
        results.push((wall, rss_kb, cpu_us));
    }
    let peak = results.iter().map(|r| r.1).fold(0.0, f64::max);
    let mut cpu: Vec<f64> = results.iter().map(|r| r.2).collect();
    cpu.sort_by(f64::total_cmp);
    results.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, _, _) = results[results.len() / 2];
    println!(
        "crawl_items_per_s={:.0} crawl_cpu_us_per_item={:.1} crawl_peak_rss_mib={:.1}",
        items as f64 / wall,
        cpu[cpu.len() / 2],
        peak / 1024.0
    );
}
