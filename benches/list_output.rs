//! Listing output benchmark: `list` and `/api/mentions` paging on a database of
//! 2 M mentions over 4 topics, 40 sources and 30 days, written through
//! `Store::commit`. Measures streaming a whole topic (`list --format ndjson`
//! and `csv` as processes: rows/s and peak RSS), the first text page, keyset
//! pages of 1,000 from the first to the last (the last must cost what the
//! first does), a count, and a search over every row. Every listing's row
//! count is checked against a plain COUNT over the mention rows.
//!
//! `cargo build --release && cargo bench --bench list_output -- [--mentions N] [--runs N]`;
//! the database is built once into bench-out/ and reused.

mod common;

use chrono::DateTime;
use common::*;
use mentions::listing;
use mentions::sources::Kind;
use mentions::store::{CrawlBatch, ListFilter, NewMention, Store};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const TOPICS_N: usize = 4;
const SOURCES_N: usize = 40;
const DAYS: i64 = 30;

fn kind_of(source: usize) -> Kind {
    match source {
        0..24 => Kind::Web,
        24..34 => Kind::Social,
        _ => Kind::Forum,
    }
}

/// Per source and day, one crawl of that day's mentions.
fn build(path: &Path, mentions: u64, end: i64) {
    let started = Instant::now();
    let mut store = Store::open(path).expect("open");
    let mut rng = fastrand::Rng::with_seed(7);
    let per_batch = (mentions / (SOURCES_N as u64 * DAYS as u64)).max(1);
    let mut written = 0u64;
    let start = end - DAYS * 86_400;
    for day in 0..DAYS {
        for s in 0..SOURCES_N {
            let n = if day == DAYS - 1 && s == SOURCES_N - 1 {
                mentions - written
            } else {
                per_batch
            };
            let kind = kind_of(s);
            let crawled =
                DateTime::from_timestamp((start + (day + 1) * 86_400).min(end), 0).expect("time");
            let mut batch = CrawlBatch::new(&format!("source-{s:02}"), "feed", kind, crawled);
            for i in 0..n {
                let topic = rng.usize(..TOPICS_N);
                let at = start + day * 86_400 + rng.i64(0..86_400);
                let host = (kind == Kind::Web).then(|| format!("www.site{:02}.example", s % 12));
                let (identity, url) = match &host {
                    Some(h) => (format!("https://{h}/{day}/{s}/{i}"), None),
                    None => (
                        format!("at://did:plc:{s}/post/{day}-{i}"),
                        Some(format!("https://bsky.app/profile/{s}/post/{day}-{i}")),
                    ),
                };
                batch.mentions.push(NewMention {
                    topic: format!("topic-{topic}"),
                    kind,
                    identity,
                    url,
                    host,
                    title: format!("Nordkorea schickt weitere Soldaten nach Russland ({i})"),
                    excerpt: if i % 10 == 0 {
                        "Seoul: Truppen an der Front bei Kursk.".into()
                    } else {
                        "Seoul: Nach Angaben des Geheimdienstes hat Nordkorea weitere Truppen verlegt.".into()
                    },
                    author: (kind != Kind::Web).then(|| format!("user{}", i % 500)),
                    lang: Some("de".into()),
                    published: DateTime::from_timestamp(at.min(end - 1), 0),
                    simhash: rng.u64(..),
                    seen: None,
                });
            }
            written += n;
            let stats = store.commit(&batch).expect("commit");
            assert_eq!(stats.new as u64, n, "every generated mention is new");
        }
        if day % 10 == 9 {
            eprintln!(
                "  {written} mentions written, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(store);
    let conn = rusqlite::Connection::open(path).expect("reopen");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    eprintln!(
        "built {written} mentions in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

fn med(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2] * 1000.0
}

/// Runs the CLI under /usr/bin/time: seconds, peak RSS in KiB, stdout lines.
fn cli(binary: &Path, config: &Path, args: &[&str]) -> (f64, u64, u64) {
    let t0 = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(binary)
        .arg("--config")
        .arg(config)
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .expect("run mentions under /usr/bin/time");
    let secs = t0.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let rss = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count() as u64;
    (secs, rss, lines)
}

fn main() {
    let mut mentions = 2_000_000u64;
    let mut runs = 5usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mentions" => mentions = it.next().and_then(|v| v.parse().ok()).unwrap_or(mentions),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            _ => {}
        }
    }
    let end: i64 = 1_767_225_600 + 1_234;
    let start = end - DAYS * 86_400;
    let dir = out_dir();
    let db = dir.join(format!("list-output-{mentions}.db"));
    let done = dir.join(format!("list-output-{mentions}.complete"));
    if !done.exists() {
        remove_database(&db);
        build(&db, mentions, end);
        std::fs::write(&done, b"").expect("mark complete");
    }
    let mut config = format!("[database]\n{}\n\n", database_path(&db));
    for t in 0..TOPICS_N {
        config.push_str(&format!(
            "[[topic]]\nname = \"topic-{t}\"\nquery = 'nordkorea'\n\n"
        ));
    }
    let config_path = dir.join("list-output-config.toml");
    std::fs::write(&config_path, config).expect("write config");
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mentions");
    let fmt = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .expect("time")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let (from, to) = (fmt(start), fmt(end));

    let store = Store::open_read_only(&db).expect("open");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let direct: u64 = conn
        .query_row(
            "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id
             WHERE topic.name = 'topic-0' AND at >= ?1 AND at < ?2",
            (start, end),
            |r| r.get::<_, i64>(0),
        )
        .expect("count") as u64;
    println!(
        "listing: {mentions} mentions, {TOPICS_N} topics, {SOURCES_N} sources, {DAYS} days; topic-0 has {direct} in the window"
    );
    let mut all_ok = true;
    let mut check = |what: &str, got: u64, want: u64| {
        let ok = got == want;
        all_ok &= ok;
        if !ok {
            println!("  MISMATCH {what}: {got} rows, {want} expected");
        }
    };

    // Whole topic through the CLI.
    for format in ["ndjson", "csv"] {
        let mut times = Vec::new();
        let mut rss = 0;
        let mut lines = 0;
        for _ in 0..runs.min(3) {
            let (t, r, l) = cli(
                &binary,
                &config_path,
                &[
                    "list", "--topic", "topic-0", "--from", &from, "--to", &to, "--format", format,
                ],
            );
            times.push(t);
            rss = rss.max(r);
            lines = l;
        }
        let rows = if format == "csv" { lines - 1 } else { lines };
        check(format, rows, direct);
        let secs = med(&mut times) / 1000.0;
        println!(
            "  list --format {format:<6} {rows:>9} rows  {secs:>6.2} s  {:>9.0} rows/s  peak RSS {:.1} MiB",
            rows as f64 / secs,
            rss as f64 / 1024.0
        );
    }
    // The first text page (50 rows and the count of the rest).
    let mut times = Vec::new();
    for _ in 0..runs {
        let (t, _, l) = cli(
            &binary,
            &config_path,
            &["list", "--topic", "topic-0", "--from", &from, "--to", &to],
        );
        times.push(t);
        check("text", l, 2 + 50 + 1);
    }
    println!(
        "  list (text, 50 rows + count)        {:>8.1} ms (CLI, median)",
        med(&mut times)
    );

    // Keyset pages of 1,000 through the whole topic, in process.
    let filter = ListFilter {
        topic: "topic-0".into(),
        from: start,
        to: end,
        ..ListFilter::default()
    };
    let filters = [filter.clone()];
    let mut cursor = None;
    let mut pages = Vec::new();
    let mut rows = 0u64;
    loop {
        let t0 = Instant::now();
        let (page, next) = listing::page(&store, &filters, cursor.as_ref(), 1000).expect("page");
        pages.push(t0.elapsed().as_secs_f64());
        rows += page.len() as u64;
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    check("pages", rows, direct);
    let first = pages[0] * 1000.0;
    let last = pages[pages.len() - 1] * 1000.0;
    let worst = pages.iter().copied().fold(0f64, f64::max) * 1000.0;
    println!(
        "  pages of 1,000: {} pages; first {first:.1} ms, median {:.1} ms, last {last:.1} ms, worst {worst:.1} ms",
        pages.len(),
        med(&mut pages)
    );

    // A count, and a search over every row.
    let mut times = Vec::new();
    let mut n = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        n = store.count_listed(&filter).expect("count");
        times.push(t0.elapsed().as_secs_f64());
    }
    check("count", n, direct);
    println!(
        "  count_listed                        {:>8.1} ms",
        med(&mut times)
    );
    let search = ListFilter {
        search: Some(mentions::query::Query::parse("kursk").expect("query")),
        ..filter.clone()
    };
    let t0 = Instant::now();
    let found = store.count_listed(&search).expect("search");
    let secs = t0.elapsed().as_secs_f64();
    let want: u64 = conn
        .query_row(
            "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id
             WHERE topic.name = 'topic-0' AND at >= ?1 AND at < ?2 AND excerpt LIKE '%Kursk%'",
            (start, end),
            |r| r.get::<_, i64>(0),
        )
        .expect("count") as u64;
    check("search", found, want);
    println!(
        "  --search kursk over {direct} rows: {found} found, {:.2} s ({:.0} rows/s)",
        secs,
        direct as f64 / secs
    );
    if !all_ok {
        std::process::exit(2);
    }
}
