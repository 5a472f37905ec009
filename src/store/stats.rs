//! Read queries behind reports, charts and `sources`: exact counts per
//! kind, per-bucket series, reference hosts and per-source health for a
//! time window.

use super::counts::SPANS;
use super::{Store, StoreError};
use crate::sources::Kind;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::OptionalExtension;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub web: u64,
    pub social: u64,
    pub forum: u64,
}

impl KindCounts {
    pub fn total(&self) -> u64 {
        self.web + self.social + self.forum
    }

    /// Adds `n` mentions of the kind stored as `code` (unknown codes count nowhere).
    pub(crate) fn add(&mut self, code: i64, n: i64) {
        let n = n as u64;
        match Kind::from_code(code) {
            Some(Kind::Web) => self.web += n,
            Some(Kind::Social) => self.social += n,
            Some(Kind::Forum) => self.forum += n,
            None => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub domain: String,
    pub mentions: u64,
}

/// The length of a chart's buckets: whole UTC hours or UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    /// The bucket's length in seconds, a span of the count tables.
    pub fn secs(self) -> i64 {
        match self {
            Bucket::Hour => SPANS[0],
            Bucket::Day => SPANS[1],
        }
    }
}

/// One bucket of a series: `[start, end)` and its counts. The first and
/// last bucket of a window that does not start or end on a bucket boundary
/// are partial (shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesPoint {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub counts: KindCounts,
}

/// A source's state as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceHealth {
    pub name: String,
    pub source_type: String,
    pub kind: Option<Kind>,
    pub last_run: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u64,
    /// Mentions stored by this source, all topics, all time.
    pub mentions: u64,
    /// What the last crawl read less of than the source holds.
    pub last_warning: Option<String>,
    /// The node that last ran the source (PostgreSQL, several nodes);
    /// None on SQLite, where one process runs every source.
    pub node: Option<String>,
}

/// A window `[from, to)` cut into what the count tables hold whole (hours
/// and UTC days) and the partial hours at its edges, counted from mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    /// `[a, b)` ranges counted from mention rows.
    pub(crate) edges: Vec<(i64, i64)>,
    /// `(span, a, b)`: buckets of that span starting in `[a, b)`.
    pub(crate) buckets: Vec<(i64, i64, i64)>,
}

impl Split {
    pub(crate) fn of(from: i64, to: i64) -> Split {
        let ceil = |t: i64, span: i64| {
            t.div_euclid(span) * span + if t.rem_euclid(span) == 0 { 0 } else { span }
        };
        let floor = |t: i64, span: i64| t.div_euclid(span) * span;
        let mut split = Split {
            edges: Vec::new(),
            buckets: Vec::new(),
        };
        let (h0, h1) = (ceil(from, SPANS[0]), floor(to, SPANS[0]));
        if h0 >= h1 {
            if from < to {
                split.edges.push((from, to));
            }
            return split;
        }
        split
            .edges
            .extend([(from, h0), (h1, to)].into_iter().filter(|(a, b)| a < b));
        // Each level covers what the next, coarser one cannot hold whole.
        let (mut a, mut b) = (h0, h1);
        for (level, &span) in SPANS.iter().enumerate() {
            let coarser = SPANS
                .get(level + 1)
                .map(|&next| (ceil(a, next), floor(b, next)));
            match coarser {
                Some((c0, c1)) if c0 < c1 => {
                    split.buckets.extend(
                        [(span, a, c0), (span, c1, b)]
                            .into_iter()
                            .filter(|(_, x, y)| x < y),
                    );
                    (a, b) = (c0, c1);
                }
                _ => {
                    split.buckets.push((span, a, b));
                    break;
                }
            }
        }
        split
    }
}

