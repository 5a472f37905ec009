//! `config.toml` (SPEC §2): the file is parsed into a spanned TOML tree,
//! `${VAR}` references in string values are expanded, the tree is read into
//! raw serde structs with `deny_unknown_fields`, and those are validated once
//! into `Settings` whose fields cannot be invalid (queries compiled,
//! schedules parsed, URLs parsed, selectors compiled). Every error names the
//! file, the line (and column when known), the topic or source and the key.

use crate::http::HttpSettings;
use crate::query::Query;
use crate::schedule::Schedule;
use crate::sources::html::{SelectorSpec, Selectors};
use crate::sources::platform::{PlatformSpec, Secret};
use crate::sources::types;
use crate::sources::Kind;
use crate::units::{parse_duration, parse_size};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Display;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::{DeTable, DeValue};
use toml::Spanned;
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
    pub database: PathBuf,
    pub http: HttpSettings,
    /// Default schedule for sources that set none.
    pub schedule: Schedule,
    pub timezone: Option<chrono_tz::Tz>,
    pub report: ReportSettings,
    pub topics: Vec<Topic>,
    pub sources: Vec<SourceConfig>,
    /// `[server] listen`: where the HTTP endpoint listens; off when None.
    pub server: Option<SocketAddr>,
    /// `[[alert]]` entries.
    pub alerts: Vec<AlertConfig>,
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
    /// A social or forum platform's API (SPEC §2).
    Platform(PlatformSpec),
}

impl SourceSpec {
    /// The `type` as written in the config.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceSpec::Feed { .. } => "feed",
            SourceSpec::Sitemap { .. } => "sitemap",
            SourceSpec::Html { .. } => "html",
            SourceSpec::Platform(p) => p.type_name(),
        }
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

const DEFAULT_SCHEDULE: &str = "0 */15 * * * *";
const DEFAULT_DATABASE: &str = "mentions.db";
const DEFAULT_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);
impl Settings {
    /// Reads, expands, parses and validates the config at `path`.
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
        Settings::parse(&text, path)
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
        let mut root = DeTable::parse(text).map_err(|e| {
            let message = e.message().trim().to_owned();
            cx.err(
                e.span(),
                true,
                None,
                None,
                format_args!("TOML syntax error: {message}"),
            )
        })?;
        let index = Index::build(root.get_ref());
        expand_table(root.get_mut(), env).map_err(|e| {
            let (owner, key) = index.describe(&e.span);
            cx.err(
                Some(e.span),
                true,
                owner.as_deref(),
                key.as_deref(),
                e.message,
            )
        })?;
        let raw = RawConfig::deserialize(toml::de::Deserializer::from(root))
            .map_err(|e| cx.serde_err(&e, &index))?;
        cx.validate(raw, path)
    }
}

// ---------------------------------------------------------------------------
// Raw structs: what serde reads, before validation.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    crawler: RawCrawler,
    #[serde(default)]
    report: RawReport,
    server: Option<Spanned<RawServer>>,
    #[serde(default)]
    topic: Vec<Spanned<RawTopic>>,
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
    #[serde(default)]
    alert: Vec<Spanned<RawAlert>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    path: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCrawler {
    user_agent: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<SizeValue>>,
    max_redirects: Option<Spanned<i64>>,
    retries: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
    per_host_concurrency: Option<Spanned<i64>>,
    schedule: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    respect_robots_txt: Option<bool>,
    proxy: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawReport {
    language: Option<Spanned<String>>,
    top_references: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    name: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
}

/// Every key any source type takes; which belong to which type is checked by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Option<Spanned<String>>,
    #[serde(rename = "type")]
    source_type: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    topics: Option<Spanned<Vec<Spanned<String>>>>,
    enabled: Option<Spanned<bool>>,
    lookback: Option<Spanned<String>>,
    max_pages: Option<Spanned<i64>>,
    url: Option<Spanned<String>>,
    full_text: Option<Spanned<bool>>,
    item: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    next: Option<Spanned<String>>,
    hashtags: Option<Spanned<Vec<Spanned<String>>>>,
    access_token: Option<Spanned<String>>,
    search: Option<Spanned<String>>,
    identifier: Option<Spanned<String>>,
    app_password: Option<Spanned<String>>,
    subreddit: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    client_secret: Option<Spanned<String>>,
    channels: Option<Spanned<Vec<Spanned<String>>>>,
}

