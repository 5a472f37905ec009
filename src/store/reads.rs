//! What the reading commands, reports, charts and the server ask of a
//! store, as one synchronous trait: implemented by the SQLite `Store` (its
//! own methods, unchanged) and by `PgReader`, which asks PostgreSQL and
//! waits for the answer on a runtime of its own (a command) or on the
//! server's (from a blocking thread). Both give the same types with the
//! same order, keyset pages and edge semantics.
//!
//! Synchronous rather than async: the SQLite reads are blocking calls on
//! one connection, and their callers (`report::build`, `chart::load`, the
//! listing and explain helpers, the server's `ReadPool` closures) are plain
//! functions that run on a blocking thread; making them async would put
//! every SQLite read behind a future for nothing, and change how the server
//! runs them. A PostgreSQL read blocks the same way an SQLite read does.

use super::postgres::{PgError, Postgres};
use super::{
    Bucket, ExcludeTarget, Exclusion, ExclusionChange, Explained, FiredAlert, KindCounts,
    ListFilter, Listed, Pruned, Reference, RetentionPlan, RuleError, SeriesPoint, SourceHealth,
    Store, StoreError, TopicFigures,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::future::Future;

/// The reads of a store (see the module's comment).
pub trait Reads {
    /// Every source the database knows, by name (bytewise).
    fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError>;
    /// Per kind and per source name, the mentions of `topic` in `[from, to)`.
    fn window_summary(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(KindCounts, HashMap<String, u64>), StoreError>;
    /// Per kind, the undated mentions of `topic` in `[from, to)`.
    fn undated_counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, StoreError>;
    /// The hosts with the most web mentions in the window.
    fn references(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Reference>, StoreError>;
    /// Per bucket and kind, the mentions of `topic` in `[from, to)`.
    fn series(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> Result<Vec<SeriesPoint>, StoreError>;
    /// The mentions `filter` selects, newest first, at most `limit`, to
    /// `each` until it returns false; one snapshot.
    fn list(
        &self,
        filter: &ListFilter,
        limit: Option<usize>,
        each: &mut dyn FnMut(Listed) -> bool,
    ) -> Result<(), StoreError>;
    /// How many mentions `filter` selects (its cursor ignored).
    fn count_listed(&self, filter: &ListFilter) -> Result<u64, StoreError>;
    /// One mention by id.
    fn mention(&self, id: i64) -> Result<Option<Listed>, StoreError>;
    /// The mentions (one per topic) at `url`.
    fn mentions_at(&self, url: &str) -> Result<Vec<i64>, StoreError>;
    /// The sources that evaluated an item with this identity, and when first.
    fn seen_by(&self, identity: &str) -> Result<Vec<(String, DateTime<Utc>)>, StoreError>;
    /// A mention and its sightings, oldest first.
    fn explain(&self, id: i64) -> Result<Option<Explained>, StoreError>;
    /// Every exclusion, oldest first.
    fn exclusions(&self) -> Result<Vec<Exclusion>, StoreError>;
    /// One exclusion by id.
    fn exclusion(&self, id: i64) -> Result<Option<Exclusion>, StoreError>;
    /// The alert crossings of `topic` whose window overlaps `[from, to)`.
    fn alert_crossings(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FiredAlert>, StoreError>;
    /// The alerts fired since `since`, newest first.
    fn fired_alerts(&self, since: DateTime<Utc>) -> Result<Vec<FiredAlert>, StoreError>;

    /// Distinct mentions of `topic` in `[from, to)`, per kind.
    fn counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, StoreError> {
        Ok(self.window_summary(topic, from, to)?.0)
    }

    /// Mentions of `topic` in the window, per source name.
    fn mentions_by_source(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<String, u64>, StoreError> {
        Ok(self.window_summary(topic, from, to)?.1)
    }

    /// What a report of each of `topics` over `[from, to)` needs, in the
    /// order given, with the `top` references of each. Topic by topic
    /// here; a store where a statement costs a round trip and a plan
    /// answers for all topics at once.
    fn report_figures(
        &self,
        topics: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        top: usize,
    ) -> Result<Vec<TopicFigures>, StoreError> {
        topics
            .iter()
            .map(|&topic| {
                let (counts, by_source) = self.window_summary(topic, from, to)?;
                Ok(TopicFigures {
                    counts,
                    by_source,
                    undated: self.undated_counts(topic, from, to)?,
                    references: self.references(topic, from, to, top)?,
                })
            })
            .collect()
    }
}

impl Reads for Store {
    fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        Store::source_health(self)
    }
    fn window_summary(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(KindCounts, HashMap<String, u64>), StoreError> {
        Store::window_summary(self, topic, from, to)
    }
    fn undated_counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, StoreError> {
        Store::undated_counts(self, topic, from, to)
    }
    fn references(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Reference>, StoreError> {
        Store::references(self, topic, from, to, limit)
    }
    fn series(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        Store::series(self, topic, from, to, bucket)
    }
    fn list(
        &self,
        filter: &ListFilter,
        limit: Option<usize>,
        each: &mut dyn FnMut(Listed) -> bool,
    ) -> Result<(), StoreError> {
        Store::list(self, filter, limit, each)
    }
    fn count_listed(&self, filter: &ListFilter) -> Result<u64, StoreError> {
        Store::count_listed(self, filter)
    }
    fn mention(&self, id: i64) -> Result<Option<Listed>, StoreError> {
        Store::mention(self, id)
    }
    fn mentions_at(&self, url: &str) -> Result<Vec<i64>, StoreError> {
        Store::mentions_at(self, url)
    }
    fn seen_by(&self, identity: &str) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        Store::seen_by(self, identity)
    }
    fn explain(&self, id: i64) -> Result<Option<Explained>, StoreError> {
        Store::explain(self, id)
    }
    fn exclusions(&self) -> Result<Vec<Exclusion>, StoreError> {
        Store::exclusions(self)
    }
    fn exclusion(&self, id: i64) -> Result<Option<Exclusion>, StoreError> {
        Store::exclusion(self, id)
    }
    fn alert_crossings(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FiredAlert>, StoreError> {
        Store::alert_crossings(self, topic, from, to)
    }
    fn fired_alerts(&self, since: DateTime<Utc>) -> Result<Vec<FiredAlert>, StoreError> {
        Store::fired_alerts(self, since)
    }
}

/// What `exclude`, `include` and `prune` change, on either backend: the
/// SQLite `Store` (its own methods) or PostgreSQL through `PgReader`, with
/// the same answers for the same rows.
pub trait Writes: Reads {
    /// Excludes `target` now, and (for a domain or author) what arrives later.
    fn exclude(
        &mut self,
        target: &ExcludeTarget,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<ExclusionChange, RuleError>, StoreError>;
    /// Lets the mentions `ids` count again, whatever excluded them.
    fn include(&mut self, ids: &[i64]) -> Result<ExclusionChange, StoreError>;
    /// Drops an exclusion and lets its mentions count again; None when there is none.
    fn remove_exclusion(&mut self, id: i64) -> Result<Option<ExclusionChange>, StoreError>;
    /// Applies retention now, checking `keep_going` between batches.
    fn prune(
        &mut self,
        plan: &RetentionPlan,
        keep_going: &(dyn Fn() -> bool + Sync),
    ) -> Result<Pruned, StoreError>;
}

impl Writes for Store {
    fn exclude(
        &mut self,
        target: &ExcludeTarget,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<ExclusionChange, RuleError>, StoreError> {
        Store::exclude(self, target, reason, now)
    }
    fn include(&mut self, ids: &[i64]) -> Result<ExclusionChange, StoreError> {
        Store::include(self, ids)
    }
    fn remove_exclusion(&mut self, id: i64) -> Result<Option<ExclusionChange>, StoreError> {
        Store::remove_exclusion(self, id)
    }
    fn prune(
        &mut self,
        plan: &RetentionPlan,
        keep_going: &(dyn Fn() -> bool + Sync),
    ) -> Result<Pruned, StoreError> {
        Store::prune(self, plan, keep_going)
    }
}

/// Where a `PgReader` waits for its answers.
enum Runner {
    /// A runtime of its own (a command, which runs no other).
    Own(tokio::runtime::Runtime),
    /// The server's runtime, from one of its blocking threads.
    Handle(tokio::runtime::Handle),
}

/// PostgreSQL's reads behind the synchronous `Reads`.
pub struct PgReader {
    pg: Postgres,
    runner: Runner,
}

impl PgReader {
    /// Connects to `target` (applying the migrations it has not seen, under
    /// the advisory lock every node takes) with a runtime of its own. Not
    /// from inside an async task: the runtime blocks this thread.
    pub fn connect(target: &super::postgres::PgTarget) -> Result<PgReader, PgError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PgError::Unreachable {
                target: target.describe(),
                detail: format!("cannot start a runtime: {e}"),
            })?;
        let pg = runtime.block_on(Postgres::connect(target, 2))?;
        Ok(PgReader {
            pg,
            runner: Runner::Own(runtime),
        })
    }

    /// Reads through `pg` on the runtime `handle` drives; for a blocking
    /// thread of that runtime (`spawn_blocking`), never an async task.
    pub fn on(pg: Postgres, handle: tokio::runtime::Handle) -> PgReader {
        PgReader {
            pg,
            runner: Runner::Handle(handle),
        }
    }

    pub fn postgres(&self) -> &Postgres {
        &self.pg
    }

    fn block<T>(&self, read: impl Future<Output = Result<T, PgError>>) -> Result<T, StoreError> {
        Ok(match &self.runner {
            Runner::Own(runtime) => runtime.block_on(read),
            Runner::Handle(handle) => handle.block_on(read),
        }?)
    }
}

impl Reads for PgReader {
    fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        self.block(self.pg.source_health())
    }
    fn window_summary(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(KindCounts, HashMap<String, u64>), StoreError> {
        self.block(self.pg.window_summary(topic, from, to))
    }
    fn undated_counts(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KindCounts, StoreError> {
        self.block(self.pg.undated_counts(topic, from, to))
    }
    fn references(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Reference>, StoreError> {
        self.block(self.pg.references(topic, from, to, limit))
    }
    fn series(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: Bucket,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        self.block(self.pg.series(topic, from, to, bucket))
    }
    fn report_figures(
        &self,
        topics: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        top: usize,
    ) -> Result<Vec<TopicFigures>, StoreError> {
        self.block(self.pg.report_figures(topics, from, to, top))
    }
    fn list(
        &self,
        filter: &ListFilter,
        limit: Option<usize>,
        each: &mut dyn FnMut(Listed) -> bool,
    ) -> Result<(), StoreError> {
        self.block(self.pg.list(filter, limit, each))
    }
    fn count_listed(&self, filter: &ListFilter) -> Result<u64, StoreError> {
        self.block(self.pg.count_listed(filter))
    }
    fn mention(&self, id: i64) -> Result<Option<Listed>, StoreError> {
        self.block(self.pg.mention(id))
    }
    fn mentions_at(&self, url: &str) -> Result<Vec<i64>, StoreError> {
        self.block(self.pg.mentions_at(url))
    }
    fn seen_by(&self, identity: &str) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        self.block(self.pg.seen_by(identity))
    }
    fn explain(&self, id: i64) -> Result<Option<Explained>, StoreError> {
        self.block(self.pg.explain(id))
    }
    fn exclusions(&self) -> Result<Vec<Exclusion>, StoreError> {
        self.block(self.pg.exclusions())
    }
    fn exclusion(&self, id: i64) -> Result<Option<Exclusion>, StoreError> {
        self.block(self.pg.exclusion(id))
    }
    fn alert_crossings(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FiredAlert>, StoreError> {
        self.block(self.pg.alert_crossings(topic, from, to))
    }
    fn fired_alerts(&self, since: DateTime<Utc>) -> Result<Vec<FiredAlert>, StoreError> {
        self.block(self.pg.fired_alerts(since))
    }
}

impl Writes for PgReader {
    fn exclude(
        &mut self,
        target: &ExcludeTarget,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<ExclusionChange, RuleError>, StoreError> {
        self.block(self.pg.exclude(target, reason, now))
    }
    fn include(&mut self, ids: &[i64]) -> Result<ExclusionChange, StoreError> {
        self.block(self.pg.include(ids))
    }
    fn remove_exclusion(&mut self, id: i64) -> Result<Option<ExclusionChange>, StoreError> {
        self.block(self.pg.remove_exclusion(id))
    }
    fn prune(
        &mut self,
        plan: &RetentionPlan,
        keep_going: &(dyn Fn() -> bool + Sync),
    ) -> Result<Pruned, StoreError> {
        self.block(self.pg.prune(plan, keep_going))
    }
}
