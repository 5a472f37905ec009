//! Reports (SPEC §5): exact counts per kind for a window, the reference
//! hosts, and each source's health; rendered as text, JSON or CSV.

use crate::config::{Lang, Settings};
use crate::sources::Kind;
use crate::store::{KindCounts, Reads, Reference, StoreError, TopicFigures};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::fmt::Write as _;

/// The report window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The longest `--since`: far enough for any archive, short enough that
/// time arithmetic cannot overflow.
const MAX_SINCE: chrono::Duration = chrono::Duration::days(36_500);

impl Window {
    /// From `--since DUR` or `--from TIME --to TIME`; `--since 24h` when
    /// neither. `--since` reaches back at most 100 years.
    pub fn from_args(
        since: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Window, String> {
        let parse_time = |flag: &str, s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    format!(
                        "{flag} {s:?} is not an RFC 3339 time such as 2026-11-25T16:00:00Z ({e})"
                    )
                })
        };
        let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let window = match (since, from, to) {
            (_, Some(f), Some(t)) => Window {
                from: parse_time("--from", f)?,
                to: parse_time("--to", t)?,
            },
            (_, Some(_), None) | (_, None, Some(_)) => {
                return Err("--from and --to go together".into())
            }
            (since, None, None) => {
                let text = since.unwrap_or("24h");
                let span = crate::units::parse_duration(text)
                    .and_then(|d| chrono::Duration::from_std(d).ok())
                    .ok_or_else(|| {
                        format!("--since {text:?} is not a duration such as 90m, 48h or 7d")
                    })?;
                let from = now
                    .checked_sub_signed(span)
                    .filter(|_| span <= MAX_SINCE)
                    .ok_or_else(|| {
                        format!("--since {text:?} reaches too far back; the longest is 36500d (100 years)")
                    })?;
                Window { from, to: now }
            }
        };
        if window.from >= window.to {
            return Err("the window is empty: --from must be before --to".into());
        }
        Ok(window)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    pub web: u64,
    pub social: u64,
    pub forum: u64,
}

impl From<KindCounts> for Counts {
    fn from(KindCounts { web, social, forum }: KindCounts) -> Counts {
        Counts { web, social, forum }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceLine {
    pub domain: String,
    pub mentions: u64,
}

/// One source that covers the topic, with its health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceLine {
    pub name: String,
    #[serde(rename = "type")]
    pub source_type: String,
    pub kind: &'static str,
    pub enabled: bool,
    /// Mentions of this topic in the window that this source stored first.
    pub mentions: u64,
    pub last_run: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: u64,
}

/// The report of one topic; serialises to SPEC §5's JSON object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicReport {
    pub topic: String,
    pub from: String,
    pub to: String,
    pub counts: Counts,
    pub total: u64,
    /// Of `counts`, the mentions whose source gave no readable date: their
    /// time is when they were first seen (a first crawl of an old backlog).
    pub undated: Counts,
    pub references: Vec<ReferenceLine>,
    pub sources: Vec<SourceLine>,
    #[serde(skip)]
    pub window: Option<Window>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The topics a report covers: the one named (which must be configured),
/// else every configured topic.
pub fn select_topics<'a>(
    settings: &'a Settings,
    topic: Option<&'a str>,
) -> Result<Vec<&'a str>, String> {
    match topic {
        Some(name) if settings.topics.iter().any(|t| t.name == name) => Ok(vec![name]),
        Some(name) => Err(format!(
            "no topic named {name:?} in {}",
            settings.path.display()
        )),
        None => Ok(settings.topics.iter().map(|t| t.name.as_str()).collect()),
    }
}

