//! Writing one source's crawl: new mentions (deduplicated per SPEC §4) and
//! the source's state, in one transaction.

use super::counts::{Counted, Tally};
use super::{Store, StoreError};
use crate::http::Validators;
use crate::sources::Kind;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};
use std::collections::HashMap;

/// Near-duplicate threshold of the same-host rule (SPEC §4 rule 3).
pub const SIMHASH_MAX_DISTANCE: u32 = 3;

/// A matching item, identified, ready to store for one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMention {
    pub topic: String,
    pub kind: Kind,
    /// Canonical URL (web) or platform identity: unique per topic.
    pub identity: String,
    /// Link to show when it differs from `identity`.
    pub url: Option<String>,
    /// Host for web items (references and the same-host SimHash rule); None for platform items.
    pub host: Option<String>,
    pub title: String,
    pub excerpt: String,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub simhash: u64,
    /// The URL (or platform link) as the source gave it, when it differs
    /// from `identity`: a sighting records the form it was seen in.
    pub seen: Option<String>,
}

impl NewMention {
    /// The form this item was seen in, as a sighting's key: a source
    /// listing the same item again adds no sighting.
    pub(super) fn form(&self) -> i64 {
        let seen = self.seen.as_deref().unwrap_or(&self.identity);
        xxhash_rust::xxh3::xxh3_64(seen.as_bytes()) as i64
    }
}

/// The rule that made a sighting part of a mention (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum Rule {
    /// The sighting that stored the mention.
    First = 0,
    /// Rule 1: the same canonical URL.
    Url = 1,
    /// Rule 2: the same platform identity.
    Identity = 2,
    /// Rule 3: the same text on the same site (detail: Hamming distance).
    Text = 3,
    /// Rule 4: the same headline from the same publisher.
    Headline = 4,
}

impl Rule {
    pub fn from_code(code: i64) -> Option<Rule> {
        Some(match code {
            0 => Rule::First,
            1 => Rule::Url,
            2 => Rule::Identity,
            3 => Rule::Text,
            4 => Rule::Headline,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::First => "first",
            Rule::Url => "url",
            Rule::Identity => "identity",
            Rule::Text => "text",
            Rule::Headline => "headline",
        }
    }

    /// The rule that merges an item into a stored mention of the same identity.
    pub(super) fn of_identity(m: &NewMention) -> Rule {
        if m.identity
            .starts_with(crate::identify::TEXT_IDENTITY_PREFIX)
        {
            Rule::Text
        } else if m.host.is_some() {
            Rule::Url
        } else {
            Rule::Identity
        }
    }
}

/// How a crawl of one source ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOutcome {
    Ok,
    /// The source failed; what it brought before failing is still stored.
    Failed(String),
}

/// Everything one crawl of one source writes.
#[derive(Debug, Clone)]
pub struct CrawlBatch {
    pub source: String,
    pub source_type: String,
    pub kind: Kind,
    pub started: DateTime<Utc>,
    pub outcome: SourceOutcome,
    /// New paging cursor, when the source keeps one.
    pub cursor: Option<String>,
    /// Validators per fetched URL, for the next conditional GET.
    pub validators: Vec<(String, Validators)>,
    /// Identity keys of items evaluated in this crawl.
    pub seen: Vec<u64>,
    pub mentions: Vec<NewMention>,
    /// What the source read less of than it holds; stored as `last_warning`.
    pub warnings: Vec<String>,
    /// Every document answered 304: the stored warning still holds.
    pub not_modified: bool,
    /// Rule 4's headline key of each mention, in `mentions`' order, as
    /// `derive_keys` worked it out before the batch went to the writer;
    /// empty until then (the writer then works them out itself).
    headline_keys: Vec<Option<i64>>,
}

impl CrawlBatch {
    pub fn new(source: &str, source_type: &str, kind: Kind, started: DateTime<Utc>) -> CrawlBatch {
        CrawlBatch {
            source: source.to_owned(),
            source_type: source_type.to_owned(),
            kind,
            started,
            outcome: SourceOutcome::Ok,
            cursor: None,
            validators: Vec::new(),
            seen: Vec::new(),
            mentions: Vec::new(),
            warnings: Vec::new(),
            not_modified: false,
            headline_keys: Vec::new(),
        }
    }

    /// Works out what the write path derives from each mention alone and
    /// would otherwise compute on the store's one writing thread: called by
    /// the crawl's own task before the batch is queued for the writer.
    pub fn derive_keys(&mut self) {
        self.headline_keys = self.mentions.iter().map(headline_key).collect();
    }

    /// The headline key of `self.mentions[i]`: as derived, or worked out
    /// now when the batch was never derived or has mentions added since
    /// (`derive_keys` runs when the batch is queued, after which nothing
    /// changes its mentions).
    pub(super) fn headline_key(&self, i: usize) -> Option<i64> {
        match self.headline_keys.get(i) {
            Some(&key) if self.headline_keys.len() == self.mentions.len() => key,
            _ => headline_key(&self.mentions[i]),
        }
    }
}

/// Rule 4's key of a web item with a worded title.
fn headline_key(m: &NewMention) -> Option<i64> {
    m.host
        .as_deref()
        .and_then(|host| super::headlines::key(host, &m.title))
}

/// What a commit did with the batch's mentions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub new: usize,
    /// Already stored (same identity, or a same-host near-duplicate).
    pub duplicates: usize,
    /// New, but stored excluded by a domain or author exclusion.
    pub excluded: usize,
}

