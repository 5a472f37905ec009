//! The 10 M-mention database the report and listing benchmarks share: 10
//! topics, 100 sources, 90 days, written through `Store::commit` (so count
//! tables, sightings and fingerprints are the ones crawls maintain). Every
//! web source re-lists a few of the previous day's items of other sites in
//! a tracking-parameter form, so sightings merge as they do in real crawls.

use chrono::DateTime;
use mentions::sources::Kind;
use mentions::store::{CrawlBatch, NewMention, Store};
use std::path::Path;
use std::time::Instant;

pub const TOPICS_N: usize = 10;
pub const SOURCES_N: usize = 100;
pub const DAYS: i64 = 90;

pub fn kind_of(source: usize) -> Kind {
    match source {
        0..60 => Kind::Web,
        60..85 => Kind::Social,
        _ => Kind::Forum,
    }
}

/// Builds the database: per source and day, one crawl of that day's mentions.
pub fn build(path: &Path, mentions: u64, end: i64) {
    let started = Instant::now();
    let mut store = Store::open(path).expect("open");
    // 4 GiB: the whole database fits, so its index pages are not read
    // from the file again batch after batch.
    store.set_cache_kib(4 * 1024 * 1024).expect("cache size");
    let mut rng = fastrand::Rng::with_seed(42);
    let per_batch = (mentions / (SOURCES_N as u64 * DAYS as u64)).max(1);
    let mut written = 0u64;
    let start = end - DAYS * 86_400;
    // (topic, identity) of yesterday's web items, and today's.
    let mut yesterday: Vec<(usize, String)>;
    let mut today: Vec<(usize, String)> = Vec::new();
    let mut merged = 0u64;
    for day in 0..DAYS {
        yesterday = std::mem::take(&mut today);
        for s in 0..SOURCES_N {
            let n = if day == DAYS - 1 && s == SOURCES_N - 1 {
                mentions - written
            } else {
                per_batch
            };
            let kind = kind_of(s);
            let crawled = DateTime::from_timestamp(start + (day + 1) * 86_400, 0).unwrap();
            let mut batch = CrawlBatch::new(
                &format!("source-{s:03}"),
                "feed",
                kind,
                crawled.min(DateTime::from_timestamp(end, 0).unwrap()),
            );
            for i in 0..n {
                let topic = rng.usize(..TOPICS_N);
                let at = start + day * 86_400 + rng.i64(0..86_400);
                let host = (kind == Kind::Web).then(|| format!("www.site{s:02}.example"));
                batch.mentions.push(NewMention {
                    topic: format!("topic-{topic}"),
                    kind,
                    identity: match &host {
                        Some(h) => format!("https://{h}/{day}/{i}"),
                        None => format!("at://did:plc:{s}/post/{day}-{i}"),
                    },
                    url: None,
                    host,
                    // Every item its own headline, as on real sites: rule 4
                    // looks a headline up by its key, which a key shared by
                    // every item of a source would turn into a scan.
                    title: format!("Meldung {i} vom Tag {day}: Nordkorea schickt weitere Soldaten nach Russland"),
                    excerpt: "Seoul: Nach Angaben des Geheimdienstes hat Nordkorea weitere Truppen an die Front bei Kursk verlegt.".into(),
                    author: None,
                    lang: Some("de".into()),
                    published: DateTime::from_timestamp(at.min(end - 1), 0),
                    simhash: rng.u64(..),
                    seen: None,
                });
            }
            // One in twenty: an item another site listed yesterday, seen
            // again here with tracking parameters (rule 1 merges it).
            let again = if kind == Kind::Web && !yesterday.is_empty() {
                n / 20
            } else {
                0
            };
            for _ in 0..again {
                let (topic, identity) = &yesterday[rng.usize(..yesterday.len())];
                let mut copy = batch.mentions[0].clone();
                copy.topic = format!("topic-{topic}");
                copy.identity = identity.clone();
                copy.host = url::Url::parse(identity)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned));
                copy.seen = Some(format!("{identity}?utm_source=rss&utm_medium=feed"));
                batch.mentions.push(copy);
            }
            if kind == Kind::Web {
                today.extend(
                    batch.mentions[..n as usize]
                        .iter()
                        .map(|m| (m.topic[6..].parse().unwrap_or(0), m.identity.clone())),
                );
            }
            written += n;
            let stats = store.commit(&batch).expect("commit");
            assert_eq!(stats.new as u64, n, "every generated mention is new");
            assert_eq!(
                stats.duplicates as u64, again,
                "every re-listed item merges"
            );
            merged += again;
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
        "built {} mentions ({} sightings merged) in {:.0} s",
        written,
        merged,
        started.elapsed().as_secs_f64()
    );
}

