//! `config.toml` (SPEC §2): the file is parsed into a spanned TOML tree,
//! `${VAR}` references in string values are expanded, the tree is read into
//! raw serde structs with `deny_unknown_fields`, and those are validated once
//! into `Settings` whose fields cannot be invalid (queries compiled,
//! schedules parsed, URLs parsed, selectors compiled). Every error names the
//! file, the line (and column when known), the topic or source and the key.
//!
//! This file holds the public types and the reading order. The work below it
//! runs one way: `validate` (per section) → `sources` (per source type) →
//! `values` (single typed values) → `locate` (spans to `file:line:col`) →
//! `expand` (`${VAR}`) → `raw` (serde structs); a module only calls the ones
//! after it, and all of them speak in the types declared here.

mod expand;
mod locate;
mod raw;
mod sources;
mod validate;
mod values;

use crate::http::HttpSettings;
use crate::query::Query;
use crate::schedule::Schedule;
use crate::secrets::Secrets;
use crate::sources::html::Selectors;
use crate::sources::platform::{PlatformSpec, Secret};
use crate::sources::Kind;
use expand::expand_table;
use locate::{Cx, Index};
use raw::RawConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::DeTable;
use url::Url;

/// Report language of the text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file these settings came from.
    pub path: PathBuf,
    /// Absolute, or relative to the working directory: resolved against the config's folder.
    /// The SQLite file; unused when `postgres` is set.
    pub database: PathBuf,
    /// `[database] url`: the PostgreSQL database several nodes share, instead
    /// of the SQLite file. Exactly one of `path` and `url` is written.
    pub postgres: Option<crate::store::postgres::PgTarget>,
    /// `[database] retention`: mentions older than this are deleted; None keeps them all.
    pub retention: Option<Duration>,
    pub http: HttpSettings,
    /// Default schedule for sources that set none.
    pub schedule: Schedule,
    pub timezone: Option<chrono_tz::Tz>,
    pub report: ReportSettings,
    pub topics: Vec<Topic>,
    pub sources: Vec<SourceConfig>,
    /// `[server]`: the HTTP endpoint; off when None.
    pub server: Option<ServerSettings>,
    /// `[[alert]]` entries.
    pub alerts: Vec<AlertConfig>,
    /// The values `${VAR}` expanded to, which output must show as `***`
    /// (and the password of `[database] url`, however it was written).
    pub secrets: Secrets,
}

/// `[server]`: where the endpoint listens and the token it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// `Authorization: Bearer <token>` for everything but `/healthz`.
    pub token: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub language: Lang,
    pub top_references: usize,
}

#[derive(Debug, Clone)]
pub struct Topic {
    pub name: String,
    /// The query as written.
    pub text: String,
    pub query: Query,
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub kind: Kind,
    pub schedule: Schedule,
    /// Indices into `Settings::topics`; every topic when the source names none.
    pub topics: Vec<usize>,
    pub enabled: bool,
    /// Items older than this are not fetched further (default 7 days).
    pub lookback: Duration,
    /// Page limit for paged sources (default 10; `html` defaults to 1).
    pub max_pages: u32,
    pub spec: SourceSpec,
}

/// What the source reads; one variant per `type`.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    Feed {
        url: Url,
        full_text: bool,
    },
    Sitemap {
        url: Url,
        full_text: bool,
    },
    Html {
        url: Url,
        selectors: Selectors,
    },
    /// A social or forum platform's API.
    Platform(PlatformSpec),
    /// Google News RSS search.
    GoogleNews {
        url: Url,
        /// The configured `search`; None searches for the topics' queries.
        search: Option<String>,
        /// ISO 639-1, lower case.
        language: String,
        /// ISO 3166-1 alpha-2, upper case.
        country: String,
    },
    /// The GDELT DOC 2.0 API.
    Gdelt {
        url: Url,
        /// The configured `query`; None searches for the topics' positive terms.
        query: Option<String>,
        /// `sourcelang:` as GDELT writes it (`german`, `deu`).
        sourcelang: Option<String>,
        /// `sourcecountry:` as GDELT writes it (`germany`, `gm`).
        sourcecountry: Option<String>,
    },
}

