//! SQLite storage (SPEC §7): open with WAL and a busy timeout, apply the
//! numbered migrations embedded at build time, and write each source's crawl
//! — its new mentions and its state — in one transaction.

mod alerts;
mod backend;
mod backup;
mod counts;
mod exclusions;
mod headlines;
mod hosts;
mod listing;
mod mentions;
mod pool;
pub mod postgres;
mod reads;
mod retention;
mod rules;
mod shared;
mod stats;
mod unsaved;

pub use alerts::{FiredAlert, NewAlert, PendingDelivery};
pub use backend::Backend;
pub use backup::BackupCopy;
pub use exclusions::{domain_key, ExcludeTarget, Exclusion, ExclusionChange, RuleError};
pub use listing::{Explained, ListFilter, Listed, Sighting};
pub use mentions::{CommitStats, CrawlBatch, NewMention, Rule, SourceOutcome};
pub use pool::ReadPool;
pub use reads::{PgReader, Reads, Writes};
pub use retention::{Cutoff, Pruned, RetentionPlan};
#[cfg(test)]
pub(crate) use shared::hold_busy;
pub use shared::{commit, shared, with_reader, with_store, SharedStore, StoreCell};
pub use stats::{Bucket, KindCounts, Reference, SeriesPoint, SourceHealth, TopicFigures};
pub use unsaved::{Unsaved, UnsavedFailure};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements a connection keeps (see `Store::with_connection`).
const STATEMENT_CACHE: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {} does not exist; `mentions run`, `crawl` or `check` create it (check [database] path)", path.display())]
    Missing { path: PathBuf },
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database migration {name} failed: {source}")]
    Migrate {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("the database {} has schema version {found}, newer than this build knows ({known}); upgrade mentions", path.display())]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("cannot read the database {}: {detail}", path.display())]
    ReadOnly { path: PathBuf, detail: String },
    #[error("the database {} has schema version {found}; this build needs version {known} and cannot upgrade it ({detail}). Run `mentions check` once with write access to the database's folder", path.display())]
    Outdated {
        path: PathBuf,
        found: u32,
        known: u32,
        detail: String,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("a database task ended abnormally: {0}")]
    Task(String),
    /// PostgreSQL (`[database] url`); the message names `host:port/database`.
    #[error("{0}")]
    Postgres(#[from] postgres::PgError),
}