/// The buckets of a series over `[from, to)`, counts zero: cut at every
/// whole hour or UTC day, the first and last possibly partial. Empty for an
/// empty window.
pub(crate) fn series_points(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
) -> Vec<SeriesPoint> {
    let (a, b) = (from.timestamp(), to.timestamp());
    if a >= b {
        return Vec::new();
    }
    let span = bucket.secs();
    let mut bounds = vec![a];
    let mut t = a.div_euclid(span) * span + span;
    while t < b {
        bounds.push(t);
        t += span;
    }
    bounds.push(b);
    bounds
        .windows(2)
        .map(|w| SeriesPoint {
            start: time(Some(w[0])).unwrap_or(from),
            end: time(Some(w[1])).unwrap_or(to),
            counts: KindCounts::default(),
        })
        .collect()
}

/// Whether a series point is one whole bucket of `span` seconds.
pub(crate) fn whole_bucket(p: &SeriesPoint, span: i64) -> bool {
    let (s, e) = (p.start.timestamp(), p.end.timestamp());
    s.rem_euclid(span) == 0 && e - s == span
}

/// host → (mentions, earliest mention time), ranked: most mentions first,
/// ties to the host mentioned first, then by name (bytewise).
/// What one report needs of one topic: its counts per kind and per source
/// name, its undated counts and its top references (`Reads::report_figures`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicFigures {
    pub counts: KindCounts,
    pub by_source: HashMap<String, u64>,
    pub undated: KindCounts,
    pub references: Vec<Reference>,
}

pub(crate) fn rank_references(hosts: HashMap<String, (u64, i64)>, limit: usize) -> Vec<Reference> {
    let mut ranked: Vec<(String, (u64, i64))> = hosts.into_iter().collect();
    ranked.sort_by(|(ha, (na, fa)), (hb, (nb, fb))| {
        nb.cmp(na).then(fa.cmp(fb)).then_with(|| ha.cmp(hb))
    });
    ranked
        .into_iter()
        .take(limit)
        .map(|(domain, (mentions, _))| Reference { domain, mentions })
        .collect()
}

pub(crate) fn time(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.and_then(|s| Utc.timestamp_opt(s, 0).single())
}

