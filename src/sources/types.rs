//! Every source `type` a config may name, described once: its name, the keys
//! it takes besides the common ones, and its defaults (kind, URL, page
//! limit). Config validation reads this table for its lists, defaults and
//! messages; `mentions check` can print from it.

use super::Kind;

/// One source type of the config's `[[source]] type = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceType {
    /// The `type` value as written in the config.
    pub name: &'static str,
    /// Keys this type takes besides [`COMMON_KEYS`]. Types listed next to each
    /// other with the same keys are named together in messages ("feed and sitemap").
    pub keys: &'static [&'static str],
    /// The kind its items count as when the source sets no `kind`.
    pub kind: Kind,
    /// The address read when the source sets no `url`; None when `url` is required.
    pub default_url: Option<&'static str>,
    /// What to add when a required `url` is missing.
    pub url_hint: &'static str,
    /// The page limit when the source sets no `max_pages`.
    pub max_pages: u32,
}

/// Keys every source takes, whatever its type.
pub const COMMON_KEYS: &[&str] = &[
    "name",
    "type",
    "kind",
    "schedule",
    "topics",
    "enabled",
    "lookback",
    "max_pages",
];

const FEED_KEYS: &[&str] = &["url", "full_text"];
const HTML_KEYS: &[&str] = &[
    "url", "item", "title", "link", "date", "text", "author", "next",
];
const MASTODON_KEYS: &[&str] = &["url", "hashtags", "access_token"];
const BLUESKY_KEYS: &[&str] = &["url", "search", "identifier", "app_password"];
const REDDIT_KEYS: &[&str] = &["url", "search", "subreddit", "client_id", "client_secret"];
const SEARCH_KEYS: &[&str] = &["url", "search"];
const TELEGRAM_KEYS: &[&str] = &["url", "channels"];
const GOOGLENEWS_KEYS: &[&str] = &["url", "search", "language", "country"];
const GDELT_KEYS: &[&str] = &["url", "query", "sourcelang", "sourcecountry"];

const ADDRESS_HINT: &str = "add the address to read";
const INSTANCE_HINT: &str = "add the instance's address, e.g. https://mastodon.social";

/// Every source type, in the order messages list them.
pub static SOURCE_TYPES: &[SourceType] = &[
    SourceType {
        name: "feed",
        keys: FEED_KEYS,
        kind: Kind::Web,
        default_url: None,
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "sitemap",
        keys: FEED_KEYS,
        kind: Kind::Web,
        default_url: None,
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "html",
        keys: HTML_KEYS,
        kind: Kind::Web,
        default_url: None,
        url_hint: ADDRESS_HINT,
        // Follows `next` only when the source raises max_pages.
        max_pages: 1,
    },
    SourceType {
        name: "mastodon",
        keys: MASTODON_KEYS,
        kind: Kind::Social,
        default_url: None,
        url_hint: INSTANCE_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "bluesky",
        keys: BLUESKY_KEYS,
        kind: Kind::Social,
        default_url: Some("https://public.api.bsky.app"),
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "reddit",
        keys: REDDIT_KEYS,
        kind: Kind::Forum,
        default_url: Some("https://www.reddit.com"),
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "lemmy",
        keys: SEARCH_KEYS,
        kind: Kind::Forum,
        default_url: None,
        url_hint: INSTANCE_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "discourse",
        keys: SEARCH_KEYS,
        kind: Kind::Forum,
        default_url: None,
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "hackernews",
        keys: SEARCH_KEYS,
        kind: Kind::Forum,
        default_url: Some("https://hn.algolia.com"),
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "telegram",
        keys: TELEGRAM_KEYS,
        kind: Kind::Social,
        default_url: Some("https://t.me"),
        url_hint: ADDRESS_HINT,
        max_pages: 10,
    },
    SourceType {
        name: "googlenews",
        keys: GOOGLENEWS_KEYS,
        kind: Kind::Web,
        default_url: Some("https://news.google.com"),
        url_hint: ADDRESS_HINT,
        // One search per crawl; the answer is not paged.
        max_pages: 1,
    },
    SourceType {
        name: "gdelt",
        keys: GDELT_KEYS,
        kind: Kind::Web,
        default_url: Some("https://api.gdeltproject.org"),
        url_hint: ADDRESS_HINT,
        // Calls per crawl: a full answer splits the time range and asks again.
        max_pages: 10,
    },
];

