//! What serde reads from `config.toml`, before any check: one struct per
//! table with `deny_unknown_fields`, every key optional and spanned so that
//! later checks can name its line. Nothing here knows what a valid value is.

use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) database: RawDatabase,
    #[serde(default)]
    pub(super) crawler: RawCrawler,
    #[serde(default)]
    pub(super) report: RawReport,
    pub(super) server: Option<Spanned<RawServer>>,
    #[serde(default)]
    pub(super) topic: Vec<Spanned<RawTopic>>,
    #[serde(default)]
    pub(super) source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    pub(super) alert: Vec<Spanned<RawAlert>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) path: Option<Spanned<String>>,
    pub(super) url: Option<Spanned<String>>,
    pub(super) retention: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrawler {
    pub(super) user_agent: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) max_body: Option<Spanned<SizeValue>>,
    pub(super) max_redirects: Option<Spanned<i64>>,
    pub(super) retries: Option<Spanned<i64>>,
    pub(super) concurrency: Option<Spanned<i64>>,
    pub(super) per_host_concurrency: Option<Spanned<i64>>,
    pub(super) schedule: Option<Spanned<String>>,
    pub(super) timezone: Option<Spanned<String>>,
    pub(super) respect_robots_txt: Option<bool>,
    pub(super) proxy: Option<Spanned<String>>,
    pub(super) allow_private_networks: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReport {
    pub(super) language: Option<Spanned<String>>,
    pub(super) top_references: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) listen: Option<Spanned<String>>,
    pub(super) token: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTopic {
    pub(super) name: Option<Spanned<String>>,
    pub(super) query: Option<Spanned<String>>,
}

/// Every key any source type takes; which belong to which type is checked
/// against the table in `sources::types`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub(super) source_type: Option<Spanned<String>>,
    pub(super) kind: Option<Spanned<String>>,
    pub(super) schedule: Option<Spanned<String>>,
    pub(super) topics: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) enabled: Option<Spanned<bool>>,
    pub(super) lookback: Option<Spanned<String>>,
    pub(super) max_pages: Option<Spanned<i64>>,
    pub(super) url: Option<Spanned<String>>,
    pub(super) full_text: Option<Spanned<bool>>,
    pub(super) item: Option<Spanned<String>>,
    pub(super) title: Option<Spanned<String>>,
    pub(super) link: Option<Spanned<String>>,
    pub(super) date: Option<Spanned<String>>,
    pub(super) text: Option<Spanned<String>>,
    pub(super) author: Option<Spanned<String>>,
    pub(super) next: Option<Spanned<String>>,
    pub(super) hashtags: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) access_token: Option<Spanned<String>>,
    pub(super) search: Option<Spanned<String>>,
    pub(super) identifier: Option<Spanned<String>>,
    pub(super) app_password: Option<Spanned<String>>,
    pub(super) subreddit: Option<Spanned<String>>,
    pub(super) client_id: Option<Spanned<String>>,
    pub(super) client_secret: Option<Spanned<String>>,
    pub(super) channels: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) language: Option<Spanned<String>>,
    pub(super) country: Option<Spanned<String>>,
    pub(super) query: Option<Spanned<String>>,
    pub(super) sourcelang: Option<Spanned<String>>,
    pub(super) sourcecountry: Option<Spanned<String>>,
}

impl RawSource {
    /// The keys present, with the span of their values.
    pub(super) fn present_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        fn span<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        [
            ("kind", span(&self.kind)),
            ("schedule", span(&self.schedule)),
            ("topics", span(&self.topics)),
            ("enabled", span(&self.enabled)),
            ("lookback", span(&self.lookback)),
            ("max_pages", span(&self.max_pages)),
            ("url", span(&self.url)),
            ("full_text", span(&self.full_text)),
            ("item", span(&self.item)),
            ("title", span(&self.title)),
            ("link", span(&self.link)),
            ("date", span(&self.date)),
            ("text", span(&self.text)),
            ("author", span(&self.author)),
            ("next", span(&self.next)),
            ("hashtags", span(&self.hashtags)),
            ("access_token", span(&self.access_token)),
            ("search", span(&self.search)),
            ("identifier", span(&self.identifier)),
            ("app_password", span(&self.app_password)),
            ("subreddit", span(&self.subreddit)),
            ("client_id", span(&self.client_id)),
            ("client_secret", span(&self.client_secret)),
            ("channels", span(&self.channels)),
            ("language", span(&self.language)),
            ("country", span(&self.country)),
            ("query", span(&self.query)),
            ("sourcelang", span(&self.sourcelang)),
            ("sourcecountry", span(&self.sourcecountry)),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlert {
    pub(super) topic: Option<Spanned<String>>,
    pub(super) window: Option<Spanned<String>>,
    pub(super) threshold: Option<Spanned<i64>>,
    pub(super) factor: Option<Spanned<f64>>,
    pub(super) webhook: Option<Spanned<String>>,
}

/// A size written as a string (`"10MiB"`) or as a plain number of bytes.
pub(super) enum SizeValue {
    Bytes(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SizeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a size such as \"10MiB\" or a number of bytes")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SizeValue, E> {
                Ok(SizeValue::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}
