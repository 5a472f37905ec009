//! Writing one source's crawl to PostgreSQL: the same as the SQLite store's
//! `Store::commit` (store/mentions.rs) for the same batch — the source's
//! row and state, new mentions and duplicates by rules 1–4 of
//! docs/COUNTING.md with the same rule recorded, sightings, seen keys, the
//! count tables, exclusions applied to arriving items, validators — in one
//! transaction, and exact while several nodes commit at once:
//!
//! - Rules 1 and 2 rest on the unique key `(topic_id, identity)`: an insert
//!   is `ON CONFLICT DO NOTHING RETURNING id`, and when another node stored
//!   the identity meanwhile (no row comes back) the committed mention is
//!   read and the item becomes a sighting of it.
//! - Rules 3 and 4 compare against what is committed, so before the
//!   transaction looks at anything it takes one transaction-scoped advisory
//!   lock per (topic, publisher) of its items — the publisher is the host
//!   without `www.` (`headlines::publisher`). One key covers both rules: a
//!   near copy (rule 3) is on the same host, hence the same publisher, and a
//!   headline key (rule 4) is made of the publisher and the title. Locks are
//!   taken in sorted order, all before the first lookup, so two writers
//!   never wait on each other's advisory locks in a cycle. The transaction
//!   runs at READ COMMITTED: every statement after the locks sees what the
//!   previous holder committed (at REPEATABLE READ the snapshot would be
//!   older than the lock).
//! - Exclusions are exact against commits: a commit takes the `exclusion`
//!   table in SHARE mode right after its advisory locks, before it reads
//!   the domain and author rules, and holds it to its end; `exclude`,
//!   `include` and each retention batch take it in SHARE ROW EXCLUSIVE mode
//!   (`LOCK_EXCLUSIONS`) first. Commits do not wait for each other, but an
//!   exclusion waits for the commits in progress and the commits that start
//!   meanwhile wait for it, so a mention is either committed before the
//!   exclusion looks for its domain's or author's mentions (and found
//!   there) or committed after the rule is (and excluded on arrival). A
//!   per-(topic, publisher) advisory lock would not do: a domain rule for
//!   every topic, an author rule and platform items without a host do not
//!   map to those keys. While one of those writers holds the lock no
//!   commit holds any row lock, so they never meet in a deadlock.
//! - Count tables are added to with `ON CONFLICT … DO UPDATE SET n = n +
//!   excluded.n`, in key order, so concurrent commits never lose an update.
//! - What the locks do not order (two nodes storing platform items of one
//!   identity in opposite orders, new topic or host names) can still meet
//!   in a deadlock; the server then aborts one transaction (SQLSTATE 40P01,
//!   or 40001 for a serialization failure) and the whole crawl is written
//!   again, a few times at most.
//!
//! - Per item, only a new mention's insert is a statement of its own: what
//!   rules 1–4 look up is read for the whole batch first (`Committed`),
//!   and sightings, fingerprint bands and headlines are written with one
//!   statement per table at the end (`Writes`). Behind a round trip per
//!   statement, the per-item form cost the server about twice the CPU.
//!
//! The SQLite store's memory of failures it could not write (`Unsaved`)
//! belongs to `Store` and is not part of this write path.

use super::counts::add_tally;
use super::{PgError, Postgres};
use crate::store::counts::{Counted, Tally};
use crate::store::headlines;
use crate::store::mentions::{
    instance_and_exclusion, language, Arrival, Retention, SourceState, SIMHASH_MAX_DISTANCE,
};
use crate::store::rules::{Rules, SELECT_RULES};
use crate::store::{CommitStats, CrawlBatch, NewMention, Rule};
use deadpool_postgres::Transaction;
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::Statement;

/// How many times a crawl is written before a deadlock or serialization
/// failure is given up on and reported.
const ATTEMPTS: u32 = 5;

/// The class of the write path's advisory locks (the two-key form, whose
/// keys never meet the one-key migration lock).
const WRITE_LOCK_CLASS: i32 = i32::from_be_bytes(*b"MnWr");

/// Taken by every commit before it reads the exclusion rules: SHARE mode,
/// so commits do not wait for each other, but wait for (and hold off) the
/// writers that take `LOCK_EXCLUSIONS` — `exclude`, `include` and each
/// retention batch.
const LOCK_EXCLUSIONS_SHARED: &str = "LOCK TABLE exclusion IN SHARE MODE";

/// Taken by an exclusion, an include and each retention batch before they
/// read or change anything: SHARE ROW EXCLUSIVE conflicts with the commits'
/// SHARE and with itself, so while it is held no commit is between reading
/// the rules and committing, and no other such writer runs.
pub(super) const LOCK_EXCLUSIONS: &str = "LOCK TABLE exclusion IN SHARE ROW EXCLUSIVE MODE";

/// The advisory lock key of items of `topic` on `host`: one per (topic,
/// publisher). Two pairs that share a key merely wait for each other.
pub(super) fn lock_key(topic: &str, host: &str) -> i32 {
    let mut text = topic.to_owned();
    text.push('\n');
    text.push_str(&headlines::publisher(host));
    xxhash_rust::xxh3::xxh3_64(text.as_bytes()) as i32
}

