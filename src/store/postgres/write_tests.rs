//! Parity of the writes that are not a crawl's commit: `exclude`,
//! `include`, removing an exclusion and retention, run on an SQLite store
//! and on PostgreSQL with the same crawls, must answer the same and leave
//! the same rows (compared by names and identities, `parity.rs`) with count
//! tables equal to counting the rows. Also: an exclusion and a crawl's
//! commit at the same moment on PostgreSQL, and two nodes claiming the
//! daily retention.

use super::parity::{assert_pg_counts_exact, assert_same_contents, lock_waiters};
use super::read_tests::{batch, crawls, time, web, T0};
use super::testdb::TestDb;
use super::{PgTarget, Postgres};
use crate::http::Validators;
use crate::sources::Kind;
use crate::store::counts::exact::assert_counts_exact;
use crate::store::retention::Batches;
use crate::store::{Cutoff, ExcludeTarget, RetentionPlan, RuleError, Store};
use std::time::Duration;

async fn connect(db: &TestDb) -> Postgres {
    Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2)
        .await
        .unwrap()
}

/// The same crawls on both backends.
async fn both(db: &TestDb) -> (Store, Postgres) {
    let pg = connect(db).await;
    let mut store = Store::open_in_memory().unwrap();
    for b in crawls() {
        assert_eq!(store.commit(&b).unwrap(), pg.commit(b).await.unwrap());
    }
    (store, pg)
}

/// Each backend's id of the mention of `topic` with `identity`.
async fn ids_of(store: &Store, pg: &Postgres, wanted: &[(String, String)]) -> (Vec<i64>, Vec<i64>) {
    let client = pg.client().await.unwrap();
    let mut a = Vec::new();
    let mut b = Vec::new();
    let sql = "SELECT m.id FROM mention m JOIN topic t ON t.id = m.topic_id
               WHERE t.name = $1 AND m.identity = $2";
    for (topic, identity) in wanted {
        a.push(
            store
                .conn
                .query_row(&sql.replace('$', "?"), [topic, identity], |r| r.get(0))
                .unwrap(),
        );
        b.push(
            client
                .query_one(sql, &[topic, identity])
                .await
                .unwrap()
                .get(0),
        );
    }
    (a, b)
}

