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
