//! Rule 4 of counting: the same headline from the same publisher. An item
//! of a news search (`googlenews`, `gdelt`) and a web item whose hosts are
//! the same publisher (`www.` ignored) and whose normalised titles are
//! equal, dated within 72 hours of each other, are one mention, whichever
//! was stored first. Every mention with a host and a title has a row in
//! `headline` under a key of publisher and title, so a new item finds its
//! match with one index lookup.

use rusqlite::functions::FunctionFlags;
use rusqlite::{CachedStatement, Connection, Transaction};

/// How far apart in time a headline's two sightings may be.
pub const WINDOW_SECS: i64 = 72 * 3600;

/// The publisher a host stands for: lower case, without a leading `www.`.
pub fn publisher(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => host,
    }
}

/// The key of a headline: XXH3 of the publisher and the title's tokens
/// (normalised as the query matcher sees them, so case, `ß`/`ss`, quotes
/// and dashes do not tell two headlines apart). None for a title without
/// a word in it.
pub fn key(host: &str, title: &str) -> Option<i64> {
    let normalized = crate::text::normalize(title);
    let publisher = publisher(host);
    // The key's text is at most the publisher, a newline and the title.
    let mut text = String::with_capacity(publisher.len() + 1 + normalized.len());
    text.push_str(&publisher);
    text.push('\n');
    let mut words = 0;
    for token in crate::text::token_slices(&normalized) {
        if words > 0 {
            text.push(' ');
        }
        text.push_str(token);
        words += 1;
    }
    (words > 0).then(|| xxhash_rust::xxh3::xxh3_64(text.as_bytes()) as i64)
}

/// Makes `mentions_headline_key(host, title)` available to SQL on `conn`,
/// for the migration that fills `headline` from the mentions stored before.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "mentions_headline_key",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let host: Option<String> = ctx.get(0)?;
            let title: Option<String> = ctx.get(1)?;
            Ok(match (host, title) {
                (Some(host), Some(title)) => key(&host, &title),
                _ => None,
            })
        },
    )
}

/// Rule 4's lookup: a key's headlines within the window of a time.
const FIND: &str = "SELECT mention_id, at, news FROM headline
                    WHERE topic_id = ?1 AND key = ?2 AND at BETWEEN ?3 AND ?4";

/// Rule 4's two statements on the write path, prepared once per crawl.
pub(super) struct Headlines<'t> {
    find: CachedStatement<'t>,
    add: CachedStatement<'t>,
}

impl<'t> Headlines<'t> {
    pub fn prepare(tx: &'t Transaction<'_>) -> rusqlite::Result<Headlines<'t>> {
        Ok(Headlines {
            find: tx.prepare_cached(FIND)?,
            add: tx.prepare_cached(
                "INSERT OR IGNORE INTO headline (topic_id, key, at, news, mention_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
        })
    }

    /// The stored mention an item with this headline key and time is one
    /// with: for a news item any mention, for a web item one a news search
    /// stored; the nearest in time within the window.
    pub fn find(
        &mut self,
        topic_id: i64,
        key: i64,
        at: i64,
        news: bool,
    ) -> rusqlite::Result<Option<i64>> {
        // The rows of a key are ordered by time: only the window is read (see
        // the test `the_lookup_reads_the_window_and_is_planned_once`).
        let mut rows = self.find.query((
            topic_id,
            key,
            at.saturating_sub(WINDOW_SECS),
            at.saturating_add(WINDOW_SECS),
        ))?;
        let mut stored = Vec::new();
        while let Some(row) = rows.next()? {
            stored.push((row.get(0)?, row.get(1)?, row.get(2)?));
        }
        Ok(nearest(stored, at, news))
    }

    /// Records a new mention's headline.
    pub fn add(
        &mut self,
        topic_id: i64,
        key: i64,
        at: i64,
        news: bool,
        mention_id: i64,
    ) -> rusqlite::Result<()> {
        self.add.execute((topic_id, key, at, news, mention_id))?;
        Ok(())
    }
}

