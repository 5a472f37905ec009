//! The reads behind reports, charts, `sources` and `exclusions`, from
//! PostgreSQL: the same answers as the SQLite store's (store/stats.rs,
//! store/exclusions.rs) for the same rows. A window is cut as SQLite cuts
//! it (`Split`): partial hours at its edges counted from mention rows, whole
//! hours, days and longer blocks from the count tables. Each read is one
//! statement — edges and buckets joined by `UNION ALL` — so it sees one
//! state of the database and costs one round trip; the window's bounds are
//! integers this process computed and are written into the statement,
//! which lets the planner see the exact ranges. A report of many topics
//! asks for all of them at once (`report_figures`): three statements, each
//! planned once, rather than three a topic.
//!
//! Text is ordered bytewise (`COLLATE "C"`), as SQLite orders it, whatever
//! the database's collation.

use super::{PgError, Postgres};
use crate::sources::Kind;
use crate::store::exclusions::Exclusion;
use crate::store::stats::{
    rank_references, series_points, time, whole_bucket, Bucket, KindCounts, Reference, SeriesPoint,
    SourceHealth, Split, TopicFigures,
};
use crate::store::FiredAlert;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::fmt::Write as _;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::Row;

/// The topic's id as a scalar subquery on `$1` (NULL for an unknown topic,
/// which then selects nothing).
const TOPIC: &str = "(SELECT id FROM topic WHERE name = $1)";

/// The ids of the topics named in `$1` (a text array), for `topic_id =
/// ANY(…)`: unknown names select nothing.
const TOPICS: &str = "ARRAY(SELECT id FROM topic WHERE name = ANY($1))";

impl Postgres {
    /// Rows of `sql` with `params`, errors as `PgError`.
    pub(super) async fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, PgError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(sql)
            .await
            .map_err(|e| self.query_error(e))?;
        client
            .query(&stmt, params)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Column `i` of `row`; a type the schema does not give is an error, not a panic.
    pub(super) fn get<'a, T: FromSql<'a>>(&self, row: &'a Row, i: usize) -> Result<T, PgError> {
        row.try_get(i).map_err(|e| self.query_error(e))
    }

    /// The figures of a report of each of `topics` over `[from, to)`, in
    /// the order given: three statements whatever the number of topics
    /// (each planned once and each a single round trip), where asking
    /// topic by topic costs three a topic.
    pub async fn report_figures(
        &self,
        topics: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        top: usize,
    ) -> Result<Vec<TopicFigures>, PgError> {
        let summaries = self.window_summaries(topics, from, to).await?;
        let undated = self.undated_counts_of(topics, from, to).await?;
        let references = self.references_of(topics, from, to, top).await?;
        Ok(summaries
            .into_iter()
            .zip(undated)
            .zip(references)
            .map(
                |(((counts, by_source), undated), references)| TopicFigures {
                    counts,
                    by_source,
                    undated,
                    references,
                },
            )
            .collect())
    }

