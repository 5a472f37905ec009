//! The count tables kept at insert time (`count_source`, `count_host`, and
//! `source.mentions`): what a set of mentions adds to them, or takes from
//! them when mentions are excluded or deleted. One place keeps them equal to
//! counting the mention rows that count.

use rusqlite::{OptionalExtension, Transaction};
use rustc_hash::FxHashMap;

/// Bucket lengths of the count tables: hours, UTC days, and blocks of 8 and
/// 64 days from the epoch; each divides the next, so buckets nest.
pub(crate) const SPANS: [i64; 4] = [3600, 86_400, 8 * 86_400, 64 * 86_400];

/// What a mention contributes to the count tables.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counted {
    pub source_id: i64,
    pub kind: i64,
    /// The host's id for web mentions (references); None otherwise.
    pub host_id: Option<i64>,
    pub at: i64,
}

/// Count-table rows to add or take, keyed as their primary keys. The
/// maps hash with FxHash (the keys are our own ids and times, and a crawl's
/// writer adds to them four times per new mention); their rows are sorted
/// by key before they are written.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// (topic, span, bucket, source, kind) → mentions
    by_source: FxHashMap<(i64, i64, i64, i64, i64), i64>,
    /// (topic, span, bucket, host) → (mentions, earliest time)
    by_host: FxHashMap<(i64, i64, i64, i64), (i64, i64)>,
    /// source → mentions
    per_source: FxHashMap<i64, i64>,
}

/// A map's entries in key order: count rows are then visited in the order
/// their table stores them, each page of it once (and for `by_host`, a
/// topic's fine spans before its coarse ones).
fn in_key_order<K: Ord, V>(map: FxHashMap<K, V>) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = map.into_iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    v
}

/// A tally as rows of the count tables, sorted by their primary keys.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct TallyRows {
    /// (topic, span, bucket, source, kind, n)
    pub by_source: Vec<(i64, i64, i64, i64, i64, i64)>,
    /// (topic, span, bucket, host, n, first)
    pub by_host: Vec<(i64, i64, i64, i64, i64, i64)>,
    /// (source, n)
    pub per_source: Vec<(i64, i64)>,
}

/// Web mentions are `kind` 0; only they count for the references.
const WEB: i64 = 0;

impl Tally {
    pub fn add(&mut self, topic: i64, m: &Counted) {
        *self.per_source.entry(m.source_id).or_default() += 1;
        for span in SPANS {
            let bucket = m.at.div_euclid(span) * span;
            *self
                .by_source
                .entry((topic, span, bucket, m.source_id, m.kind))
                .or_default() += 1;
            if let (Some(host_id), WEB) = (m.host_id, m.kind) {
                let e = self
                    .by_host
                    .entry((topic, span, bucket, host_id))
                    .or_insert((0, m.at));
                e.0 += 1;
                e.1 = e.1.min(m.at);
            }
        }
    }

    /// The rows to add, sorted by key (so that concurrent writers of a
    /// shared database take row locks in one order). Backend-neutral: the
    /// SQLite and the PostgreSQL write paths both write these.
    pub fn rows(self) -> TallyRows {
        let mut by_source: Vec<_> = self
            .by_source
            .into_iter()
            .map(|((topic, span, bucket, source, kind), n)| (topic, span, bucket, source, kind, n))
            .collect();
        by_source.sort_unstable();
        let by_host = in_key_order(self.by_host)
            .into_iter()
            .map(|((topic, span, bucket, host), (n, first))| (topic, span, bucket, host, n, first))
            .collect();
        let mut per_source: Vec<_> = self.per_source.into_iter().collect();
        per_source.sort_unstable();
        TallyRows {
            by_source,
            by_host,
            per_source,
        }
    }

    /// Adds the tallied mentions to the count tables.
    pub fn add_to(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let rows = self.rows();
        let mut count_source = tx.prepare_cached(
            "INSERT INTO count_source (topic_id, span, bucket, source_id, kind, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for row in rows.by_source {
            count_source.execute(row)?;
        }
        let mut count_host = tx.prepare_cached(
            "INSERT INTO count_host (topic_id, span, bucket, host_id, n, first)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO UPDATE SET n = n + excluded.n, first = min(first, excluded.first)",
        )?;
        for row in rows.by_host {
            count_host.execute(row)?;
        }
        let mut total =
            tx.prepare_cached("UPDATE source SET mentions = mentions + ?2 WHERE id = ?1")?;
        for row in rows.per_source {
            total.execute(row)?;
        }
        Ok(())
    }

