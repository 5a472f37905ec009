//! The scheduler of `mentions run`: fires each enabled source on its cron
//! schedule until told to stop. A source never runs twice at once; fire
//! times missed while busy collapse into one run. A reload re-reads the
//! config and applies it without a restart (an invalid one is logged and
//! the old one kept). On stop, running crawls get a grace period and are
//! then dropped, which rolls back their uncommitted transaction. Retention
//! is applied at start and then daily. It knows nothing of the command
//! line: `commands::run` wires it up.

use crate::config::Settings;
use crate::crawl;
use crate::http::HttpClient;
use crate::live::LiveSettings;
use crate::store::{RetentionPlan, SharedStore, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

/// How long running crawls may take to finish after a stop signal.
pub(crate) const GRACE: Duration = Duration::from_secs(8);
/// How often alerts are evaluated besides after each crawl.
pub(crate) const ALERT_TICK: Duration = Duration::from_secs(60);
/// How often the database file is checked to be still there.
const DATABASE_TICK: Duration = Duration::from_secs(5);
/// How often retention is applied (first at start).
const RETENTION_TICK: Duration = Duration::from_secs(86_400);

/// Which file a path names now (device and inode), to notice the database
/// being deleted or replaced under the running service.
fn file_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

/// What the process asks of the scheduler (SIGTERM/SIGINT and SIGHUP).
pub enum Signal {
    Stop,
    Reload,
}

/// Tells systemd (when `NOTIFY_SOCKET` is set) how the service is doing.
pub(crate) fn notify(state: sd_notify::NotifyState<'_>) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(e) = sd_notify::notify(&[state]) {
            tracing::warn!("cannot notify systemd: {e}");
        }
    }
}

/// Next fire time per source name, carried over a reload for sources whose
/// schedule did not change.
pub(crate) fn plan(
    settings: &Settings,
    old: &HashMap<String, (String, Option<DateTime<Utc>>)>,
    now: DateTime<Utc>,
) -> HashMap<String, (String, Option<DateTime<Utc>>)> {
    settings
        .sources
        .iter()
        .filter(|s| s.enabled)
        .map(|s| {
            let next = match old.get(&s.name) {
                Some((text, next)) if *text == s.schedule.text => *next,
                _ => s.schedule.next_after(now, settings.timezone),
            };
            (s.name.clone(), (s.schedule.text.clone(), next))
        })
        .collect()
}

/// Re-reads the config file; Err says why the old one stays.
pub(crate) fn reload(live: &LiveSettings, http: &mut HttpClient) -> Result<Arc<Settings>, String> {
    let old = live.current();
    let new = Settings::load(&old.path).map_err(|e| e.to_string())?;
    let url = |s: &Settings| s.postgres.as_ref().map(|t| t.describe());
    if url(&new) != url(&old) {
        return Err(format!(
            "[database] url changed from {} to {}; that takes a restart",
            url(&old).unwrap_or_else(|| "none".into()),
            url(&new).unwrap_or_else(|| "none".into())
        ));
    }
    if new.database != old.database && new.postgres.is_none() {
        return Err(format!(
            "[database] path changed from {} to {}; that takes a restart",
            old.database.display(),
            new.database.display()
        ));
    }
    if new.server != old.server {
        tracing::warn!("[server] changes take effect after a restart");
    }
    if new.http != old.http {
        *http = HttpClient::new(new.http.clone()).map_err(|e| e.to_string())?;
    }
    let new = Arc::new(new);
    live.replace(Arc::clone(&new));
    Ok(new)
}

/// Applies retention on a connection of its own, in short transactions
/// between which crawls write; stops early on shutdown. Logs what it removed.
async fn apply_retention(settings: Arc<Settings>, shutdown: CancellationToken) {
    let plan = RetentionPlan::new(Utc::now(), settings.retention, settings.longest_lookback());
    let path = settings.database.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut store = Store::open_existing(&path)?;
        let pruned = store.prune(&plan, &|| !shutdown.is_cancelled())?;
        Ok::<_, StoreError>(pruned.lines(&plan))
    })
    .await;
    match done {
        Ok(Ok(lines)) => {
            for line in lines {
                tracing::info!("retention: {line}");
            }
        }
        Ok(Err(e)) => tracing::error!("retention not applied: {e}"),
        Err(e) => tracing::error!("retention not applied: {e}"),
    }
}

