//! The rows behind the counts, as people and programs see them: `list`
//! (the mentions a report counts, as text, JSON, NDJSON or CSV),
//! `explain` (one mention, the terms that matched and every sighting
//! merged into it; or what is known of a URL that is no mention) and
//! `exclusions`. The command line and the HTTP endpoint (`/api/mentions`)
//! share these renderers, so a row has one JSON shape wherever it is read.

use crate::config::Settings;
use crate::query::Query;
use crate::report::{csv_field, Window};
use crate::sources::Kind;
use crate::store::{Exclusion, Explained, ListFilter, Listed, Reads, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// The fields of a listed mention, in the order of the CSV columns and of
/// the JSON objects.
pub const FIELDS: [&str; 13] = [
    "id",
    "topic",
    "kind",
    "at",
    "source",
    "domain",
    "author",
    "title",
    "url",
    "excerpt",
    "lang",
    "sightings",
    "undated",
];

/// Rows `list --format text` shows per topic without `--limit`.
pub const TEXT_ROWS: usize = 50;
/// Rows `/api/mentions` gives per page without `limit`, and at most.
pub const PAGE_ROWS: usize = 50;
pub const MAX_PAGE_ROWS: usize = 1000;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One listed mention as JSON: the `FIELDS`, in order; `excluded_by` (the
/// exclusion's id) follows on rows that are excluded.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    id: i64,
    topic: &'a str,
    kind: &'static str,
    at: String,
    source: &'a str,
    domain: Option<&'a str>,
    author: Option<&'a str>,
    title: &'a str,
    url: Option<&'a str>,
    excerpt: &'a str,
    lang: Option<&'a str>,
    sightings: Option<u64>,
    undated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    excluded_by: Option<i64>,
}

impl<'a> From<&'a Listed> for Row<'a> {
    fn from(m: &'a Listed) -> Row<'a> {
        Row {
            id: m.id,
            topic: &m.topic,
            kind: m.kind.as_str(),
            at: rfc3339(m.at),
            source: &m.source,
            domain: m.domain.as_deref(),
            author: m.author.as_deref(),
            title: &m.title,
            url: (!m.url.is_empty()).then_some(m.url.as_str()),
            excerpt: &m.excerpt,
            lang: m.lang.as_deref(),
            sightings: m.sightings,
            undated: m.undated,
            excluded_by: m.excluded_by,
        }
    }
}

/// A row as one line of JSON, without the line break.
pub fn json_row(m: &Listed) -> String {
    serde_json::to_string(&Row::from(m)).unwrap_or_default()
}

/// The CSV header; `excluded` adds the `excluded_by` column.
pub fn csv_header(excluded: bool) -> String {
    let mut out = FIELDS.join(",");
    if excluded {
        out.push_str(",excluded_by");
    }
    out.push('\n');
    out
}

/// One CSV row (RFC 4180 quoting), line break included. Missing values are
/// empty; `undated` is `true` or `false`.
pub fn csv_row(m: &Listed, excluded: bool) -> String {
    let opt = |s: Option<&str>| s.map(csv_field).unwrap_or_default();
    let mut out = format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{}",
        m.id,
        csv_field(&m.topic),
        m.kind.as_str(),
        rfc3339(m.at),
        csv_field(&m.source),
        opt(m.domain.as_deref()),
        opt(m.author.as_deref()),
        csv_field(&m.title),
        csv_field(&m.url),
        csv_field(&m.excerpt),
        opt(m.lang.as_deref()),
        m.sightings.map(|n| n.to_string()).unwrap_or_default(),
        m.undated,
    );
    if excluded {
        let _ = write!(
            out,
            ",{}",
            m.excluded_by.map(|n| n.to_string()).unwrap_or_default()
        );
    }
    out.push('\n');
    out
}

/// `text` on one line of at most `width` characters: control characters
/// become spaces, and what does not fit ends in `…`.
fn cell(text: &str, width: usize) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= width {
        return flat;
    }
    let mut out: String = flat.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn pad(text: &str, width: usize) -> String {
    let text = cell(text, width);
    let n = text.chars().count();
    text + &" ".repeat(width.saturating_sub(n))
}

