//! The rows behind the counts, from PostgreSQL: `list` (keyset pages,
//! newest first), how many a filter selects, one mention, the mentions at
//! a URL, who saw an identity, and `explain` — the same answers as the
//! SQLite store's (store/listing.rs) for the same rows.
//!
//! A page (a limit of up to 10,000 rows, no search) is one statement, which
//! sees one state of the database by itself. Any other listing reads inside
//! one REPEATABLE READ, READ ONLY transaction, so it sees one state however
//! many chunks it reads while other nodes commit; rows come through a
//! portal a thousand at a time, so a listing of millions of rows is
//! streamed and one that stops early (a closed pipe) reads no further.

use super::{PgError, Postgres};
use crate::sources::Kind;
use crate::store::listing::{sightings_of, time, url_forms, SightingRow, COLUMNS};
use crate::store::rules::domain_key;
use crate::store::{Explained, ListFilter, Listed};
use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

/// Rows read per query while a search filter drops some (as SQLite's listing).
const CHUNK: usize = 500;
/// Rows fetched from the portal per round trip.
const FETCH: i32 = 1000;
/// A listing of at most this many rows without a search is one statement.
const PAGE_MAX: usize = 10_000;

/// Statement parameters, numbered as they are pushed.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    /// Adds `value`; its placeholder (`$n`).
    fn push<T: ToSql + Sync + Send + 'static>(&mut self, value: T) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The rows to read from (`m`) and the WHERE clause over them, as
/// `ListFilter::sql` makes them for SQLite; `to` is the window's end (or
/// the cursor's bound). The topic is a subquery on its name (an unknown
/// topic selects nothing), which saves a round trip.
fn filter_sql(filter: &ListFilter, to: i64, p: &mut Params) -> (String, String) {
    let mut clauses = vec![
        format!(
            "m.topic_id = (SELECT id FROM topic WHERE name = {})",
            p.push(filter.topic.clone())
        ),
        format!("m.at >= {}", p.push(filter.from)),
        format!("m.at < {}", p.push(to)),
        if filter.excluded {
            "m.excluded_by IS NOT NULL".to_owned()
        } else {
            "m.excluded_by IS NULL".to_owned()
        },
    ];
    if !filter.kinds.is_empty() {
        let codes: Vec<String> = filter.kinds.iter().map(|k| k.code().to_string()).collect();
        clauses.push(format!("m.kind IN ({})", codes.join(", ")));
    }
    if !filter.sources.is_empty() {
        clauses.push(format!(
            "m.source_id IN (SELECT id FROM source WHERE name = ANY({}))",
            p.push(filter.sources.clone())
        ));
    }
    let from = if filter.domains.is_empty() {
        "mention m".to_owned()
    } else {
        let mut forms = Vec::new();
        for d in &filter.domains {
            let key = domain_key(d);
            forms.push(format!("www.{key}"));
            forms.push(key);
        }
        let forms = p.push(forms);
        let cols = "id, topic_id, at, kind, source_id, excluded_by";
        format!(
            "(SELECT {cols} FROM mention WHERE host = ANY({forms})
              UNION ALL
              SELECT {cols} FROM mention WHERE instance = ANY({forms})) m"
        )
    };
    (from, clauses.join(" AND "))
}

/// Whether a listed mention's title and excerpt match the filter's search.
fn found(filter: &ListFilter, m: &Listed) -> bool {
    let Some(q) = &filter.search else {
        return true;
    };
    let normalized = crate::text::normalize(&format!("{}\n{}", m.title, m.excerpt));
    let tokens: Vec<&str> = crate::text::token_slices(&normalized).collect();
    q.matches(&tokens)
}

/// The listing statement: at most `chunk` rows of `filter` after `cursor`,
/// newest first, ids read first from an index and the listed fields for
/// those only.
fn list_sql(filter: &ListFilter, cursor: Option<(i64, i64)>, chunk: usize) -> (String, Params) {
    let mut p = Params::default();
    // The cursor's time bounds the index range (as in SQLite).
    let to = match cursor {
        Some((at, _)) => at.saturating_add(1).min(filter.to),
        None => filter.to,
    };
    let (from, clause) = filter_sql(filter, to, &mut p);
    let after = match cursor {
        Some((at, id)) => format!(" AND (m.at, m.id) < ({}, {})", p.push(at), p.push(id)),
        None => String::new(),
    };
    let limit = p.push(i64::try_from(chunk).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT {COLUMNS} FROM (
             SELECT m.id FROM {from}
             WHERE {clause}{after}
             ORDER BY m.at DESC, m.id DESC LIMIT {limit}
         ) k
         JOIN mention m ON m.id = k.id
         JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = m.source_id
         ORDER BY m.at DESC, m.id DESC"
    );
    (sql, p)
}

