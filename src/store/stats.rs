//! Read queries behind reports and `sources`: exact counts per kind,
//! reference hosts and per-source health for a time window.

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub domain: String,
    pub mentions: u64,
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
}

fn time(secs: Option<i64>) -> Option<DateTime<Utc>> {
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
        let mut counts = KindCounts::default();
        let Some(id) = self.topic_key(topic)? else {
            return Ok(counts);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, count(*) FROM mention
             WHERE topic_id = ?1 AND at >= ?2 AND at < ?3 GROUP BY kind",
        )?;
        let rows = stmt.query_map((id, from.timestamp(), to.timestamp()), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            let (kind, n) = row?;
            match Kind::from_code(kind) {
                Some(Kind::Web) => counts.web += n,
                Some(Kind::Social) => counts.social += n,
                Some(Kind::Forum) => counts.forum += n,
                None => {}
            }
        }
        Ok(counts)
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT host, count(*) AS n, min(at) AS first FROM mention
             WHERE topic_id = ?1 AND at >= ?2 AND at < ?3 AND kind = ?4 AND host IS NOT NULL
             GROUP BY host ORDER BY n DESC, first ASC, host ASC LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            (
                id,
                from.timestamp(),
                to.timestamp(),
                Kind::Web.code(),
                limit as i64,
            ),
            |r| {
                Ok(Reference {
                    domain: r.get(0)?,
                    mentions: r.get::<_, i64>(1)? as u64,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Mentions of `topic` in the window, per source name.
    pub fn mentions_by_source(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashMap<String, u64>, StoreError> {
        let Some(id) = self.topic_key(topic)? else {
            return Ok(HashMap::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT source.name, count(*) FROM mention JOIN source ON source.id = mention.source_id
             WHERE topic_id = ?1 AND at >= ?2 AND at < ?3 GROUP BY source.name",
        )?;
        let rows = stmt.query_map((id, from.timestamp(), to.timestamp()), |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every source the database knows, with its state and mentions stored.
    pub fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, type, kind, last_run, last_success, last_error, consecutive_failures,
                    (SELECT count(*) FROM mention WHERE mention.source_id = source.id)
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
