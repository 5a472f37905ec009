//! Retention (SPEC §7): deletes mentions older than `[database] retention`
//! together with their counts (the count tables, the source totals and the
//! near-duplicate index stay equal to what is stored), and bookkeeping rows
//! — seen items, sightings, HTTP validators, stored robots.txt and host
//! back-offs — older than twice the longest lookback.
//! Work is done in short transactions of a bounded number of rows, with a
//! pause between them, so a large prune never keeps the daemon's crawls
//! from writing for long.

use super::counts::{Counted, Tally};
use super::mentions::bands;
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::time::Duration;

/// How much one transaction deletes, and the pause after a full one.
#[derive(Debug, Clone, Copy)]
pub(super) struct Batches {
    pub mentions: usize,
    pub bookkeeping: usize,
    /// Lets a writer waiting in its busy handler get in between batches.
    pub pause: Duration,
}

impl Default for Batches {
    fn default() -> Batches {
        Batches {
            mentions: 1_000,
            bookkeeping: 5_000,
            pause: Duration::from_millis(25),
        }
    }
}

/// A table of rows kept only to crawl well, deleted by age whatever the
/// retention setting. A new one is one more line below, with an index on
/// its time column or a primary key of integers to walk.
pub(super) struct Bookkeeping {
    /// What the user reads in `prune`'s output.
    pub kind: &'static str,
    table: &'static str,
    /// Its primary key columns.
    key: &'static str,
    /// When the row was last written (unix seconds).
    time: &'static str,
    /// How its old rows are found.
    found: Found,
}

/// How a prune finds a bookkeeping table's old rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// Through an index on the time column: a prune reads only what it
    /// deletes.
    ByTime,
    /// By walking the primary key, whose columns are all integers and the
    /// first an id (so never `i64::MIN`), in windows of rows and deleting the
    /// old rows of each. For the tables that every crawled item (`seen`) or
    /// sighting writes to: an index on their time would cost each of those
    /// writes a second B-tree entry, for a reader that runs once a day and
    /// reads the whole table's keys here instead, outside any transaction.
    ByKey,
}

/// The statements of a walk over a bookkeeping table (`Found::ByKey`), for
/// a placeholder style (`?1` for SQLite, `$1` for PostgreSQL).
pub(super) struct Walk {
    /// The last key of the next window: parameters the key the walk is
    /// after and the window's size less one (`Walker::window_end_params`).
    /// No row: the rest of the table is the last window.
    pub window_end: String,
    /// Whether a window has old rows (a row, or none): parameters the key
    /// the window follows, its last key and the cutoff
    /// (`Walker::window_params`).
    pub any_old: String,
    /// Deletes a window's old rows: the parameters of `any_old`.
    pub delete: String,
    pub columns: usize,
}

/// Where a walk is and what it has deleted: the loop both backends run
/// around their own statements.
pub(super) struct Walker {
    columns: usize,
    before: i64,
    /// Rows in a window, and rows deleted between pauses.
    batch: u64,
    /// The key the next window follows: at first below every row, whose
    /// first column is an id.
    after: Vec<i64>,
    removed: u64,
    since_pause: u64,
}

/// What a walk does after a window.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// The next window.
    Go,
    /// A pause first: a batch's worth of rows was deleted since the last one.
    Pause,
    /// That was the last window.
    Done,
}

impl Walker {
    pub fn new(walk: &Walk, before: i64, batches: Batches) -> Walker {
        Walker {
            columns: walk.columns,
            before,
            batch: batches.bookkeeping.max(1) as u64,
            after: vec![i64::MIN; walk.columns],
            removed: 0,
            since_pause: 0,
        }
    }

    /// The parameters of `Walk::window_end`.
    pub fn window_end_params(&self) -> Vec<i64> {
        // The window's last row is this many rows after its first.
        let skip = self.batch as i64 - 1;
        [self.after.as_slice(), &[skip]].concat()
    }

    /// The parameters of `Walk::any_old` and `Walk::delete` for the window
    /// that ends at `end` (None: the rest of the table).
    pub fn window_params(&self, end: Option<&[i64]>) -> Vec<i64> {
        let last = end.map_or_else(|| vec![i64::MAX; self.columns], <[i64]>::to_vec);
        [self.after.as_slice(), &last, &[self.before]].concat()
    }

    /// Records that the window ending at `end` lost `deleted` rows.
    pub fn next(&mut self, end: Option<Vec<i64>>, deleted: u64) -> Next {
        self.removed += deleted;
        self.since_pause += deleted;
        let Some(end) = end else {
            return Next::Done;
        };
        self.after = end;
        if self.since_pause >= self.batch {
            self.since_pause = 0;
            Next::Pause
        } else {
            Next::Go
        }
    }

    /// Rows deleted so far.
    pub fn removed(&self) -> u64 {
        self.removed
    }
}

