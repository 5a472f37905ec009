//! Exclusions (taking false positives out of the counts): one mention by
//! id, every mention of a domain (for one topic or all), or every mention
//! of an author within a source. An excluded mention stays stored with the
//! exclusion that took it out; the count tables move in the same
//! transaction, so reports, lists and alerts agree at once. Domain and
//! author exclusions are rules: a crawl stores later matching items
//! excluded (`Rules`).

use super::counts::{Counted, Tally};
use super::rules::{author_key, ON_DOMAIN};
use super::{Store, StoreError};

pub use super::rules::domain_key;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};
use std::collections::HashMap;

/// What to exclude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExcludeTarget {
    Mentions(Vec<i64>),
    /// A web host or platform instance (`www.` ignored), for one topic or all.
    Domain {
        domain: String,
        topic: Option<String>,
    },
    /// An author's mentions stored by one source.
    Author {
        author: String,
        source: String,
    },
}

/// An exclusion as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub id: i64,
    /// `mention`, `domain` or `author`.
    pub what: String,
    pub mention: Option<i64>,
    /// The topic a domain rule holds for (None: every topic), or the
    /// excluded mention's topic.
    pub topic: Option<String>,
    pub domain: Option<String>,
    pub source: Option<String>,
    pub author: Option<String>,
    pub reason: Option<String>,
    pub created: DateTime<Utc>,
    /// Mentions it takes out of the counts now.
    pub mentions: u64,
}

/// What `exclude` or `include` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExclusionChange {
    /// Mentions that stopped (exclude) or started (include) counting.
    pub changed: u64,
    /// Mentions that were already excluded (exclude) or counting (include).
    pub unchanged: u64,
    /// Ids that name no stored mention.
    pub missing: Vec<i64>,
    /// The rule's id, for a domain or author exclusion.
    pub rule: Option<i64>,
}

/// Mentions whose ids go to the database in one statement (to SQLite as a
/// JSON array, to PostgreSQL as an array; a few in tests, so that they
/// cross chunks).
pub(super) const CHUNK: usize = if cfg!(test) { 16 } else { 10_000 };

/// Excludes or includes mentions by id and moves the count tables with
/// them: every way of excluding (one mention, a domain, an author) and of
/// letting mentions count again ends here.
///
/// Rows are changed in id order with one UPDATE per chunk of ids, which
/// returns what each changed row counted for, so every row is read once;
/// the count rows change once at the end (`finish`).
#[derive(Default)]
struct Change {
    tally: Tally,
    /// Rows that changed, and rows found already as asked.
    changed: u64,
    unchanged: u64,
    /// Host name → host id, as the count tables key web mentions.
    hosts: HashMap<String, Option<i64>>,
}

impl Change {
    /// Marks the mentions `ids` excluded by `rule` (those that still count).
    /// Every id must name a stored mention; each counts once.
    fn exclude(
        &mut self,
        tx: &Transaction<'_>,
        ids: &mut Vec<i64>,
        rule: i64,
    ) -> rusqlite::Result<()> {
        self.set(
            tx,
            ids,
            "UPDATE mention SET excluded_by = ?2
             WHERE id IN (SELECT value FROM json_each(?1)) AND excluded_by IS NULL
             RETURNING topic_id, source_id, kind, host, at",
            Some(rule),
        )
    }

    /// Lets the mentions `ids` count again (those excluded). Every id must
    /// name a stored mention; each counts once.
    fn include(&mut self, tx: &Transaction<'_>, ids: &mut Vec<i64>) -> rusqlite::Result<()> {
        self.set(
            tx,
            ids,
            "UPDATE mention SET excluded_by = NULL
             WHERE id IN (SELECT value FROM json_each(?1)) AND excluded_by IS NOT NULL
             RETURNING topic_id, source_id, kind, host, at",
            None,
        )
    }

