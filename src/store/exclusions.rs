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

/// A stored mention's place in the count tables.
struct Row {
    id: i64,
    topic: i64,
    counted: Counted,
    excluded: bool,
}

fn rows_where(
    tx: &Transaction<'_>,
    filter: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Row>> {
    let sql = format!(
        "SELECT m.id, m.topic_id, m.source_id, m.kind, h.id, m.at, m.excluded_by IS NOT NULL
         FROM mention m LEFT JOIN host h ON h.name = m.host
         WHERE {filter}"
    );
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok(Row {
                id: r.get(0)?,
                topic: r.get(1)?,
                counted: Counted {
                    source_id: r.get(2)?,
                    kind: r.get(3)?,
                    host_id: r.get(4)?,
                    at: r.get(5)?,
                },
                excluded: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Marks `rows` excluded by `rule` (those not excluded yet) and takes them
/// out of the counts.
fn exclude_rows(tx: &Transaction<'_>, rows: &[Row], rule: i64) -> rusqlite::Result<(u64, u64)> {
    let mut set = tx.prepare_cached("UPDATE mention SET excluded_by = ?2 WHERE id = ?1")?;
    let mut tally = Tally::default();
    let (mut changed, mut unchanged) = (0, 0);
    for row in rows {
        if row.excluded {
            unchanged += 1;
            continue;
        }
        set.execute((row.id, rule))?;
        tally.add(row.topic, &row.counted);
        changed += 1;
    }
    tally.take_from(tx)?;
    Ok((changed, unchanged))
}

/// Excludes by `rule` every mention `filter` selects that still counts, in
/// one UPDATE (a domain may have 100,000 mentions), and takes them out of
/// the counts; returns (excluded now, excluded before).
fn exclude_where(
    tx: &Transaction<'_>,
    filter: &str,
    params: &[(&str, &dyn rusqlite::ToSql)],
    rule: i64,
) -> rusqlite::Result<(u64, u64)> {
    let rows = rows_where(tx, filter, params)?;
    let mut tally = Tally::default();
    let (mut changed, mut unchanged) = (0, 0);
    for row in &rows {
        if row.excluded {
            unchanged += 1;
        } else {
            tally.add(row.topic, &row.counted);
            changed += 1;
        }
    }
    tx.prepare(&format!(
        "UPDATE mention SET excluded_by = {rule}
         WHERE id IN (SELECT m.id FROM mention m WHERE {filter} AND m.excluded_by IS NULL)"
    ))?
    .execute(params)?;
    tally.take_from(tx)?;
    Ok((changed, unchanged))
}

/// Lets `rows` count again (those excluded) and adds them to the counts.
fn include_rows(tx: &Transaction<'_>, rows: &[Row]) -> rusqlite::Result<(u64, u64)> {
    let mut set = tx.prepare_cached("UPDATE mention SET excluded_by = NULL WHERE id = ?1")?;
    let mut tally = Tally::default();
    let (mut changed, mut unchanged) = (0, 0);
    for row in rows {
        if !row.excluded {
            unchanged += 1;
            continue;
        }
        set.execute([row.id])?;
        tally.add(row.topic, &row.counted);
        changed += 1;
    }
    tally.add_to(tx)?;
    Ok((changed, unchanged))
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
        match target {
            ExcludeTarget::Mentions(ids) => {
                let mut add = tx.prepare_cached(
                    "INSERT INTO exclusion (what, reason, created_at) VALUES ('mention', ?1, ?2)
                     RETURNING id",
                )?;
                for &id in ids {
                    let rows = rows_where(&tx, "m.id = ?1", [id])?;
                    match rows.first() {
                        None => change.missing.push(id),
                        Some(row) if row.excluded => change.unchanged += 1,
                        Some(_) => {
                            let rule: i64 = add.query_row((reason, now), |r| r.get(0))?;
                            let (c, _) = exclude_rows(&tx, &rows, rule)?;
                            change.changed += c;
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
                let filter = format!("{} AND (:t IS NULL OR m.topic_id = :t)", ON_DOMAIN);
                (change.changed, change.unchanged) = exclude_where(
                    &tx,
                    &filter,
                    rusqlite::named_params! {":d": domain, ":t": topic_id},
                    rule,
                )?;
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
                let ids: Vec<i64> = tx
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
                let mut rows = Vec::with_capacity(ids.len());
                for id in ids {
                    rows.extend(rows_where(&tx, "m.id = ?1", [id])?);
                }
                (change.changed, change.unchanged) = exclude_rows(&tx, &rows, rule)?;
                change.rule = Some(rule);
            }
        }
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
        for &id in ids {
            let rule: Option<Option<i64>> = tx
                .query_row("SELECT excluded_by FROM mention WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(rule) = rule else {
                change.missing.push(id);
                continue;
            };
            let rows = rows_where(&tx, "m.id = ?1", [id])?;
            let (c, u) = include_rows(&tx, &rows)?;
            change.changed += c;
            change.unchanged += u;
            if let Some(rule) = rule {
                tx.execute(
                    "DELETE FROM exclusion WHERE id = ?1 AND what = 'mention'",
                    [rule],
                )?;
            }
        }
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
        let rows = rows_where(&tx, "m.excluded_by = ?1", [id])?;
        let mut tally = Tally::default();
        for row in &rows {
            tally.add(row.topic, &row.counted);
        }
        tx.execute(
            "UPDATE mention SET excluded_by = NULL WHERE excluded_by = ?1",
            [id],
        )?;
        tally.add_to(&tx)?;
        let (changed, unchanged) = (rows.len() as u64, 0);
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
