//! `exclude` and `include` on PostgreSQL: the same as the SQLite store's
//! `Store::exclude`, `Store::include` and `Store::remove_exclusion`
//! (store/exclusions.rs) for the same rows — one mention by id, a domain
//! (for one topic or all), an author within a source, rules found again by
//! what they name, the count tables moved in the same transaction.
//!
//! Each runs in one transaction that first takes the exclusion table's lock
//! (`commit::LOCK_EXCLUSIONS`): no crawl's commit is then between reading
//! the rules and committing, so a domain or author rule catches every
//! mention, whether it was committed just before (found by the UPDATE) or
//! just after (excluded on arrival); see commit.rs.

use super::commit::LOCK_EXCLUSIONS;
use super::counts::{add_tally, take_tally};
use super::{PgError, Postgres};
use crate::store::counts::{Counted, Tally};
use crate::store::exclusions::{ExcludeTarget, ExclusionChange, RuleError, CHUNK};
use crate::store::rules::{author_key, domain_key};
use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use std::collections::HashMap;

/// What the mention rows that changed counted for, as `Change` in
/// store/exclusions.rs: rows are changed in id order, a chunk of ids a
/// statement, each returning what it counted for.
#[derive(Default)]
struct Change {
    tally: Tally,
    changed: u64,
    unchanged: u64,
}

impl Change {
    /// Marks the mentions `ids` (stored ones) excluded by `rule`, those that still count.
    async fn exclude(
        &mut self,
        tx: &Transaction<'_>,
        ids: &mut Vec<i64>,
        rule: i64,
    ) -> Result<(), tokio_postgres::Error> {
        self.set(
            tx,
            ids,
            "UPDATE mention SET excluded_by = $2
             WHERE id = ANY($1::bigint[]) AND excluded_by IS NULL
             RETURNING topic_id, source_id, kind, host, at",
            Some(rule),
        )
        .await
    }

    /// Lets the mentions `ids` (stored ones) count again, those excluded.
    async fn include(
        &mut self,
        tx: &Transaction<'_>,
        ids: &mut Vec<i64>,
    ) -> Result<(), tokio_postgres::Error> {
        self.set(
            tx,
            ids,
            "UPDATE mention SET excluded_by = NULL
             WHERE id = ANY($1::bigint[]) AND excluded_by IS NOT NULL
             RETURNING topic_id, source_id, kind, host, at",
            None,
        )
        .await
    }

    async fn set(
        &mut self,
        tx: &Transaction<'_>,
        ids: &mut Vec<i64>,
        sql: &str,
        rule: Option<i64>,
    ) -> Result<(), tokio_postgres::Error> {
        ids.sort_unstable();
        ids.dedup();
        let update = tx.prepare_cached(sql).await?;
        let mut hosts: HashMap<String, Option<i64>> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows = match &rule {
                Some(rule) => tx.query(&update, &[&chunk, rule]).await?,
                None => tx.query(&update, &[&chunk]).await?,
            };
            let names: Vec<&str> = rows
                .iter()
                .filter_map(|r| r.get::<_, Option<&str>>(3))
                .filter(|h| !hosts.contains_key(*h))
                .collect();
            if !names.is_empty() {
                for r in tx
                    .query(
                        "SELECT name, id FROM host WHERE name = ANY($1::text[])",
                        &[&names],
                    )
                    .await?
                {
                    hosts.insert(r.get(0), Some(r.get(1)));
                }
                for name in names {
                    hosts.entry(name.to_owned()).or_insert(None);
                }
            }
            for r in &rows {
                let host_id = r
                    .get::<_, Option<&str>>(3)
                    .and_then(|h| hosts.get(h).copied().flatten());
                self.tally.add(
                    r.get(0),
                    &Counted {
                        source_id: r.get(1),
                        kind: r.get(2),
                        host_id,
                        at: r.get(4),
                    },
                );
            }
            self.changed += rows.len() as u64;
            self.unchanged += (chunk.len() - rows.len()) as u64;
        }
        Ok(())
    }
}

