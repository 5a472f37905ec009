//! `mentions migrate --to postgres://…`: copies the SQLite database named
//! by `[database] path` into a PostgreSQL database (see
//! `store::postgres::copy`), prints each table's rows on both sides, and
//! exits 0 only when every count matches. Running it again after an
//! interruption finishes the copy. The URL's password is never printed.
//!
//! The daemon and the other commands do not use PostgreSQL yet.

use super::{open_existing_store, print, Failure};
use crate::config::Settings;
use crate::store::postgres::{copy_from_sqlite, CopyError, PgTarget, Postgres, TableCount};
use std::process::ExitCode;

pub(super) fn migrate(settings: &Settings, to: &str, batch: usize) -> Result<ExitCode, Failure> {
    let target = PgTarget::parse(to).map_err(|e| Failure::Usage(e.to_string()))?;
    let store = open_existing_store(settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    print(&format!(
        "copying {} into PostgreSQL at {}\n{:<14} {:>10} {:>10} {:>10}\n",
        settings.database.display(),
        target.describe(),
        "table",
        "sqlite",
        "postgres",
        "copied"
    ))?;
    let mut printed = Ok(());
    let copied = runtime.block_on(async {
        let pg = Postgres::connect(&target, 2).await?;
        copy_from_sqlite(&store, &pg, batch, &mut |c: &TableCount| {
            if printed.is_ok() {
                printed = print(&format!(
                    "{:<14} {:>10} {:>10} {:>10}\n",
                    c.table, c.sqlite, c.postgres, c.copied
                ));
            }
        })
        .await
    });
    printed?;
    let counts = copied.map_err(|e| match e {
        CopyError::Postgres(e) => Failure::Storage(target.scrub(&e.to_string())),
        CopyError::Sqlite(e) => Failure::Storage(e.to_string()),
        CopyError::Refused(m) => Failure::Runtime(target.scrub(&m)),
    })?;
    let differ: Vec<String> = counts
        .iter()
        .filter(|c| c.sqlite != c.postgres)
        .map(|c| {
            format!(
                "{} has {} rows in SQLite and {} in PostgreSQL",
                c.table, c.sqlite, c.postgres
            )
        })
        .collect();
    if !differ.is_empty() {
        return Err(Failure::Runtime(format!(
            "the copy does not match: {}; the PostgreSQL database {} holds rows the SQLite one does not (copy into an empty database)",
            differ.join("; "),
            target.describe()
        )));
    }
    let rows: u64 = counts.iter().map(|c| c.sqlite).sum();
    let copied: u64 = counts.iter().map(|c| c.copied).sum();
    print(&format!(
        "all {} tables match: {rows} rows ({copied} copied by this run)\n",
        counts.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}
