//! Parity of the reads: the same crawls committed to SQLite (`Store::commit`)
//! and PostgreSQL (`Postgres::commit`), then every read of `Reads` asked of
//! both — the SQLite `Store` and a `PgReader` — for many windows and
//! filters, must answer the same. Mention ids are each backend's own (a
//! PostgreSQL sequence may skip values), so rows are compared by topic and
//! identity and pages by the rows they hold; a set of hand-made items in a
//! window of their own is checked against exact numbers as well, so the two
//! cannot agree on the same wrong answer.

use super::parity::assert_same_contents;
use super::testdb::TestDb;
use super::{PgTarget, Postgres};
use crate::query::Query;
use crate::sources::Kind;
use crate::store::{
    Bucket, CrawlBatch, ExcludeTarget, Explained, KindCounts, ListFilter, Listed, NewMention,
    PgReader, Reads, Reference, Store,
};
use chrono::{DateTime, TimeZone, Utc};

pub(super) const T0: i64 = 1_795_000_000; // 2026-11-18 11:06:40 UTC, not on an hour
/// The hand-made items live 40 days later, in a window of their own.
const EXACT: i64 = T0 + 40 * 86_400;

pub(super) fn time(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).unwrap()
}

const HOSTS: [&str; 4] = ["www.h0.example", "h1.example", "h2.example", "spam.example"];
const TITLES: [&str; 3] = [
    "Nordkorea schickt Truppen",
    "Kursk Offensive gestoppt",
    "Truppen in Kursk",
];

pub(super) fn web(
    topic: &str,
    host: &str,
    path: &str,
    at: Option<i64>,
    simhash: u64,
) -> NewMention {
    NewMention {
        topic: topic.into(),
        kind: Kind::Web,
        identity: format!("https://{host}{path}"),
        url: None,
        host: Some(host.into()),
        title: TITLES[(simhash % 3) as usize].into(),
        excerpt: "Die Regierung bestätigt es.".into(),
        author: None,
        lang: Some("de".into()),
        published: at.map(time),
        simhash,
        seen: None,
    }
}

fn toot(topic: &str, n: u64, author: &str, at: i64) -> NewMention {
    NewMention {
        topic: topic.into(),
        kind: Kind::Social,
        identity: format!("https://m.example/users/{author}/statuses/{n}"),
        url: Some(format!("https://m.example/@{author}/{n}")),
        host: None,
        title: String::new(),
        excerpt: format!("{} #{n}", TITLES[(n % 3) as usize]),
        author: Some(author.into()),
        lang: None,
        published: Some(time(at)),
        simhash: xxhash_rust::xxh3::xxh3_64(&n.to_le_bytes()),
        seen: Some(format!("https://m.example/@{author}/{n}")),
    }
}

fn post(topic: &str, n: u64, at: i64) -> NewMention {
    NewMention {
        kind: Kind::Forum,
        identity: format!("https://forum.example/t/{n}"),
        host: Some("forum.example".into()),
        author: Some("poster".into()),
        ..web(
            topic,
            "forum.example",
            &format!("/t/{n}"),
            Some(at),
            n * 7919,
        )
    }
}

pub(super) fn batch(
    source: &str,
    source_type: &str,
    kind: Kind,
    now: i64,
    m: Vec<NewMention>,
) -> CrawlBatch {
    let mut b = CrawlBatch::new(source, source_type, kind, time(now));
    b.mentions = m;
    b
}