/// The ids of the stored mentions `sql` selects with `params`.
async fn ids(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<i64>, tokio_postgres::Error> {
    Ok(tx
        .query(sql, params)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

impl Postgres {
    /// Excludes `target` now, and (for a domain or author) what any node
    /// stores later (`Store::exclude`).
    pub async fn exclude(
        &self,
        target: &ExcludeTarget,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<ExclusionChange, RuleError>, PgError> {
        let mut client = self.client().await?;
        let done = async {
            let tx = client.transaction().await?;
            tx.batch_execute(LOCK_EXCLUSIONS).await?;
            let done = exclude(&tx, target, reason, now.timestamp()).await?;
            if done.is_ok() {
                tx.commit().await?;
            }
            Ok(done)
        };
        done.await.map_err(|e| self.query_error(e))
    }

    /// Lets the mentions `ids` count again, whatever excluded them; an
    /// exclusion of one mention goes with it (`Store::include`).
    pub async fn include(&self, ids: &[i64]) -> Result<ExclusionChange, PgError> {
        let mut client = self.client().await?;
        let done = async {
            let tx = client.transaction().await?;
            tx.batch_execute(LOCK_EXCLUSIONS).await?;
            let mut change = ExclusionChange::default();
            let mut rows = Change::default();
            for &id in ids {
                let rule = tx
                    .query_opt("SELECT excluded_by FROM mention WHERE id = $1", &[&id])
                    .await?
                    .map(|r| r.get::<_, Option<i64>>(0));
                match rule {
                    None => change.missing.push(id),
                    Some(None) => change.unchanged += 1,
                    Some(Some(rule)) => {
                        rows.include(&tx, &mut vec![id]).await?;
                        tx.execute(
                            "DELETE FROM exclusion WHERE id = $1 AND what = 'mention'",
                            &[&rule],
                        )
                        .await?;
                    }
                }
            }
            add_tally(&tx, rows.tally).await?;
            change.changed += rows.changed;
            change.unchanged += rows.unchanged;
            tx.commit().await?;
            Ok(change)
        };
        done.await.map_err(|e| self.query_error(e))
    }

    /// Drops the exclusion `id` and lets every mention it excluded count
    /// again; None when there is no such exclusion (`Store::remove_exclusion`).
    pub async fn remove_exclusion(&self, id: i64) -> Result<Option<ExclusionChange>, PgError> {
        let mut client = self.client().await?;
        let done = async {
            let tx = client.transaction().await?;
            tx.batch_execute(LOCK_EXCLUSIONS).await?;
            if tx
                .execute("DELETE FROM exclusion WHERE id = $1", &[&id])
                .await?
                == 0
            {
                return Ok(None);
            }
            let mut ids = ids(&tx, "SELECT id FROM mention WHERE excluded_by = $1", &[&id]).await?;
            let mut rows = Change::default();
            rows.include(&tx, &mut ids).await?;
            let (changed, unchanged) = (rows.changed, rows.unchanged);
            add_tally(&tx, rows.tally).await?;
            tx.commit().await?;
            Ok(Some(ExclusionChange {
                changed,
                unchanged,
                missing: Vec::new(),
                rule: Some(id),
            }))
        };
        done.await.map_err(|e| self.query_error(e))
    }
}

/// The body of `Postgres::exclude`, in its transaction.
async fn exclude(
    tx: &Transaction<'_>,
    target: &ExcludeTarget,
    reason: Option<&str>,
    now: i64,
) -> Result<Result<ExclusionChange, RuleError>, tokio_postgres::Error> {
    let mut change = ExclusionChange::default();
    let mut rows = Change::default();
    match target {
        ExcludeTarget::Mentions(ids) => {
            for &id in ids {
                let excluded = tx
                    .query_opt(
                        "SELECT excluded_by IS NOT NULL FROM mention WHERE id = $1",
                        &[&id],
                    )
                    .await?
                    .map(|r| r.get::<_, bool>(0));
                match excluded {
                    None => change.missing.push(id),
                    Some(true) => change.unchanged += 1,
                    Some(false) => {
                        let rule: i64 = tx
                            .query_one(
                                "INSERT INTO exclusion (what, reason, created_at)
                                 VALUES ('mention', $1, $2) RETURNING id",
                                &[&reason, &now],
                            )
                            .await?
                            .get(0);
                        rows.exclude(tx, &mut vec![id], rule).await?;
                    }
                }
            }
        }
        ExcludeTarget::Domain { domain, topic } => {
            let domain = domain_key(domain);
            // A topic with nothing stored yet gets its row now: the rule
            // holds for what it stores later.
            let topic_id: Option<i64> = match topic {
                None => None,
                Some(name) => Some(
                    tx.query_one(
                        "INSERT INTO topic (name) VALUES ($1)
                         ON CONFLICT (name) DO UPDATE SET name = excluded.name
                         RETURNING id",
                        &[name],
                    )
                    .await?
                    .get(0),
                ),
            };
            let rule = rule_id(
                tx,
                Rule {
                    what: "domain",
                    topic: topic_id,
                    domain: Some(&domain),
                    source: None,
                    author: None,
                },
                reason,
                now,
            )
            .await?;
            // The domain indexes give the ids without reading the rows.
            let www = format!("www.{domain}");
            let mut ids = ids(
                tx,
                "SELECT id FROM mention
                 WHERE host IN ($1, $2) AND ($3::bigint IS NULL OR topic_id = $3)
                 UNION
                 SELECT id FROM mention
                 WHERE instance IN ($1, $2) AND ($3::bigint IS NULL OR topic_id = $3)",
                &[&domain, &www, &topic_id],
            )
            .await?;
            rows.exclude(tx, &mut ids, rule).await?;
            change.rule = Some(rule);
        }
        ExcludeTarget::Author { author, source } => {
            let Some(source_id) = tx
                .query_opt("SELECT id FROM source WHERE name = $1", &[source])
                .await?
                .map(|r| r.get::<_, i64>(0))
            else {
                return Ok(Err(RuleError::UnknownSource(source.clone())));
            };
            let author = author.trim();
            let rule = rule_id(
                tx,
                Rule {
                    what: "author",
                    topic: None,
                    domain: None,
                    source: Some(source_id),
                    author: Some(author),
                },
                reason,
                now,
            )
            .await?;
            let key = author_key(author);
            let mut ids: Vec<i64> = tx
                .query(
                    "SELECT id, author FROM mention WHERE source_id = $1 AND author IS NOT NULL",
                    &[&source_id],
                )
                .await?
                .iter()
                .filter(|r| author_key(r.get(1)) == key)
                .map(|r| r.get(0))
                .collect();
            rows.exclude(tx, &mut ids, rule).await?;
            change.rule = Some(rule);
        }
    }
    take_tally(tx, rows.tally).await?;
    change.changed += rows.changed;
    change.unchanged += rows.unchanged;
    Ok(Ok(change))
}

/// What a domain or author rule names.
struct Rule<'a> {
    what: &'a str,
    topic: Option<i64>,
    domain: Option<&'a str>,
    source: Option<i64>,
    author: Option<&'a str>,
}

/// The id of the domain or author rule, written now unless it exists (an
/// author compared as `author_key` does); a reason given replaces the old.
async fn rule_id(
    tx: &Transaction<'_>,
    rule: Rule<'_>,
    reason: Option<&str>,
    now: i64,
) -> Result<i64, tokio_postgres::Error> {
    let found = tx
        .query(
            "SELECT id, author FROM exclusion
             WHERE what = $1 AND topic_id IS NOT DISTINCT FROM $2
               AND domain IS NOT DISTINCT FROM $3 AND source_id IS NOT DISTINCT FROM $4
             ORDER BY id",
            &[&rule.what, &rule.topic, &rule.domain, &rule.source],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, i64>(0), r.get::<_, Option<String>>(1)))
        .find(|(_, a)| a.as_deref().map(author_key) == rule.author.map(author_key))
        .map(|(id, _)| id);
    if let Some(id) = found {
        if let Some(reason) = reason {
            tx.execute(
                "UPDATE exclusion SET reason = $2 WHERE id = $1",
                &[&id, &reason],
            )
            .await?;
        }
        return Ok(id);
    }
    Ok(tx
        .query_one(
            "INSERT INTO exclusion (what, topic_id, domain, source_id, author, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &rule.what,
                &rule.topic,
                &rule.domain,
                &rule.source,
                &rule.author,
                &reason,
                &now,
            ],
        )
        .await?
        .get(0))
}
