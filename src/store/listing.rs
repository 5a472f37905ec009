//! The rows behind the counts: `list` (the mentions a report counts, with
//! filters and keyset paging, newest first) and `explain` (one mention and
//! every sighting merged into it). A listing reads inside one transaction,
//! so it sees one state of the database however many pages it reads while
//! crawls write.

use super::mentions::Rule;
use super::rules::domain_key;
use super::{KindCounts, Store, StoreError};
use crate::query::Query;
use crate::sources::Kind;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::types::Value;
use rusqlite::OptionalExtension;

/// Which mentions to list. Times are unix seconds; the window is `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub topic: String,
    pub from: i64,
    pub to: i64,
    /// Empty: every kind.
    pub kinds: Vec<Kind>,
    /// Source names; empty: every source.
    pub sources: Vec<String>,
    /// Domains (`www.` ignored); empty: every domain.
    pub domains: Vec<String>,
    /// The query language over title and excerpt.
    pub search: Option<Query>,
    /// List the excluded mentions instead of the counted ones.
    pub excluded: bool,
    /// Keyset cursor: only rows after this `(at, id)` in listing order.
    pub after: Option<(i64, i64)>,
}

/// One listed mention: the fields of `list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: i64,
    pub topic: String,
    pub kind: Kind,
    pub at: DateTime<Utc>,
    /// Unix seconds of `at`, for cursors.
    pub at_secs: i64,
    pub source: String,
    /// The web host, or the platform instance.
    pub domain: Option<String>,
    pub author: Option<String>,
    pub title: String,
    /// The link a person opens; empty when the item had none.
    pub url: String,
    pub excerpt: String,
    pub lang: Option<String>,
    /// Times it was seen, the first included; None for mentions stored
    /// before sightings were recorded.
    pub sightings: Option<u64>,
    /// The source gave no readable date: `at` is when it was first seen.
    pub undated: bool,
    /// The exclusion that takes it out of the counts.
    pub excluded_by: Option<i64>,
    /// Its canonical URL or platform identity.
    pub identity: String,
}

/// One sighting of a mention, as `explain` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub source: String,
    pub seen_at: DateTime<Utc>,
    /// The URL or platform identity as seen.
    pub url: String,
    pub rule: Rule,
    /// What the rule compared: both forms of a URL, the identity, the
    /// Hamming distance.
    pub detail: Option<String>,
}

/// A mention and every sighting merged into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub mention: Listed,
    pub sightings: Vec<Sighting>,
    /// Sightings counted but no longer stored (retention deletes old ones).
    pub pruned: u64,
}

/// A sighting as read: source, seen at, URL as seen, rule, detail.
pub(super) type SightingRow = (String, i64, Option<String>, i64, Option<i64>);

/// Rows read per query while a search filter drops some.
const CHUNK: usize = 500;

pub(super) const COLUMNS: &str =
    "m.id, t.name, m.kind, m.at, s.name, coalesce(m.host, m.instance), m.author,
    m.title, coalesce(m.url, m.identity), m.excerpt, m.lang, m.sightings, m.published_at IS NULL,
    m.excluded_by, m.identity";

pub(super) fn time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

fn listed(r: &rusqlite::Row<'_>) -> rusqlite::Result<Listed> {
    let link: String = r.get(8)?;
    let at: i64 = r.get(3)?;
    Ok(Listed {
        id: r.get(0)?,
        topic: r.get(1)?,
        kind: Kind::from_code(r.get(2)?).unwrap_or(Kind::Web),
        at: time(at),
        at_secs: at,
        source: r.get(4)?,
        domain: r.get(5)?,
        author: r.get(6)?,
        title: r.get(7)?,
        url: if link.starts_with(crate::identify::TEXT_IDENTITY_PREFIX) {
            String::new()
        } else {
            link
        },
        excerpt: r.get(9)?,
        lang: r.get(10)?,
        sightings: r.get::<_, Option<i64>>(11)?.map(|n| n as u64),
        undated: r.get(12)?,
        excluded_by: r.get(13)?,
        identity: r.get(14)?,
    })
}

/// The sightings `explain` shows for `mention`, from its stored sighting
/// rows (oldest first), and how many retention pruned. `first_seen` is
/// asked only when no row records the first sighting.
pub(super) fn sightings_of<E>(
    mention: &Listed,
    rows: Vec<SightingRow>,
    first_seen: impl FnOnce() -> Result<i64, E>,
) -> Result<(Vec<Sighting>, u64), E> {
    let mut sightings: Vec<Sighting> = rows
        .into_iter()
        .filter_map(|(source, at, url, rule, detail)| {
            let rule = Rule::from_code(rule)?;
            let seen = url.unwrap_or_else(|| mention.identity.clone());
            let detail = match rule {
                Rule::First => None,
                Rule::Url => Some(format!("canonical URL {}", mention.identity)),
                Rule::Identity => Some(format!("platform identity {}", mention.identity)),
                Rule::Text => Some(format!(
                    "same text on {}: Hamming distance {}",
                    mention.domain.as_deref().unwrap_or("the same site"),
                    detail.unwrap_or(0)
                )),
                Rule::Headline => Some(format!(
                    "same headline from {}",
                    mention.domain.as_deref().unwrap_or("the publisher")
                )),
            };
            Some(Sighting {
                source,
                seen_at: time(at),
                url: seen,
                rule,
                detail,
            })
        })
        .collect();
    // The first sighting is the mention itself; retention may have
    // deleted its row, and mentions stored before sightings have none.
    if !sightings.iter().any(|s| s.rule == Rule::First) {
        let first_seen = first_seen()?;
        sightings.insert(
            0,
            Sighting {
                source: mention.source.clone(),
                seen_at: time(first_seen),
                url: if mention.url.is_empty() {
                    mention.identity.clone()
                } else {
                    mention.url.clone()
                },
                rule: Rule::First,
                detail: None,
            },
        );
    }
    let pruned = mention
        .sightings
        .map_or(0, |n| n.saturating_sub(sightings.len() as u64));
    Ok((sightings, pruned))
}

