//! `mentions crawl`: one pass over all (or the named) sources now; one line
//! per source, exit 1 when any failed, exit 3 when the crawl of any source
//! could not be stored (a full disk, a read-only database, PostgreSQL
//! gone). On PostgreSQL (`[database] url`), unreachable at start exits 3.

use super::{open_store, print, runtime, Failure};
use crate::config::Settings;
use crate::crawl;
use crate::http::HttpClient;
use crate::store::postgres::{PgTarget, Postgres};
use crate::store::{Backend, SharedStore, SourceOutcome};
use std::process::ExitCode;
use std::sync::Arc;

pub(super) fn crawl(
    settings: Settings,
    only_sources: &[String],
    only_topics: &[String],
) -> Result<ExitCode, Failure> {
    let name_list = |names: Vec<&str>| names.join(", ");
    let mut sources = Vec::new();
    for name in only_sources {
        let index = settings
            .sources
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "no source named {name:?} in {}; configured sources: {}",
                    settings.path.display(),
                    name_list(settings.sources.iter().map(|s| s.name.as_str()).collect())
                ))
            })?;
        sources.push(index);
    }
    if only_sources.is_empty() {
        sources = (0..settings.sources.len())
            .filter(|&i| settings.sources[i].enabled)
            .collect();
    }
    let topics = if only_topics.is_empty() {
        None
    } else {
        let mut topics = Vec::new();
        for name in only_topics {
            topics.push(
                settings
                    .topics
                    .iter()
                    .position(|t| &t.name == name)
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "no topic named {name:?} in {}; configured topics: {}",
                            settings.path.display(),
                            name_list(settings.topics.iter().map(|t| t.name.as_str()).collect())
                        ))
                    })?,
            );
        }
        Some(topics)
    };
    let runtime = runtime()?;
    let (backend, store) = match &settings.postgres {
        Some(target) => {
            let pg = runtime.block_on(connect_postgres(target, settings.http.concurrency))?;
            let pg = pg.with_node(&crate::cluster::node_name());
            (Backend::Postgres(Box::new(pg)), None)
        }
        None => {
            let store: SharedStore = crate::store::shared(open_store(&settings)?);
            (Backend::Sqlite(Arc::clone(&store)), Some(store))
        }
    };
    let http = HttpClient::new(settings.http.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    let settings = Arc::new(settings);
    // A progress bar for people at a terminal; plain lines for logs and pipes.
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new(sources.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} sources {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let on_done = |r: &crawl::SourceReport| match &bar {
        Some(bar) => {
            bar.set_message(r.name.clone());
            bar.inc(1);
        }
        None => tracing::info!("{r}"),
    };
    let database = match &settings.postgres {
        Some(target) => format!("PostgreSQL at {target}"),
        None => settings.database.display().to_string(),
    };
    let reports = runtime.block_on(crawl::crawl_pass(
        settings, http, backend, sources, topics, &on_done,
    ));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut out = String::new();
    for r in &reports {
        out.push_str(&r.to_string());
        out.push('\n');
    }
    print(&out)?;
    let unstored = reports.iter().filter(|r| r.store_failed).count();
    if unstored > 0 {
        // One more try: what no transaction took is lost when the process ends.
        let lost = match store.as_ref().map(|store| {
            store
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .flush_unsaved()
        }) {
            Some(Err(e)) => format!(
                "; their failures could not be recorded either ({e}), so `mentions sources` does not show them"
            ),
            _ => String::new(),
        };
        let fix = if store.is_some() {
            "Free space or fix the database's folder, then crawl again"
        } else {
            "Check that the PostgreSQL server is up and has space, then crawl again"
        };
        return Err(Failure::Storage(format!(
            "the crawl of {unstored} of {} sources could not be stored in {database}{lost}. {fix}",
            reports.len(),
        )));
    }
    let failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, SourceOutcome::Failed(_)))
        .count();
    if failed > 0 {
        eprintln!(
            "mentions: {failed} of {} sources failed; what the others brought is stored",
            reports.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Connects to the PostgreSQL database of `[database] url` and applies
/// its migrations: unreachable, or a schema it cannot use, is a storage
/// failure (exit 3) naming `host:port/database`, never the password.
pub(super) async fn connect_postgres(
    target: &PgTarget,
    concurrency: usize,
) -> Result<Postgres, Failure> {
    // A connection per crawl in flight, and one for the rest.
    Postgres::connect(target, concurrency.max(1) + 1)
        .await
        .map_err(|e| Failure::Storage(target.scrub(&e.to_string())))
}
