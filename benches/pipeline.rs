//! Pipeline benchmark: parse → match → identify → store over a generated
//! corpus of RSS documents (default 200 sources × 20 crawls × 250 items =
//! 1 M items, half of them matching, with repeats and copies), then the
//! plainest SQLite insert loop over the same rows as the ceiling.
//!
//! `cargo bench --bench pipeline -- [--items N] [--workers N] [--group N] [--floor ITEMS_PER_S]`
//! prints its figures; with `--floor` it exits 1 when the pipeline is slower.

mod common;

use common::*;
use mentions::config::Topic;
use mentions::identify::queue_items;
use mentions::query::Query;
use mentions::sources::{feed, Kind};
use mentions::store::{CommitStats, CrawlBatch, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Args {
    items: usize,
    workers: usize,
    floor: Option<f64>,
    /// Most crawls written in one transaction (`store::shared::commit`
    /// writes up to 32); 1 writes each crawl alone.
    group: usize,
}

fn args() -> Args {
    let mut a = Args {
        items: 1_000_000,
        workers: 2,
        floor: None,
        group: 32,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--items" => a.items = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.items),
            "--workers" => a.workers = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.workers),
            "--floor" => a.floor = it.next().and_then(|v| v.parse().ok()),
            "--group" => {
                a.group = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(a.group)
                    .max(1)
            }
            _ => {} // cargo passes --bench
        }
    }
    a
}

/// Writes the corpus once; later runs reuse it.
fn corpus(sources: usize, docs: usize) -> PathBuf {
    let dir = out_dir().join(format!("corpus-{sources}x{docs}"));
    let done = dir.join("complete");
    if done.exists() {
        return dir;
    }
    let started = Instant::now();
    std::fs::create_dir_all(&dir).expect("create the corpus folder");
    for d in 0..docs {
        for s in 0..sources {
            std::fs::write(
                dir.join(format!("s{s}-d{d}.xml")),
                feed_document(s, d, sources),
            )
            .expect("write a corpus file");
        }
    }
    std::fs::write(&done, b"").expect("mark the corpus complete");
    eprintln!(
        "generated {} feed documents in {:.1} s",
        sources * docs,
        started.elapsed().as_secs_f64()
    );
    dir
}

fn topics() -> Vec<Topic> {
    TOPICS
        .iter()
        .map(|(name, q)| Topic {
            name: (*name).into(),
            text: (*q).into(),
            query: Query::parse(q).expect("benchmark queries compile"),
        })
        .collect()
}