/// The forms of `url` (trimmed) a mention's identity may have — its
/// canonical form first, then as written — and the instance (lowercase
/// host) a platform link on it names.
pub(super) fn url_forms(url: &str) -> (Vec<String>, Option<String>) {
    let mut forms = vec![url.to_owned()];
    if let Some(c) = crate::canon::canonical_str(url, None) {
        forms.insert(0, c.to_string());
    }
    let instance = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_lowercase));
    (forms, instance)
}

impl ListFilter {
    /// The window, when the filter is by topic, window and kind only: the
    /// count tables answer how many it selects.
    pub(super) fn plain_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let plain = self.search.is_none()
            && self.sources.is_empty()
            && self.domains.is_empty()
            && !self.excluded;
        if !plain {
            return None;
        }
        DateTime::from_timestamp(self.from, 0).zip(DateTime::from_timestamp(self.to, 0))
    }

    /// Of a window's counts, those of the filter's kinds (every kind when none).
    pub(super) fn of_kinds(&self, c: &KindCounts) -> u64 {
        let of = |k: Kind| match k {
            Kind::Web => c.web,
            Kind::Social => c.social,
            Kind::Forum => c.forum,
        };
        let mut kinds = self.kinds.clone();
        kinds.sort_by_key(|k| k.code());
        kinds.dedup();
        if kinds.is_empty() {
            c.total()
        } else {
            kinds.into_iter().map(of).sum()
        }
    }

    /// The rows to read from (`m`) and the WHERE clause over them, without
    /// the cursor, with its parameters. With a domain filter the rows come
    /// from the domain indexes: a rare domain is found without reading the
    /// whole window, a common one sorts only its own rows.
    fn sql(&self, topic_id: i64) -> (String, String, Vec<(String, Value)>) {
        let mut clauses = vec![
            "m.topic_id = :topic".to_owned(),
            "m.at >= :from".to_owned(),
            "m.at < :to".to_owned(),
            if self.excluded {
                "m.excluded_by IS NOT NULL".to_owned()
            } else {
                "m.excluded_by IS NULL".to_owned()
            },
        ];
        let mut params: Vec<(String, Value)> = vec![
            (":topic".into(), topic_id.into()),
            (":from".into(), self.from.into()),
            (":to".into(), self.to.into()),
        ];
        if !self.kinds.is_empty() {
            let codes: Vec<String> = self.kinds.iter().map(|k| k.code().to_string()).collect();
            clauses.push(format!("m.kind IN ({})", codes.join(", ")));
        }
        if !self.sources.is_empty() {
            let names: Vec<String> = (0..self.sources.len()).map(|i| format!(":s{i}")).collect();
            clauses.push(format!(
                "m.source_id IN (SELECT id FROM source WHERE name IN ({}))",
                names.join(", ")
            ));
            for (i, name) in self.sources.iter().enumerate() {
                params.push((format!(":s{i}"), name.clone().into()));
            }
        }
        let from = if self.domains.is_empty() {
            "mention m".to_owned()
        } else {
            let mut forms = Vec::new();
            for (i, d) in self.domains.iter().enumerate() {
                forms.push(format!(":d{i}, 'www.' || :d{i}"));
                params.push((format!(":d{i}"), domain_key(d).into()));
            }
            let forms = forms.join(", ");
            let cols = "id, topic_id, at, kind, source_id, excluded_by";
            format!(
                "(SELECT {cols} FROM mention INDEXED BY mention_host_at WHERE host IN ({forms})
                  UNION ALL
                  SELECT {cols} FROM mention INDEXED BY mention_instance_at WHERE instance IN ({forms})) m"
            )
        };
        (from, clauses.join(" AND "), params)
    }
}

fn named(params: &[(String, Value)]) -> Vec<(&str, &dyn rusqlite::ToSql)> {
    params
        .iter()
        .map(|(k, v)| (k.as_str(), v as &dyn rusqlite::ToSql))
        .collect()
}