/// The sorted, distinct lock keys of a batch.
fn lock_keys(batch: &CrawlBatch) -> Vec<i32> {
    let mut keys: Vec<i32> = batch
        .mentions
        .iter()
        .filter_map(|m| m.host.as_deref().map(|host| lock_key(&m.topic, host)))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The source's row, created or updated, with its id and the retention
/// cutoff (NULL: none).
const UPSERT_SOURCE: &str = "INSERT INTO source (name, type, kind) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET type = excluded.type, kind = excluded.kind
     RETURNING id, (SELECT mentions_before FROM retention WHERE id = 1)";

/// A deadlock or serialization failure: the transaction may be run again.
fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

impl Postgres {
    /// Writes a crawl in one transaction: either all of it is stored or
    /// none of it. Same semantics as `Store::commit`, exact when several
    /// nodes commit at once (see the module's comment).
    pub async fn commit(&self, batch: CrawlBatch) -> Result<CommitStats, PgError> {
        let mut client = self.client().await?;
        let mut attempt = 1;
        loop {
            match write(&mut client, &batch, self.node()).await {
                Ok(stats) => return Ok(stats),
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    tracing::debug!(
                        source = %batch.source,
                        attempt,
                        "writing the crawl again: {}",
                        super::connect::chain(&e)
                    );
                    // Apart at random, so the two writers do not meet again.
                    let pause = fastrand::u64(5..=25) * u64::from(attempt);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    attempt += 1;
                }
                Err(e) => return Err(self.query_error(e)),
            }
        }
    }
}

/// The statements of one write run per new item, prepared (and cached
/// per connection) once.
struct Statements {
    existing: Statement,
    insert: Statement,
}

impl Statements {
    async fn prepare(tx: &Transaction<'_>) -> Result<Statements, tokio_postgres::Error> {
        Ok(Statements {
            existing: tx
                .prepare_cached("SELECT id FROM mention WHERE topic_id = $1 AND identity = $2")
                .await?,
            insert: tx
                .prepare_cached(
                    "INSERT INTO mention
                       (topic_id, source_id, kind, identity, url, host, title, excerpt, author, lang,
                        published_at, first_seen, at, simhash, sightings, excluded_by, instance)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $16)
                     ON CONFLICT (topic_id, identity) DO NOTHING
                     RETURNING id",
                )
                .await?,
        })
    }
}

/// What rules 1–4 look up of the committed rows for a batch, read with one
/// statement each before its items are evaluated and kept up to date with
/// the batch's own new mentions — the answers one lookup per item would
/// give, at a few statements per crawl instead of several per item. Rules 3
/// and 4 are exact so: their rows are those of the (topic, publisher) pairs
/// whose advisory locks the transaction holds, which no other writer can
/// add to until it ends. Rule 1 and 2's identities are not locked; an
/// identity another node stores meanwhile is caught by the insert's
/// conflict, as before.
/// Band rows by (topic, host, band): (fingerprint, mention), by fingerprint.
type BandRows = HashMap<(i64, i64, i64), Vec<(i64, Option<i64>)>>;

/// Headline rows by (topic, key): (mention, time, from a news search).
type HeadlineRows = HashMap<(i64, i64), Vec<(i64, i64, bool)>>;

#[derive(Default)]
struct Committed {
    /// (topic, identity) → mention.
    ids: HashMap<i64, HashMap<String, i64>>,
    bands: BandRows,
    headlines: HeadlineRows,
}

