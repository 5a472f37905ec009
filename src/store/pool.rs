//! A small pool of read-only connections for the HTTP endpoint: a burst of
//! clients waits for one of a few connections instead of opening one each
//! (which ran the process out of file descriptors), and a reader can never
//! write or create the database.

use super::{Store, StoreError};
use rusqlite::OpenFlags;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Read-only connections to one database, opened on first use; cheap to clone.
#[derive(Clone)]
pub struct ReadPool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    permits: Semaphore,
}

impl ReadPool {
    /// A pool of at most `size` connections to the database at `path`.
    pub fn new(path: &Path, size: usize) -> ReadPool {
        ReadPool {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(size.max(1)),
            }),
        }
    }

    /// Runs `read` on a pooled connection off the async threads, waiting
    /// for a free connection when all are busy.
    pub async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
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
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(super::BUSY_TIMEOUT).map_err(open_err)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_share_a_few_connections_and_never_create_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let missing = ReadPool::new(&dir.path().join("none.db"), 2);
        let err = missing.read(|s| s.schema_version()).await.unwrap_err();
        assert!(matches!(err, StoreError::Missing { .. }), "{err}");
        assert!(!dir.path().join("none.db").exists());

        let path = dir.path().join("m.db");
        let version = Store::open(&path).unwrap().schema_version().unwrap();
        let pool = ReadPool::new(&path, 2);
        let reads: Vec<_> = (0..20)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.read(|s| s.schema_version()).await })
            })
            .collect();
        for r in reads {
            assert_eq!(r.await.unwrap().unwrap(), version);
        }
        assert!(pool.inner.idle.lock().unwrap().len() <= 2);
        // Read-only: a write is refused.
        let refused = pool
            .read(|s| Ok(s.conn.execute_batch("CREATE TABLE x (a)")))
            .await
            .unwrap();
        assert!(refused.is_err());
    }
}