impl SourceSpec {
    /// The configured `url` (for platforms, the instance or API base).
    pub fn url(&self) -> &Url {
        match self {
            SourceSpec::Feed { url, .. }
            | SourceSpec::Sitemap { url, .. }
            | SourceSpec::Html { url, .. }
            | SourceSpec::GoogleNews { url, .. }
            | SourceSpec::Gdelt { url, .. } => url,
            SourceSpec::Platform(p) => match p {
                PlatformSpec::Mastodon { url, .. }
                | PlatformSpec::Bluesky { url, .. }
                | PlatformSpec::Reddit { url, .. }
                | PlatformSpec::Lemmy { url, .. }
                | PlatformSpec::Discourse { url, .. }
                | PlatformSpec::HackerNews { url, .. }
                | PlatformSpec::Telegram { url, .. } => url,
            },
        }
    }

    /// The `type` as written in the config.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceSpec::Feed { .. } => "feed",
            SourceSpec::Sitemap { .. } => "sitemap",
            SourceSpec::Html { .. } => "html",
            SourceSpec::Platform(p) => p.type_name(),
            SourceSpec::GoogleNews { .. } => "googlenews",
            SourceSpec::Gdelt { .. } => "gdelt",
        }
    }

    /// Whether the source is a news search (`googlenews`, `gdelt`): its
    /// items are tied to the publisher's own articles by their headline.
    pub fn is_news_search(&self) -> bool {
        crate::sources::types::is_news_search(self.type_name())
    }
}

/// One `[[alert]]`: fire when a window's new mentions of a topic cross the trigger.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    /// Index into `Settings::topics`.
    pub topic: usize,
    /// Length of the counting window.
    pub window: Duration,
    pub trigger: AlertTrigger,
    /// Receives a JSON POST when the alert fires.
    pub webhook: Url,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AlertTrigger {
    /// At least this many mentions in one window.
    Threshold(u64),
    /// At least this many times the trailing 7-day average for such a window.
    Factor(f64),
}

/// A config that cannot be used. Renders as one or two sentences naming the
/// file, the line (when known), the key and the topic or source.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

impl Settings {
    /// The longest `lookback` of the configured sources (the default, 7
    /// days, when there are none): bookkeeping rows are kept twice as long.
    pub fn longest_lookback(&self) -> Duration {
        self.sources
            .iter()
            .map(|s| s.lookback)
            .max()
            .unwrap_or(Duration::from_secs(7 * 86_400))
    }

    /// Reads, expands, parses and validates the config at `path`, and
    /// registers its `${VAR}` values with `crate::secrets` so that every
    /// output of the process masks them from here on.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let message = match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "{}: config file not found; create it (the repository's config.toml is an \
                     annotated example) or pass its path with --config PATH or MENTIONS_CONFIG",
                    path.display()
                ),
                std::io::ErrorKind::InvalidData => format!(
                    "{}: the config file is not valid UTF-8; save it as UTF-8",
                    path.display()
                ),
                _ => format!("{}: cannot read the config file: {e}", path.display()),
            };
            ConfigError { message }
        })?;
        let settings = Settings::parse(&text, path)?;
        settings.secrets.register();
        Ok(settings)
    }

    /// Parses config text; `path` names the file in messages and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        Settings::parse_with_env(text, path, &|name| std::env::var(name).ok())
    }

    /// Like `parse`, with `env` answering `${NAME}` lookups instead of the process environment.
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let cx = Cx {
            file: path.display().to_string(),
            text,
        };
        let mut root = DeTable::parse(text).map_err(|e| cx.syntax_err(&e))?;
        // Indexed before expansion: messages name entries as written.
        let index = Index::build(root.get_ref());
        let mut values = Vec::new();
        expand_table(root.get_mut(), env, &mut values).map_err(|e| cx.expand_err(e, &index))?;
        let secrets = Secrets::new(values.iter().map(String::as_str));
        // Errors from here on may quote an expanded value.
        let hide = |e: ConfigError| ConfigError {
            message: secrets.mask(&e.message).into_owned(),
        };
        let raw = RawConfig::deserialize(toml::de::Deserializer::from(root))
            .map_err(|e| hide(cx.serde_err(&e, &index)))?;
        let mut settings = cx.validate(raw, path).map_err(hide)?;
        let password = settings.postgres.as_ref().map(|t| t.passwords());
        settings.secrets = match password {
            Some(p) if !p.is_empty() => Secrets::new(
                values
                    .iter()
                    .map(String::as_str)
                    .chain(p.iter().map(String::as_str)),
            ),
            _ => secrets,
        };
        Ok(settings)
    }
}

