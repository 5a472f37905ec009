//! Failures the store could not write. When a crawl's transaction fails —
//! the disk is full, the file system went read-only — the source's
//! `last_error` would be lost with it, and `mentions sources` would show a
//! healthy source. The store keeps such failures in memory, per source,
//! tries at once to write them alone (a few bytes, where the crawl needed
//! many), and otherwise writes them with its next successful transaction,
//! before that transaction's own crawl: `last_error` and
//! `consecutive_failures` then count the crawls that were not stored.

use super::{Store, StoreError};
use crate::sources::Kind;
use chrono::{DateTime, Utc};
use rusqlite::{Transaction, TransactionBehavior};
use std::collections::BTreeMap;

/// The crawls of one source the store could not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsavedFailure {
    /// The source's type and kind, for a source the database has no row for yet.
    pub source_type: String,
    pub kind: Kind,
    /// Crawls in a row that could not be written.
    pub crawls: u32,
    /// When the latest of them started.
    pub last_run: DateTime<Utc>,
    /// Why the latest failed, as `last_error` shows it.
    pub error: String,
}

/// Unsaved failures by source name.
pub type Unsaved = BTreeMap<String, UnsavedFailure>;

/// Writes the unsaved failures into `tx`: each source's row gets the
/// latest failure as `last_error` and counts the crawls as failures.
pub(super) fn write(tx: &Transaction<'_>, unsaved: &Unsaved) -> Result<(), StoreError> {
    for (name, failure) in unsaved {
        tx.execute(
            "INSERT INTO source (name, type, kind) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO NOTHING",
            (name, &failure.source_type, failure.kind.code()),
        )?;
        tx.execute(
            "UPDATE source SET
               last_run = max(coalesce(last_run, ?2), ?2),
               last_error = ?3,
               consecutive_failures = consecutive_failures + ?4
             WHERE name = ?1",
            (
                name,
                failure.last_run.timestamp(),
                crate::secrets::mask(&failure.error),
                i64::from(failure.crawls),
            ),
        )?;
    }
    Ok(())
}

impl Store {
    /// The failures this store could not write yet, by source; written
    /// with the next successful commit (or `flush_unsaved`).
    pub fn unsaved(&self) -> &Unsaved {
        &self.unsaved
    }

    /// Writes the unsaved failures in a transaction of their own.
    pub fn flush_unsaved(&mut self) -> Result<(), StoreError> {
        if self.unsaved.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write(&tx, &self.unsaved)?;
        tx.commit()?;
        self.unsaved.clear();
        Ok(())
    }

    /// After a commit of `batch`: on success the unsaved failures written
    /// with it are forgotten; on failure the crawl becomes one, counted in
    /// `mentions_store_errors_total`, and the store tries to write it alone.
    pub(super) fn settle<T>(
        &mut self,
        batch: &super::CrawlBatch,
        written: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let e = match written {
            Ok(done) => {
                self.unsaved.clear();
                return Ok(done);
            }
            Err(e) => e,
        };
        crate::telemetry::record_store_error(&batch.source);
        let unstored = format!("could not store the crawl: {e}");
        let error = match &batch.outcome {
            super::SourceOutcome::Failed(failed) => format!("{failed}; {unstored}"),
            super::SourceOutcome::Ok => unstored,
        };
        let failure = self
            .unsaved
            .entry(batch.source.clone())
            .or_insert_with(|| UnsavedFailure {
                source_type: batch.source_type.clone(),
                kind: batch.kind,
                crawls: 0,
                last_run: batch.started,
                error: String::new(),
            });
        failure.crawls += 1;
        failure.last_run = failure.last_run.max(batch.started);
        failure.error = error;
        if let Err(again) = self.flush_unsaved() {
            tracing::warn!(
                source = %batch.source,
                "the failure could not be recorded either ({again}); it is kept in memory and written with the next successful write"
            );
        }
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CrawlBatch, SourceOutcome};
    use chrono::TimeZone;
    use metrics_exporter_prometheus::PrometheusBuilder;
    use std::path::Path;
    use std::process::Command;

    fn batch(source: &str, minute: u32, failed: Option<&str>) -> CrawlBatch {
        let mut b = CrawlBatch::new(
            source,
            "feed",
            Kind::Web,
            Utc.with_ymd_and_hms(2026, 11, 25, 12, minute, 0).unwrap(),
        );
        if let Some(e) = failed {
            b.outcome = SourceOutcome::Failed(e.into());
        }
        b
    }

