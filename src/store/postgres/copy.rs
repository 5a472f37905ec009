//! `mentions migrate --to postgres://…`: copies every table of an SQLite
//! database into a PostgreSQL one, then compares row counts.
//!
//! The SQLite side is read in one read transaction, so the copy is one
//! consistent snapshot even while a daemon writes. Rows go to PostgreSQL in
//! batches (a binary `COPY` into a temporary table, then `INSERT … SELECT`),
//! each its own transaction with `ON CONFLICT DO NOTHING`: a copy
//! interrupted anywhere is finished by running it again. A row PostgreSQL
//! already holds under the same key must be equal in every column, else
//! the copy stops: a target that holds other data is refused, never merged.
//! The copy sets `mentions.copying`, so the validators' triggers keep rows
//! as they are;
//! identity sequences are moved past the copied ids at the end.

use super::{PgError, Postgres};
use crate::store::{Store, StoreError, MIGRATIONS};
use rusqlite::types::ValueRef;
use std::collections::HashMap;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type as PgType};

/// Every table of the schema, parents before the tables that reference them.
pub const TABLES: &[&str] = &[
    "topic",
    "source",
    "host",
    "http_cache",
    "seen",
    "mention",
    "sighting",
    "exclusion",
    "simhash_band",
    "count_source",
    "count_host",
    "headline",
    "alert",
    "retention",
    "robots_txt",
    "host_backoff",
];