/// Of a key's stored headlines (mention, time, stored by a news search),
/// the one an item at `at` is one with: for a news item any, for a web
/// item one a news search stored; the nearest in time within the window,
/// the lowest mention id on a tie. Shared by the SQLite and PostgreSQL
/// write paths.
pub(super) fn nearest(
    stored: impl IntoIterator<Item = (i64, i64, bool)>,
    at: i64,
    news: bool,
) -> Option<i64> {
    let mut best: Option<(i64, i64)> = None;
    for (id, stored_at, stored_news) in stored {
        let apart = (stored_at - at).abs();
        if apart > WINDOW_SECS || !(news || stored_news) {
            continue;
        }
        if best.is_none_or(|(d, best_id)| (apart, id) < (d, best_id)) {
            best = Some((apart, id));
        }
    }
    best.map(|(_, id)| id)
}

/// Forgets a deleted mention's headline (`at`: the mention's time).
pub(super) fn remove(
    tx: &Transaction<'_>,
    topic_id: i64,
    host: &str,
    title: &str,
    at: i64,
    mention_id: i64,
) -> rusqlite::Result<()> {
    if let Some(key) = key(host, title) {
        tx.prepare_cached(
            "DELETE FROM headline WHERE topic_id = ?1 AND key = ?2 AND at = ?3 AND mention_id = ?4",
        )?
        .execute((topic_id, key, at, mention_id))?;
    }
    Ok(())
}

/// Test support: `headline` checked against the mentions it indexes.
#[cfg(test)]
pub(crate) mod exact {
    use crate::store::Store;