/// One connection to the mentions database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Crawl failures not written yet (see unsaved.rs).
    unsaved: Unsaved,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it:
    /// the connection that writes crawls (`crawl`, `run`, `check`).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open_with(path, OpenFlags::SQLITE_OPEN_CREATE)?;
        store
            .tune_for_writing()
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(store)
    }

    /// Page cache and checkpoint size of the writing connection. A crawl
    /// inserts into index pages all over the file (canonical URLs, hosts,
    /// fingerprint bands, headline keys, seen keys): with SQLite's default
    /// 2 MiB cache most of them are read from the file again for the next
    /// crawl, and with the default checkpoint every 1,000 pages (4 MiB) the
    /// same pages are copied back into the database, and the file synced,
    /// every few crawls. 16 MiB of cache and a checkpoint every 8,192 pages
    /// (a WAL of up to 32 MiB on disk then; 64 MiB with `PAGE_SIZE`) took a
    /// fifth off the store's CPU time per item (BENCHMARKS.md, "Pipeline and
    /// the SQLite limit"). The cache fills only as pages are used; readers
    /// keep SQLite's default.
    pub const WRITE_CACHE_KIB: i64 = 8 * 1024;
    pub const WRITE_CHECKPOINT_PAGES: i64 = 8192;

    /// The page size of a new database: 8 KiB instead of SQLite's 4 KiB. A
    /// mention row with its title and excerpt is 0.5–1 KiB, and a new
    /// mention inserts into a dozen B-trees: twice the entries per page
    /// means fewer page splits, fewer levels and fewer pages written to the
    /// WAL per commit. The store's CPU per item in the pipeline benchmark
    /// fell by about a tenth, the crawl got about 5 % faster (BENCHMARKS.md,
    /// "Pages of 8 KiB"). A database created before keeps its 4 KiB pages:
    /// SQLite cannot change the page size of a database in WAL mode.
    pub const PAGE_SIZE: i64 = 8192;

    fn tune_for_writing(&self) -> rusqlite::Result<()> {
        self.conn
            .pragma_update(None, "cache_size", -Store::WRITE_CACHE_KIB)?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", Store::WRITE_CHECKPOINT_PAGES)?;
        Ok(())
    }

    /// Sets the page cache of this connection to `kib` KiB (a bulk load,
    /// such as a benchmark building a large database, wants far more than
    /// a crawl's `WRITE_CACHE_KIB`; pages are allocated only as used).
    pub fn set_cache_kib(&self, kib: i64) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "cache_size", -kib)?;
        Ok(())
    }

    /// Opens the database at `path` for a command that reads it: a missing
    /// file is an error, never a new empty database (a mistyped path must
    /// not report zeros).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        Store::open_with(path, OpenFlags::empty())
    }

    fn open_with(path: &Path, create: OpenFlags) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | create | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Before WAL mode: only a database without pages takes a page size
        // (for any other this is a no-op, and it keeps its own).
        conn.pragma_update(None, "page_size", Store::PAGE_SIZE)
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let mut store = Store::with_connection(conn, path);
        store.migrate()?;
        Ok(store)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        let mut store = Store::with_connection(conn, Path::new(":memory:"));
        store.migrate()?;
        Ok(store)
    }

    fn with_connection(conn: Connection, path: &Path) -> Store {
        // rusqlite keeps 16 prepared statements by default, fewer than one
        // crawl's write uses (about 20): taken in the same order for every
        // crawl, each was evicted just before its next use and every crawl
        // prepared all of them again.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Store {
            conn,
            path: path.to_owned(),
            unsaved: Unsaved::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the database (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Applies the migrations this database has not seen, in one IMMEDIATE
    /// transaction so two processes starting together cannot both apply them.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        let current = self.schema_version()?;
        if current == known {
            return Ok(());
        }
        if current > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: current,
                known,
            });
        }
        // Migrations may compute what only Rust can (normalised titles).
        headlines::register(&self.conn)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-read inside the lock: another process may have migrated meanwhile.
        let current: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "user_version", version))
                .map_err(|source| StoreError::Migrate { name, source })?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stored validators for a URL a source fetches.
    pub fn validators(
        &self,
        source: &str,
        url: &str,
    ) -> Result<Option<crate::http::Validators>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT etag, last_modified FROM http_cache
                 JOIN source ON source.id = http_cache.source_id
                 WHERE source.name = ?1 AND url = ?2",
                (source, crate::secrets::mask(url)), // stored masked (`Store::commit`)
                |r| {
                    Ok(crate::http::Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Which of `keys` the source has already evaluated.
    pub fn seen(&self, source: &str, keys: &[u64]) -> Result<Vec<bool>, StoreError> {
        let Some(source_id) = self.source_id(source)? else {
            return Ok(vec![false; keys.len()]);
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM seen WHERE source_id = ?1 AND key = ?2")?;
        keys.iter()
            .map(|&k| Ok(stmt.exists((source_id, k as i64))?))
            .collect()
    }

    /// The stored cursor of a paged source.
    pub fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT cursor FROM source WHERE name = ?1", [source], |r| {
                r.get(0)
            })
            .optional()?
            .flatten())
    }

    fn source_id(&self, source: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM source WHERE name = ?1", [source], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when the answer is `ok`.
    pub fn integrity_check(&self) -> Result<Result<(), String>, StoreError> {
        self.check("integrity_check")
    }

    /// SQLite's `quick_check`: the faster test `mentions check` runs.
    pub fn quick_check(&self) -> Result<Result<(), String>, StoreError> {
        self.check("quick_check")
    }

    /// Runs a checking pragma; Err holds its first findings.
    fn check(&self, pragma: &str) -> Result<Result<(), String>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("PRAGMA {pragma}(5)"))?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(rows.join("; "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_new_database_and_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let store = Store::open(&path).unwrap();
        let known = MIGRATIONS.last().unwrap().0;
        assert_eq!(store.schema_version().unwrap(), known);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), known);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(store.integrity_check().unwrap(), Ok(()));
    }

    #[test]
    fn the_last_warning_is_the_last_crawls_and_holds_through_304() {
        let mut store = Store::open_in_memory().unwrap();
        let crawl = |warnings: &[&str], not_modified: bool| {
            let mut b = CrawlBatch::new("s", "feed", crate::sources::Kind::Web, chrono::Utc::now());
            b.warnings = warnings.iter().map(|w| (*w).to_owned()).collect();
            b.not_modified = not_modified;
            b
        };
        let warning = |store: &Store| store.source_health().unwrap()[0].last_warning.clone();
        store
            .commit(&crawl(&["2 of 9 items could not be read: x", "y"], false))
            .unwrap();
        assert_eq!(
            warning(&store).as_deref(),
            Some("2 of 9 items could not be read: x; y")
        );
        // Not modified: the document, and what was wrong with it, is the same.
        store.commit(&crawl(&[], true)).unwrap();
        assert_eq!(
            warning(&store).as_deref(),
            Some("2 of 9 items could not be read: x; y")
        );
        store.commit(&crawl(&[], false)).unwrap();
        assert_eq!(warning(&store), None);
    }

    #[test]
    fn refuses_a_database_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let store = Store::open(&path).unwrap();
        store.conn.pragma_update(None, "user_version", 999).unwrap();
        drop(store);
        let err = Store::open(&path).err().unwrap();
        assert!(err.to_string().contains("schema version 999"), "{err}");
    }

    fn page_size(store: &Store) -> i64 {
        store
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_new_database_has_8_kib_pages_and_an_older_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let crawl = |n: usize| {
            let mut b = CrawlBatch::new("s", "feed", crate::sources::Kind::Web, chrono::Utc::now());
            b.mentions = (0..n)
                .map(|i| NewMention {
                    topic: "t".into(),
                    kind: crate::sources::Kind::Web,
                    identity: format!("https://x.org/{i}"),
                    url: None,
                    host: Some("x.org".into()),
                    title: format!("title {i}"),
                    excerpt: "excerpt ".repeat(60),
                    author: None,
                    lang: None,
                    published: None,
                    simhash: (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    seen: None,
                })
                .collect();
            b
        };

        let new = dir.path().join("new.db");
        let mut store = Store::open(&new).unwrap();
        assert_eq!(page_size(&store), 8192);
        store.commit(&crawl(300)).unwrap();
        drop(store);
        let store = Store::open_existing(&new).unwrap();
        assert_eq!(page_size(&store), 8192);
        assert_eq!(store.integrity_check().unwrap(), Ok(()));

        // A database SQLite created with its default pages, in WAL mode, as
        // the builds before made them: opened, migrated and written as is.
        let old = dir.path().join("old.db");
        let conn = Connection::open(&old).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        assert_eq!(
            conn.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            4096
        );
        drop(conn);
        let mut store = Store::open(&old).unwrap();
        assert_eq!(page_size(&store), 4096);
        let stats = store.commit(&crawl(300)).unwrap();
        assert_eq!(stats.new, 300);
        assert_eq!(store.integrity_check().unwrap(), Ok(()));
    }
}

