//! Retention on PostgreSQL: the same as the SQLite store's `Store::prune`
//! (store/retention.rs) for the same rows — mentions older than
//! `[database] retention` with their sightings, their own exclusions,
//! headline keys, fingerprints and counts; seen items, sightings and HTTP
//! validators older than twice the longest lookback — and the same report.
//!
//! Mentions go in short transactions of a bounded number of rows. Each
//! takes the exclusion table's lock first (`commit::LOCK_EXCLUSIONS`), so a
//! batch and a crawl's commit never interleave: a commit that found an old
//! mention either finished before the batch deleted it or looks again
//! after, and the count rows are never written by both at once. A batch is
//! small, so commits wait for it briefly. Bookkeeping rows are deleted in
//! batches without that lock (nothing counts them).
//!
//! On a cluster the daily retention runs on one node a day: the node
//! claims the day (`claim_retention_day`) before it prunes.

use super::commit::LOCK_EXCLUSIONS;
use super::counts::take_tally;
use super::{PgError, Postgres};
use crate::store::counts::{Counted, Tally};
use crate::store::headlines;
use crate::store::mentions::bands;
use crate::store::retention::{Batches, Bookkeeping, Next, Walk, Walker, BOOKKEEPING};
use crate::store::{Pruned, RetentionPlan};
use deadpool_postgres::Transaction;
use std::collections::HashMap;

impl Postgres {
    /// Applies `plan` now (`Store::prune`): short transactions, checking
    /// `keep_going` before each one; what is done stays done and consistent.
    pub async fn prune(
        &self,
        plan: &RetentionPlan,
        keep_going: &(dyn Fn() -> bool + Sync),
    ) -> Result<Pruned, PgError> {
        self.prune_in(plan, keep_going, Batches::default()).await
    }

    pub(super) async fn prune_in(
        &self,
        plan: &RetentionPlan,
        keep_going: &(dyn Fn() -> bool + Sync),
        batches: Batches,
    ) -> Result<Pruned, PgError> {
        let mut client = self.client().await?;
        let done = async {
            let mut pruned = Pruned {
                removed: Vec::new(),
                complete: true,
            };
            match &plan.mentions {
                Some(cutoff) => {
                    let before = cutoff.before.timestamp();
                    // Recorded first, so a crawl meanwhile does not store again what
                    // goes now. Under the exclusion table's lock: a commit reads the
                    // cutoff once, under its SHARE lock, so it either read this one or
                    // commits before it is recorded (and before the first batch below).
                    let tx = client.transaction().await?;
                    tx.batch_execute(LOCK_EXCLUSIONS).await?;
                    tx.execute(
                        "INSERT INTO retention (id, mentions_before) VALUES (1, $1)
                         ON CONFLICT (id) DO UPDATE SET mentions_before = excluded.mentions_before",
                        &[&before],
                    )
                    .await?;
                    tx.commit().await?;
                    let topics: Vec<i64> = client
                        .query("SELECT id FROM topic ORDER BY id", &[])
                        .await?
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    let mut removed = 0u64;
                    let mut complete = true;
                    'topics: for topic in topics {
                        loop {
                            if !keep_going() {
                                complete = false;
                                break 'topics;
                            }
                            let tx = client.transaction().await?;
                            tx.batch_execute(LOCK_EXCLUSIONS).await?;
                            let n = delete_mentions(&tx, topic, before, batches.mentions).await?;
                            tx.commit().await?;
                            removed += n as u64;
                            if n < batches.mentions {
                                break;
                            }
                            tokio::time::sleep(batches.pause).await;
                        }
                    }
                    pruned.removed.push(("mentions", removed));
                    pruned.complete &= complete;
                }
                None => {
                    let tx = client.transaction().await?;
                    tx.batch_execute(LOCK_EXCLUSIONS).await?;
                    tx.execute("DELETE FROM retention", &[]).await?;
                    tx.commit().await?;
                }
            }
            let before = plan.bookkeeping.before.timestamp();
            for b in BOOKKEEPING {
                let (removed, complete) = if pruned.complete {
                    prune_bookkeeping(&client, b, before, keep_going, batches).await?
                } else {
                    (0, false)
                };
                pruned.removed.push((b.kind, removed));
                pruned.complete &= complete;
            }
            Ok::<_, tokio_postgres::Error>(pruned)
        };
        done.await.map_err(|e| self.query_error(e))
    }

    /// Claims the daily retention of the UTC day `now` (unix seconds, the
    /// database's clock) for `node`: true for the one node that claims it
    /// first, false for every other node that day. A claim is a row of
    /// `retention_claim`, one per day (its primary key decides); claims of
    /// the days before yesterday go in the same statement.
    pub async fn claim_retention_day(&self, node: &str, now: i64) -> Result<bool, PgError> {
        let day = now.div_euclid(86_400);
        let client = self.client().await?;
        let row = client
            .query_opt(
                "WITH old AS (DELETE FROM retention_claim WHERE day < $1::bigint - 1)
                 INSERT INTO retention_claim (day, node, claimed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (day) DO NOTHING
                 RETURNING node",
                &[&day, &node, &now],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.is_some())
    }
}