/// The crawls both backends get, in order: three days of random items
/// from four sources over two topics (duplicates across sources, near
/// copies on a host, undated items, a domain and an author that are
/// excluded), then the hand-made ones.
pub(super) fn crawls() -> Vec<CrawlBatch> {
    let mut rng = fastrand::Rng::with_seed(41);
    let mut out = Vec::new();
    for crawl in 0..12i64 {
        let now = T0 + crawl * 6 * 3600;
        let mut feed_a = Vec::new();
        let mut feed_b = Vec::new();
        let mut social = Vec::new();
        let mut forum = Vec::new();
        let mut news = Vec::new();
        for i in 0..25 {
            let host = HOSTS[rng.usize(0..HOSTS.len())];
            let topic = ["nk", "nk", "other"][rng.usize(0..3)];
            let at = (rng.u8(0..10) > 0).then(|| now - rng.i64(0..3 * 86_400));
            let m = web(topic, host, &format!("/{crawl}/{i}"), at, rng.u64(..));
            // The same article through the other feed, seen with a tracking parameter.
            if rng.u8(0..4) == 0 {
                feed_b.push(NewMention {
                    seen: Some(format!("{}?utm_source=b", m.identity)),
                    ..m.clone()
                });
            }
            // A near copy on the same host (two bits apart), another path.
            if rng.u8(0..6) == 0 {
                feed_b.push(NewMention {
                    identity: format!("{}-amp", m.identity),
                    simhash: m.simhash ^ 0b101,
                    ..m.clone()
                });
            }
            // Rule 4: a news search's item with the same headline from the same publisher.
            if i % 8 == 1 && m.published.is_some() {
                news.push(NewMention {
                    identity: format!("https://news.google.com/rss/articles/{crawl}x{i}?oc=5"),
                    excerpt: String::new(),
                    simhash: !m.simhash,
                    ..m.clone()
                });
            }
            feed_a.push(m);
            let author = ["alice", "bob", "Bot"][rng.usize(0..3)];
            social.push(toot(
                topic,
                (crawl * 100 + i) as u64,
                author,
                now - rng.i64(0..86_400),
            ));
            if i % 3 == 0 {
                forum.push(post(
                    topic,
                    (crawl * 100 + i) as u64,
                    now - rng.i64(0..86_400),
                ));
            }
        }
        out.push(batch("feed-a", "feed", Kind::Web, now, feed_a));
        out.push(batch("feed-b", "feed", Kind::Web, now + 60, feed_b));
        out.push(batch("masto", "mastodon", Kind::Social, now + 120, social));
        out.push(batch("forum", "discourse", Kind::Forum, now + 180, forum));
        out.push(batch("gnews", "googlenews", Kind::Web, now + 240, news));
    }
    out.push(batch(
        "feed-a",
        "feed",
        Kind::Web,
        EXACT + 7200,
        exact_items(),
    ));
    out.push(batch(
        "masto",
        "mastodon",
        Kind::Social,
        EXACT + 7200,
        vec![
            toot("nk", 9001, "carol", EXACT + 1800),
            toot("nk", 9002, "bot", EXACT + 1900),
        ],
    ));
    out
}

/// In `[EXACT, EXACT + 5400)`: web on h0 (2) and h1 (1), one on the
/// excluded domain, one at the window's end (outside); with the social
/// items of `crawls`, one counted and one by the excluded author.
fn exact_items() -> Vec<NewMention> {
    let item = |host: &str, path: &str, at: i64| {
        web(
            "nk",
            host,
            path,
            Some(at),
            xxhash_rust::xxh3::xxh3_64(path.as_bytes()),
        )
    };
    vec![
        item("www.h0.example", "/exact/1", EXACT + 10),
        item("www.h0.example", "/exact/2", EXACT + 3599),
        item("h1.example", "/exact/3", EXACT + 3600),
        item("spam.example", "/exact/4", EXACT + 100),
        item("h1.example", "/exact/5", EXACT + 5400),
    ]
}

/// A listed mention without its backend's id.
fn norm(mut m: Listed) -> Listed {
    m.id = 0;
    m
}

fn norm_explained(mut x: Explained) -> Explained {
    x.mention = norm(x.mention);
    x
}

fn all(store: &dyn Reads, filter: &ListFilter, limit: Option<usize>) -> Vec<Listed> {
    let mut out = Vec::new();
    store
        .list(filter, limit, &mut |m| {
            out.push(m);
            true
        })
        .unwrap();
    out
}

/// Every page of `size` rows, following the cursor.
fn pages(store: &dyn Reads, filter: &ListFilter, size: usize) -> Vec<Vec<Listed>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = all(
            store,
            &ListFilter {
                after,
                ..filter.clone()
            },
            Some(size),
        );
        if page.is_empty() {
            return out;
        }
        after = page.last().map(|m| (m.at_secs, m.id));
        out.push(page.into_iter().map(norm).collect());
    }
}