#[cfg(test)]
mod migration_tests {
    use super::*;

    #[test]
    fn version_3_carries_existing_mentions_into_the_count_tables() {
        let conn = Connection::open_in_memory().unwrap();
        for &(version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 <= 2) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO topic (id, name) VALUES (1, 'a');
             INSERT INTO source (id, name, type, kind) VALUES (1, 's', 'feed', 0), (2, 'm', 'mastodon', 1);
             INSERT INTO mention (topic_id, source_id, kind, identity, host, title, excerpt, first_seen, at, simhash) VALUES
               (1, 1, 0, 'https://x.org/1', 'x.org', 't', 'e', 0, 7200, -1),
               (1, 1, 0, 'https://x.org/2', 'x.org', 't', 'e', 0, 7300, 255),
               (1, 1, 0, 'https://y.org/1', 'y.org', 't', 'e', 0, -5, 3),
               (1, 2, 1, 'at://p/1', NULL, 't', 'e', 0, 90000, 9);",
        )
        .unwrap();
        let mut store = Store::with_connection(conn, Path::new(":memory:"));
        store.migrate().unwrap();
        let q = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(q("SELECT count(*) FROM simhash_band"), 12);
        // -1 is all ones: every band holds 65535.
        assert_eq!(
            q("SELECT count(*) FROM simhash_band WHERE simhash = -1 AND band % 65536 = 65535"),
            4
        );
        assert_eq!(q("SELECT sum(n) FROM count_source WHERE span = 3600"), 4);
        assert_eq!(q("SELECT sum(n) FROM count_source WHERE span = 5529600"), 4);
        assert_eq!(
            q("SELECT bucket FROM count_host WHERE span = 86400 AND n = 1"),
            -86_400
        );
        assert_eq!(
            q("SELECT first FROM count_host WHERE span = 3600 AND n = 2"),
            7200
        );
        assert_eq!(q("SELECT mentions FROM source WHERE id = 1"), 3);
        let from = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let to = chrono::DateTime::from_timestamp(100_000, 0).unwrap();
        let c = store.counts("a", from, to).unwrap();
        assert_eq!((c.web, c.social, c.forum), (2, 1, 0));
        let refs = store.references("a", from, to, 3).unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].mentions, 2);
    }

    #[test]
    fn version_12_keeps_every_headline_and_orders_a_key_by_time() {
        let conn = Connection::open_in_memory().unwrap();
        headlines::register(&conn).unwrap();
        for &(version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 <= 11) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO headline (topic_id, key, at, news, mention_id) VALUES
               (1, 7, 9000, 0, 3), (1, 7, 100, 1, 4), (1, 7, 5000, 0, 5), (2, 7, 1, 0, 6);",
        )
        .unwrap();
        let mut store = Store::with_connection(conn, Path::new(":memory:"));
        store.migrate().unwrap();
        let rows: Vec<(i64, i64, i64, i64, i64)> = store
            .conn
            .prepare("SELECT topic_id, key, at, news, mention_id FROM headline")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // In key order: by topic, key, then time.
        assert_eq!(
            rows,
            [
                (1, 7, 100, 1, 4),
                (1, 7, 5000, 0, 5),
                (1, 7, 9000, 0, 3),
                (2, 7, 1, 0, 6)
            ]
        );
    }

    #[test]
    fn version_6_carries_mentions_into_sightings_domains_and_fingerprints() {
        let conn = Connection::open_in_memory().unwrap();
        for &(version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 <= 5) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO topic (id, name) VALUES (1, 'a');
             INSERT INTO source (id, name, type, kind) VALUES (1, 's', 'feed', 0), (2, 'm', 'mastodon', 1);
             INSERT INTO host (id, name) VALUES (1, 'x.org');
             INSERT INTO mention (id, topic_id, source_id, kind, identity, url, host, title, excerpt, first_seen, at, simhash) VALUES
               (10, 1, 1, 0, 'https://x.org/1', NULL, 'x.org', 't', 'e', 0, 7200, 5),
               (11, 1, 2, 1, 'https://Chaos.Social/users/a/statuses/1', 'https://chaos.social/@a/1', NULL, 't', 'e', 0, 7300, 9),
               (12, 1, 2, 1, 'at://did:plc:x/post/1', NULL, NULL, 't', 'e', 0, 7300, 9);
             INSERT INTO simhash_band (topic_id, host_id, band, simhash) VALUES
               (1, 1, 5, 5), (1, 1, 65536, 5), (1, 1, 131072, 5), (1, 1, 196608, 5);",
        )
        .unwrap();
        let mut store = Store::with_connection(conn, Path::new(":memory:"));
        store.migrate().unwrap();
        let text =
            |sql: &str| -> Option<String> { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        // Platform mentions get their instance; web ones keep their host.
        assert_eq!(
            text("SELECT instance FROM mention WHERE id = 11").as_deref(),
            Some("chaos.social")
        );
        assert_eq!(text("SELECT instance FROM mention WHERE id = 12"), None);
        assert_eq!(text("SELECT instance FROM mention WHERE id = 10"), None);
        let n = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            n("SELECT count(*) FROM simhash_band WHERE mention_id = 10"),
            4
        );
        // Mentions stored before sightings say so; they all still count.
        assert_eq!(
            n("SELECT count(*) FROM mention WHERE sightings IS NULL AND excluded_by IS NULL"),
            3
        );
        let x = store.explain(10).unwrap().unwrap();
        assert_eq!(x.mention.sightings, None);
        assert_eq!(x.sightings.len(), 1);
        assert_eq!(x.sightings[0].rule, Rule::First);
    }
}