impl Postgres {
    /// A read-only transaction that sees one state of the database however
    /// long it reads (a listing streamed in chunks, an explanation read in
    /// several statements).
    async fn snapshot<'c>(
        &self,
        client: &'c mut deadpool_postgres::Object,
    ) -> Result<deadpool_postgres::Transaction<'c>, PgError> {
        client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| self.query_error(e))
    }

    fn listed(&self, r: &Row) -> Result<Listed, PgError> {
        let link: String = self.get(r, 8)?;
        let at: i64 = self.get(r, 3)?;
        Ok(Listed {
            id: self.get(r, 0)?,
            topic: self.get(r, 1)?,
            kind: Kind::from_code(self.get(r, 2)?).unwrap_or(Kind::Web),
            at: time(at),
            at_secs: at,
            source: self.get(r, 4)?,
            domain: self.get(r, 5)?,
            author: self.get(r, 6)?,
            title: self.get(r, 7)?,
            url: if link.starts_with(crate::identify::TEXT_IDENTITY_PREFIX) {
                String::new()
            } else {
                link
            },
            excerpt: self.get(r, 9)?,
            lang: self.get(r, 10)?,
            sightings: self.get::<Option<i64>>(r, 11)?.map(|n| n as u64),
            undated: self.get(r, 12)?,
            excluded_by: self.get(r, 13)?,
            identity: self.get(r, 14)?,
        })
    }

    /// Calls `each` with the mentions `filter` selects, newest first (ties:
    /// highest id first), at most `limit`; `each` returns false to stop
    /// (`Store::list`). One snapshot: rows committed meanwhile are not seen.
    pub async fn list<F: FnMut(Listed) -> bool>(
        &self,
        filter: &ListFilter,
        limit: Option<usize>,
        mut each: F,
    ) -> Result<(), PgError> {
        let q = |e| self.query_error(e);
        // A page without a search is one statement, which sees one state
        // of the database by itself: no transaction, two round trips.
        if let (None, Some(limit)) = (&filter.search, limit.filter(|&n| n <= PAGE_MAX)) {
            let (sql, p) = list_sql(filter, filter.after, limit);
            let client = self.client().await?;
            let stmt = client.prepare_cached(&sql).await.map_err(q)?;
            for row in client.query(&stmt, &p.refs()).await.map_err(q)? {
                if !each(self.listed(&row)?) {
                    break;
                }
            }
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = self.snapshot(&mut client).await?;
        let mut cursor = filter.after;
        let mut left = limit.unwrap_or(usize::MAX);
        // Without a search every row read is listed: one query does.
        let chunk = if filter.search.is_some() {
            CHUNK
        } else {
            left.min(i64::MAX as usize)
        };
        while left > 0 {
            let (sql, p) = list_sql(filter, cursor, chunk);
            let stmt = tx.prepare_cached(&sql).await.map_err(q)?;
            let portal = tx.bind(&stmt, &p.refs()).await.map_err(q)?;
            let mut read = 0usize;
            loop {
                let rows = tx.query_portal(&portal, FETCH).await.map_err(q)?;
                let fetched = rows.len();
                for row in &rows {
                    read += 1;
                    let m = self.listed(row)?;
                    cursor = Some((m.at_secs, m.id));
                    if !found(filter, &m) {
                        continue;
                    }
                    left -= 1;
                    if !each(m) || left == 0 {
                        return Ok(());
                    }
                }
                if fetched < FETCH as usize {
                    break;
                }
            }
            if read < chunk {
                break;
            }
        }
        Ok(())
    }

    /// How many mentions `filter` selects, its cursor ignored (`Store::count_listed`).
    pub async fn count_listed(&self, filter: &ListFilter) -> Result<u64, PgError> {
        if let Some((from, to)) = filter.plain_window() {
            if from >= to {
                return Ok(0);
            }
            return Ok(filter.of_kinds(&self.counts(&filter.topic, from, to).await?));
        }
        if filter.search.is_some() {
            let mut n = 0u64;
            let all = ListFilter {
                after: None,
                ..filter.clone()
            };
            self.list(&all, None, |_| {
                n += 1;
                true
            })
            .await?;
            return Ok(n);
        }
        let mut p = Params::default();
        let (from, clause) = filter_sql(filter, filter.to, &mut p);
        let sql = format!("SELECT count(*) FROM {from} WHERE {clause}");
        let rows = self.rows(&sql, &p.refs()).await?;
        match rows.first() {
            Some(row) => Ok(self.get::<i64>(row, 0)? as u64),
            None => Ok(0),
        }
    }

    /// One mention by id (`Store::mention`).
    pub async fn mention(&self, id: i64) -> Result<Option<Listed>, PgError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mention m
             JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = m.source_id
             WHERE m.id = $1"
        );
        let rows = self.rows(&sql, &[&id]).await?;
        rows.first().map(|r| self.listed(r)).transpose()
    }

    /// The mentions (one per topic) at `url` (`Store::mentions_at`).
    pub async fn mentions_at(&self, url: &str) -> Result<Vec<i64>, PgError> {
        let q = |e| self.query_error(e);
        let url = url.trim();
        let (forms, instance) = url_forms(url);
        let client = self.client().await?;
        let by_identity = client
            .prepare_cached("SELECT id FROM mention WHERE topic_id = $1 AND identity = $2")
            .await
            .map_err(q)?;
        let by_link = client
            .prepare_cached(
                "SELECT min(id) FROM mention WHERE instance = $2 AND topic_id = $1 AND url = $3",
            )
            .await
            .map_err(q)?;
        let topics = client
            .query("SELECT id FROM topic ORDER BY id", &[])
            .await
            .map_err(q)?;
        let mut out = Vec::new();
        for topic in &topics {
            let topic: i64 = self.get(topic, 0)?;
            let mut found: Option<i64> = None;
            for form in &forms {
                if let Some(r) = client
                    .query_opt(&by_identity, &[&topic, form])
                    .await
                    .map_err(q)?
                {
                    found = Some(self.get(&r, 0)?);
                    break;
                }
            }
            if found.is_none() {
                if let Some(instance) = &instance {
                    let r = client
                        .query_one(&by_link, &[&topic, instance, &url])
                        .await
                        .map_err(q)?;
                    found = self.get(&r, 0)?;
                }
            }
            out.extend(found);
        }
        Ok(out)
    }

    /// The sources that evaluated an item with this identity, and when
    /// first (`Store::seen_by`).
    pub async fn seen_by(&self, identity: &str) -> Result<Vec<(String, DateTime<Utc>)>, PgError> {
        let key = crate::identify::seen_key(identity) as i64;
        let rows = self
            .rows(
                "SELECT s.name, seen.first_seen FROM source s
                 JOIN seen ON seen.source_id = s.id AND seen.key = $1
                 ORDER BY seen.first_seen, s.name COLLATE \"C\"",
                &[&key],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((self.get(r, 0)?, time(self.get(r, 1)?))))
            .collect()
    }

    /// A mention and its sightings, oldest first (`Store::explain`).
    pub async fn explain(&self, id: i64) -> Result<Option<Explained>, PgError> {
        let q = |e| self.query_error(e);
        let mut client = self.client().await?;
        let tx = self.snapshot(&mut client).await?;
        let sql = format!(
            "SELECT {COLUMNS}, m.first_seen FROM mention m
             JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = m.source_id
             WHERE m.id = $1"
        );
        let Some(row) = tx.query_opt(&sql, &[&id]).await.map_err(q)? else {
            return Ok(None);
        };
        let mention = self.listed(&row)?;
        let first_seen: i64 = self.get(&row, 15)?;
        let rows = tx
            .query(
                "SELECT s.name, g.seen_at, g.url, g.rule, g.detail FROM sighting g
                 JOIN source s ON s.id = g.source_id
                 WHERE g.mention_id = $1 ORDER BY g.seen_at, g.rule, s.name COLLATE \"C\"",
                &[&id],
            )
            .await
            .map_err(q)?;
        let rows: Vec<SightingRow> = rows
            .iter()
            .map(|r| {
                Ok((
                    self.get(r, 0)?,
                    self.get(r, 1)?,
                    self.get(r, 2)?,
                    self.get(r, 3)?,
                    self.get(r, 4)?,
                ))
            })
            .collect::<Result<_, PgError>>()?;
        let (sightings, pruned) = sightings_of(&mention, rows, || Ok::<_, PgError>(first_seen))?;
        Ok(Some(Explained {
            mention,
            sightings,
            pruned,
        }))
    }
}