/// Builds the reports of `topics` (names from the config) for `window`.
pub fn build(
    store: &dyn Reads,
    settings: &Settings,
    topics: &[&str],
    window: Window,
    top: usize,
) -> Result<Vec<TopicReport>, StoreError> {
    let health = store.source_health()?;
    let figures = store.report_figures(topics, window.from, window.to, top)?;
    let mut reports = Vec::with_capacity(topics.len());
    for (&topic, figures) in topics.iter().zip(figures) {
        let topic_index = settings.topics.iter().position(|t| t.name == topic);
        let TopicFigures {
            counts: KindCounts { web, social, forum },
            by_source,
            undated,
            references,
        } = figures;
        let undated = undated.into();
        let references = references
            .into_iter()
            .map(|Reference { domain, mentions }| ReferenceLine { domain, mentions })
            .collect();
        let sources = settings
            .sources
            .iter()
            .filter(|s| topic_index.is_some_and(|t| s.topics.contains(&t)))
            .map(|s| {
                let h = health.iter().find(|h| h.name == s.name);
                SourceLine {
                    name: s.name.clone(),
                    source_type: s.spec.type_name().to_owned(),
                    kind: s.kind.as_str(),
                    enabled: s.enabled,
                    mentions: by_source.get(&s.name).copied().unwrap_or(0),
                    last_run: h.and_then(|h| h.last_run).map(rfc3339),
                    last_success: h.and_then(|h| h.last_success).map(rfc3339),
                    // Masked again: a database written before masking may hold secrets.
                    last_error: h
                        .and_then(|h| h.last_error.as_deref())
                        .map(|e| crate::secrets::mask(e).into_owned()),
                    consecutive_failures: h.map_or(0, |h| h.consecutive_failures),
                }
            })
            .collect();
        reports.push(TopicReport {
            topic: topic.to_owned(),
            from: rfc3339(window.from),
            to: rfc3339(window.to),
            counts: Counts { web, social, forum },
            total: web + social + forum,
            undated,
            references,
            sources,
            window: Some(window),
        });
    }
    Ok(reports)
}

/// Words of the text report.
struct Words {
    reference: &'static str,
    total: &'static str,
    web: &'static str,
    social: &'static str,
    forum: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            reference: "Reference",
            total: "Sources total",
            web: "Web",
            social: "Social",
            forum: "Forums",
        },
        Lang::De => Words {
            reference: "Referenz",
            total: "Quellen gesamt",
            web: "Web",
            social: "Social",
            forum: "Foren",
        },
    }
}

/// The footer news desks print; one block per topic, blank line between.
pub fn render_text(reports: &[TopicReport], lang: Lang) -> String {
    let w = words(lang);
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let span = match r.window {
            Some(win) => format!(
                "{} – {} UTC",
                win.from.format("%Y-%m-%d %H:%M"),
                win.to.format("%Y-%m-%d %H:%M")
            ),
            None => format!("{} – {}", r.from, r.to),
        };
        let _ = writeln!(out, "{} · {span}", r.topic);
        for (n, reference) in r.references.iter().enumerate() {
            let _ = writeln!(out, "{} {}  {}", w.reference, n + 1, reference.domain);
        }
        let _ = writeln!(out, "{}", w.total);
        let _ = writeln!(
            out,
            "{}: {}, {}: {}, {}: {}",
            w.web, r.counts.web, w.social, r.counts.social, w.forum, r.counts.forum
        );
    }
    out
}

