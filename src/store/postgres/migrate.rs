//! Applies `migrations/postgres/NNNN_*.sql`, embedded at build time, in one
//! transaction under a transaction-scoped advisory lock, so daemons starting
//! together apply each migration once and none sees a half-made schema.
//! The version is recorded in `schema_version`, one row per migration.
//!
//! build.rs asserts that PostgreSQL has a file for every SQLite migration
//! number. The SQLite migrations that carry data (0003 counts and bands,
//! 0006 instances and fingerprint owners, 0008 headline keys computed in
//! Rust) have nothing to carry on PostgreSQL: a PostgreSQL database is new
//! when they run, and `mentions migrate` fills it from an SQLite database
//! that is already at the current schema. So PostgreSQL starts at the
//! current schema's meaning, and its files hold the schema only.

use super::connect::chain;
use super::{PgError, PgTarget};
use deadpool_postgres::GenericClient;

include!(concat!(env!("OUT_DIR"), "/postgres_migrations.rs"));

/// The advisory lock key migrations take: "mentions" in ASCII.
pub const MIGRATION_LOCK: i64 = i64::from_be_bytes(*b"mentions");

/// The schema version this build creates.
pub const KNOWN_VERSION: u32 = PG_MIGRATIONS[PG_MIGRATIONS.len() - 1].0;

/// Applies the migrations the database has not seen; refuses a database
/// that a newer build migrated.
pub(super) async fn apply(
    client: &mut deadpool_postgres::Object,
    target: &PgTarget,
) -> Result<(), PgError> {
    let query_err = |e: tokio_postgres::Error| PgError::Query {
        target: target.describe(),
        detail: target.scrub(&chain(&e)),
    };
    let tx = client.transaction().await.map_err(query_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(query_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at BIGINT NOT NULL
         )",
    )
    .await
    .map_err(query_err)?;
    let current = version_in(&tx).await.map_err(query_err)?;
    if current > KNOWN_VERSION {
        return Err(PgError::TooNew {
            target: target.describe(),
            found: current,
            known: KNOWN_VERSION,
        });
    }
    for &(version, name, sql) in PG_MIGRATIONS.iter().filter(|m| m.0 > current) {
        let migrate_err = |e: tokio_postgres::Error| PgError::Migrate {
            target: target.describe(),
            name,
            detail: target.scrub(&chain(&e)),
        };
        tx.batch_execute(sql).await.map_err(migrate_err)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at)
             VALUES ($1, $2, floor(extract(epoch FROM clock_timestamp()))::bigint)",
            &[&i64::from(version), &name],
        )
        .await
        .map_err(migrate_err)?;
    }
    tx.commit().await.map_err(query_err)?;
    Ok(())
}

async fn version_in(client: &impl GenericClient) -> Result<u32, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?;
    let v: i64 = row.get(0);
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

/// The schema version recorded in the database (0 before any migration).
pub async fn schema_version(pg: &super::Postgres) -> Result<u32, PgError> {
    let client = pg.client().await?;
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(|e| pg.query_error(e))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    version_in(&client).await.map_err(|e| pg.query_error(e))
}

#[cfg(test)]
mod tests {
    use super::super::testdb::TestDb;
    use super::super::Postgres;
    use super::*;
    use std::collections::BTreeSet;