fn window(topic: &str, from: i64, to: i64) -> ListFilter {
    ListFilter {
        topic: topic.into(),
        from,
        to,
        ..ListFilter::default()
    }
}

/// Asks both backends every read for `[from, to)` and asserts equal answers.
fn assert_window(sqlite: &dyn Reads, pg: &dyn Reads, topic: &str, from: i64, to: i64) {
    let (f, t) = (time(from), time(to));
    let what = format!("{topic} {from}..{to}");
    assert_eq!(
        sqlite.window_summary(topic, f, t).unwrap(),
        pg.window_summary(topic, f, t).unwrap(),
        "window_summary {what}"
    );
    assert_eq!(
        sqlite.undated_counts(topic, f, t).unwrap(),
        pg.undated_counts(topic, f, t).unwrap(),
        "undated {what}"
    );
    for limit in [3, 100] {
        assert_eq!(
            sqlite.references(topic, f, t, limit).unwrap(),
            pg.references(topic, f, t, limit).unwrap(),
            "references {what}"
        );
    }
    if to - from <= 10 * 86_400 {
        for bucket in [Bucket::Hour, Bucket::Day] {
            assert_eq!(
                sqlite.series(topic, f, t, bucket).unwrap(),
                pg.series(topic, f, t, bucket).unwrap(),
                "series {bucket:?} {what}"
            );
        }
    }
    assert_eq!(
        sqlite.alert_crossings(topic, f, t).unwrap(),
        pg.alert_crossings(topic, f, t).unwrap(),
        "alert crossings {what}"
    );
    let base = window(topic, from, to);
    let filters = [
        base.clone(),
        ListFilter {
            kinds: vec![Kind::Social],
            ..base.clone()
        },
        ListFilter {
            kinds: vec![Kind::Web, Kind::Forum],
            ..base.clone()
        },
        ListFilter {
            sources: vec!["feed-b".into(), "forum".into()],
            ..base.clone()
        },
        ListFilter {
            domains: vec!["h0.example".into()],
            ..base.clone()
        },
        ListFilter {
            domains: vec!["www.h1.example".into(), "m.example".into()],
            ..base.clone()
        },
        ListFilter {
            search: Some(Query::parse("kursk").unwrap()),
            ..base.clone()
        },
        ListFilter {
            search: Some(Query::parse("truppen -kursk").unwrap()),
            kinds: vec![Kind::Web],
            ..base.clone()
        },
        ListFilter {
            excluded: true,
            ..base.clone()
        },
        ListFilter {
            excluded: true,
            domains: vec!["spam.example".into()],
            ..base.clone()
        },
    ];
    for filter in &filters {
        let a: Vec<Listed> = all(sqlite, filter, None).into_iter().map(norm).collect();
        let b: Vec<Listed> = all(pg, filter, None).into_iter().map(norm).collect();
        assert_eq!(a, b, "list {what} {filter:?}");
        assert_eq!(
            sqlite.count_listed(filter).unwrap(),
            pg.count_listed(filter).unwrap(),
            "count_listed {what} {filter:?}"
        );
        assert_eq!(
            all(sqlite, filter, Some(7))
                .into_iter()
                .map(norm)
                .collect::<Vec<_>>(),
            all(pg, filter, Some(7))
                .into_iter()
                .map(norm)
                .collect::<Vec<_>>(),
            "list --limit 7 {what} {filter:?}"
        );
    }
    assert_eq!(pages(sqlite, &base, 9), pages(pg, &base, 9), "pages {what}");
    assert_eq!(
        pages(sqlite, &filters[6], 4),
        pages(pg, &filters[6], 4),
        "search pages {what}"
    );
}