/// One object for one topic, an array for several.
pub fn render_json(reports: &[TopicReport], single: bool) -> String {
    let json = if single && reports.len() == 1 {
        serde_json::to_string_pretty(&reports[0])
    } else {
        serde_json::to_string_pretty(reports)
    };
    let mut out = json.unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

/// One CSV field, quoted when it holds a comma, quote or line break.
/// A CSV field (RFC 4180 quoting). Text that a spreadsheet would run as a
/// formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return)
/// gets a leading `'`: titles and excerpts come from strangers.
pub fn csv_field(s: &str) -> String {
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A header and one row per topic.
pub fn render_csv(reports: &[TopicReport]) -> String {
    let mut out = String::from("topic,from,to,web,social,forum,total\n");
    for r in reports {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            csv_field(&r.topic),
            r.from,
            r.to,
            r.counts.web,
            r.counts.social,
            r.counts.forum,
            r.total
        );
    }
    out
}

/// Kind name as the count lines show it, for other renderers.
pub fn kind_label(kind: Kind, lang: Lang) -> &'static str {
    let w = words(lang);
    match kind {
        Kind::Web => w.web,
        Kind::Social => w.social,
        Kind::Forum => w.forum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> TopicReport {
        let window = Window {
            from: Utc.with_ymd_and_hms(2026, 11, 23, 16, 0, 0).unwrap(),
            to: Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap(),
        };
        TopicReport {
            topic: "nordkorea-russland".into(),
            from: rfc3339(window.from),
            to: rfc3339(window.to),
            counts: Counts {
                web: 19,
                social: 77,
                forum: 63,
            },
            total: 159,
            undated: Counts {
                web: 2,
                social: 0,
                forum: 0,
            },
            references: ["www.merkur.de", "www.sueddeutsche.de", "jacobin.de"]
                .iter()
                .map(|d| ReferenceLine {
                    domain: (*d).into(),
                    mentions: 1,
                })
                .collect(),
            sources: vec![],
            window: Some(window),
        }
    }

    #[test]
    fn german_text_report_matches_the_spec() {
        assert_eq!(
            render_text(&[sample()], Lang::De),
            "nordkorea-russland · 2026-11-23 16:00 – 2026-11-25 16:00 UTC\n\
             Referenz 1  www.merkur.de\n\
             Referenz 2  www.sueddeutsche.de\n\
             Referenz 3  jacobin.de\n\
             Quellen gesamt\n\
             Web: 19, Social: 77, Foren: 63\n"
        );
        let en = render_text(&[sample()], Lang::En);
        assert!(
            en.ends_with("Sources total\nWeb: 19, Social: 77, Forums: 63\n"),
            "{en}"
        );
        assert!(en.contains("\nReference 1  www.merkur.de\n"));
    }

    #[test]
    fn csv_fields_never_run_as_spreadsheet_formulas() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv_field("+49 30 1234"), "'+49 30 1234");
        assert_eq!(csv_field("@sum(1)"), "'@sum(1)");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("Kursk, Nordkorea"), "\"Kursk, Nordkorea\"");
        assert_eq!(csv_field("www.zeit.de"), "www.zeit.de");
    }

    #[test]
    fn csv_has_the_documented_header_and_quotes_names() {
        let mut r = sample();
        r.topic = "a,\"b\"".into();
        assert_eq!(
            render_csv(&[r]),
            "topic,from,to,web,social,forum,total\n\"a,\"\"b\"\"\",2026-11-23T16:00:00Z,2026-11-25T16:00:00Z,19,77,63,159\n"
        );
    }

    #[test]
    fn json_has_the_documented_shape() {
        let v: serde_json::Value = serde_json::from_str(&render_json(&[sample()], true)).unwrap();
        assert_eq!(v["topic"], "nordkorea-russland");
        assert_eq!(v["from"], "2026-11-23T16:00:00Z");
        assert_eq!(v["counts"]["forum"], 63);
        assert_eq!(v["total"], 159);
        assert_eq!(
            v["undated"],
            serde_json::json!({"web": 2, "social": 0, "forum": 0})
        );
        assert_eq!(v["references"][0]["domain"], "www.merkur.de");
        let many: serde_json::Value =
            serde_json::from_str(&render_json(&[sample(), sample()], false)).unwrap();
        assert_eq!(many.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn windows_from_flags() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
        assert!(Window::from_args(None, Some("2026-11-23T16:00:00Z"), None, now).is_err());
        let w = Window::from_args(
            None,
            Some("2026-11-23T16:00:00Z"),
            Some("2026-11-25T16:00:00+00:00"),
            now,
        )
        .unwrap();
        assert_eq!(w.to, now);
        assert!(Window::from_args(
            None,
            Some("2026-11-25T16:00:00Z"),
            Some("2026-11-23T16:00:00Z"),
            now
        )
        .is_err());
        assert!(Window::from_args(Some("soon"), None, None, now).is_err());
    }
}