/// Widths of the text table's columns before the URL.
const ID_W: usize = 8;
const TIME_W: usize = 16;
const KIND_W: usize = 6;
const SOURCE_W: usize = 16;
const DOMAIN_W: usize = 24;
const TITLE_W: usize = 56;

/// The text table's heading of one topic: its name and window, and the
/// column names.
pub fn text_heading(topic: &str, window: Window, excluded: bool) -> String {
    let mut out = format!(
        "{topic} · {} – {} UTC{}\n",
        window.from.format("%Y-%m-%d %H:%M"),
        window.to.format("%Y-%m-%d %H:%M"),
        if excluded { " · excluded" } else { "" }
    );
    let _ = write!(
        out,
        "{:>ID_W$}  {}  {}  {}  {}  {}  ",
        "id",
        pad("time (UTC)", TIME_W),
        pad("kind", KIND_W),
        pad("source", SOURCE_W),
        pad("domain", DOMAIN_W),
        pad("title", TITLE_W),
    );
    if excluded {
        out.push_str("excluded by  ");
    }
    out.push_str("url\n");
    out
}

/// One row of the text table, line break included.
pub fn text_row(m: &Listed, excluded: bool) -> String {
    let mut out = format!(
        "{:>ID_W$}  {}  {}  {}  {}  {}  ",
        m.id,
        pad(&m.at.format("%Y-%m-%d %H:%M").to_string(), TIME_W),
        pad(m.kind.as_str(), KIND_W),
        pad(&m.source, SOURCE_W),
        pad(m.domain.as_deref().unwrap_or("-"), DOMAIN_W),
        pad(&m.title, TITLE_W),
    );
    if excluded {
        let by = m
            .excluded_by
            .map_or_else(|| "-".to_owned(), |n| format!("exclusion {n}"));
        out.push_str(&pad(&by, 11));
        out.push_str("  ");
    }
    out.push_str(&cell(if m.url.is_empty() { "-" } else { &m.url }, 2_000));
    out.push('\n');
    out
}

/// The line under a text table that was cut short.
pub fn text_more(more: u64) -> String {
    format!("… {more} more (--limit N shows more; --format csv, json or ndjson lists them all)\n")
}

/// What a listing selects, before it is split by topic.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Topic names, in config order.
    pub topics: Vec<String>,
    pub window: Window,
    pub kinds: Vec<Kind>,
    pub sources: Vec<String>,
    pub domains: Vec<String>,
    pub search: Option<Query>,
    pub excluded: bool,
}

impl Selection {
    /// One filter per topic, in config order.
    pub fn filters(&self) -> Vec<ListFilter> {
        self.topics
            .iter()
            .map(|topic| ListFilter {
                topic: topic.clone(),
                from: self.window.from.timestamp(),
                to: self.window.to.timestamp(),
                kinds: self.kinds.clone(),
                sources: self.sources.clone(),
                domains: self.domains.clone(),
                search: self.search.clone(),
                excluded: self.excluded,
                after: None,
            })
            .collect()
    }
}

/// `--search` / `q`: the query language of topics; an error names `name`
/// and the position.
pub fn parse_search(name: &str, text: &str) -> Result<Query, String> {
    Query::parse(text).map_err(|e| format!("{name} {text:?}: {e}"))
}

/// A domain as given to `--domain` (or `domain=`): a host name, or a URL
/// whose host is taken.
pub fn parse_domain(name: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    let host = if text.contains("://") {
        url::Url::parse(text)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .ok_or_else(|| format!("{name} {text:?} is neither a host name nor a URL with one"))?
    } else {
        text.trim_end_matches('/').to_owned()
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(format!(
            "{name} {text:?} is not a host name such as www.example.org"
        ));
    }
    Ok(host.to_lowercase())
}

/// A kind name as given to `kind=`.
pub fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::parse(text).ok_or_else(|| format!("kind {text:?} is not one of web, social, forum"))
}