impl Bookkeeping {
    /// The statement that deletes a batch of its oldest rows (`Found::ByTime`):
    /// `before` and `limit` are the parameters `p1` and `p2` name (`?1`/`?2`
    /// for SQLite, `$1`/`$2` for PostgreSQL).
    pub(super) fn delete_batch(&self, p1: &str, p2: &str) -> String {
        format!(
            "DELETE FROM {table} WHERE ({key}) IN
               (SELECT {key} FROM {table} WHERE {time} < {p1} ORDER BY {time} LIMIT {p2})",
            table = self.table,
            key = self.key,
            time = self.time
        )
    }

    /// The statements that walk it (`Found::ByKey`), with placeholders `p(1)`,
    /// `p(2)`, …; None for a table found by time.
    pub(super) fn walk(&self, p: impl Fn(usize) -> String) -> Option<Walk> {
        if self.found != Found::ByKey {
            return None;
        }
        let columns = self.key.split(',').count();
        let list = |from: usize| {
            (from..from + columns)
                .map(&p)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (table, key, time) = (self.table, self.key, self.time);
        let window = format!(
            "({key}) > ({after}) AND ({key}) <= ({last}) AND {time} < {before}",
            after = list(1),
            last = list(columns + 1),
            before = p(2 * columns + 1)
        );
        Some(Walk {
            window_end: format!(
                "SELECT {key} FROM {table} WHERE ({key}) > ({after})
                 ORDER BY {key} LIMIT 1 OFFSET {skip}",
                after = list(1),
                skip = p(columns + 1)
            ),
            any_old: format!("SELECT 1 FROM {table} WHERE {window} LIMIT 1"),
            delete: format!("DELETE FROM {table} WHERE {window}"),
            columns,
        })
    }
}

pub(super) const BOOKKEEPING: &[Bookkeeping] = &[
    Bookkeeping {
        kind: "seen",
        table: "seen",
        key: "source_id, key",
        time: "first_seen",
        found: Found::ByKey,
    },
    Bookkeeping {
        kind: "sightings",
        table: "sighting",
        key: "mention_id, source_id, form",
        time: "seen_at",
        found: Found::ByKey,
    },
    Bookkeeping {
        kind: "validators",
        table: "http_cache",
        key: "source_id, url",
        time: "stored_at",
        found: Found::ByTime,
    },
    // What the HTTP client remembers of hosts (store/hosts.rs): small
    // tables, one row per origin, so no index on their times.
    Bookkeeping {
        kind: "robots.txt",
        table: "robots_txt",
        key: "origin",
        time: "fetched_at",
        found: Found::ByTime,
    },
    Bookkeeping {
        kind: "back-offs",
        table: "host_backoff",
        key: "origin",
        time: "(until_ms / 1000)",
        found: Found::ByTime,
    },
];

/// A time before which rows go, and why, in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutoff {
    pub before: DateTime<Utc>,
    /// E.g. `retention 400d`.
    pub reason: String,
}

/// What one application of retention deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPlan {
    /// None keeps every mention (`[database] retention` is not set).
    pub mentions: Option<Cutoff>,
    pub bookkeeping: Cutoff,
}

impl RetentionPlan {
    /// The plan at `now` for a retention setting and the longest `lookback`
    /// of the configured sources.
    pub fn new(
        now: DateTime<Utc>,
        retention: Option<Duration>,
        longest_lookback: Duration,
    ) -> RetentionPlan {
        let before = |age: Duration| {
            chrono::Duration::from_std(age)
                .ok()
                .and_then(|age| now.checked_sub_signed(age))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let twice = longest_lookback.saturating_mul(2);
        RetentionPlan {
            mentions: retention.map(|age| Cutoff {
                before: before(age),
                reason: format!("retention {}", written(age)),
            }),
            bookkeeping: Cutoff {
                before: before(twice),
                reason: format!("twice the longest lookback, {}", written(longest_lookback)),
            },
        }
    }
}

/// What a prune removed, per kind of row, in the order it ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// `mentions` (when retention is set), then each bookkeeping kind.
    pub removed: Vec<(&'static str, u64)>,
    /// False when it was told to stop before it was done.
    pub complete: bool,
}

impl Pruned {
    /// Rows removed of one kind.
    pub fn of(&self, kind: &str) -> u64 {
        self.removed
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }

