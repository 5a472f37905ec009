//! The count tables on PostgreSQL (`count_source`, `count_host`,
//! `source.mentions`): what a crawl's commit or an include adds to them,
//! and what an exclusion or retention takes from them — the same rows as
//! the SQLite store's `Tally::add_to` and `Tally::take_from`
//! (store/counts.rs), written with one statement a table.
//!
//! Adding is safe while other nodes commit (`n = n + excluded.n` under the
//! row lock). Taking is done only under the exclusion table's lock in SHARE
//! ROW EXCLUSIVE mode, which no commit holds at the same time (see
//! `commit.rs`): nothing else writes a count row meanwhile, so an UPDATE
//! over many rows cannot meet a commit in a deadlock.

use crate::store::counts::{Tally, SPANS};
use deadpool_postgres::Transaction;

type Row6 = (i64, i64, i64, i64, i64, i64);

/// Rows of six integers as six columns, for `unnest`.
fn columns(rows: &[Row6]) -> [Vec<i64>; 6] {
    let mut out: [Vec<i64>; 6] = Default::default();
    for r in rows {
        for (column, value) in out.iter_mut().zip([r.0, r.1, r.2, r.3, r.4, r.5]) {
            column.push(value);
        }
    }
    out
}

/// Adds a tally to the count tables: one statement a table, rows in key
/// order, each an atomic `n = n + excluded.n` (never lost to a concurrent add).
pub(super) async fn add_tally(
    tx: &Transaction<'_>,
    tally: Tally,
) -> Result<(), tokio_postgres::Error> {
    let rows = tally.rows();
    if !rows.by_source.is_empty() {
        let c = columns(&rows.by_source);
        tx.execute(
            "INSERT INTO count_source (topic_id, span, bucket, source_id, kind, n)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
             ORDER BY 1, 2, 3, 4, 5
             ON CONFLICT (topic_id, span, bucket, source_id, kind)
             DO UPDATE SET n = count_source.n + excluded.n",
            &[&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]],
        )
        .await?;
    }
    if !rows.by_host.is_empty() {
        let c = columns(&rows.by_host);
        tx.execute(
            "INSERT INTO count_host (topic_id, span, bucket, host_id, n, first)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
             ORDER BY 1, 2, 3, 4
             ON CONFLICT (topic_id, span, bucket, host_id)
             DO UPDATE SET n = count_host.n + excluded.n, first = least(count_host.first, excluded.first)",
            &[&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]],
        )
        .await?;
    }
    for (source, n) in rows.per_source {
        tx.execute(
            "UPDATE source SET mentions = mentions + $2 WHERE id = $1",
            &[&source, &n],
        )
        .await?;
    }
    Ok(())
}

/// Takes a tally out of the count tables, after its mentions stopped
/// counting (deleted or excluded): rows whose mentions all went are
/// deleted, and a host bucket whose earliest mention went has its
/// earliest time read again, fine spans first (as `Tally::take_from`).
/// Call only while holding the exclusion table's lock (see the module).
pub(super) async fn take_tally(
    tx: &Transaction<'_>,
    tally: Tally,
) -> Result<(), tokio_postgres::Error> {
    let rows = tally.rows();
    if !rows.by_source.is_empty() {
        let c = columns(&rows.by_source);
        tx.execute(
            "UPDATE count_source c SET n = c.n - t.n
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
                  AS t(topic_id, span, bucket, source_id, kind, n)
             WHERE c.topic_id = t.topic_id AND c.span = t.span AND c.bucket = t.bucket
               AND c.source_id = t.source_id AND c.kind = t.kind",
            &[&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]],
        )
        .await?;
        tx.execute(
            "DELETE FROM count_source c
             USING unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                  AS t(topic_id, span, bucket, source_id, kind)
             WHERE c.topic_id = t.topic_id AND c.span = t.span AND c.bucket = t.bucket
               AND c.source_id = t.source_id AND c.kind = t.kind AND c.n <= 0",
            &[&c[0], &c[1], &c[2], &c[3], &c[4]],
        )
        .await?;
    }
    if !rows.by_host.is_empty() {
        let c = columns(&rows.by_host);
        // `first` is not changed here: the row returns the bucket's earliest
        // time before the take, to compare with the earliest time taken.
        let taken = tx
            .query(
                "UPDATE count_host c SET n = c.n - t.n
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
                      AS t(topic_id, span, bucket, host_id, n, first)
                 WHERE c.topic_id = t.topic_id AND c.span = t.span AND c.bucket = t.bucket
                   AND c.host_id = t.host_id
                 RETURNING c.topic_id, c.span, c.bucket, c.host_id, c.n, c.first, t.first",
                &[&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]],
            )
            .await?;
        tx.execute(
            "DELETE FROM count_host c
             USING unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
                  AS t(topic_id, span, bucket, host_id)
             WHERE c.topic_id = t.topic_id AND c.span = t.span AND c.bucket = t.bucket
               AND c.host_id = t.host_id AND c.n <= 0",
            &[&c[0], &c[1], &c[2], &c[3]],
        )
        .await?;
        // Buckets that keep mentions but lost their earliest one, in key
        // order: a topic's fine spans before its coarse ones.
        let mut stale: Vec<(i64, i64, i64, i64)> = taken
            .iter()
            .filter(|r| r.get::<_, i64>(4) > 0 && r.get::<_, i64>(6) <= r.get::<_, i64>(5))
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        stale.sort_unstable();
        for (topic, span, bucket, host_id) in stale {
            let first: Option<i64> = match SPANS.iter().position(|&s| s == span) {
                Some(0) | None => tx
                    .query_one(
                        "SELECT min(at) FROM mention
                         WHERE host = (SELECT name FROM host WHERE id = $4) AND topic_id = $1
                           AND at >= $2 AND at < $3 AND kind = 0 AND excluded_by IS NULL",
                        &[&topic, &bucket, &(bucket + span), &host_id],
                    )
                    .await?
                    .get(0),
                Some(level) => tx
                    .query_one(
                        "SELECT min(first) FROM count_host
                         WHERE topic_id = $1 AND span = $2 AND bucket >= $3 AND bucket < $4
                           AND host_id = $5",
                        &[
                            &topic,
                            &SPANS[level - 1],
                            &bucket,
                            &(bucket + span),
                            &host_id,
                        ],
                    )
                    .await?
                    .get(0),
            };
            if let Some(first) = first {
                tx.execute(
                    "UPDATE count_host SET first = $5
                     WHERE topic_id = $1 AND span = $2 AND bucket = $3 AND host_id = $4",
                    &[&topic, &span, &bucket, &host_id, &first],
                )
                .await?;
            }
        }
    }
    if !rows.per_source.is_empty() {
        let (sources, n): (Vec<i64>, Vec<i64>) = rows.per_source.into_iter().unzip();
        tx.execute(
            "UPDATE source s SET mentions = s.mentions - t.n
             FROM unnest($1::bigint[], $2::bigint[]) AS t(id, n) WHERE s.id = t.id",
            &[&sources, &n],
        )
        .await?;
    }
    Ok(())
}
