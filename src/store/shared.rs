//! The one database connection a process shares between its async tasks
//! (crawls, alert checks), and the one way to use it from async code: on a
//! blocking thread, so SQLite never stalls the runtime.

use super::{Store, StoreError};
use std::sync::{Arc, Mutex};

/// The database connection shared by the tasks of one process.
pub type SharedStore = Arc<Mutex<Store>>;

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