impl RawSource {
    /// The keys present, with the span of their values.
    fn present_keys(&self) -> Vec<(&'static str, Range<usize>)> {
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
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    topic: Option<Spanned<String>>,
    window: Option<Spanned<String>>,
    threshold: Option<Spanned<i64>>,
    factor: Option<Spanned<f64>>,
    webhook: Option<Spanned<String>>,
}

/// A size written as a string (`"10MiB"`) or as a plain number of bytes.
enum SizeValue {
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

// ---------------------------------------------------------------------------
// Locations and messages.

/// The file being read, for messages.
struct Cx<'a> {
    file: String,
    text: &'a str,
}

impl Cx<'_> {
    /// `file:line[:col]: owner: key: message`.
    fn err(
        &self,
        span: Option<Range<usize>>,
        with_column: bool,
        owner: Option<&str>,
        key: Option<&str>,
        message: impl Display,
    ) -> ConfigError {
        let mut out = self.file.clone();
        if let Some(span) = span {
            let (line, col) = line_col(self.text, span.start);
            out.push_str(&format!(":{line}"));
            if with_column {
                out.push_str(&format!(":{col}"));
            }
        }
        out.push_str(": ");
        if let Some(owner) = owner {
            out.push_str(owner);
            out.push_str(": ");
        }
        if let Some(key) = key {
            out.push_str(key);
            out.push_str(": ");
        }
        out.push_str(&message.to_string());
        ConfigError { message: out }
    }

    /// An error at a value's span, with line and column.
    fn at(
        &self,
        span: Range<usize>,
        owner: Option<&str>,
        key: &str,
        m: impl Display,
    ) -> ConfigError {
        self.err(Some(span), true, owner, Some(key), m)
    }

