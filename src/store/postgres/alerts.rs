//! The `alert` table on PostgreSQL, for `[[alert]]` on a cluster: the same
//! operations as the SQLite store's (store/alerts.rs) — whether a window
//! fired, recording a crossing once per (alert, window) under the UNIQUE
//! key, claiming due deliveries so that one node delivers each, and writing
//! how a delivery went — and the window counts an alert compares, counted
//! from the mention rows (equal to the count tables, which stay equal to a
//! direct COUNT). The references an alert's payload names are
//! `Postgres::references` (read.rs), as reports read them.

use super::{PgError, Postgres};
use crate::sources::Kind;
use crate::store::{KindCounts, NewAlert, PendingDelivery};
use chrono::{DateTime, Utc};

impl Postgres {
    /// Whether the alert `key` already fired for the window starting at `window_start`.
    pub async fn alert_fired(
        &self,
        key: &str,
        window_start: DateTime<Utc>,
    ) -> Result<bool, PgError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT 1 FROM alert WHERE key = $1 AND window_start = $2",
                &[&key, &window_start.timestamp()],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.is_some())
    }

    /// Per kind, the mentions of `topic` in `[from, to)` that are not excluded.
    pub async fn window_counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT m.kind, count(*) FROM mention m JOIN topic t ON t.id = m.topic_id
                 WHERE t.name = $1 AND m.at >= $2 AND m.at < $3 AND m.excluded_by IS NULL
                 GROUP BY m.kind",
                &[&topic, &from.timestamp(), &to.timestamp()],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        let mut counts = KindCounts::default();
        for r in rows {
            let n = r.get::<_, i64>(1).max(0) as u64;
            match Kind::from_code(r.get(0)) {
                Some(Kind::Web) => counts.web += n,
                Some(Kind::Social) => counts.social += n,
                Some(Kind::Forum) => counts.forum += n,
                None => {}
            }
        }
        Ok(counts)
    }

    /// Records a fired alert, due for delivery at once. Returns its id, or
    /// None when the alert already fired for that window, on this node or
    /// another: a window fires at most once across the cluster.
    pub async fn record_alert(&self, alert: &NewAlert) -> Result<Option<i64>, PgError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO alert (key, topic, window_secs, trigger, window_start, fired_at,
                                    count, baseline, payload, next_attempt)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6)
                 ON CONFLICT (key, window_start) DO NOTHING
                 RETURNING id",
                &[
                    &alert.key,
                    &alert.topic,
                    &i64::try_from(alert.window_secs).unwrap_or(i64::MAX),
                    &alert.trigger,
                    &alert.window_start.timestamp(),
                    &alert.fired_at.timestamp(),
                    &i64::try_from(alert.count).unwrap_or(i64::MAX),
                    &alert.baseline,
                    &alert.payload,
                ],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Claims the undelivered alerts of `keys` whose next attempt is due at
    /// `now`, with fewer than `max_attempts` attempts, that no node holds;
    /// each is held until `until`. Rows another node is claiming at this
    /// moment are skipped, so each delivery goes to one node.
    pub async fn claim_alert_deliveries(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Vec<PendingDelivery>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "WITH due AS (
                     SELECT id FROM alert
                     WHERE delivered_at IS NULL AND next_attempt IS NOT NULL AND next_attempt <= $2
                       AND attempts < $3
                       AND (claimed_until IS NULL OR claimed_until <= $2)
                       AND key = ANY($4::text[])
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE alert SET claimed_until = $1 FROM due
                 WHERE alert.id = due.id
                 RETURNING alert.id, alert.key, alert.payload, alert.attempts",
                &[
                    &until.timestamp(),
                    &now.timestamp(),
                    &i64::from(max_attempts),
                    &keys,
                ],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        let mut claimed: Vec<PendingDelivery> = rows
            .iter()
            .map(|r| PendingDelivery {
                id: r.get(0),
                key: r.get(1),
                payload: r.get(2),
                attempts: u32::try_from(r.get::<_, i64>(3)).unwrap_or(u32::MAX),
            })
            .collect();
        claimed.sort_by_key(|p| p.id);
        Ok(claimed)
    }

    /// Writes how one delivery attempt ended and releases the claim, as
    /// `Store::finish_alert_delivery` does.
    pub async fn finish_alert_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        outcome: Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), PgError> {
        let client = self.client().await?;
        let done = match outcome {
            Ok(()) => {
                client
                    .execute(
                        "UPDATE alert SET attempts = attempts + 1, delivered_at = $2, last_error = NULL,
                                          next_attempt = NULL, claimed_until = NULL
                         WHERE id = $1",
                        &[&id, &now.timestamp()],
                    )
                    .await
            }
            Err(reason) => {
                client
                    .execute(
                        "UPDATE alert SET attempts = attempts + 1, last_error = $2,
                                          next_attempt = $3, claimed_until = NULL
                         WHERE id = $1",
                        &[&id, &reason, &retry_at.map(|t| t.timestamp())],
                    )
                    .await
            }
        };
        done.map_err(|e| self.query_error(e))?;
        Ok(())
    }
}