impl CommitStats {
    /// A mention stored: new, and counted, unless an exclusion rule excluded it.
    pub(super) fn stored(&mut self, tally: &mut Tally, topic_id: i64, excluded: bool, m: &Counted) {
        if excluded {
            self.excluded += 1;
        } else {
            self.new += 1;
            tally.add(topic_id, m);
        }
    }
}

impl Store {
    /// Writes a crawl in one IMMEDIATE transaction: either all of it is
    /// stored or none of it. Failures the store could not write before are
    /// written first, in the same transaction; a crawl that cannot be
    /// written is remembered as such a failure (see `Store::unsaved`).
    pub fn commit(&mut self, batch: &CrawlBatch) -> Result<CommitStats, StoreError> {
        let written = self
            .write_group(&mut vec![batch], |b| b, |_| {})
            .map(|mut stats| stats.remove(0));
        self.settle(batch, written)
    }

    /// Writes several crawls in one IMMEDIATE transaction. Committing a
    /// group costs about what committing one crawl does — every page the
    /// crawls share (count tables, index pages, the source rows) is written
    /// to the WAL once — so a writer that finds several crawls waiting
    /// stores them together (see `store::shared::commit`). Each crawl is
    /// still stored whole or not at all: when any of them cannot be written
    /// the group is rolled back and each is committed alone, so each gets
    /// its own answer (and failure record) as from `commit`. One result per
    /// batch, in order.
    pub fn commit_all(&mut self, batches: &[&CrawlBatch]) -> Vec<Result<CommitStats, StoreError>> {
        self.commit_arriving(&mut batches.to_vec(), |b| b, |_| {})
    }

    /// `commit_all` for crawls that keep arriving while a group is being
    /// written: once the crawls in `group` are written, `more` may append
    /// the ones that arrived meanwhile, and they are written in the same
    /// transaction, which is committed when `more` adds none. A busy writer
    /// thus commits (and writes the pages the crawls share to the WAL) once
    /// for many crawls instead of once for every few. The same guarantees
    /// as `commit_all`: every crawl in `group` at the end is stored whole or
    /// not at all, and when any cannot be written each is committed alone.
    pub fn commit_arriving<T>(
        &mut self,
        group: &mut Vec<T>,
        batch: impl Fn(&T) -> &CrawlBatch,
        more: impl FnMut(&mut Vec<T>),
    ) -> Vec<Result<CommitStats, StoreError>> {
        match self.write_group(group, &batch, more) {
            Ok(stats) => {
                // The unsaved failures were written with the group.
                self.unsaved.clear();
                stats.into_iter().map(Ok).collect()
            }
            Err(e) if group.len() == 1 => vec![self.settle(batch(&group[0]), Err(e))],
            Err(_) => group.iter().map(|b| self.commit(batch(b))).collect(),
        }
    }

    /// The crawls of `group`, and those `more` appends while they are
    /// written, in one IMMEDIATE transaction with the failures not saved
    /// before: all of them, or none. One result per crawl, in order.
    fn write_group<T>(
        &mut self,
        group: &mut Vec<T>,
        batch: impl Fn(&T) -> &CrawlBatch,
        mut more: impl FnMut(&mut Vec<T>),
    ) -> Result<Vec<CommitStats>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        super::unsaved::write(&tx, &self.unsaved)?;
        let mut stats = Vec::with_capacity(group.len());
        while stats.len() < group.len() {
            for b in &group[stats.len()..] {
                stats.push(write_batch(&tx, batch(b))?);
            }
            more(group);
        }
        tx.commit()?;
        Ok(stats)
    }
}

/// The four 16-bit bands of a fingerprint as stored in `simhash_band`.
pub(super) fn bands(simhash: u64) -> [i64; 4] {
    let mut out = [0i64; 4];
    for (n, band) in out.iter_mut().enumerate() {
        *band = (n as i64) * 65_536 + ((simhash >> (16 * n)) & 0xffff) as i64;
    }
    out
}

/// What the write path derives from an arriving item before it looks at
/// what is stored; the SQLite and the PostgreSQL write paths share it.
pub(super) struct Arrival<'a> {
    /// The sighting key of the form it was seen in.
    pub form: i64,
    /// The form it was seen in, when it differs from its identity.
    pub seen_url: Option<&'a str>,
    pub bands: [i64; 4],
    pub published: Option<i64>,
    /// Its time: published, or when crawled if later or undated.
    pub at: i64,
    /// Its headline key (rule 4), for items with a host and a worded title.
    pub headline: Option<i64>,
}

