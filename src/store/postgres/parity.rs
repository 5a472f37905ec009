//! For tests: what an SQLite store and a PostgreSQL database hold, read
//! the same way from both (ids replaced by the names and identities they
//! stand for), so that a test can assert the two backends wrote the same
//! thing. Also the PostgreSQL count tables checked against counting rows.

use super::Postgres;
use crate::store::Store;
use rusqlite::types::ValueRef;
use tokio_postgres::types::Type;

/// A cell as both backends give it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// Each logical table: its name and a query valid in both dialects,
/// returning only integers and text.
const TABLES: &[(&str, &str)] = &[
    (
        "source",
        "SELECT name, type, kind, cursor, last_run, last_success, last_error,
                consecutive_failures, mentions, last_warning
         FROM source",
    ),
    (
        "mention",
        "SELECT t.name, s.name, m.kind, m.identity, m.url, m.host, m.title, m.excerpt, m.author,
                m.lang, m.published_at, m.first_seen, m.at, m.simhash, m.sightings, m.instance,
                (SELECT x.what || ':' || coalesce(x.domain, x.author, '') FROM exclusion x
                 WHERE x.id = m.excluded_by)
         FROM mention m JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = m.source_id",
    ),
    (
        "sighting",
        "SELECT t.name, m.identity, s.name, g.form, g.seen_at, g.rule, g.detail, g.url
         FROM sighting g JOIN mention m ON m.id = g.mention_id
         JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = g.source_id",
    ),
    (
        "count_source",
        "SELECT t.name, c.span, c.bucket, s.name, c.kind, c.n
         FROM count_source c JOIN topic t ON t.id = c.topic_id JOIN source s ON s.id = c.source_id",
    ),
    (
        "count_host",
        "SELECT t.name, c.span, c.bucket, h.name, c.n, c.first
         FROM count_host c JOIN topic t ON t.id = c.topic_id JOIN host h ON h.id = c.host_id",
    ),
    (
        "simhash_band",
        "SELECT t.name, h.name, b.band, b.simhash, m.identity
         FROM simhash_band b JOIN topic t ON t.id = b.topic_id JOIN host h ON h.id = b.host_id
         LEFT JOIN mention m ON m.id = b.mention_id",
    ),
    (
        "headline",
        "SELECT t.name, l.key, l.at, l.news, m.identity
         FROM headline l JOIN topic t ON t.id = l.topic_id JOIN mention m ON m.id = l.mention_id",
    ),
    (
        "seen",
        "SELECT s.name, k.key, k.first_seen FROM seen k JOIN source s ON s.id = k.source_id",
    ),
    (
        "http_cache",
        "SELECT s.name, c.url, c.etag, c.last_modified, c.stored_at
         FROM http_cache c JOIN source s ON s.id = c.source_id",
    ),
];

/// Every logical table's rows, sorted (in Rust: the two backends collate
/// text differently).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Contents {
    pub tables: Vec<(&'static str, Vec<Vec<Cell>>)>,
}

impl Contents {
    pub(crate) fn sqlite(store: &Store) -> Contents {
        let mut tables = Vec::new();
        for &(name, sql) in TABLES {
            let mut stmt = store.conn.prepare(sql).unwrap();
            let width = stmt.column_count();
            let mut rows: Vec<Vec<Cell>> = stmt
                .query_map([], |r| {
                    (0..width)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                ValueRef::Null => Cell::Null,
                                ValueRef::Integer(n) => Cell::Int(n),
                                ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into()),
                                other => panic!("{name}: column {i} is {other:?}"),
                            })
                        })
                        .collect()
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            tables.push((name, rows));
        }
        Contents { tables }
    }

    pub(crate) async fn postgres(pg: &Postgres) -> Contents {
        let client = pg.client().await.unwrap();
        let mut tables = Vec::new();
        for &(name, sql) in TABLES {
            let mut rows: Vec<Vec<Cell>> = client
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| match *r.columns()[i].type_() {
                            Type::INT8 => r.get::<_, Option<i64>>(i).map_or(Cell::Null, Cell::Int),
                            Type::TEXT => {
                                r.get::<_, Option<String>>(i).map_or(Cell::Null, Cell::Text)
                            }
                            ref other => panic!("{name}: column {i} is {other}"),
                        })
                        .collect()
                })
                .collect();
            rows.sort();
            tables.push((name, rows));
        }
        Contents { tables }
    }

    /// Rows of one table.
    pub(crate) fn table(&self, name: &str) -> &[Vec<Cell>] {
        &self
            .tables
            .iter()
            .find(|t| t.0 == name)
            .unwrap_or_else(|| panic!("no table {name}"))
            .1
    }
}