    fn set(
        &mut self,
        tx: &Transaction<'_>,
        ids: &mut Vec<i64>,
        sql: &str,
        rule: Option<i64>,
    ) -> rusqlite::Result<()> {
        ids.sort_unstable();
        ids.dedup();
        let mut update = tx.prepare_cached(sql)?;
        let mut host = tx.prepare_cached("SELECT id FROM host WHERE name = ?1")?;
        let mut list = String::new();
        for chunk in ids.chunks(CHUNK) {
            list.clear();
            list.push('[');
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    list.push(',');
                }
                list.push_str(&id.to_string());
            }
            list.push(']');
            let params: &[&dyn rusqlite::ToSql] = match &rule {
                Some(rule) => &[&list, rule],
                None => &[&list],
            };
            let mut rows = update.query(params)?;
            let mut changed = 0;
            while let Some(r) = rows.next()? {
                let host_id = match r.get_ref(3)?.as_str_or_null()? {
                    None => None,
                    Some(name) => match self.hosts.get(name) {
                        Some(&id) => id,
                        None => {
                            let id = host.query_row([name], |r| r.get(0)).optional()?;
                            self.hosts.insert(name.to_owned(), id);
                            id
                        }
                    },
                };
                self.tally.add(
                    r.get(0)?,
                    &Counted {
                        source_id: r.get(1)?,
                        kind: r.get(2)?,
                        host_id,
                        at: r.get(4)?,
                    },
                );
                changed += 1;
            }
            self.changed += changed;
            self.unchanged += chunk.len() as u64 - changed;
        }
        Ok(())
    }

    /// Takes excluded mentions out of the count tables, or adds included
    /// ones; returns (changed, unchanged).
    fn finish(self, tx: &Transaction<'_>, excluded: bool) -> rusqlite::Result<(u64, u64)> {
        if excluded {
            self.tally.take_from(tx)?;
        } else {
            self.tally.add_to(tx)?;
        }
        Ok((self.changed, self.unchanged))
    }
}

/// The ids of the mentions `filter` selects (`m` is the mention).
fn ids_where(
    tx: &Transaction<'_>,
    filter: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<i64>> {
    tx.prepare(&format!("SELECT m.id FROM mention m WHERE {filter}"))?
        .query_map(params, |r| r.get(0))?
        .collect()
}

fn named_id(tx: &Transaction<'_>, table: &str, name: &str) -> rusqlite::Result<Option<i64>> {
    tx.query_row(
        &format!("SELECT id FROM {table} WHERE name = ?1"),
        [name],
        |r| r.get(0),
    )
    .optional()
}

/// Why a domain or author rule cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("no source named {0:?} has crawled yet")]
    UnknownSource(String),
}

