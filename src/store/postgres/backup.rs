//! `mentions backup FILE` with `[database] url`: the reverse of `mentions
//! migrate` (copy.rs) — every table of the PostgreSQL database written into
//! a new SQLite database file at the current schema, read from one
//! REPEATABLE READ snapshot, so the copy is consistent while nodes go on
//! committing. The file is then a database like any other: `check`,
//! `report` and the other commands read it with `[database] path`.
//!
//! Rows keep their ids. SQLite's trigger sets a validator's `stored_at`
//! from its source as the row arrives; it is put back right after. (No
//! trigger is on `mention` since migration 0010: the crawl's writer checks
//! the retention cutoff itself.)

use super::copy::TABLES;
use super::{CopyError, Postgres};
use crate::store::{BackupCopy, Store};
use futures_util::TryStreamExt;
use rusqlite::types::Value;
use std::path::Path;
use tokio_postgres::types::Type;
use tokio_postgres::IsolationLevel;

impl Postgres {
    /// Writes a copy of this database into a new SQLite file at `dest`
    /// (which must not exist), checks it and says what it holds.
    pub async fn backup_into(&self, dest: &Path) -> Result<BackupCopy, CopyError> {
        let mut store = Store::open(dest)?;
        let mut client = self.client().await?;
        let snapshot = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| self.query_error(e))?;
        let out = store.conn.transaction().map_err(sqlite)?;
        for table in TABLES {
            let columns: Vec<String> = out
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(sqlite)?;
            let list = columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let marks = (1..=columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut insert = out
                .prepare(&format!("INSERT INTO {table} ({list}) VALUES ({marks})"))
                .map_err(sqlite)?;
            let mut stored_at = out
                .prepare("UPDATE http_cache SET stored_at = ?3 WHERE source_id = ?1 AND url = ?2")
                .map_err(sqlite)?;
            let rows = snapshot
                .query_raw(
                    &format!("SELECT {list} FROM {table}"),
                    std::iter::empty::<i64>(),
                )
                .await
                .map_err(|e| self.query_error(e))?;
            futures_util::pin_mut!(rows);
            while let Some(row) = rows.try_next().await.map_err(|e| self.query_error(e))? {
                let values = (0..columns.len())
                    .map(|i| value(&row, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| self.query_error(e))?;
                insert
                    .execute(rusqlite::params_from_iter(&values))
                    .map_err(sqlite)?;
                if *table == "http_cache" {
                    let at = |name: &str| columns.iter().position(|c| c == name);
                    if let (Some(s), Some(u), Some(t)) =
                        (at("source_id"), at("url"), at("stored_at"))
                    {
                        stored_at
                            .execute([&values[s], &values[u], &values[t]])
                            .map_err(sqlite)?;
                    }
                }
            }
        }
        out.commit().map_err(sqlite)?;
        snapshot.commit().await.map_err(|e| self.query_error(e))?;
        // A file of its own: no `-wal` beside it.
        store
            .conn
            .pragma_update(None, "journal_mode", "DELETE")
            .map_err(sqlite)?;
        let pages: i64 = store
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(sqlite)?;
        drop(store);
        Ok(BackupCopy::of(dest, pages.max(0) as u64)?)
    }
}

fn sqlite(e: rusqlite::Error) -> CopyError {
    CopyError::Sqlite(e.into())
}

/// Column `i` of a PostgreSQL row as SQLite stores it.
fn value(row: &tokio_postgres::Row, i: usize) -> Result<Value, tokio_postgres::Error> {
    let ty = row.columns()[i].type_();
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Integer)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Integer(v.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Integer(v.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |v| Value::Integer(v.into()))
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real)
    } else if *ty == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)?
            .map_or(Value::Null, |v| Value::Real(v.into()))
    } else {
        row.try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text)
    })
}