impl<'a> Arrival<'a> {
    /// Mention `i` of `batch`, crawled at `now`.
    pub fn of(batch: &'a CrawlBatch, i: usize, now: i64) -> Arrival<'a> {
        let m = &batch.mentions[i];
        let published = m.published.map(|t| t.timestamp());
        Arrival {
            form: m.form(),
            seen_url: m.seen.as_deref().filter(|s| *s != m.identity),
            bands: bands(m.simhash),
            published,
            // A date in the future is a clock or zone error; the mention happened by now.
            at: published.map_or(now, |p| p.min(now)),
            headline: batch.headline_key(i),
        }
    }

    /// The link a sighting of `m` by `rule` records.
    pub fn sighting_url(&self, m: &'a NewMention, rule: Rule) -> Option<&'a str> {
        match rule {
            // A near copy has an identity of its own: it is the form seen.
            Rule::Text | Rule::Headline => Some(self.seen_url.unwrap_or(&m.identity)),
            _ => self.seen_url,
        }
    }
}

/// The mention cutoff retention last applied (`retention.mentions_before`;
/// None keeps everything). Both write paths skip an item older than it —
/// retention deleted it, or would — and count it as a duplicate.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retention(pub Option<i64>);

impl Retention {
    /// Whether an item of time `at` stays out.
    pub fn drops(self, at: i64) -> bool {
        self.0.is_some_and(|before| at < before)
    }
}

/// The instance a platform item was seen on (web items have a host
/// instead), and the rule that excludes the item as `source_id` stores it
/// for `topic_id`, if any.
pub(super) fn instance_and_exclusion(
    rules: &super::rules::Rules,
    topic_id: i64,
    source_id: i64,
    m: &NewMention,
) -> (Option<String>, Option<i64>) {
    let instance = match m.host {
        Some(_) => None,
        None => super::rules::instance_of(m.url.as_deref().unwrap_or(&m.identity)),
    };
    let excluded_by = rules.excluding(
        topic_id,
        source_id,
        m.host.as_deref().or(instance.as_deref()),
        m.author.as_deref(),
    );
    (instance, excluded_by)
}

/// The language a new mention is stored with: as the source said, else detected.
pub(super) fn language(m: &NewMention) -> Option<&str> {
    m.lang
        .as_deref()
        .or_else(|| crate::lang::detect(&m.title, &m.excerpt))
}

/// A source's state after a crawl, as both write paths store it.
pub(super) struct SourceState {
    pub now: i64,
    /// The crawl's time when it succeeded.
    pub success: Option<i64>,
    /// Why it failed, masked.
    pub error: Option<String>,
    /// What it read less of, masked.
    pub warning: Option<String>,
}

impl SourceState {
    pub fn of(batch: &CrawlBatch) -> SourceState {
        let now = batch.started.timestamp();
        // The error may quote a configured URL: its `${VAR}` values are not stored.
        let (success, error) = match &batch.outcome {
            SourceOutcome::Ok => (Some(now), None),
            SourceOutcome::Failed(e) => (None, Some(crate::secrets::mask(e).into_owned())),
        };
        let warning = (!batch.warnings.is_empty())
            .then(|| crate::secrets::mask(&batch.warnings.join("; ")).into_owned());
        SourceState {
            now,
            success,
            error,
            warning,
        }
    }
}

fn write_batch(tx: &Transaction<'_>, batch: &CrawlBatch) -> Result<CommitStats, StoreError> {
    let state = SourceState::of(batch);
    let now = state.now;
    // With the retention cutoff: read once, as retention records a new one
    // in a write transaction of its own (SQLite has one writer at a time).
    let (source_id, retention): (i64, Retention) = tx
        .prepare_cached(
            "INSERT INTO source (name, type, kind) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET type = excluded.type, kind = excluded.kind
             RETURNING id, (SELECT mentions_before FROM retention WHERE id = 1)",
        )?
        .query_row(
            (&batch.source, &batch.source_type, batch.kind.code()),
            |r| Ok((r.get(0)?, Retention(r.get(1)?))),
        )?;

    let mut stats = CommitStats::default();
    // Items of a news search meet the publishers' own articles by headline.
    let news = crate::sources::types::is_news_search(&batch.source_type);
    let mut topic_ids: HashMap<&str, i64> = HashMap::new();
    let mut host_ids: HashMap<&str, i64> = HashMap::new();
    let rules = super::rules::Rules::load(tx)?;
    // Count rows this batch adds, written once per key at the end.
    let mut tally = Tally::default();
    let mut existing =
        tx.prepare_cached("SELECT id FROM mention WHERE topic_id = ?1 AND identity = ?2")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO mention
           (topic_id, source_id, kind, identity, url, host, title, excerpt, author, lang,
            published_at, first_seen, at, simhash, sightings, excluded_by, instance)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15, ?16)
         ON CONFLICT DO NOTHING",
    )?;
    // One lookup per band, in band order (as `band IN (…)` reads them),
    // without the temporary table SQLite builds for every run of an `IN`
    // list of parameters (an eighth of the writer's instructions in the
    // crawl benchmark: 79,000 → 69,000 per item under callgrind).
    let mut near = tx.prepare_cached(
        "SELECT simhash, mention_id FROM simhash_band WHERE topic_id = ?1 AND host_id = ?2 AND band = ?3
         UNION ALL
         SELECT simhash, mention_id FROM simhash_band WHERE topic_id = ?1 AND host_id = ?2 AND band = ?4
         UNION ALL
         SELECT simhash, mention_id FROM simhash_band WHERE topic_id = ?1 AND host_id = ?2 AND band = ?5
         UNION ALL
         SELECT simhash, mention_id FROM simhash_band WHERE topic_id = ?1 AND host_id = ?2 AND band = ?6",
    )?;
    let mut add_bands = tx.prepare_cached(
        "INSERT OR IGNORE INTO simhash_band (topic_id, host_id, band, simhash, mention_id)
         VALUES (?1, ?2, ?3, ?7, ?8), (?1, ?2, ?4, ?7, ?8), (?1, ?2, ?5, ?7, ?8), (?1, ?2, ?6, ?7, ?8)",
    )?;
    let mut sighting = tx.prepare_cached(
        "INSERT INTO sighting (mention_id, source_id, form, seen_at, rule, detail, url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO NOTHING",
    )?;
    let mut seen_again = tx.prepare_cached(
        "UPDATE mention SET sightings = sightings + 1 WHERE id = ?1 AND sightings IS NOT NULL",
    )?;
    let mut headlines = super::headlines::Headlines::prepare(tx)?;
    for (i, m) in batch.mentions.iter().enumerate() {
        let topic_id = match topic_ids.get(m.topic.as_str()) {
            Some(&id) => id,
            None => {
                let id = topic_id(tx, &m.topic)?;
                topic_ids.insert(&m.topic, id);
                id
            }
        };
        let host_id = match m.host.as_deref() {
            None => None,
            Some(host) => Some(match host_ids.get(host) {
                Some(&id) => id,
                None => {
                    let id = host_id(tx, host)?;
                    host_ids.insert(host, id);
                    id
                }
            }),
        };
        let arrival = Arrival::of(batch, i, now);
        let mut merge = |mention_id: i64, rule: Rule, detail: Option<u32>| {
            let url = arrival.sighting_url(m, rule);
            let added = sighting.execute(rusqlite::params![
                mention_id,
                source_id,
                arrival.form,
                now,
                rule as i64,
                detail,
                url
            ])?;
            if added == 1 {
                seen_again.execute([mention_id])?;
            }
            Ok::<_, rusqlite::Error>(())
        };
        // Rules 1 and 2 (and an exact text identity): the same identity.
        let same: Option<i64> = existing
            .query_row((topic_id, &m.identity), |r| r.get(0))
            .optional()?;
        if let Some(id) = same {
            merge(id, Rule::of_identity(m), None)?;
            stats.duplicates += 1;
            continue;
        }
        let b = arrival.bands;
        if let Some(host_id) = host_id {
            // Rule 3. Pigeonhole: any stored fingerprint within 3 bits shares a band.
            let mut rows =
                near.query(rusqlite::params![topic_id, host_id, b[0], b[1], b[2], b[3]])?;
            let mut copy_of = None;
            while let Some(row) = rows.next()? {
                let other: i64 = row.get(0)?;
                let distance = crate::text::hamming(other as u64, m.simhash);
                if distance <= SIMHASH_MAX_DISTANCE {
                    copy_of = Some((row.get::<_, Option<i64>>(1)?, distance));
                    break;
                }
            }
            drop(rows);
            if let Some((mention_id, distance)) = copy_of {
                if let Some(id) = mention_id {
                    merge(id, Rule::Text, Some(distance))?;
                }
                stats.duplicates += 1;
                continue;
            }
        }
        let at = arrival.at;
        // Rule 4: a news search's item and the publisher's own article.
        let headline = arrival.headline;
        if let Some(key) = headline {
            if let Some(id) = headlines.find(topic_id, key, at, news)? {
                merge(id, Rule::Headline, None)?;
                stats.duplicates += 1;
                continue;
            }
        }
        if retention.drops(at) {
            // Deleted by retention, or it would be: not stored again.
            stats.duplicates += 1;
            continue;
        }
        let (instance, excluded_by) = instance_and_exclusion(&rules, topic_id, source_id, m);
        let changed = insert.execute(rusqlite::params![
            topic_id,
            source_id,
            m.kind.code(),
            m.identity,
            m.url,
            m.host,
            m.title,
            m.excerpt,
            m.author,
            // Only new mentions are worth the detector's time.
            language(m),
            arrival.published,
            now,
            at,
            m.simhash as i64,
            excluded_by,
            instance,
        ])?;
        if changed != 1 {
            stats.duplicates += 1;
            continue;
        }
        let mention_id = tx.last_insert_rowid();
        if let Some(key) = headline {
            headlines.add(topic_id, key, at, news, mention_id)?;
        }
        sighting.execute(rusqlite::params![
            mention_id,
            source_id,
            arrival.form,
            now,
            Rule::First as i64,
            None::<i64>,
            arrival.seen_url
        ])?;
        if let Some(host_id) = host_id {
            add_bands.execute(rusqlite::params![
                topic_id,
                host_id,
                b[0],
                b[1],
                b[2],
                b[3],
                m.simhash as i64,
                mention_id
            ])?;
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
    tally.add_to(tx)?;

    tx.prepare_cached(
        "UPDATE source SET
           last_run = ?2,
           last_success = coalesce(?3, last_success),
           last_error = ?4,
           consecutive_failures = CASE WHEN ?4 IS NULL THEN 0 ELSE consecutive_failures + 1 END,
           cursor = coalesce(?5, cursor),
           last_warning = CASE WHEN ?7 THEN last_warning ELSE ?6 END
         WHERE id = ?1",
    )?
    .execute((
        source_id,
        now,
        state.success,
        &state.error,
        &batch.cursor,
        &state.warning,
        batch.not_modified,
    ))?;
    let mut cache = tx.prepare_cached(
        "INSERT INTO http_cache (source_id, url, etag, last_modified) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source_id, url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified",
    )?;
    for (url, v) in &batch.validators {
        // Keyed by the masked URL, as `Store::validators` looks it up.
        let url = crate::secrets::mask(url);
        cache.execute((source_id, &url, &v.etag, &v.last_modified))?;
    }
    write_seen(tx, source_id, now, &batch.seen)?;
    Ok(stats)
}

/// Keys written by one statement of `write_seen`.
const SEEN_PER_STATEMENT: usize = 64;

/// `INSERT OR IGNORE INTO seen` of `SEEN_PER_STATEMENT` rows: `?1` the
/// source, `?2` the time, `?3`… the keys.
static SEEN_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let rows: Vec<String> = (0..SEEN_PER_STATEMENT)
        .map(|i| format!("(?1, ?{}, ?2)", i + 3))
        .collect();
    format!(
        "INSERT OR IGNORE INTO seen (source_id, key, first_seen) VALUES {}",
        rows.join(", ")
    )
});