/// The first of `names` that is neither a configured source nor one the
/// database knows: a mistyped name must not list nothing silently.
pub fn unknown_source(
    store: &dyn Reads,
    settings: &Settings,
    names: &[String],
) -> Result<Option<String>, StoreError> {
    if names
        .iter()
        .all(|n| settings.sources.iter().any(|s| &s.name == n))
    {
        return Ok(None);
    }
    let stored = store.source_health()?;
    Ok(names
        .iter()
        .find(|n| {
            !settings.sources.iter().any(|s| &s.name == *n) && !stored.iter().any(|s| &s.name == *n)
        })
        .cloned())
}

/// Where a page of `/api/mentions` ended: the last row's topic, time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub topic: String,
    pub at: i64,
    pub id: i64,
}

impl Cursor {
    fn of(m: &Listed) -> Cursor {
        Cursor {
            topic: m.topic.clone(),
            at: m.at_secs,
            id: m.id,
        }
    }

    /// The opaque form handed to clients: hex of `at:id:topic`.
    pub fn encode(&self) -> String {
        let plain = format!("{}:{}:{}", self.at, self.id, self.topic);
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a cursor this endpoint handed out; None for anything else.
    pub fn decode(text: &str) -> Option<Cursor> {
        if text.is_empty() || !text.len().is_multiple_of(2) || text.len() > 2_000 {
            return None;
        }
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect::<Option<_>>()?;
        let plain = String::from_utf8(bytes).ok()?;
        let mut parts = plain.splitn(3, ':');
        let at = parts.next()?.parse().ok()?;
        let id = parts.next()?.parse().ok()?;
        let topic = parts.next()?.to_owned();
        (id > 0 && !topic.is_empty()).then_some(Cursor { topic, at, id })
    }
}

/// One page of a listing over several topics (each newest first, topics in
/// the order of `filters`): at most `limit` rows after `cursor`, and the
/// cursor of the next page when there are more. `cursor` must name one of
/// the filters' topics.
pub fn page(
    store: &dyn Reads,
    filters: &[ListFilter],
    cursor: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Listed>, Option<Cursor>), StoreError> {
    let start = match cursor {
        None => 0,
        Some(c) => filters.iter().position(|f| f.topic == c.topic).unwrap_or(0),
    };
    // One row more than asked says whether there is a next page.
    let wanted = limit + 1;
    let mut rows: Vec<Listed> = Vec::with_capacity(wanted.min(MAX_PAGE_ROWS + 1));
    for (i, filter) in filters.iter().enumerate().skip(start) {
        let filter = ListFilter {
            after: cursor.filter(|_| i == start).map(|c| (c.at, c.id)),
            ..filter.clone()
        };
        let left = wanted - rows.len();
        store.list(&filter, Some(left), &mut |m| {
            rows.push(m);
            true
        })?;
        if rows.len() >= wanted {
            break;
        }
    }
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(Cursor::of)
    } else {
        None
    };
    Ok((rows, next))
}

/// A page of `/api/mentions`: `{"mentions": [...], "next": "<cursor>" | null}`.
pub fn page_json(rows: &[Listed], next: Option<&Cursor>) -> String {
    let mut out = String::from("{\"mentions\": [");
    for (i, m) in rows.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&json_row(m));
    }
    if !rows.is_empty() {
        out.push('\n');
    }
    let next = next.map_or(Value::Null, |c| Value::String(c.encode()));
    let _ = writeln!(out, "], \"next\": {next}}}");
    out
}

/// An exclusion as JSON (`exclusions --format json`, and `excluded` in
/// `explain`), fields in this order.
#[derive(Debug, Serialize)]
pub struct ExclusionJson<'a> {
    id: i64,
    what: &'a str,
    mention: Option<i64>,
    domain: Option<&'a str>,
    author: Option<&'a str>,
    topic: Option<&'a str>,
    source: Option<&'a str>,
    reason: Option<&'a str>,
    created: String,
    mentions: u64,
}

impl<'a> From<&'a Exclusion> for ExclusionJson<'a> {
    fn from(e: &'a Exclusion) -> ExclusionJson<'a> {
        ExclusionJson {
            id: e.id,
            what: &e.what,
            mention: e.mention,
            domain: e.domain.as_deref(),
            author: e.author.as_deref(),
            topic: e.topic.as_deref(),
            source: e.source.as_deref(),
            reason: e.reason.as_deref(),
            created: rfc3339(e.created),
            mentions: e.mentions,
        }
    }
}

