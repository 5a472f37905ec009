//! What a crawl reads of its source's state before it commits, on
//! PostgreSQL: the items the source has already evaluated (`seen`), the
//! conditional-GET validators of a document it fetched, and a paged
//! source's cursor — the same answers as `Store::seen`, `Store::validators`
//! and `Store::cursor` give on SQLite. Because every node reads them from
//! the shared database, a source that moves to another node is not
//! fetched in full again.

use super::{PgError, Postgres};
use crate::http::Validators;

impl Postgres {
    /// Which of `keys` the source has already evaluated (false for all of
    /// them when the source has no row yet).
    pub async fn seen(&self, source: &str, keys: &[u64]) -> Result<Vec<bool>, PgError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = keys.iter().map(|&k| k as i64).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT seen.key FROM seen JOIN source ON source.id = seen.source_id
                 WHERE source.name = $1 AND seen.key = ANY($2::bigint[])",
                &[&source, &wanted],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        let known: std::collections::HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
        Ok(wanted.iter().map(|k| known.contains(k)).collect())
    }

    /// The stored validators of `url` for `source` (stored masked, as
    /// `commit` writes them).
    pub async fn validators(&self, source: &str, url: &str) -> Result<Option<Validators>, PgError> {
        let url = crate::secrets::mask(url).into_owned();
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT etag, last_modified FROM http_cache
                 JOIN source ON source.id = http_cache.source_id
                 WHERE source.name = $1 AND url = $2",
                &[&source, &url],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.map(|r| Validators {
            etag: r.get(0),
            last_modified: r.get(1),
        }))
    }

    /// The stored cursor of a paged source.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, PgError> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT cursor FROM source WHERE name = $1", &[&source])
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.and_then(|r| r.get(0)))
    }
}
