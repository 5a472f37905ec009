//! `mentions run`: fires each enabled source on its cron schedule until
//! SIGTERM/SIGINT. A source never runs twice at once; a fire time missed
//! while busy runs once. On shutdown, running crawls get a grace period and
//! are then dropped, which rolls back their uncommitted transaction.

use crate::commands::{open_store, runtime, Failure};
use crate::config::Settings;
use crate::crawl::{self, SharedStore};
use crate::http::HttpClient;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long running crawls may take to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(8);

pub fn run(settings: Settings) -> Result<ExitCode, Failure> {
    let store: SharedStore = Arc::new(Mutex::new(open_store(&settings)?));
    let http = HttpClient::new(settings.http.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    runtime()?.block_on(schedule_loop(Arc::new(settings), http, store));
    Ok(ExitCode::SUCCESS)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn schedule_loop(settings: Arc<Settings>, http: HttpClient, store: SharedStore) {
    let shutdown = CancellationToken::new();
    {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stop signal received; finishing running crawls");
            shutdown.cancel();
        });
    }
    let tz = settings.timezone;
    let now = Utc::now();
    let mut next: Vec<Option<DateTime<Utc>>> = settings
        .sources
        .iter()
        .map(|s| {
            if s.enabled {
                s.schedule.next_after(now, tz)
            } else {
                None
            }
        })
        .collect();
    let enabled = next.iter().filter(|n| n.is_some()).count();
    tracing::info!("scheduling {enabled} sources");
    let running: Arc<Mutex<HashSet<usize>>> = Arc::default();
    let limit = Arc::new(tokio::sync::Semaphore::new(
        settings.http.concurrency.max(1),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let earliest = next.iter().flatten().min().copied();
        let sleep = earliest.map_or(Duration::from_secs(3600), |t| {
            (t - Utc::now()).to_std().unwrap_or(Duration::ZERO)
        });
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            _ = tokio::time::sleep(sleep) => {}
        }
        let now = Utc::now();
        for (index, due) in next.iter_mut().enumerate() {
            if due.is_none_or(|t| t > now) {
                continue;
            }
            // Missed fire times collapse into this one run.
            *due = settings.sources[index].schedule.next_after(now, tz);
            if !running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(index)
            {
                tracing::debug!(source = %settings.sources[index].name, "still running; skipping this fire time");
                continue;
            }
            let (settings, http, store, running, limit) = (
                Arc::clone(&settings),
                http.clone(),
                Arc::clone(&store),
                Arc::clone(&running),
                Arc::clone(&limit),
            );
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let report = crawl::crawl_source(&settings, &http, &store, index, None).await;
                tracing::info!("{report}");
                running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&index);
            });
        }
    }
    let finish = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, finish).await.is_err() {
        tracing::warn!(
            "crawls still running after {} s are abandoned; their work is rolled back",
            GRACE.as_secs()
        );
        tasks.abort_all();
    }
}