/// A crawl's seen keys, in key order, `SEEN_PER_STATEMENT` to a statement
/// (the rest one by one): one statement's setup for every 64 keys
/// instead of every key, and each leaf page of the source's range visited
/// once.
fn write_seen(
    tx: &Transaction<'_>,
    source_id: i64,
    now: i64,
    keys: &[u64],
) -> rusqlite::Result<()> {
    // As stored: the primary key orders them as signed integers.
    let mut keys: Vec<i64> = keys.iter().map(|&k| k as i64).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut chunks = keys.chunks_exact(SEEN_PER_STATEMENT);
    if chunks.len() > 0 {
        let mut many = tx.prepare_cached(&SEEN_MANY)?;
        let mut params: Vec<i64> = vec![source_id, now];
        for chunk in &mut chunks {
            params.truncate(2);
            params.extend_from_slice(chunk);
            many.execute(rusqlite::params_from_iter(&params))?;
        }
    }
    let mut one = tx.prepare_cached(
        "INSERT OR IGNORE INTO seen (source_id, key, first_seen) VALUES (?1, ?3, ?2)",
    )?;
    for &key in chunks.remainder() {
        one.execute((source_id, now, key))?;
    }
    Ok(())
}

fn host_id(tx: &Transaction<'_>, name: &str) -> Result<i64, StoreError> {
    if let Some(id) = tx
        .prepare_cached("SELECT id FROM host WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    Ok(tx
        .prepare_cached("INSERT INTO host (name) VALUES (?1) RETURNING id")?
        .query_row([name], |r| r.get(0))?)
}