    /// One line per kind of row, e.g.
    /// `mentions: 1,204 older than 2025-10-26 16:00 UTC (retention 400d)`.
    pub fn lines(&self, plan: &RetentionPlan) -> Vec<String> {
        let older = |n: u64, cutoff: &Cutoff| {
            format!(
                "{} older than {} ({})",
                grouped(n),
                cutoff.before.format("%Y-%m-%d %H:%M UTC"),
                cutoff.reason
            )
        };
        let mut lines = Vec::new();
        match &plan.mentions {
            Some(cutoff) => lines.push(format!("mentions: {}", older(self.of("mentions"), cutoff))),
            None => lines.push("mentions: all kept ([database] retention is not set)".to_owned()),
        }
        for b in BOOKKEEPING {
            lines.push(format!(
                "{}: {}",
                b.kind,
                older(self.of(b.kind), &plan.bookkeeping)
            ));
        }
        if !self.complete {
            lines.push("stopped before it was done; the rest goes next time".to_owned());
        }
        lines
    }
}

/// 1204 → `1,204`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration the way the config writes it: `400d`, `36h`, `90m`, `45s`.
fn written(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// The rows of one deleted mention that its counts depend on.
struct Gone {
    id: i64,
    source_id: i64,
    kind: i64,
    host: Option<String>,
    title: String,
    at: i64,
    simhash: i64,
    /// The exclusion that took it out of the counts, if any.
    excluded_by: Option<i64>,
}

impl Store {
    /// Applies `plan` now: short transactions of a bounded number of rows
    /// each, checking `keep_going` before each one (the daemon stops a prune
    /// on shutdown; what is done stays done and consistent).
    pub fn prune(
        &mut self,
        plan: &RetentionPlan,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Pruned, StoreError> {
        self.prune_in(plan, keep_going, Batches::default())
    }

    fn prune_in(
        &mut self,
        plan: &RetentionPlan,
        keep_going: &dyn Fn() -> bool,
        batches: Batches,
    ) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned {
            removed: Vec::new(),
            complete: true,
        };
        match &plan.mentions {
            Some(cutoff) => {
                let (n, complete) =
                    self.prune_mentions(cutoff.before.timestamp(), keep_going, batches)?;
                pruned.removed.push(("mentions", n));
                pruned.complete &= complete;
            }
            None => {
                self.conn.execute("DELETE FROM retention", [])?;
            }
        }
        for b in BOOKKEEPING {
            let (n, complete) = if pruned.complete {
                self.prune_bookkeeping(b, plan.bookkeeping.before.timestamp(), keep_going, batches)?
            } else {
                (0, false)
            };
            pruned.removed.push((b.kind, n));
            pruned.complete &= complete;
        }
        Ok(pruned)
    }

    fn prune_mentions(
        &mut self,
        before: i64,
        keep_going: &dyn Fn() -> bool,
        batches: Batches,
    ) -> Result<(u64, bool), StoreError> {
        // Recorded first, so a crawl meanwhile does not store again what goes now.
        self.conn.execute(
            "INSERT INTO retention (id, mentions_before) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET mentions_before = excluded.mentions_before",
            [before],
        )?;
        let topics: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM topic ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut removed = 0u64;
        for topic in topics {
            loop {
                if !keep_going() {
                    return Ok((removed, false));
                }
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                let n = delete_mentions(&tx, topic, before, batches.mentions)?;
                tx.commit()?;
                removed += n as u64;
                if n < batches.mentions {
                    break;
                }
                std::thread::sleep(batches.pause);
            }
        }
        Ok((removed, true))
    }

    fn prune_bookkeeping(
        &mut self,
        b: &Bookkeeping,
        before: i64,
        keep_going: &dyn Fn() -> bool,
        batches: Batches,
    ) -> Result<(u64, bool), StoreError> {
        if let Some(walk) = b.walk(|i| format!("?{i}")) {
            return self.walk_bookkeeping(&walk, before, keep_going, batches);
        }
        let sql = b.delete_batch("?1", "?2");
        let mut removed = 0u64;
        loop {
            if !keep_going() {
                return Ok((removed, false));
            }
            let n = self
                .conn
                .prepare_cached(&sql)?
                .execute((before, batches.bookkeeping as i64))?;
            removed += n as u64;
            if n < batches.bookkeeping {
                return Ok((removed, true));
            }
            std::thread::sleep(batches.pause);
        }
    }

    /// Walks a table's primary key in windows of `batches.bookkeeping` rows
    /// (`Found::ByKey`): each window is read outside a transaction, and
    /// only a window with old rows takes the write lock, to delete them.
    /// Old rows are spread over the whole key range (keys are hashes and
    /// ids), so most windows of a daily prune delete a few rows each: the
    /// pause comes after every `batches.bookkeeping` rows deleted, as it
    /// does for the tables found by time, not after every window.
    fn walk_bookkeeping(
        &mut self,
        walk: &Walk,
        before: i64,
        keep_going: &dyn Fn() -> bool,
        batches: Batches,
    ) -> Result<(u64, bool), StoreError> {
        let key = |r: &rusqlite::Row<'_>| {
            (0..walk.columns)
                .map(|i| r.get::<_, i64>(i))
                .collect::<rusqlite::Result<Vec<i64>>>()
        };
        let mut walker = Walker::new(walk, before, batches);
        loop {
            if !keep_going() {
                return Ok((walker.removed(), false));
            }
            let end: Option<Vec<i64>> = self
                .conn
                .prepare_cached(&walk.window_end)?
                .query_row(rusqlite::params_from_iter(walker.window_end_params()), key)
                .optional()?;
            let window = walker.window_params(end.as_deref());
            let any_old = self
                .conn
                .prepare_cached(&walk.any_old)?
                .query_row(rusqlite::params_from_iter(&window), |_| Ok(()))
                .optional()?
                .is_some();
            let mut deleted = 0;
            if any_old {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                deleted = tx
                    .prepare_cached(&walk.delete)?
                    .execute(rusqlite::params_from_iter(&window))? as u64;
                tx.commit()?;
            }
            match walker.next(end, deleted) {
                Next::Done => return Ok((walker.removed(), true)),
                Next::Pause => std::thread::sleep(batches.pause),
                Next::Go => {}
            }
        }
    }
}

/// Deletes up to `limit` of the oldest mentions of `topic` before `before`
/// and takes them out of every count; returns how many went.
fn delete_mentions(
    tx: &Transaction<'_>,
    topic: i64,
    before: i64,
    limit: usize,
) -> Result<usize, StoreError> {
    let gone: Vec<Gone> = tx
        .prepare_cached(
            "SELECT id, source_id, kind, host, at, simhash, excluded_by, title FROM mention
             WHERE topic_id = ?1 AND at < ?2 ORDER BY at LIMIT ?3",
        )?
        .query_map((topic, before, limit as i64), |r| {
            Ok(Gone {
                id: r.get(0)?,
                source_id: r.get(1)?,
                kind: r.get(2)?,
                host: r.get(3)?,
                at: r.get(4)?,
                simhash: r.get(5)?,
                excluded_by: r.get(6)?,
                title: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if gone.is_empty() {
        return Ok(0);
    }
    let mut delete = tx.prepare_cached("DELETE FROM mention WHERE id = ?1")?;
    let mut drop_sightings = tx.prepare_cached("DELETE FROM sighting WHERE mention_id = ?1")?;
    // An exclusion of this one mention goes with it; a domain or author rule stays.
    let mut drop_exclusion =
        tx.prepare_cached("DELETE FROM exclusion WHERE id = ?1 AND what = 'mention'")?;
    let mut drop_bands = tx.prepare_cached(
        "DELETE FROM simhash_band
         WHERE topic_id = ?1 AND host_id = ?2 AND simhash = ?3 AND band IN (?4, ?5, ?6, ?7)",
    )?;
    let mut host_ids: HashMap<String, Option<i64>> = HashMap::new();
    let mut tally = Tally::default();
    for m in &gone {
        delete.execute([m.id])?;
        drop_sightings.execute([m.id])?;
        if let Some(rule) = m.excluded_by {
            drop_exclusion.execute([rule])?;
        }
        if let Some(host) = &m.host {
            super::headlines::remove(tx, topic, host, &m.title, m.at, m.id)?;
        }
        let host_id = match &m.host {
            None => None,
            Some(host) => match host_ids.get(host) {
                Some(&id) => id,
                None => {
                    let id = tx
                        .prepare_cached("SELECT id FROM host WHERE name = ?1")?
                        .query_row([host], |r| r.get(0))
                        .optional()?;
                    host_ids.insert(host.clone(), id);
                    id
                }
            },
        };
        if let Some(host_id) = host_id {
            // Each stored fingerprint of a host is its mention's alone: a
            // second one that close would have been a near-duplicate.
            let b = bands(m.simhash as u64);
            drop_bands.execute(rusqlite::params![
                topic, host_id, m.simhash, b[0], b[1], b[2], b[3]
            ])?;
        }
        // An excluded mention was already taken out of the counts.
        if m.excluded_by.is_none() {
            tally.add(
                topic,
                &Counted {
                    source_id: m.source_id,
                    kind: m.kind,
                    host_id,
                    at: m.at,
                },
            );
        }
    }
    tally.take_from(tx)?;
    Ok(gone.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Validators;
    use crate::sources::Kind;
    use crate::store::{CrawlBatch, NewMention};
    use chrono::TimeZone;

    const DAY: i64 = 86_400;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    fn mention(topic: &str, kind: Kind, host: Option<&str>, i: u64, published: i64) -> NewMention {
        NewMention {
            topic: topic.into(),
            kind,
            identity: format!("{}/{topic}/{i}", host.unwrap_or("at://p")),
            url: None,
            host: host.map(Into::into),
            title: "t".into(),
            excerpt: "e".into(),
            author: None,
            lang: None,
            published: Some(at(published)),
            // Far apart, so no two are near-duplicates.
            simhash: i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            seen: None,
        }
    }

    fn batch(source: &str, kind: Kind, started: DateTime<Utc>, m: Vec<NewMention>) -> CrawlBatch {
        let mut b = CrawlBatch::new(source, "feed", kind, started);
        b.mentions = m;
        b
    }

    /// Mentions of two topics from three sources over 300 days before
    /// `now()`, at times that straddle every bucket size.
    fn filled() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let end = now().timestamp();
        let hosts = ["a.example", "b.example", "c.example", "d.example"];
        let mut web = Vec::new();
        let mut social = Vec::new();
        let mut hosted_social = Vec::new();
        for i in 0..600u64 {
            let t = end - rng.i64(0..300 * DAY);
            let topic = if i % 3 == 0 { "b" } else { "a" };
            match i % 5 {
                0..=2 => web.push(mention(
                    topic,
                    Kind::Web,
                    Some(hosts[rng.usize(0..4)]),
                    i,
                    t,
                )),
                3 => social.push(mention(topic, Kind::Social, None, i, t)),
                _ => hosted_social.push(mention(topic, Kind::Social, Some(hosts[0]), i, t)),
            }
        }
        store.commit(&batch("web", Kind::Web, now(), web)).unwrap();
        store
            .commit(&batch("social", Kind::Social, now(), social))
            .unwrap();
        // A feed the config calls social: its items have hosts but no host counts.
        store
            .commit(&batch("feed-social", Kind::Social, now(), hosted_social))
            .unwrap();
        store
    }

    fn q(store: &Store, sql: &str) -> i64 {
        store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    use crate::store::counts::exact::assert_counts_exact;

    fn plan(mentions_before: Option<i64>, bookkeeping_before: i64) -> RetentionPlan {
        RetentionPlan {
            mentions: mentions_before.map(|t| Cutoff {
                before: at(t),
                reason: "test".into(),
            }),
            bookkeeping: Cutoff {
                before: at(bookkeeping_before),
                reason: "test".into(),
            },
        }
    }

    fn small() -> Batches {
        Batches {
            mentions: 7,
            bookkeeping: 3,
            pause: Duration::ZERO,
        }
    }

    #[test]
    fn pruning_deletes_old_mentions_and_keeps_every_count_exact() {
        let mut store = filled();
        assert_counts_exact(&store);
        // In the middle of an hour, a day and both longer buckets.
        let cutoff = now().timestamp() - 123 * DAY - 1234;
        // Excluded mentions on both sides of the cutoff are not counted
        // twice out: they left the counts when they were excluded.
        let ids = |sql: &str| -> Vec<i64> {
            store
                .conn
                .prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let mut picked = ids(&format!(
            "SELECT id FROM mention WHERE at < {cutoff} ORDER BY id LIMIT 5"
        ));
        picked.extend(ids(&format!(
            "SELECT id FROM mention WHERE at >= {cutoff} ORDER BY id LIMIT 5"
        )));
        store
            .exclude(&crate::store::ExcludeTarget::Mentions(picked), None, now())
            .unwrap()
            .unwrap();
        assert_counts_exact(&store);
        let old = q(
            &store,
            &format!("SELECT count(*) FROM mention WHERE at < {cutoff}"),
        );
        let total = q(&store, "SELECT count(*) FROM mention");
        assert!(old > 100 && total - old > 100, "{old} of {total}");
        let pruned = store
            .prune_in(&plan(Some(cutoff), 0), &|| true, small())
            .unwrap();
        assert!(pruned.complete);
        assert_eq!(pruned.of("mentions"), old as u64);
        assert_eq!(q(&store, "SELECT count(*) FROM mention"), total - old);
        assert_eq!(
            q(
                &store,
                &format!("SELECT count(*) FROM mention WHERE at < {cutoff}")
            ),
            0
        );
        assert_counts_exact(&store);
        crate::store::headlines::exact::assert_headlines_exact(&store);
        // Reports over any window agree with the rows left.
        for topic in ["a", "b"] {
            let from = at(now().timestamp() - 400 * DAY);
            let c = store.counts(topic, from, now()).unwrap();
            let direct = q(
                &store,
                &format!("SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id WHERE name = '{topic}' AND excluded_by IS NULL"),
            );
            assert_eq!(c.total() as i64, direct);
        }
        // The old mentions' exclusions went with them.
        assert_eq!(q(&store, "SELECT count(*) FROM exclusion"), 5);
        // Again: nothing more to do.
        let again = store.prune(&plan(Some(cutoff), 0), &|| true).unwrap();
        assert_eq!(again.of("mentions"), 0);
    }

    #[test]
    fn a_pruned_mention_takes_its_own_exclusion_and_leaves_domain_rules() {
        let mut store = filled();
        let cutoff = now().timestamp() - 123 * DAY;
        let old: i64 = q(
            &store,
            &format!("SELECT min(id) FROM mention WHERE at < {cutoff}"),
        );
        let young: i64 = q(
            &store,
            &format!("SELECT min(id) FROM mention WHERE at >= {cutoff}"),
        );
        store
            .exclude(
                &crate::store::ExcludeTarget::Mentions(vec![old, young]),
                Some("wrong topic"),
                now(),
            )
            .unwrap()
            .unwrap();
        store
            .exclude(
                &crate::store::ExcludeTarget::Domain {
                    domain: "d.example".into(),
                    topic: None,
                },
                None,
                now(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(store.exclusions().unwrap().len(), 3);
        store
            .prune_in(&plan(Some(cutoff), 0), &|| true, small())
            .unwrap();
        assert_counts_exact(&store);
        // The old mention's exclusion went with it; the young one's and the rule stay.
        let left: Vec<(String, Option<i64>)> = store
            .exclusions()
            .unwrap()
            .into_iter()
            .map(|e| (e.what, e.mention))
            .collect();
        assert_eq!(
            left,
            [
                ("mention".to_owned(), Some(young)),
                ("domain".to_owned(), None)
            ]
        );
    }

    #[test]
    fn a_stopped_prune_leaves_consistent_counts_and_finishes_next_time() {
        let mut store = filled();
        let cutoff = now().timestamp() - 50 * DAY;
        let old = q(
            &store,
            &format!("SELECT count(*) FROM mention WHERE at < {cutoff}"),
        );
        let calls = std::cell::Cell::new(0);
        let pruned = store
            .prune_in(
                &plan(Some(cutoff), 0),
                &|| {
                    calls.set(calls.get() + 1);
                    calls.get() <= 3
                },
                small(),
            )
            .unwrap();
        assert!(!pruned.complete);
        assert_eq!(pruned.of("mentions"), 21);
        assert_counts_exact(&store);
        assert!(pruned
            .lines(&plan(Some(cutoff), 0))
            .last()
            .unwrap()
            .contains("stopped"));
        let rest = store.prune(&plan(Some(cutoff), 0), &|| true).unwrap();
        assert!(rest.complete);
        assert_eq!(rest.of("mentions"), old as u64 - 21);
        assert_counts_exact(&store);
    }

    #[test]
    fn a_pruned_mention_is_not_stored_again_until_retention_is_lifted() {
        let mut store = Store::open_in_memory().unwrap();
        let old = now().timestamp() - 500 * DAY;
        let recent = now().timestamp() - DAY;
        let items = || {
            vec![
                mention("a", Kind::Web, Some("x.example"), 1, old),
                mention("a", Kind::Web, Some("x.example"), 2, recent),
            ]
        };
        store
            .commit(&batch("s", Kind::Web, now(), items()))
            .unwrap();
        let cutoff = now().timestamp() - 400 * DAY;
        let pruned = store.prune(&plan(Some(cutoff), 0), &|| true).unwrap();
        assert_eq!(pruned.of("mentions"), 1);
        // The feed still lists the old item: it stays out, and so do its counts.
        let stats = store
            .commit(&batch("s", Kind::Web, now(), items()))
            .unwrap();
        assert_eq!((stats.new, stats.duplicates), (0, 2));
        assert_eq!(q(&store, "SELECT count(*) FROM mention"), 1);
        assert_counts_exact(&store);
        // Without retention everything is kept again.
        let pruned = store.prune(&plan(None, 0), &|| true).unwrap();
        assert_eq!(
            pruned.removed,
            [
                ("seen", 0),
                ("sightings", 0),
                ("validators", 0),
                ("robots.txt", 0),
                ("back-offs", 0)
            ]
        );
        let stats = store
            .commit(&batch("s", Kind::Web, now(), items()))
            .unwrap();
        assert_eq!(stats.new, 1);
        assert_counts_exact(&store);
    }

    #[test]
    fn an_item_older_than_the_cutoff_arriving_after_a_prune_is_not_stored_or_counted() {
        let mut store = filled();
        let cutoff = now().timestamp() - 123 * DAY;
        store.prune(&plan(Some(cutoff), 0), &|| true).unwrap();
        let before = |store: &Store| {
            (
                q(store, "SELECT count(*) FROM mention"),
                q(store, "SELECT count(*) FROM sighting"),
                q(store, "SELECT sum(mentions) FROM source"),
                q(store, "SELECT sum(n) FROM count_source WHERE span = 3600"),
            )
        };
        let (mentions, sightings, total, counted) = before(&store);
        // Never stored before: one second older than the cutoff, and one at it.
        let mut late = batch(
            "web",
            Kind::Web,
            now(),
            vec![
                mention("a", Kind::Web, Some("z.example"), 9001, cutoff - 1),
                mention("a", Kind::Web, Some("z.example"), 9002, cutoff),
            ],
        );
        late.seen = vec![9001, 9002];
        let stats = store.commit(&late).unwrap();
        assert_eq!((stats.new, stats.duplicates), (1, 1));
        assert_eq!(
            before(&store),
            (mentions + 1, sightings + 1, total + 1, counted + 1)
        );
        assert_eq!(
            q(
                &store,
                &format!("SELECT count(*) FROM mention WHERE at < {cutoff}")
            ),
            0
        );
        // The crawl's seen keys are stored as for any item.
        assert_eq!(store.seen("web", &[9001, 9002]).unwrap(), [true, true]);
        assert_counts_exact(&store);
    }

    /// `seen` keys of three sources, old and fresh mixed along the
    /// primary key (hash keys both sides of zero), walked three rows at a
    /// time: exactly the old rows go, in windows that straddle sources, and
    /// a prune stopped half-way finishes next time.
    #[test]
    fn the_walk_deletes_exactly_the_old_rows_of_every_window() {
        let mut store = Store::open_in_memory().unwrap();
        let (then, today) = (now().timestamp() - 30 * DAY, now().timestamp());
        let mut fresh = Vec::new();
        for source in ["a", "b", "c"] {
            // A source's old keys first, then its fresh ones, interleaved in key order.
            let keys: Vec<u64> = (0..20u64)
                .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect();
            let (old, new): (Vec<u64>, Vec<u64>) = keys.iter().partition(|k| *k % 3 != 0);
            let mut b = batch(source, Kind::Web, at(then), Vec::new());
            b.seen = old;
            store.commit(&b).unwrap();
            let mut b = batch(source, Kind::Web, at(today), Vec::new());
            b.seen = new.clone();
            store.commit(&b).unwrap();
            fresh.extend(new.iter().map(|k| (source, *k as i64)));
        }
        assert_eq!(q(&store, "SELECT count(*) FROM seen"), 60);
        let remaining = |store: &Store| -> Vec<(String, i64)> {
            store
                .conn
                .prepare(
                    "SELECT s.name, k.key FROM seen k JOIN source s ON s.id = k.source_id
                     ORDER BY s.name, k.key",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let plan = plan(None, today - 14 * DAY);
        // Stopped after four windows of seen keys.
        let calls = std::cell::Cell::new(0);
        let stop_soon = || {
            calls.set(calls.get() + 1);
            calls.get() <= 4
        };
        let first = store.prune_in(&plan, &stop_soon, small()).unwrap();
        assert!(!first.complete);
        let gone_first = first.of("seen");
        assert!(
            gone_first > 0 && gone_first < 60 - fresh.len() as u64,
            "{first:?}"
        );
        assert_eq!(
            q(&store, "SELECT count(*) FROM seen"),
            60 - gone_first as i64
        );
        let second = store.prune_in(&plan, &|| true, small()).unwrap();
        assert!(second.complete);
        assert_eq!(gone_first + second.of("seen"), 60 - fresh.len() as u64);
        let mut wanted: Vec<(String, i64)> =
            fresh.iter().map(|(s, k)| (s.to_string(), *k)).collect();
        wanted.sort();
        assert_eq!(remaining(&store), wanted);
        // Nothing left to take.
        let third = store.prune_in(&plan, &|| true, small()).unwrap();
        assert_eq!(third.of("seen"), 0);
    }

    /// A walk pauses after every batch's worth of deleted rows, however
    /// many windows they took, and its windows follow each other.
    #[test]
    fn the_walker_pauses_by_rows_deleted_not_by_windows() {
        let seen = BOOKKEEPING.iter().find(|b| b.kind == "seen").unwrap();
        let walk = seen.walk(|i| format!("?{i}")).unwrap();
        let mut w = Walker::new(&walk, 1_000, small());
        assert_eq!(w.window_end_params(), [i64::MIN, i64::MIN, 2]);
        assert_eq!(
            w.window_params(Some(&[1, 7])),
            [i64::MIN, i64::MIN, 1, 7, 1_000]
        );
        assert_eq!(w.next(Some(vec![1, 7]), 1), Next::Go);
        assert_eq!(w.window_end_params(), [1, 7, 2]);
        assert_eq!(w.next(Some(vec![2, -4]), 0), Next::Go);
        // The third row deleted since the start: a batch's worth.
        assert_eq!(w.next(Some(vec![2, 9]), 2), Next::Pause);
        assert_eq!(w.next(Some(vec![3, 0]), 2), Next::Go);
        assert_eq!(w.window_params(None), [3, 0, i64::MAX, i64::MAX, 1_000]);
        assert_eq!(w.next(None, 1), Next::Done);
        assert_eq!(w.removed(), 6);
    }

    /// The walk reads ranges of the primary key: no statement of it scans
    /// a table or sorts.
    #[test]
    fn the_walk_reads_ranges_of_the_primary_key() {
        let store = Store::open_in_memory().unwrap();
        for b in BOOKKEEPING {
            let Some(walk) = b.walk(|i| format!("?{i}")) else {
                continue;
            };
            for sql in [&walk.window_end, &walk.any_old, &walk.delete] {
                let mut explain = store
                    .conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .unwrap();
                let zeros = vec![0i64; explain.parameter_count()];
                let plan: Vec<String> = explain
                    .query_map(rusqlite::params_from_iter(zeros), |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let plan = plan.join("; ");
                assert!(
                    plan.contains("USING PRIMARY KEY (") && !plan.contains("TEMP B-TREE"),
                    "{}: {plan}",
                    b.kind
                );
            }
        }
    }

    #[test]
    fn bookkeeping_goes_by_age_whatever_the_retention() {
        let mut store = Store::open_in_memory().unwrap();
        let validators = |url: &str| {
            (
                url.to_owned(),
                Validators {
                    etag: Some("\"v\"".into()),
                    last_modified: None,
                },
            )
        };
        let long_ago = at(now().timestamp() - 30 * DAY);
        let old = mention("t", Kind::Web, Some("x.example"), 1, long_ago.timestamp());
        let mut b = batch("s", Kind::Web, long_ago, vec![old]);
        b.seen = (0..10).collect();
        b.validators = vec![
            validators("https://x.example/old"),
            validators("https://x.example/feed"),
        ];
        store.commit(&b).unwrap();
        let mut b = batch("s", Kind::Web, now(), Vec::new());
        b.seen = (10..14).collect();
        // Stored again now: the feed's validator is fresh.
        b.validators = vec![validators("https://x.example/feed")];
        store.commit(&b).unwrap();
        assert_eq!(
            q(
                &store,
                "SELECT stored_at FROM http_cache WHERE url = 'https://x.example/old'"
            ),
            long_ago.timestamp()
        );
        // What the client remembers of hosts: one robots.txt read long ago
        // and one today, one back-off long over and one running.
        let (then, today) = (long_ago.timestamp(), now().timestamp());
        for (origin, at) in [("https://old.example", then), ("https://x.example", today)] {
            store
                .conn
                .execute(
                    "INSERT INTO robots_txt (origin, body, fetched_at, expires_at)
                     VALUES (?1, '', ?2, ?2 + 86400)",
                    (origin, at),
                )
                .unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO host_backoff (origin, until_ms, reason) VALUES (?1, ?2, '429')",
                    (origin, (at + 3600) * 1000),
                )
                .unwrap();
        }
        let pruned = store
            .prune_in(&plan(None, now().timestamp() - 14 * DAY), &|| true, small())
            .unwrap();
        assert_eq!(
            pruned.removed,
            [
                ("seen", 10),
                ("sightings", 1),
                ("validators", 1),
                ("robots.txt", 1),
                ("back-offs", 1)
            ]
        );
        assert!(store.robots("https://old.example").unwrap().is_none());
        assert!(store.robots("https://x.example").unwrap().is_some());
        assert!(store.backoff("https://old.example").unwrap().is_none());
        assert!(store.backoff("https://x.example").unwrap().is_some());
        // The mention stays (no retention set); only its sighting row went.
        assert_eq!(q(&store, "SELECT count(*) FROM mention"), 1);
        assert_eq!(store.seen("s", &[9, 10, 13]).unwrap(), [false, true, true]);
        assert!(store
            .validators("s", "https://x.example/old")
            .unwrap()
            .is_none());
        assert!(store
            .validators("s", "https://x.example/feed")
            .unwrap()
            .is_some());
        assert_eq!(
            pruned.lines(&plan(None, now().timestamp() - 14 * DAY))[0],
            "mentions: all kept ([database] retention is not set)"
        );
    }

    #[test]
    fn the_plan_and_its_lines() {
        let plan = RetentionPlan::new(
            now(),
            Some(Duration::from_secs(400 * 86_400)),
            Duration::from_secs(7 * 86_400),
        );
        assert_eq!(
            plan.mentions.as_ref().unwrap().before,
            at(now().timestamp() - 400 * DAY)
        );
        assert_eq!(plan.bookkeeping.before, at(now().timestamp() - 14 * DAY));
        let pruned = Pruned {
            removed: vec![
                ("mentions", 1204),
                ("seen", 50_000),
                ("sightings", 75),
                ("validators", 0),
                ("robots.txt", 3),
                ("back-offs", 1),
            ],
            complete: true,
        };
        assert_eq!(
            pruned.lines(&plan),
            [
                "mentions: 1,204 older than 2025-10-21 12:00 UTC (retention 400d)",
                "seen: 50,000 older than 2026-11-11 12:00 UTC (twice the longest lookback, 7d)",
                "sightings: 75 older than 2026-11-11 12:00 UTC (twice the longest lookback, 7d)",
                "validators: 0 older than 2026-11-11 12:00 UTC (twice the longest lookback, 7d)",
                "robots.txt: 3 older than 2026-11-11 12:00 UTC (twice the longest lookback, 7d)",
                "back-offs: 1 older than 2026-11-11 12:00 UTC (twice the longest lookback, 7d)",
            ]
        );
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(written(Duration::from_secs(36 * 3600)), "36h");
        assert_eq!(written(Duration::from_secs(90 * 60)), "90m");
        // A retention beyond the calendar deletes nothing rather than failing.
        let far = RetentionPlan::new(
            now(),
            Some(Duration::from_secs(u64::MAX / 2)),
            Duration::MAX,
        );
        assert_eq!(far.bookkeeping.before, DateTime::<Utc>::MIN_UTC);
    }
}
