//! `backup`: a consistent copy of the database through SQLite's online
//! backup API while other connections go on writing. The copy is read from
//! one snapshot: a read transaction held across the steps, which in WAL
//! mode never blocks a writer and keeps a concurrent commit from
//! restarting the copy. The copy is then made a self-contained file
//! (rollback journal, no `-wal` beside it) and checked.

use super::{Store, StoreError};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Pages copied per step (8 MiB of a new database's 8 KiB pages, 4 MiB of
/// an older database's 4 KiB ones).
const PAGES_PER_STEP: i32 = 1024;
/// Wait after a step the destination was busy for.
const BUSY_WAIT: Duration = Duration::from_millis(50);
/// Busy steps in a row before giving up.
const BUSY_STEPS: u32 = 200;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCopy {
    pub pages: u64,
    pub bytes: u64,
    pub schema_version: u32,
    pub mentions: u64,
    /// `integrity_check` of the copy: Err holds its first findings.
    pub integrity: Result<(), String>,
}

impl Store {
    /// Copies this database into a new file at `dest`, which must not exist.
    pub fn backup_into(&self, dest: &Path) -> Result<BackupCopy, StoreError> {
        self.backup_with(dest, PAGES_PER_STEP, &mut |_| {})
    }

    /// `backup_into` with a step size and a hook run after each step (tests
    /// write between steps through it).
    fn backup_with(
        &self,
        dest: &Path,
        pages_per_step: i32,
        after_step: &mut dyn FnMut(u64),
    ) -> Result<BackupCopy, StoreError> {
        let open_err = |source| StoreError::Open {
            path: dest.to_owned(),
            source,
        };
        let mut out = Connection::open_with_flags(
            dest,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        // One snapshot for every step: the read transaction starts at the first read.
        self.conn.execute_batch("BEGIN")?;
        let copied = self.copy_pages(&mut out, pages_per_step, after_step);
        let ended = self.conn.execute_batch("COMMIT");
        let pages = copied?;
        ended?;
        out.pragma_update(None, "journal_mode", "DELETE")?;
        drop(out);
        BackupCopy::of(dest, pages)
    }
}

impl BackupCopy {
    /// What the finished copy at `dest` holds, read back from it, with its
    /// integrity checked (also for a copy of PostgreSQL, `Postgres::backup_into`).
    pub(super) fn of(dest: &Path, pages: u64) -> Result<BackupCopy, StoreError> {
        let copy = Store::open_read_only(dest)?;
        let count = |sql: &str| -> Result<u64, StoreError> {
            Ok(copy.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        Ok(BackupCopy {
            pages,
            bytes: std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0),
            schema_version: copy.schema_version()?,
            mentions: count("SELECT count(*) FROM mention")?,
            integrity: copy.integrity_check()?,
        })
    }
}

impl Store {
    fn copy_pages(
        &self,
        out: &mut Connection,
        pages_per_step: i32,
        after_step: &mut dyn FnMut(u64),
    ) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })?;
        let backup = Backup::new(&self.conn, out)?;
        let mut busy = 0;
        loop {
            let step = backup.step(pages_per_step)?;
            let progress = backup.progress();
            let done = u64::try_from(progress.pagecount - progress.remaining).unwrap_or(0);
            match step {
                StepResult::Done => return Ok(u64::try_from(progress.pagecount).unwrap_or(0)),
                StepResult::More => {
                    busy = 0;
                    after_step(done);
                }
                StepResult::Busy | StepResult::Locked => {
                    busy += 1;
                    if busy >= BUSY_STEPS {
                        return Err(StoreError::Sql(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the backup file stayed locked by another process".into()),
                        )));
                    }
                    std::thread::sleep(BUSY_WAIT);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Kind;
    use crate::store::{CrawlBatch, NewMention};

    fn crawl(store: &mut Store, from: u64, n: u64) {
        let mut b = CrawlBatch::new("s", "feed", Kind::Social, chrono::Utc::now());
        b.mentions = (from..from + n)
            .map(|i| NewMention {
                topic: "a".into(),
                kind: Kind::Social,
                identity: format!("at://p/{i}"),
                url: None,
                host: None,
                title: "t".into(),
                excerpt: "e".repeat(500),
                author: None,
                lang: None,
                published: None,
                simhash: i,
                seen: None,
            })
            .collect();
        store.commit(&b).unwrap();
    }

    #[test]
    fn copies_one_snapshot_while_another_connection_writes_between_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut writer = Store::open(&path).unwrap();
        crawl(&mut writer, 0, 300);
        let reader = Store::open_existing(&path).unwrap();
        let dest = dir.path().join("copy.db");
        let mut steps = 0;
        let copy = reader
            .backup_with(&dest, 4, &mut |_| {
                steps += 1;
                // A commit between steps would restart a copy without its snapshot.
                crawl(&mut writer, 1000 * steps, 2);
            })
            .unwrap();
        assert!(steps > 10, "{steps} steps");
        assert_eq!(copy.mentions, 300);
        assert_eq!(copy.integrity, Ok(()));
        assert_eq!(copy.schema_version, reader.schema_version().unwrap());
        assert_eq!(copy.bytes, std::fs::metadata(&dest).unwrap().len());
        assert_eq!(copy.bytes, copy.pages * Store::PAGE_SIZE as u64);
        // A file of its own: no write-ahead log beside it.
        let copied = Store::open_read_only(&dest).unwrap();
        let mode: String = copied
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        assert!(!dir.path().join("copy.db-wal").exists());
        // The source went on: its own writes are all there.
        let live: i64 = reader
            .conn
            .query_row("SELECT count(*) FROM mention", [], |r| r.get(0))
            .unwrap();
        assert_eq!(live as u64, 300 + 2 * steps);
    }
}