/// Deletes a bookkeeping table's rows older than `before`, in batches
/// with pauses between them (`prune_bookkeeping` in store/retention.rs);
/// returns how many went and whether it finished.
async fn prune_bookkeeping(
    client: &deadpool_postgres::Object,
    b: &Bookkeeping,
    before: i64,
    keep_going: &(dyn Fn() -> bool + Sync),
    batches: Batches,
) -> Result<(u64, bool), tokio_postgres::Error> {
    if let Some(walk) = b.walk(|i| format!("${i}")) {
        return walk_bookkeeping(client, &walk, before, keep_going, batches).await;
    }
    let delete = client.prepare_cached(&b.delete_batch("$1", "$2")).await?;
    let limit = batches.bookkeeping as i64;
    let mut removed = 0u64;
    loop {
        if !keep_going() {
            return Ok((removed, false));
        }
        let n = client.execute(&delete, &[&before, &limit]).await?;
        removed += n;
        if n < batches.bookkeeping as u64 {
            return Ok((removed, true));
        }
        tokio::time::sleep(batches.pause).await;
    }
}

/// Walks a table's primary key in windows (`walk_bookkeeping` in
/// store/retention.rs): a window's old rows go in one statement, run only
/// for a window that has any, with a pause after every
/// `batches.bookkeeping` rows deleted.
async fn walk_bookkeeping(
    client: &deadpool_postgres::Object,
    walk: &Walk,
    before: i64,
    keep_going: &(dyn Fn() -> bool + Sync),
    batches: Batches,
) -> Result<(u64, bool), tokio_postgres::Error> {
    use tokio_postgres::types::ToSql;
    fn params(values: &[i64]) -> Vec<&(dyn ToSql + Sync)> {
        values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
    }
    let window_end = client.prepare_cached(&walk.window_end).await?;
    let find_old = client.prepare_cached(&walk.any_old).await?;
    let delete = client.prepare_cached(&walk.delete).await?;
    let mut walker = Walker::new(walk, before, batches);
    loop {
        if !keep_going() {
            return Ok((walker.removed(), false));
        }
        let end: Option<Vec<i64>> = client
            .query_opt(&window_end, &params(&walker.window_end_params()))
            .await?
            .map(|r| (0..walk.columns).map(|i| r.get::<_, i64>(i)).collect());
        let window = walker.window_params(end.as_deref());
        let mut deleted = 0;
        if client
            .query_opt(&find_old, &params(&window))
            .await?
            .is_some()
        {
            deleted = client.execute(&delete, &params(&window)).await?;
        }
        match walker.next(end, deleted) {
            Next::Done => return Ok((walker.removed(), true)),
            Next::Pause => tokio::time::sleep(batches.pause).await,
            Next::Go => {}
        }
    }
}

