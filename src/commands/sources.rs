//! `mentions sources`: every configured source with its schedule and the
//! health the store keeps for it — last error, and the last warning (what
//! the last crawl read less of than the source holds) — as a table, JSON or
//! CSV. `${VAR}` values in a stored error or warning are shown as `***`.

use super::{open_existing_store, print, Failure};
use crate::cli::Format;
use crate::config::Settings;
use crate::report;
use crate::secrets;
use crate::store::SourceHealth;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::process::ExitCode;

/// The columns of the table and CSV, in order; the JSON objects' fields.
const COLUMNS: [&str; 12] = [
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
];

pub(super) fn sources(settings: &Settings, format: Format) -> Result<ExitCode, Failure> {
    if format == Format::Svg {
        return Err(Failure::Usage(
            "sources prints text, json or csv; svg is the chart of `report --format svg`".into(),
        ));
    }
    let store = open_existing_store(settings)?;
    let health = store.source_health()?;
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
            })
        })
        .collect()
}

fn render(rows: &[Value], format: Format) -> String {
    match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Csv | Format::Text | Format::Svg => {
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