impl Store {
    /// Excludes `target` now, and (for a domain or author) what arrives later.
    pub fn exclude(
        &mut self,
        target: &ExcludeTarget,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<ExclusionChange, RuleError>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now.timestamp();
        let mut change = ExclusionChange::default();
        let mut rows = Change::default();
        match target {
            ExcludeTarget::Mentions(ids) => {
                let mut add = tx.prepare_cached(
                    "INSERT INTO exclusion (what, reason, created_at) VALUES ('mention', ?1, ?2)
                     RETURNING id",
                )?;
                let mut excluded =
                    tx.prepare_cached("SELECT excluded_by IS NOT NULL FROM mention WHERE id = ?1")?;
                for &id in ids {
                    match excluded.query_row([id], |r| r.get(0)).optional()? {
                        None => change.missing.push(id),
                        Some(true) => change.unchanged += 1,
                        Some(false) => {
                            let rule: i64 = add.query_row((reason, now), |r| r.get(0))?;
                            rows.exclude(&tx, &mut vec![id], rule)?;
                        }
                    }
                }
            }
            ExcludeTarget::Domain { domain, topic } => {
                let domain = domain_key(domain);
                // A topic with nothing stored yet gets its row now: the
                // rule holds for what it stores later.
                let topic_id = match topic {
                    None => None,
                    Some(name) => Some(super::mentions::topic_id(&tx, name)?),
                };
                let rule = rule_id(
                    &tx,
                    "domain",
                    topic_id,
                    Some(&domain),
                    None,
                    None,
                    reason,
                    now,
                )?;
                // The domain indexes give the ids without reading the rows.
                let mut ids = ids_where(
                    &tx,
                    &format!("{ON_DOMAIN} AND (:t IS NULL OR m.topic_id = :t)"),
                    rusqlite::named_params! {":d": domain, ":t": topic_id},
                )?;
                rows.exclude(&tx, &mut ids, rule)?;
                change.rule = Some(rule);
            }
            ExcludeTarget::Author { author, source } => {
                let Some(source_id) = named_id(&tx, "source", source)? else {
                    return Ok(Err(RuleError::UnknownSource(source.clone())));
                };
                let author = author.trim();
                let rule = rule_id(
                    &tx,
                    "author",
                    None,
                    None,
                    Some(source_id),
                    Some(author),
                    reason,
                    now,
                )?;
                let key = author_key(author);
                let mut ids: Vec<i64> = tx
                    .prepare_cached(
                        "SELECT id, author FROM mention WHERE source_id = ?1 AND author IS NOT NULL",
                    )?
                    .query_map([source_id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                    })?
                    .filter_map(|row| match row {
                        Ok((id, a)) if author_key(&a) == key => Some(Ok(id)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<_, _>>()?;
                rows.exclude(&tx, &mut ids, rule)?;
                change.rule = Some(rule);
            }
        }
        let (changed, unchanged) = rows.finish(&tx, true)?;
        change.changed += changed;
        change.unchanged += unchanged;
        tx.commit()?;
        Ok(Ok(change))
    }

    /// Lets the mentions `ids` count again, whatever excluded them; an
    /// exclusion of one mention goes with it. Domain and author rules stay
    /// for what arrives later (`remove_exclusion` drops a rule).
    pub fn include(&mut self, ids: &[i64]) -> Result<ExclusionChange, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut change = ExclusionChange::default();
        let mut rows = Change::default();
        for &id in ids {
            let rule: Option<Option<i64>> = tx
                .query_row("SELECT excluded_by FROM mention WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            match rule {
                None => change.missing.push(id),
                Some(None) => change.unchanged += 1,
                Some(Some(rule)) => {
                    rows.include(&tx, &mut vec![id])?;
                    tx.execute(
                        "DELETE FROM exclusion WHERE id = ?1 AND what = 'mention'",
                        [rule],
                    )?;
                }
            }
        }
        let (changed, unchanged) = rows.finish(&tx, false)?;
        change.changed += changed;
        change.unchanged += unchanged;
        tx.commit()?;
        Ok(change)
    }

    /// Drops the exclusion `id` and lets every mention it excluded count
    /// again; None when there is no such exclusion.
    pub fn remove_exclusion(&mut self, id: i64) -> Result<Option<ExclusionChange>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx.execute("DELETE FROM exclusion WHERE id = ?1", [id])? == 0 {
            return Ok(None);
        }
        let mut ids = ids_where(&tx, "m.excluded_by = ?1", [id])?;
        let mut rows = Change::default();
        rows.include(&tx, &mut ids)?;
        let (changed, unchanged) = rows.finish(&tx, false)?;
        tx.commit()?;
        Ok(Some(ExclusionChange {
            changed,
            unchanged,
            missing: Vec::new(),
            rule: Some(id),
        }))
    }

    /// Every exclusion, oldest first.
    pub fn exclusions(&self) -> Result<Vec<Exclusion>, StoreError> {
        self.exclusions_where("1", None)
    }

    /// One exclusion by id.
    pub fn exclusion(&self, id: i64) -> Result<Option<Exclusion>, StoreError> {
        Ok(self.exclusions_where("e.id = ?1", Some(id))?.pop())
    }

    fn exclusions_where(
        &self,
        filter: &str,
        id: Option<i64>,
    ) -> Result<Vec<Exclusion>, StoreError> {
        // A mention's exclusion names its mention and that mention's topic.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT e.id, e.what,
                    coalesce(t.name, (SELECT t2.name FROM mention m2 JOIN topic t2 ON t2.id = m2.topic_id
                                      WHERE m2.excluded_by = e.id AND e.what = 'mention')),
                    e.domain, s.name, e.author, e.reason, e.created_at,
                    (SELECT count(*) FROM mention WHERE excluded_by = e.id),
                    (SELECT min(id) FROM mention WHERE excluded_by = e.id AND e.what = 'mention')
             FROM exclusion e
             LEFT JOIN topic t ON t.id = e.topic_id
             LEFT JOIN source s ON s.id = e.source_id
             WHERE {filter}
             ORDER BY e.id"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(id), |r| {
                Ok(Exclusion {
                    id: r.get(0)?,
                    what: r.get(1)?,
                    topic: r.get(2)?,
                    domain: r.get(3)?,
                    source: r.get(4)?,
                    author: r.get(5)?,
                    reason: r.get(6)?,
                    created: Utc.timestamp_opt(r.get(7)?, 0).single().unwrap_or_default(),
                    mentions: r.get::<_, i64>(8)? as u64,
                    mention: r.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// The id of the domain or author rule, written now unless it exists.
#[allow(clippy::too_many_arguments)]
fn rule_id(
    tx: &Transaction<'_>,
    what: &str,
    topic: Option<i64>,
    domain: Option<&str>,
    source: Option<i64>,
    author: Option<&str>,
    reason: Option<&str>,
    now: i64,
) -> rusqlite::Result<i64> {
    let found: Option<i64> = tx
        .prepare_cached(
            "SELECT id, author FROM exclusion
             WHERE what = ?1 AND topic_id IS ?2 AND domain IS ?3 AND source_id IS ?4",
        )?
        .query_map((what, topic, domain, source), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|(_, a)| a.as_deref().map(author_key) == author.map(author_key))
        .map(|(id, _)| id);
    if let Some(id) = found {
        if let Some(reason) = reason {
            tx.execute(
                "UPDATE exclusion SET reason = ?2 WHERE id = ?1",
                (id, reason),
            )?;
        }
        return Ok(id);
    }
    tx.query_row(
        "INSERT INTO exclusion (what, topic_id, domain, source_id, author, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        (what, topic, domain, source, author, reason, now),
        |r| r.get(0),
    )
}