/// Deletes up to `limit` of the oldest mentions of `topic` before `before`
/// and takes them out of every count (`delete_mentions` in
/// store/retention.rs); returns how many went. Only the rows this statement
/// deleted are taken out, so two prunes at once never take a mention twice.
async fn delete_mentions(
    tx: &Transaction<'_>,
    topic: i64,
    before: i64,
    limit: usize,
) -> Result<usize, tokio_postgres::Error> {
    let gone = tx
        .query(
            "DELETE FROM mention WHERE id IN
               (SELECT id FROM mention WHERE topic_id = $1 AND at < $2 ORDER BY at LIMIT $3)
             RETURNING id, source_id, kind, host, at, simhash, excluded_by, title",
            &[&topic, &before, &(limit as i64)],
        )
        .await?;
    if gone.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = gone.iter().map(|r| r.get(0)).collect();
    tx.execute(
        "DELETE FROM sighting WHERE mention_id = ANY($1::bigint[])",
        &[&ids],
    )
    .await?;
    // An exclusion of one of these mentions goes with it; a domain or author rule stays.
    let rules: Vec<i64> = gone
        .iter()
        .filter_map(|r| r.get::<_, Option<i64>>(6))
        .collect();
    if !rules.is_empty() {
        tx.execute(
            "DELETE FROM exclusion WHERE id = ANY($1::bigint[]) AND what = 'mention'",
            &[&rules],
        )
        .await?;
    }
    let names: Vec<&str> = gone
        .iter()
        .filter_map(|r| r.get::<_, Option<&str>>(3))
        .collect();
    let host_ids: HashMap<String, i64> = if names.is_empty() {
        HashMap::new()
    } else {
        tx.query(
            "SELECT name, id FROM host WHERE name = ANY($1::text[])",
            &[&names],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    };
    let mut keys = (Vec::new(), Vec::new(), Vec::new());
    let mut fingerprints = (Vec::new(), Vec::new(), Vec::new());
    let mut tally = Tally::default();
    for r in &gone {
        let id: i64 = r.get(0);
        let host: Option<&str> = r.get(3);
        let at: i64 = r.get(4);
        let simhash: i64 = r.get(5);
        let excluded_by: Option<i64> = r.get(6);
        if let Some(key) = host.and_then(|h| headlines::key(h, r.get(7))) {
            keys.0.push(key);
            keys.1.push(at);
            keys.2.push(id);
        }
        let host_id = host.and_then(|h| host_ids.get(h).copied());
        if let Some(host_id) = host_id {
            // Each stored fingerprint of a host is its mention's alone.
            for band in bands(simhash as u64) {
                fingerprints.0.push(host_id);
                fingerprints.1.push(band);
                fingerprints.2.push(simhash);
            }
        }
        // An excluded mention was already taken out of the counts.
        if excluded_by.is_none() {
            tally.add(
                topic,
                &Counted {
                    source_id: r.get(1),
                    kind: r.get(2),
                    host_id,
                    at,
                },
            );
        }
    }
    if !keys.0.is_empty() {
        tx.execute(
            "DELETE FROM headline h
             USING unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS t(key, at, mention_id)
             WHERE h.topic_id = $1 AND h.key = t.key AND h.at = t.at AND h.mention_id = t.mention_id",
            &[&topic, &keys.0, &keys.1, &keys.2],
        )
        .await?;
    }
    if !fingerprints.0.is_empty() {
        tx.execute(
            "DELETE FROM simhash_band b
             USING unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS t(host_id, band, simhash)
             WHERE b.topic_id = $1 AND b.host_id = t.host_id AND b.band = t.band
               AND b.simhash = t.simhash",
            &[&topic, &fingerprints.0, &fingerprints.1, &fingerprints.2],
        )
        .await?;
    }
    take_tally(tx, tally).await?;
    Ok(gone.len())
}