/// Explains every mention (paired by topic and identity), and asks both
/// for the mentions at their URLs and who saw them.
fn assert_mentions(sqlite: &dyn Reads, pg: &dyn Reads) {
    let everything = |store: &dyn Reads| {
        let mut rows = Vec::new();
        for topic in ["nk", "other"] {
            for excluded in [false, true] {
                rows.extend(all(
                    store,
                    &ListFilter {
                        excluded,
                        ..window(topic, i64::MIN / 2, i64::MAX / 2)
                    },
                    None,
                ));
            }
        }
        rows.sort_by(|a, b| (&a.topic, &a.identity).cmp(&(&b.topic, &b.identity)));
        rows
    };
    let (a, b) = (everything(sqlite), everything(pg));
    assert_eq!(a.len(), b.len());
    assert!(a.len() > 500, "{} mentions", a.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(norm(x.clone()), norm(y.clone()));
        assert_eq!(
            sqlite.mention(x.id).unwrap().map(norm),
            pg.mention(y.id).unwrap().map(norm)
        );
        assert_eq!(
            sqlite.explain(x.id).unwrap().map(norm_explained),
            pg.explain(y.id).unwrap().map(norm_explained),
            "explain {}",
            x.identity
        );
        // At a URL: its identity, and its link as shown.
        for url in [&x.identity, &x.url] {
            let ids = |store: &dyn Reads| -> Vec<(String, String)> {
                store
                    .mentions_at(url)
                    .unwrap()
                    .into_iter()
                    .map(|id| {
                        let m = store.mention(id).unwrap().unwrap();
                        (m.topic, m.identity)
                    })
                    .collect()
            };
            assert_eq!(ids(sqlite), ids(pg), "mentions_at {url}");
        }
        assert_eq!(
            sqlite.seen_by(&x.identity).unwrap(),
            pg.seen_by(&x.identity).unwrap()
        );
    }
    assert_eq!(sqlite.explain(999_999_999).unwrap(), None);
    assert_eq!(pg.explain(999_999_999).unwrap(), None);
    assert_eq!(pg.mention(-1).unwrap(), None);
    for url in ["https://never.example/x", "not a url at all"] {
        assert_eq!(
            sqlite.mentions_at(url).unwrap(),
            pg.mentions_at(url).unwrap()
        );
        assert_eq!(sqlite.seen_by(url).unwrap(), pg.seen_by(url).unwrap());
    }
}

