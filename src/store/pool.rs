//! Read-only connections: a small pool of them for the HTTP endpoint (a
//! burst of clients waits for one of a few connections instead of opening
//! one each, which ran the process out of file descriptors) and for a
//! crawl's reads beside the writer (`shared::with_reader`), and the one
//! the reading commands open. A reader can never write or create the
//! database, and it reads in a read-only folder too.

use super::postgres::{PgTarget, Postgres};
use super::{PgReader, Reads, Store, StoreError};
use rusqlite::OpenFlags;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Read-only connections to one database, opened on first use; cheap to
/// clone. The SQLite file's, or (`[database] url`) a pool of PostgreSQL
/// connections, connected at the first read (and again at the next read
/// after a failure to connect, so a server that starts before its
/// database does not stay broken).
#[derive(Clone)]
pub struct ReadPool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    permits: Semaphore,
    postgres: Option<PgPool>,
}

struct PgPool {
    target: PgTarget,
    size: usize,
    connected: tokio::sync::OnceCell<Postgres>,
}

impl ReadPool {
    /// A pool of at most `size` connections to the database at `path`.
    pub fn new(path: &Path, size: usize) -> ReadPool {
        ReadPool {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(size.max(1)),
                postgres: None,
            }),
        }
    }

    /// A pool of at most `size` connections to the PostgreSQL database `target`.
    pub fn postgres(target: &PgTarget, size: usize) -> ReadPool {
        ReadPool {
            inner: Arc::new(Inner {
                path: PathBuf::new(),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(size.max(1)),
                postgres: Some(PgPool {
                    target: target.clone(),
                    size: size.max(1),
                    connected: tokio::sync::OnceCell::new(),
                }),
            }),
        }
    }

    /// The pool a server of `settings` reads through.
    pub fn for_settings(settings: &crate::config::Settings, size: usize) -> ReadPool {
        match &settings.postgres {
            Some(target) => ReadPool::postgres(target, size),
            None => ReadPool::new(&settings.database, size),
        }
    }

    /// Runs `read` on a pooled connection off the async threads, waiting
    /// for a free connection when all are busy.
    pub async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Reads) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(pg) = &self.inner.postgres else {
            return self.read_sqlite(move |store| read(store)).await;
        };
        let _permit = self.permit().await?;
        let postgres = pg
            .connected
            .get_or_try_init(|| Postgres::connect(&pg.target, pg.size))
            .await?
            .clone();
        let handle = tokio::runtime::Handle::current();
        // The reads block (as SQLite's do): on a blocking thread, waiting
        // on this runtime, which drives the connections.
        tokio::task::spawn_blocking(move || read(&PgReader::on(postgres, handle)))
            .await
            .unwrap_or_else(|join| Err(StoreError::Task(join.to_string())))
    }

    /// One of the pool's connections to use, waited for when all are busy.
    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        self.inner
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))
    }

    /// `read` on a pooled SQLite connection (also the crawl's reads beside
    /// the writer: `shared::with_reader`).
    pub(super) async fn read_sqlite<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self.permit().await?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let store = match pooled {
                Some(store) => store,
                None => Store::open_read_only(&inner.path)?,
            };
            let result = read(&store);
            // A connection that failed may be broken (file gone): open afresh next time.
            if result.is_ok() {
                inner
                    .idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(store);
            }
            result
        })
        .await
        .unwrap_or_else(|join| Err(StoreError::Task(join.to_string())))
    }
}

impl Store {
    /// Opens an existing database read-only, without migrating it.
    ///
    /// A WAL database is read through its `-wal` and `-shm` files. When the
    /// folder is read-only (a read-only mount, a backup volume) and no
    /// writer has them open, SQLite cannot create them; the database is then
    /// read as `immutable`, which is exact because no `-wal` file holds
    /// newer pages. With a writer at work, its `-wal` and `-shm` are read
    /// as they are.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        // A writer creates its `-wal` before its `-shm` when it opens the
        // database and removes them in the other order when it closes it:
        // for a moment the log exists without the index a read-only reader
        // needs. That passes; a log left behind by a writer that died does
        // not, and is reported once this wait is over.
        let started = std::time::Instant::now();
        loop {
            match open_read_only_once(path) {
                Err(OpenReadOnly::WalUnreadable(_)) if started.elapsed() < WAL_SETTLE => {
                    std::thread::sleep(WAL_SETTLE_STEP);
                }
                Err(OpenReadOnly::WalUnreadable(e) | OpenReadOnly::Failed(e)) => return Err(e),
                Ok(store) => return Ok(store),
            }
        }
    }

    /// Opens the existing database for a command that only reads (`report`,
    /// `sources`, `alerts`, `backup`): read-only, so that a read-only folder
    /// is no obstacle and a reader never writes. A database whose schema
    /// is older than this build is migrated first, which needs write access.
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open_read_only(path)?;
        let found = store.schema_version()?;
        let known = super::MIGRATIONS.last().map_or(0, |m| m.0);
        if found > known {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found,
                known,
            });
        }
        if found == known {
            return Ok(store);
        }
        drop(store);
        Store::open_existing(path).map_err(|e| StoreError::Outdated {
            path: path.to_owned(),
            found,
            known,
            detail: e.to_string(),
        })?;
        Store::open_read_only(path)
    }
}

/// How long a reader waits for a write-ahead log without its index to
/// settle (a writer opening or closing the database) before reporting it.
const WAL_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);
const WAL_SETTLE_STEP: std::time::Duration = std::time::Duration::from_millis(20);