/// What the config tests share: a stand-in environment and shortcuts that parse text.
#[cfg(test)]
mod testing {
    use super::{ConfigError, Settings};
    use std::path::Path;

    pub(super) const TOPIC: &str = "[[topic]]\nname = \"nk\"\nquery = 'nordkorea AND russland'\n";

    pub(super) fn env(name: &str) -> Option<String> {
        match name {
            "ALERT_CHANNEL" => Some("newsdesk".to_owned()),
            "FEED_TOKEN" => Some("s3cr\"et'=x".to_owned()),
            "UA" => Some("mentions-ci/2".to_owned()),
            "TOKEN" => Some("s3cret".to_owned()),
            _ => None,
        }
    }

    pub(super) fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse_with_env(text, Path::new("config.toml"), &env)
    }

    pub(super) fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{env, parse, TOPIC};
    use super::*;
    use crate::http::HttpSettings;
    use crate::sources::Kind;
    use std::time::Duration;

    const FULL: &str = include_str!("../../tests/fixtures/config/full.toml");

    #[test]
    fn full_config_with_every_key() {
        let s = Settings::parse_with_env(FULL, Path::new("/etc/mentions/config.toml"), &env)
            .expect("valid");
        assert_eq!(s.path, Path::new("/etc/mentions/config.toml"));
        assert_eq!(s.database, Path::new("/etc/mentions/data/mentions.sqlite"));
        assert_eq!(
            s.http.user_agent,
            "mentions-test/1.0 (+https://newsroom.example/bot)"
        );
        assert_eq!(s.http.timeout, Duration::from_secs(45));
        assert_eq!(s.http.max_body, 512 * 1024);
        assert_eq!(s.http.max_redirects, 5);
        assert_eq!(s.http.retries, 3);
        assert_eq!(s.http.concurrency, 8);
        assert_eq!(s.http.per_host_concurrency, 1);
        assert!(!s.http.respect_robots_txt);
        assert_eq!(
            s.http.proxy.as_ref().map(Url::as_str),
            Some("http://proxy.internal:3128/")
        );
        assert_eq!(s.schedule.text, "0 */20 * * * *");
        assert_eq!(s.timezone, Some(chrono_tz::Europe::Berlin));
        assert_eq!(s.report.language, Lang::De);
        assert_eq!(s.report.top_references, 5);
        assert_eq!(
            s.server.as_ref().map(|s| s.listen),
            Some("127.0.0.1:9464".parse().expect("addr"))
        );

        let names: Vec<&str> = s.topics.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["nordkorea-russland", "bahnstreik"]);
        assert_eq!(s.topics[1].text, "gdl AND (streik* OR warnstreik*)");
        assert!(s.topics[0]
            .query
            .matches(&["die", "nordkoreanische", "armee", "in", "kursk"]));

        assert_eq!(s.sources.len(), 3);
        let merkur = &s.sources[0];
        assert_eq!(merkur.name, "merkur-politik");
        assert_eq!(merkur.kind, Kind::Web);
        assert_eq!(merkur.schedule.text, "*/10 * * * *");
        assert_eq!(merkur.topics, [0]);
        assert!(merkur.enabled);
        assert_eq!(merkur.lookback, Duration::from_secs(48 * 3600));
        assert_eq!(merkur.max_pages, 2);
        match &merkur.spec {
            SourceSpec::Feed { url, full_text } => {
                assert_eq!(url.as_str(), "https://www.merkur.de/politik/rssfeed.rdf");
                assert!(*full_text);
            }
            other => panic!("expected a feed, got {other:?}"),
        }

        let sz = &s.sources[1];
        assert_eq!(sz.spec.type_name(), "sitemap");
        assert!(!sz.enabled);
        assert_eq!(sz.topics, [0, 1]);
        assert_eq!(sz.schedule.text, "0 */20 * * * *");
        assert_eq!(sz.max_pages, 10);
        assert_eq!(sz.lookback, Duration::from_secs(7 * 86_400));

        let forum = &s.sources[2];
        assert_eq!(forum.kind, Kind::Forum);
        assert_eq!(forum.max_pages, 3);
        assert_eq!(forum.topics, [1, 0]);
        match &forum.spec {
            SourceSpec::Html { url, selectors } => {
                assert_eq!(url.as_str(), "https://forum.example.de/search?q=nordkorea");
                assert!(selectors.date.is_some());
                assert!(selectors.text.is_some());
                assert!(selectors.author.is_some());
                assert!(selectors.next.is_some());
            }
            other => panic!("expected html, got {other:?}"),
        }

        assert_eq!(s.alerts.len(), 2);
        assert_eq!(s.alerts[0].topic, 0);
        assert_eq!(s.alerts[0].window, Duration::from_secs(3600));
        assert_eq!(s.alerts[0].trigger, AlertTrigger::Threshold(50));
        assert_eq!(
            s.alerts[0].webhook.as_str(),
            "https://hooks.example.org/mentions"
        );
        assert_eq!(s.alerts[1].topic, 1);
        assert_eq!(s.alerts[1].trigger, AlertTrigger::Factor(3.0));
        assert_eq!(
            s.alerts[1].webhook.as_str(),
            "https://hooks.example.org/mentions?channel=newsdesk"
        );
    }

    #[test]
    fn defaults() {
        let s = parse("").expect("an empty config is valid");
        assert_eq!(s.database, Path::new("mentions.db"));
        let d = HttpSettings::default();
        assert_eq!(s.http.user_agent, d.user_agent);
        assert!(s.http.user_agent.starts_with("mentions/"));
        assert_eq!(s.http.timeout, Duration::from_secs(30));
        assert_eq!(s.http.max_body, 10 * 1024 * 1024);
        assert_eq!(s.http.max_redirects, 10);
        assert_eq!(s.http.retries, 2);
        assert_eq!(s.http.concurrency, 16);
        assert_eq!(s.http.per_host_concurrency, 2);
        assert!(s.http.respect_robots_txt);
        assert_eq!(s.http.proxy, None);
        assert_eq!(s.schedule.text, "0 */15 * * * *");
        assert_eq!(s.timezone, None);
        assert_eq!(s.report.language, Lang::En);
        assert_eq!(s.report.top_references, 3);
        assert_eq!(s.server, None);
        assert!(s.topics.is_empty() && s.sources.is_empty() && s.alerts.is_empty());
    }

    #[test]
    fn longest_lookback_of_all_sources_or_the_default() {
        assert_eq!(
            parse("").expect("valid").longest_lookback(),
            Duration::from_secs(7 * 86_400)
        );
        let source = |name: &str, lookback: &str| {
            format!("[[source]]\nname = \"{name}\"\ntype = \"feed\"\nurl = \"https://x.example/{name}\"\n{lookback}\n")
        };
        let text = format!(
            "{TOPIC}{}{}{}",
            source("a", "lookback = \"2d\""),
            source("b", "lookback = \"30d\"\nenabled = false"),
            source("c", "")
        );
        assert_eq!(
            parse(&text).expect("valid").longest_lookback(),
            Duration::from_secs(30 * 86_400)
        );
    }

    #[test]
    fn load_reads_the_file_and_resolves_the_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, format!("[database]\npath = \"state/m.db\"\n{TOPIC}"))
            .expect("write");
        let s = Settings::load(&path).expect("valid");
        assert_eq!(s.database, dir.path().join("state/m.db"));
        assert_eq!(s.topics.len(), 1);

        let missing = dir.path().join("nope.toml");
        let e = Settings::load(&missing).expect_err("missing file");
        assert_eq!(
            e.message,
            format!(
                "{}: config file not found; create it (the repository's config.toml is an \
                 annotated example) or pass its path with --config PATH or MENTIONS_CONFIG",
                missing.display()
            )
        );
    }
}