impl Store {
    fn topic_id(&self, topic: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM topic WHERE name = ?1", [topic], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Calls `each` with the mentions `filter` selects, newest first (ties:
    /// highest id first), at most `limit`; `each` returns false to stop.
    /// One read transaction: rows stored meanwhile are not seen.
    pub fn list(
        &self,
        filter: &ListFilter,
        limit: Option<usize>,
        each: &mut dyn FnMut(Listed) -> bool,
    ) -> Result<(), StoreError> {
        let Some(topic_id) = self.topic_id(&filter.topic)? else {
            return Ok(());
        };
        let tx = self.conn.unchecked_transaction()?;
        let (from, clause, params) = filter.sql(topic_id);
        let mut cursor = filter.after;
        let mut left = limit.unwrap_or(usize::MAX);
        // Without a search every row read is listed: one query does.
        let chunk = if filter.search.is_some() {
            CHUNK
        } else {
            left.min(i64::MAX as usize)
        };
        // Ids first (from an index), the listed fields for those only.
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                 SELECT m.id FROM {from}
                 WHERE {clause} AND (:after_at IS NULL OR (m.at, m.id) < (:after_at, :after_id))
                 ORDER BY m.at DESC, m.id DESC LIMIT :chunk
             ) k
             JOIN mention m ON m.id = k.id
             JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = m.source_id
             ORDER BY m.at DESC, m.id DESC"
        );
        let mut stmt = tx.prepare(&sql)?;
        while left > 0 {
            let mut all = params.clone();
            // The cursor's time bounds the index range: a page deep into a
            // long window starts where the last one ended instead of
            // skipping every row before it.
            if let Some((at, _)) = cursor {
                let upto = at.saturating_add(1).min(filter.to);
                for (name, value) in all.iter_mut() {
                    if name == ":to" {
                        *value = upto.into();
                    }
                }
            }
            all.push((":after_at".into(), cursor.map(|c| c.0).into()));
            all.push((":after_id".into(), cursor.map(|c| c.1).into()));
            all.push((":chunk".into(), (chunk as i64).into()));
            let named = named(&all);
            let mut rows = stmt.query(named.as_slice())?;
            let mut read = 0usize;
            while let Some(row) = rows.next()? {
                read += 1;
                let m = listed(row)?;
                cursor = Some((m.at_secs, m.id));
                if let Some(q) = &filter.search {
                    let normalized = crate::text::normalize(&format!("{}\n{}", m.title, m.excerpt));
                    let tokens: Vec<&str> = crate::text::token_slices(&normalized).collect();
                    if !q.matches(&tokens) {
                        continue;
                    }
                }
                left -= 1;
                if !each(m) || left == 0 {
                    return Ok(());
                }
            }
            if read < chunk {
                break;
            }
        }
        Ok(())
    }

    /// How many mentions `filter` selects (its cursor ignored).
    pub fn count_listed(&self, filter: &ListFilter) -> Result<u64, StoreError> {
        // Filtered by topic, window and kind only: the count tables know,
        // without reading every row of a long window.
        if let Some((from, to)) = filter.plain_window() {
            if from >= to {
                return Ok(0);
            }
            return Ok(filter.of_kinds(&self.counts(&filter.topic, from, to)?));
        }
        if filter.search.is_some() {
            let mut n = 0u64;
            let all = ListFilter {
                after: None,
                ..filter.clone()
            };
            self.list(&all, None, &mut |_| {
                n += 1;
                true
            })?;
            return Ok(n);
        }
        let Some(topic_id) = self.topic_id(&filter.topic)? else {
            return Ok(0);
        };
        let (from, clause, params) = filter.sql(topic_id);
        let sql = format!("SELECT count(*) FROM {from} WHERE {clause}");
        let named = named(&params);
        let n: i64 = self.conn.query_row(&sql, named.as_slice(), |r| r.get(0))?;
        Ok(n as u64)
    }

    /// One mention by id.
    pub fn mention(&self, id: i64) -> Result<Option<Listed>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM mention m
             JOIN topic t ON t.id = m.topic_id JOIN source s ON s.id = m.source_id
             WHERE m.id = ?1"
        );
        Ok(self.conn.query_row(&sql, [id], listed).optional()?)
    }

    /// The mentions (one per topic) whose identity is `url`'s canonical form
    /// or `url` itself (a platform identity), or, for a platform item, whose
    /// link is `url` (the link `list` shows, on the instance it names).
    pub fn mentions_at(&self, url: &str) -> Result<Vec<i64>, StoreError> {
        let url = url.trim();
        let (forms, instance) = url_forms(url);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM mention WHERE topic_id = ?1 AND identity = ?2")?;
        let mut by_link = self.conn.prepare_cached(
            "SELECT min(id) FROM mention WHERE instance = ?2 AND topic_id = ?1 AND url = ?3",
        )?;
        let topics: Vec<i64> = self
            .conn
            .prepare_cached("SELECT id FROM topic ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for topic in topics {
            let mut found: Option<i64> = None;
            for form in &forms {
                found = stmt.query_row((topic, form), |r| r.get(0)).optional()?;
                if found.is_some() {
                    break;
                }
            }
            if found.is_none() {
                if let Some(instance) = &instance {
                    found = by_link.query_row((topic, instance, url), |r| r.get(0))?;
                }
            }
            out.extend(found);
        }
        Ok(out)
    }

    /// The sources that evaluated an item with this identity (canonical URL
    /// or platform identity), and when first: what is known of an item that
    /// is not a mention.
    pub fn seen_by(&self, identity: &str) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let key = crate::identify::seen_key(identity) as i64;
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.name, seen.first_seen FROM source s
             JOIN seen ON seen.source_id = s.id AND seen.key = ?1
             ORDER BY seen.first_seen, s.name",
        )?;
        let rows = stmt
            .query_map([key], |r| Ok((r.get(0)?, time(r.get(1)?))))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// A mention and its sightings, oldest first.
    pub fn explain(&self, id: i64) -> Result<Option<Explained>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let Some(mention) = self.mention(id)? else {
            return Ok(None);
        };
        let mut stmt = tx.prepare_cached(
            "SELECT s.name, g.seen_at, g.url, g.rule, g.detail FROM sighting g
             JOIN source s ON s.id = g.source_id
             WHERE g.mention_id = ?1 ORDER BY g.seen_at, g.rule, s.name",
        )?;
        let rows: Vec<SightingRow> = stmt
            .query_map([id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let (sightings, pruned) = sightings_of(&mention, rows, || {
            tx.query_row("SELECT first_seen FROM mention WHERE id = ?1", [id], |r| {
                r.get(0)
            })
        })?;
        Ok(Some(Explained {
            mention,
            sightings,
            pruned,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counts::exact::assert_counts_exact;
    use crate::store::{CrawlBatch, ExcludeTarget, NewMention};

    const T0: i64 = 1_764_000_000; // 2025-11-24 16:00 UTC

    fn web(topic: &str, seen: &str, canonical: &str, simhash: u64, at: i64) -> NewMention {
        let host = url::Url::parse(canonical)
            .unwrap()
            .host_str()
            .unwrap()
            .to_owned();
        NewMention {
            topic: topic.into(),
            kind: Kind::Web,
            identity: canonical.into(),
            url: None,
            host: Some(host),
            title: format!("Nordkorea {canonical}"),
            excerpt: "Truppen in Kursk".into(),
            author: None,
            lang: Some("de".into()),
            published: Some(time(at)),
            simhash,
            seen: (seen != canonical).then(|| seen.to_owned()),
        }
    }

    fn toot(topic: &str, uri: &str, link: &str, author: &str, at: i64) -> NewMention {
        NewMention {
            topic: topic.into(),
            kind: Kind::Social,
            identity: uri.into(),
            url: Some(link.into()),
            host: None,
            title: "Toot".into(),
            excerpt: "Nordkorea".into(),
            author: Some(author.into()),
            lang: None,
            published: Some(time(at)),
            simhash: 7,
            seen: Some(link.into()),
        }
    }

    fn commit(store: &mut Store, source: &str, kind: Kind, now: i64, m: Vec<NewMention>) {
        let mut b = CrawlBatch::new(source, "feed", kind, time(now));
        b.mentions = m;
        store.commit(&b).unwrap();
    }

    fn all(store: &Store, filter: &ListFilter) -> Vec<Listed> {
        let mut out = Vec::new();
        store
            .list(filter, None, &mut |m| {
                out.push(m);
                true
            })
            .unwrap();
        out
    }

    fn window(topic: &str, from: i64, to: i64) -> ListFilter {
        ListFilter {
            topic: topic.into(),
            from,
            to,
            ..ListFilter::default()
        }
    }

    #[test]
    fn every_merge_is_a_sighting_with_its_rule_and_repolls_add_none() {
        let mut store = Store::open_in_memory().unwrap();
        let a = "https://www.zeit.de/politik/1?utm_source=rss";
        let canonical = "https://www.zeit.de/politik/1";
        commit(
            &mut store,
            "zeit",
            Kind::Web,
            T0,
            vec![web("nk", a, canonical, 0b1111, T0 - 60)],
        );
        // The same feed again, and again: no new sighting.
        for poll in 1..3 {
            commit(
                &mut store,
                "zeit",
                Kind::Web,
                T0 + poll * 900,
                vec![web("nk", a, canonical, 0b1111, T0 - 60)],
            );
        }
        // Another source, the canonical form: rule 1.
        commit(
            &mut store,
            "news-sitemap",
            Kind::Web,
            T0 + 3_000,
            vec![web("nk", canonical, canonical, 0b1111, T0 - 60)],
        );
        // A near copy on the same host: rule 3, two bits apart.
        commit(
            &mut store,
            "zeit-ticker",
            Kind::Web,
            T0 + 4_000,
            vec![web(
                "nk",
                "https://www.zeit.de/ticker/9",
                "https://www.zeit.de/ticker/9",
                0b1100,
                T0,
            )],
        );
        // A status seen through two instances: rule 2.
        let uri = "https://chaos.social/users/a/statuses/1";
        commit(
            &mut store,
            "chaos",
            Kind::Social,
            T0,
            vec![toot("nk", uri, "https://chaos.social/@a/1", "a", T0)],
        );
        commit(
            &mut store,
            "mastodon-social",
            Kind::Social,
            T0 + 60,
            vec![toot(
                "nk",
                uri,
                "https://mastodon.social/@a@chaos.social/1",
                "a",
                T0,
            )],
        );

        let listed = all(&store, &window("nk", T0 - 3_600, T0 + 3_600));
        assert_eq!(listed.len(), 2);
        let web_row = listed.iter().find(|m| m.kind == Kind::Web).unwrap();
        assert_eq!(web_row.sightings, Some(3));
        assert_eq!(web_row.domain.as_deref(), Some("www.zeit.de"));
        assert_eq!(web_row.url, canonical);
        let x = store.explain(web_row.id).unwrap().unwrap();
        let seen: Vec<(&str, &str, Rule, Option<&str>)> = x
            .sightings
            .iter()
            .map(|s| {
                (
                    s.source.as_str(),
                    s.url.as_str(),
                    s.rule,
                    s.detail.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("zeit", a, Rule::First, None),
                (
                    "news-sitemap",
                    canonical,
                    Rule::Url,
                    Some("canonical URL https://www.zeit.de/politik/1")
                ),
                (
                    "zeit-ticker",
                    "https://www.zeit.de/ticker/9",
                    Rule::Text,
                    Some("same text on www.zeit.de: Hamming distance 2")
                ),
            ]
        );
        assert_eq!(x.sightings[1].seen_at, time(T0 + 3_000));
        assert_eq!(x.pruned, 0);

        let social = listed.iter().find(|m| m.kind == Kind::Social).unwrap();
        assert_eq!(social.domain.as_deref(), Some("chaos.social"));
        let x = store.explain(social.id).unwrap().unwrap();
        assert_eq!(x.sightings.len(), 2);
        assert_eq!(x.sightings[1].rule, Rule::Identity);
        assert_eq!(
            x.sightings[1].url,
            "https://mastodon.social/@a@chaos.social/1"
        );
        assert_eq!(
            store
                .mentions_at("https://www.zeit.de/politik/1?utm_medium=x#top")
                .unwrap(),
            [web_row.id]
        );
        assert_eq!(store.mentions_at(uri).unwrap(), [social.id]);
        // The link `list` shows finds a platform mention too.
        assert_eq!(
            store.mentions_at(" https://chaos.social/@a/1 ").unwrap(),
            [social.id]
        );
        assert!(store
            .mentions_at("https://www.zeit.de/other")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn exclusions_move_counts_at_once_and_hold_for_later_items() {
        let mut store = Store::open_in_memory().unwrap();
        let spam = |i: i64| {
            web(
                "nk",
                &format!("https://www.spam.example/{i}"),
                &format!("https://www.spam.example/{i}"),
                fastrand::Rng::with_seed(i as u64).u64(..),
                T0 + i * 60,
            )
        };
        let good = |i: i64| {
            web(
                "nk",
                &format!("https://taz.de/{i}"),
                &format!("https://taz.de/{i}"),
                fastrand::Rng::with_seed(100 + i as u64).u64(..),
                T0 + i * 60,
            )
        };
        commit(
            &mut store,
            "feeds",
            Kind::Web,
            T0 + 7_200,
            (0..6).map(spam).chain((0..4).map(good)).collect(),
        );
        commit(
            &mut store,
            "feeds",
            Kind::Web,
            T0 + 7_200,
            vec![web(
                "other",
                "https://www.spam.example/0",
                "https://www.spam.example/0",
                1,
                T0,
            )],
        );
        commit(
            &mut store,
            "masto",
            Kind::Social,
            T0 + 7_200,
            vec![
                toot(
                    "nk",
                    "https://bot.example/s/1",
                    "https://bot.example/@bot/1",
                    "Bot",
                    T0,
                ),
                toot(
                    "nk",
                    "https://ok.example/s/2",
                    "https://ok.example/@ann/2",
                    "ann",
                    T0,
                ),
            ],
        );
        let day = (T0 - 86_400, T0 + 86_400);
        assert_eq!(
            store.counts("nk", time(day.0), time(day.1)).unwrap().web,
            10
        );

        // By domain, for one topic; `www.` is ignored.
        let change = store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "spam.example".into(),
                    topic: Some("nk".into()),
                },
                Some("link farm"),
                time(T0 + 8_000),
            )
            .unwrap()
            .unwrap();
        assert_eq!((change.changed, change.unchanged), (6, 0));
        assert_eq!(store.counts("nk", time(day.0), time(day.1)).unwrap().web, 4);
        assert_eq!(
            store.counts("other", time(day.0), time(day.1)).unwrap().web,
            1
        );
        assert_counts_exact(&store);
        let excluded = all(
            &store,
            &ListFilter {
                excluded: true,
                ..window("nk", day.0, day.1)
            },
        );
        assert_eq!(excluded.len(), 6);
        // A later item of the domain arrives excluded; a re-sighting does not resurrect.
        let mut b = CrawlBatch::new("feeds", "feed", Kind::Web, time(T0 + 9_000));
        b.mentions = vec![spam(7), spam(0)];
        let stats = store.commit(&b).unwrap();
        assert_eq!((stats.new, stats.duplicates, stats.excluded), (0, 1, 1));
        assert_eq!(store.counts("nk", time(day.0), time(day.1)).unwrap().web, 4);
        assert_counts_exact(&store);

        // By author within a source, and one mention by id.
        let change = store
            .exclude(
                &ExcludeTarget::Author {
                    author: "bot".into(),
                    source: "masto".into(),
                },
                None,
                time(T0 + 9_500),
            )
            .unwrap()
            .unwrap();
        assert_eq!(change.changed, 1);
        let taz = all(
            &store,
            &ListFilter {
                domains: vec!["taz.de".into()],
                ..window("nk", day.0, day.1)
            },
        );
        assert_eq!(taz.len(), 4);
        let change = store
            .exclude(
                &ExcludeTarget::Mentions(vec![taz[0].id, taz[0].id, 999_999]),
                Some("wrong Kursk"),
                time(T0 + 9_600),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (change.changed, change.unchanged, change.missing.clone()),
            (1, 1, vec![999_999])
        );
        let counts = store.counts("nk", time(day.0), time(day.1)).unwrap();
        assert_eq!((counts.web, counts.social), (3, 1));
        assert_counts_exact(&store);
        // Unknown names are errors, not empty rules.
        assert_eq!(
            store
                .exclude(
                    &ExcludeTarget::Author {
                        author: "x".into(),
                        source: "nope".into()
                    },
                    None,
                    time(T0)
                )
                .unwrap(),
            Err(RuleErrorAlias::UnknownSource("nope".into()))
        );

        let rules = store.exclusions().unwrap();
        let shown: Vec<(&str, u64)> = rules
            .iter()
            .map(|e| (e.what.as_str(), e.mentions))
            .collect();
        assert_eq!(shown, [("domain", 7), ("author", 1), ("mention", 1)]);
        assert_eq!(rules[0].reason.as_deref(), Some("link farm"));
        assert_eq!(rules[2].mention, Some(taz[0].id));

        // include undoes one mention; removing the rule undoes the rest.
        store.include(&[taz[0].id]).unwrap();
        assert_eq!(store.exclusions().unwrap().len(), 2);
        let change = store.remove_exclusion(rules[0].id).unwrap().unwrap();
        assert_eq!(change.changed, 7);
        let counts = store.counts("nk", time(day.0), time(day.1)).unwrap();
        assert_eq!((counts.web, counts.social), (11, 1));
        assert_counts_exact(&store);
    }

    use crate::store::RuleError as RuleErrorAlias;

    /// Exclusions change rows in chunks of ids (a few in tests): a domain
    /// of many chunks, through its host with and without `www.` and as a
    /// platform instance, mixed with mentions excluded one by one before.
    #[test]
    fn a_domain_of_many_chunks_mixed_with_excluded_mentions_counts_exactly() {
        let mut store = Store::open_in_memory().unwrap();
        let mut rng = fastrand::Rng::with_seed(5);
        let mut items = Vec::new();
        for i in 0..150 {
            let host = ["www.big.example", "big.example", "small.example"][i % 3];
            let topic = ["nk", "ru"][i % 2];
            let url = format!("https://{host}/{i}");
            let at = T0 - rng.i64(0..30 * 86_400);
            items.push(web(topic, &url, &url, rng.u64(..), at));
        }
        commit(&mut store, "feeds", Kind::Web, T0, items);
        let toots = (0..30)
            .map(|i| {
                let instance = ["big.example", "chaos.social"][i % 2];
                toot(
                    ["nk", "ru"][i % 2],
                    &format!("at://{instance}/{i}"),
                    &format!("https://{instance}/@a/{i}"),
                    "a",
                    T0 - rng.i64(0..30 * 86_400),
                )
            })
            .collect();
        commit(&mut store, "masto", Kind::Social, T0, toots);
        let rows = |store: &Store, topic: &str, excluded: bool| {
            all(
                store,
                &ListFilter {
                    excluded,
                    ..window(topic, T0 - 40 * 86_400, T0 + 1)
                },
            )
        };
        let big =
            |m: &Listed| m.domain.as_deref().map(domain_key).as_deref() == Some("big.example");
        let big_ids: Vec<i64> = ["nk", "ru"]
            .iter()
            .flat_map(|t| rows(&store, t, false))
            .filter(big)
            .map(|m| m.id)
            .collect();
        // 100 web mentions of the domain and 15 toots of its instance.
        assert_eq!(big_ids.len(), 115);
        let small_id = rows(&store, "nk", false)
            .iter()
            .find(|m| !big(m))
            .unwrap()
            .id;

        // Some of the domain's mentions, and one other, excluded one by one.
        let mut singles: Vec<i64> = big_ids.iter().step_by(9).copied().collect();
        singles.push(small_id);
        let change = store
            .exclude(&ExcludeTarget::Mentions(singles.clone()), None, time(T0))
            .unwrap()
            .unwrap();
        assert_eq!(change.changed, singles.len() as u64);
        assert_counts_exact(&store);

        let change = store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "www.big.example".into(),
                    topic: None,
                },
                None,
                time(T0),
            )
            .unwrap()
            .unwrap();
        let rule = change.rule.unwrap();
        let before = (singles.len() - 1) as u64;
        assert_eq!((change.changed, change.unchanged), (115 - before, before));
        assert_counts_exact(&store);
        let excluded: Vec<Listed> = ["nk", "ru"]
            .iter()
            .flat_map(|t| rows(&store, t, true))
            .collect();
        assert_eq!(excluded.len(), 116);
        assert_eq!(
            excluded
                .iter()
                .filter(|m| m.excluded_by == Some(rule))
                .count() as u64,
            115 - before
        );
        assert!(["nk", "ru"]
            .iter()
            .flat_map(|t| rows(&store, t, false))
            .all(|m| !big(&m)));
        // The same rule again changes nothing.
        let again = store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "big.example".into(),
                    topic: None,
                },
                None,
                time(T0),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (again.changed, again.unchanged, again.rule),
            (0, 115, Some(rule))
        );

        // Seen again later: still excluded, and counted nowhere.
        let first = excluded
            .iter()
            .find(|m| m.excluded_by == Some(rule))
            .unwrap();
        let mut b = CrawlBatch::new("other", "feed", Kind::Web, time(T0 + 60));
        b.mentions = vec![web(
            &first.topic,
            &first.identity,
            &first.identity,
            1,
            T0 - 60,
        )];
        assert_eq!(store.commit(&b).unwrap().duplicates, 1);
        assert_counts_exact(&store);

        // include takes one of each kind; dropping the rule the rest of it.
        let change = store
            .include(&[singles[0], first.id, first.id, 999_999])
            .unwrap();
        assert_eq!(
            (change.changed, change.unchanged, change.missing),
            (2, 1, vec![999_999])
        );
        assert_counts_exact(&store);
        let change = store.remove_exclusion(rule).unwrap().unwrap();
        assert_eq!((change.changed, change.unchanged), (115 - before - 1, 0));
        assert_counts_exact(&store);
        let still: Vec<i64> = ["nk", "ru"]
            .iter()
            .flat_map(|t| rows(&store, t, true))
            .map(|m| m.id)
            .collect();
        assert_eq!(still.len(), singles.len() - 1);
        assert!(still.iter().all(|id| singles[1..].contains(id)));

        // A rule for one topic leaves the other's mentions counting.
        let change = store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "big.example".into(),
                    topic: Some("ru".into()),
                },
                None,
                time(T0),
            )
            .unwrap()
            .unwrap();
        let ru_big = rows(&store, "ru", false).iter().filter(|m| big(m)).count();
        assert_eq!(ru_big, 0);
        assert!(change.changed > 16 && rows(&store, "nk", false).iter().any(big));
        assert_counts_exact(&store);
    }

    #[test]
    fn authors_compare_by_unicode_case_and_rules_hold_before_a_topic_has_mentions() {
        let mut store = Store::open_in_memory().unwrap();
        commit(
            &mut store,
            "masto",
            Kind::Social,
            T0,
            vec![
                toot(
                    "nk",
                    "https://x.example/s/1",
                    "https://x.example/@ä/1",
                    "ÄRGER-Bot",
                    T0,
                ),
                toot(
                    "nk",
                    "https://x.example/s/2",
                    "https://x.example/@ä/2",
                    " ärger-bot ",
                    T0,
                ),
                toot(
                    "nk",
                    "https://x.example/s/3",
                    "https://x.example/@b/3",
                    "Ärgerlich",
                    T0,
                ),
            ],
        );
        let change = store
            .exclude(
                &ExcludeTarget::Author {
                    author: "Ärger-BOT".into(),
                    source: "masto".into(),
                },
                None,
                time(T0 + 60),
            )
            .unwrap()
            .unwrap();
        assert_eq!((change.changed, change.unchanged), (2, 0));
        // The same rule, spelled otherwise: no second rule.
        let again = store
            .exclude(
                &ExcludeTarget::Author {
                    author: "ärger-bot".into(),
                    source: "masto".into(),
                },
                Some("bot"),
                time(T0 + 60),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (again.changed, again.unchanged, again.rule),
            (0, 2, change.rule)
        );
        assert_eq!(store.exclusions().unwrap().len(), 1);
        // A later status of the author arrives excluded, whatever its case.
        let mut b = CrawlBatch::new("masto", "mastodon", Kind::Social, time(T0 + 120));
        b.mentions = vec![toot(
            "nk",
            "https://x.example/s/4",
            "https://x.example/@ä/4",
            "ärger-BOT",
            T0,
        )];
        assert_eq!(store.commit(&b).unwrap().excluded, 1);
        assert_eq!(
            store
                .counts("nk", time(T0 - 60), time(T0 + 60))
                .unwrap()
                .social,
            1
        );
        assert_counts_exact(&store);

        // A domain rule for a topic that has stored nothing yet holds for its first items.
        let rule = store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "www.spam.example".into(),
                    topic: Some("later".into()),
                },
                None,
                time(T0),
            )
            .unwrap()
            .unwrap();
        assert_eq!(rule.changed, 0);
        let url = "https://spam.example/1";
        commit(
            &mut store,
            "feeds",
            Kind::Web,
            T0 + 200,
            vec![web("later", url, url, 1, T0)],
        );
        assert_eq!(
            store
                .counts("later", time(T0 - 60), time(T0 + 60))
                .unwrap()
                .web,
            0
        );
        let excluded = all(
            &store,
            &ListFilter {
                excluded: true,
                ..window("later", T0 - 60, T0 + 60)
            },
        );
        assert_eq!(excluded.len(), 1);
        assert_eq!(excluded[0].excluded_by, rule.rule);
    }

    #[test]
    fn rows_per_kind_equal_the_counts_for_any_window_and_pages_are_stable() {
        let mut store = Store::open_in_memory().unwrap();
        let mut rng = fastrand::Rng::with_seed(11);
        for crawl in 0..8 {
            let now = T0 + crawl * 40_000;
            let mut web_items = Vec::new();
            let mut social = Vec::new();
            for i in 0..60 {
                let at = now - rng.i64(0..200_000);
                let host = format!("h{}.example", rng.u8(0..4));
                let id = format!("https://{host}/{crawl}/{i}");
                web_items.push(web("nk", &id, &id, rng.u64(..), at));
                social.push(toot(
                    "nk",
                    &format!("at://p/{crawl}/{i}"),
                    &format!("https://bsky.app/p/{crawl}/{i}"),
                    "a",
                    at,
                ));
            }
            commit(&mut store, "web", Kind::Web, now, web_items);
            commit(&mut store, "bsky", Kind::Social, now, social);
        }
        let ids: Vec<i64> = all(&store, &window("nk", 0, i64::MAX / 2))
            .iter()
            .step_by(7)
            .map(|m| m.id)
            .collect();
        store
            .exclude(&ExcludeTarget::Mentions(ids), None, time(T0))
            .unwrap()
            .unwrap();
        store
            .exclude(
                &ExcludeTarget::Domain {
                    domain: "h3.example".into(),
                    topic: None,
                },
                None,
                time(T0),
            )
            .unwrap()
            .unwrap();
        for _ in 0..40 {
            let from = T0 - 250_000 + rng.i64(0..400_000);
            let to = from + rng.i64(1..300_000);
            let counts = store.counts("nk", time(from), time(to)).unwrap();
            let rows = all(&store, &window("nk", from, to));
            let per = |k: Kind| rows.iter().filter(|m| m.kind == k).count() as u64;
            assert_eq!(
                (per(Kind::Web), per(Kind::Social), per(Kind::Forum)),
                (counts.web, counts.social, counts.forum),
                "window {from}..{to}"
            );
            assert_eq!(
                store.count_listed(&window("nk", from, to)).unwrap(),
                counts.total()
            );
            // The count tables answer plain filters; rows answer the others.
            for kinds in [vec![Kind::Social], vec![Kind::Web, Kind::Forum]] {
                let f = ListFilter {
                    kinds: kinds.clone(),
                    ..window("nk", from, to)
                };
                let direct = rows.iter().filter(|m| kinds.contains(&m.kind)).count();
                assert_eq!(store.count_listed(&f).unwrap(), direct as u64);
            }
            let f = ListFilter {
                sources: vec!["web".into()],
                ..window("nk", from, to)
            };
            assert_eq!(store.count_listed(&f).unwrap(), per(Kind::Web));
            assert!(rows
                .windows(2)
                .all(|w| (w[0].at_secs, w[0].id) > (w[1].at_secs, w[1].id)));
        }

        // Keyset pages: rows stored between pages do not shift them.
        let filter = window("nk", T0 - 300_000, T0 + 400_000);
        let before = all(&store, &filter);
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let mut page = Vec::new();
            store
                .list(
                    &ListFilter {
                        after,
                        ..filter.clone()
                    },
                    Some(25),
                    &mut |m| {
                        page.push(m);
                        true
                    },
                )
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|m| (m.at_secs, m.id));
            paged.extend(page);
            // A crawl adds newer and older rows meanwhile.
            let n = paged.len() as i64;
            let id = format!("https://h0.example/late/{n}");
            commit(
                &mut store,
                "web",
                Kind::Web,
                T0 + 400_000,
                vec![web("nk", &id, &id, rng.u64(..), T0 + 350_000 - n * 1_000)],
            );
        }
        let late: Vec<i64> = paged
            .iter()
            .filter(|m| m.url.contains("/late/"))
            .map(|m| m.id)
            .collect();
        let old: Vec<i64> = paged
            .iter()
            .filter(|m| !m.url.contains("/late/"))
            .map(|m| m.id)
            .collect();
        assert_eq!(old, before.iter().map(|m| m.id).collect::<Vec<_>>());
        // Late rows older than the cursor appear once each; none twice.
        let mut ids: Vec<i64> = paged.iter().map(|m| m.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), paged.len());
        assert!(late.len() < paged.len());

        // Filters: kind, source, domain, search.
        let f = |f: ListFilter| all(&store, &f).len();
        let base = window("nk", T0 - 300_000, T0 + 400_000);
        let web_n = f(ListFilter {
            kinds: vec![Kind::Web],
            ..base.clone()
        });
        let src_n = f(ListFilter {
            sources: vec!["web".into()],
            ..base.clone()
        });
        assert_eq!(web_n, src_n);
        let h0 = f(ListFilter {
            domains: vec!["h0.example".into()],
            ..base.clone()
        });
        let h0_direct = all(&store, &base)
            .iter()
            .filter(|m| m.domain.as_deref() == Some("h0.example"))
            .count();
        assert_eq!(h0, h0_direct);
        // `www.` or not, and a platform's instance, as `exclude --domain`.
        assert_eq!(
            f(ListFilter {
                domains: vec!["www.h0.example".into()],
                ..base.clone()
            }),
            h0
        );
        let social_n = f(ListFilter {
            kinds: vec![Kind::Social],
            ..base.clone()
        });
        assert_eq!(
            f(ListFilter {
                domains: vec!["bsky.app".into(), "h0.example".into()],
                ..base.clone()
            }),
            social_n + h0
        );
        assert_eq!(
            store
                .count_listed(&ListFilter {
                    domains: vec!["bsky.app".into()],
                    ..base.clone()
                })
                .unwrap(),
            social_n as u64
        );
        let search = Query::parse("toot").unwrap();
        assert_eq!(
            f(ListFilter {
                search: Some(search),
                ..base.clone()
            }),
            f(ListFilter {
                kinds: vec![Kind::Social],
                ..base.clone()
            })
        );
        let mut limited = 0;
        store
            .list(
                &ListFilter {
                    search: Some(Query::parse("toot").unwrap()),
                    ..base.clone()
                },
                Some(3),
                &mut |_| {
                    limited += 1;
                    true
                },
            )
            .unwrap();
        assert_eq!(limited, 3);
    }
}
