//! `mentions sources` on PostgreSQL: each source's state as the SQLite
//! store's `Store::source_health` gives it, and the node that last ran it.

use super::{PgError, Postgres};
use crate::sources::Kind;
use crate::store::SourceHealth;
use chrono::{DateTime, Utc};

fn time(t: Option<i64>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t, 0))
}

impl Postgres {
    /// Every source the database knows, with its state, mentions stored
    /// and the node that last took it to run.
    pub async fn source_health(&self) -> Result<Vec<SourceHealth>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT name, type, kind, last_run, last_success, last_error, consecutive_failures,
                        mentions, last_warning, node
                 FROM source ORDER BY name",
                &[],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(rows
            .iter()
            .map(|r| SourceHealth {
                name: r.get(0),
                source_type: r.get(1),
                kind: Kind::from_code(r.get(2)),
                last_run: time(r.get(3)),
                last_success: time(r.get(4)),
                last_error: r.get(5),
                consecutive_failures: r.get::<_, i64>(6).max(0) as u64,
                mentions: r.get::<_, i64>(7).max(0) as u64,
                last_warning: r.get(8),
                node: r.get(9),
            })
            .collect())
    }
}
