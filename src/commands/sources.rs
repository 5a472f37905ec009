//! `mentions sources`: every configured source with its schedule and the
//! health the store keeps for it — last error, and the last warning (what
//! the last crawl read less of than the source holds) — as a table, JSON or
//! CSV. `${VAR}` values in a stored error or warning are shown as `***`.

use super::{open_existing_store, print, Failure};
use crate::cli::SourcesFormat;
use crate::config::Settings;
use crate::config::SourceSpec;
use crate::report;
use crate::secrets;
use crate::store::SourceHealth;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::process::ExitCode;

/// The columns of the table and CSV, in order; the JSON objects' fields.
const COLUMNS: [&str; 13] = [
    "name",
    "type",
    "kind",
    "enabled",
    "schedule",
    "next_run",
    "last_run",
    "last_success",
    "last_error",
    "consecutive_failures",
    "mentions",
    "last_warning",
    "node",
];

pub(super) fn sources(settings: &Settings, format: SourcesFormat) -> Result<ExitCode, Failure> {
    let format = match format {
        SourcesFormat::Text => Format::Text,
        SourcesFormat::Json => Format::Json,
        SourcesFormat::Csv => Format::Csv,
        // The config alone: no database needed.
        SourcesFormat::Opml => {
            print(&opml(settings, Utc::now()))?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    let health = match &settings.postgres {
        Some(target) => super::runtime()?.block_on(async {
            let pg = super::crawl::connect_postgres(target, 1).await?;
            pg.source_health()
                .await
                .map_err(|e| Failure::Storage(target.scrub(&e.to_string())))
        })?,
        None => open_existing_store(settings)?.source_health()?,
    };
    print(&render(&rows(settings, &health, Utc::now()), format))?;
    Ok(ExitCode::SUCCESS)
}

/// One JSON object per configured source, in config order.
fn rows(settings: &Settings, health: &[SourceHealth], now: DateTime<Utc>) -> Vec<Value> {
    settings
        .sources
        .iter()
        .map(|s| {
            let h = health.iter().find(|h| h.name == s.name);
            let time = |t: Option<DateTime<Utc>>| {
                t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            };
            serde_json::json!({
                "name": s.name,
                "type": s.spec.type_name(),
                "kind": s.kind.as_str(),
                "enabled": s.enabled,
                "schedule": s.schedule.text,
                "next_run": if s.enabled { time(s.schedule.next_after(now, settings.timezone)) } else { None },
                "last_run": time(h.and_then(|h| h.last_run)),
                "last_success": time(h.and_then(|h| h.last_success)),
                "last_error": h.and_then(|h| h.last_error.as_deref()).map(|e| secrets::mask(e).into_owned()),
                "consecutive_failures": h.map_or(0, |h| h.consecutive_failures),
                "mentions": h.map_or(0, |h| h.mentions),
                "last_warning": h.and_then(|h| h.last_warning.as_deref()).map(|w| secrets::mask(w).into_owned()),
                "node": h.and_then(|h| h.node.as_deref()),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Csv,
}

/// The feed sources as OPML 2.0 (what feed readers import): one outline per
/// `type = "feed"` source, its name as title, in config order.
fn opml(settings: &Settings, now: DateTime<Utc>) -> String {
    use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    let feeds: Vec<(&str, &url::Url)> = settings
        .sources
        .iter()
        .filter_map(|s| match &s.spec {
            SourceSpec::Feed { url, .. } => Some((s.name.as_str(), url)),
            _ => None,
        })
        .collect();
    let title = format!("mentions: feed sources of {}", settings.path.display());
    let date = now.to_rfc2822();
    // Writing to a Vec cannot fail.
    let _ = (|| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new("opml").with_attributes([("version", "2.0")]),
        ))?;
        w.write_event(Event::Start(BytesStart::new("head")))?;
        for (tag, text) in [("title", title.as_str()), ("dateCreated", date.as_str())] {
            w.write_event(Event::Start(BytesStart::new(tag)))?;
            w.write_event(Event::Text(BytesText::new(text)))?;
            w.write_event(Event::End(BytesEnd::new(tag)))?;
        }
        w.write_event(Event::End(BytesEnd::new("head")))?;
        w.write_event(Event::Start(BytesStart::new("body")))?;
        for (name, url) in &feeds {
            w.write_event(Event::Empty(BytesStart::new("outline").with_attributes([
                ("type", "rss"),
                ("text", *name),
                ("title", *name),
                ("xmlUrl", url.as_str()),
            ])))?;
        }
        w.write_event(Event::End(BytesEnd::new("body")))?;
        w.write_event(Event::End(BytesEnd::new("opml")))?;
        Ok(())
    })();
    let mut out = String::from_utf8(w.into_inner()).unwrap_or_default();
    out.push('\n');
    out
}

fn render(rows: &[Value], format: Format) -> String {
    match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Csv | Format::Text => {
            let sep = if format == Format::Csv { "," } else { "\t" };
            let mut out = COLUMNS.join(sep) + "\n";
            for row in rows {
                let cells: Vec<String> = COLUMNS
                    .iter()
                    .map(|c| match &row[*c] {
                        Value::Null => "-".to_owned(),
                        Value::String(s) if format == Format::Csv => report::csv_field(s),
                        Value::String(s) => s.replace(['\t', '\n'], " "),
                        v => v.to_string(),
                    })
                    .collect();
                out.push_str(&cells.join(sep));
                out.push('\n');
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::path::Path;

    #[test]
    fn feed_sources_as_opml_that_import_reads_back() {
        let text = r#"
[[topic]]
name = "nk"
query = "nordkorea"

[[source]]
name = "merkur-politik"
type = "feed"
url = "https://www.merkur.de/politik/rssfeed.rdf"

[[source]]
name = "hn"
type = "hackernews"

[[source]]
name = "suche"
type = "feed"
url = "https://example.org/feed?q=a&lang=<de>"
enabled = false
"#;
        let settings = Settings::parse(text, Path::new("/etc/mentions/config.toml")).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let doc = opml(&settings, now);
        assert_eq!(
            doc,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head>
    <title>mentions: feed sources of /etc/mentions/config.toml</title>
    <dateCreated>Mon, 30 Nov 2026 12:00:00 +0000</dateCreated>
  </head>
  <body>
    <outline type="rss" text="merkur-politik" title="merkur-politik" xmlUrl="https://www.merkur.de/politik/rssfeed.rdf"/>
    <outline type="rss" text="suche" title="suche" xmlUrl="https://example.org/feed?q=a&amp;lang=%3Cde%3E"/>
  </body>
</opml>
"#
        );
        let back = super::super::import::parse(&doc).unwrap();
        let urls: Vec<(&str, &str)> = back
            .iter()
            .map(|o| (o.title.as_str(), o.xml_url.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                (
                    "merkur-politik",
                    "https://www.merkur.de/politik/rssfeed.rdf"
                ),
                ("suche", "https://example.org/feed?q=a&lang=%3Cde%3E")
            ]
        );
    }
}