/// Rows of one table on each side after a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub sqlite: u64,
    pub postgres: u64,
    /// Rows this run inserted (the rest were there already, and equal).
    pub copied: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Postgres(#[from] PgError),
    #[error(transparent)]
    Sqlite(#[from] StoreError),
    /// The target holds other data, or a value cannot be carried over.
    #[error("{0}")]
    Refused(String),
}

/// One value of a copied column, by its PostgreSQL type.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl Val {
    fn param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Val::Int(v) => v,
            Val::Real(v) => v,
            Val::Text(v) => v,
        }
    }

    /// For messages: at most 80 characters.
    fn show(&self) -> String {
        let text = match self {
            Val::Int(Some(v)) => v.to_string(),
            Val::Real(Some(v)) => v.to_string(),
            Val::Text(Some(v)) => format!("{v:?}"),
            Val::Int(None) | Val::Real(None) | Val::Text(None) => "NULL".to_owned(),
        };
        if text.chars().count() > 80 {
            text.chars().take(79).chain(['…']).collect()
        } else {
            text
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Type {
    Int,
    Real,
    Text,
}

/// A column: its name and PostgreSQL type.
struct Column {
    name: String,
    ty: Type,
}

/// What the copy knows of one table.
struct Shape {
    table: &'static str,
    columns: Vec<Column>,
    /// Indexes into `columns` of the primary key.
    key: Vec<usize>,
}

impl Shape {
    fn quoted(&self, idx: &[usize]) -> String {
        idx.iter()
            .map(|&i| format!("\"{}\"", self.columns[i].name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn all(&self) -> Vec<usize> {
        (0..self.columns.len()).collect()
    }

    fn key_of(&self, row: &[Val]) -> String {
        self.key
            .iter()
            .map(|&i| row[i].show())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn key_names(&self) -> String {
        self.key
            .iter()
            .map(|&i| self.columns[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Copies `store` into `pg` in batches of at most `batch` rows, then counts
/// both sides. `progress` hears of each table as it is done.
pub async fn copy_from_sqlite(
    store: &Store,
    pg: &Postgres,
    batch: usize,
    progress: &mut dyn FnMut(&TableCount),
) -> Result<Vec<TableCount>, CopyError> {
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    let version = store.schema_version()?;
    if version != known {
        return Err(CopyError::Refused(format!(
            "the SQLite database has schema version {version}, this build copies version {known}; \
             run `mentions check` once with this build to upgrade it"
        )));
    }
    // One snapshot of the SQLite database for every table and count.
    let snapshot = store
        .conn
        .unchecked_transaction()
        .map_err(StoreError::from)?;
    let tables: Vec<String> = snapshot
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(StoreError::from)?;
    if let Some(unknown) = tables.iter().find(|t| !TABLES.contains(&t.as_str())) {
        return Err(CopyError::Refused(format!(
            "the SQLite database has a table this build does not know how to copy: {unknown}"
        )));
    }
    if let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|n| n == *t)) {
        return Err(CopyError::Refused(format!(
            "the SQLite database has no table {missing}"
        )));
    }
    let mut counts = Vec::new();
    for &table in TABLES {
        let shape = shape(&snapshot, pg, table).await?;
        let copied = copy_table(&snapshot, pg, &shape, batch.max(1)).await?;
        let sqlite: i64 = snapshot
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .map_err(StoreError::from)?;
        let client = pg.client().await?;
        let postgres: i64 = client
            .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
            .await
            .map_err(|e| pg.query_error(e))?
            .get(0);
        let count = TableCount {
            table,
            sqlite: sqlite.max(0) as u64,
            postgres: postgres.max(0) as u64,
            copied,
        };
        progress(&count);
        counts.push(count);
    }
    reset_identities(pg).await?;
    Ok(counts)
}

/// The columns SQLite has (each must exist on PostgreSQL, whose type
/// decides how values are read) and the primary key.
async fn shape(
    sqlite: &rusqlite::Connection,
    pg: &Postgres,
    table: &'static str,
) -> Result<Shape, CopyError> {
    let lite: Vec<(String, i64)> = sqlite
        .prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")
        .and_then(|mut s| {
            s.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(StoreError::from)?;
    let client = pg.client().await?;
    let types: HashMap<String, String> = client
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table],
        )
        .await
        .map_err(|e| pg.query_error(e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut columns = Vec::new();
    let mut key: Vec<(i64, usize)> = Vec::new();
    for (name, pk) in lite {
        let ty = match types.get(&name).map(String::as_str) {
            Some("bigint") => Type::Int,
            Some("double precision") => Type::Real,
            Some("text") => Type::Text,
            Some(other) => {
                return Err(CopyError::Refused(format!(
                    "{table}.{name} is {other} on PostgreSQL, which the copy does not handle"
                )))
            }
            None => {
                return Err(CopyError::Refused(format!(
                    "the PostgreSQL database has no column {table}.{name}"
                )))
            }
        };
        if pk > 0 {
            key.push((pk, columns.len()));
        }
        columns.push(Column { name, ty });
    }
    key.sort();
    if key.is_empty() {
        return Err(CopyError::Refused(format!("{table} has no primary key")));
    }
    Ok(Shape {
        table,
        columns,
        key: key.into_iter().map(|k| k.1).collect(),
    })
}

/// One SQLite value as the PostgreSQL column wants it.
fn value(shape: &Shape, i: usize, v: ValueRef<'_>) -> Result<Val, String> {
    let column = &shape.columns[i];
    Ok(match (column.ty, v) {
        (Type::Int, ValueRef::Null) => Val::Int(None),
        (Type::Int, ValueRef::Integer(n)) => Val::Int(Some(n)),
        (Type::Real, ValueRef::Null) => Val::Real(None),
        (Type::Real, ValueRef::Real(f)) => Val::Real(Some(f)),
        (Type::Real, ValueRef::Integer(n)) => Val::Real(Some(n as f64)),
        (Type::Text, ValueRef::Null) => Val::Text(None),
        (Type::Text, ValueRef::Text(bytes)) => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| format!("{}.{} is not UTF-8", shape.table, column.name))?;
            if text.contains('\0') {
                return Err(format!(
                    "{}.{} holds a NUL character, which PostgreSQL text cannot",
                    shape.table, column.name
                ));
            }
            Val::Text(Some(text.to_owned()))
        }
        (ty, other) => {
            return Err(format!(
                "{}.{} holds a {:?} value where PostgreSQL wants {ty:?}",
                shape.table,
                column.name,
                other.data_type()
            ))
        }
    })
}

/// Copies one table; returns how many rows this run inserted.
///
/// Each batch goes into a temporary table of the same columns (made for
/// the batch's transaction and dropped at its end) with a binary `COPY`,
/// then into the table with one `INSERT … SELECT … ON CONFLICT DO
/// NOTHING`, in one transaction. Where fewer rows went in than
/// came, the rest must already be there and equal (`refuse_other_data`).
async fn copy_table(
    sqlite: &rusqlite::Connection,
    pg: &Postgres,
    shape: &Shape,
    batch: usize,
) -> Result<u64, CopyError> {
    let sql = format!(
        "SELECT {} FROM \"{}\" ORDER BY {}",
        shape.quoted(&shape.all()),
        shape.table,
        shape.quoted(&shape.key)
    );
    let mut stmt = sqlite.prepare(&sql).map_err(StoreError::from)?;
    let mut rows = stmt.query([]).map_err(StoreError::from)?;
    let mut client = pg.client().await?;
    let staging = format!("pg_temp.\"copy_{}\"", shape.table);
    let types: Vec<PgType> = shape
        .columns
        .iter()
        .map(|c| match c.ty {
            Type::Int => PgType::INT8,
            Type::Real => PgType::FLOAT8,
            Type::Text => PgType::TEXT,
        })
        .collect();
    let mut pending: Vec<Vec<Val>> = Vec::with_capacity(batch.min(100_000));
    let mut copied = 0;
    loop {
        let row = rows.next().map_err(StoreError::from)?;
        if let Some(row) = row {
            let mut vals = Vec::with_capacity(shape.columns.len());
            for i in 0..shape.columns.len() {
                let v = row.get_ref(i).map_err(StoreError::from)?;
                vals.push(value(shape, i, v).map_err(CopyError::Refused)?);
            }
            pending.push(vals);
        }
        let done = row.is_none();
        if pending.len() >= batch || (done && !pending.is_empty()) {
            copied += insert_batch(pg, &mut client, shape, &staging, &types, &pending).await?;
            pending.clear();
        }
        if done {
            return Ok(copied);
        }
    }
}

/// Inserts `rows` through the temporary table `staging`, refusing (and
/// rolling back) if a row that was there already differs. Returns how
/// many it inserted.
async fn insert_batch(
    pg: &Postgres,
    client: &mut deadpool_postgres::Object,
    shape: &Shape,
    staging: &str,
    types: &[PgType],
    rows: &[Vec<Val>],
) -> Result<u64, CopyError> {
    let err = |e| pg.query_error(e);
    let columns = shape.quoted(&shape.all());
    let tx = client.transaction().await.map_err(err)?;
    // The temporary table is made and dropped within the batch's
    // transaction: nothing of it outlives the transaction, so a pooler
    // that hands each transaction another server session (PgBouncer's
    // transaction mode) does not break the copy.
    tx.batch_execute(&format!(
        "SET LOCAL mentions.copying = 'on';
         CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS
             SELECT {columns} FROM \"{}\" WITH NO DATA",
        shape.table
    ))
    .await
    .map_err(err)?;
    let sink = tx
        .copy_in(&format!(
            "COPY {staging} ({columns}) FROM STDIN (FORMAT binary)"
        ))
        .await
        .map_err(err)?;
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, types));
    for row in rows {
        let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(Val::param).collect();
        writer.as_mut().write(&params).await.map_err(err)?;
    }
    writer.finish().await.map_err(err)?;
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO \"{}\" ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING",
                shape.table
            ),
            &[],
        )
        .await
        .map_err(err)?;
    if inserted < rows.len() as u64 {
        refuse_other_data(pg, &tx, shape, staging).await?;
    }
    tx.commit().await.map_err(err)?;
    Ok(inserted)
}

/// A PostgreSQL value of a column of type `ty`.
fn read(row: &tokio_postgres::Row, i: usize, ty: Type) -> Val {
    match ty {
        Type::Int => Val::Int(row.get(i)),
        Type::Real => Val::Real(row.get(i)),
        Type::Text => Val::Text(row.get(i)),
    }
}

/// Refuses unless PostgreSQL holds each row of `staging` under its key,
/// equal in every column; names the first row (in key order) that is not.
async fn refuse_other_data(
    pg: &Postgres,
    tx: &deadpool_postgres::Transaction<'_>,
    shape: &Shape,
    staging: &str,
) -> Result<(), CopyError> {
    let side = |alias: &str| {
        shape
            .columns
            .iter()
            .map(|c| format!("{alias}.\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let on: Vec<String> = shape
        .key
        .iter()
        .map(|&i| format!("t.\"{0}\" = s.\"{0}\"", shape.columns[i].name))
        .collect();
    let order: Vec<String> = shape
        .key
        .iter()
        .map(|&i| format!("s.\"{}\"", shape.columns[i].name))
        .collect();
    let first_key = &shape.columns[shape.key[0]].name;
    let sql = format!(
        "SELECT {}, {}, t.\"{first_key}\" IS NULL FROM {staging} s
         LEFT JOIN \"{}\" t ON {}
         WHERE t.\"{first_key}\" IS NULL OR ({}) IS DISTINCT FROM ({})
         ORDER BY {} LIMIT 1",
        side("s"),
        side("t"),
        shape.table,
        on.join(" AND "),
        side("s"),
        side("t"),
        order.join(", ")
    );
    let Some(found) = tx
        .query_opt(&sql, &[])
        .await
        .map_err(|e| pg.query_error(e))?
    else {
        return Ok(());
    };
    let width = shape.columns.len();
    let ours: Vec<Val> = (0..width)
        .map(|i| read(&found, i, shape.columns[i].ty))
        .collect();
    let key = shape.key_of(&ours);
    if found.get::<_, bool>(2 * width) {
        return Err(CopyError::Refused(format!(
            "the PostgreSQL database holds other data: a row of {} conflicts with the one whose {} is {key}, \
             which it does not hold (another row has the same unique value); \
             copy into an empty database",
            shape.table,
            shape.key_names()
        )));
    }
    let theirs: Vec<Val> = (0..width)
        .map(|i| read(&found, width + i, shape.columns[i].ty))
        .collect();
    let i = (0..width).find(|&i| theirs[i] != ours[i]).unwrap_or(0);
    Err(CopyError::Refused(format!(
        "the PostgreSQL database holds other data: {} with {} {key} has {} = {} there, {} here; \
         copy into an empty database",
        shape.table,
        shape.key_names(),
        shape.columns[i].name,
        theirs[i].show(),
        ours[i].show()
    )))
}

/// Moves each identity sequence past the largest id, so rows added later
/// on PostgreSQL do not collide with copied ones.
async fn reset_identities(pg: &Postgres) -> Result<(), CopyError> {
    let client = pg.client().await?;
    let identities = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_identity = 'YES'",
            &[],
        )
        .await
        .map_err(|e| pg.query_error(e))?;
    for row in identities {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        client
            .execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(\"{column}\"), 0) + 1, false) FROM \"{table}\""
                ),
                &[&table, &column],
            )
            .await
            .map_err(|e| pg.query_error(e))?;
    }
    Ok(())
}