fn main() {
    let args = args();
    let sources = 200usize.min(args.items.div_ceil(ITEMS_PER_FEED)).max(2) & !1;
    let docs = args.items.div_ceil(sources * ITEMS_PER_FEED).max(1);
    let items = sources * docs * ITEMS_PER_FEED;
    let dir = corpus(sources, docs);
    let expected = expected(sources, docs);
    let topics = topics();
    let topic_refs: Vec<&Topic> = topics.iter().collect();

    let db = out_dir().join("pipeline.db");
    remove_database(&db);
    let mut store = Store::open(&db).expect("open the benchmark database");

    // Workers parse and identify; this thread stores, as `crawl` does. As
    // in `crawl` with `concurrency = 16`, up to 16 finished crawls wait.
    let next = AtomicUsize::new(0);
    // Nanoseconds spent per stage, summed over threads: wall and CPU time.
    let (t_parse, t_identify) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let (c_parse, c_identify) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut t_commit = 0f64;
    let mut c_commit = 0u64;
    let cpu_before = process_cpu_s();
    let (tx, rx) = std::sync::mpsc::sync_channel::<CrawlBatch>(16);
    let started = Instant::now();
    let mut stats = CommitStats::default();
    let mut batches = 0usize;
    let mut groups = 0usize;
    std::thread::scope(|scope| {
        for _ in 0..args.workers {
            let (tx, next, dir, topic_refs) = (tx.clone(), &next, &dir, &topic_refs);
            let (t_parse, t_identify) = (&t_parse, &t_identify);
            let (c_parse, c_identify) = (&c_parse, &c_identify);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= sources * docs {
                    return;
                }
                let (d, s) = (i / sources, i % sources);
                let body = std::fs::read_to_string(dir.join(format!("s{s}-d{d}.xml")))
                    .expect("read a corpus file");
                let base = url::Url::parse(&format!("https://{}/feed.xml", host(s))).unwrap();
                let (t0, c0) = (Instant::now(), thread_cpu_ns());
                let parsed = feed::parse(&body, &base).expect("corpus feeds parse");
                let (t1, c1) = (Instant::now(), thread_cpu_ns());
                assert_eq!(parsed.len(), ITEMS_PER_FEED, "every item is read");
                let mut batch = CrawlBatch::new(
                    &format!("quelle-{s}"),
                    "feed",
                    Kind::Web,
                    chrono::Utc::now(),
                );
                queue_items(&mut batch, parsed, Kind::Web, topic_refs);
                t_parse.fetch_add((t1 - t0).as_nanos() as usize, Ordering::Relaxed);
                t_identify.fetch_add(t1.elapsed().as_nanos() as usize, Ordering::Relaxed);
                c_parse.fetch_add((c1 - c0) as usize, Ordering::Relaxed);
                c_identify.fetch_add((thread_cpu_ns() - c1) as usize, Ordering::Relaxed);
                if tx.send(batch).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        // Crawls that finished while the last group was being written, and
        // those that finish while it is written, are written together, up
        // to `--group` per transaction, as `crawl` does (`store::shared::commit`).
        let take = |group: &mut Vec<CrawlBatch>| {
            while group.len() < args.group {
                match rx.try_recv() {
                    Ok(more) => group.push(more),
                    Err(_) => break,
                }
            }
        };
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            take(&mut group);
            let (t0, c0) = (Instant::now(), thread_cpu_ns());
            let results = store.commit_arriving(&mut group, |b| b, take);
            t_commit += t0.elapsed().as_secs_f64();
            c_commit += thread_cpu_ns() - c0;
            groups += 1;
            for s in results {
                let s = s.expect("commit a batch");
                stats.new += s.new;
                stats.duplicates += s.duplicates;
                batches += 1;
            }
        }
    });
    let pipeline = started.elapsed().as_secs_f64();
    let pipeline_cpu = process_cpu_s() - cpu_before;
    let peak = peak_rss();

    // The counts must be exact: speed never comes from skipping work.
    let conn = rusqlite::Connection::open(&db).expect("reopen");
    let mut stored = [0u64; 2];
    for (t, (name, _)) in TOPICS.iter().enumerate() {
        stored[t] = conn
            .query_row(
                "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id WHERE topic.name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .expect("count") as u64;
    }
    let total_expected = expected[0] + expected[1];
    let ok = stored == expected && stats.new as u64 == total_expected && batches == sources * docs;
    drop(store);
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);

    // The ceiling: the same rows, one prepared INSERT, one transaction.
    let rows = load_rows(&conn);
    drop(conn);
    let limit_db = out_dir().join("limit.db");
    remove_database(&limit_db);
    drop(Store::open(&limit_db).expect("create the limit database"));
    let (limit, limit_cpu) = insert_plainly(&limit_db, &db, &rows);

    let items_per_s = items as f64 / pipeline;
    let rows_per_s = rows.len() as f64 / limit;
    println!(
        "pipeline: {items} feed items from {sources} sources x {docs} crawls, {} workers",
        args.workers
    );
    println!(
        "  {batches} crawls written in {groups} transactions ({:.1} per transaction)",
        batches as f64 / groups.max(1) as f64
    );
    println!("  expected mentions {expected:?}, stored {stored:?}, commit says {} new / {} duplicates: {}",
        stats.new, stats.duplicates, if ok { "OK" } else { "MISMATCH" });
    println!(
        "  pipeline  {pipeline:8.2} s  {items_per_s:10.0} items/s  {:10.0} mentions/s",
        rows.len() as f64 / pipeline
    );
    println!(
        "  CPU {pipeline_cpu:.2} s (user + sys, all threads) = {:.1} CPU-µs/item",
        pipeline_cpu * 1e6 / items as f64
    );
    let per_item = |ns: f64| ns / 1e3 / items as f64;
    println!(
        "  stage CPU: parse {:.2} s ({:.1} µs/item), match+identify {:.2} s ({:.1} µs/item), store {:.2} s ({:.1} µs/item)",
        c_parse.load(Ordering::Relaxed) as f64 / 1e9,
        per_item(c_parse.load(Ordering::Relaxed) as f64),
        c_identify.load(Ordering::Relaxed) as f64 / 1e9,
        per_item(c_identify.load(Ordering::Relaxed) as f64),
        c_commit as f64 / 1e9,
        per_item(c_commit as f64),
    );
    println!(
        "  stage wall: parse {:.2} s, match+identify {:.2} s, store {:.2} s (summed over threads)",
        t_parse.load(Ordering::Relaxed) as f64 / 1e9,
        t_identify.load(Ordering::Relaxed) as f64 / 1e9,
        t_commit
    );
    println!("  limit     {limit:8.2} s  {rows_per_s:10.0} rows/s (plain INSERT of the same {} rows, one transaction), CPU {limit_cpu:.2} s", rows.len());
    println!(
        "  pipeline / limit (same rows): {:.0} %",
        100.0 * limit / pipeline
    );
    println!("  peak RSS during the pipeline: {:.1} MiB", mib(peak));
    println!(
        "  database: {:.1} MiB, {:.0} bytes per stored mention",
        mib(db_bytes),
        db_bytes as f64 / rows.len().max(1) as f64
    );
    println!(
        "pipeline_items_per_s={items_per_s:.0} pipeline_cpu_us_per_item={:.1} pipeline_vs_limit_pct={:.0}",
        pipeline_cpu * 1e6 / items as f64,
        100.0 * limit / pipeline
    );
    if !ok {
        eprintln!("the pipeline stored other counts than the corpus holds");
        std::process::exit(2);
    }
    if let Some(floor) = args.floor {
        if items_per_s < floor {
            eprintln!(
                "REGRESSION: {items_per_s:.0} items/s is below the floor of {floor:.0} items/s"
            );
            std::process::exit(1);
        }
    }
}