impl Store {
    fn topic_key(&self, topic: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM topic WHERE name = ?1", [topic], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Distinct mentions of `topic` whose time is in `[from, to)`, per kind.
    pub fn counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, StoreError> {
        Ok(self.window_summary(topic, from, to)?.0)
    }

    /// Per kind, the mentions of `topic` in `[from, to)` whose source gave
    /// no readable date (their time is when they were first seen).
    pub fn undated_counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, StoreError> {
        let mut counts = KindCounts::default();
        let Some(id) = self.topic_key(topic)? else {
            return Ok(counts);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, COUNT(*) FROM mention INDEXED BY mention_undated
             WHERE topic_id = ?1 AND at >= ?2 AND at < ?3 AND published_at IS NULL
               AND excluded_by IS NULL
             GROUP BY kind",
        )?;
        let mut rows = stmt.query((id, from.timestamp(), to.timestamp()))?;
        while let Some(row) = rows.next()? {
            let n = row.get::<_, i64>(1)? as u64;
            match Kind::from_code(row.get(0)?) {
                Some(Kind::Web) => counts.web += n,
                Some(Kind::Social) => counts.social += n,
                Some(Kind::Forum) => counts.forum += n,
                None => {}
            }
        }
        Ok(counts)
    }

    /// Per kind and per source name, the mentions of `topic` in `[from, to)`,
    /// from one pass over the count tables (a report needs both).
    pub fn window_summary(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(KindCounts, HashMap<String, u64>), StoreError> {
        let mut counts = KindCounts::default();
        let Some(id) = self.topic_key(topic)? else {
            return Ok((counts, HashMap::new()));
        };
        let split = Split::of(from.timestamp(), to.timestamp());
        let mut by_id: HashMap<i64, u64> = HashMap::new();
        let mut add = |source: i64, kind: i64, n: i64| {
            let n = n as u64;
            *by_id.entry(source).or_default() += n;
            match Kind::from_code(kind) {
                Some(Kind::Web) => counts.web += n,
                Some(Kind::Social) => counts.social += n,
                Some(Kind::Forum) => counts.forum += n,
                None => {}
            }
        };
        let mut raw = self.conn.prepare_cached(
            "SELECT source_id, kind, count(*) FROM mention
             WHERE topic_id = ?1 AND at >= ?2 AND at < ?3 AND excluded_by IS NULL
             GROUP BY source_id, kind",
        )?;
        for &(a, b) in &split.edges {
            let mut rows = raw.query((id, a, b))?;
            while let Some(r) = rows.next()? {
                add(r.get(0)?, r.get(1)?, r.get(2)?);
            }
        }
        let mut whole = self.conn.prepare_cached(
            "SELECT source_id, kind, sum(n) FROM count_source
             WHERE topic_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4
             GROUP BY source_id, kind",
        )?;
        for &(span, a, b) in &split.buckets {
            let mut rows = whole.query((id, span, a, b))?;
            while let Some(r) = rows.next()? {
                add(r.get(0)?, r.get(1)?, r.get(2)?);
            }
        }
        let mut names = self.conn.prepare_cached("SELECT id, name FROM source")?;
        let mut by_name = HashMap::new();
        let mut rows = names.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(n) = by_id.get(&r.get::<_, i64>(0)?) {
                by_name.insert(r.get(1)?, *n);
            }
        }
        Ok((counts, by_name))
    }

    /// The hosts with the most web mentions in the window; ties go to the
    /// host mentioned first, then by name.
    pub fn references(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Reference>, StoreError> {
        let Some(id) = self.topic_key(topic)? else {
            return Ok(Vec::new());
        };
        let split = Split::of(from.timestamp(), to.timestamp());
        // host → (mentions, earliest mention time)
        let mut hosts: HashMap<String, (u64, i64)> = HashMap::new();
        let mut add = |host: String, n: i64, first: i64| {
            let e = hosts.entry(host).or_insert((0, first));
            e.0 += n as u64;
            e.1 = e.1.min(first);
        };
        let mut raw = self.conn.prepare_cached(
            "SELECT host, count(*), min(at) FROM mention
             WHERE topic_id = ?1 AND at >= ?2 AND at < ?3 AND kind = ?4 AND host IS NOT NULL
               AND excluded_by IS NULL
             GROUP BY host",
        )?;
        for &(a, b) in &split.edges {
            let mut rows = raw.query((id, a, b, Kind::Web.code()))?;
            while let Some(r) = rows.next()? {
                add(r.get(0)?, r.get(1)?, r.get(2)?);
            }
        }
        let mut whole = self.conn.prepare_cached(
            "SELECT host.name, sum(n), min(first) FROM count_host JOIN host ON host.id = host_id
             WHERE topic_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4 GROUP BY host_id",
        )?;
        for &(span, a, b) in &split.buckets {
            let mut rows = whole.query((id, span, a, b))?;
            while let Some(r) = rows.next()? {
                add(r.get(0)?, r.get(1)?, r.get(2)?);
            }
        }
        Ok(rank_references(hosts, limit))
    }

    /// Mentions of `topic` in the window, per source name.
    pub fn mentions_by_source(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<String, u64>, StoreError> {
        Ok(self.window_summary(topic, from, to)?.1)
    }

    /// Per bucket and kind, the mentions of `topic` in `[from, to)`: the
    /// window cut at every whole hour or UTC day. Whole buckets are read
    /// from the count tables in one query; a partial bucket at either edge
    /// is counted like a report's window (count tables for its whole hours,
    /// mention rows for the rest), so the buckets add up to the report's
    /// counts exactly.
    pub fn series(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let mut points = series_points(from, to, bucket);
        if points.is_empty() {
            return Ok(points);
        }
        let span = bucket.secs();
        let Some(id) = self.topic_key(topic)? else {
            return Ok(points);
        };
        let whole = |p: &SeriesPoint| whole_bucket(p, span);
        // Whole buckets: one range read of the count table at this span.
        let first_whole = points.iter().position(whole);
        let last_whole = points.iter().rposition(whole);
        if let (Some(i), Some(j)) = (first_whole, last_whole) {
            let index: HashMap<i64, usize> =
                (i..=j).map(|k| (points[k].start.timestamp(), k)).collect();
            let mut stmt = self.conn.prepare_cached(
                "SELECT bucket, kind, sum(n) FROM count_source
                 WHERE topic_id = ?1 AND span = ?2 AND bucket >= ?3 AND bucket < ?4
                 GROUP BY bucket, kind",
            )?;
            let mut rows = stmt.query((
                id,
                span,
                points[i].start.timestamp(),
                points[j].end.timestamp(),
            ))?;
            while let Some(r) = rows.next()? {
                let Some(&k) = index.get(&r.get::<_, i64>(0)?) else {
                    continue;
                };
                points[k].counts.add(r.get(1)?, r.get::<_, i64>(2)?);
            }
        }
        // Partial buckets (at most one at each edge): counted as a window.
        for p in points.iter_mut().filter(|p| !whole(p)) {
            p.counts = self.window_summary(topic, p.start, p.end)?.0;
        }
        Ok(points)
    }

    /// Every source the database knows, with its state and mentions stored.
    pub fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, type, kind, last_run, last_success, last_error, consecutive_failures,
                    mentions, last_warning
             FROM source ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceHealth {
                name: r.get(0)?,
                source_type: r.get(1)?,
                kind: Kind::from_code(r.get(2)?),
                last_run: time(r.get(3)?),
                last_success: time(r.get(4)?),
                last_error: r.get(5)?,
                consecutive_failures: r.get::<_, i64>(6)? as u64,
                mentions: r.get::<_, i64>(7)? as u64,
                last_warning: r.get(8)?,
                node: None,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CrawlBatch, NewMention};

    /// The plain queries the count tables stand in for.
    fn direct(
        store: &Store,
        topic: &str,
        from: i64,
        to: i64,
    ) -> (KindCounts, Vec<Reference>, HashMap<String, u64>) {
        let mut counts = KindCounts::default();
        let mut stmt = store
            .conn
            .prepare(
                "SELECT kind, count(*) FROM mention JOIN topic ON topic.id = topic_id
                 WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 GROUP BY kind",
            )
            .unwrap();
        let mut rows = stmt.query((topic, from, to)).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let n = r.get::<_, i64>(1).unwrap() as u64;
            match r.get::<_, i64>(0).unwrap() {
                0 => counts.web = n,
                1 => counts.social = n,
                _ => counts.forum = n,
            }
        }
        let mut stmt = store
            .conn
            .prepare(
                "SELECT host, count(*) AS n, min(at) AS first FROM mention JOIN topic ON topic.id = topic_id
                 WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 AND kind = 0 AND host IS NOT NULL
                 GROUP BY host ORDER BY n DESC, first ASC, host ASC LIMIT 3",
            )
            .unwrap();
        let refs = stmt
            .query_map((topic, from, to), |r| {
                Ok(Reference {
                    domain: r.get(0)?,
                    mentions: r.get::<_, i64>(1)? as u64,
                })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut stmt = store
            .conn
            .prepare(
                "SELECT source.name, count(*) FROM mention JOIN source ON source.id = source_id
                 JOIN topic ON topic.id = topic_id
                 WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 GROUP BY source.name",
            )
            .unwrap();
        let by_source = stmt
            .query_map((topic, from, to), |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (counts, refs, by_source)
    }

    #[test]
    fn count_tables_agree_with_counting_rows_on_random_windows() {
        let mut store = Store::open_in_memory().unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let base = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let span = 150 * 86_400;
        // Twelve days of mentions from six sources of all kinds, over a few
        // hosts, in batches as crawls write them (including times before 1970).
        for crawl in 0..60 {
            let kind = [Kind::Web, Kind::Social, Kind::Forum][crawl % 3];
            let mut batch = CrawlBatch::new(
                &format!("s{}", crawl % 6),
                "feed",
                kind,
                Utc.timestamp_opt(base + span, 0).unwrap(),
            );
            for i in 0..40 {
                let at = if i == 0 {
                    -3_601 - crawl as i64
                } else {
                    base + rng.i64(0..span)
                };
                batch.mentions.push(NewMention {
                    topic: ["a", "b"][rng.usize(0..2)].into(),
                    kind,
                    identity: format!("https://h{}.example/{crawl}/{i}", rng.u8(0..5)),
                    url: None,
                    host: (kind == Kind::Web || rng.bool())
                        .then(|| format!("h{}.example", rng.u8(0..5))),
                    title: "t".into(),
                    excerpt: "e".into(),
                    author: None,
                    lang: None,
                    published: Utc.timestamp_opt(at, 0).single(),
                    simhash: rng.u64(..),
                    seen: None,
                });
            }
            store.commit(&batch).unwrap();
        }
        let mut windows: Vec<(i64, i64)> = (0..300)
            .map(|_| {
                let a = base - 86_400 + rng.i64(0..span + 2 * 86_400);
                let len =
                    [rng.i64(1..7200), rng.i64(1..200_000), rng.i64(1..span)][rng.usize(0..3)];
                (a, a + len)
            })
            .collect();
        // Aligned edges, whole days, and everything.
        windows.extend([
            (base, base + 3600),
            (base + 3600, base + 5 * 86_400),
            (base, base + span),
            (
                DateTime::<Utc>::MIN_UTC.timestamp(),
                DateTime::<Utc>::MAX_UTC.timestamp(),
            ),
        ]);
        for (from, to) in windows {
            let (f, t) = (
                Utc.timestamp_opt(from, 0).unwrap(),
                Utc.timestamp_opt(to, 0).unwrap(),
            );
            for topic in ["a", "b"] {
                let (counts, refs, by_source) = direct(&store, topic, from, to);
                assert_eq!(
                    store.counts(topic, f, t).unwrap(),
                    counts,
                    "{topic} {from}..{to}"
                );
                assert_eq!(
                    store.references(topic, f, t, 3).unwrap(),
                    refs,
                    "{topic} {from}..{to}"
                );
                assert_eq!(store.mentions_by_source(topic, f, t).unwrap(), by_source);
            }
        }
        let health = store.source_health().unwrap();
        let total: u64 = health.iter().map(|h| h.mentions).sum();
        let rows: i64 = store
            .conn
            .query_row("SELECT count(*) FROM mention", [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, rows as u64);
    }

    #[test]
    fn series_buckets_equal_a_direct_count_and_add_up_to_the_report() {
        let mut store = Store::open_in_memory().unwrap();
        let mut rng = fastrand::Rng::with_seed(23);
        let base = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        let span = 20 * 86_400;
        for crawl in 0..30 {
            let kind = [Kind::Web, Kind::Social, Kind::Forum][crawl % 3];
            let mut batch = CrawlBatch::new(
                &format!("s{}", crawl % 5),
                "feed",
                kind,
                Utc.timestamp_opt(base + span, 0).unwrap(),
            );
            for i in 0..40 {
                let host = format!("h{}.example", rng.u8(0..4));
                batch.mentions.push(NewMention {
                    topic: ["a", "b"][rng.usize(0..2)].into(),
                    kind,
                    identity: format!("https://{host}/{crawl}/{i}"),
                    url: None,
                    host: Some(host),
                    title: "t".into(),
                    excerpt: "e".into(),
                    author: None,
                    lang: None,
                    published: Utc.timestamp_opt(base + rng.i64(0..span), 0).single(),
                    simhash: rng.u64(..),
                    seen: None,
                });
            }
            store.commit(&batch).unwrap();
        }
        // Excluded mentions count nowhere, in the series neither.
        store
            .exclude(
                &crate::store::ExcludeTarget::Domain {
                    domain: "h1.example".into(),
                    topic: None,
                },
                None,
                Utc.timestamp_opt(base + span, 0).unwrap(),
            )
            .unwrap()
            .unwrap();
        let direct = |topic: &str, a: i64, b: i64| {
            let mut c = KindCounts::default();
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT kind, count(*) FROM mention JOIN topic ON topic.id = topic_id
                     WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 AND excluded_by IS NULL
                     GROUP BY kind",
                )
                .unwrap();
            let mut rows = stmt.query((topic, a, b)).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let n = r.get::<_, i64>(1).unwrap() as u64;
                match r.get::<_, i64>(0).unwrap() {
                    0 => c.web = n,
                    1 => c.social = n,
                    _ => c.forum = n,
                }
            }
            c
        };
        let mut windows: Vec<(i64, i64, Bucket)> = (0..60)
            .map(|i| {
                let a = base - 3 * 3600 + rng.i64(0..span);
                let (len, bucket) = if i % 2 == 0 {
                    (rng.i64(1..4 * 86_400), Bucket::Hour)
                } else {
                    (rng.i64(1..span), Bucket::Day)
                };
                (a, a + len, bucket)
            })
            .collect();
        windows.extend([
            (base, base + 3 * 86_400, Bucket::Hour),
            (base + 1800, base + 1900, Bucket::Hour),
            (base, base + span, Bucket::Day),
            (base - 86_400, base + span + 86_400, Bucket::Day),
        ]);
        for (from, to, bucket) in windows {
            let (f, t) = (
                Utc.timestamp_opt(from, 0).unwrap(),
                Utc.timestamp_opt(to, 0).unwrap(),
            );
            for topic in ["a", "b", "none"] {
                let points = store.series(topic, f, t, bucket).unwrap();
                assert_eq!(points.first().unwrap().start, f);
                assert_eq!(points.last().unwrap().end, t);
                let mut sum = KindCounts::default();
                for (k, p) in points.iter().enumerate() {
                    let (a, b) = (p.start.timestamp(), p.end.timestamp());
                    if k > 0 {
                        assert_eq!(a % bucket.secs(), 0);
                        assert_eq!(points[k - 1].end, p.start);
                    }
                    assert!(b - a <= bucket.secs() && a < b);
                    assert_eq!(p.counts, direct(topic, a, b), "{topic} {a}..{b}");
                    sum.web += p.counts.web;
                    sum.social += p.counts.social;
                    sum.forum += p.counts.forum;
                }
                assert_eq!(
                    sum,
                    store.counts(topic, f, t).unwrap(),
                    "{topic} {from}..{to}"
                );
            }
        }
        let day = store
            .series(
                "a",
                Utc.timestamp_opt(base, 0).unwrap(),
                Utc.timestamp_opt(base + 2 * 86_400, 0).unwrap(),
                Bucket::Day,
            )
            .unwrap();
        assert_eq!(day.len(), 2);
        assert_eq!(
            store
                .series(
                    "a",
                    Utc.timestamp_opt(base + 1, 0).unwrap(),
                    Utc.timestamp_opt(base + 2 * 86_400 + 1, 0).unwrap(),
                    Bucket::Day,
                )
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn windows_split_into_whole_buckets_and_partial_edges() {
        let day = 86_400;
        assert_eq!(
            Split::of(10 * day - 60, 12 * day + 7200 + 5),
            Split {
                edges: vec![
                    (10 * day - 60, 10 * day),
                    (12 * day + 7200, 12 * day + 7205)
                ],
                buckets: vec![
                    (3600, 12 * day, 12 * day + 7200),
                    (86_400, 10 * day, 12 * day)
                ],
            }
        );
        assert_eq!(
            Split::of(100, 200),
            Split {
                edges: vec![(100, 200)],
                buckets: vec![]
            }
        );
        // 8-day blocks start at multiples of 8 days from the epoch: day 16 and 24 here.
        assert_eq!(
            Split::of(15 * day, 33 * day),
            Split {
                edges: vec![],
                buckets: vec![
                    (86_400, 15 * day, 16 * day),
                    (86_400, 32 * day, 33 * day),
                    (691_200, 16 * day, 32 * day)
                ],
            }
        );
        assert_eq!(
            Split::of(-7200, 0),
            Split {
                edges: vec![],
                buckets: vec![(3600, -7200, 0)]
            }
        );
    }
}