/// Pretty JSON of anything here, with a final line break.
pub fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_default();
    out.push('\n');
    out
}

/// What an exclusion takes out, in words: `domain spam.example for topic
/// nk`, `author bot in source masto`, `mention 42`.
pub fn exclusion_words(e: &Exclusion) -> String {
    match e.what.as_str() {
        "domain" => format!(
            "domain {} for {}",
            e.domain.as_deref().unwrap_or("?"),
            e.topic
                .as_deref()
                .map_or_else(|| "every topic".to_owned(), |t| format!("topic {t}"))
        ),
        "author" => format!(
            "author {} in source {}",
            e.author.as_deref().unwrap_or("?"),
            e.source.as_deref().unwrap_or("?")
        ),
        _ => match e.mention {
            Some(id) => format!("mention {id}"),
            None => "a mention no longer stored".to_owned(),
        },
    }
}

/// `exclusions` as a table, oldest first.
pub fn exclusions_text(all: &[Exclusion]) -> String {
    if all.is_empty() {
        return "no exclusions\n".to_owned();
    }
    let mut out = format!(
        "{:>6}  {}  {}  {}  {:>8}  {}  reason\n",
        "id",
        pad("what", 7),
        pad("target", 28),
        pad("topic / source", 28),
        "mentions",
        pad("created (UTC)", 16),
    );
    for e in all {
        let target = match e.what.as_str() {
            "domain" => e.domain.clone().unwrap_or_default(),
            "author" => e.author.clone().unwrap_or_default(),
            _ => e.mention.map(|m| m.to_string()).unwrap_or_default(),
        };
        let scope = match e.what.as_str() {
            "author" => format!("source {}", e.source.as_deref().unwrap_or("?")),
            "domain" if e.topic.is_none() => "every topic".to_owned(),
            _ => e
                .topic
                .as_deref()
                .map_or_else(|| "-".to_owned(), |t| format!("topic {t}")),
        };
        let _ = writeln!(
            out,
            "{:>6}  {}  {}  {}  {:>8}  {}  {}",
            e.id,
            pad(&e.what, 7),
            pad(&target, 28),
            pad(&scope, 28),
            e.mentions,
            pad(&e.created.format("%Y-%m-%d %H:%M").to_string(), 16),
            cell(e.reason.as_deref().unwrap_or("-"), 200),
        );
    }
    out
}

/// A mention explained: the stored rows and what the config says of them.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub explained: Explained,
    /// The topic's query terms found in the title and excerpt.
    pub matched: Vec<String>,
    /// Whether the mention's topic is still configured.
    pub topic_configured: bool,
    pub exclusion: Option<Exclusion>,
}

/// Explains the mention `id`; None when there is none.
pub fn explain_mention(
    store: &dyn Reads,
    settings: &Settings,
    id: i64,
) -> Result<Option<Explanation>, StoreError> {
    let Some(explained) = store.explain(id)? else {
        return Ok(None);
    };
    let m = &explained.mention;
    let topic = settings.topics.iter().find(|t| t.name == m.topic);
    let matched = topic.map_or_else(Vec::new, |t| {
        let normalized = crate::text::normalize(&format!("{}\n{}", m.title, m.excerpt));
        let tokens: Vec<&str> = crate::text::token_slices(&normalized).collect();
        t.query.matched_terms(&tokens)
    });
    let exclusion = match m.excluded_by {
        Some(rule) => store.exclusion(rule)?,
        None => None,
    };
    Ok(Some(Explanation {
        matched,
        topic_configured: topic.is_some(),
        exclusion,
        explained,
    }))
}