    /// Every mention with a host and a worded title has its headline row,
    /// and every row its mention.
    pub(crate) fn assert_headlines_exact(store: &Store) {
        let direct = "SELECT m.topic_id, mentions_headline_key(m.host, m.title) AS k, m.at,
                    s.type IN ('googlenews', 'gdelt'), m.id
             FROM mention m JOIN source s ON s.id = m.source_id
             WHERE m.host IS NOT NULL AND k IS NOT NULL";
        let stored = "SELECT topic_id, key, at, news, mention_id FROM headline";
        for (a, b) in [(stored, direct), (direct, stored)] {
            let differ: i64 = store
                .conn
                .query_row(&format!("SELECT count(*) FROM ({a} EXCEPT {b})"), [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(differ, 0, "{a}\n  has rows not in\n{b}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::exact::assert_headlines_exact;
    use super::*;
    use crate::sources::Kind;
    use crate::store::counts::exact::assert_counts_exact;
    use crate::store::{CommitStats, CrawlBatch, NewMention, Rule, Store};
    use chrono::{DateTime, TimeZone, Utc};

    const T0: i64 = 1_795_000_000; // 2026-11-18 09:46:40 UTC

    fn time(t: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(t, 0).unwrap()
    }

    #[test]
    fn the_lookup_reads_the_window_and_is_planned_once() {
        let mut store = Store::open_in_memory().unwrap();
        // One title of one publisher on every day of three years.
        let days: Vec<NewMention> = (0..1_000)
            .map(|d| article("www.x.org", &format!("/d{d}"), "Der Tag", T0 + d * 86_400))
            .collect();
        let mut batch = CrawlBatch::new("x", "feed", Kind::Web, time(T0 + 2_000 * 86_400));
        batch.mentions = days;
        assert_eq!(store.commit(&batch).unwrap().new, 1_000);
        let k = key("x.org", "Der Tag").unwrap();
        let tx = store.conn.transaction().unwrap();
        let topic: i64 = tx
            .query_row("SELECT id FROM topic WHERE name = 'nk'", [], |r| r.get(0))
            .unwrap();
        let first: i64 = tx
            .query_row("SELECT min(id) FROM mention", [], |r| r.get(0))
            .unwrap();
        let mut headlines = Headlines::prepare(&tx).unwrap();
        for d in [0, 1, 500, 999] {
            // The nearest, not merely one within 72 hours.
            let at = T0 + d * 86_400 + 3_600;
            assert_eq!(headlines.find(topic, k, at, true).unwrap(), Some(first + d));
        }
        assert_eq!(
            headlines.find(topic, k, T0 + 1_004 * 86_400, true).unwrap(),
            None
        );
        drop(headlines);
        let window = tx
            .prepare_cached(FIND)
            .unwrap()
            .query_map((topic, k, T0 - WINDOW_SECS, T0 + WINDOW_SECS), |r| {
                r.get::<_, i64>(1)
            })
            .unwrap()
            .count();
        assert_eq!(window, 4, "days 0 to 3 are within 72 hours of day 0");
        // Planned once, not again for every time bound to it: mentions
        // gathers no statistics (ANALYZE), and without them SQLite's STAT4
        // does not look at a range's bound values (after an ANALYZE it
        // would, and re-prepare every lookup: the same answers, slower).
        let stmt = tx.prepare_cached(FIND).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    /// A publisher's own article as its feed gives it.
    fn article(host: &str, path: &str, title: &str, at: i64) -> NewMention {
        let url = format!("https://{host}{path}");
        NewMention {
            topic: "nk".into(),
            kind: Kind::Web,
            identity: url,
            url: None,
            host: Some(host.into()),
            title: title.into(),
            excerpt: "Pjöngjang bestätigt die Verlegung weiterer Soldaten.".into(),
            author: None,
            lang: Some("de".into()),
            published: Some(time(at)),
            // Far apart for different paths: rule 3 stays out of the way.
            simhash: xxhash_rust::xxh3::xxh3_64(path.as_bytes()),
            seen: None,
        }
    }

    /// A Google News item: an opaque link, the publisher's host, the title alone.
    fn google(token: &str, publisher: &str, title: &str, at: i64) -> NewMention {
        let link = format!("https://news.google.com/rss/articles/{token}?oc=5");
        NewMention {
            identity: link,
            host: Some(publisher.into()),
            excerpt: String::new(),
            simhash: xxhash_rust::xxh3::xxh3_64(token.as_bytes()),
            ..article(publisher, "/", title, at)
        }
    }

    fn commit(
        store: &mut Store,
        source: &str,
        source_type: &str,
        m: Vec<NewMention>,
    ) -> CommitStats {
        // Crawled well after every date used here (a later date is read as now).
        let mut b = CrawlBatch::new(source, source_type, Kind::Web, time(T0 + 10 * 86_400));
        b.mentions = m;
        store.commit(&b).unwrap()
    }

    fn q(store: &Store, sql: &str) -> i64 {
        store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    const ONE: CommitStats = CommitStats {
        new: 1,
        duplicates: 0,
        excluded: 0,
    };
    const MERGED: CommitStats = CommitStats {
        new: 0,
        duplicates: 1,
        excluded: 0,
    };

    /// The one mention's host, identity and the rules of its sightings.
    fn merged(store: &Store) -> (String, String, Vec<Rule>) {
        let (id, host, identity): (i64, String, String) = store
            .conn
            .query_row("SELECT id, host, identity FROM mention", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        let explained = store.explain(id).unwrap().unwrap();
        let rules = explained.sightings.iter().map(|s| s.rule).collect();
        (host, identity, rules)
    }

    #[test]
    fn the_publishers_feed_first_then_google_news() {
        let mut store = Store::open_in_memory().unwrap();
        let title = "Nordkorea schickt weitere Soldaten nach Russland";
        let own = article("www.sueddeutsche.de", "/politik/soldaten-1.712", title, T0);
        assert_eq!(commit(&mut store, "sz", "feed", vec![own]), ONE);
        // Google News dates it 40 minutes later and writes its quotes its own way.
        let found = google(
            "CBMiX2h0",
            "www.sueddeutsche.de",
            "NORDKOREA schickt weitere Soldaten nach Russland",
            T0 + 2400,
        );
        assert_eq!(
            commit(&mut store, "google-news", "googlenews", vec![found.clone()]),
            MERGED
        );
        // Polled again: no new sighting.
        assert_eq!(
            commit(&mut store, "google-news", "googlenews", vec![found]),
            MERGED
        );
        assert_eq!(q(&store, "SELECT count(*) FROM mention"), 1);
        let (host, identity, rules) = merged(&store);
        assert_eq!(host, "www.sueddeutsche.de");
        assert_eq!(
            identity,
            "https://www.sueddeutsche.de/politik/soldaten-1.712"
        );
        assert_eq!(rules, [Rule::First, Rule::Headline]);
        let explained = store.explain(1).unwrap().unwrap();
        assert_eq!(explained.sightings[1].source, "google-news");
        assert_eq!(
            explained.sightings[1].url,
            "https://news.google.com/rss/articles/CBMiX2h0?oc=5"
        );
        assert_eq!(
            explained.sightings[1].detail.as_deref(),
            Some("same headline from www.sueddeutsche.de")
        );
        assert_counts_exact(&store);
        assert_headlines_exact(&store);
    }

    #[test]
    fn google_news_first_then_the_publishers_feed() {
        let mut store = Store::open_in_memory().unwrap();
        let title = "Nordkorea schickt weitere Soldaten nach Russland";
        // Google News names the publisher without `www.`; its feed with.
        let found = google("CBMiX2h0", "sueddeutsche.de", title, T0);
        assert_eq!(
            commit(&mut store, "google-news", "googlenews", vec![found]),
            ONE
        );
        let own = article(
            "www.sueddeutsche.de",
            "/politik/soldaten-1.712",
            title,
            T0 - 3600,
        );
        assert_eq!(commit(&mut store, "sz", "feed", vec![own]), MERGED);
        let (host, identity, rules) = merged(&store);
        // The publisher counts for the references either way.
        assert_eq!(host, "sueddeutsche.de");
        assert_eq!(
            identity,
            "https://news.google.com/rss/articles/CBMiX2h0?oc=5"
        );
        assert_eq!(rules, [Rule::First, Rule::Headline]);
        let refs = store
            .references("nk", time(T0 - 86_400), time(T0 + 86_400), 3)
            .unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].domain.as_str(), refs[0].mentions),
            ("sueddeutsche.de", 1)
        );
        assert_counts_exact(&store);
        assert_headlines_exact(&store);
    }

    #[test]
    fn only_the_same_publisher_the_same_headline_within_72_hours() {
        let mut store = Store::open_in_memory().unwrap();
        let title = "Nordkorea schickt weitere Soldaten nach Russland";
        commit(
            &mut store,
            "feeds",
            "feed",
            vec![
                article("www.sueddeutsche.de", "/a", title, T0),
                // The same headline on another site is another publication.
                article("www.merkur.de", "/a", title, T0),
                // Two articles of one site with one headline stay two: rule 4
                // ties a news search's item to an article, not articles to each other.
                article("www.sueddeutsche.de", "/b", title, T0 + 600),
            ],
        );
        assert_eq!(q(&store, "SELECT count(*) FROM mention"), 3);
        let stats = commit(
            &mut store,
            "google-news",
            "googlenews",
            vec![
                // More than 72 hours after the article: a new mention.
                google("late", "www.sueddeutsche.de", title, T0 + WINDOW_SECS + 601),
                // Another headline from the publisher.
                google(
                    "other",
                    "www.sueddeutsche.de",
                    "Nordkorea schickt Soldaten",
                    T0,
                ),
                // Within 72 hours of both articles: merged into the nearer (/b).
                google("near", "www.sueddeutsche.de", title, T0 + 1000),
            ],
        );
        assert_eq!(
            stats,
            CommitStats {
                new: 2,
                duplicates: 1,
                excluded: 0
            }
        );
        let rule4: i64 = q(
            &store,
            "SELECT mention_id FROM sighting WHERE rule = 4 AND url LIKE '%/near?%'",
        );
        let b: i64 = q(
            &store,
            "SELECT id FROM mention WHERE identity = 'https://www.sueddeutsche.de/b'",
        );
        assert_eq!(rule4, b);
        // A news search's items are tied to each other too (GDELT and Google
        // News naming one article); the late item has no partner but itself.
        let gdelt = NewMention {
            identity: "https://www.sueddeutsche.de/c".into(),
            ..article(
                "www.sueddeutsche.de",
                "/c",
                "Nordkorea schickt Soldaten",
                T0 + 60,
            )
        };
        assert_eq!(commit(&mut store, "gdelt", "gdelt", vec![gdelt]), MERGED);
        assert_eq!(q(&store, "SELECT count(*) FROM mention"), 5);
        assert_counts_exact(&store);
        assert_headlines_exact(&store);
    }

    #[test]
    fn the_migration_indexes_recent_mentions_stored_before() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc::now().timestamp();
        let mut stored = CrawlBatch::new("sz", "feed", Kind::Web, Utc::now());
        stored.mentions = vec![
            article(
                "www.sueddeutsche.de",
                "/neu",
                "Nordkorea und Russland",
                now - 86_400,
            ),
            article(
                "www.sueddeutsche.de",
                "/alt",
                "Nordkorea und Russland",
                now - 200 * 86_400,
            ),
            article("www.sueddeutsche.de", "/leer", " – ", now - 86_400),
        ];
        store.commit(&stored).unwrap();
        // As a database before this migration: no headlines yet.
        store.conn.execute("DELETE FROM headline", []).unwrap();
        let sql = crate::store::MIGRATIONS
            .iter()
            .find(|m| m.1 == "0008_headlines.sql")
            .unwrap()
            .2;
        store
            .conn
            .execute_batch(&sql.replace(
                "CREATE TABLE headline",
                "CREATE TABLE IF NOT EXISTS headline",
            ))
            .unwrap();
        let indexed: Vec<String> = store
            .conn
            .prepare("SELECT m.identity FROM headline h JOIN mention m ON m.id = h.mention_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexed, ["https://www.sueddeutsche.de/neu"]);
        let found = google(
            "x",
            "sueddeutsche.de",
            "Nordkorea und Russland",
            now - 80_000,
        );
        let mut b = CrawlBatch::new("google-news", "googlenews", Kind::Web, Utc::now());
        b.mentions = vec![found];
        assert_eq!(store.commit(&b).unwrap(), MERGED);
    }

    #[test]
    fn publishers_ignore_www_and_case() {
        assert_eq!(publisher("www.Sueddeutsche.de"), "sueddeutsche.de");
        assert_eq!(publisher("sueddeutsche.de."), "sueddeutsche.de");
        assert_eq!(publisher("www2.merkur.de"), "www2.merkur.de");
        assert_eq!(publisher("www."), "www");
    }

    #[test]
    fn headlines_are_equal_as_the_matcher_sees_them() {
        let a = key(
            "www.sueddeutsche.de",
            "Nordkorea: „Wir schicken keine Soldaten“ – Kim",
        );
        assert!(a.is_some());
        assert_eq!(
            a,
            key(
                "sueddeutsche.de",
                "NORDKOREA: \"Wir schicken keine Soldaten\" - Kim"
            )
        );
        assert_eq!(
            key("www.merkur.de", "Fußball-WM ohne Russland"),
            key("merkur.de", "fussball wm ohne russland")
        );
        // Another publisher, another word: another headline.
        assert_ne!(
            a,
            key(
                "www.tagesschau.de",
                "Nordkorea: Wir schicken keine Soldaten - Kim"
            )
        );
        assert_ne!(
            a,
            key(
                "www.sueddeutsche.de",
                "Nordkorea: Wir schicken keine Soldaten"
            )
        );
        assert_eq!(key("www.merkur.de", " – "), None);
    }
}