impl Committed {
    async fn read(
        tx: &Transaction<'_>,
        batch: &CrawlBatch,
        arrivals: &[Arrival<'_>],
        topic_ids: &HashMap<String, i64>,
        host_ids: &HashMap<String, i64>,
    ) -> Result<Committed, tokio_postgres::Error> {
        let (mut id_topics, mut identities) = (Vec::new(), Vec::new());
        let mut band_keys = std::collections::BTreeSet::new();
        // Each key's earliest and latest time in the batch: its stored
        // headlines within the window of either are read.
        let mut headline_keys = std::collections::BTreeMap::<(i64, i64), (i64, i64)>::new();
        for (m, arrival) in batch.mentions.iter().zip(arrivals) {
            let topic_id = topic_ids[m.topic.as_str()];
            id_topics.push(topic_id);
            identities.push(m.identity.as_str());
            if let Some(host_id) = m.host.as_deref().map(|h| host_ids[h]) {
                for band in arrival.bands {
                    band_keys.insert((topic_id, host_id, band));
                }
            }
            if let Some(key) = arrival.headline {
                let span = headline_keys
                    .entry((topic_id, key))
                    .or_insert((arrival.at, arrival.at));
                *span = (span.0.min(arrival.at), span.1.max(arrival.at));
            }
        }
        let mut committed = Committed::default();
        if !identities.is_empty() {
            for r in tx
                .query(
                    "SELECT m.topic_id, m.identity, m.id
                     FROM unnest($1::bigint[], $2::text[]) AS u(topic_id, identity)
                     JOIN mention m ON m.topic_id = u.topic_id AND m.identity = u.identity",
                    &[&id_topics, &identities],
                )
                .await?
            {
                committed.add_id(r.get(0), r.get(1), r.get(2));
            }
        }
        if !band_keys.is_empty() {
            let (t, h, b) = unzip3(band_keys);
            for r in tx
                .query(
                    "SELECT s.topic_id, s.host_id, s.band, s.simhash, s.mention_id
                     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(topic_id, host_id, band)
                     JOIN simhash_band s
                       ON s.topic_id = u.topic_id AND s.host_id = u.host_id AND s.band = u.band",
                    &[&t, &h, &b],
                )
                .await?
            {
                committed
                    .bands
                    .entry((r.get(0), r.get(1), r.get(2)))
                    .or_default()
                    .push((r.get(3), r.get(4)));
            }
            for rows in committed.bands.values_mut() {
                rows.sort_unstable_by_key(|&(simhash, _)| simhash);
            }
        }
        if !headline_keys.is_empty() {
            let (mut t, mut k, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for ((topic_id, key), (first, last)) in headline_keys {
                t.push(topic_id);
                k.push(key);
                lo.push(first.saturating_sub(headlines::WINDOW_SECS));
                hi.push(last.saturating_add(headlines::WINDOW_SECS));
            }
            for r in tx
                .query(
                    "SELECT h.topic_id, h.key, h.mention_id, h.at, h.news
                     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
                          AS u(topic_id, key, lo, hi)
                     JOIN headline h ON h.topic_id = u.topic_id AND h.key = u.key
                                    AND h.at BETWEEN u.lo AND u.hi",
                    &[&t, &k, &lo, &hi],
                )
                .await?
            {
                committed
                    .headlines
                    .entry((r.get(0), r.get(1)))
                    .or_default()
                    .push((r.get(2), r.get(3), r.get::<_, i64>(4) != 0));
            }
        }
        Ok(committed)
    }

    /// The mention of `identity` in `topic`, if stored.
    fn id(&self, topic_id: i64, identity: &str) -> Option<i64> {
        self.ids.get(&topic_id)?.get(identity).copied()
    }

    fn add_id(&mut self, topic_id: i64, identity: String, mention_id: i64) {
        self.ids
            .entry(topic_id)
            .or_default()
            .insert(identity, mention_id);
    }

    /// Rule 3: the first stored fingerprint within the distance, in the
    /// order of (band, fingerprint) — with its mention and the distance.
    fn near(
        &self,
        topic_id: i64,
        host_id: i64,
        bands: [i64; 4],
        simhash: u64,
    ) -> Option<(Option<i64>, u32)> {
        let mut bands = bands;
        bands.sort_unstable();
        let mut last = None;
        for band in bands {
            if last == Some(band) {
                continue;
            }
            last = Some(band);
            let Some(rows) = self.bands.get(&(topic_id, host_id, band)) else {
                continue;
            };
            for &(other, mention_id) in rows {
                let distance = crate::text::hamming(other as u64, simhash);
                if distance <= SIMHASH_MAX_DISTANCE {
                    return Some((mention_id, distance));
                }
            }
        }
        None
    }

    /// A fingerprint's bands as the batch adds them (a band row already
    /// there for that fingerprint stays, as `ON CONFLICT DO NOTHING` keeps it).
    fn add_bands(
        &mut self,
        topic_id: i64,
        host_id: i64,
        bands: [i64; 4],
        simhash: i64,
        mention_id: i64,
        writes: &mut Writes,
    ) {
        for band in bands {
            let rows = self.bands.entry((topic_id, host_id, band)).or_default();
            if let Err(at) = rows.binary_search_by_key(&simhash, |&(s, _)| s) {
                rows.insert(at, (simhash, Some(mention_id)));
                writes
                    .bands
                    .push((topic_id, host_id, band, simhash, mention_id));
            }
        }
    }
}

/// Splits sorted triples into three columns, for `unnest`.
fn unzip3(rows: impl IntoIterator<Item = (i64, i64, i64)>) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for (a, b, c) in rows {
        out.0.push(a);
        out.1.push(b);
        out.2.push(c);
    }
    out
}

/// Rows of five integers as five columns, for `unnest`.
fn columns5(rows: &[(i64, i64, i64, i64, i64)]) -> [Vec<i64>; 5] {
    let mut out: [Vec<i64>; 5] = Default::default();
    for r in rows {
        for (column, value) in out.iter_mut().zip([r.0, r.1, r.2, r.3, r.4]) {
            column.push(value);
        }
    }
    out
}

/// One sighting to write: mention, form, rule, detail, URL.
type SightingRow = (i64, i64, i64, Option<i64>, Option<String>);

/// The rows a batch adds besides its mentions, written with one statement
/// per table at the end of the transaction.
#[derive(Default)]
struct Writes {
    /// (mention, form) of the sightings already in `sightings`: a second
    /// arrival of a form is not a sighting, as the primary key says.
    sighted: std::collections::HashSet<(i64, i64)>,
    sightings: Vec<SightingRow>,
    bands: Vec<(i64, i64, i64, i64, i64)>,
    headlines: Vec<(i64, i64, i64, i64, i64)>,
}

impl Writes {
    /// One arriving item merged into a stored mention (or the sighting
    /// that stored a new one): a sighting, unless the source saw the
    /// mention in this form before.
    fn sight(
        &mut self,
        mention_id: i64,
        m: &NewMention,
        arrival: &Arrival<'_>,
        rule: Rule,
        detail: Option<u32>,
    ) {
        if self.sighted.insert((mention_id, arrival.form)) {
            let url = arrival.sighting_url(m, rule).map(str::to_owned);
            self.sightings.push((
                mention_id,
                arrival.form,
                rule as i64,
                detail.map(i64::from),
                url,
            ));
        }
    }