/// Asserts that the two backends hold the same, table by table.
pub(crate) async fn assert_same_contents(store: &Store, pg: &Postgres) -> Contents {
    let sqlite = Contents::sqlite(store);
    let postgres = Contents::postgres(pg).await;
    for ((name, a), (_, b)) in sqlite.tables.iter().zip(&postgres.tables) {
        let only_sqlite: Vec<_> = a.iter().filter(|r| !b.contains(r)).collect();
        let only_postgres: Vec<_> = b.iter().filter(|r| !a.contains(r)).collect();
        assert!(
            a == b,
            "table {name}: the backends differ ({} and {} rows)\n  only in SQLite: {only_sqlite:?}\n  only in PostgreSQL: {only_postgres:?}",
            a.len(),
            b.len()
        );
    }
    postgres
}

/// Every PostgreSQL count table (and `simhash_band`, `source.mentions`)
/// equals what a direct count of the mentions gives.
pub(crate) async fn assert_pg_counts_exact(pg: &Postgres) {
    let client = pg.client().await.unwrap();
    let spans = "(VALUES (3600::bigint), (86400), (691200), (5529600)) AS s(span)";
    let direct_source = format!(
        "SELECT topic_id, s.span, at - ((at % s.span) + s.span) % s.span AS b, source_id, kind, count(*)
         FROM mention CROSS JOIN {spans} WHERE excluded_by IS NULL
         GROUP BY topic_id, s.span, b, source_id, kind"
    );
    let direct_host = format!(
        "SELECT m.topic_id, s.span, m.at - ((m.at % s.span) + s.span) % s.span AS b, h.id, count(*), min(m.at)
         FROM mention m JOIN host h ON h.name = m.host CROSS JOIN {spans}
         WHERE m.kind = 0 AND m.excluded_by IS NULL GROUP BY m.topic_id, s.span, b, h.id"
    );
    let direct_bands = "SELECT m.topic_id, h.id, p.n * 65536 + ((m.simhash >> (16 * p.n)) & 65535), m.simhash, m.id
         FROM mention m JOIN host h ON h.name = m.host
         CROSS JOIN (VALUES (0), (1), (2), (3)) AS p(n)";
    for (stored, direct) in [
        (
            "SELECT topic_id, span, bucket, source_id, kind, n FROM count_source",
            direct_source.as_str(),
        ),
        (
            "SELECT topic_id, span, bucket, host_id, n, first FROM count_host",
            direct_host.as_str(),
        ),
        (
            "SELECT topic_id, host_id, band, simhash, mention_id FROM simhash_band",
            direct_bands,
        ),
    ] {
        for (a, b) in [(stored, direct), (direct, stored)] {
            let differ: i64 = client
                .query_one(&format!("SELECT count(*) FROM ({a} EXCEPT {b}) d"), &[])
                .await
                .unwrap()
                .get(0);
            assert_eq!(differ, 0, "{a}\n  has rows not in\n{b}");
        }
    }
    let off: i64 = client
        .query_one(
            "SELECT count(*) FROM source
             WHERE mentions != (SELECT count(*) FROM mention
                                WHERE source_id = source.id AND excluded_by IS NULL)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(off, 0, "source.mentions differs from counting the mentions");
}

/// How many sessions of the database `client` is connected to wait for a
/// lock now (read outside any transaction of `client`'s: inside one,
/// `pg_stat_activity` answers from its first snapshot).
pub(crate) async fn lock_waiters(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}
