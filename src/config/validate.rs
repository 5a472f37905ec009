//! Checks per section: `[database]`, `[crawler]`, `[report]`, `[server]`,
//! `[[topic]]` and `[[alert]]`, and the whole config's rules (unique names).
//! Each `[[source]]` is checked by `sources`; single values by `values`.

use super::locate::{line_col, Cx};
use super::raw::{RawAlert, RawConfig, RawCrawler, RawDatabase, RawReport, RawServer, RawTopic};
use super::{
    AlertConfig, AlertTrigger, ConfigError, Lang, ReportSettings, ServerSettings, Settings,
    SourceConfig, Topic,
};
use crate::http::HttpSettings;
use crate::query::Query;
use crate::schedule::Schedule;
use crate::sources::platform::Secret;
use crate::store::postgres::PgTarget;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use toml::Spanned;

const DEFAULT_SCHEDULE: &str = "0 */15 * * * *";
const DEFAULT_DATABASE: &str = "mentions.db";

impl Cx<'_> {
    /// Checks every section and builds the settings.
    pub(super) fn validate(&self, raw: RawConfig, path: &Path) -> Result<Settings, ConfigError> {
        let database = self.database(&raw.database, path)?;
        let postgres = self.postgres(&raw.database)?;
        let retention = match &raw.database.retention {
            Some(r) => Some(self.positive_duration(r, None, "database.retention")?),
            None => None,
        };
        let (mut http, schedule, timezone) = self.crawler(&raw.crawler)?;
        let report = self.report(&raw.report)?;
        let server = match &raw.server {
            Some(server) => Some(self.server(server)?),
            None => None,
        };
        let topics = self.topics(&raw.topic)?;
        let mut sources: Vec<SourceConfig> = Vec::with_capacity(raw.source.len());
        // Where each name was first given; its line is only counted for the message.
        let mut source_starts: HashMap<String, usize> = HashMap::new();
        for (i, raw_source) in raw.source.iter().enumerate() {
            let source = self.source(i, raw_source, &topics, &schedule, report.language)?;
            let span = raw_source.get_ref().name.as_ref().map(Spanned::span);
            let start = span.clone().unwrap_or(raw_source.span()).start;
            if let Some(&first) = source_starts.get(&source.name) {
                let line = line_col(self.text, first).0;
                return Err(self.at(
                    span.unwrap_or(raw_source.span()),
                    Some(&format!("source \"{}\"", source.name)),
                    "name",
                    format!(
                        "another source (line {line}) already has this name; source names must be unique"
                    ),
                ));
            }
            source_starts.insert(source.name.clone(), start);
            sources.push(source);
        }
        let alerts = raw
            .alert
            .iter()
            .enumerate()
            .map(|(i, a)| self.alert(i, a, &topics))
            .collect::<Result<Vec<_>, _>>()?;
        // The config is trusted: the hosts it names may be private (see http::guard).
        let named = sources
            .iter()
            .map(|s| s.spec.url())
            .chain(alerts.iter().map(|a| &a.webhook))
            .chain(http.proxy.as_ref());
        http.trusted_hosts = named
            .filter_map(|u| u.host_str().map(str::to_owned))
            .collect();
        Ok(Settings {
            path: path.to_path_buf(),
            database,
            postgres,
            retention,
            http,
            schedule,
            timezone,
            report,
            topics,
            sources,
            server,
            alerts,
            secrets: Default::default(),
        })
    }

    fn database(&self, raw: &RawDatabase, config: &Path) -> Result<PathBuf, ConfigError> {
        let written = match &raw.path {
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(self.at(
                    p.span(),
                    None,
                    "database.path",
                    "is empty; name the SQLite file, e.g. \"mentions.db\"",
                ))
            }
            Some(p) => PathBuf::from(p.get_ref()),
            None => PathBuf::from(DEFAULT_DATABASE),
        };
        Ok(match config.parent() {
            Some(folder) if written.is_relative() => folder.join(written),
            _ => written,
        })
    }

    /// `[database] url`: a PostgreSQL URL instead of `path`, never both.
    /// Messages never repeat the URL (it holds the password).
    fn postgres(&self, raw: &RawDatabase) -> Result<Option<PgTarget>, ConfigError> {
        let Some(url) = &raw.url else {
            return Ok(None);
        };
        if raw.path.is_some() {
            return Err(self.at(
                url.span(),
                None,
                "database.url",
                "set either path (an SQLite file) or url (a PostgreSQL database), not both",
            ));
        }
        let target = PgTarget::parse(url.get_ref()).map_err(|e| {
            self.at(
                url.span(),
                None,
                "database.url",
                format!(
                    "{e}; write e.g. \"postgres://USER:PASSWORD@HOST:5432/DATABASE\", \
                     usually through ${{DATABASE_URL}}"
                ),
            )
        })?;
        Ok(Some(target))
    }

    fn crawler(
        &self,
        raw: &RawCrawler,
    ) -> Result<(HttpSettings, Schedule, Option<chrono_tz::Tz>), ConfigError> {
        let mut http = HttpSettings::default();
        if let Some(ua) = &raw.user_agent {
            let value = ua.get_ref().trim();
            if value.is_empty() || http::HeaderValue::from_str(value).is_err() {
                return Err(self.at(
                    ua.span(),
                    None,
                    "crawler.user_agent",
                    "must be non-empty visible text without line breaks, e.g. \
                     \"mentions/0.1 (+https://example.org/about-our-bot)\"",
                ));
            }
            http.user_agent = value.to_owned();
        }
        if let Some(t) = &raw.timeout {
            http.timeout = self.positive_duration(t, None, "crawler.timeout")?;
        }
        if let Some(size) = &raw.max_body {
            http.max_body = self.size(size, None, "crawler.max_body")?;
        }
        if let Some(n) = &raw.max_redirects {
            http.max_redirects = self.count(n, 0, None, "crawler.max_redirects")?;
        }
        if let Some(n) = &raw.retries {
            http.retries = self.count(n, 0, None, "crawler.retries")?;
        }
        if let Some(n) = &raw.concurrency {
            http.concurrency = self.count(n, 1, None, "crawler.concurrency")?;
        }
        if let Some(n) = &raw.per_host_concurrency {
            http.per_host_concurrency = self.count(n, 1, None, "crawler.per_host_concurrency")?;
        }
        if let Some(b) = raw.respect_robots_txt {
            http.respect_robots_txt = b;
        }
        if let Some(p) = &raw.proxy {
            http.proxy = Some(self.http_url(p, None, "crawler.proxy")?);
        }
        if let Some(b) = raw.allow_private_networks {
            http.allow_private_networks = b;
        }
        let schedule = match &raw.schedule {
            Some(s) => self.schedule(s, None, "crawler.schedule")?,
            None => Schedule::parse(DEFAULT_SCHEDULE)
                .map_err(|e| self.err(None, false, None, Some("crawler.schedule"), e))?,
        };
        let timezone = match &raw.timezone {
            Some(tz) => Some(tz.get_ref().trim().parse::<chrono_tz::Tz>().map_err(|_| {
                self.at(
                    tz.span(),
                    None,
                    "crawler.timezone",
                    format!(
                        "unknown time zone \"{}\"; use an IANA name such as \"Europe/Berlin\" or \"UTC\"",
                        tz.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        Ok((http, schedule, timezone))
    }

    fn report(&self, raw: &RawReport) -> Result<ReportSettings, ConfigError> {
        let language = match &raw.language {
            Some(l) => match l.get_ref().trim().to_ascii_lowercase().as_str() {
                "en" => Lang::En,
                "de" => Lang::De,
                other => {
                    return Err(self.at(
                        l.span(),
                        None,
                        "report.language",
                        format!("unknown language \"{other}\"; expected \"en\" or \"de\""),
                    ))
                }
            },
            None => Lang::En,
        };
        let top_references = match &raw.top_references {
            Some(n) => self.count(n, 0, None, "report.top_references")?,
            None => 3,
        };
        Ok(ReportSettings {
            language,
            top_references,
        })
    }

    fn server(&self, raw: &Spanned<RawServer>) -> Result<ServerSettings, ConfigError> {
        let Some(listen) = &raw.get_ref().listen else {
            return Err(self.err(
                Some(raw.span()),
                false,
                None,
                Some("server"),
                "missing key `listen`; add e.g. listen = \"127.0.0.1:9464\" or remove [server]",
            ));
        };
        let addr = listen.get_ref().trim().parse::<SocketAddr>().map_err(|_| {
            self.at(
                listen.span(),
                None,
                "server.listen",
                format!(
                    "\"{}\" is not an IP address with a port; write e.g. \"127.0.0.1:9464\"",
                    listen.get_ref()
                ),
            )
        })?;
        let token = match &raw.get_ref().token {
            Some(t) if t.get_ref().trim().len() < 16 => {
                return Err(self.at(
                    t.span(),
                    None,
                    "server.token",
                    "is shorter than 16 characters; use a long random value, e.g. from \
                     `openssl rand -hex 32`, through ${MENTIONS_TOKEN}",
                ))
            }
            Some(t) => Some(Secret::new(t.get_ref().trim())),
            None => None,
        };
        Ok(ServerSettings {
            listen: addr,
            token,
        })
    }

    fn topics(&self, raw: &[Spanned<RawTopic>]) -> Result<Vec<Topic>, ConfigError> {
        let mut topics: Vec<Topic> = Vec::with_capacity(raw.len());
        // Where each name was first given; its line is only counted for the message.
        let mut starts: HashMap<String, usize> = HashMap::new();
        for (i, entry) in raw.iter().enumerate() {
            let t = entry.get_ref();
            let unnamed = format!("topic #{}", i + 1);
            let name = self.name(&t.name, entry.span(), &unnamed)?;
            let owner = format!("topic \"{name}\"");
            if let Some(&first) = starts.get(&name) {
                let line = line_col(self.text, first).0;
                let span = t.name.as_ref().map(Spanned::span).unwrap_or(entry.span());
                return Err(self.at(
                    span,
                    Some(&owner),
                    "name",
                    format!(
                        "another topic (line {line}) already has this name; topic names must be unique"
                    ),
                ));
            }
            let Some(query) = &t.query else {
                return Err(self.missing(entry.span(), &owner, "query", "add the topic's query"));
            };
            let compiled = Query::parse(query.get_ref())
                .map_err(|e| self.at(query.span(), Some(&owner), "query", e))?;
            let start = t
                .name
                .as_ref()
                .map(Spanned::span)
                .unwrap_or(entry.span())
                .start;
            starts.insert(name.clone(), start);
            topics.push(Topic {
                name,
                text: query.get_ref().clone(),
                query: compiled,
            });
        }
        Ok(topics)
    }

    fn alert(
        &self,
        i: usize,
        entry: &Spanned<RawAlert>,
        topics: &[Topic],
    ) -> Result<AlertConfig, ConfigError> {
        let a = entry.get_ref();
        let owner = match &a.topic {
            Some(t) => format!("alert #{} (topic \"{}\")", i + 1, t.get_ref()),
            None => format!("alert #{}", i + 1),
        };
        let Some(topic) = &a.topic else {
            return Err(self.missing(entry.span(), &owner, "topic", "name the topic to watch"));
        };
        let topic_index = self.topic(topic, topics, Some(&owner), "topic")?;
        let Some(window) = &a.window else {
            return Err(self.missing(entry.span(), &owner, "window", "add e.g. window = \"1h\""));
        };
        let window = self.positive_duration(window, Some(&owner), "window")?;
        let trigger = match (&a.threshold, &a.factor) {
            (Some(t), None) => {
                AlertTrigger::Threshold(self.count(t, 1, Some(&owner), "threshold")?)
            }
            (None, Some(f)) => {
                let v = *f.get_ref();
                if !(v.is_finite() && v > 0.0) {
                    return Err(self.at(
                        f.span(),
                        Some(&owner),
                        "factor",
                        "must be a number above zero, e.g. 3.0",
                    ));
                }
                AlertTrigger::Factor(v)
            }
            (Some(_), Some(f)) => {
                return Err(self.at(
                    f.span(),
                    Some(&owner),
                    "factor",
                    "set either threshold or factor, not both",
                ))
            }
            (None, None) => {
                return Err(self.missing(
                    entry.span(),
                    &owner,
                    "threshold",
                    "set threshold (mentions per window) or factor (times the 7-day average)",
                ))
            }
        };
        let Some(webhook) = &a.webhook else {
            return Err(self.missing(entry.span(), &owner, "webhook", "add the URL to POST to"));
        };
        let webhook = self.http_url(webhook, Some(&owner), "webhook")?;
        Ok(AlertConfig {
            topic: topic_index,
            window,
            trigger,
            webhook,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{env, error, TOPIC};
    use crate::config::Settings;
    use std::path::Path;

    #[test]
    fn database_path_relative_to_the_config_folder() {
        let text = "[database]\npath = \"db/m.sqlite\"\n";
        let s = Settings::parse_with_env(text, Path::new("/srv/mentions/config.toml"), &env)
            .expect("valid");
        assert_eq!(s.database, Path::new("/srv/mentions/db/m.sqlite"));
        let s = Settings::parse_with_env(text, Path::new("config.toml"), &env).expect("valid");
        assert_eq!(s.database, Path::new("db/m.sqlite"));
        let text = "[database]\npath = \"/var/lib/mentions/m.db\"\n";
        let s = Settings::parse_with_env(text, Path::new("/srv/mentions/config.toml"), &env)
            .expect("valid");
        assert_eq!(s.database, Path::new("/var/lib/mentions/m.db"));
    }

    #[test]
    fn database_url_instead_of_path() {
        let env = |name: &str| match name {
            "DATABASE_URL" => Some("postgres://mentions:Pa55-w0rd@db.example:6543/news".to_owned()),
            other => env(other),
        };
        let text = "[database]\nurl = \"${DATABASE_URL}\"\nretention = \"30d\"\n";
        let s =
            Settings::parse_with_env(text, Path::new("/srv/m/config.toml"), &env).expect("valid");
        let target = s.postgres.as_ref().expect("a PostgreSQL target");
        assert_eq!(target.describe(), "db.example:6543/news");
        assert_eq!(s.secrets.mask("login Pa55-w0rd"), "login ***");
        assert_eq!(
            s.retention,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        // Written into the file, the password is masked all the same.
        let text = "[database]\nurl = \"postgres://app:hunter22@127.0.0.1/m\"\n";
        let s = Settings::parse_with_env(text, Path::new("config.toml"), &env).expect("valid");
        assert_eq!(s.postgres.expect("target").describe(), "127.0.0.1:5432/m");
        assert_eq!(s.secrets.mask("x hunter22 y"), "x *** y");
        // Without url the SQLite file is used.
        let s = Settings::parse_with_env("", Path::new("config.toml"), &env).expect("valid");
        assert!(s.postgres.is_none());
    }

    #[test]
    fn database_url_errors_never_echo_the_password() {
        assert_eq!(
            error("[database]\npath = \"m.db\"\nurl = \"postgres://u:hunter22@h/db\"\n"),
            "config.toml:3:7: database.url: set either path (an SQLite file) or url \
             (a PostgreSQL database), not both"
        );
        assert_eq!(
            error("[database]\nurl = \"mysql://u:hunter22@h/db\"\n"),
            "config.toml:2:7: database.url: a PostgreSQL URL starts with postgres:// or \
             postgresql://; write e.g. \"postgres://USER:PASSWORD@HOST:5432/DATABASE\", \
             usually through ${DATABASE_URL}"
        );
        let e = error("[database]\nurl = \"postgres://u:hunter22@h:port/db\"\n");
        assert!(
            e.starts_with("config.toml:2:7: database.url: the PostgreSQL URL cannot be read: "),
            "{e}"
        );
        assert!(!e.contains("hunter22"), "{e}");
        let e = error("[database]\nurl = \"${MENTIONS_TEST_UNSET}\"\n");
        assert_eq!(
            e,
            "config.toml:2:7: database.url: environment variable MENTIONS_TEST_UNSET is not set; \
             set it or replace ${MENTIONS_TEST_UNSET}"
        );
    }

    #[test]
    fn database_retention() {
        let s = Settings::parse_with_env(
            "[database]\npath = \"m.db\"\nretention = \"400d\"\n",
            Path::new("config.toml"),
            &env,
        )
        .expect("valid");
        assert_eq!(
            s.retention,
            Some(std::time::Duration::from_secs(400 * 86_400))
        );
        let s = Settings::parse_with_env("", Path::new("config.toml"), &env).expect("valid");
        assert_eq!(s.retention, None);
        for bad in ["forever", "0d", "400"] {
            assert_eq!(
                error(&format!("[database]\nretention = \"{bad}\"\n")),
                format!(
                    "config.toml:2:13: database.retention: \"{bad}\" is not a duration above zero; \
                     write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\""
                )
            );
        }
    }

    #[test]
    fn unbalanced_query() {
        let text = "[database]\npath = \"m.db\"\n\n[[topic]]\nname = \"nk\"\n\
                    # North Korea and Russia\nquery = '(nordkorea OR \"north korea\" AND russland'\n";
        let e = error(text);
        assert!(
            e.starts_with("config.toml:7:9: topic \"nk\": query: "),
            "{e}"
        );
        assert!(e.ends_with("at position 1"), "{e}");
    }

    #[test]
    fn missing_required_keys() {
        let text = format!("{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n");
        assert_eq!(
            error(&text),
            "config.toml:5: source \"merkur\": missing key `url`; add the address to read"
        );
        assert_eq!(
            error("[[topic]]\nname = \"nk\"\n"),
            "config.toml:1: topic \"nk\": missing key `query`; add the topic's query"
        );
        let text = format!("{TOPIC}\n[[source]]\ntype = \"feed\"\nurl = \"https://x.example/\"\n");
        assert_eq!(
            error(&text),
            "config.toml:5: source #1: missing key `name`; give it a unique name"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"forum\"\ntype = \"html\"\nurl = \"https://forum.example/\"\n\
             item = \"li\"\nlink = \"a\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:5: source \"forum\": missing key `title`; html sources need item, title and link selectors"
        );
    }

    #[test]
    fn duplicate_names() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\nurl = \"https://a.example/\"\n\n\
             [[source]]\nname = \"merkur\"\ntype = \"sitemap\"\nurl = \"https://b.example/\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:11:8: source \"merkur\": name: another source (line 6) already has this \
             name; source names must be unique"
        );
        let text = format!("{TOPIC}{TOPIC}");
        assert_eq!(
            error(&text),
            "config.toml:5:8: topic \"nk\": name: another topic (line 2) already has this name; \
             topic names must be unique"
        );
    }

    #[test]
    fn server_and_alert_errors() {
        assert_eq!(
            error("[server]\nlisten = \"localhost\"\n"),
            "config.toml:2:10: server.listen: \"localhost\" is not an IP address with a port; \
             write e.g. \"127.0.0.1:9464\""
        );
        let alert = |body: &str| format!("{TOPIC}\n[[alert]]\ntopic = \"nk\"\n{body}");
        assert_eq!(
            error(&alert(
                "window = \"1h\"\nthreshold = 50\nfactor = 3.0\nwebhook = \"https://h.example/\"\n"
            )),
            "config.toml:9:10: alert #1 (topic \"nk\"): factor: set either threshold or factor, not both"
        );
        assert_eq!(
            error(&alert(
                "window = \"1h\"\nwebhook = \"https://h.example/\"\n"
            )),
            "config.toml:5: alert #1 (topic \"nk\"): missing key `threshold`; set threshold \
             (mentions per window) or factor (times the 7-day average)"
        );
        assert_eq!(
            error(&alert(
                "window = \"0s\"\nthreshold = 5\nwebhook = \"https://h.example/\"\n"
            )),
            "config.toml:7:10: alert #1 (topic \"nk\"): window: \"0s\" is not a duration above \
             zero; write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\""
        );
        assert_eq!(
            error("[[alert]]\ntopic = \"nk\"\nwindow = \"1h\"\nthreshold = 5\n"),
            "config.toml:2:9: alert #1 (topic \"nk\"): topic: unknown topic \"nk\"; no [[topic]] is defined"
        );
    }
}
