//! PostgreSQL as the store several daemons share (`[database] url`):
//! the connection (`connect.rs`: a `postgres://` URL and a pool, messages
//! that never show the password; `tls.rs`: `sslmode` over rustls), the
//! schema (`migrations/postgres/`,
//! applied by `migrate.rs` under an advisory lock), the leases that let
//! several nodes share the sources (`lease.rs`), the copy of an SQLite
//! database into PostgreSQL (`copy.rs`, `mentions migrate`), the write
//! path of a crawl (`commit.rs`: `Postgres::commit`, the same as
//! `Store::commit` and exact while several nodes commit at once) and what
//! a crawl reads before it (`state.rs`), alerts (`alerts.rs`), and the
//! reads behind `report`, `list`, `explain`, `exclusions`, `sources` and
//! the server (`read.rs`, `listing.rs`, behind `store::Reads` through
//! `PgReader`), exclusions (`exclusions.rs`: `exclude` and `include`,
//! exact against concurrent commits through the exclusion table's lock)
//! with the count tables they move (`counts.rs`), and retention
//! (`retention.rs`: `prune` and the cluster's daily retention, claimed by
//! one node a day), and the copy of the database into an SQLite file
//! (`backup.rs`, `mentions backup`). Every command but `migrate` (which
//! fills PostgreSQL from SQLite) runs on it.

mod alerts;
mod backup;
mod commit;
mod connect;
mod copy;
mod counts;
mod exclusions;
mod hosts;
mod lease;
mod listing;
mod migrate;
#[cfg(test)]
pub(crate) mod parity;
mod read;
#[cfg(test)]
mod read_tests;
mod retention;
mod state;
#[cfg(test)]
pub(crate) mod testdb;
mod tls;
#[cfg(test)]
mod write_tests;

pub use connect::{PgTarget, Postgres};
pub use copy::{copy_from_sqlite, CopyError, TableCount, TABLES};
pub use lease::Claimed;
pub use migrate::{schema_version, KNOWN_VERSION, MIGRATION_LOCK};
pub use tls::{SslMode, TlsSettings};

/// What went wrong with PostgreSQL. Messages name the server as
/// `host:port/database`, never the password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to PostgreSQL at {target}: {detail}")]
    Unreachable { target: String, detail: String },
    #[error("PostgreSQL at {target}: migration {name} failed: {detail}")]
    Migrate {
        target: String,
        name: &'static str,
        detail: String,
    },
    #[error("the PostgreSQL database {target} has schema version {found}, newer than this build knows ({known}); upgrade mentions")]
    TooNew {
        target: String,
        found: u32,
        known: u32,
    },
    #[error("PostgreSQL at {target}: {detail}")]
    Query { target: String, detail: String },
}

impl PgError {
    /// The server could not be reached (at start, the process exits 3 naming the host).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, PgError::Unreachable { .. })
    }
}
