//! The one database connection a process shares between its async tasks
//! (crawls, alert checks), and the one way to use it from async code: on a
//! blocking thread, so SQLite never stalls the runtime. Crawls that finish
//! while another is being written wait together and are written in one
//! transaction (group commit, see `commit`). What a crawl reads before it
//! commits (seen keys, validators, its cursor, robots.txt and back-offs)
//! goes through read-only connections of their own (`with_reader`), so it
//! never waits for the writer's transaction: with WAL a reader sees the
//! last committed state while the writer writes.

use super::{CommitStats, CrawlBatch, ReadPool, Store, StoreError};
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The database connection shared by the tasks of one process.
pub type SharedStore = Arc<StoreCell>;

/// A crawl waiting to be written, and where its answer goes.
type Waiting = (CrawlBatch, oneshot::Sender<Result<CommitStats, StoreError>>);

/// Most crawls written in one transaction.
const MOST_PER_GROUP: usize = 32;

/// The store behind its lock, the crawls waiting to be written, and the
/// read-only connections beside it. Dereferences to the lock, so
/// `store.lock()` reaches the `Store`.
pub struct StoreCell {
    /// Closed before the store (fields drop in order): the last connection
    /// to close checkpoints the write-ahead log and removes it, which a
    /// read-only one cannot do. None for an in-memory database, which has
    /// no second connection: its reads take the store's lock.
    readers: Option<ReadPool>,
    store: Mutex<Store>,
    waiting: Mutex<Vec<Waiting>>,
}

/// Read-only connections beside the writer: a crawl's reads are small, and
/// two let both cores read while the writer writes.
const READERS: usize = 2;

/// Shares `store` between the tasks of a process.
pub fn shared(store: Store) -> SharedStore {
    let readers =
        (store.path() != Path::new(":memory:")).then(|| ReadPool::new(store.path(), READERS));
    Arc::new(StoreCell {
        readers,
        store: Mutex::new(store),
        waiting: Mutex::new(Vec::new()),
    })
}

impl Deref for StoreCell {
    type Target = Mutex<Store>;

    fn deref(&self) -> &Mutex<Store> {
        &self.store
    }
}

/// Runs `f` on the shared store on a blocking thread. A lock poisoned by a
/// panicked task is taken over rather than failing every later task.
pub async fn with_store<T, F>(store: &SharedStore, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut guard = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    })
    .await
    .unwrap_or_else(|join| Err(StoreError::Task(join.to_string())))
}

/// Runs the read `f` on a read-only connection beside the shared store
/// (`ReadPool`), on a blocking thread: it sees what is committed and does
/// not wait for a write in progress. An in-memory store is read through
/// its own connection, after the write in progress.
pub async fn with_reader<T, F>(store: &SharedStore, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
{
    match &store.readers {
        Some(readers) => readers.read_sqlite(f).await,
        None => with_store(store, move |s| f(s)).await,
    }
}

/// Writes a crawl (`Store::commit`), together with the crawls that are
/// waiting for the store when it is free and those that arrive while they
/// are written: the first task to get the lock writes them in one
/// transaction (`Store::commit_arriving`, at most `MOST_PER_GROUP`) and
/// hands each its own answer. A crawl is still stored whole or not at all,
/// and its answer comes only after it is committed.
pub async fn commit(store: &SharedStore, mut batch: CrawlBatch) -> Result<CommitStats, StoreError> {
    // On this task's thread, not the writer's.
    batch.derive_keys();
    let (answer, answered) = oneshot::channel();
    store
        .waiting
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push((batch, answer));
    let cell = Arc::clone(store);
    let wrote = tokio::task::spawn_blocking(move || {
        let mut guard = cell
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The crawls waiting now, and those that arrive while they are
        // written, up to MOST_PER_GROUP in all: one transaction.
        let take = |group: &mut Vec<Waiting>| {
            let mut waiting = cell
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let n = waiting.len().min(MOST_PER_GROUP - group.len());
            group.extend(waiting.drain(..n));
        };
        let mut group = Vec::new();
        take(&mut group);
        // Empty when an earlier writer took this crawl along.
        if group.is_empty() {
            return;
        }
        let results = guard.commit_arriving(&mut group, |(batch, _)| batch, take);
        tracing::debug!(crawls = group.len(), "crawls committed together");
        for ((_, answer), result) in group.into_iter().zip(results) {
            // The crawl's task may be gone (cancelled); its crawl is stored.
            let _ = answer.send(result);
        }
    })
    .await;
    if let Err(join) = wrote {
        tracing::error!("a database task ended abnormally: {join}");
    }
    answered.await.unwrap_or_else(|_| {
        Err(StoreError::Task(
            "the crawl's write ended abnormally".into(),
        ))
    })
}

/// Keeps the store's connection busy, as a long write on another thread
/// does, until the returned sender is dropped.
#[cfg(test)]
pub(crate) fn hold_busy(store: &SharedStore) -> std::sync::mpsc::Sender<()> {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, holding) = std::sync::mpsc::channel();
    let store = Arc::clone(store);
    std::thread::spawn(move || {
        let _busy = store.lock().unwrap_or_else(|p| p.into_inner());
        let _ = held.send(());
        let _ = released.recv();
    });
    holding.recv().expect("the store is held");
    release
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Kind;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_do_not_wait_for_a_write_in_progress_and_see_what_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = shared(Store::open(&dir.path().join("m.db")).unwrap());
        let mut batch = CrawlBatch::new("a", "feed", Kind::Web, chrono::Utc::now());
        batch.seen = vec![1, 2];
        commit(&store, batch).await.unwrap();
        let seen = |keys: Vec<u64>| with_reader(&store, move |s| s.seen("a", &keys));
        // The writer's connection is busy (a write in progress) while the read runs.
        let busy = hold_busy(&store);
        assert_eq!(seen(vec![1, 3]).await.unwrap(), [true, false]);
        drop(busy);
        let mut batch = CrawlBatch::new("a", "feed", Kind::Web, chrono::Utc::now());
        batch.seen = vec![3];
        commit(&store, batch).await.unwrap();
        assert_eq!(seen(vec![1, 3, 4]).await.unwrap(), [true, true, false]);
        // The writer closes last and takes the write-ahead log with it.
        let wal = dir.path().join("m.db-wal");
        assert!(wal.exists());
        drop(store);
        assert!(!wal.exists());
        assert!(!dir.path().join("m.db-shm").exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_in_memory_store_is_read_through_its_own_connection() {
        let store = shared(Store::open_in_memory().unwrap());
        let mut batch = CrawlBatch::new("a", "feed", Kind::Web, chrono::Utc::now());
        batch.seen = vec![7];
        commit(&store, batch).await.unwrap();
        let read = with_reader(&store, |s| s.seen("a", &[7, 8])).await;
        assert_eq!(read.unwrap(), [true, false]);
    }
}