async fn assert_same(store: &Store, pg: &Postgres) {
    assert_same_contents(store, pg).await;
    assert_pg_counts_exact(pg).await;
    assert_counts_exact(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclude_and_include_change_the_same_rows_on_both_backends() {
    let Some(db) = TestDb::create("write parity exclusions").await else {
        return;
    };
    let (mut store, pg) = both(&db).await;
    let now = time(T0 + 50 * 86_400);
    let domain = |d: &str, topic: Option<&str>| ExcludeTarget::Domain {
        domain: d.into(),
        topic: topic.map(Into::into),
    };
    let author = |a: &str, s: &str| ExcludeTarget::Author {
        author: a.into(),
        source: s.into(),
    };
    // Mentions by id first (ids are each backend's own): every seventh of
    // topic nk, by identity, one twice, and an id no mention has.
    let wanted: Vec<(String, String)> = store
        .conn
        .prepare(
            "SELECT t.name, m.identity FROM mention m JOIN topic t ON t.id = m.topic_id
             WHERE t.name = 'nk' ORDER BY m.identity",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .step_by(7)
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(wanted.len() > 20, "{}", wanted.len());
    let (mut a, mut b) = ids_of(&store, &pg, &wanted).await;
    a.extend([a[0], 987_654_321]);
    b.extend([b[0], 987_654_321]);
    let x = store
        .exclude(&ExcludeTarget::Mentions(a.clone()), Some("off topic"), now)
        .unwrap()
        .unwrap();
    let y = pg
        .exclude(&ExcludeTarget::Mentions(b.clone()), Some("off topic"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(x, y);
    assert_eq!(x.missing, [987_654_321]);
    assert_eq!(x.changed + x.unchanged, wanted.len() as u64 + 1);
    assert_same(&store, &pg).await;

    let steps = [
        (domain("h1.example", Some("nk")), Some("link farm")),
        // `www.` and case do not matter; every topic.
        (domain("WWW.h0.example", None), None),
        // The same rule again: found, its reason replaced, nothing changes.
        (domain("h1.example", Some("nk")), Some("still a link farm")),
        // A platform instance (the toots' URLs are on m.example).
        (domain("m.example", Some("other")), None),
        (author("BOB", "masto"), Some("bot")),
        // A topic with nothing stored: the rule waits for later items.
        (domain("h2.example", Some("new topic")), None),
    ];
    for (i, (target, reason)) in steps.iter().enumerate() {
        let x = store.exclude(target, *reason, now).unwrap().unwrap();
        let y = pg.exclude(target, *reason, now).await.unwrap().unwrap();
        assert_eq!(x, y, "step {i}: {target:?}");
        if i == 2 {
            assert_eq!(x.changed, 0, "{x:?}");
            assert!(x.unchanged > 0, "{x:?}");
        } else if i < 5 {
            assert!(x.changed > 0, "step {i}: {x:?}");
        }
        assert_same(&store, &pg).await;
    }
    assert_eq!(
        store.exclude(&author("x", "nope"), None, now).unwrap(),
        Err(RuleError::UnknownSource("nope".into()))
    );
    assert_eq!(
        pg.exclude(&author("x", "nope"), None, now).await.unwrap(),
        Err(RuleError::UnknownSource("nope".into()))
    );
    let rules = pg.exclusions().await.unwrap();
    assert_eq!(rules, store.exclusions().unwrap());
    assert!(rules
        .iter()
        .any(|e| e.reason.as_deref() == Some("still a link farm")));

    // Some count again by id (one was excluded by a rule, which stays),
    // then two rules are removed whole.
    let x = store.include(&a[..6]).unwrap();
    let y = pg.include(&b[..6]).await.unwrap();
    assert_eq!(x, y);
    assert_same(&store, &pg).await;
    let rule = rules.iter().find(|e| e.what == "domain").unwrap().id;
    let last = rules.iter().find(|e| e.what == "author").unwrap().id;
    for id in [rule, last, 99_999] {
        let x = store.remove_exclusion(id).unwrap();
        let y = pg.remove_exclusion(id).await.unwrap();
        assert_eq!(x, y, "removing {id}");
        assert_eq!(x.is_some(), id != 99_999);
        assert_same(&store, &pg).await;
    }
    // Rules hold for what any node stores later.
    let later = crawls().pop().unwrap();
    let mut again = later.clone();
    for m in &mut again.mentions {
        m.identity.push_str("?later");
    }
    assert_eq!(
        store.commit(&again).unwrap(),
        pg.commit(again).await.unwrap()
    );
    assert_same(&store, &pg).await;
}

/// A crawl's commit that has read the rules and not yet committed when an
/// exclusion by domain runs: the exclusion waits for it and then finds its
/// mention (without the commit's lock on the exclusion table, the
/// exclusion would finish first and the new mention would count).
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn an_exclusion_catches_a_mention_committed_at_the_same_moment() {
    let Some(db) = TestDb::create("exclusion vs commit").await else {
        return;
    };
    let pg = connect(&db).await;
    let mut first = batch("feed-a", "feed", Kind::Web, T0, Vec::new());
    first
        .validators
        .push(("https://feed.example/a.xml".into(), Validators::default()));
    pg.commit(first).await.unwrap();

    // Another writer holds the feed's validator row, so the commit stops
    // at its end, after the rules were read and the mention inserted.
    let (blocker, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    blocker
        .batch_execute(
            "BEGIN; UPDATE http_cache SET etag = '\"held\"' WHERE url = 'https://feed.example/a.xml'",
        )
        .await
        .unwrap();
    let mut crawl = batch(
        "feed-a",
        "feed",
        Kind::Web,
        T0 + 3600,
        vec![
            web("nk", "spam.example", "/1", Some(T0), 1),
            web("nk", "ok.example", "/2", Some(T0), 1 << 40),
        ],
    );
    crawl.validators.push((
        "https://feed.example/a.xml".into(),
        Validators {
            etag: Some("\"v2\"".into()),
            last_modified: None,
        },
    ));
    let commit = tokio::spawn({
        let pg = pg.clone();
        async move { pg.commit(crawl).await }
    });
    // Watched from a connection of its own: inside the blocker's
    // transaction, pg_stat_activity would answer from its first snapshot.
    let (watch, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut tries = 0;
    while lock_waiters(&watch).await < 1 {
        tries += 1;
        assert!(tries < 1000, "the commit never waited");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let exclusion = tokio::spawn({
        let pg = pg.clone();
        async move {
            pg.exclude(
                &ExcludeTarget::Domain {
                    domain: "spam.example".into(),
                    topic: None,
                },
                None,
                time(T0 + 7200),
            )
            .await
        }
    });
    // Until the exclusion waits for the commit (or, without the lock, is done).
    let mut tries = 0;
    while !exclusion.is_finished() && lock_waiters(&watch).await < 2 {
        tries += 1;
        assert!(tries < 1000, "the exclusion neither waited nor finished");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    blocker.batch_execute("ROLLBACK").await.unwrap();
    let stats = commit.await.unwrap().unwrap();
    assert_eq!(stats.new, 2);
    let change = exclusion.await.unwrap().unwrap().unwrap();
    assert_eq!(
        change.changed, 1,
        "the mention committed meanwhile is excluded"
    );
    let counting: Vec<String> = watch
        .query(
            "SELECT identity FROM mention WHERE excluded_by IS NULL ORDER BY identity",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(counting, ["https://ok.example/2"]);
    assert_pg_counts_exact(&pg).await;
    // And a later crawl of any node stores the domain's items excluded.
    let later = batch(
        "feed-b",
        "feed",
        Kind::Web,
        T0 + 9000,
        vec![web("nk", "www.spam.example", "/3", Some(T0), 3 << 20)],
    );
    let other_node = connect(&db).await.with_node("node-2");
    assert_eq!(other_node.commit(later).await.unwrap().excluded, 1);
    assert_pg_counts_exact(&pg).await;
}

/// Retention on PostgreSQL removes exactly what it removes on SQLite for
/// the same rows, reports the same, and keeps the counts exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_the_same_rows_on_both_backends() {
    let Some(db) = TestDb::create("write parity retention").await else {
        return;
    };
    let (mut store, pg) = both(&db).await;
    // Bookkeeping of three ages, and exclusions among the old mentions.
    for (i, now) in [T0 - 10 * 86_400, T0, T0 + 10 * 86_400]
        .into_iter()
        .enumerate()
    {
        let mut b = batch("feed-c", "feed", Kind::Web, now, Vec::new());
        b.seen = (0..10).map(|k| (i * 100 + k) as u64).collect();
        b.validators.push((
            format!("https://feed.example/{i}.xml"),
            Validators {
                etag: Some(format!("\"{i}\"")),
                last_modified: None,
            },
        ));
        assert_eq!(store.commit(&b).unwrap(), pg.commit(b).await.unwrap());
    }
    let rule = ExcludeTarget::Domain {
        domain: "h2.example".into(),
        topic: None,
    };
    store.exclude(&rule, None, time(T0)).unwrap().unwrap();
    pg.exclude(&rule, None, time(T0)).await.unwrap().unwrap();
    let wanted: Vec<(String, String)> = store
        .conn
        .prepare(
            "SELECT t.name, m.identity FROM mention m JOIN topic t ON t.id = m.topic_id
             WHERE m.excluded_by IS NULL ORDER BY m.identity",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .step_by(9)
        .collect::<Result<_, _>>()
        .unwrap();
    let (a, b) = ids_of(&store, &pg, &wanted).await;
    store
        .exclude(&ExcludeTarget::Mentions(a), None, time(T0))
        .unwrap()
        .unwrap();
    pg.exclude(&ExcludeTarget::Mentions(b), None, time(T0))
        .await
        .unwrap()
        .unwrap();
    assert_same(&store, &pg).await;

    let plan = RetentionPlan {
        mentions: Some(Cutoff {
            before: time(T0 + 36 * 3600 + 1234),
            reason: "retention 30d".into(),
        }),
        bookkeeping: Cutoff {
            before: time(T0 + 3 * 86_400),
            reason: "twice the longest lookback, 7d".into(),
        },
    };
    let x = store.prune(&plan, &|| true).unwrap();
    let small = Batches {
        mentions: 7,
        bookkeeping: 3,
        pause: Duration::ZERO,
    };
    let y = pg.prune_in(&plan, &|| true, small).await.unwrap();
    assert_eq!(x, y);
    assert!(x.complete);
    assert!(x.of("mentions") > 100, "{x:?}");
    assert!(x.of("seen") == 20 && x.of("validators") == 2, "{x:?}");
    assert!(x.of("sightings") > 0, "{x:?}");
    assert_eq!(x.lines(&plan), y.lines(&plan));
    let contents = assert_same_contents(&store, &pg).await;
    assert!(!contents.table("mention").is_empty());
    assert_pg_counts_exact(&pg).await;
    assert_counts_exact(&store);
    // Exclusions of deleted mentions went with them; the domain rule stays.
    let client = pg.client().await.unwrap();
    let orphans: i64 = client
        .query_one(
            "SELECT count(*) FROM exclusion e WHERE what = 'mention'
             AND NOT EXISTS (SELECT 1 FROM mention WHERE excluded_by = e.id)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(orphans, 0);
    // What went is not stored again by a crawl, on either backend.
    let first = crawls().remove(0);
    assert_eq!(
        store.commit(&first).unwrap(),
        pg.commit(first).await.unwrap()
    );
    assert_same(&store, &pg).await;
    // An item older than the cutoff that was never stored arrives after the
    // prune: not stored, not counted, no sighting; the crawl's seen keys
    // and the item beside it are stored as ever.
    let cutoff = T0 + 36 * 3600 + 1234;
    let mut late = batch(
        "feed-c",
        "feed",
        Kind::Web,
        T0 + 4 * 86_400,
        vec![
            web(
                "nk",
                "h1.example",
                "/late/old",
                Some(cutoff - 1),
                0x0f0f_0f0f,
            ),
            web(
                "nk",
                "h1.example",
                "/late/new",
                Some(cutoff),
                0xf0f0_f0f0_0000,
            ),
        ],
    );
    late.seen = vec![7001, 7002];
    let stats = store.commit(&late).unwrap();
    assert_eq!(stats, pg.commit(late).await.unwrap());
    assert_eq!((stats.new, stats.duplicates), (1, 1));
    assert_same(&store, &pg).await;
    let stored = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        stored("SELECT count(*) FROM mention WHERE identity LIKE '%/late/%'"),
        1
    );
    assert_eq!(
        stored("SELECT count(*) FROM sighting WHERE url LIKE '%/late/old'"),
        0
    );
    assert_eq!(
        stored("SELECT count(*) FROM seen WHERE key IN (7001, 7002)"),
        2
    );

    // Stopped at once: nothing goes, and the report says so.
    let stopped = pg.prune_in(&plan, &|| false, small).await.unwrap();
    assert!(!stopped.complete);
    assert_eq!(stopped.of("mentions"), 0);
}

/// The daily retention of a cluster runs on one node a day: of two nodes
/// claiming the same day at once exactly one gets it, the next day is
/// claimed again, and a day is never claimed twice. Claims are rows of
/// their own table, kept for yesterday and today; fire times are not
/// touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_claims_each_days_retention() {
    let Some(db) = TestDb::create("retention claim").await else {
        return;
    };
    let a = connect(&db).await;
    let b = connect(&db).await;
    a.register_sources(&[("feed-a", "feed", Kind::Web)])
        .await
        .unwrap();
    assert!(a.claim_fire("a", "feed-a", T0, T0).await.unwrap());
    let first_day = T0.div_euclid(86_400);
    for day in 0..5 {
        let now = T0 + day * 86_400;
        let (x, y) = tokio::join!(
            a.claim_retention_day("a", now),
            b.claim_retention_day("b", now + 60)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!(x ^ y, "day {day}: exactly one node claims it");
        assert!(!a.claim_retention_day("a", now + 3600).await.unwrap());
        assert!(!b.claim_retention_day("b", now + 7200).await.unwrap());
        let node = if x { "a" } else { "b" };
        let held = retention_claims(&a).await;
        assert_eq!(held.last().unwrap(), &(first_day + day, node.to_owned()));
        assert_eq!(held.len(), (day as usize + 1).min(2), "{held:?}");
    }
    assert_eq!(fire_times(&a).await, [T0]);
}

/// (day, node) of every retention claim, by day.
async fn retention_claims(pg: &Postgres) -> Vec<(i64, String)> {
    let client = pg.client().await.unwrap();
    let rows = client
        .query("SELECT day, node FROM retention_claim ORDER BY day", &[])
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// Every claimed fire time.
async fn fire_times(pg: &Postgres) -> Vec<i64> {
    let client = pg.client().await.unwrap();
    let rows = client
        .query("SELECT fire_at FROM source_fire", &[])
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// Migration 0010 carries the claims made before it (fire-time claims of
/// the first source under the key -(day + 1)) into `retention_claim`: a
/// day claimed before the upgrade is not claimed again after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_made_before_migration_0010_hold() {
    let Some(db) = TestDb::create("retention claim carried").await else {
        return;
    };
    let (mut raw, connection) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let tx = raw.transaction().await.unwrap();
    tx.batch_execute(
        "CREATE TABLE schema_version (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await
    .unwrap();
    for &(version, name, sql) in super::migrate::PG_MIGRATIONS.iter().filter(|m| m.0 <= 9) {
        tx.batch_execute(sql).await.unwrap();
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, 0)",
            &[&i64::from(version), &name],
        )
        .await
        .unwrap();
    }
    let day = T0.div_euclid(86_400);
    tx.batch_execute("INSERT INTO source (id, name, type, kind) VALUES (1, 'feed-a', 'feed', 0)")
        .await
        .unwrap();
    tx.execute(
        "INSERT INTO source_fire (source_id, fire_at, node, claimed_at)
         VALUES (1, $1, 'old-node', $2), (1, $2, 'old-node', $2)",
        &[&-(day + 1), &T0],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let pg = connect(&db).await;
    assert!(!pg.claim_retention_day("new-node", T0 + 60).await.unwrap());
    assert!(pg
        .claim_retention_day("new-node", T0 + 86_400)
        .await
        .unwrap());
    assert_eq!(fire_times(&pg).await, [T0]);
    let claims = retention_claims(&pg).await;
    assert_eq!(
        claims,
        [
            (day, "old-node".to_owned()),
            (day + 1, "new-node".to_owned())
        ]
    );
}

/// `backup` of PostgreSQL: an SQLite file holding the same rows (every
/// table compared by names, validators' times included), with exact counts
/// and a clean integrity check, written while a node commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_holds_what_postgres_holds() {
    let Some(db) = TestDb::create("backup").await else {
        return;
    };
    let (_, pg) = both(&db).await;
    for (i, now) in [T0 - 10 * 86_400, T0].into_iter().enumerate() {
        let mut b = batch("feed-c", "feed", Kind::Web, now, Vec::new());
        b.seen = vec![i as u64];
        b.validators.push((
            format!("https://feed.example/{i}.xml"),
            Validators {
                etag: Some(format!("\"{i}\"")),
                last_modified: None,
            },
        ));
        pg.commit(b).await.unwrap();
    }
    let rule = ExcludeTarget::Domain {
        domain: "h1.example".into(),
        topic: None,
    };
    pg.exclude(&rule, Some("test"), time(T0))
        .await
        .unwrap()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.db");
    // A node commits meanwhile: the copy is one snapshot, before or after it.
    let writer = tokio::spawn({
        let pg = pg.clone();
        async move {
            let late = batch(
                "feed-d",
                "feed",
                Kind::Web,
                T0 + 90 * 86_400,
                vec![web("nk", "late.example", "/1", Some(T0), 7)],
            );
            pg.commit(late).await.unwrap()
        }
    });
    let copy = pg.backup_into(&file).await.unwrap();
    writer.await.unwrap();
    assert_eq!(copy.integrity, Ok(()));
    let store = Store::open_existing(&file).unwrap();
    let late: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM mention WHERE host = 'late.example'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(copy.mentions, crawled(&pg).await - 1 + late as u64);
    if late == 1 {
        assert_same_contents(&store, &pg).await;
    }
    assert_counts_exact(&store);
    crate::store::headlines::register(&store.conn).unwrap();
    crate::store::headlines::exact::assert_headlines_exact(&store);
    // Taken again after the commit, it holds every row of PostgreSQL.
    let file = dir.path().join("again.db");
    pg.backup_into(&file).await.unwrap();
    let store = Store::open_existing(&file).unwrap();
    assert_same_contents(&store, &pg).await;
    assert_eq!(store.exclusions().unwrap(), pg.exclusions().await.unwrap());
}

/// Mentions stored in PostgreSQL.
async fn crawled(pg: &Postgres) -> u64 {
    let client = pg.client().await.unwrap();
    client
        .query_one("SELECT count(*) FROM mention", &[])
        .await
        .unwrap()
        .get::<_, i64>(0) as u64
}

/// Two nodes' daily retention at the same moment: one of them prunes and
/// reports what it removed, the other leaves the day to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_do_not_both_run_the_daily_retention() {
    let Some(db) = TestDb::create("daily retention").await else {
        return;
    };
    let (_, pg) = both(&db).await;
    let other = connect(&db).await;
    let settings = crate::config::Settings::parse(
        "[database]\nretention = \"1s\"\n\n[[topic]]\nname = \"nk\"\nquery = \"kursk\"\n",
        std::path::Path::new("config.toml"),
    )
    .unwrap();
    let (a, b) = tokio::join!(
        crate::cluster::daily_retention(&pg, "node-a", &settings, &|| true),
        crate::cluster::daily_retention(&other, "node-b", &settings, &|| true)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() ^ b.is_some(), "{a:?} {b:?}");
    let lines = a.or(b).unwrap();
    // Every mention dated before now went (T0 is in the past).
    assert!(lines[0].starts_with("mentions: "), "{lines:?}");
    assert!(!lines[0].starts_with("mentions: 0 "), "{lines:?}");
    let client = pg.client().await.unwrap();
    let old: i64 = client
        .query_one(
            "SELECT count(*) FROM mention WHERE at < extract(epoch FROM now())::bigint - 60",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(old, 0, "{lines:?}");
    drop(client);
    assert_pg_counts_exact(&pg).await;
    // Later the same day, neither runs it again.
    for node in [&pg, &other] {
        assert_eq!(
            crate::cluster::daily_retention(node, "node-c", &settings, &|| true)
                .await
                .unwrap(),
            None
        );
    }
}