impl Explanation {
    /// Sentences about what is missing: sightings recorded before this
    /// version, sightings deleted by retention, a topic no longer configured.
    pub fn notes(&self) -> Vec<String> {
        let m = &self.explained.mention;
        let mut notes = Vec::new();
        if m.sightings.is_none() {
            notes.push(
                "stored before sightings were recorded: only the sighting that stored it is known"
                    .to_owned(),
            );
        } else if self.explained.pruned > 0 {
            notes.push(format!(
                "{} older sightings were deleted by retention; they still count in sightings",
                self.explained.pruned
            ));
        }
        if !self.topic_configured {
            notes.push(format!(
                "topic {} is no longer configured: the terms that matched are unknown",
                m.topic
            ));
        } else if self.matched.is_empty() {
            notes.push(
                "no query term is in the stored title and excerpt: it matched in the full text"
                    .to_owned(),
            );
        }
        notes
    }

    /// `{"mention": {…}, "matched": […], "sightings": […]}`, with
    /// `excluded` when it is excluded and `note` when something is missing.
    pub fn json(&self) -> ExplainJson<'_> {
        let x = &self.explained;
        let notes = self.notes();
        ExplainJson {
            mention: Row::from(&x.mention),
            matched: &self.matched,
            sightings: x
                .sightings
                .iter()
                .map(|s| SightingJson {
                    source: &s.source,
                    seen_at: rfc3339(s.seen_at),
                    url: &s.url,
                    rule: s.rule.name(),
                    detail: s.detail.as_deref(),
                })
                .collect(),
            excluded: self.exclusion.as_ref().map(ExclusionJson::from),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }

    /// The explanation for people.
    pub fn text(&self) -> String {
        let x = &self.explained;
        let m = &x.mention;
        let mut out = format!(
            "mention {} · topic {} · {} · {} UTC{}\n",
            m.id,
            m.topic,
            m.kind.as_str(),
            m.at.format("%Y-%m-%d %H:%M"),
            if m.undated {
                " (undated: when first seen)"
            } else {
                ""
            }
        );
        let line = |out: &mut String, label: &str, value: &str| {
            let _ = writeln!(out, "  {label:<10}{}", cell(value, 2_000));
        };
        line(&mut out, "title", &m.title);
        line(&mut out, "url", if m.url.is_empty() { "-" } else { &m.url });
        line(&mut out, "domain", m.domain.as_deref().unwrap_or("-"));
        line(&mut out, "source", &m.source);
        line(&mut out, "author", m.author.as_deref().unwrap_or("-"));
        line(&mut out, "lang", m.lang.as_deref().unwrap_or("-"));
        if !m.excerpt.is_empty() {
            line(&mut out, "excerpt", &m.excerpt);
        }
        line(
            &mut out,
            "matched",
            &if self.matched.is_empty() {
                "-".to_owned()
            } else {
                self.matched.join(", ")
            },
        );
        match (&self.exclusion, m.excluded_by) {
            (Some(e), _) => {
                let mut words = format!(
                    "yes, by exclusion {} ({}) on {} UTC",
                    e.id,
                    exclusion_words(e),
                    e.created.format("%Y-%m-%d %H:%M")
                );
                if let Some(reason) = &e.reason {
                    let _ = write!(words, ": {reason}");
                }
                line(&mut out, "excluded", &words);
            }
            (None, Some(rule)) => line(&mut out, "excluded", &format!("yes, by exclusion {rule}")),
            (None, None) => {}
        }
        let seen = match m.sightings {
            Some(n) => n.to_string(),
            None => "unknown".to_owned(),
        };
        let _ = writeln!(out, "  sightings ({seen}):");
        for s in &x.sightings {
            let _ = write!(
                out,
                "    {} UTC  {}  {}  {}",
                s.seen_at.format("%Y-%m-%d %H:%M"),
                pad(&s.source, SOURCE_W),
                pad(s.rule.name(), 8),
                cell(&s.url, 2_000)
            );
            if let Some(detail) = &s.detail {
                let _ = write!(out, "  ({})", cell(detail, 2_000));
            }
            out.push('\n');
        }
        for note in self.notes() {
            let _ = writeln!(out, "  note: {note}");
        }
        out
    }
}

/// The JSON of `explain`, fields in this order.
#[derive(Debug, Serialize)]
pub struct ExplainJson<'a> {
    mention: Row<'a>,
    matched: &'a [String],
    sightings: Vec<SightingJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    excluded: Option<ExclusionJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct SightingJson<'a> {
    source: &'a str,
    seen_at: String,
    url: &'a str,
    rule: &'static str,
    detail: Option<&'a str>,
}

