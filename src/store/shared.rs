//! The one database connection a process shares between its async tasks
//! (crawls, alert checks), and the one way to use it from async code: on a
//! blocking thread, so SQLite never stalls the runtime. Crawls that finish
//! while another is being written wait together and are written in one
//! transaction (group commit, see `commit`).

use super::{CommitStats, CrawlBatch, Store, StoreError};
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The database connection shared by the tasks of one process.
pub type SharedStore = Arc<StoreCell>;

/// A crawl waiting to be written, and where its answer goes.
type Waiting = (CrawlBatch, oneshot::Sender<Result<CommitStats, StoreError>>);

/// Most crawls written in one transaction.
const MOST_PER_GROUP: usize = 32;

/// The store behind its lock, and the crawls waiting to be written.
/// Dereferences to the lock, so `store.lock()` reaches the `Store`.
pub struct StoreCell {
    store: Mutex<Store>,
    waiting: Mutex<Vec<Waiting>>,
}

/// Shares `store` between the tasks of a process.
pub fn shared(store: Store) -> SharedStore {
    Arc::new(StoreCell {
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

/// Writes a crawl (`Store::commit`), together with the crawls that are
/// waiting for the store when it is free: the first task to get the lock
/// writes every waiting crawl in one transaction (`Store::commit_all`) and
/// hands each its own answer. A crawl is still stored whole or not at all,
/// and its answer comes only after it is committed.
pub async fn commit(store: &SharedStore, batch: CrawlBatch) -> Result<CommitStats, StoreError> {
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
        let group: Vec<Waiting> = {
            let mut waiting = cell
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let n = waiting.len().min(MOST_PER_GROUP);
            waiting.drain(..n).collect()
        };
        // Empty when an earlier writer took this crawl along.
        if group.is_empty() {
            return;
        }
        let batches: Vec<&CrawlBatch> = group.iter().map(|(batch, _)| batch).collect();
        let results = guard.commit_all(&batches);
        tracing::debug!(crawls = batches.len(), "crawls committed together");
        drop(batches);
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