/// A fixed "now", not on an hour, so windows have partial edges.
pub const END: i64 = 1_767_225_600 + 1_234;

/// The database of `mentions` mentions ending at `end`, built once into
/// bench-out/ and reused.
pub fn database(mentions: u64, end: i64) -> std::path::PathBuf {
    let dir = super::common::out_dir();
    let db = dir.join(format!("mentions-{mentions}-{end}.db"));
    let done = dir.join(format!("mentions-{mentions}-{end}.complete"));
    if !done.exists() {
        super::common::remove_database(&db);
        build(&db, mentions, end);
        std::fs::write(&done, b"").expect("mark complete");
    }
    db
}

/// `--postgres URL`: the same corpus in a PostgreSQL database on the server
/// `URL` names (its database is used to create another), copied from the
/// SQLite one by `mentions migrate`'s copy (batched multi-row inserts, the
/// count tables and sightings as crawls wrote them), then ANALYZEd. Built
/// once as `mentions_bench_<mentions>_<end>` and reused; a copy that did not
/// finish is dropped and made again.
#[allow(dead_code)]
pub fn postgres_database(
    admin_url: &str,
    sqlite: &Path,
    mentions: u64,
    end: i64,
    runtime: &tokio::runtime::Runtime,
) -> mentions::store::postgres::Postgres {
    use mentions::store::postgres::{copy_from_sqlite, PgTarget, Postgres};
    let name = format!("mentions_bench_{mentions}_{end}");
    let admin = PgTarget::parse(admin_url).expect("--postgres is a postgres:// URL");
    let target = admin.with_database(&name);
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL reachable at --postgres");
        tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await
            .expect("list databases")
            .is_some();
        if exists {
            let pg = Postgres::connect(&target, 4).await.expect("connect");
            let done = pg
                .client()
                .await
                .expect("client")
                .query_one("SELECT to_regclass('bench_complete') IS NOT NULL", &[])
                .await
                .expect("query")
                .get::<_, bool>(0);
            if done {
                return pg;
            }
            drop(pg);
            client
                .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                .await
                .expect("drop the unfinished copy");
        }
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create the benchmark database");
        let started = Instant::now();
        let pg = Postgres::connect(&target, 4).await.expect("connect");
        let store = Store::open(sqlite).expect("open the SQLite database");
        copy_from_sqlite(&store, &pg, 20_000, &mut |c| {
            eprintln!("  {:<14} {:>10} rows copied", c.table, c.copied);
        })
        .await
        .expect("copy into PostgreSQL");
        let c = pg.client().await.expect("client");
        c.batch_execute("ANALYZE; CREATE TABLE bench_complete ()")
            .await
            .expect("analyze");
        eprintln!(
            "copied into PostgreSQL {} in {:.0} s",
            target.describe(),
            started.elapsed().as_secs_f64()
        );
        pg
    })
}

/// The `--postgres URL` argument, if given.
#[allow(dead_code)]
pub fn postgres_arg() -> Option<String> {
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--postgres" {
            return it.next();
        }
    }
    None
}
