//! The store as the sync engine's tasks and the command line share it: one
//! connection behind a mutex, used off the async workers.
//!
//! Owns only the access; what is read or written belongs to the callers.
//! Work that must be seen in store order by the UI (settling an outbox item
//! and reporting it) runs in one [`SharedStore::with`] call, under the lock.

use std::sync::{Arc, Mutex};

use crate::store::{Store, StoreError};

/// The store, shared by the engine's tasks (and by a command's delivery).
/// [`SharedStore::close`] takes it out, so that no write can start after
/// the engine has stopped.
#[derive(Clone)]
pub struct SharedStore(Arc<Mutex<Option<Store>>>);

/// Why a store operation did not happen.
#[derive(Debug)]
pub enum StoreFailure {
    Failed(StoreError),
    /// The store was closed: the engine is stopping.
    Closed,
}

impl SharedStore {
    pub fn new(store: Store) -> SharedStore {
        SharedStore(Arc::new(Mutex::new(Some(store))))
    }

    /// Runs `f` on the store off the async workers.
    ///
    /// # Errors
    ///
    /// What `f` returned, or [`StoreFailure::Closed`].
    pub async fn with<T, F>(&self, f: F) -> Result<T, StoreFailure>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.0);
        let task = tokio::task::spawn_blocking(move || {
            let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                Some(store) => f(store).map_err(StoreFailure::Failed),
                None => Err(StoreFailure::Closed),
            }
        });
        match task.await {
            Ok(result) => result,
            // A panic in the store is a bug: let it surface as one.
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_) => Err(StoreFailure::Closed),
        }
    }

    /// Waits for any operation in progress, then closes the store and hands
    /// it back (if it was still open).
    pub async fn close(&self) -> Option<Store> {
        let shared = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || shared.lock().unwrap_or_else(|p| p.into_inner()).take())
            .await
            .ok()
            .flatten()
    }
}
