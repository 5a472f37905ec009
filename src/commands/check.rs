//! `mentions check`: validates the config (loading it already did), opens
//! the database and prints a summary of topics and sources. On PostgreSQL
//! (`[database] url`) it connects and applies the migrations instead
//! (unreachable exits 3); the server checks its own pages.

use super::{open_store, print, Failure};
use crate::config::Settings;
use std::process::ExitCode;

pub(super) fn check(settings: &Settings) -> Result<ExitCode, Failure> {
    let (database, version) = match &settings.postgres {
        Some(target) => {
            let version = super::runtime()?.block_on(async {
                let pg = super::crawl::connect_postgres(target, 1).await?;
                crate::store::postgres::schema_version(&pg)
                    .await
                    .map_err(|e| Failure::Storage(target.scrub(&e.to_string())))
            })?;
            (format!("PostgreSQL at {target}"), version)
        }
        None => {
            let store = open_store(settings)?;
            let version = store.schema_version()?;
            if let Err(problem) = store.quick_check()? {
                return Err(Failure::Storage(format!(
                    "the database {} is damaged: {problem}; restore it from a backup",
                    settings.database.display()
                )));
            }
            (settings.database.display().to_string(), version)
        }
    };
    let mut out = format!(
        "{}: OK\ndatabase: {database} (schema version {version})\ntopics: {}\n",
        settings.path.display(),
        settings.topics.len()
    );
    for t in &settings.topics {
        out.push_str(&format!("  {}: {}\n", t.name, t.text));
    }
    let enabled = settings.sources.iter().filter(|s| s.enabled).count();
    out.push_str(&format!(
        "sources: {} ({enabled} enabled)\n",
        settings.sources.len()
    ));
    let now = chrono::Utc::now();
    let mut never = Vec::new();
    for s in &settings.sources {
        let fires = s.schedule.next_after(now, settings.timezone).is_some();
        if s.enabled && !fires {
            never.push(format!(
                "mentions: warning: source \"{}\": schedule \"{}\" never fires (no date matches it, e.g. 30 February); it will never be crawled",
                s.name, s.schedule.text
            ));
        }
        let topics: Vec<&str> = s
            .topics
            .iter()
            .filter_map(|&t| settings.topics.get(t).map(|t| t.name.as_str()))
            .collect();
        out.push_str(&format!(
            "  {}: {} ({}), schedule \"{}\"{}{}, topics: {}\n",
            s.name,
            s.spec.type_name(),
            s.kind.as_str(),
            s.schedule.text,
            if fires { "" } else { " (never fires)" },
            if s.enabled { "" } else { ", disabled" },
            topics.join(", ")
        ));
    }
    print(&out)?;
    for warning in never {
        eprintln!("{warning}");
    }
    Ok(ExitCode::SUCCESS)
}
