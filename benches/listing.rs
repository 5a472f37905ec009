//! Listing benchmark (`list`, `explain`, `exclude`) on the 10 M-mention
//! database the report benchmark uses: the first page of a 24 h list, a
//! 90-day list filtered by domain, `explain` of a merged mention, excluding
//! a domain of about 100,000 mentions and letting it count again, and what
//! sightings add to the database's size. Counts are checked against a
//! direct COUNT after the exclusion and after the include.
//!
//! `cargo bench --bench listing -- [--mentions N] [--runs N] [--only exclude] [--postgres URL]`
//!
//! The exclusion is timed `runs` times: each run excludes the domain and
//! then drops the rule (which lets every mention count again), so every run
//! starts from the same rows and counts. `--only exclude` skips the reads.
//!
//! With `--postgres URL` the same corpus is copied into a PostgreSQL
//! database on that server (once, then reused; see store10m.rs) and the
//! reads — the list pages, the count, `explain` — are timed there through
//! `PgReader`, checked against a COUNT over PostgreSQL's rows; `exclude`
//! is timed on SQLite only (it runs on PostgreSQL too, untimed here), and
//! the file sizes are SQLite's (PostgreSQL's relation sizes are printed
//! instead).

mod common;
#[path = "common/store10m.rs"]
mod store10m;

use common::*;
use mentions::store::{ExcludeTarget, ListFilter, PgReader, Reads, Store};
use std::time::Instant;
use store10m::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2] * 1000.0
}

fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..runs {
        let t0 = Instant::now();
        out = Some(f());
        times.push(t0.elapsed().as_secs_f64());
    }
    (median(times), out.expect("runs > 0"))
}

/// Counted mentions of `topic` in `[from, to)`, straight from the rows.
fn direct(conn: &rusqlite::Connection, topic: &str, from: i64, to: i64) -> u64 {
    conn.query_row(
        "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id
         WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 AND excluded_by IS NULL",
        (topic, from, to),
        |r| r.get::<_, i64>(0),
    )
    .expect("count") as u64
}