/// Both backends with the same crawls: an SQLite store in memory, and a
/// PostgreSQL database behind a `PgReader` on `rt`.
fn both(rt: &tokio::runtime::Runtime, db: &TestDb) -> (Store, PgReader) {
    let pg = rt
        .block_on(Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2))
        .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    // The rules first: a domain for every topic, and (once its source
    // exists) an author of one source; items arriving later are excluded.
    store
        .exclude(
            &ExcludeTarget::Domain {
                domain: "spam.example".into(),
                topic: None,
            },
            Some("link farm"),
            time(T0 - 100),
        )
        .unwrap()
        .unwrap();
    let client = rt.block_on(pg.client()).unwrap();
    rt.block_on(client.batch_execute(&format!(
        "INSERT INTO exclusion (what, domain, reason, created_at)
         VALUES ('domain', 'spam.example', 'link farm', {})",
        T0 - 100
    )))
    .unwrap();
    let empty = batch("masto", "mastodon", Kind::Social, T0 - 50, Vec::new());
    store.commit(&empty).unwrap();
    rt.block_on(pg.commit(empty)).unwrap();
    store
        .exclude(
            &ExcludeTarget::Author {
                author: "bot".into(),
                source: "masto".into(),
            },
            None,
            time(T0 - 40),
        )
        .unwrap()
        .unwrap();
    rt.block_on(client.batch_execute(&format!(
        "INSERT INTO exclusion (what, source_id, author, created_at)
         SELECT 'author', id, 'bot', {} FROM source WHERE name = 'masto'",
        T0 - 40
    )))
    .unwrap();
    drop(client);
    for b in crawls() {
        let a = store.commit(&b).unwrap();
        let p = rt.block_on(pg.commit(b)).unwrap();
        assert_eq!(a, p);
    }
    rt.block_on(assert_same_contents(&store, &pg));
    // Alerts fired (the daemon's alert path has no PostgreSQL twin yet: the
    // same rows are written to both).
    let client = rt.block_on(pg.client()).unwrap();
    for (i, (topic, start, secs)) in [
        ("nk", T0 - 3600, 3600),
        ("nk", T0 + 86_400, 86_400),
        ("other", T0, 3600),
    ]
    .into_iter()
    .enumerate()
    {
        let alert = crate::store::NewAlert {
            key: format!("{topic}-{secs}"),
            topic: topic.into(),
            window_secs: secs as u64,
            trigger: "threshold 5".into(),
            window_start: time(start),
            fired_at: time(start + secs),
            count: 7 + i as u64,
            baseline: (i == 1).then_some(1.5),
            payload: "{}".into(),
        };
        store.record_alert(&alert).unwrap().unwrap();
        rt.block_on(client.execute(
            "INSERT INTO alert (key, topic, window_secs, trigger, window_start, fired_at,
                                count, baseline, payload, next_attempt)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6)",
            &[
                &alert.key,
                &alert.topic,
                &secs,
                &alert.trigger,
                &start,
                &(start + secs),
                &(alert.count as i64),
                &alert.baseline,
                &alert.payload,
            ],
        ))
        .unwrap();
    }
    drop(client);
    (store, PgReader::on(pg, rt.handle().clone()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_read_answers_the_same_on_both_backends() {
    let rt = runtime();
    let Some(db) = rt.block_on(TestDb::create("read parity")) else {
        return;
    };
    let (store, pg) = both(&rt, &db);
    let (sqlite, pg): (&dyn Reads, &dyn Reads) = (&store, &pg);

    // Exact numbers first, in the hand-made window [EXACT, EXACT + 90 min).
    let (from, to) = (time(EXACT), time(EXACT + 5400));
    for store in [sqlite, pg] {
        let (counts, by_source) = store.window_summary("nk", from, to).unwrap();
        assert_eq!(
            counts,
            KindCounts {
                web: 3,
                social: 1,
                forum: 0
            }
        );
        assert_eq!(by_source.get("feed-a"), Some(&3));
        assert_eq!(by_source.get("masto"), Some(&1));
        assert_eq!(
            store.references("nk", from, to, 3).unwrap(),
            [
                Reference {
                    domain: "www.h0.example".into(),
                    mentions: 2
                },
                Reference {
                    domain: "h1.example".into(),
                    mentions: 1
                }
            ]
        );
        let excluded = all(
            store,
            &ListFilter {
                excluded: true,
                ..window("nk", EXACT, EXACT + 5400)
            },
            None,
        );
        let excluded: Vec<(&str, Option<i64>)> = excluded
            .iter()
            .map(|m| (m.identity.as_str(), m.excluded_by))
            .collect();
        assert_eq!(
            excluded,
            [
                ("https://m.example/users/bot/statuses/9002", Some(2)),
                ("https://spam.example/exact/4", Some(1)),
            ]
        );
        let listed: Vec<String> = all(store, &window("nk", EXACT, EXACT + 5400), None)
            .into_iter()
            .map(|m| m.identity)
            .collect();
        assert_eq!(
            listed,
            [
                "https://h1.example/exact/3",
                "https://www.h0.example/exact/2",
                "https://m.example/users/carol/statuses/9001",
                "https://www.h0.example/exact/1",
            ]
        );
        // The hour series: 11:06:40 to 12:36:40, cut at 12:00, both buckets partial.
        let series = store.series("nk", from, to, Bucket::Hour).unwrap();
        let per: Vec<(i64, u64)> = series
            .iter()
            .map(|p| (p.start.timestamp() - EXACT, p.counts.total()))
            .collect();
        assert_eq!(per, [(0, 2), (3200, 2)]);
        let rules: Vec<(String, u64)> = store
            .exclusions()
            .unwrap()
            .into_iter()
            .map(|e| (e.what, e.mentions))
            .collect();
        assert!(rules[0].1 > 5 && rules[1].1 > 5, "{rules:?}");
        assert_eq!(rules[0].0, "domain");
        assert_eq!(rules[1].0, "author");
        let crossed: Vec<(String, u64)> = store
            .alert_crossings("nk", time(T0 - 1800), time(T0 + 86_400 + 1))
            .unwrap()
            .into_iter()
            .map(|a| (a.key, a.count))
            .collect();
        assert_eq!(crossed, [("nk-3600".into(), 7), ("nk-86400".into(), 8)]);
    }

    // Then everything, both ways.
    assert_eq!(sqlite.source_health().unwrap(), pg.source_health().unwrap());
    assert_eq!(sqlite.exclusions().unwrap(), pg.exclusions().unwrap());
    assert_eq!(sqlite.exclusion(2).unwrap(), pg.exclusion(2).unwrap());
    assert_eq!(pg.exclusion(99).unwrap(), None);
    let mut rng = fastrand::Rng::with_seed(5);
    let mut windows: Vec<(i64, i64)> = (0..16)
        .map(|_| {
            let a = T0 - 4 * 86_400 + rng.i64(0..7 * 86_400);
            let len = [
                rng.i64(1..7200),
                rng.i64(1..2 * 86_400),
                rng.i64(1..9 * 86_400),
            ][rng.usize(0..3)];
            (a, a + len)
        })
        .collect();
    let hour = T0 - T0.rem_euclid(3600);
    let day = T0 - T0.rem_euclid(86_400);
    windows.extend([
        // Whole hours, whole days, partial edges on both sides, everything.
        (hour, hour + 3 * 3600),
        (day - 2 * 86_400, day + 86_400),
        (hour - 1, hour + 86_400 + 1),
        (T0 - 30 * 86_400, T0 + 60 * 86_400),
        (EXACT, EXACT + 5400),
        // Empty and inverted windows.
        (T0, T0),
        (T0 + 10, T0),
    ]);
    for (from, to) in windows {
        for topic in ["nk", "other", "no such topic"] {
            assert_window(sqlite, pg, topic, from, to);
        }
        // A report's figures of several topics at once (one statement a
        // figure on PostgreSQL) equal SQLite's, asked topic by topic.
        let (f, t) = (time(from), time(to));
        let topics = ["other", "no such topic", "nk"];
        let figures = pg.report_figures(&topics, f, t, 3).unwrap();
        assert_eq!(
            sqlite.report_figures(&topics, f, t, 3).unwrap(),
            figures,
            "report figures {from}..{to}"
        );
        assert_eq!(figures[2].counts, pg.counts("nk", f, t).unwrap());
    }
    assert_mentions(sqlite, pg);
}

/// A database `mentions migrate` copied from SQLite (ids kept) after
/// exclusions by id and an include: excluded-by-id rows, their rules and
/// their mention ids read the same on both.
#[test]
fn a_copied_database_reads_the_same_with_exclusions_by_id() {
    let rt = runtime();
    let Some(db) = rt.block_on(TestDb::create("read parity copy")) else {
        return;
    };
    let mut store = Store::open_in_memory().unwrap();
    for b in crawls() {
        store.commit(&b).unwrap();
    }
    let ids: Vec<i64> = all(&store, &window("nk", T0 - 4 * 86_400, T0 + 86_400), None)
        .iter()
        .step_by(5)
        .map(|m| m.id)
        .collect();
    store
        .exclude(
            &ExcludeTarget::Mentions(ids.clone()),
            Some("off topic"),
            time(T0),
        )
        .unwrap()
        .unwrap();
    store.include(&ids[..3]).unwrap();
    let pg = rt
        .block_on(Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2))
        .unwrap();
    rt.block_on(super::copy_from_sqlite(&store, &pg, 500, &mut |_| {}))
        .unwrap();
    let reader = PgReader::on(pg, rt.handle().clone());
    let (sqlite, pg): (&dyn Reads, &dyn Reads) = (&store, &reader);
    let rules = pg.exclusions().unwrap();
    assert_eq!(rules, sqlite.exclusions().unwrap());
    assert_eq!(rules.len(), ids.len() - 3);
    assert!(rules.iter().all(|e| e.what == "mention" && e.mentions == 1));
    assert_eq!(rules[0].mention, Some(ids[3]));
    let filter = ListFilter {
        excluded: true,
        ..window("nk", T0 - 4 * 86_400, T0 + 86_400)
    };
    let excluded = all(pg, &filter, None);
    assert_eq!(excluded.len(), ids.len() - 3);
    assert_eq!(excluded, all(sqlite, &filter, None));
    for m in &excluded {
        assert_eq!(pg.explain(m.id).unwrap(), sqlite.explain(m.id).unwrap());
    }
    assert_window(sqlite, pg, "nk", T0 - 4 * 86_400, T0 + 86_400);
    assert_window(sqlite, pg, "nk", T0 - 86_400 + 1234, T0 + 3599);
}

/// A listing longer than a portal fetch streams in fetches of a thousand
/// rows, answers as SQLite does, stops when told, and sees one snapshot:
/// rows another node commits while it streams — older than its cursor, so
/// a later chunk would reach them — are not in it (at READ COMMITTED the
/// search round fails).
#[test]
fn long_listings_stream_one_snapshot_and_stop_when_told() {
    let rt = runtime();
    let Some(db) = rt.block_on(TestDb::create("read streaming")) else {
        return;
    };
    let target = PgTarget::parse(db.url()).unwrap();
    let pg = rt.block_on(Postgres::connect(&target, 2)).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let many = |from: i64, n: i64| -> CrawlBatch {
        let items = (0..n)
            .map(|i| {
                web(
                    "nk",
                    "h1.example",
                    &format!("/many/{from}/{i}"),
                    Some(T0 - from - i * 37),
                    xxhash_rust::xxh3::xxh3_64(&(from * 100_000 + i).to_le_bytes()),
                )
            })
            .collect();
        batch("feed-a", "feed", Kind::Web, T0 + 60, items)
    };
    for b in [many(0, 1300), many(100_000, 1200)] {
        store.commit(&b).unwrap();
        rt.block_on(pg.commit(b)).unwrap();
    }
    let reader = PgReader::on(pg, rt.handle().clone());
    let filter = window("nk", T0 - 400_000, T0 + 1);
    for limit in [None, Some(2_400), Some(12_000)] {
        let a: Vec<Listed> = all(&store, &filter, limit).into_iter().map(norm).collect();
        let b: Vec<Listed> = all(&reader, &filter, limit).into_iter().map(norm).collect();
        assert_eq!(a.len(), limit.unwrap_or(2_500).min(2_500));
        assert_eq!(a, b, "limit {limit:?}");
    }
    // Told to stop after 1,234 rows: no more come.
    let mut n = 0;
    reader
        .list(&filter, None, &mut |_| {
            n += 1;
            n < 1_234
        })
        .unwrap();
    assert_eq!(n, 1_234);
    // Another node commits newer and older rows while the listing streams:
    // through one portal, and (with a search) over chunks of 500 rows,
    // each its own statement in the listing's transaction.
    let mut stored = 2_500;
    for (round, search) in [None, Some(Query::parse("truppen OR kursk").unwrap())]
        .into_iter()
        .enumerate()
    {
        let streamed = ListFilter {
            search,
            ..filter.clone()
        };
        let mut seen = Vec::new();
        let mut committed = false;
        reader
            .list(&streamed, None, &mut |m| {
                seen.push(m.identity);
                if seen.len() == 1_500 && !committed {
                    committed = true;
                    let target = target.clone();
                    let late = NewMention {
                        published: Some(time(T0 - 300_000)),
                        ..web(
                            "nk",
                            "h2.example",
                            &format!("/late/{round}/1"),
                            None,
                            0x5555_0000_1234_0077 ^ (round as u64 * 0x0f0f_0f0f_0f0f_0f0f),
                        )
                    };
                    let newer = NewMention {
                        published: Some(time(T0 - 1)),
                        ..web(
                            "nk",
                            "h3.example",
                            &format!("/late/{round}/2"),
                            None,
                            0xaaaa_ffff_0000_7800 ^ (round as u64 * 0x0f0f_0f0f_0f0f_0f0f),
                        )
                    };
                    std::thread::spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        rt.block_on(async {
                            let other = Postgres::connect(&target, 1).await.unwrap();
                            other
                                .commit(batch(
                                    "feed-b",
                                    "feed",
                                    Kind::Web,
                                    T0 + 120,
                                    vec![late, newer],
                                ))
                                .await
                                .unwrap()
                        })
                    })
                    .join()
                    .unwrap();
                }
                true
            })
            .unwrap();
        assert!(committed);
        assert_eq!(seen.len(), stored, "round {round}");
        assert!(seen.iter().filter(|i| i.contains("/late/")).count() == 2 * round);
        stored += 2;
    }
    // The next listing sees them.
    assert_eq!(all(&reader, &filter, None).len(), 2_504);
}