    fn serde_err(&self, e: &toml::de::Error, index: &Index) -> ConfigError {
        let raw = e.message().trim();
        let (owner, key) = match e.span() {
            Some(span) => index.describe(&span),
            None => (None, None),
        };
        let (message, with_column, key) = if let Some(rest) = raw.strip_prefix("unknown field ") {
            let (name, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            let expected = expected.trim_start_matches("one of ").replace('`', "");
            let mut m = format!("unknown key {name}");
            if !expected.is_empty() {
                m.push_str(&format!(" (expected one of {expected})"));
            }
            m.push_str("; remove it or correct its spelling");
            // The key is named in the message; the parent path says where it sits.
            let parent = key.and_then(|k| k.rsplit_once('.').map(|(p, _)| p.to_owned()));
            (m, true, parent)
        } else if let Some(name) = raw.strip_prefix("missing field ") {
            (format!("missing key {name}; add it"), false, key)
        } else {
            // serde names Rust types; say what to write instead.
            let m = raw
                .replace("expected i64", "expected a whole number")
                .replace("expected f64", "expected a number")
                .replace(
                    "expected a sequence",
                    "expected a list such as [\"a\", \"b\"]",
                );
            (m, true, key)
        };
        self.err(
            e.span(),
            with_column,
            owner.as_deref(),
            key.as_deref(),
            message,
        )
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = text.get(..cut).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Where each key and value sits, and which `[[topic]]`/`[[source]]`/`[[alert]]`
/// entry encloses an offset, so serde's span-only errors can be described.
struct Index {
    keys: Vec<(Range<usize>, String)>,
    owners: Vec<(Range<usize>, String)>,
}

impl Index {
    fn build(root: &DeTable<'_>) -> Index {
        let mut index = Index {
            keys: Vec::new(),
            owners: Vec::new(),
        };
        for (key, value) in root.iter() {
            let name = key.get_ref().as_ref();
            if let (DeValue::Array(items), "topic" | "source" | "alert") = (value.get_ref(), name) {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(table) = item.get_ref() {
                        let mut extent = item.span();
                        for (k, v) in table.iter() {
                            extent.start = extent.start.min(k.span().start);
                            extent.end = extent.end.max(v.span().end);
                        }
                        index.owners.push((extent, owner_label(name, i, table)));
                        index.walk_table(table, "");
                    }
                }
                continue;
            }
            index.keys.push((key.span(), name.to_owned()));
            index.walk_value(value, name);
        }
        index
    }

    fn walk_table(&mut self, table: &DeTable<'_>, prefix: &str) {
        for (key, value) in table.iter() {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            self.keys.push((key.span(), path.clone()));
            self.walk_value(value, &path);
        }
    }

    fn walk_value(&mut self, value: &Spanned<DeValue<'_>>, path: &str) {
        self.keys.push((value.span(), path.to_owned()));
        match value.get_ref() {
            DeValue::Table(t) => self.walk_table(t, path),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk_value(item, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// The enclosing entry's label and the innermost key at `span`.
    fn describe(&self, span: &Range<usize>) -> (Option<String>, Option<String>) {
        let smallest = |list: &[(Range<usize>, String)]| {
            list.iter()
                .filter(|(r, _)| r.start <= span.start && span.start < r.end.max(r.start + 1))
                .min_by_key(|(r, _)| r.end - r.start)
                .map(|(_, s)| s.clone())
        };
        (smallest(&self.owners), smallest(&self.keys))
    }
}

fn owner_label(array: &str, i: usize, table: &DeTable<'_>) -> String {
    let string = |key: &str| match table.get(key).map(Spanned::get_ref) {
        Some(DeValue::String(s)) => Some(s.to_string()),
        _ => None,
    };
    match (array, string("name"), string("topic")) {
        ("alert", _, Some(topic)) => format!("alert #{} (topic \"{topic}\")", i + 1),
        (_, Some(name), _) if array != "alert" => format!("{array} \"{name}\""),
        _ => format!("{array} #{}", i + 1),
    }
}

// ---------------------------------------------------------------------------
// `${NAME}` expansion on the parsed values.

struct ExpandError {
    span: Range<usize>,
    message: String,
}

fn expand_table(
    table: &mut DeTable<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ExpandError> {
    for (_, value) in table.iter_mut() {
        expand_value(value, env)?;
    }
    Ok(())
}

fn expand_value(
    value: &mut Spanned<DeValue<'_>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ExpandError> {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.contains("${") => {
            let expanded = expand_str(s, env).map_err(|message| ExpandError {
                span: span.clone(),
                message,
            })?;
            *s = expanded.into();
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                expand_value(item, env)?;
            }
        }
        DeValue::Table(t) => expand_table(t, env)?,
        _ => {}
    }
    Ok(())
}

fn expand_str(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` without a closing `}`; write ${NAME}".to_owned());
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`${{{name}}}` is not a variable name; use letters, digits and _"
            ));
        }
        match env(name) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "environment variable {name} is not set; set it or replace ${{{name}}}"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Validation: raw structs → Settings.

impl Cx<'_> {
    fn validate(&self, raw: RawConfig, path: &Path) -> Result<Settings, ConfigError> {
        let database = self.database(&raw.database, path)?;
        let (http, schedule, timezone) = self.crawler(&raw.crawler)?;
        let report = self.report(&raw.report)?;
        let server = match &raw.server {
            Some(server) => Some(self.server(server)?),
            None => None,
        };
        let topics = self.topics(&raw.topic)?;
        let mut sources: Vec<SourceConfig> = Vec::with_capacity(raw.source.len());
        let mut source_lines: HashMap<String, usize> = HashMap::new();
        for (i, raw_source) in raw.source.iter().enumerate() {
            let source = self.source(i, raw_source, &topics, &schedule)?;
            let span = raw_source.get_ref().name.as_ref().map(Spanned::span);
            let start = span.clone().unwrap_or(raw_source.span()).start;
            if let Some(line) = source_lines.get(&source.name) {
                return Err(self.at(
                    span.unwrap_or(raw_source.span()),
                    Some(&format!("source \"{}\"", source.name)),
                    "name",
                    format!(
                        "another source (line {line}) already has this name; source names must be unique"
                    ),
                ));
            }
            source_lines.insert(source.name.clone(), line_col(self.text, start).0);
            sources.push(source);
        }
        let alerts = raw
            .alert
            .iter()
            .enumerate()
            .map(|(i, a)| self.alert(i, a, &topics))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            path: path.to_path_buf(),
            database,
            http,
            schedule,
            timezone,
            report,
            topics,
            sources,
            server,
            alerts,
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
            let bytes = match size.get_ref() {
                SizeValue::Bytes(n) => u64::try_from(*n).ok(),
                SizeValue::Text(t) => parse_size(t),
            };
            http.max_body = match bytes {
                Some(n) if n > 0 => n,
                _ => {
                    return Err(self.at(
                        size.span(),
                        None,
                        "crawler.max_body",
                        "is not a size above zero; write e.g. \"10MiB\", \"512KiB\", \"1MB\" \
                         or a number of bytes",
                    ))
                }
            };
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

    fn server(&self, raw: &Spanned<RawServer>) -> Result<SocketAddr, ConfigError> {
        let Some(listen) = &raw.get_ref().listen else {
            return Err(self.err(
                Some(raw.span()),
                false,
                None,
                Some("server"),
                "missing key `listen`; add e.g. listen = \"127.0.0.1:9464\" or remove [server]",
            ));
        };
        listen.get_ref().trim().parse::<SocketAddr>().map_err(|_| {
            self.at(
                listen.span(),
                None,
                "server.listen",
                format!(
                    "\"{}\" is not an IP address with a port; write e.g. \"127.0.0.1:9464\"",
                    listen.get_ref()
                ),
            )
        })
    }

    fn topics(&self, raw: &[Spanned<RawTopic>]) -> Result<Vec<Topic>, ConfigError> {
        let mut topics: Vec<Topic> = Vec::with_capacity(raw.len());
        let mut lines: HashMap<String, usize> = HashMap::new();
        for (i, entry) in raw.iter().enumerate() {
            let t = entry.get_ref();
            let unnamed = format!("topic #{}", i + 1);
            let name = self.name(&t.name, entry.span(), &unnamed)?;
            let owner = format!("topic \"{name}\"");
            if let Some(line) = lines.get(&name) {
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
            lines.insert(name.clone(), line_col(self.text, start).0);
            topics.push(Topic {
                name,
                text: query.get_ref().clone(),
                query: compiled,
            });
        }
        Ok(topics)
    }

    fn source(
        &self,
        i: usize,
        entry: &Spanned<RawSource>,
        topics: &[Topic],
        default_schedule: &Schedule,
    ) -> Result<SourceConfig, ConfigError> {
        let s = entry.get_ref();
        let unnamed = format!("source #{}", i + 1);
        let name = self.name(&s.name, entry.span(), &unnamed)?;
        let owner = format!("source \"{name}\"");
        let owner = Some(owner.as_str());

        let Some(type_name) = &s.source_type else {
            return Err(self.missing(
                entry.span(),
                &format!("source \"{name}\""),
                "type",
                &format!("set it to one of {}", types::type_names()),
            ));
        };
        let Some(source_type) = types::source_type(type_name.get_ref()) else {
            return Err(self.at(
                type_name.span(),
                owner,
                "type",
                format!(
                    "unknown type \"{}\"; expected one of {}",
                    type_name.get_ref(),
                    types::type_names()
                ),
            ));
        };
        let type_name = source_type.name;
        for (key, span) in s.present_keys() {
            if !source_type.accepts(key) {
                let belongs = format!("{} sources", types::key_owners(key));
                return Err(self.at(
                    span,
                    owner,
                    key,
                    format!(
                        "this key does not apply to a {type_name} source (it is for {belongs}); remove it"
                    ),
                ));
            }
        }

        let kind = match &s.kind {
            Some(k) => Kind::parse(k.get_ref().trim()).ok_or_else(|| {
                self.at(
                    k.span(),
                    owner,
                    "kind",
                    format!(
                        "unknown kind \"{}\"; expected one of web, social, forum",
                        k.get_ref()
                    ),
                )
            })?,
            None => source_type.kind,
        };
        let schedule = match &s.schedule {
            Some(text) => self.schedule(text, owner, "schedule")?,
            None => default_schedule.clone(),
        };
        let topic_indices = match &s.topics {
            None => (0..topics.len()).collect(),
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(self.at(
                        list.span(),
                        owner,
                        "topics",
                        "the list is empty; name at least one topic or remove the key to use every topic",
                    ));
                }
                let mut indices: Vec<usize> = Vec::new();
                for t in list.get_ref() {
                    let Some(idx) = topics.iter().position(|x| &x.name == t.get_ref()) else {
                        return Err(self.at(
                            t.span(),
                            owner,
                            "topics",
                            format!(
                                "unknown topic \"{}\"; {}",
                                t.get_ref(),
                                known_topics(topics)
                            ),
                        ));
                    };
                    if !indices.contains(&idx) {
                        indices.push(idx);
                    }
                }
                indices
            }
        };
        let enabled = s.enabled.as_ref().map(|b| *b.get_ref()).unwrap_or(true);
        let lookback = match &s.lookback {
            Some(l) => self.positive_duration(l, owner, "lookback")?,
            None => DEFAULT_LOOKBACK,
        };
        let max_pages = match &s.max_pages {
            Some(n) => self.count(n, 1, owner, "max_pages")?,
            None => source_type.max_pages,
        };
        let url = match (&s.url, source_type.default_url) {
            (Some(url), _) => self.http_url(url, owner, "url")?,
            (None, Some(default)) => Url::parse(default).map_err(|e| ConfigError {
                message: format!("built-in URL {default}: {e}"),
            })?,
            (None, None) => {
                return Err(self.missing(
                    entry.span(),
                    &format!("source \"{name}\""),
                    "url",
                    source_type.url_hint,
                ));
            }
        };
        let full_text = s.full_text.as_ref().map(|b| *b.get_ref()).unwrap_or(false);
        let spec = match type_name {
            "feed" => SourceSpec::Feed { url, full_text },
            "sitemap" => SourceSpec::Sitemap { url, full_text },
            "html" => SourceSpec::Html {
                url,
                selectors: self.selectors(entry, &name)?,
            },
            _ => SourceSpec::Platform(self.platform(entry, type_name, url, &name)?),
        };
        Ok(SourceConfig {
            name,
            kind,
            schedule,
            topics: topic_indices,
            enabled,
            lookback,
            max_pages,
            spec,
        })
    }

    /// The keys of a platform source type.
    fn platform(
        &self,
        entry: &Spanned<RawSource>,
        type_name: &str,
        url: Url,
        name: &str,
    ) -> Result<PlatformSpec, ConfigError> {
        let s = entry.get_ref();
        let owner_text = format!("source \"{name}\"");
        let owner = Some(owner_text.as_str());
        let text =
            |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>, ConfigError> {
                match v {
                    None => Ok(None),
                    Some(v) if v.get_ref().trim().is_empty() => Err(self.at(
                        v.span(),
                        owner,
                        key,
                        "is empty; remove the key or give it a value",
                    )),
                    Some(v) => Ok(Some(v.get_ref().trim().to_owned())),
                }
            };
        // Keys that only work together: both or neither.
        let pair = |a: &Option<Spanned<String>>,
                    a_key: &str,
                    b: &Option<Spanned<String>>,
                    b_key: &str|
         -> Result<Option<(String, Secret)>, ConfigError> {
            match (text(a, a_key)?, text(b, b_key)?) {
                (Some(a), Some(b)) => Ok(Some((a, Secret::new(b)))),
                (None, None) => Ok(None),
                (Some(_), None) => Err(self.missing(
                    entry.span(),
                    &owner_text,
                    b_key,
                    &format!("{a_key} and {b_key} go together"),
                )),
                (None, Some(_)) => Err(self.missing(
                    entry.span(),
                    &owner_text,
                    a_key,
                    &format!("{a_key} and {b_key} go together"),
                )),
            }
        };
        // A non-empty list of names, each cleaned by `clean`.
        let names = |v: &Option<Spanned<Vec<Spanned<String>>>>,
                     key: &str,
                     example: &str,
                     clean: &dyn Fn(&str) -> String|
         -> Result<Vec<String>, ConfigError> {
            let Some(list) = v else {
                return Err(self.missing(
                    entry.span(),
                    &owner_text,
                    key,
                    &format!("list at least one, e.g. {key} = [{example}]"),
                ));
            };
            if list.get_ref().is_empty() {
                return Err(self.at(
                    list.span(),
                    owner,
                    key,
                    format!("the list is empty; list at least one, e.g. {key} = [{example}]"),
                ));
            }
            let mut out = Vec::new();
            for item in list.get_ref() {
                let cleaned = clean(item.get_ref().trim());
                if cleaned.is_empty()
                    || cleaned
                        .contains(|c: char| c.is_whitespace() || c == '/' || c == '?' || c == '#')
                {
                    return Err(self.at(
                        item.span(),
                        owner,
                        key,
                        format!("\"{}\" is not a valid name", item.get_ref()),
                    ));
                }
                if !out.contains(&cleaned) {
                    out.push(cleaned);
                }
            }
            Ok(out)
        };
        let search = text(&s.search, "search")?;
        Ok(match type_name {
            "mastodon" => PlatformSpec::Mastodon {
                url,
                hashtags: names(&s.hashtags, "hashtags", "\"nordkorea\"", &|t| {
                    t.trim_start_matches('#').to_owned()
                })?,
                access_token: text(&s.access_token, "access_token")?.map(Secret::new),
            },
            "bluesky" => PlatformSpec::Bluesky {
                url,
                search,
                login: pair(&s.identifier, "identifier", &s.app_password, "app_password")?,
            },
            "reddit" => PlatformSpec::Reddit {
                url,
                search,
                subreddit: text(&s.subreddit, "subreddit")?.map(|r| {
                    r.trim_start_matches("/r/")
                        .trim_start_matches("r/")
                        .trim_end_matches('/')
                        .to_owned()
                }),
                credentials: pair(&s.client_id, "client_id", &s.client_secret, "client_secret")?,
            },
            "lemmy" => PlatformSpec::Lemmy { url, search },
            "discourse" => PlatformSpec::Discourse { url, search },
            "hackernews" => PlatformSpec::HackerNews { url, search },
            _ => PlatformSpec::Telegram {
                url,
                channels: names(&s.channels, "channels", "\"durov\"", &|c| {
                    c.trim_start_matches("https://")
                        .trim_start_matches("t.me/s/")
                        .trim_start_matches("t.me/")
                        .trim_start_matches('@')
                        .trim_end_matches('/')
                        .to_owned()
                })?,
            },
        })
    }

    fn selectors(&self, entry: &Spanned<RawSource>, name: &str) -> Result<Selectors, ConfigError> {
        let s = entry.get_ref();
        let owner = format!("source \"{name}\"");
        let required = |v: &Option<Spanned<String>>, key: &str| match v {
            Some(v) => Ok(v.get_ref().clone()),
            None => Err(self.missing(
                entry.span(),
                &owner,
                key,
                "html sources need item, title and link selectors",
            )),
        };
        let optional = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.get_ref().clone());
        let spec = SelectorSpec {
            item: required(&s.item, "item")?,
            title: required(&s.title, "title")?,
            link: required(&s.link, "link")?,
            date: optional(&s.date),
            text: optional(&s.text),
            author: optional(&s.author),
            next: optional(&s.next),
        };
        Selectors::compile(&spec).map_err(|e| {
            let field = match e.key {
                "item" => &s.item,
                "title" => &s.title,
                "link" => &s.link,
                "date" => &s.date,
                "text" => &s.text,
                "author" => &s.author,
                "next" => &s.next,
                _ => &None,
            };
            let span = field.as_ref().map(Spanned::span).unwrap_or(entry.span());
            self.at(
                span,
                Some(&owner),
                e.key,
                format!("invalid CSS selector `{}`: {}", e.selector, e.message),
            )
        })
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
        let Some(topic_index) = topics.iter().position(|t| &t.name == topic.get_ref()) else {
            return Err(self.at(
                topic.span(),
                Some(&owner),
                "topic",
                format!(
                    "unknown topic \"{}\"; {}",
                    topic.get_ref(),
                    known_topics(topics)
                ),
            ));
        };
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

    // --- value helpers ---

    fn name(
        &self,
        name: &Option<Spanned<String>>,
        table: Range<usize>,
        unnamed: &str,
    ) -> Result<String, ConfigError> {
        match name {
            Some(n) if n.get_ref().trim().is_empty() => {
                Err(self.at(n.span(), Some(unnamed), "name", "is empty; give it a name"))
            }
            Some(n) => Ok(n.get_ref().trim().to_owned()),
            None => Err(self.missing(table, unnamed, "name", "give it a unique name")),
        }
    }

    fn missing(&self, table: Range<usize>, owner: &str, key: &str, hint: &str) -> ConfigError {
        self.err(
            Some(table),
            false,
            Some(owner),
            None,
            format!("missing key `{key}`; {hint}"),
        )
    }

    fn positive_duration(
        &self,
        v: &Spanned<String>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<Duration, ConfigError> {
        match parse_duration(v.get_ref()) {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(self.at(
                v.span(),
                owner,
                key,
                format!(
                    "\"{}\" is not a duration above zero; write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\"",
                    v.get_ref()
                ),
            )),
        }
    }

    fn count<T: TryFrom<i64>>(
        &self,
        v: &Spanned<i64>,
        min: i64,
        owner: Option<&str>,
        key: &str,
    ) -> Result<T, ConfigError> {
        let n = *v.get_ref();
        if n < min {
            return Err(self.at(
                v.span(),
                owner,
                key,
                format!("{n} is too small; it must be at least {min}"),
            ));
        }
        T::try_from(n).map_err(|_| self.at(v.span(), owner, key, format!("{n} is too large")))
    }

    fn http_url(
        &self,
        v: &Spanned<String>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<Url, ConfigError> {
        let text = v.get_ref().trim();
        match Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
            Ok(_) => Err(self.at(
                v.span(),
                owner,
                key,
                format!("\"{text}\" is not an http:// or https:// URL"),
            )),
            Err(e) => Err(self.at(
                v.span(),
                owner,
                key,
                format!("\"{text}\" is not a valid URL ({e}); write a full address such as https://example.org/feed.xml"),
            )),
        }
    }

    fn schedule(
        &self,
        v: &Spanned<String>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<Schedule, ConfigError> {
        Schedule::parse(v.get_ref()).map_err(|e| self.at(v.span(), owner, key, e))
    }
}

fn known_topics(topics: &[Topic]) -> String {
    if topics.is_empty() {
        "no [[topic]] is defined".to_owned()
    } else {
        let names: Vec<String> = topics.iter().map(|t| format!("\"{}\"", t.name)).collect();
        format!("defined topics are {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = include_str!("../tests/fixtures/config/full.toml");

    fn env(name: &str) -> Option<String> {
        match name {
            "ALERT_CHANNEL" => Some("newsdesk".to_owned()),
            "FEED_TOKEN" => Some("s3cr\"et'=x".to_owned()),
            "UA" => Some("mentions-ci/2".to_owned()),
            "TOKEN" => Some("s3cret".to_owned()),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::parse_with_env(text, Path::new("config.toml"), &env)
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.message,
        }
    }

    const TOPIC: &str = "[[topic]]\nname = \"nk\"\nquery = 'nordkorea AND russland'\n";

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
        assert_eq!(s.server, Some("127.0.0.1:9464".parse().expect("addr")));

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
    fn source_defaults_by_type() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"f\"\ntype = \"feed\"\nurl = \"https://example.org/feed.xml\"\n\n\
             [[source]]\nname = \"h\"\ntype = \"html\"\nurl = \"https://example.org/news/\"\n\
             item = \"article\"\ntitle = \"h2\"\nlink = \"h2 a\"\n"
        );
        let s = parse(&text).expect("valid");
        let (f, h) = (&s.sources[0], &s.sources[1]);
        assert_eq!((f.kind, f.enabled, f.max_pages), (Kind::Web, true, 10));
        assert_eq!(f.lookback, Duration::from_secs(7 * 86_400));
        assert_eq!(f.topics, [0]);
        assert_eq!(f.schedule.text, "0 */15 * * * *");
        assert!(matches!(
            f.spec,
            SourceSpec::Feed {
                full_text: false,
                ..
            }
        ));
        assert_eq!((h.kind, h.max_pages), (Kind::Web, 1));
        match &h.spec {
            SourceSpec::Html { selectors, .. } => {
                assert!(selectors.date.is_none() && selectors.next.is_none())
            }
            other => panic!("expected html, got {other:?}"),
        }
    }

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
    fn variables_are_expanded_in_parsed_values() {
        let text = format!(
            "[crawler]\nuser_agent = \"${{UA}} (+https://example.org)\"\n\n{TOPIC}\n\
             [[source]]\nname = \"f\"\ntype = \"feed\"\n\
             url = \"https://example.org/feed?token=${{FEED_TOKEN}}\"\n"
        );
        let s = parse(&text).expect("valid");
        assert_eq!(s.http.user_agent, "mentions-ci/2 (+https://example.org)");
        match &s.sources[0].spec {
            // The value's quotes and `=` stay inside the string: no textual substitution.
            SourceSpec::Feed { url, .. } => assert_eq!(
                url.query_pairs()
                    .next()
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
                Some(("token".to_owned(), "s3cr\"et'=x".to_owned()))
            ),
            other => panic!("expected a feed, got {other:?}"),
        }
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        assert_eq!(
            error("[crawler]\ntimeout = \"30s\"\nretries = = 2\n"),
            "config.toml:3:11: TOML syntax error: extra `=`, expected nothing"
        );
        let e = error("[[topic]]\nname = \"nk\nquery = \"x\"\n");
        assert!(e.starts_with("config.toml:2:"), "{e}");
        assert!(e.contains("TOML syntax error"), "{e}");
    }

    #[test]
    fn unknown_top_level_key() {
        assert_eq!(
            error("[crawler]\ntimeout = \"30s\"\n\n[reprot]\nlanguage = \"de\"\n"),
            "config.toml:4:2: unknown key `reprot` (expected one of database, crawler, report, \
             server, topic, source, alert); remove it or correct its spelling"
        );
    }

    #[test]
    fn unknown_crawler_key() {
        let e = error("[crawler]\nretries = 2\ntimeot = \"30s\"\n");
        assert!(
            e.starts_with("config.toml:3:1: crawler: unknown key `timeot` (expected one of user_agent, timeout,"),
            "{e}"
        );
    }

    #[test]
    fn unknown_source_key() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://www.merkur.de/politik/rssfeed.rdf\"\nfulltext = true\n"
        );
        let e = error(&text);
        assert!(
            e.starts_with("config.toml:9:1: source \"merkur\": unknown key `fulltext` (expected one of name, type,"),
            "{e}"
        );
    }

    #[test]
    fn platform_sources_with_defaults_and_secrets() {
        let text = format!(
            "{TOPIC}
[[source]]
name = \"fedi\"
type = \"mastodon\"
url = \"https://mastodon.social\"
hashtags = [\"#Nordkorea\", \"russland\", \"nordkorea\"]
access_token = \"${{TOKEN}}\"

[[source]]
name = \"sky\"
type = \"bluesky\"
identifier = \"alice.example\"
app_password = \"${{TOKEN}}\"

[[source]]
name = \"rd\"
type = \"reddit\"
subreddit = \"r/de\"
search = \"nordkorea\"

[[source]]
name = \"hn\"
type = \"hackernews\"

[[source]]
name = \"tg\"
type = \"telegram\"
channels = [\"@durov\", \"https://t.me/s/telegram\"]
"
        );
        let s = Settings::parse_with_env(&text, Path::new("config.toml"), &env).expect("valid");
        let kinds: Vec<Kind> = s.sources.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Social,
                Kind::Social,
                Kind::Forum,
                Kind::Forum,
                Kind::Social
            ]
        );
        match &s.sources[0].spec {
            SourceSpec::Platform(PlatformSpec::Mastodon {
                hashtags,
                access_token,
                ..
            }) => {
                assert_eq!(hashtags, &["Nordkorea", "russland", "nordkorea"]);
                assert_eq!(access_token.as_ref().map(Secret::expose), Some("s3cret"));
                // Secrets never print.
                assert!(!format!("{:?}", s.sources[0]).contains("s3cret"));
            }
            other => panic!("{other:?}"),
        }
        match &s.sources[1].spec {
            SourceSpec::Platform(PlatformSpec::Bluesky { url, login, search }) => {
                assert_eq!(url.as_str(), "https://public.api.bsky.app/");
                assert_eq!(login.as_ref().map(|l| l.0.as_str()), Some("alice.example"));
                assert!(search.is_none());
            }
            other => panic!("{other:?}"),
        }
        match &s.sources[2].spec {
            SourceSpec::Platform(PlatformSpec::Reddit {
                url,
                subreddit,
                credentials,
                ..
            }) => {
                assert_eq!(url.as_str(), "https://www.reddit.com/");
                assert_eq!(subreddit.as_deref(), Some("de"));
                assert!(credentials.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.sources[3].spec.type_name(), "hackernews");
        match &s.sources[4].spec {
            SourceSpec::Platform(PlatformSpec::Telegram { channels, .. }) => {
                assert_eq!(channels, &["durov", "telegram"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn platform_source_errors() {
        let half_login = format!(
            "{TOPIC}\n[[source]]\nname = \"sky\"\ntype = \"bluesky\"\nidentifier = \"alice.example\"\n"
        );
        assert!(
            error(&half_login).contains("app_password"),
            "{}",
            error(&half_login)
        );
        let no_instance = format!("{TOPIC}\n[[source]]\nname = \"l\"\ntype = \"lemmy\"\n");
        assert!(
            error(&no_instance).contains("url"),
            "{}",
            error(&no_instance)
        );
        let misplaced = format!(
            "{TOPIC}\n[[source]]\nname = \"f\"\ntype = \"feed\"\nurl = \"https://e.org/f\"\nhashtags = [\"x\"]\n"
        );
        assert!(
            error(&misplaced).contains("mastodon sources"),
            "{}",
            error(&misplaced)
        );
        let empty = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"mastodon\"\nurl = \"https://m.example\"\nhashtags = []\n"
        );
        assert!(error(&empty).contains("config.toml:9"), "{}", error(&empty));
    }

    #[test]
    fn unknown_source_type() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"rss\"\nurl = \"https://www.merkur.de/\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:7:8: source \"merkur\": type: unknown type \"rss\"; expected one of feed, sitemap, html, mastodon, bluesky, reddit, lemmy, discourse, hackernews, telegram"
        );
    }

    #[test]
    fn key_of_another_type() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://www.merkur.de/\"\nitem = \"li.teaser\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:9:8: source \"merkur\": item: this key does not apply to a feed source \
             (it is for html sources); remove it"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"forum\"\ntype = \"html\"\nurl = \"https://forum.example/\"\n\
             item = \"li\"\ntitle = \"a\"\nlink = \"a\"\nfull_text = true\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:12:13: source \"forum\": full_text: this key does not apply to a html \
             source (it is for feed and sitemap sources); remove it"
        );
    }

    #[test]
    fn bad_cron() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://www.merkur.de/\"\nschedule = \"0 */15 * * * * *\"\n"
        );
        let e = error(&text);
        assert!(
            e.starts_with("config.toml:9:12: source \"merkur\": schedule: invalid cron expression `0 */15 * * * * *`: it has 7 fields;"),
            "{e}"
        );
        let e = error("[crawler]\nschedule = \"0 0 * * 8\"\n");
        assert!(
            e.starts_with("config.toml:2:12: crawler.schedule: invalid cron expression `0 0 * * 8`: day-of-week: `8` is not a day of the week"),
            "{e}"
        );
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
    fn unknown_topic_in_topics() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\nurl = \"https://a.example/\"\n\
             topics = [\"nk\", \"bahnstreik\"]\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:9:17: source \"merkur\": topics: unknown topic \"bahnstreik\"; defined topics are \"nk\""
        );
    }

    #[test]
    fn unset_variable() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://a.example/feed?key=${{MENTIONS_TEST_UNSET}}\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:7: source \"merkur\": url: environment variable MENTIONS_TEST_UNSET is \
             not set; set it or replace ${MENTIONS_TEST_UNSET}"
        );
        assert_eq!(
            error("[crawler]\nproxy = \"http://${PROXY_HOST:3128\"\n"),
            "config.toml:2:9: crawler.proxy: `${` without a closing `}`; write ${NAME}"
        );
    }

    #[test]
    fn wrong_value_types_and_ranges() {
        assert_eq!(
            error("[crawler]\nmax_redirects = \"ten\"\n"),
            "config.toml:2:17: crawler.max_redirects: invalid type: string \"ten\", expected a whole number"
        );
        assert_eq!(
            error("[crawler]\nconcurrency = 0\n"),
            "config.toml:2:15: crawler.concurrency: 0 is too small; it must be at least 1"
        );
        assert_eq!(
            error("[crawler]\ntimeout = \"30 seconds\"\n"),
            "config.toml:2:11: crawler.timeout: \"30 seconds\" is not a duration above zero; \
             write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\""
        );
        let e = error("[crawler]\nmax_body = \"10 MegaBytes\"\n");
        assert!(
            e.starts_with("config.toml:2:12: crawler.max_body: is not a size"),
            "{e}"
        );
        assert_eq!(
            error("[crawler]\ntimezone = \"Europe/Berln\"\n"),
            "config.toml:2:12: crawler.timezone: unknown time zone \"Europe/Berln\"; use an IANA \
             name such as \"Europe/Berlin\" or \"UTC\""
        );
        assert_eq!(
            error("[report]\nlanguage = \"fr\"\n"),
            "config.toml:2:12: report.language: unknown language \"fr\"; expected \"en\" or \"de\""
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"feed\"\nkind = \"news\"\nurl = \"https://a.example/\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:8: source \"m\": kind: unknown kind \"news\"; expected one of web, social, forum"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"feed\"\nurl = \"ftp://a.example/x\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:7: source \"m\": url: \"ftp://a.example/x\" is not an http:// or https:// URL"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"feed\"\nurl = \"https://a.example/\"\nenabled = \"yes\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:9:11: source \"m\": enabled: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn bad_selector() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"forum\"\ntype = \"html\"\nurl = \"https://forum.example/\"\n\
             item = \"li.result\"\ntitle = \"h3 >\"\nlink = \"a\"\n"
        );
        let e = error(&text);
        assert!(
            e.starts_with("config.toml:10:9: source \"forum\": title: invalid CSS selector `h3 >`"),
            "{e}"
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

    #[test]
    fn error_names_the_full_path() {
        let e =
            Settings::parse_with_env("colour = 1\n", Path::new("/etc/mentions/config.toml"), &env)
                .expect_err("unknown key");
        assert!(
            e.message
                .starts_with("/etc/mentions/config.toml:1:1: unknown key `colour`"),
            "{e}"
        );
    }

    #[test]
    fn max_body_in_plain_bytes() {
        let s = parse("[crawler]\nmax_body = 1048576\n").expect("plain bytes");
        assert_eq!(s.http.max_body, 1_048_576);
    }
}