/// The JSON of `explain` for a URL that is no mention.
#[derive(Debug, Serialize)]
pub struct NotAMentionJson<'a> {
    url: &'a str,
    identity: &'a str,
    /// Always null: the field a script checks.
    mention: Option<()>,
    seen: Vec<SeenJson<'a>>,
    not_matched: &'a [String],
}

#[derive(Debug, Serialize)]
struct SeenJson<'a> {
    source: &'a str,
    seen_at: String,
}

/// What is known of a URL.
#[derive(Debug, Clone)]
pub enum UrlFacts {
    /// It is a mention (one per topic it matched).
    Mentions(Vec<Explanation>),
    /// It is no mention.
    NotAMention(NotAMention),
}

/// A URL that is no mention: which sources saw it, and which topics it did
/// not match.
#[derive(Debug, Clone)]
pub struct NotAMention {
    pub url: String,
    /// The canonical form it was looked up by.
    pub identity: String,
    pub seen: Vec<(String, DateTime<Utc>)>,
    /// The topics of the sources that saw it, in config order.
    pub not_matched: Vec<String>,
    /// Sources that saw it but are no longer configured.
    pub unconfigured: Vec<String>,
    /// Whether retention may have deleted it.
    pub retention: bool,
}

/// Explains `url`: the mentions it is, or what is known of it.
pub fn explain_url(
    store: &dyn Reads,
    settings: &Settings,
    url: &str,
) -> Result<UrlFacts, StoreError> {
    let ids = store.mentions_at(url)?;
    if !ids.is_empty() {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(explain_mention(store, settings, id)?);
        }
        return Ok(UrlFacts::Mentions(out));
    }
    let url = url.trim();
    let identity =
        crate::canon::canonical_str(url, None).map_or_else(|| url.to_owned(), |c| c.to_string());
    let seen = store.seen_by(&identity)?;
    let mut not_matched: Vec<String> = Vec::new();
    let mut unconfigured = Vec::new();
    for (name, _) in &seen {
        match settings.sources.iter().find(|s| &s.name == name) {
            None => unconfigured.push(name.clone()),
            Some(source) => {
                for &t in &source.topics {
                    if let Some(topic) = settings.topics.get(t) {
                        if !not_matched.contains(&topic.name) {
                            not_matched.push(topic.name.clone());
                        }
                    }
                }
            }
        }
    }
    let order = |name: &String| settings.topics.iter().position(|t| &t.name == name);
    not_matched.sort_by_key(order);
    Ok(UrlFacts::NotAMention(NotAMention {
        url: url.to_owned(),
        identity,
        seen,
        not_matched,
        unconfigured,
        retention: settings.retention.is_some(),
    }))
}