/// Runs the schedule until `signals` says stop (or closes) or `shutdown`
/// is cancelled; `healthy` is true while it runs. Cancels `shutdown` on the
/// way out so what else the service runs stops with it.
pub async fn schedule_loop(
    live: LiveSettings,
    mut http: HttpClient,
    store: SharedStore,
    healthy: Arc<AtomicBool>,
    mut signals: UnboundedReceiver<Signal>,
    shutdown: CancellationToken,
) {
    let mut settings = live.current();
    let mut next = plan(&settings, &HashMap::new(), Utc::now());
    tracing::info!("scheduling {} sources", next.len());
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut slots = crawl::Slots::new(settings.http.concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    let mut alert_tick = tokio::time::interval(ALERT_TICK);
    let mut database_tick = tokio::time::interval(DATABASE_TICK);
    let mut retention_tick = tokio::time::interval(RETENTION_TICK);
    retention_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let pruning = Arc::new(AtomicBool::new(false));
    let database = file_identity(&settings.database);
    healthy.store(true, Ordering::SeqCst);
    notify(sd_notify::NotifyState::Ready);
    loop {
        let earliest = next.values().filter_map(|(_, t)| *t).min();
        let sleep = earliest.map_or(Duration::from_secs(3600), |t| {
            (t - Utc::now()).to_std().unwrap_or(Duration::ZERO)
        });
        tokio::select! {
            signal = signals.recv() => match signal {
                Some(Signal::Reload) => {
                    notify(sd_notify::NotifyState::Reloading);
                    match reload(&live, &mut http) {
                        Ok(new) => {
                            next = plan(&new, &next, Utc::now());
                            if new.http.concurrency != settings.http.concurrency {
                                slots = crawl::Slots::new(new.http.concurrency);
                            }
                            settings = new;
                            tracing::info!("config reloaded; scheduling {} sources", next.len());
                        }
                        Err(e) => tracing::error!("config not reloaded, keeping the old one: {e}"),
                    }
                    notify(sd_notify::NotifyState::Ready);
                    continue;
                }
                Some(Signal::Stop) | None => {
                    tracing::info!("stop signal received; finishing running crawls");
                    break;
                }
            },
            _ = shutdown.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            _ = watchdog_tick.tick(), if watchdog.is_some() => {
                notify(sd_notify::NotifyState::Watchdog);
                continue;
            }
            _ = database_tick.tick() => {
                let now = file_identity(&settings.database);
                let sound = now.is_some() && now == database;
                if healthy.swap(sound, Ordering::SeqCst) && !sound {
                    tracing::error!(
                        "the database {} was deleted or replaced while running; nothing written now is kept there. Restart mentions",
                        settings.database.display()
                    );
                }
                continue;
            }
            _ = retention_tick.tick() => {
                // Off the scheduling loop, like alerts: a large prune must not delay crawls.
                if !pruning.swap(true, Ordering::SeqCst) {
                    let (settings, pruning, shutdown) = (Arc::clone(&settings), Arc::clone(&pruning), shutdown.clone());
                    tasks.spawn(async move {
                        apply_retention(settings, shutdown).await;
                        pruning.store(false, Ordering::SeqCst);
                    });
                }
                continue;
            }
            _ = alert_tick.tick(), if !settings.alerts.is_empty() => {
                // Off the scheduling loop: a webhook that hangs must not delay crawls.
                let (settings, store, http) = (Arc::clone(&settings), Arc::clone(&store), http.clone());
                tasks.spawn(async move { crate::alerts::check(&settings, &store, &http, Utc::now()).await });
                continue;
            }
            _ = tokio::time::sleep(sleep) => {}
        }
        let now = Utc::now();
        for (index, source) in settings.sources.iter().enumerate() {
            let Some((_, due)) = next.get_mut(&source.name) else {
                continue;
            };
            if due.is_none_or(|t| t > now) {
                continue;
            }
            // Missed fire times collapse into this one run.
            *due = source.schedule.next_after(now, settings.timezone);
            if !running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(source.name.clone())
            {
                tracing::debug!(source = %source.name, "still running; skipping this fire time");
                continue;
            }
            let (settings, http, store, running, slots) = (
                Arc::clone(&settings),
                http.clone(),
                Arc::clone(&store),
                Arc::clone(&running),
                slots.clone(),
            );
            let stopping = shutdown.clone();
            tasks.spawn(async move {
                // A crawl still waiting for its reading slot when the service
                // stops does not begin: the grace period is for running ones.
                let reading = stopping.run_until_cancelled(slots.reading()).await;
                let Some(reading) = reading.filter(|_| !stopping.is_cancelled()) else {
                    running
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&settings.sources[index].name);
                    return;
                };
                let report = {
                    let backend = crate::store::Backend::Sqlite(Arc::clone(&store));
                    crawl::crawl_source(
                        reading,
                        Some(&slots),
                        &settings,
                        &http,
                        &backend,
                        index,
                        None,
                    )
                    .await
                };
                tracing::info!("{report}");
                running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&settings.sources[index].name);
                if !settings.alerts.is_empty() {
                    crate::alerts::check(&settings, &store, &http, Utc::now()).await;
                }
            });
        }
    }
    healthy.store(false, Ordering::SeqCst);
    notify(sd_notify::NotifyState::Stopping);
    shutdown.cancel();
    let finish = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, finish).await.is_err() {
        tracing::warn!(
            "crawls still running after {} s are abandoned; their work is rolled back",
            GRACE.as_secs()
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}