pub(super) fn topic_id(tx: &Transaction<'_>, name: &str) -> Result<i64, StoreError> {
    if let Some(id) = tx
        .prepare_cached("SELECT id FROM topic WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
    {
        return Ok(id);
    }
    Ok(tx.query_row(
        "INSERT INTO topic (name) VALUES (?1) RETURNING id",
        [name],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use chrono::TimeZone;

    fn mention(topic: &str, identity: &str, host: Option<&str>, simhash: u64) -> NewMention {
        NewMention {
            topic: topic.into(),
            kind: Kind::Web,
            identity: identity.into(),
            url: None,
            host: host.map(Into::into),
            title: "t".into(),
            excerpt: "e".into(),
            author: None,
            lang: None,
            published: Some(Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()),
            simhash,
            seen: None,
        }
    }

    fn batch(mentions: Vec<NewMention>) -> CrawlBatch {
        let mut b = CrawlBatch::new(
            "s",
            "feed",
            Kind::Web,
            Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
        );
        b.mentions = mentions;
        b
    }

    fn named(source: &str, mentions: Vec<NewMention>) -> CrawlBatch {
        CrawlBatch {
            source: source.into(),
            ..batch(mentions)
        }
    }

    fn identities(store: &Store) -> Vec<(String, String)> {
        store
            .conn
            .prepare(
                "SELECT s.name, m.identity FROM mention m JOIN source s ON s.id = m.source_id
                 ORDER BY m.identity",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn headline_keys_derived_before_the_writer_are_the_ones_it_would_work_out() {
        let titled = |identity: &str, host: Option<&str>, title: &str| NewMention {
            title: title.into(),
            ..mention("t", identity, host, 1)
        };
        let mut b = batch(vec![
            titled(
                "https://x.org/1",
                Some("www.x.org"),
                "Nordkorea schickt Soldaten",
            ),
            titled("https://y.org/2", Some("y.org"), "Gipfel in Berlin"),
            // No host, or no word in the title: no key.
            titled("bsky:1", None, "Nordkorea schickt Soldaten"),
            titled("https://x.org/3", Some("x.org"), " – "),
        ]);
        let worked_out: Vec<Option<i64>> = (0..4).map(|i| b.headline_key(i)).collect();
        assert_eq!(
            worked_out,
            vec![
                super::super::headlines::key("www.x.org", "Nordkorea schickt Soldaten"),
                super::super::headlines::key("y.org", "Gipfel in Berlin"),
                None,
                None,
            ]
        );
        assert!(worked_out[0].is_some() && worked_out[1].is_some());
        b.derive_keys();
        assert_eq!(
            (0..4).map(|i| b.headline_key(i)).collect::<Vec<_>>(),
            worked_out
        );
        // Mentions added after the derivation are worked out, not misread.
        b.mentions
            .push(titled("https://z.org/4", Some("z.org"), "Gipfel in Berlin"));
        assert_eq!(
            b.headline_key(4),
            super::super::headlines::key("z.org", "Gipfel in Berlin")
        );
        assert_ne!(
            b.headline_key(4),
            b.headline_key(1),
            "the publisher is in the key"
        );
    }

    #[test]
    fn seen_keys_are_written_whole_chunks_and_remainder_once_each() {
        let mut store = Store::open_in_memory().unwrap();
        let stored = |store: &Store| -> Vec<(i64, i64)> {
            store
                .conn
                .prepare("SELECT key, first_seen FROM seen ORDER BY key")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        // Two whole statements' worth and 22 more, with repeats, and keys
        // whose stored (signed) order differs from their unsigned one.
        let mut first = batch(vec![]);
        first.seen = (0..150u64)
            .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        first.seen.extend([u64::MAX, 0, 5, 5]);
        store.commit(&first).unwrap();
        let t1 = first.started.timestamp();
        let mut want: Vec<i64> = first.seen.iter().map(|&k| k as i64).collect();
        want.sort_unstable();
        want.dedup();
        assert_eq!(
            want.len(),
            152,
            "0 is both the first product and a key of its own"
        );
        assert_eq!(
            stored(&store),
            want.iter().map(|&k| (k, t1)).collect::<Vec<_>>()
        );
        // A later crawl adds its new keys and keeps the first time of the rest.
        let mut again = batch(vec![]);
        again.started += chrono::Duration::hours(1);
        again.seen = vec![5, 6, u64::MAX];
        store.commit(&again).unwrap();
        let rows = stored(&store);
        assert_eq!(rows.len(), 153);
        assert!(rows.contains(&(5, t1)) && rows.contains(&(-1, t1)));
        assert!(rows.contains(&(6, t1 + 3_600)));
    }

    #[test]
    fn a_crawl_runs_the_statements_prepared_for_the_crawl_before() {
        use rusqlite::trace::{TraceEvent, TraceEventCodes};
        use std::sync::{Arc, Mutex};
        let mut store = Store::open_in_memory().unwrap();
        // Every step of the write: a new mention with a host and a title
        // (bands, headline, first sighting), a seen key, a validator.
        let crawl = |n: u64| {
            let link = format!("https://x.org/{n}");
            let far_apart = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut b = batch(vec![mention("t", &link, Some("x.org"), far_apart)]);
            b.seen = vec![n];
            b.validators = vec![(
                "https://x.org/feed".into(),
                Validators {
                    etag: Some(format!("\"{n}\"")),
                    last_modified: None,
                },
            )];
            b
        };
        assert_eq!(store.commit(&crawl(1)).unwrap().new, 1);
        let runs = Arc::new(Mutex::new(Vec::new()));
        let traced = Arc::clone(&runs);
        store
            .conn
            .trace_v2(
                TraceEventCodes::SQLITE_TRACE_PROFILE,
                Some(move |event: TraceEvent<'_>| {
                    if let TraceEvent::Profile(stmt, _) = event {
                        let run = stmt.get_status(rusqlite::StatementStatus::Run);
                        traced.lock().unwrap().push((stmt.sql().into_owned(), run));
                    }
                }),
            )
            .unwrap();
        assert_eq!(store.commit(&crawl(2)).unwrap().new, 1);
        let runs = runs.lock().unwrap();
        // Transaction control is not a prepared statement worth keeping.
        let written: Vec<&(String, i32)> = runs
            .iter()
            .filter(|(sql, _)| {
                !["BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"]
                    .iter()
                    .any(|c| sql.starts_with(c))
            })
            .collect();
        assert!(written.len() >= 12, "{written:?}");
        for (sql, run) in written {
            // Prepared for the first crawl and kept: run at least twice.
            assert!(*run >= 2, "prepared again for the second crawl: {sql}");
        }
    }

    #[test]
    fn a_group_stores_what_its_crawls_store_one_by_one() {
        let crawls = || {
            vec![
                named(
                    "a",
                    vec![
                        mention("t", "https://x.org/1", Some("x.org"), 0b1111_0000),
                        mention("u", "https://x.org/1", Some("x.org"), 0b1111_0000),
                    ],
                ),
                // The same URL again, and a near copy on the same host.
                named(
                    "b",
                    vec![
                        mention("t", "https://x.org/1", Some("x.org"), 0b1111_0000),
                        mention("t", "https://x.org/copy", Some("x.org"), 0b1111_0111),
                        mention("t", "https://y.org/2", Some("y.org"), 0),
                    ],
                ),
                named("c", vec![mention("t", "https://y.org/2", None, 0)]),
            ]
        };
        let mut alone = Store::open_in_memory().unwrap();
        let one_by_one: Vec<CommitStats> =
            crawls().iter().map(|b| alone.commit(b).unwrap()).collect();
        let mut grouped = Store::open_in_memory().unwrap();
        let batches = crawls();
        let refs: Vec<&CrawlBatch> = batches.iter().collect();
        let together: Vec<CommitStats> = grouped
            .commit_all(&refs)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(together, one_by_one);
        assert_eq!(
            together,
            [
                CommitStats {
                    new: 2,
                    duplicates: 0,
                    excluded: 0
                },
                CommitStats {
                    new: 1,
                    duplicates: 2,
                    excluded: 0
                },
                CommitStats {
                    new: 0,
                    duplicates: 1,
                    excluded: 0
                },
            ]
        );
        assert_eq!(identities(&grouped), identities(&alone));
        crate::store::counts::exact::assert_counts_exact(&grouped);
    }

    /// Makes inserting a mention whose identity ends in `/refused` fail,
    /// standing in for a write that fails (a full disk, a broken page).
    fn refuse_links_ending_in_refused(store: &Store) {
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON mention WHEN NEW.identity LIKE '%/refused'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .unwrap();
    }

    #[test]
    fn a_crawl_that_cannot_be_written_fails_alone_in_its_group() {
        let mut store = Store::open_in_memory().unwrap();
        refuse_links_ending_in_refused(&store);
        let batches = [
            named("a", vec![mention("t", "https://x.org/1", Some("x.org"), 1)]),
            // Its first mention is written before the second fails.
            named(
                "b",
                vec![
                    mention("t", "https://x.org/2", Some("x.org"), u64::MAX),
                    mention("t", "https://x.org/refused", Some("x.org"), 0xffff_0000),
                ],
            ),
            named("c", vec![mention("t", "https://z.org/3", Some("z.org"), 7)]),
        ];
        let refs: Vec<&CrawlBatch> = batches.iter().collect();
        let results = store.commit_all(&refs);
        assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
        let failed = results[1].as_ref().unwrap_err().to_string();
        assert!(failed.contains("refused"), "{failed}");
        // Nothing of b is stored; a and c are.
        assert_eq!(
            identities(&store),
            [
                ("a".to_owned(), "https://x.org/1".to_owned()),
                ("c".to_owned(), "https://z.org/3".to_owned())
            ]
        );
        let (error, failures): (String, i64) = store
            .conn
            .query_row(
                "SELECT last_error, consecutive_failures FROM source WHERE name = 'b'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(error.starts_with("could not store the crawl"), "{error}");
        assert_eq!(failures, 1);
        crate::store::counts::exact::assert_counts_exact(&store);
    }

    #[test]
    fn crawls_arriving_while_a_group_is_written_join_its_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut store = Store::open(&path).unwrap();
        refuse_links_ending_in_refused(&store);
        let committed = || {
            let reader = Store::open_read_only(&path).unwrap();
            reader
                .conn
                .query_row("SELECT count(*) FROM mention", [], |r| r.get::<_, i64>(0))
                .unwrap()
        };
        let mut arriving = vec![
            named("c", vec![mention("t", "https://z.org/3", Some("z.org"), 7)]),
            named("b", vec![mention("t", "https://x.org/1", Some("x.org"), 1)]),
        ];
        let mut group = vec![named(
            "a",
            vec![mention("t", "https://x.org/1", Some("x.org"), 1)],
        )];
        let mut asked = 0;
        let results = store.commit_arriving(
            &mut group,
            |b| b,
            |group| {
                asked += 1;
                // What is written so far is not committed yet.
                assert_eq!(committed(), 0);
                group.extend(arriving.pop());
            },
        );
        assert_eq!(asked, 3);
        let stats: Vec<CommitStats> = results.into_iter().map(Result::unwrap).collect();
        let counted = |new, duplicates| CommitStats {
            new,
            duplicates,
            excluded: 0,
        };
        assert_eq!(stats, [counted(1, 0), counted(0, 1), counted(1, 0)]);
        assert_eq!(committed(), 2);

        // A crawl that arrives and cannot be written fails alone: the one
        // written before it in the transaction is stored, and the one still
        // waiting is left for its own commit.
        let mut arriving = vec![
            named("f", vec![mention("t", "https://z.org/6", Some("z.org"), 9)]),
            named(
                "e",
                vec![mention(
                    "t",
                    "https://x.org/refused",
                    Some("x.org"),
                    0xffff_0000,
                )],
            ),
        ];
        let mut group = vec![named(
            "d",
            vec![mention("t", "https://x.org/4", Some("x.org"), u64::MAX)],
        )];
        let results = store.commit_arriving(&mut group, |b| b, |g| g.extend(arriving.pop()));
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].as_ref().unwrap(), &counted(1, 0));
        let failed = results[1].as_ref().unwrap_err().to_string();
        assert!(failed.contains("refused"), "{failed}");
        assert_eq!(arriving.len(), 1);
        let stored: Vec<String> = identities(&store).into_iter().map(|(_, i)| i).collect();
        assert_eq!(
            stored,
            ["https://x.org/1", "https://x.org/4", "https://z.org/3"]
        );
        crate::store::counts::exact::assert_counts_exact(&store);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crawls_committed_together_each_get_their_own_answer() {
        let store = crate::store::shared(Store::open_in_memory().unwrap());
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..40u64 {
            let store = std::sync::Arc::clone(&store);
            tasks.spawn(async move {
                let host = format!("h{n}.org");
                let mentions = (0..=n % 3)
                    .map(|k| {
                        mention(
                            "t",
                            &format!("https://{host}/{k}"),
                            Some(&host),
                            xxhash_rust::xxh3::xxh3_64(&k.to_le_bytes()),
                        )
                    })
                    .collect();
                let stats = crate::store::commit(&store, named(&format!("s{n}"), mentions))
                    .await
                    .unwrap();
                (n, stats.new)
            });
        }
        let mut answers = Vec::new();
        while let Some(done) = tasks.join_next().await {
            answers.push(done.unwrap());
        }
        answers.sort();
        let expected: Vec<(u64, usize)> = (0..40).map(|n| (n, (n % 3 + 1) as usize)).collect();
        assert_eq!(answers, expected);
        let store = store.lock().unwrap();
        let stored: i64 = store
            .conn
            .query_row("SELECT count(*) FROM mention", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            stored,
            expected.iter().map(|(_, new)| *new as i64).sum::<i64>()
        );
        crate::store::counts::exact::assert_counts_exact(&store);
    }

    #[test]
    fn same_identity_counts_once_per_topic() {
        let mut store = Store::open_in_memory().unwrap();
        let s = store
            .commit(&batch(vec![
                mention("a", "https://x.org/1", Some("x.org"), 0),
                mention("a", "https://x.org/1", Some("x.org"), 0),
                mention("b", "https://x.org/1", Some("x.org"), 0),
            ]))
            .unwrap();
        assert_eq!(
            s,
            CommitStats {
                new: 2,
                duplicates: 1,
                excluded: 0,
            }
        );
        let again = store
            .commit(&batch(vec![mention(
                "a",
                "https://x.org/1",
                Some("x.org"),
                0,
            )]))
            .unwrap();
        assert_eq!(
            again,
            CommitStats {
                new: 0,
                duplicates: 1,
                excluded: 0,
            }
        );
    }

    #[test]
    fn the_language_of_new_mentions_only_is_detected() {
        let mut store = Store::open_in_memory().unwrap();
        let german = |identity: &str, lang: Option<&str>| {
            NewMention {
            title: "Russland und Nordkorea vertiefen ihre Zusammenarbeit".into(),
            excerpt: "Die Regierung in Moskau hat am Dienstag bestätigt, dass weitere Soldaten verlegt wurden.".into(),
            lang: lang.map(Into::into),
            ..mention("a", identity, None, 0)
        }
        };
        store
            .commit(&batch(vec![
                german("https://x.org/1", None),
                german("https://x.org/2", Some("fr")),
            ]))
            .unwrap();
        let langs: Vec<Option<String>> = store
            .conn
            .prepare("SELECT lang FROM mention ORDER BY identity")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // Detected where the source said nothing; a declared language stands.
        assert_eq!(langs, [Some("de".to_owned()), Some("fr".to_owned())]);
    }

    #[test]
    fn near_duplicate_text_is_one_mention_on_one_host_only() {
        let mut store = Store::open_in_memory().unwrap();
        let s = store
            .commit(&batch(vec![
                mention("a", "https://x.org/1", Some("x.org"), 0b1111_0000),
                // three bits apart, same host: a copy
                mention("a", "https://x.org/copy", Some("x.org"), 0b1111_0111),
                // four bits apart: different text
                mention("a", "https://x.org/other", Some("x.org"), 0b0000_0000_1111),
                // same text, another host: a syndicated copy counts
                mention("a", "https://y.org/1", Some("y.org"), 0b1111_0000),
            ]))
            .unwrap();
        assert_eq!(
            s,
            CommitStats {
                new: 3,
                duplicates: 1,
                excluded: 0,
            }
        );
    }

    /// A crawl's later items find the band and headline rows its earlier
    /// items added, in the order rule 3 reads bands.
    #[test]
    fn a_crawl_finds_the_rows_its_earlier_items_added() {
        let mut store = Store::open_in_memory().unwrap();
        let sightings = |store: &Store| -> Vec<(String, i64, String)> {
            store
                .conn
                .prepare(
                    "SELECT m.identity, g.rule, coalesce(g.url, '') FROM sighting g
                     JOIN mention m ON m.id = g.mention_id WHERE g.rule > 0 ORDER BY g.url",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        // Bands are 16 bits, band 0 the lowest. Stored by an earlier crawl:
        // a fingerprint three bits from the copy below, sharing only its
        // last band with it.
        let copy: u64 = 0x1111_2222_3333_4444;
        let stored = copy ^ (1 << 0) ^ (1 << 16) ^ (1 << 32);
        let old = batch(vec![mention(
            "t",
            "https://x.org/old",
            Some("x.org"),
            stored,
        )]);
        assert_eq!(store.commit(&old).unwrap().new, 1);
        // This crawl: first a fingerprint also three bits from the copy,
        // sharing only its first band; then the copy. Rule 3 reads the bands
        // in order, so the copy is one with this crawl's first item, as it
        // would be with both rows in the table.
        let first = copy ^ (1 << 17) ^ (1 << 33) ^ (1 << 49);
        assert_eq!(crate::text::hamming(first, copy), 3);
        assert_eq!(crate::text::hamming(stored, copy), 3);
        assert_eq!(crate::text::hamming(first, stored), 6);
        let s = store
            .commit(&batch(vec![
                mention("t", "https://x.org/first", Some("x.org"), first),
                mention("t", "https://x.org/copy", Some("x.org"), copy),
            ]))
            .unwrap();
        assert_eq!((s.new, s.duplicates), (1, 1));
        // A news search's crawl: its second item has the first's headline.
        let mut news = CrawlBatch::new("gn", "googlenews", Kind::Web, old.started);
        let titled = |identity: &str, simhash: u64| NewMention {
            title: "Nordkorea schickt Soldaten!".into(),
            ..mention("t", identity, Some("y.org"), simhash)
        };
        news.mentions = vec![
            titled("https://y.org/a", 1),
            titled("https://y.org/b", u64::MAX),
        ];
        let s = store.commit(&news).unwrap();
        assert_eq!((s.new, s.duplicates), (1, 1));
        assert_eq!(
            sightings(&store),
            vec![
                ("https://x.org/first".into(), 3, "https://x.org/copy".into()),
                ("https://y.org/a".into(), 4, "https://y.org/b".into()),
            ]
        );
        crate::store::counts::exact::assert_counts_exact(&store);
        crate::store::headlines::exact::assert_headlines_exact(&store);
    }

    #[test]
    fn state_and_validators_are_written_with_the_mentions() {
        let mut store = Store::open_in_memory().unwrap();
        let mut b = batch(vec![mention("a", "https://x.org/1", Some("x.org"), 0)]);
        b.validators.push((
            "https://x.org/feed".into(),
            Validators {
                etag: Some("\"v1\"".into()),
                last_modified: None,
            },
        ));
        b.seen = vec![1, 2, u64::MAX];
        b.outcome = SourceOutcome::Failed("boom".into());
        store.commit(&b).unwrap();
        assert_eq!(
            store
                .validators("s", "https://x.org/feed")
                .unwrap()
                .unwrap()
                .etag
                .as_deref(),
            Some("\"v1\"")
        );
        assert_eq!(
            store.seen("s", &[2, 3, u64::MAX]).unwrap(),
            [true, false, true]
        );
        let failures: i64 = store
            .conn
            .query_row("SELECT consecutive_failures FROM source", [], |r| r.get(0))
            .unwrap();
        assert_eq!(failures, 1);
    }
}