    /// `(last_error, consecutive_failures, last_run minute)` of a source.
    fn row(store: &Store, source: &str) -> (Option<String>, i64, i64) {
        store
            .conn
            .query_row(
                "SELECT last_error, consecutive_failures, last_run FROM source WHERE name = ?1",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?, (r.get::<_, i64>(2)? / 60) % 60)),
            )
            .unwrap()
    }

    #[test]
    fn failures_the_store_cannot_write_are_written_with_the_next_commit() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let mut store = Store::open_in_memory().unwrap();
        store.commit(&batch("a", 0, None)).unwrap();
        store.commit(&batch("b", 0, None)).unwrap();
        // Every write is refused now, as on a full disk.
        store.conn.pragma_update(None, "query_only", true).unwrap();
        metrics::with_local_recorder(&recorder, || {
            assert!(store.commit(&batch("a", 1, None)).is_err());
            assert!(store.commit(&batch("a", 2, Some("HTTP 503"))).is_err());
            assert!(store.commit(&batch("new", 3, None)).is_err());
        });
        let a = &store.unsaved()["a"];
        assert_eq!(a.crawls, 2);
        assert!(
            a.error
                .starts_with("HTTP 503; could not store the crawl: database error: "),
            "{}",
            a.error
        );
        assert_eq!(store.unsaved()["new"].crawls, 1);
        assert_eq!(row(&store, "a"), (None, 0, 0), "nothing written yet");
        let scrape = handle.render();
        assert!(
            scrape.contains("mentions_store_errors_total{source=\"a\"} 2"),
            "{scrape}"
        );

        // Writes work again: the next commit, of another source, carries them.
        store.conn.pragma_update(None, "query_only", false).unwrap();
        store.commit(&batch("b", 4, None)).unwrap();
        assert!(store.unsaved().is_empty());
        let (error, failures, minute) = row(&store, "a");
        assert!(error.unwrap().starts_with("HTTP 503; could not store"));
        assert_eq!((failures, minute), (2, 2));
        let (error, failures, _) = row(&store, "new");
        assert!(error.unwrap().starts_with("could not store the crawl: "));
        assert_eq!(failures, 1);
        assert_eq!(row(&store, "b"), (None, 0, 4));
        // A later failure counts on from the unsaved ones; a success resets.
        store.commit(&batch("a", 5, Some("HTTP 500"))).unwrap();
        assert_eq!(row(&store, "a"), (Some("HTTP 500".into()), 3, 5));
        store.commit(&batch("a", 6, None)).unwrap();
        assert_eq!(row(&store, "a"), (None, 0, 6));
    }

    #[test]
    fn a_failure_is_written_alone_when_the_crawl_does_not_fit() {
        let mut store = Store::open_in_memory().unwrap();
        store.commit(&batch("a", 0, None)).unwrap();
        // A crawl whose own write fails, on a database that takes small writes.
        store
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON seen
                 BEGIN SELECT RAISE(ABORT, 'no room for the crawl'); END;",
            )
            .unwrap();
        let mut b = batch("a", 1, None);
        b.seen = vec![1];
        let err = store.commit(&b).unwrap_err();
        assert!(err.to_string().contains("no room for the crawl"), "{err}");
        assert!(store.unsaved().is_empty(), "written at once");
        let (error, failures, minute) = row(&store, "a");
        assert!(error
            .unwrap()
            .starts_with("could not store the crawl: database error: no room"),);
        assert_eq!((failures, minute), (1, 1));
    }

    /// A tmpfs of 2 MiB mounted for one test, unmounted when dropped.
    struct SmallDisk {
        dir: tempfile::TempDir,
    }

    impl SmallDisk {
        /// None, with the reason printed, where mounting is not possible
        /// (not root, no tmpfs).
        fn mount() -> Option<SmallDisk> {
            let dir = tempfile::tempdir().unwrap();
            let mounted = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
                .arg(dir.path())
                .output();
            match mounted {
                Ok(out) if out.status.success() => Some(SmallDisk { dir }),
                Ok(out) => {
                    eprintln!(
                        "skipped: cannot mount a tmpfs (needs root): {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                    None
                }
                Err(e) => {
                    eprintln!("skipped: cannot run mount: {e}");
                    None
                }
            }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        /// Writes a file until the disk is full.
        fn fill(&self) {
            use std::io::Write;
            let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
            let block = vec![0u8; 4096];
            while f.write_all(&block).is_ok() {}
            let _ = f.flush();
        }

        fn free(&self) {
            std::fs::remove_file(self.path().join("filler")).unwrap();
        }
    }

    impl Drop for SmallDisk {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.dir.path()).status();
        }
    }

    #[test]
    fn on_a_full_disk_the_failure_waits_in_memory() {
        let Some(disk) = SmallDisk::mount() else {
            return;
        };
        let mut store = Store::open(&disk.path().join("m.db")).unwrap();
        store.commit(&batch("a", 0, None)).unwrap();
        store.commit(&batch("b", 0, None)).unwrap();
        disk.fill();
        let mut big = batch("a", 1, None);
        big.seen = (0..50_000).collect();
        let err = store.commit(&big).unwrap_err();
        assert!(err.to_string().contains("full"), "{err}");
        // Not even the failure fits: it waits.
        assert_eq!(store.unsaved()["a"].crawls, 1);
        disk.free();
        store.commit(&batch("b", 2, None)).unwrap();
        assert!(store.unsaved().is_empty());
        let (error, failures, minute) = row(&store, "a");
        assert_eq!(
            error.as_deref(),
            Some("could not store the crawl: database error: database or disk is full")
        );
        assert_eq!((failures, minute), (1, 1));
        drop(store);
    }
}