    /// Takes the tallied mentions out of the count tables. Call it after the
    /// mentions stopped counting (deleted, or excluded): a bucket's earliest
    /// time is read again from the mentions that still count.
    pub fn take_from(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        // A row whose mentions all go is deleted in one statement; only the
        // rest are updated (excluding a whole domain empties most rows).
        let mut gone = tx.prepare_cached(
            "DELETE FROM count_source
             WHERE topic_id = ?1 AND span = ?2 AND bucket = ?3 AND source_id = ?4 AND kind = ?5 AND n <= ?6",
        )?;
        let mut take = tx.prepare_cached(
            "UPDATE count_source SET n = n - ?6
             WHERE topic_id = ?1 AND span = ?2 AND bucket = ?3 AND source_id = ?4 AND kind = ?5",
        )?;
        for ((topic, span, bucket, source, kind), n) in in_key_order(self.by_source) {
            if gone.execute((topic, span, bucket, source, kind, n))? == 0 {
                take.execute((topic, span, bucket, source, kind, n))?;
            }
        }

        let mut gone = tx.prepare_cached(
            "DELETE FROM count_host
             WHERE topic_id = ?1 AND span = ?2 AND bucket = ?3 AND host_id = ?4 AND n <= ?5",
        )?;
        let mut take = tx.prepare_cached(
            "UPDATE count_host SET n = n - ?5
             WHERE topic_id = ?1 AND span = ?2 AND bucket = ?3 AND host_id = ?4
             RETURNING first",
        )?;
        // Fine spans first (key order): a coarser bucket's earliest time
        // is read from the finer buckets inside it, already corrected.
        let mut first_from_mentions = tx.prepare_cached(
            "SELECT min(at) FROM mention
             WHERE host = (SELECT name FROM host WHERE id = ?4) AND topic_id = ?1
               AND at >= ?2 AND at < ?3 AND kind = 0 AND excluded_by IS NULL",
        )?;
        let mut first_from_finer = tx.prepare_cached(
            "SELECT min(first) FROM count_host
             WHERE topic_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4 AND host_id = ?5",
        )?;
        let mut set_first = tx.prepare_cached(
            "UPDATE count_host SET first = ?5
             WHERE topic_id = ?1 AND span = ?2 AND bucket = ?3 AND host_id = ?4",
        )?;
        for ((topic, span, bucket, host_id), (n, earliest_taken)) in in_key_order(self.by_host) {
            if gone.execute((topic, span, bucket, host_id, n))? > 0 {
                continue;
            }
            let first: Option<i64> = take
                .query_row((topic, span, bucket, host_id, n), |r| r.get(0))
                .optional()?;
            match first {
                None => continue,
                // The bucket's earliest mention still counts.
                Some(first) if earliest_taken > first => {}
                Some(_) => {
                    let first: Option<i64> = match SPANS.iter().position(|&s| s == span) {
                        Some(0) | None => first_from_mentions
                            .query_row((topic, bucket, bucket + span, host_id), |r| r.get(0))?,
                        Some(level) => first_from_finer.query_row(
                            (topic, SPANS[level - 1], bucket, bucket + span, host_id),
                            |r| r.get(0),
                        )?,
                    };
                    if let Some(first) = first {
                        set_first.execute((topic, span, bucket, host_id, first))?;
                    }
                }
            }
        }

        let mut total =
            tx.prepare_cached("UPDATE source SET mentions = mentions - ?2 WHERE id = ?1")?;
        for (source, n) in self.per_source {
            total.execute((source, n))?;
        }
        Ok(())
    }
}

/// Test support: the count tables checked against counting the rows.
#[cfg(test)]
pub(crate) mod exact {
    use crate::store::Store;

    fn q(store: &Store, sql: &str) -> i64 {
        store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Every derived table equals what a direct count of the mentions gives.
    pub(crate) fn assert_counts_exact(store: &Store) {
        let spans = "(SELECT 3600 AS span UNION ALL SELECT 86400 UNION ALL SELECT 691200 UNION ALL SELECT 5529600) s";
        let direct_source = format!(
            "SELECT topic_id, s.span, at - ((at % s.span) + s.span) % s.span AS b, source_id, kind, count(*)
             FROM mention CROSS JOIN {spans} WHERE excluded_by IS NULL GROUP BY topic_id, s.span, b, source_id, kind"
        );
        let direct_host = format!(
            "SELECT m.topic_id, s.span, m.at - ((m.at % s.span) + s.span) % s.span AS b, h.id, count(*), min(m.at)
             FROM mention m JOIN host h ON h.name = m.host CROSS JOIN {spans}
             WHERE m.kind = 0 AND m.excluded_by IS NULL GROUP BY m.topic_id, s.span, b, h.id"
        );
        let direct_bands =
            "SELECT m.topic_id, h.id, p.n * 65536 + ((m.simhash >> (16 * p.n)) & 65535), m.simhash, m.id
             FROM mention m JOIN host h ON h.name = m.host
             CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) p";
        for (stored, direct) in [
            ("SELECT * FROM count_source", direct_source.as_str()),
            ("SELECT * FROM count_host", direct_host.as_str()),
            ("SELECT * FROM simhash_band", direct_bands),
        ] {
            for (a, b) in [(stored, direct), (direct, stored)] {
                let differ = q(store, &format!("SELECT count(*) FROM ({a} EXCEPT {b})"));
                assert_eq!(differ, 0, "{a}\n  has rows not in\n{b}");
            }
        }
        assert_eq!(
            q(
                store,
                "SELECT count(*) FROM source
                 WHERE mentions != (SELECT count(*) FROM mention WHERE source_id = source.id AND excluded_by IS NULL)"
            ),
            0
        );
    }
}