/// The type called `name`, if there is one.
pub fn source_type(name: &str) -> Option<&'static SourceType> {
    SOURCE_TYPES.iter().find(|t| t.name == name)
}

impl SourceType {
    /// Whether a source of this type may set `key` (common keys included).
    pub fn accepts(&self, key: &str) -> bool {
        COMMON_KEYS.contains(&key) || self.keys.contains(&key)
    }
}

/// Whether sources of the type called `type_name` are news searches
/// (`googlenews`, `gdelt`): their items are tied to the publishers' own
/// articles by headline (see `store`).
pub fn is_news_search(type_name: &str) -> bool {
    matches!(type_name, "googlenews" | "gdelt")
}

/// Every type name, comma-separated: "feed, sitemap, …, telegram".
pub fn type_names() -> String {
    let names: Vec<&str> = SOURCE_TYPES.iter().map(|t| t.name).collect();
    names.join(", ")
}

/// The types that take `key` besides the common keys, types with the same
/// keys named together: "bluesky, reddit, lemmy, discourse and hackernews".
pub fn key_owners(key: &str) -> String {
    let owners: Vec<String> = SOURCE_TYPES
        .chunk_by(|a, b| a.keys == b.keys)
        .filter(|group| group[0].keys.contains(&key))
        .map(|group| {
            let names: Vec<&str> = group.iter().map(|t| t.name).collect();
            match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    format!("{} and {last}", rest.join(", "))
                }
                _ => names.concat(),
            }
        })
        .collect();
    owners.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, t) in SOURCE_TYPES.iter().enumerate() {
            assert_eq!(source_type(t.name), Some(t));
            assert!(
                SOURCE_TYPES[..i].iter().all(|u| u.name != t.name),
                "{} twice",
                t.name
            );
        }
        assert_eq!(source_type("rss"), None);
        assert_eq!(
            type_names(),
            "feed, sitemap, html, mastodon, bluesky, reddit, lemmy, discourse, hackernews, telegram, googlenews, gdelt"
        );
    }

    #[test]
    fn every_type_takes_a_url_and_no_common_key_twice() {
        for t in SOURCE_TYPES {
            assert!(t.accepts("url"), "{}", t.name);
            assert!(t.accepts("name") && t.accepts("max_pages"), "{}", t.name);
            assert!(
                t.keys.iter().all(|k| !COMMON_KEYS.contains(k)),
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn defaults() {
        let t = |name: &str| source_type(name).expect(name);
        assert_eq!((t("feed").kind, t("feed").max_pages), (Kind::Web, 10));
        assert_eq!((t("html").kind, t("html").max_pages), (Kind::Web, 1));
        assert_eq!(t("mastodon").kind, Kind::Social);
        assert_eq!(t("hackernews").kind, Kind::Forum);
        assert_eq!(
            t("bluesky").default_url,
            Some("https://public.api.bsky.app")
        );
        assert_eq!(t("reddit").default_url, Some("https://www.reddit.com"));
        assert_eq!(t("hackernews").default_url, Some("https://hn.algolia.com"));
        assert_eq!(t("telegram").default_url, Some("https://t.me"));
        assert_eq!(t("lemmy").default_url, None);
        assert_eq!(
            (t("googlenews").kind, t("googlenews").max_pages),
            (Kind::Web, 1)
        );
        assert_eq!(t("googlenews").default_url, Some("https://news.google.com"));
        assert_eq!(
            (t("gdelt").default_url, t("gdelt").max_pages),
            (Some("https://api.gdeltproject.org"), 10)
        );
    }

    #[test]
    fn owners_of_a_key() {
        assert_eq!(key_owners("full_text"), "feed and sitemap");
        assert_eq!(key_owners("item"), "html");
        assert_eq!(key_owners("hashtags"), "mastodon");
        assert_eq!(
            key_owners("search"),
            "bluesky, reddit, lemmy, discourse and hackernews, googlenews"
        );
        assert_eq!(key_owners("country"), "googlenews");
        assert_eq!(key_owners("sourcelang"), "gdelt");
        assert_eq!(key_owners("query"), "gdelt");
        assert_eq!(key_owners("channels"), "telegram");
        assert_eq!(key_owners("colour"), "");
    }
}