impl NotAMention {
    /// `{"url", "identity", "mention": null, "seen": [{"source", "seen_at"}],
    /// "not_matched": [...]}`.
    pub fn json(&self) -> NotAMentionJson<'_> {
        NotAMentionJson {
            url: &self.url,
            identity: &self.identity,
            mention: None,
            seen: self
                .seen
                .iter()
                .map(|(source, at)| SeenJson {
                    source,
                    seen_at: rfc3339(*at),
                })
                .collect(),
            not_matched: &self.not_matched,
        }
    }

    pub fn text(&self) -> String {
        let mut out = format!("{} is not a mention.\n", self.url);
        if self.seen.is_empty() {
            let _ = writeln!(
                out,
                "  It was never seen: no source has read it (looked up as {}).",
                self.identity
            );
            return out;
        }
        for (source, at) in &self.seen {
            let _ = writeln!(
                out,
                "  seen by {source} on {} UTC",
                at.format("%Y-%m-%d %H:%M")
            );
        }
        let or_deleted = if self.retention {
            " (or retention has deleted it)"
        } else {
            ""
        };
        for topic in &self.not_matched {
            let _ = writeln!(out, "  it did not match topic {topic}{or_deleted}");
        }
        for source in &self.unconfigured {
            let _ = writeln!(
                out,
                "  source {source} is no longer configured: its topics are unknown"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn listed() -> Listed {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 10, 5, 0).unwrap();
        Listed {
            id: 42,
            topic: "nk-ru".into(),
            kind: Kind::Web,
            at,
            at_secs: at.timestamp(),
            source: "politik-rss".into(),
            domain: Some("www.zeit.de".into()),
            author: None,
            title: "Nordkorea, Russland und \"Kursk\"".into(),
            url: "https://www.zeit.de/politik/1".into(),
            excerpt: "Erste Zeile\nzweite Zeile".into(),
            lang: Some("de".into()),
            sightings: Some(2),
            undated: false,
            excluded_by: None,
            identity: "https://www.zeit.de/politik/1".into(),
        }
    }

    #[test]
    fn json_rows_have_the_fields_in_order() {
        let row = json_row(&listed());
        let v: serde_json::Map<String, Value> = serde_json::from_str(&row).unwrap();
        let mut at = 0;
        for field in FIELDS {
            let found = row[at..]
                .find(&format!("\"{field}\":"))
                .unwrap_or_else(|| panic!("{field} out of order in {row}"));
            at += found;
        }
        assert_eq!(v.len(), FIELDS.len());
        assert_eq!(v["at"], "2026-11-24T10:05:00Z");
        assert_eq!(v["author"], Value::Null);
        assert_eq!(v["sightings"], 2);
        assert_eq!(v["undated"], false);
        let mut text_only = listed();
        text_only.url = String::new();
        text_only.excluded_by = Some(3);
        let v: Value = serde_json::from_str(&json_row(&text_only)).unwrap();
        assert_eq!(v["url"], Value::Null);
        assert_eq!(v["excluded_by"], 3);
    }

    #[test]
    fn csv_rows_quote_what_needs_it() {
        assert_eq!(
            csv_header(false),
            "id,topic,kind,at,source,domain,author,title,url,excerpt,lang,sightings,undated\n"
        );
        assert_eq!(
            csv_row(&listed(), false),
            "42,nk-ru,web,2026-11-24T10:05:00Z,politik-rss,www.zeit.de,,\"Nordkorea, Russland und \"\"Kursk\"\"\",https://www.zeit.de/politik/1,\"Erste Zeile\nzweite Zeile\",de,2,false\n"
        );
        let mut m = listed();
        m.excluded_by = Some(7);
        m.sightings = None;
        assert!(csv_row(&m, true).ends_with(",de,,false,7\n"));
    }

    #[test]
    fn text_rows_stay_on_one_line_and_cut_long_titles() {
        let mut m = listed();
        m.title = format!("{}\nzweite Zeile", "Ä".repeat(80));
        let row = text_row(&m, false);
        assert_eq!(row.lines().count(), 1, "{row}");
        assert!(
            row.contains(&format!("{}…", "Ä".repeat(TITLE_W - 1))),
            "{row}"
        );
        assert!(row.starts_with("      42  2026-11-24 10:05  web     politik-rss "));
        assert!(row.ends_with("  https://www.zeit.de/politik/1\n"));
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let c = Cursor {
            topic: "nk:ru ü".into(),
            at: -5,
            id: 9,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "zz",
            "abc",
            "2d353a39",
            "2d353a393a",
            "313a303a78",
            "ff00",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn domains_and_kinds_from_arguments() {
        assert_eq!(
            parse_domain("--domain", "https://WWW.Spam.example/x?y").unwrap(),
            "www.spam.example"
        );
        assert_eq!(
            parse_domain("--domain", "Spam.example/").unwrap(),
            "spam.example"
        );
        assert!(parse_domain("--domain", "spam example").is_err());
        assert!(parse_domain("--domain", "a/b").is_err());
        assert!(parse_domain("--domain", "").is_err());
        assert_eq!(parse_kind("forum"), Ok(Kind::Forum));
        assert!(parse_kind("blog").is_err());
        let e = parse_search("--search", "(nordkorea").unwrap_err();
        assert!(e.starts_with("--search \"(nordkorea\": "), "{e}");
        assert!(e.contains("position 1"), "{e}");
    }
}
