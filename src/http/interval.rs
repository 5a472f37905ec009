//! Process-wide spacing of requests to services that publish a request
//! rate rather than rate-limit headers: Google News (once a minute) and
//! GDELT (once every 5 s). Every source of such a type shares one
//! `Spacing`, so two sources crawled at the same moment still ask one after
//! the other, and a 429 pushes the next request of every source back.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// At most one request per `gap`, for the whole process.
#[derive(Debug)]
pub struct Spacing {
    gap: Duration,
    /// When the next request may start; None before the first one.
    next: Mutex<Option<Instant>>,
}

impl Spacing {
    pub const fn new(gap: Duration) -> Spacing {
        Spacing {
            gap,
            next: Mutex::const_new(None),
        }
    }

    /// The configured gap between two requests.
    pub fn gap(&self) -> Duration {
        self.gap
    }

    /// Waits for this caller's turn and books the slot after it. Callers
    /// are served in the order they asked; the wait happens outside the
    /// lock, so a cancelled caller only leaves its slot unused.
    pub async fn wait(&self) {
        let start = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + self.gap);
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// Keeps every caller away for at least `pause` from now (after a 429:
    /// the service's `Retry-After`, or the gap when it sent none).
    pub async fn back_off(&self, pause: Duration) {
        let mut next = self.next.lock().await;
        let until = Instant::now() + pause.max(self.gap);
        *next = Some(next.map_or(until, |n| n.max(until)));
    }

    /// How long a caller asking now would wait.
    pub async fn wait_now(&self) -> Duration {
        let next = self.next.lock().await;
        next.map_or(Duration::ZERO, |n| {
            n.saturating_duration_since(Instant::now())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn callers_are_spaced_by_the_gap_in_order() {
        let spacing = std::sync::Arc::new(Spacing::new(Duration::from_secs(5)));
        let t0 = Instant::now();
        spacing.wait().await;
        assert_eq!(
            t0.elapsed(),
            Duration::ZERO,
            "the first caller goes at once"
        );
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let s = std::sync::Arc::clone(&spacing);
            tasks.push(tokio::spawn(async move {
                s.wait().await;
                Instant::now()
            }));
        }
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap().duration_since(t0));
        }
        starts.sort();
        assert_eq!(
            starts,
            [5, 10, 15].map(Duration::from_secs),
            "one request per gap"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_back_off_holds_everyone_and_a_pause_elapses() {
        let spacing = Spacing::new(Duration::from_secs(60));
        assert_eq!(spacing.wait_now().await, Duration::ZERO);
        spacing.back_off(Duration::from_secs(90)).await;
        assert_eq!(spacing.wait_now().await, Duration::from_secs(90));
        // A shorter back-off never brings the next slot forward.
        spacing.back_off(Duration::from_secs(1)).await;
        assert_eq!(spacing.wait_now().await, Duration::from_secs(90));
        let t0 = Instant::now();
        spacing.wait().await;
        assert_eq!(t0.elapsed(), Duration::from_secs(90));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(spacing.wait_now().await, Duration::ZERO);
    }
}
