//! Parsing off the async workers, within a time budget. Reading a document
//! (parsing it, stripping its markup) is CPU work: done on the async
//! runtime's workers, one slow document would hold up everything else the
//! service does — the schedule, the other sources, the HTTP endpoint, the
//! systemd watchdog, signal handling. [`Budget::run`] hands the work to a
//! thread of its own and waits for it without blocking the runtime, at
//! most [`DOCUMENT`] for one document and [`SOURCE`] for all the documents
//! of one source's crawl. When the time is up the source gets an error
//! (`… took longer than 10 s to read; skipped`) and goes on; the thread
//! finishes its work alone (every parser is linear, so it does) and its
//! result is dropped. The threads are not the runtime's: a stop never
//! waits for them.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest one document may take to read.
pub const DOCUMENT: Duration = Duration::from_secs(10);

/// The longest all documents of one source's crawl may take to read.
pub const SOURCE: Duration = Duration::from_secs(60);

/// Stack of a reading thread: parsers keep their own stacks on the heap,
/// so this is room to spare.
const STACK: usize = 8 << 20;

/// Why a document was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unread {
    #[error("took longer than {} to read; skipped", seconds(*.0))]
    Document(Duration),
    #[error("not read: the source's documents took longer than {} to read in this crawl", seconds(*.0))]
    Source(Duration),
    #[error("could not be read: {0}")]
    Failed(String),
}

/// `10 s`, `0.2 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The reading time of one source's crawl.
#[derive(Debug)]
pub struct Budget {
    document: Duration,
    source: Duration,
    spent: Mutex<Duration>,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(DOCUMENT, SOURCE)
    }
}

impl Budget {
    /// At most `document` per document and `source` in all.
    pub fn new(document: Duration, source: Duration) -> Budget {
        Budget {
            document,
            source,
            spent: Mutex::new(Duration::ZERO),
        }
    }

    fn spent(&self) -> std::sync::MutexGuard<'_, Duration> {
        self.spent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `work` on a thread of its own and gives its result, or why
    /// there is none: it took longer than the time left, or panicked.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Unread>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let left = self.source.saturating_sub(*self.spent());
        if left.is_zero() {
            return Err(Unread::Source(self.source));
        }
        let limit = self.document.min(left);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = Instant::now();
        std::thread::Builder::new()
            .name("mentions-read".into())
            .stack_size(STACK)
            .spawn(move || {
                let _ = tx.send(std::panic::catch_unwind(AssertUnwindSafe(work)));
            })
            .map_err(|e| Unread::Failed(format!("cannot start a thread: {e}")))?;
        let answer = tokio::time::timeout(limit, rx).await;
        *self.spent() += started.elapsed().min(limit);
        match answer {
            Ok(Ok(Ok(out))) => Ok(out),
            Ok(Ok(Err(panic))) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "the reader failed".to_owned());
                Err(Unread::Failed(what))
            }
            Ok(Err(_)) => Err(Unread::Failed("the reader stopped".to_owned())),
            Err(_) if limit < self.document => Err(Unread::Source(self.source)),
            Err(_) => Err(Unread::Document(self.document)),
        }
    }

    /// [`Budget::run`] for work that can fail itself: either failure as a
    /// sentence.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, String>
    where
        T: Send + 'static,
        E: std::fmt::Display + Send + 'static,
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        match self.run(work).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(d: Duration) -> u64 {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < d {
            n = n.wrapping_add(1);
            std::hint::black_box(n);
        }
        n
    }

    #[tokio::test]
    async fn work_within_the_budget_gives_its_result() {
        let budget = Budget::default();
        let text = String::from("<p>Nordkorea</p>");
        let read = budget
            .run(move || crate::text::html_to_text(&text))
            .await
            .unwrap();
        assert_eq!(read, "Nordkorea");
    }

    #[tokio::test]
    async fn a_document_over_its_time_fails_alone() {
        let budget = Budget::new(Duration::from_millis(200), Duration::from_secs(60));
        let started = Instant::now();
        let slow = budget.run(|| spin(Duration::from_secs(2))).await;
        // The caller goes on at the deadline, not when the work ends.
        assert!(started.elapsed() < Duration::from_millis(1500));
        let e = slow.unwrap_err();
        assert_eq!(e, Unread::Document(Duration::from_millis(200)));
        assert_eq!(e.to_string(), "took longer than 0.2 s to read; skipped");
        // The next document still has its own time.
        assert_eq!(budget.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn the_message_names_the_limit() {
        assert_eq!(
            Unread::Document(DOCUMENT).to_string(),
            "took longer than 10 s to read; skipped"
        );
        assert_eq!(
            Unread::Source(SOURCE).to_string(),
            "not read: the source's documents took longer than 60 s to read in this crawl"
        );
    }

    #[tokio::test]
    async fn a_source_over_its_time_reads_nothing_more() {
        let budget = Budget::new(Duration::from_millis(300), Duration::from_millis(500));
        assert!(matches!(
            budget.run(|| spin(Duration::from_secs(1))).await,
            Err(Unread::Document(_))
        ));
        // 200 ms were left: this one is cut there.
        assert!(matches!(
            budget.run(|| spin(Duration::from_secs(1))).await,
            Err(Unread::Source(_))
        ));
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&ran);
        let next = budget
            .run(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
            .await;
        assert_eq!(next, Err(Unread::Source(Duration::from_millis(500))));
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "not started"
        );
    }

    #[tokio::test]
    async fn a_panic_is_an_error_not_a_crash() {
        let budget = Budget::default();
        let read: Result<(), Unread> = budget.run(|| panic!("broken reader")).await;
        assert_eq!(read, Err(Unread::Failed("broken reader".to_owned())));
    }

    /// A single async worker stays free while documents are read: a task
    /// on the same runtime keeps ticking.
    #[tokio::test(flavor = "current_thread")]
    async fn the_runtime_keeps_running_while_a_document_is_read() {
        let budget = Budget::default();
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = std::sync::Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        budget
            .run(|| spin(Duration::from_millis(500)))
            .await
            .unwrap();
        ticker.abort();
        let ticks = ticks.load(std::sync::atomic::Ordering::SeqCst);
        assert!(ticks >= 10, "{ticks} ticks in 500 ms");
    }
}
