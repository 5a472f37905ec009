//! The HTTP client's host memory on PostgreSQL (robots.txt and back-offs
//! every node shares); the SQL and the SQLite side are in `store/hosts.rs`.

use super::Postgres;
use crate::http::StoredRobots;
use crate::store::hosts::{millis, robots_row, save_backoff, BACKOFF, ROBOTS, SAVE_ROBOTS};
use crate::store::StoreError;
use chrono::{DateTime, Utc};

impl Postgres {
    /// The stored robots.txt of `origin`.
    pub async fn robots(&self, origin: &str) -> Result<Option<StoredRobots>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(ROBOTS, &[&origin])
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.map(|r| robots_row(r.get(0), r.get(1), r.get(2))))
    }

    pub async fn save_robots(&self, origin: &str, robots: &StoredRobots) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                SAVE_ROBOTS,
                &[
                    &origin,
                    &robots.body,
                    &robots.fetched_at.timestamp(),
                    &robots.expires_at.timestamp(),
                ],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }

    /// Until when `origin` asked to be left alone.
    pub async fn backoff(&self, origin: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(BACKOFF, &[&origin])
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.and_then(|r| millis(r.get(0))))
    }

    pub async fn save_backoff(
        &self,
        origin: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                &save_backoff("greatest"),
                &[&origin, &until.timestamp_millis(), &reason],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }
}