fn main() {
    let mut mentions = 10_000_000u64;
    let mut runs = 20usize;
    let mut only_exclude = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mentions" => mentions = it.next().and_then(|v| v.parse().ok()).unwrap_or(mentions),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--only" => only_exclude = it.next().as_deref() == Some("exclude"),
            "--postgres" => drop(it.next()),
            _ => {}
        }
    }
    let end = END;
    let db = database(mentions, end);
    let mut store = Store::open(&db).expect("open");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let mut failed = false;

    if !only_exclude {
        // The reads ask SQLite, or with --postgres the same corpus in PostgreSQL.
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let postgres = postgres_arg().map(|url| {
            let pg = postgres_database(&url, &db, mentions, end, &runtime);
            let client = runtime.block_on(pg.client()).expect("client");
            (PgReader::on(pg, runtime.handle().clone()), client)
        });
        let sql_count = |sql: &str, topic: &str, from: i64, to: i64| -> u64 {
            match &postgres {
                Some((_, client)) => runtime
                    .block_on(
                        client.query_one(
                            &sql.replace("?1", "$1")
                                .replace("?2", "$2")
                                .replace("?3", "$3"),
                            &[&topic, &from, &to],
                        ),
                    )
                    .expect("count")
                    .get::<_, i64>(0) as u64,
                None => conn
                    .query_row(sql, (topic, from, to), |r| r.get::<_, i64>(0))
                    .expect("count") as u64,
            }
        };
        let direct_here = |topic: &str, from: i64, to: i64| {
            sql_count(
                "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id
                 WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 AND excluded_by IS NULL",
                topic,
                from,
                to,
            )
        };
        let reads: &dyn Reads = match &postgres {
            Some((reader, _)) => {
                println!(
                    "reads on PostgreSQL {}",
                    reader.postgres().target().describe()
                );
                reader
            }
            None => &store,
        };

        let page = |store: &dyn Reads, filter: &ListFilter| {
            let mut rows = Vec::new();
            store
                .list(filter, Some(50), &mut |m| {
                    rows.push(m);
                    true
                })
                .expect("list");
            rows
        };
        let day = ListFilter {
            topic: "topic-3".into(),
            from: end - 86_400,
            to: end,
            ..ListFilter::default()
        };
        let (ms, rows) = timed(runs, || page(reads, &day));
        println!(
            "list, 24 h, first page of 50:             {ms:7.2} ms ({} rows)",
            rows.len()
        );
        failed |= rows.len() != 50;
        let (ms, n) = timed(runs.min(5), || reads.count_listed(&day).expect("count"));
        println!("list, 24 h, rows in the window:           {ms:7.2} ms ({n} rows)");
        failed |= n != direct_here("topic-3", end - 86_400, end);

        let quarter = ListFilter {
            topic: "topic-3".into(),
            from: end - 90 * 86_400,
            to: end,
            domains: vec!["site07.example".into()],
            ..ListFilter::default()
        };
        let (ms, rows) = timed(runs, || page(reads, &quarter));
        println!(
            "list, 90 d, one domain, first page of 50: {ms:7.2} ms ({} rows)",
            rows.len()
        );
        failed |= rows.len() != 50
            || rows
                .iter()
                .any(|m| m.domain.as_deref() != Some("www.site07.example"));

        let rare = ListFilter {
            domains: vec!["rare.example".into()],
            ..quarter.clone()
        };
        let (ms, rows) = timed(runs, || page(reads, &rare));
        println!(
            "list, 90 d, a domain with no mentions:    {ms:7.2} ms ({} rows)",
            rows.len()
        );
        failed |= !rows.is_empty();

        // A mention seen twice: its first row and a merge by URL.
        let merged_sql =
            "SELECT mention_id FROM sighting WHERE rule = 1 ORDER BY mention_id LIMIT 1 OFFSET 1000";
        let merged: i64 = match &postgres {
            Some((_, client)) => runtime
                .block_on(client.query_one(merged_sql, &[]))
                .expect("a merged mention")
                .get(0),
            None => conn
                .query_row(merged_sql, [], |r| r.get(0))
                .expect("a merged mention"),
        };
        let (ms, x) = timed(runs, || {
            reads.explain(merged).expect("explain").expect("found")
        });
        println!(
            "explain of a merged mention:              {ms:7.2} ms ({} sightings)",
            x.sightings.len()
        );
        failed |= x.sightings.len() < 2;

        if let Some((_, client)) = &postgres {
            let size = |sql: &str| -> u64 {
                runtime
                    .block_on(client.query_one(sql, &[]))
                    .expect("size")
                    .get::<_, i64>(0) as u64
            };
            let sightings = size("SELECT pg_total_relation_size('sighting')");
            let total = size("SELECT pg_database_size(current_database())");
            println!(
                "sightings: {:.0} MiB of {:.0} MiB ({:.1} % added to the rest); exclude is not timed on PostgreSQL",
                mib(sightings),
                mib(total),
                100.0 * sightings as f64 / (total - sightings).max(1) as f64
            );
            if failed {
                eprintln!("a check failed");
                std::process::exit(2);
            }
            return;
        }
        drop(postgres);
    }

    let counted = |store: &Store| {
        store
            .counts(
                "topic-5",
                chrono::DateTime::from_timestamp(end - 30 * 86_400, 0).unwrap(),
                chrono::DateTime::from_timestamp(end, 0).unwrap(),
            )
            .expect("counts")
            .total()
    };
    let before = counted(&store);
    let (mut excluding, mut including) = (Vec::new(), Vec::new());
    let mut excluded = 0;
    for run in 0..runs {
        let t0 = Instant::now();
        let change = store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "www.site11.example".into(),
                    topic: None,
                },
                Some("benchmark"),
                chrono::Utc::now(),
            )
            .expect("exclude")
            .expect("rule");
        excluding.push(t0.elapsed().as_secs_f64());
        excluded = change.changed;
        // The counts agree with the rows on the first and the last run.
        if run == 0 || run + 1 == runs {
            let after = counted(&store);
            let exact = after == direct(&conn, "topic-5", end - 30 * 86_400, end);
            println!(
                "  run {}: topic-5, 30 d: {before} → {after} counted, direct COUNT {}",
                run + 1,
                if exact { "agrees" } else { "DIFFERS" }
            );
            failed |= !exact || after >= before;
        }
        let t0 = Instant::now();
        let back = store
            .remove_exclusion(change.rule.expect("a rule"))
            .expect("include")
            .expect("the rule exists");
        including.push(t0.elapsed().as_secs_f64());
        failed |= counted(&store) != before || back.changed != change.changed;
    }
    let spread = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min) * 1000.0;
        let hi = v.iter().copied().fold(0.0, f64::max) * 1000.0;
        format!("{lo:.0}–{hi:.0}")
    };
    println!(
        "exclude --domain ({excluded} mentions):       {:7.0} ms (median of {runs}, {} ms)",
        median(excluding.clone()),
        spread(&excluding)
    );
    println!(
        "include (drop the rule, {excluded} mentions):  {:7.0} ms (median of {runs}, {} ms)",
        median(including.clone()),
        spread(&including)
    );

    if !only_exclude {
        let size = |names: &str| -> u64 {
            conn.query_row(
                &format!("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ({names})"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0) as u64
        };
        let total = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        let sightings = size("'sighting', 'sighting_seen_at'");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM sighting", [], |r| r.get(0))
            .unwrap_or(0);
        println!(
            "sightings: {rows} rows, {:.0} MiB of {:.0} MiB ({:.1} % added to the rest)",
            mib(sightings),
            mib(total),
            100.0 * sightings as f64 / (total - sightings).max(1) as f64
        );
    }
    if failed {
        eprintln!("a check failed");
        std::process::exit(2);
    }
}