    /// Writes the rows; a sighting of a mention stored before (one the
    /// source had not seen in that form) adds one to its `sightings`.
    async fn write(
        mut self,
        tx: &Transaction<'_>,
        source_id: i64,
        now: i64,
    ) -> Result<(), tokio_postgres::Error> {
        if !self.bands.is_empty() {
            self.bands.sort_unstable();
            let c = columns5(&self.bands);
            tx.execute(
                "INSERT INTO simhash_band (topic_id, host_id, band, simhash, mention_id)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                 ON CONFLICT DO NOTHING",
                &[&c[0], &c[1], &c[2], &c[3], &c[4]],
            )
            .await?;
        }
        if !self.headlines.is_empty() {
            let c = columns5(&self.headlines);
            tx.execute(
                "INSERT INTO headline (topic_id, key, at, news, mention_id)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                 ON CONFLICT DO NOTHING",
                &[&c[0], &c[1], &c[2], &c[3], &c[4]],
            )
            .await?;
        }
        if self.sightings.is_empty() {
            return Ok(());
        }
        self.sightings.sort_unstable_by_key(|r| (r.0, r.1));
        let (mut ids, mut forms, mut rules, mut details, mut urls) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (id, form, rule, detail, url) in self.sightings {
            ids.push(id);
            forms.push(form);
            rules.push(rule);
            details.push(detail);
            urls.push(url);
        }
        let added = tx
            .query(
                "INSERT INTO sighting (mention_id, source_id, form, seen_at, rule, detail, url)
                 SELECT u.mention_id, $2, u.form, $3, u.rule, u.detail, u.url
                 FROM unnest($1::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
                   AS u(mention_id, form, rule, detail, url)
                 ON CONFLICT DO NOTHING
                 RETURNING mention_id, rule",
                &[&ids, &source_id, &now, &forms, &rules, &details, &urls],
            )
            .await?;
        let mut again: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
        for r in added {
            if r.get::<_, i64>(1) != Rule::First as i64 {
                *again.entry(r.get(0)).or_default() += 1;
            }
        }
        if !again.is_empty() {
            let (ids, n): (Vec<i64>, Vec<i64>) = again.into_iter().unzip();
            tx.execute(
                "UPDATE mention SET sightings = sightings + u.n
                 FROM unnest($1::bigint[], $2::bigint[]) AS u(id, n)
                 WHERE mention.id = u.id AND mention.sightings IS NOT NULL",
                &[&ids, &n],
            )
            .await?;
        }
        Ok(())
    }
}

/// Ids of `names` in `topic` or `host`, creating the missing ones in
/// sorted order (so two writers creating the same names wait, not
/// deadlock). Every name of `names` is in the answer.
async fn ids_of(
    tx: &Transaction<'_>,
    table: Named,
    names: &[&str],
) -> Result<HashMap<String, i64>, tokio_postgres::Error> {
    let table = match table {
        Named::Topic => "topic",
        Named::Host => "host",
    };
    let create = format!(
        "INSERT INTO {table} (name)
         SELECT n FROM unnest($1::text[]) AS n
         WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE name = n)
         ORDER BY n
         ON CONFLICT (name) DO NOTHING"
    );
    let read = format!("SELECT name, id FROM {table} WHERE name = ANY($1::text[])");
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    tx.execute(&create, &[&names]).await?;
    let rows = tx.query(&read, &[&names]).await?;
    let mut ids: HashMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    // A name another writer created and removed again meanwhile: made
    // again here, one at a time, so that every name has its id.
    for name in names {
        if !ids.contains_key(name) {
            let again = format!(
                "INSERT INTO {table} (name) VALUES ($1)
                 ON CONFLICT (name) DO UPDATE SET name = excluded.name
                 RETURNING id"
            );
            let id = tx.query_one(&again, &[&name]).await?.get(0);
            ids.insert(name.to_owned(), id);
        }
    }
    Ok(ids)
}

#[derive(Clone, Copy)]
enum Named {
    Topic,
    Host,
}

/// One attempt at writing the crawl, as `write_batch` in store/mentions.rs.
async fn write(
    client: &mut deadpool_postgres::Object,
    batch: &CrawlBatch,
    node: Option<&str>,
) -> Result<CommitStats, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    // Rules 3 and 4 look at what is committed: lock first, in sorted order.
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1::int4, $2::int4)")
        .await?;
    for key in lock_keys(batch) {
        tx.execute(&lock, &[&WRITE_LOCK_CLASS, &key]).await?;
    }
    // The exclusion rules read below hold until this commits: an exclusion
    // (or an include, or a retention batch) waits for it, and it for them.
    tx.batch_execute(LOCK_EXCLUSIONS_SHARED).await?;

    let state = SourceState::of(batch);
    let now = state.now;
    // With the retention cutoff, read once: retention records a new one
    // only under the exclusion table's lock, which waits for this commit.
    let row = tx
        .query_one(
            UPSERT_SOURCE,
            &[&batch.source, &batch.source_type, &batch.kind.code()],
        )
        .await?;
    let source_id: i64 = row.get(0);
    let retention = Retention(row.get(1));

    let mut stats = CommitStats::default();
    // Items of a news search meet the publishers' own articles by headline.
    let news = crate::sources::types::is_news_search(&batch.source_type);
    let topics: Vec<&str> = batch.mentions.iter().map(|m| m.topic.as_str()).collect();
    let topic_ids = ids_of(&tx, Named::Topic, &topics).await?;
    let hosts: Vec<&str> = batch
        .mentions
        .iter()
        .filter_map(|m| m.host.as_deref())
        .collect();
    let host_ids = ids_of(&tx, Named::Host, &hosts).await?;
    let mut rules = Rules::empty();
    for r in tx.query(SELECT_RULES, &[]).await? {
        rules.push(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
    }
    // Count rows this batch adds, written once per key at the end.
    let mut tally = Tally::default();
    let st = Statements::prepare(&tx).await?;
    let arrivals: Vec<Arrival<'_>> = (0..batch.mentions.len())
        .map(|i| Arrival::of(batch, i, now))
        .collect();
    let mut committed = Committed::read(&tx, batch, &arrivals, &topic_ids, &host_ids).await?;
    let mut writes = Writes::default();
    for (m, arrival) in batch.mentions.iter().zip(&arrivals) {
        let topic_id = topic_ids[m.topic.as_str()];
        let host_id = m.host.as_deref().map(|h| host_ids[h]);
        // Rules 1 and 2 (and an exact text identity): the same identity.
        if let Some(id) = committed.id(topic_id, &m.identity) {
            writes.sight(id, m, arrival, Rule::of_identity(m), None);
            stats.duplicates += 1;
            continue;
        }
        let b = arrival.bands;
        if let Some(host_id) = host_id {
            // Rule 3. Pigeonhole: any stored fingerprint within 3 bits shares a band.
            if let Some((mention_id, distance)) = committed.near(topic_id, host_id, b, m.simhash) {
                if let Some(id) = mention_id {
                    writes.sight(id, m, arrival, Rule::Text, Some(distance));
                }
                stats.duplicates += 1;
                continue;
            }
        }
        let at = arrival.at;
        // Rule 4: a news search's item and the publisher's own article.
        let headline = arrival.headline;
        if let Some(key) = headline {
            let stored = committed.headlines.get(&(topic_id, key));
            if let Some(id) = headlines::nearest(stored.into_iter().flatten().copied(), at, news) {
                writes.sight(id, m, arrival, Rule::Headline, None);
                stats.duplicates += 1;
                continue;
            }
        }
        let (instance, excluded_by) = instance_and_exclusion(&rules, topic_id, source_id, m);
        let inserted = if retention.drops(at) {
            None
        } else {
            tx.query_opt(
                &st.insert,
                &[
                    &topic_id,
                    &source_id,
                    &m.kind.code(),
                    &m.identity,
                    &m.url,
                    &m.host,
                    &m.title,
                    &m.excerpt,
                    &m.author,
                    // Only new mentions are worth the detector's time.
                    &language(m),
                    &arrival.published,
                    &now,
                    &at,
                    &(m.simhash as i64),
                    &excluded_by,
                    &instance,
                ],
            )
            .await?
        };
        let Some(row) = inserted else {
            // Older than retention keeps, or another node stored this
            // identity since the batch's lookup (a statement sees what is
            // committed when it starts): a sighting of that mention, if any.
            if let Some(row) = tx
                .query_opt(&st.existing, &[&topic_id, &m.identity])
                .await?
            {
                let id: i64 = row.get(0);
                committed.add_id(topic_id, m.identity.clone(), id);
                writes.sight(id, m, arrival, Rule::of_identity(m), None);
            }
            stats.duplicates += 1;
            continue;
        };
        let mention_id: i64 = row.get(0);
        committed.add_id(topic_id, m.identity.clone(), mention_id);
        if let Some(key) = headline {
            committed
                .headlines
                .entry((topic_id, key))
                .or_default()
                .push((mention_id, at, news));
            writes
                .headlines
                .push((topic_id, key, at, i64::from(news), mention_id));
        }
        writes.sight(mention_id, m, arrival, Rule::First, None);
        if let Some(host_id) = host_id {
            committed.add_bands(
                topic_id,
                host_id,
                b,
                m.simhash as i64,
                mention_id,
                &mut writes,
            );
        }
        stats.stored(
            &mut tally,
            topic_id,
            excluded_by.is_some(),
            &Counted {
                source_id,
                kind: m.kind.code(),
                host_id,
                at,
            },
        );
    }
    writes.write(&tx, source_id, now).await?;
    add_tally(&tx, tally).await?;

    tx.execute(
        "UPDATE source SET
           last_run = $2,
           last_success = coalesce($3, last_success),
           last_error = $4::text,
           consecutive_failures = CASE WHEN $4::text IS NULL THEN 0 ELSE consecutive_failures + 1 END,
           cursor = coalesce($5, cursor),
           last_warning = CASE WHEN $7 THEN last_warning ELSE $6 END,
           node = coalesce($8::text, node)
         WHERE id = $1",
        &[
            &source_id,
            &now,
            &state.success,
            &state.error,
            &batch.cursor,
            &state.warning,
            &batch.not_modified,
            &node,
        ],
    )
    .await?;
    if !batch.validators.is_empty() {
        let cache = tx
            .prepare_cached(
                "INSERT INTO http_cache (source_id, url, etag, last_modified) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (source_id, url)
                 DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified",
            )
            .await?;
        for (url, v) in &batch.validators {
            // Keyed by the masked URL, as `Store::validators` looks it up.
            let url = crate::secrets::mask(url);
            tx.execute(&cache, &[&source_id, &url, &v.etag, &v.last_modified])
                .await?;
        }
    }
    if !batch.seen.is_empty() {
        let keys: Vec<i64> = batch.seen.iter().map(|&k| k as i64).collect();
        tx.execute(
            "INSERT INTO seen (source_id, key, first_seen)
             SELECT $1, k, $3 FROM unnest($2::bigint[]) AS k ORDER BY k
             ON CONFLICT DO NOTHING",
            &[&source_id, &keys, &now],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::super::parity::{assert_pg_counts_exact, assert_same_contents, lock_waiters, Cell};
    use super::super::testdb::TestDb;
    use super::super::PgTarget;
    use super::*;
    use crate::http::Validators;
    use crate::sources::Kind;
    use crate::store::{SourceOutcome, Store};
    use chrono::{DateTime, TimeZone, Utc};
    use std::sync::Arc;

    const T0: i64 = 1_795_000_000; // 2026-11-18 09:46:40 UTC
    const TITLE: &str = "Nordkorea schickt weitere Soldaten nach Russland";

    fn time(t: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(t, 0).unwrap()
    }

    fn fingerprint(text: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }

    fn article(
        topic: &str,
        host: &str,
        path: &str,
        title: &str,
        at: i64,
        simhash: u64,
    ) -> NewMention {
        NewMention {
            topic: topic.into(),
            kind: Kind::Web,
            identity: format!("https://{host}{path}"),
            url: None,
            host: Some(host.into()),
            title: title.into(),
            excerpt: "Die Regierung in Moskau hat am Dienstag bestätigt, dass weitere Soldaten verlegt wurden.".into(),
            author: None,
            lang: None,
            published: Some(time(at)),
            simhash,
            seen: None,
        }
    }

    /// A Google News item: an opaque link, the publisher's host, the title alone.
    fn google(topic: &str, token: &str, publisher: &str, title: &str, at: i64) -> NewMention {
        NewMention {
            identity: format!("https://news.google.com/rss/articles/{token}?oc=5"),
            excerpt: String::new(),
            lang: Some("de".into()),
            ..article(topic, publisher, "/", title, at, fingerprint(token))
        }
    }

    fn toot(identity: &str, seen: Option<&str>) -> NewMention {
        NewMention {
            topic: "nk".into(),
            kind: Kind::Social,
            identity: identity.into(),
            url: Some(identity.into()),
            host: None,
            title: String::new(),
            excerpt: "Nordkorea schickt Soldaten, sagt die Regierung.".into(),
            author: Some("kim".into()),
            lang: Some("de".into()),
            published: Some(time(T0 + 500)),
            simhash: fingerprint(identity),
            seen: seen.map(Into::into),
        }
    }

    fn batch(source: &str, source_type: &str, kind: Kind, m: Vec<NewMention>) -> CrawlBatch {
        // Crawled well after every date used here (a later date is read as now).
        let mut b = CrawlBatch::new(source, source_type, kind, time(T0 + 10 * 86_400));
        b.mentions = m;
        b
    }

    const fn stats(new: usize, duplicates: usize, excluded: usize) -> CommitStats {
        CommitStats {
            new,
            duplicates,
            excluded,
        }
    }

    async fn connect(db: &TestDb, max: usize) -> Postgres {
        Postgres::connect(&PgTarget::parse(db.url()).unwrap(), max)
            .await
            .unwrap()
    }

    /// Rules 1–4, sightings, exclusions at insert, a re-poll, the source's
    /// state: the same batches give the same answers and the same rows on
    /// SQLite and PostgreSQL.
    #[tokio::test]
    async fn the_same_batches_write_the_same_on_both_backends() {
        let Some(db) = TestDb::create("commit parity").await else {
            return;
        };
        let pg = connect(&db, 2).await;
        let mut store = Store::open_in_memory().unwrap();

        let a1 = article(
            "nk",
            "www.sueddeutsche.de",
            "/politik/1",
            TITLE,
            T0,
            0x0123_4567_89ab_cdef,
        );
        let mut first = batch(
            "sz",
            "feed",
            Kind::Web,
            vec![
                a1.clone(),
                // Rule 1, seen in another form: a sighting of its own.
                NewMention {
                    seen: Some("https://www.sueddeutsche.de/politik/1?utm_source=rss".into()),
                    ..a1.clone()
                },
                // Rule 3: two bits apart on the same host.
                article(
                    "nk",
                    "www.sueddeutsche.de",
                    "/politik/1-amp",
                    "Soldaten für Russland",
                    T0 + 60,
                    0x0123_4567_89ab_cdef ^ 0b1001,
                ),
                // The same article is another topic's mention too.
                NewMention {
                    topic: "ru".into(),
                    ..a1.clone()
                },
                article(
                    "nk",
                    "www.merkur.de",
                    "/a",
                    "Etwas anderes",
                    T0 + 100,
                    fingerprint("merkur"),
                ),
                // Undated, and dated in the future: both happened by the crawl.
                NewMention {
                    published: None,
                    ..article(
                        "nk",
                        "www.merkur.de",
                        "/b",
                        "Undatiert",
                        0,
                        fingerprint("b"),
                    )
                },
                article(
                    "nk",
                    "www.merkur.de",
                    "/c",
                    "Zukunft",
                    T0 + 30 * 86_400,
                    fingerprint("c"),
                ),
            ],
        );
        first.validators.push((
            "https://www.sueddeutsche.de/feed".into(),
            Validators {
                etag: Some("\"v1\"".into()),
                last_modified: Some("Wed, 18 Nov 2026 09:00:00 GMT".into()),
            },
        ));
        first.seen = vec![1, 2, u64::MAX];
        first.cursor = Some("page-2".into());

        // Exclusions, and retention that keeps mentions from two days before T0 on.
        let rules = "INSERT INTO exclusion (what, topic_id, domain, source_id, author, reason, created_at)
             VALUES ('domain', NULL, 'spam.example', NULL, NULL, NULL, 0),
                    ('author', NULL, NULL, (SELECT id FROM source WHERE name = 'sz'), 'Max Mustermann', NULL, 0);
             INSERT INTO retention (id, mentions_before) VALUES (1, 1794827200)";

        let mut excluded_author = article(
            "nk",
            "www.merkur.de",
            "/d",
            "Meinung",
            T0 + 200,
            fingerprint("d"),
        );
        excluded_author.author = Some("  MAX mustermann ".into());
        let mut second = batch(
            "sz",
            "feed",
            Kind::Web,
            vec![
                article(
                    "nk",
                    "www.spam.example",
                    "/1",
                    "Werbung",
                    T0 + 300,
                    fingerprint("spam"),
                ),
                excluded_author,
                // Listed again in the same form: no new sighting.
                a1.clone(),
                // Older than retention keeps: not stored again.
                article(
                    "nk",
                    "www.merkur.de",
                    "/alt",
                    "Alt",
                    T0 - 3 * 86_400,
                    fingerprint("alt"),
                ),
            ],
        );
        second.outcome =
            SourceOutcome::Failed("timeout reading https://www.sueddeutsche.de/feed".into());
        second.warnings = vec!["read 20 of 40 items".into()];
        second.seen = vec![2, 3];
        second.validators.push((
            "https://www.sueddeutsche.de/feed".into(),
            Validators {
                etag: Some("\"v2\"".into()),
                last_modified: None,
            },
        ));

        let news = batch(
            "google-news",
            "googlenews",
            Kind::Web,
            vec![
                // Rule 4, in both topics.
                google(
                    "nk",
                    "CBMiX2h0",
                    "sueddeutsche.de",
                    &TITLE.to_uppercase(),
                    T0 + 2400,
                ),
                google("ru", "CBMiX2h0", "sueddeutsche.de", TITLE, T0 + 2400),
                google(
                    "nk",
                    "CBMother",
                    "sueddeutsche.de",
                    "Ganz andere Schlagzeile",
                    T0,
                ),
            ],
        );
        let toots = batch(
            "masto",
            "mastodon",
            Kind::Social,
            vec![
                toot("https://mastodon.social/@kim/1", None),
                // Its instance is an excluded domain.
                toot("https://spam.example/@bot/9", None),
            ],
        );
        // Rule 2: the same post through another instance.
        let boosted = batch(
            "masto-2",
            "mastodon",
            Kind::Social,
            vec![toot(
                "https://mastodon.social/@kim/1",
                Some("https://other.social/@kim@mastodon.social/1"),
            )],
        );
        let mut quiet = batch("sz", "feed", Kind::Web, Vec::new());
        quiet.not_modified = true;

        let steps: Vec<(&str, CrawlBatch, CommitStats)> = vec![
            ("first crawl", first, stats(5, 2, 0)),
            ("excluded at insert", second, stats(0, 2, 2)),
            ("rule 4", news.clone(), stats(1, 2, 0)),
            ("re-poll", news, stats(0, 3, 0)),
            ("platform", toots, stats(1, 0, 1)),
            ("rule 2", boosted, stats(0, 1, 0)),
            ("304", quiet, stats(0, 0, 0)),
        ];
        for (i, (what, b, expected)) in steps.into_iter().enumerate() {
            let sqlite = store.commit(&b).unwrap();
            let postgres = pg.commit(b).await.unwrap();
            assert_eq!(sqlite, expected, "{what}: SQLite");
            assert_eq!(postgres, expected, "{what}: PostgreSQL");
            if i == 0 {
                store.conn.execute_batch(rules).unwrap();
                pg.client()
                    .await
                    .unwrap()
                    .batch_execute(rules)
                    .await
                    .unwrap();
            }
        }

        let contents = assert_same_contents(&store, &pg).await;
        // What the two agree on is what the rules say.
        let rules_seen: Vec<(String, i64)> = contents
            .table("sighting")
            .iter()
            .map(|r| match (&r[2], &r[5]) {
                (Cell::Text(source), Cell::Int(rule)) => (source.clone(), *rule),
                other => panic!("{other:?}"),
            })
            .collect();
        let count = |source: &str, rule: Rule| {
            rules_seen
                .iter()
                .filter(|(s, r)| s == source && *r == rule as i64)
                .count()
        };
        assert_eq!(count("sz", Rule::First), 7, "{rules_seen:?}");
        assert_eq!(count("sz", Rule::Url), 1, "{rules_seen:?}");
        assert_eq!(count("sz", Rule::Text), 1, "{rules_seen:?}");
        assert_eq!(count("google-news", Rule::Headline), 2, "{rules_seen:?}");
        assert_eq!(count("google-news", Rule::First), 1, "{rules_seen:?}");
        assert_eq!(count("masto", Rule::First), 2, "{rules_seen:?}");
        assert_eq!(count("masto-2", Rule::Identity), 1, "{rules_seen:?}");
        assert_eq!(rules_seen.len(), 15);
        assert_eq!(contents.table("mention").len(), 10);
        assert_eq!(contents.table("seen").len(), 4);
        assert!(!contents.table("count_source").is_empty());
        assert!(!contents.table("count_host").is_empty());
        assert_pg_counts_exact(&pg).await;
        crate::store::counts::exact::assert_counts_exact(&store);
    }

    /// One node's crawl in a round of the concurrency test: the same
    /// article as every node, a near copy of the others' (two bits apart,
    /// same host, another word in the title), the round's headline —
    /// node 0 as a Google News item naming the publisher without `www.`,
    /// the others as the publisher's article (the same URL for both) — and,
    /// from a social source of the node, the same two posts seen through
    /// another instance.
    fn node_batches(node: usize, round: i64) -> [CrawlBatch; 2] {
        let at = T0 + round * 3600;
        let base = fingerprint(&format!("copies {round}"));
        let headline = format!("Nordkorea schickt Soldaten, Runde {round}");
        let own = if node == 0 {
            google(
                "c",
                &format!("round-{round}"),
                "headline.example",
                &headline,
                at,
            )
        } else {
            article(
                "c",
                "www.headline.example",
                &format!("/{round}/story"),
                &headline,
                at + 300,
                fingerprint(&format!("story {round}")),
            )
        };
        let mut items = vec![
            article(
                "c",
                "same.example",
                &format!("/{round}"),
                &format!("Derselbe Artikel {round}"),
                at,
                fingerprint(&format!("same {round}")),
            ),
            article(
                "c",
                "copies.example",
                &format!("/{round}/copy-{node}"),
                &format!("Kopie {round} von Knoten {node}"),
                at,
                base ^ (1 << (node * 7)),
            ),
            own,
        ];
        // Each node lists them in another order.
        items.rotate_left(node % 3);
        let (name, source_type) = match node {
            0 => ("node-0", "googlenews"),
            _ => (["node-1", "node-2", "node-3"][node - 1], "feed"),
        };
        let mut web = batch(name, source_type, Kind::Web, items);
        web.started = time(at + 86_400);
        // Two posts have no host (no advisory lock): their unique identities
        // alone make each one mention. Listed in opposite orders by
        // alternate nodes they can deadlock (then a commit is written
        // again); every tenth round only, as the server takes a second to
        // find a deadlock.
        let mut posts: Vec<NewMention> = ["a", "b"]
            .iter()
            .map(|post| NewMention {
                topic: "c".into(),
                published: Some(time(at)),
                ..toot(
                    &format!("https://mastodon.social/@kim/{round}{post}"),
                    Some(&format!(
                        "https://node{node}.social/@kim@mastodon.social/{round}{post}"
                    )),
                )
            })
            .collect();
        if node % 2 == 1 && round % 10 == 0 {
            posts.reverse();
        }
        let mut social = batch(&format!("{name}-social"), "mastodon", Kind::Social, posts);
        social.started = web.started;
        [web, social]
    }

    const NODES: usize = 3;
    const ROUNDS: i64 = 40;

    /// Three nodes, each with a connection of its own, commit overlapping
    /// crawls at the same moment, round after round: every round is five
    /// mentions, as committing all crawls one after another gives, each
    /// seen by all three nodes, and the count tables equal counting rows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn nodes_committing_at_once_count_each_mention_once() {
        let Some(db) = TestDb::create("commit concurrency").await else {
            return;
        };
        let mut nodes = Vec::new();
        for _ in 0..NODES {
            nodes.push(connect(&db, 2).await);
        }
        let start = Arc::new(tokio::sync::Barrier::new(NODES));
        let tasks: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(node, pg)| {
                let (pg, start) = (pg.clone(), start.clone());
                tokio::spawn(async move {
                    let mut total = CommitStats::default();
                    for round in 0..ROUNDS {
                        let [web, social] = node_batches(node, round);
                        start.wait().await;
                        // A node's sources are crawled at once too.
                        let (a, b) = tokio::join!(pg.commit(web), pg.commit(social));
                        for s in [a.unwrap(), b.unwrap()] {
                            total.new += s.new;
                            total.duplicates += s.duplicates;
                            total.excluded += s.excluded;
                        }
                    }
                    total
                })
            })
            .collect();
        let mut new = 0;
        let mut duplicates = 0;
        for t in tasks {
            let s = t.await.unwrap();
            new += s.new;
            duplicates += s.duplicates;
        }

        // One after another, the same crawls.
        let mut sequential = Store::open_in_memory().unwrap();
        let mut expected = CommitStats::default();
        for round in 0..ROUNDS {
            for node in 0..NODES {
                for b in node_batches(node, round) {
                    let s = sequential.commit(&b).unwrap();
                    expected.new += s.new;
                    expected.duplicates += s.duplicates;
                }
            }
        }
        assert_eq!(expected.new, 5 * ROUNDS as usize);

        let c = nodes[0].client().await.unwrap();
        let one = |sql: &'static str| {
            let c = &c;
            async move { c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
        };
        let mentions = one("SELECT count(*) FROM mention").await;
        let per_round: Vec<(i64, i64)> = c
            .query(
                "SELECT (at - $1) / 3600 AS round, count(*) FROM mention GROUP BY round HAVING count(*) != 5 ORDER BY round",
                &[&T0],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            per_round,
            [],
            "rounds without exactly five mentions (round, mentions)"
        );
        assert_eq!(mentions, expected.new as i64, "mentions");
        assert_eq!((new, duplicates), (expected.new, expected.duplicates));
        // Every item of every node is a sighting, and each mention was seen by all.
        let sightings = one("SELECT count(*) FROM sighting").await;
        assert_eq!(sightings, 5 * NODES as i64 * ROUNDS);
        let seen_by_fewer = one("SELECT count(*) FROM mention WHERE sightings != 3").await;
        assert_eq!(seen_by_fewer, 0);
        let sources_per_mention = one(
            "SELECT count(*) FROM (SELECT mention_id FROM sighting GROUP BY mention_id
             HAVING count(DISTINCT source_id) != 3) m",
        )
        .await;
        assert_eq!(sources_per_mention, 0);
        drop(c);
        assert_pg_counts_exact(&nodes[0]).await;
    }

    /// A deadlock the advisory locks do not order (another writer inserting
    /// the same platform identities in the opposite order): the server
    /// aborts the commit, which writes the whole crawl again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_aborted_by_a_deadlock_is_written_again() {
        let Some(db) = TestDb::create("commit retry").await else {
            return;
        };
        let pg = connect(&db, 1).await;
        let first = "https://mastodon.social/@kim/1";
        let second = "https://mastodon.social/@kim/2";
        let social = |m: Vec<NewMention>| batch("masto", "mastodon", Kind::Social, m);
        let started = pg
            .commit(social(vec![toot("https://mastodon.social/@kim/0", None)]))
            .await
            .unwrap();
        assert_eq!(started, stats(1, 0, 0));

        let open = || async {
            let (c, conn) = tokio_postgres::connect(db.url(), tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            c
        };
        // The other writer looks for deadlocks late: the commit is the one aborted.
        let other = open().await;
        other
            .batch_execute("SET deadlock_timeout = '60s'; BEGIN")
            .await
            .unwrap();
        let insert = "INSERT INTO mention (topic_id, source_id, kind, identity, title, excerpt, first_seen, at, simhash)
             SELECT t.id, s.id, 1, $1, '', '', 0, 0, 0 FROM topic t, source s
             WHERE t.name = 'nk' AND s.name = 'masto'";
        assert_eq!(other.execute(insert, &[&second]).await.unwrap(), 1);

        let commit = tokio::spawn({
            let pg = pg.clone();
            let b = social(vec![toot(first, None), toot(second, None)]);
            async move { pg.commit(b).await }
        });
        // Until the commit, having inserted the first, waits for the second.
        let watch = open().await;
        let mut waited = 0;
        while lock_waiters(&watch).await == 0 {
            waited += 1;
            assert!(
                waited < 1000,
                "the commit never waited for the other writer"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Now the other writer wants the first: a cycle, which the server
        // breaks by aborting the commit; the other's insert then goes through.
        assert_eq!(other.execute(insert, &[&first]).await.unwrap(), 1);
        other.batch_execute("ROLLBACK").await.unwrap();
        // Written again, the crawl is stored whole.
        assert_eq!(commit.await.unwrap().unwrap(), stats(2, 0, 0));
        let identities: Vec<String> = watch
            .query("SELECT identity FROM mention ORDER BY identity", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            identities,
            ["https://mastodon.social/@kim/0", first, second]
        );
        drop((other, watch));
        assert_pg_counts_exact(&pg).await;
    }
}
