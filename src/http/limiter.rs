//! Per-host concurrency limits: one semaphore per host, created on first use
//! and dropped again as soon as no request holds or waits for it, so the map
//! only ever holds hosts that are busy right now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Above this many entries, a new insertion first sweeps entries left behind
/// by cancelled waiters.
const SWEEP_ABOVE: usize = 256;

/// Hands out at most `per_host` permits per host at a time.
#[derive(Debug)]
pub struct HostLimiter {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// One held per-host slot; releasing it drops the host's entry when idle.
#[derive(Debug)]
pub struct HostPermit<'a> {
    limiter: &'a HostLimiter,
    host: String,
    permit: Option<OwnedSemaphorePermit>,
}

impl HostLimiter {
    pub fn new(per_host: usize) -> HostLimiter {
        HostLimiter {
            per_host: per_host.clamp(1, Semaphore::MAX_PERMITS),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot for `host`.
    pub async fn acquire(&self, host: &str) -> HostPermit<'_> {
        let semaphore = {
            let mut hosts = self.lock();
            if !hosts.contains_key(host) && hosts.len() >= SWEEP_ABOVE {
                hosts.retain(|_, s| Arc::strong_count(s) > 1);
            }
            Arc::clone(
                hosts
                    .entry(host.to_owned())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
            )
        };
        // The semaphore is never closed, so acquiring only fails in theory;
        // then the request simply runs without a per-host slot.
        let permit = semaphore.acquire_owned().await.ok();
        HostPermit {
            limiter: self,
            host: host.to_owned(),
            permit,
        }
    }

    /// Hosts with a request in flight or waiting.
    pub fn tracked_hosts(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        // A panic elsewhere cannot leave the map inconsistent, so poisoning is ignored.
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for HostPermit<'_> {
    fn drop(&mut self) {
        let mut hosts = self.limiter.lock();
        // Released under the lock so the last holder reliably sees a count of one.
        self.permit.take();
        if hosts
            .get(&self.host)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            hosts.remove(&self.host);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn entry_lives_while_used_and_is_dropped_after() {
        let limiter = HostLimiter::new(2);
        let a = limiter.acquire("a.example").await;
        let b = limiter.acquire("a.example").await;
        let c = limiter.acquire("b.example").await;
        assert_eq!(limiter.tracked_hosts(), 2);
        // A third request to a.example must wait for a free slot.
        let third =
            tokio::time::timeout(Duration::from_millis(50), limiter.acquire("a.example")).await;
        assert!(third.is_err());
        drop(a);
        assert_eq!(limiter.tracked_hosts(), 2);
        drop(b);
        assert_eq!(limiter.tracked_hosts(), 1);
        drop(c);
        assert_eq!(limiter.tracked_hosts(), 0);
    }

    #[tokio::test]
    async fn cancelled_waiters_are_swept() {
        let limiter = HostLimiter::new(1);
        let mut held = Vec::new();
        for i in 0..SWEEP_ABOVE {
            let host = format!("h{i}.example");
            let p = limiter.acquire(&host).await;
            // A waiter that gives up leaves its clone behind only while it waits.
            let _ = tokio::time::timeout(Duration::from_millis(1), limiter.acquire(&host)).await;
            held.push(p);
        }
        assert_eq!(limiter.tracked_hosts(), SWEEP_ABOVE);
        // Release the slots without Drop's cleanup, as if their holders had vanished.
        for p in held.iter_mut() {
            p.permit.take();
        }
        let _new = limiter.acquire("fresh.example").await;
        // The sweep dropped every entry nobody references; only the new host remains.
        assert_eq!(limiter.tracked_hosts(), 1);
        drop(held);
    }
}