type Row = (
    i64,
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    i64,
);

fn load_rows(conn: &rusqlite::Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare(
            "SELECT topic_id, source_id, kind, identity, url, host, title, excerpt, author, lang,
                    published_at, first_seen, at, simhash FROM mention ORDER BY id",
        )
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// Seconds (wall, CPU) for the plain loop: topics and sources copied first (untimed).
fn insert_plainly(path: &Path, from: &Path, rows: &[Row]) -> (f64, f64) {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    // The writing store's cache and checkpoint size (`Store::open`).
    conn.pragma_update(None, "cache_size", -Store::WRITE_CACHE_KIB)
        .expect("cache size");
    conn.pragma_update(None, "wal_autocheckpoint", Store::WRITE_CHECKPOINT_PAGES)
        .expect("checkpoint size");
    conn.execute("ATTACH DATABASE ?1 AS src", [from.to_string_lossy()])
        .expect("attach");
    conn.execute_batch(
        "INSERT INTO topic SELECT * FROM src.topic; INSERT INTO source SELECT * FROM src.source; DETACH DATABASE src;",
    )
    .expect("copy topics and sources");
    let (started, cpu) = (Instant::now(), thread_cpu_ns());
    let tx = conn.transaction().expect("begin");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO mention
                   (topic_id, source_id, kind, identity, url, host, title, excerpt, author, lang,
                    published_at, first_seen, at, simhash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .expect("prepare");
        for r in rows {
            insert
                .execute(rusqlite::params![
                    r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    (
        started.elapsed().as_secs_f64(),
        (thread_cpu_ns() - cpu) as f64 / 1e9,
    )
}