    /// Per kind and per source name, the mentions of `topic` in `[from, to)`
    /// (`Store::window_summary`).
    pub async fn window_summary(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(KindCounts, HashMap<String, u64>), PgError> {
        Ok(one(self.window_summaries(&[topic], from, to).await?))
    }

    /// [`Postgres::window_summary`] of each of `topics`, in one statement.
    async fn window_summaries(
        &self,
        topics: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(KindCounts, HashMap<String, u64>)>, PgError> {
        let split = Split::of(from.timestamp(), to.timestamp());
        let mut out = vec![(KindCounts::default(), HashMap::new()); topics.len()];
        let mut parts = Vec::new();
        for &(a, b) in &split.edges {
            parts.push(format!(
                "SELECT topic_id, source_id, kind, 1::bigint AS n FROM mention
                 WHERE topic_id = ANY({TOPICS}) AND at >= {a} AND at < {b} AND excluded_by IS NULL"
            ));
        }
        for &(span, a, b) in &split.buckets {
            parts.push(format!(
                "SELECT topic_id, source_id, kind, n FROM count_source
                 WHERE topic_id = ANY({TOPICS}) AND span = {span} AND bucket >= {a} AND bucket < {b}"
            ));
        }
        if parts.is_empty() {
            return Ok(out);
        }
        // One aggregation over every part's rows, then the names of the
        // (far fewer) sums: joining first looked a source up per row.
        let sql = format!(
            "SELECT t.name, s.name, w.kind, w.n FROM (
                 SELECT topic_id, source_id, kind, sum(n)::bigint AS n FROM ({}) u
                 GROUP BY topic_id, source_id, kind
             ) w
             JOIN topic t ON t.id = w.topic_id
             LEFT JOIN source s ON s.id = w.source_id",
            parts.join(" UNION ALL ")
        );
        let index = positions(topics);
        for r in self.rows(&sql, &[&topics]).await? {
            let Some(&i) = index.get(self.get::<&str>(&r, 0)?) else {
                continue;
            };
            let (counts, by_name) = &mut out[i];
            let name: Option<String> = self.get(&r, 1)?;
            let n: i64 = self.get(&r, 3)?;
            counts.add(self.get(&r, 2)?, n);
            if let Some(name) = name {
                *by_name.entry(name).or_default() += n as u64;
            }
        }
        Ok(out)
    }

    /// Distinct mentions of `topic` in `[from, to)`, per kind (`Store::counts`).
    pub async fn counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, PgError> {
        Ok(self.window_summary(topic, from, to).await?.0)
    }

    /// Per kind, the undated mentions of `topic` in `[from, to)` (`Store::undated_counts`).
    pub async fn undated_counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, PgError> {
        Ok(one(self.undated_counts_of(&[topic], from, to).await?))
    }

    /// [`Postgres::undated_counts`] of each of `topics`, in one statement.
    async fn undated_counts_of(
        &self,
        topics: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<KindCounts>, PgError> {
        let sql = format!(
            "SELECT t.name, m.kind, count(*) FROM mention m JOIN topic t ON t.id = m.topic_id
             WHERE m.topic_id = ANY({TOPICS}) AND m.at >= $2 AND m.at < $3
               AND m.published_at IS NULL AND m.excluded_by IS NULL
             GROUP BY t.name, m.kind"
        );
        let mut out = vec![KindCounts::default(); topics.len()];
        let index = positions(topics);
        for r in self
            .rows(&sql, &[&topics, &from.timestamp(), &to.timestamp()])
            .await?
        {
            if let Some(&i) = index.get(self.get::<&str>(&r, 0)?) {
                out[i].add(self.get(&r, 1)?, self.get(&r, 2)?);
            }
        }
        Ok(out)
    }

    /// The hosts with the most web mentions in the window (`Store::references`).
    pub async fn references(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Reference>, PgError> {
        Ok(one(self.references_of(&[topic], from, to, limit).await?))
    }

    /// [`Postgres::references`] of each of `topics`, in one statement.
    async fn references_of(
        &self,
        topics: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Vec<Reference>>, PgError> {
        let split = Split::of(from.timestamp(), to.timestamp());
        let web = Kind::Web.code();
        let mut parts = Vec::new();
        for &(a, b) in &split.edges {
            parts.push(format!(
                "SELECT topic_id, host, 1::bigint AS n, at AS first FROM mention
                 WHERE topic_id = ANY({TOPICS}) AND at >= {a} AND at < {b} AND kind = {web}
                   AND host IS NOT NULL AND excluded_by IS NULL"
            ));
        }
        for &(span, a, b) in &split.buckets {
            parts.push(format!(
                "SELECT topic_id, host.name AS host, n, first FROM count_host
                 JOIN host ON host.id = host_id
                 WHERE topic_id = ANY({TOPICS}) AND span = {span} AND bucket >= {a} AND bucket < {b}"
            ));
        }
        let mut hosts: Vec<HashMap<String, (u64, i64)>> = vec![HashMap::new(); topics.len()];
        if !parts.is_empty() {
            let sql = format!(
                "SELECT t.name, w.host, w.n, w.first FROM (
                     SELECT topic_id, host, sum(n)::bigint AS n, min(first) AS first FROM ({}) u
                     GROUP BY topic_id, host
                 ) w
                 JOIN topic t ON t.id = w.topic_id",
                parts.join(" UNION ALL ")
            );
            let index = positions(topics);
            for r in self.rows(&sql, &[&topics]).await? {
                let Some(&i) = index.get(self.get::<&str>(&r, 0)?) else {
                    continue;
                };
                let n: i64 = self.get(&r, 2)?;
                hosts[i].insert(self.get(&r, 1)?, (n as u64, self.get(&r, 3)?));
            }
        }
        Ok(hosts
            .into_iter()
            .map(|h| rank_references(h, limit))
            .collect())
    }

    /// Mentions of `topic` in the window, per source name (`Store::mentions_by_source`).
    pub async fn mentions_by_source(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<String, u64>, PgError> {
        Ok(self.window_summary(topic, from, to).await?.1)
    }

    /// Per bucket and kind, the mentions of `topic` in `[from, to)` (`Store::series`).
    pub async fn series(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> Result<Vec<SeriesPoint>, PgError> {
        let mut points = series_points(from, to, bucket);
        let span = bucket.secs();
        let first_whole = points.iter().position(|p| whole_bucket(p, span));
        let last_whole = points.iter().rposition(|p| whole_bucket(p, span));
        if let (Some(i), Some(j)) = (first_whole, last_whole) {
            let index: HashMap<i64, usize> =
                (i..=j).map(|k| (points[k].start.timestamp(), k)).collect();
            let sql = format!(
                "SELECT bucket, kind, sum(n)::bigint FROM count_source
                 WHERE topic_id = {TOPIC} AND span = $2 AND bucket >= $3 AND bucket < $4
                 GROUP BY bucket, kind"
            );
            let rows = self
                .rows(
                    &sql,
                    &[
                        &topic,
                        &span,
                        &points[i].start.timestamp(),
                        &points[j].end.timestamp(),
                    ],
                )
                .await?;
            for r in rows {
                let Some(&k) = index.get(&self.get::<i64>(&r, 0)?) else {
                    continue;
                };
                points[k].counts.add(self.get(&r, 1)?, self.get(&r, 2)?);
            }
        }
        // Partial buckets (at most one at each edge): counted as a window.
        for p in points.iter_mut().filter(|p| !whole_bucket(p, span)) {
            p.counts = self.window_summary(topic, p.start, p.end).await?.0;
        }
        Ok(points)
    }

    /// Every source the database knows, by name (`Store::source_health`),
    /// and the node that last took it to run (`mentions sources`).
    pub async fn source_health(&self) -> Result<Vec<SourceHealth>, PgError> {
        let rows = self
            .rows(
                "SELECT name, type, kind, last_run, last_success, last_error, consecutive_failures,
                        mentions, last_warning, node
                 FROM source ORDER BY name COLLATE \"C\"",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SourceHealth {
                    name: self.get(r, 0)?,
                    source_type: self.get(r, 1)?,
                    kind: Kind::from_code(self.get(r, 2)?),
                    last_run: time(self.get(r, 3)?),
                    last_success: time(self.get(r, 4)?),
                    last_error: self.get(r, 5)?,
                    consecutive_failures: self.get::<i64>(r, 6)? as u64,
                    mentions: self.get::<i64>(r, 7)? as u64,
                    last_warning: self.get(r, 8)?,
                    node: self.get(r, 9)?,
                })
            })
            .collect()
    }

    /// Every exclusion, oldest first (`Store::exclusions`).
    pub async fn exclusions(&self) -> Result<Vec<Exclusion>, PgError> {
        self.exclusions_where(None).await
    }

    /// One exclusion by id (`Store::exclusion`).
    pub async fn exclusion(&self, id: i64) -> Result<Option<Exclusion>, PgError> {
        Ok(self.exclusions_where(Some(id)).await?.pop())
    }

    async fn exclusions_where(&self, id: Option<i64>) -> Result<Vec<Exclusion>, PgError> {
        let mut sql = String::from(
            "SELECT e.id, e.what,
                    coalesce(t.name, (SELECT t2.name FROM mention m2 JOIN topic t2 ON t2.id = m2.topic_id
                                      WHERE m2.excluded_by = e.id AND e.what = 'mention' LIMIT 1)),
                    e.domain, s.name, e.author, e.reason, e.created_at,
                    (SELECT count(*) FROM mention WHERE excluded_by = e.id),
                    (SELECT min(id) FROM mention WHERE excluded_by = e.id AND e.what = 'mention')
             FROM exclusion e
             LEFT JOIN topic t ON t.id = e.topic_id
             LEFT JOIN source s ON s.id = e.source_id",
        );
        if id.is_some() {
            let _ = write!(sql, " WHERE e.id = $1");
        }
        sql.push_str(" ORDER BY e.id");
        let rows = match &id {
            Some(id) => self.rows(&sql, &[id]).await?,
            None => self.rows(&sql, &[]).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(Exclusion {
                    id: self.get(r, 0)?,
                    what: self.get(r, 1)?,
                    topic: self.get(r, 2)?,
                    domain: self.get(r, 3)?,
                    source: self.get(r, 4)?,
                    author: self.get(r, 5)?,
                    reason: self.get(r, 6)?,
                    created: Utc
                        .timestamp_opt(self.get(r, 7)?, 0)
                        .single()
                        .unwrap_or_default(),
                    mentions: self.get::<i64>(r, 8)? as u64,
                    mention: self.get(r, 9)?,
                })
            })
            .collect()
    }

    /// The crossings of `topic` whose alert window overlaps `[from, to)`,
    /// oldest window first (`Store::alert_crossings`).
    pub async fn alert_crossings(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FiredAlert>, PgError> {
        self.alerts_where(
            "topic = $1 AND window_start < $3 AND window_start + window_secs > $2
             ORDER BY window_start, id",
            &[&topic, &from.timestamp(), &to.timestamp()],
        )
        .await
    }

    /// The alerts fired since `since`, newest first (`Store::fired_alerts`).
    pub async fn fired_alerts(&self, since: DateTime<Utc>) -> Result<Vec<FiredAlert>, PgError> {
        self.alerts_where(
            "fired_at >= $1 ORDER BY fired_at DESC, id DESC",
            &[&since.timestamp()],
        )
        .await
    }

    /// The rows of `alert` that `filter` (a condition and an order) selects.
    async fn alerts_where(
        &self,
        filter: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<FiredAlert>, PgError> {
        let rows = self
            .rows(
                &format!(
                    "SELECT id, key, topic, window_secs, trigger, window_start, fired_at, count, baseline,
                            payload, attempts, delivered_at, last_error, next_attempt
                     FROM alert WHERE {filter}"
                ),
                params,
            )
            .await?;
        let at = |secs: i64| time(Some(secs)).unwrap_or_default();
        rows.iter()
            .map(|r| {
                Ok(FiredAlert {
                    id: self.get(r, 0)?,
                    key: self.get(r, 1)?,
                    topic: self.get(r, 2)?,
                    window_secs: self.get::<i64>(r, 3)?.max(0) as u64,
                    trigger: self.get(r, 4)?,
                    window_start: at(self.get(r, 5)?),
                    fired_at: at(self.get(r, 6)?),
                    count: self.get::<i64>(r, 7)?.max(0) as u64,
                    baseline: self.get(r, 8)?,
                    payload: self.get(r, 9)?,
                    attempts: u32::try_from(self.get::<i64>(r, 10)?).unwrap_or(u32::MAX),
                    delivered_at: self.get::<Option<i64>>(r, 11)?.map(at),
                    last_error: self.get(r, 12)?,
                    next_attempt: self.get::<Option<i64>>(r, 13)?.map(at),
                })
            })
            .collect()
    }
}

/// Each name's place in `topics` (the first, should a name repeat).
fn positions<'a>(topics: &[&'a str]) -> HashMap<&'a str, usize> {
    let mut index = HashMap::with_capacity(topics.len());
    for (i, &t) in topics.iter().enumerate() {
        index.entry(t).or_insert(i);
    }
    index
}

/// The only element of a one-topic answer.
fn one<T: Default>(answers: Vec<T>) -> T {
    answers.into_iter().next().unwrap_or_default()
}