/// Why one attempt of [`Store::open_read_only`] failed.
enum OpenReadOnly {
    /// The `-wal` exists but SQLite cannot open it read-only (no `-shm`).
    WalUnreadable(StoreError),
    Failed(StoreError),
}

/// One attempt of [`Store::open_read_only`].
fn open_read_only_once(path: &Path) -> Result<Store, OpenReadOnly> {
    let open_err = |source| {
        OpenReadOnly::Failed(StoreError::Open {
            path: path.to_owned(),
            source,
        })
    };
    let conn = read_only_connection(path, false).map_err(open_err)?;
    // The first read opens the WAL index; that is where a read-only folder shows.
    let cannot_open = match conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0)) {
        Ok(_) => return Ok(Store::with_connection(conn, path)),
        Err(e) => e,
    };
    drop(conn);
    let wal = wal_path(path);
    let is_cannot_open = matches!(
        cannot_open.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen)
    );
    if wal.exists() {
        let error = StoreError::ReadOnly {
            path: path.to_owned(),
            detail: format!(
                "{cannot_open} (its write-ahead log {} exists but cannot be read; let `mentions run` or `check` open it once with write access)",
                wal.display()
            ),
        };
        return Err(if is_cannot_open {
            OpenReadOnly::WalUnreadable(error)
        } else {
            OpenReadOnly::Failed(error)
        });
    }
    if !is_cannot_open {
        return Err(OpenReadOnly::Failed(StoreError::ReadOnly {
            path: path.to_owned(),
            detail: cannot_open.to_string(),
        }));
    }
    let conn = read_only_connection(path, true).map_err(open_err)?;
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
        .map_err(|e| {
            OpenReadOnly::Failed(StoreError::ReadOnly {
                path: path.to_owned(),
                detail: e.to_string(),
            })
        })?;
    tracing::debug!(
        "{} is in a read-only folder without a write-ahead log; reading it as immutable",
        path.display()
    );
    Ok(Store::with_connection(conn, path))
}

/// A read-only connection; `immutable` tells SQLite nothing changes the file.
fn read_only_connection(path: &Path, immutable: bool) -> rusqlite::Result<rusqlite::Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        let absolute = std::fs::canonicalize(path)
            .map_err(|_| rusqlite::Error::InvalidPath(path.to_owned()))?;
        let url = url::Url::from_file_path(&absolute)
            .map_err(|()| rusqlite::Error::InvalidPath(path.to_owned()))?;
        rusqlite::Connection::open_with_flags(
            format!("{url}?immutable=1"),
            flags | OpenFlags::SQLITE_OPEN_URI,
        )?
    } else {
        rusqlite::Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    Ok(conn)
}

/// The write-ahead log beside a database: `NAME-wal`.
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_upgrades_an_older_schema_then_reads_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        // 0008 computes headline keys with a function registered while migrating.
        super::super::headlines::register(&conn).unwrap();
        let (older, _) = super::super::MIGRATIONS.split_at(super::super::MIGRATIONS.len() - 1);
        for &(version, _, sql) in older {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
        }
        drop(conn);
        let store = Store::open_reader(&path).unwrap();
        let known = super::super::MIGRATIONS.last().unwrap().0;
        assert_eq!(store.schema_version().unwrap(), known);
        assert!(store.conn.execute_batch("CREATE TABLE x (a)").is_err());
        assert!(store.source_health().unwrap().is_empty());
    }

    #[tokio::test]
    async fn reads_share_a_few_connections_and_never_create_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let missing = ReadPool::new(&dir.path().join("none.db"), 2);
        let err = missing
            .read_sqlite(|s| s.schema_version())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Missing { .. }), "{err}");
        assert!(!dir.path().join("none.db").exists());

        let path = dir.path().join("m.db");
        let version = Store::open(&path).unwrap().schema_version().unwrap();
        let pool = ReadPool::new(&path, 2);
        let reads: Vec<_> = (0..20)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.read_sqlite(|s| s.schema_version()).await })
            })
            .collect();
        for r in reads {
            assert_eq!(r.await.unwrap().unwrap(), version);
        }
        assert!(pool.inner.idle.lock().unwrap().len() <= 2);
        // Read-only: a write is refused.
        let refused = pool
            .read_sqlite(|s| Ok(s.conn.execute_batch("CREATE TABLE x (a)")))
            .await
            .unwrap();
        assert!(refused.is_err());
    }

    /// A pool on a PostgreSQL server that is not there: each read fails
    /// (the server answers 503) naming host:port/database, never the
    /// password, and a later read tries to connect again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_postgres_pool_that_cannot_connect_fails_each_read_and_tries_again() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let target =
            PgTarget::parse(&format!("postgres://app:S3cret-pw@127.0.0.1:{port}/shared")).unwrap();
        let pool = ReadPool::postgres(&target, 2);
        for _ in 0..2 {
            let err = pool.read(|r| r.source_health()).await.unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(&err, StoreError::Postgres(e) if e.is_unreachable()),
                "{text}"
            );
            assert!(text.contains(&format!("127.0.0.1:{port}/shared")), "{text}");
            assert!(!text.contains("S3cret-pw"), "{text}");
        }
        assert!(pool
            .inner
            .postgres
            .as_ref()
            .unwrap()
            .connected
            .get()
            .is_none());
    }
}
