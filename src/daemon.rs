//! `mentions run`: fires each enabled source on its cron schedule until
//! SIGTERM/SIGINT. A source never runs twice at once; fire times missed
//! while busy collapse into one run. SIGHUP re-reads the config and applies
//! it without a restart (an invalid one is logged and the old one kept). On
//! shutdown, running crawls get a grace period and are then dropped, which
//! rolls back their uncommitted transaction. One daemon per database: a lock
//! file beside it says who holds it.

use crate::commands::{open_store, runtime, Failure};
use crate::config::Settings;
use crate::crawl::{self, SharedStore};
use crate::http::HttpClient;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long running crawls may take to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(8);
/// How often alerts are evaluated besides after each crawl.
const ALERT_TICK: Duration = Duration::from_secs(60);

/// The settings in force; replaced as a whole on reload.
pub type LiveSettings = Arc<RwLock<Arc<Settings>>>;

pub fn current(settings: &LiveSettings) -> Arc<Settings> {
    Arc::clone(&settings.read().unwrap_or_else(|p| p.into_inner()))
}

/// The lock file of a database: `mentions.db` → `mentions.db.lock`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}

/// Holds the daemon lock for as long as it lives (the OS drops it on exit, even on kill -9).
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    pub fn acquire(database: &Path) -> Result<InstanceLock, Failure> {
        let path = lock_path(database);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                Failure::Usage(format!("cannot open the lock file {}: {e}", path.display()))
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another process".to_owned()
                } else {
                    holder.to_owned()
                };
                return Err(Failure::Usage(format!(
                    "{} is locked by {holder}: another `mentions run` uses this database; stop it first or give this one another [database] path",
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Failure::Usage(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
        let note = format!(
            "pid {} (mentions run, started {})\n",
            std::process::id(),
            Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = file.write_all(note.as_bytes());
        let _ = file.flush();
        Ok(InstanceLock { _file: file })
    }
}

pub fn run(settings: Settings) -> Result<ExitCode, Failure> {
    let _lock = InstanceLock::acquire(&settings.database)?;
    let store: SharedStore = Arc::new(Mutex::new(open_store(&settings)?));
    let http = HttpClient::new(settings.http.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    let live: LiveSettings = Arc::new(RwLock::new(Arc::new(settings)));
    runtime()?.block_on(async move {
        let healthy = Arc::new(AtomicBool::new(false));
        let shutdown = CancellationToken::new();
        let server = match current(&live).server {
            Some(addr) => Some(
                crate::server::spawn(
                    addr,
                    Arc::clone(&live),
                    Arc::clone(&healthy),
                    shutdown.clone(),
                )
                .await
                .map_err(Failure::Usage)?,
            ),
            None => None,
        };
        schedule_loop(live, http, store, healthy, shutdown).await;
        if let Some(server) = server {
            let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
        }
        Ok::<_, Failure>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Tells systemd (when `NOTIFY_SOCKET` is set) how the service is doing.
fn notify(state: sd_notify::NotifyState<'_>) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(e) = sd_notify::notify(&[state]) {
            tracing::warn!("cannot notify systemd: {e}");
        }
    }
}

enum Signal {
    Stop,
    Reload,
}

/// Forwards SIGTERM/SIGINT and SIGHUP to the scheduler. The handlers are
/// installed before this returns, so no signal sent after start is missed.
fn listen_for_signals(tx: tokio::sync::mpsc::UnboundedSender<Signal>) {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        )
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let (Ok(mut term), Ok(mut hup), Ok(mut int)) = handlers else {
                let _ = tokio::signal::ctrl_c().await;
                let _ = tx.send(Signal::Stop);
                return;
            };
            loop {
                let signal = tokio::select! {
                    _ = term.recv() => Signal::Stop,
                    _ = int.recv() => Signal::Stop,
                    _ = hup.recv() => Signal::Reload,
                };
                if tx.send(signal).is_err() {
                    return;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(Signal::Stop);
        }
    });
}

/// Next fire time per source name, carried over a reload for sources whose
/// schedule did not change.
fn plan(
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
fn reload(live: &LiveSettings, http: &mut HttpClient) -> Result<Arc<Settings>, String> {
    let old = current(live);
    let new = Settings::load(&old.path).map_err(|e| e.to_string())?;
    if new.database != old.database {
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
    *live.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&new);
    Ok(new)
}

async fn schedule_loop(
    live: LiveSettings,
    mut http: HttpClient,
    store: SharedStore,
    healthy: Arc<AtomicBool>,
    shutdown: CancellationToken,
) {
    let (tx, mut signals) = tokio::sync::mpsc::unbounded_channel();
    listen_for_signals(tx);
    let mut settings = current(&live);
    let mut next = plan(&settings, &HashMap::new(), Utc::now());
    tracing::info!("scheduling {} sources", next.len());
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut limit = Arc::new(tokio::sync::Semaphore::new(
        settings.http.concurrency.max(1),
    ));
    let mut tasks = tokio::task::JoinSet::new();
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    let mut alert_tick = tokio::time::interval(ALERT_TICK);
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
                                limit = Arc::new(tokio::sync::Semaphore::new(new.http.concurrency.max(1)));
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
            let (settings, http, store, running, limit) = (
                Arc::clone(&settings),
                http.clone(),
                Arc::clone(&store),
                Arc::clone(&running),
                Arc::clone(&limit),
            );
            tasks.spawn(async move {
                let report = {
                    let _permit = limit.acquire_owned().await;
                    crawl::crawl_source(&settings, &http, &store, index, None).await
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