    async fn connect(db: &TestDb) -> Result<Postgres, PgError> {
        Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2).await
    }

    /// (version, name) rows of schema_version.
    async fn recorded(pg: &Postgres) -> Vec<(i64, String, i64)> {
        let c = pg.client().await.unwrap();
        c.query(
            "SELECT version, name, applied_at FROM schema_version ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    }

    #[tokio::test]
    async fn applies_every_migration_and_records_it_once() {
        let Some(db) = TestDb::create("migrations").await else {
            return;
        };
        let pg = connect(&db).await.unwrap();
        assert_eq!(KNOWN_VERSION, 13);
        assert_eq!(schema_version(&pg).await.unwrap(), 13);
        let rows = recorded(&pg).await;
        let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            names,
            [
                "0001_init.sql",
                "0002_alerts.sql",
                "0003_counts_and_bands.sql",
                "0004_retention.sql",
                "0005_undated.sql",
                "0006_sightings.sql",
                "0007_source_warning.sql",
                "0008_headlines.sql",
                "0009_host_memory.sql",
                "0010_writer.sql",
                "0011_report_index.sql",
                "0012_headline_by_time.sql",
                "0013_bookkeeping_by_key.sql"
            ]
        );
        // A second start changes nothing.
        drop(pg);
        let pg = connect(&db).await.unwrap();
        assert_eq!(recorded(&pg).await, rows);
    }

    #[tokio::test]
    async fn concurrent_first_starts_all_succeed_and_apply_once() {
        let Some(db) = TestDb::create("concurrent migrations").await else {
            return;
        };
        let target = PgTarget::parse(db.url()).unwrap();
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let target = target.clone();
                tokio::spawn(async move { Postgres::connect(&target, 1).await.map(|_| ()) })
            })
            .collect();
        for start in starts {
            start.await.unwrap().unwrap();
        }
        let pg = connect(&db).await.unwrap();
        let rows = recorded(&pg).await;
        assert_eq!(rows.len(), KNOWN_VERSION as usize);
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            (1..=i64::from(KNOWN_VERSION)).collect::<Vec<i64>>()
        );
    }

    #[tokio::test]
    async fn refuses_a_database_a_newer_build_migrated() {
        let Some(db) = TestDb::create("too new").await else {
            return;
        };
        let pg = connect(&db).await.unwrap();
        pg.client()
            .await
            .unwrap()
            .execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, 'future.sql', 0)",
                &[&(i64::from(KNOWN_VERSION) + 1)],
            )
            .await
            .unwrap();
        let err = connect(&db).await.err().unwrap();
        let (found, known) = (KNOWN_VERSION + 1, KNOWN_VERSION);
        assert!(
            matches!(err, PgError::TooNew { found: f, known: k, .. } if (f, k) == (found, known)),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "schema version {found}, newer than this build knows ({known})"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("/{}", db.name())), "{text}");
    }

    /// Every SQLite table, column and index (unique and partial alike) has
    /// its PostgreSQL twin.
    #[tokio::test]
    async fn mirrors_the_sqlite_schema() {
        let Some(db) = TestDb::create("schema mirror").await else {
            return;
        };
        let pg = connect(&db).await.unwrap();
        let sqlite = crate::store::Store::open_in_memory().unwrap();
        let lite_columns: BTreeSet<(String, String)> = sqlite
            .conn
            .prepare(
                "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // (name, unique, partial) of each index written in a migration.
        let lite_indexes: BTreeSet<(String, bool, bool)> = sqlite
            .conn
            .prepare(
                "SELECT name, sql LIKE 'CREATE UNIQUE%', sql LIKE '% WHERE %'
                 FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let c = pg.client().await.unwrap();
        let pg_columns: BTreeSet<(String, String)> = c
            .query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema()",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let pg_indexes: BTreeSet<(String, bool, bool)> = c
            .query(
                "SELECT indexname::text, indexdef LIKE 'CREATE UNIQUE%', indexdef LIKE '% WHERE %'
                 FROM pg_indexes WHERE schemaname = current_schema()",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let missing: Vec<_> = lite_columns.difference(&pg_columns).collect();
        assert!(
            missing.is_empty(),
            "columns missing on PostgreSQL: {missing:?}"
        );
        let extra: BTreeSet<_> = pg_columns
            .difference(&lite_columns)
            .map(|(t, c)| format!("{t}.{c}"))
            .collect();
        let expected_extra: BTreeSet<String> = [
            "schema_version.version",
            "schema_version.name",
            "schema_version.applied_at",
            "source.node",
            "source_lease.source_id",
            "source_lease.node",
            "source_lease.acquired_at",
            "source_lease.expires_at",
            "source_fire.source_id",
            "source_fire.fire_at",
            "source_fire.node",
            "source_fire.claimed_at",
            "retention_claim.day",
            "retention_claim.node",
            "retention_claim.claimed_at",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(extra, expected_extra);
        let missing: Vec<_> = lite_indexes.difference(&pg_indexes).collect();
        assert!(
            missing.is_empty(),
            "indexes missing on PostgreSQL: {missing:?}"
        );
        assert_eq!(lite_indexes.len(), 9, "{lite_indexes:?}");
    }

    /// SQLite's triggers, as PostgreSQL triggers: a validator's time is its
    /// source's last run; a copy (mentions.copying) keeps rows as they are.
    /// No trigger on `mention` is left (the writer checks retention's
    /// cutoff itself, as on SQLite since migration 0010).
    #[tokio::test]
    async fn triggers_behave_as_sqlites() {
        let Some(db) = TestDb::create("triggers").await else {
            return;
        };
        let pg = connect(&db).await.unwrap();
        let mut c = pg.client().await.unwrap();
        c.batch_execute(
            "INSERT INTO topic (id, name) VALUES (1, 'a');
             INSERT INTO source (id, name, type, kind, last_run) VALUES (1, 's', 'feed', 0, 5000);
             INSERT INTO http_cache (source_id, url, etag) VALUES (1, 'https://x.org/feed', '\"1\"');
             UPDATE source SET last_run = 6000;
             INSERT INTO http_cache (source_id, url, etag, stored_at) VALUES (1, 'https://x.org/2', NULL, 7);",
        )
        .await
        .unwrap();
        let stored = |rows: Vec<tokio_postgres::Row>| -> Vec<(String, i64)> {
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        };
        let q = "SELECT url, stored_at FROM http_cache ORDER BY url";
        assert_eq!(
            stored(c.query(q, &[]).await.unwrap()),
            [
                ("https://x.org/2".to_owned(), 6000),
                ("https://x.org/feed".to_owned(), 5000)
            ]
        );
        c.execute(
            "UPDATE http_cache SET etag = '\"2\"' WHERE url = 'https://x.org/feed'",
            &[],
        )
        .await
        .unwrap();
        assert_eq!(stored(c.query(q, &[]).await.unwrap())[1].1, 6000);
        let mention_triggers: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'mention'::regclass AND NOT tgisinternal",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(mention_triggers, 0);
        let tx = c.transaction().await.unwrap();
        tx.batch_execute(
            "SET LOCAL mentions.copying = 'on';
             INSERT INTO http_cache (source_id, url, stored_at) VALUES (1, 'https://x.org/3', 42);
             INSERT INTO mention (id, topic_id, source_id, kind, identity, title, excerpt, first_seen, at, simhash)
             VALUES (3, 1, 1, 0, 'https://x.org/copied', 't', 'e', 5, 5, 0);",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let row = c
            .query_one(
                "SELECT (SELECT stored_at FROM http_cache WHERE url = 'https://x.org/3'),
                        (SELECT count(*) FROM mention WHERE id = 3)",
                &[],
            )
            .await
            .unwrap();
        assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (42, 1));
    }
}
