//! Running as one node of several on a shared PostgreSQL database
//! (`[database] url`): the node's name, and the scheduler of `mentions run`
//! on PostgreSQL (see `schedule_loop`).

/// The variable that names this node instead of `HOST-PID`.
pub const NODE_VAR: &str = "MENTIONS_NODE";

/// This process's node name: `MENTIONS_NODE` when set, else the host
/// name and the process id (`newsroom-1-4242`), so two daemons on one
/// machine are two nodes.
pub fn node_name() -> String {
    if let Ok(name) = std::env::var(NODE_VAR) {
        let name = name.trim();
        if !name.is_empty() {
            return name.to_owned();
        }
    }
    format!("{}-{}", hostname(), std::process::id())
}

/// The machine's name, as the kernel has it (`localhost` when unknown).
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}

use crate::config::Settings;
use crate::crawl;
use crate::daemon::{self, Signal};
use crate::http::HttpClient;
use crate::live::LiveSettings;
use crate::store::postgres::{Claimed, PgError, Postgres};
use crate::store::Backend;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a lease lasts unless renewed: a node that dies mid-crawl loses
/// its sources this long after its last renewal.
pub const LEASE: Duration = Duration::from_secs(30);
/// How often a node renews its leases, checks that the database answers
/// and takes over the expired leases of nodes that died.
pub const RENEW: Duration = Duration::from_secs(10);
/// The longest an upkeep may take before it counts as failed.
const UPKEEP_LIMIT: Duration = Duration::from_secs(8);
/// The longest pause between attempts to reach a lost database.
const MOST_BACKOFF: Duration = Duration::from_secs(30);
/// Claimed fire times are kept this long, then pruned.
const FIRE_KEPT: i64 = 86_400;
/// How often a node tries to claim the day's retention (the first node to
/// try on a UTC day runs it, so it runs within this long after midnight).
const RETENTION_TRY: Duration = Duration::from_secs(3600);

/// A crawl this node runs: cancelled when its lease is lost.
struct Running {
    cancel: CancellationToken,
    /// When the lease was taken (None until then: the fire time and lease
    /// are being claimed). A renewal that began before it may not see it.
    leased: Option<Instant>,
}

type RunningMap = Arc<Mutex<HashMap<String, Running>>>;

fn lock(running: &RunningMap) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
    running.lock().unwrap_or_else(|p| p.into_inner())
}

/// The names of the enabled sources, for registering and taking over.
fn enabled(settings: &Settings) -> Vec<(&str, &str, crate::sources::Kind)> {
    settings
        .sources
        .iter()
        .filter(|s| s.enabled)
        .map(|s| (s.name.as_str(), s.spec.type_name(), s.kind))
        .collect()
}

/// Makes sure every enabled source has its row, so that fire times and
/// leases can be claimed for it.
pub async fn register(pg: &Postgres, settings: &Settings) -> Result<(), PgError> {
    pg.register_sources(&enabled(settings)).await
}

/// What the scheduler shares with the crawls it starts.
#[derive(Clone)]
struct Node {
    pg: Postgres,
    name: Arc<str>,
    running: RunningMap,
    limit: Arc<tokio::sync::Semaphore>,
    /// Cancelled when the node stops: no fire time is claimed after it.
    stopping: CancellationToken,
    /// The statements that take leases (`Node::taking`), which the stop
    /// waits for before it releases every lease of the node.
    taking: TaskTracker,
}

impl Node {
    /// Runs the fire time `fire_at` of source `index` if this node claims
    /// it (once across the cluster) and gets the source's lease (no other
    /// node is running it). The source is in `running` already. The node
    /// claims only once it has a free crawl slot (`[crawler] concurrency`),
    /// so a busy node leaves the fire times it could not start yet to the
    /// other nodes instead of queueing them behind its own crawls.
    async fn fire(&self, settings: Arc<Settings>, http: HttpClient, index: usize, fire_at: i64) {
        let name = settings.sources[index].name.clone();
        let Some(permit) = self.slot().await else {
            lock(&self.running).remove(&name);
            return;
        };
        match self.claim(&name, fire_at).await {
            Ok(true) => self.crawl(settings, http, index, Some(permit)).await,
            Ok(false) => {
                lock(&self.running).remove(&name);
            }
            Err(e) => {
                lock(&self.running).remove(&name);
                crate::telemetry::record_crawl(&name, false, 0);
                tracing::error!(source = %name, "not crawled at this fire time: {e}");
            }
        }
    }

    /// A free crawl slot of the node, or None once the node is stopping.
    async fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.stopping
            .run_until_cancelled(Arc::clone(&self.limit).acquire_owned())
            .await
            .and_then(Result::ok)
            .filter(|_| !self.stopping.is_cancelled())
    }

    /// Claims the fire time, then the lease; true when this node is to run
    /// it. A stopping node claims nothing.
    async fn claim(&self, name: &str, fire_at: i64) -> Result<bool, PgError> {
        let now = self.pg.server_now().await?;
        if self.stopping.is_cancelled() {
            return Ok(false);
        }
        if !self.pg.claim_fire(&self.name, name, fire_at, now).await? {
            tracing::debug!(source = %name, "another node runs this fire time");
            return Ok(false);
        }
        let (pg, node, due) = (self.pg.clone(), Arc::clone(&self.name), [name.to_owned()]);
        let held = self
            .taking(async move {
                let due: Vec<&str> = due.iter().map(String::as_str).collect();
                pg.claim_due(&node, &due, LEASE.as_secs() as i64, now).await
            })
            .await?;
        if held.is_empty() {
            tracing::info!(source = %name, "another node is still running this source; skipping this fire time");
            return Ok(false);
        }
        self.mark_leased(name);
        Ok(true)
    }

    /// Runs `statement`, which takes leases, to its end even when the
    /// caller is dropped (a crawl abandoned after the grace period, an
    /// upkeep over its limit). A dropped caller does not stop a statement
    /// the database already has, and the stop releases the node's leases
    /// only once these are done, so that no lease is taken after it.
    async fn taking<F>(&self, statement: F) -> Result<Vec<Claimed>, PgError>
    where
        F: std::future::Future<Output = Result<Vec<Claimed>, PgError>> + Send + 'static,
    {
        self.taking.spawn(statement).await.unwrap_or_else(|e| {
            Err(PgError::Query {
                target: self.pg.target().describe(),
                detail: format!("taking leases did not finish: {e}"),
            })
        })
    }

    fn mark_leased(&self, name: &str) {
        if let Some(r) = lock(&self.running).get_mut(name) {
            r.leased = Some(Instant::now());
        }
    }

    /// Crawls a source whose lease this node holds in one of the node's
    /// crawl slots (`permit`, or the next one free), stops when the lease
    /// is lost, and releases it.
    async fn crawl(
        &self,
        settings: Arc<Settings>,
        http: HttpClient,
        index: usize,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) {
        let name = settings.sources[index].name.clone();
        let cancel = lock(&self.running)
            .get(&name)
            .map(|r| r.cancel.clone())
            .unwrap_or_default();
        let backend = Backend::Postgres(Box::new(self.pg.clone()));
        let permit = match permit {
            Some(permit) => Some(permit),
            None => self.slot().await,
        };
        let Some(_permit) = permit else {
            // Stopping before a slot was free: the stop releases the lease.
            lock(&self.running).remove(&name);
            return;
        };
        let report = {
            tokio::select! {
                report = crawl::crawl_source(None, None, &settings, &http, &backend, index, None) => Some(report),
                _ = cancel.cancelled() => None,
            }
        };
        match &report {
            Some(report) => tracing::info!("{report}"),
            None => tracing::warn!(
                source = %name,
                "crawl stopped: this node no longer holds the source's lease; nothing of it was stored"
            ),
        }
        lock(&self.running).remove(&name);
        if report.is_some() {
            if let Err(e) = self.pg.release(&self.name, &name).await {
                // Not fatal: the lease expires, and another node runs the source again.
                tracing::warn!(source = %name, "cannot release the lease: {e}");
            }
            if !settings.alerts.is_empty() {
                crate::alerts::check_backend(&settings, &backend, &http, Utc::now()).await;
            }
        }
    }
}

/// Runs the schedule as one node of several on the PostgreSQL database,
/// until `signals` says stop (or closes) or `shutdown` is cancelled.
/// `healthy` is true while the database answers. Every node computes the
/// same fire times; each is claimed once across the cluster, and a source
/// runs only under its lease, renewed every `RENEW` while it runs. Leases
/// that expired unreleased (a node died mid-crawl) are taken over and
/// their sources crawled again. On stop, running crawls get a grace
/// period and every lease of the node is released at once.
pub async fn schedule_loop(
    live: LiveSettings,
    mut http: HttpClient,
    pg: Postgres,
    healthy: Arc<AtomicBool>,
    mut signals: UnboundedReceiver<Signal>,
    shutdown: CancellationToken,
) {
    let name: Arc<str> = pg.node().unwrap_or("mentions").into();
    let mut settings = live.current();
    let mut next = daemon::plan(&settings, &HashMap::new(), Utc::now());
    tracing::info!(node = %name, "scheduling {} sources on PostgreSQL at {}", next.len(), pg.target());
    let mut node = Node {
        pg: pg.clone(),
        name: Arc::clone(&name),
        running: Arc::default(),
        limit: Arc::new(tokio::sync::Semaphore::new(
            settings.http.concurrency.max(1),
        )),
        stopping: shutdown.clone(),
        taking: TaskTracker::new(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    let mut upkeep_at = Instant::now() + RENEW;
    let mut backoff: Option<Duration> = None;
    let mut renewed_at = Instant::now();
    let mut pruned_at: Option<Instant> = None;
    // The caller registered the sources before starting.
    let mut registered = true;
    let mut alert_tick = tokio::time::interval(daemon::ALERT_TICK);
    let mut retention_tick = tokio::time::interval(RETENTION_TRY);
    retention_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let pruning = Arc::new(AtomicBool::new(false));
    healthy.store(true, Ordering::SeqCst);
    daemon::notify(sd_notify::NotifyState::Ready);
    loop {
        let earliest = next.values().filter_map(|(_, t)| *t).min();
        let sleep = earliest.map_or(Duration::from_secs(3600), |t| {
            (t - Utc::now()).to_std().unwrap_or(Duration::ZERO)
        });
        tokio::select! {
            signal = signals.recv() => match signal {
                Some(Signal::Reload) => {
                    daemon::notify(sd_notify::NotifyState::Reloading);
                    match daemon::reload(&live, &mut http) {
                        Ok(new) => {
                            if let Err(e) = register(&pg, &new).await {
                                registered = false;
                                tracing::error!("the reloaded sources are not registered yet (retried at the next upkeep): {e}");
                            }
                            next = daemon::plan(&new, &next, Utc::now());
                            if new.http.concurrency != settings.http.concurrency {
                                node.limit = Arc::new(tokio::sync::Semaphore::new(new.http.concurrency.max(1)));
                            }
                            settings = new;
                            tracing::info!("config reloaded; scheduling {} sources", next.len());
                        }
                        Err(e) => tracing::error!("config not reloaded, keeping the old one: {e}"),
                    }
                    daemon::notify(sd_notify::NotifyState::Ready);
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
                daemon::notify(sd_notify::NotifyState::Watchdog);
                continue;
            }
            _ = alert_tick.tick(), if !settings.alerts.is_empty() => {
                // Every node checks; each window fires once across the cluster.
                let (settings, http) = (Arc::clone(&settings), http.clone());
                let backend = Backend::Postgres(Box::new(pg.clone()));
                tasks.spawn(async move {
                    crate::alerts::check_backend(&settings, &backend, &http, Utc::now()).await
                });
                continue;
            }
            _ = retention_tick.tick() => {
                // Off the scheduling loop: a large prune must not delay crawls.
                if !pruning.swap(true, Ordering::SeqCst) {
                    let (settings, pg, pruning, shutdown) =
                        (Arc::clone(&settings), pg.clone(), Arc::clone(&pruning), shutdown.clone());
                    let name = Arc::clone(&name);
                    tasks.spawn(async move {
                        let keep_going = || !shutdown.is_cancelled();
                        match daily_retention(&pg, &name, &settings, &keep_going).await {
                            Ok(Some(lines)) => {
                                for line in lines {
                                    tracing::info!("retention: {line}");
                                }
                            }
                            Ok(None) => tracing::debug!("another node applies today's retention"),
                            Err(e) => tracing::error!("retention not applied: {e}"),
                        }
                        pruning.store(false, Ordering::SeqCst);
                    });
                }
                continue;
            }
            _ = tokio::time::sleep_until(upkeep_at) => {
                let started = Instant::now();
                // Bounded, so a database that hangs cannot hold up signals and fire times.
                let done = tokio::time::timeout(
                    UPKEEP_LIMIT,
                    upkeep(&node, &settings, &mut registered, &mut pruned_at),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(PgError::Unreachable {
                        target: pg.target().describe(),
                        detail: format!("no answer within {} s", UPKEEP_LIMIT.as_secs()),
                    })
                });
                match done {
                    Ok(taken) => {
                        renewed_at = started;
                        let was_down = backoff.take().is_some();
                        if !healthy.swap(true, Ordering::SeqCst) || was_down {
                            tracing::info!("PostgreSQL at {} answers again", pg.target());
                        }
                        upkeep_at = Instant::now() + RENEW;
                        for index in taken {
                            let source = &settings.sources[index];
                            tracing::info!(source = %source.name, "taking over the source from a node whose lease expired");
                            let (settings, http, node) = (Arc::clone(&settings), http.clone(), node.clone());
                            tasks.spawn(async move { node.crawl(settings, http, index, None).await });
                        }
                    }
                    Err(e) => {
                        if healthy.swap(false, Ordering::SeqCst) {
                            tracing::error!("{e}; crawls fail until it answers again");
                        }
                        // Leases not renewed may be taken over: stop what they cover.
                        if renewed_at.elapsed() >= LEASE - RENEW {
                            stop_leased(&node.running, None, "its lease could not be renewed");
                        }
                        let pause = backoff.map_or(Duration::from_secs(1), |b| (b * 2).min(MOST_BACKOFF));
                        backoff = Some(pause);
                        tracing::debug!("reaching PostgreSQL again in {} s", pause.as_secs());
                        upkeep_at = Instant::now() + pause;
                    }
                }
                continue;
            }
            _ = tokio::time::sleep(sleep) => {}
        }
        let now = Utc::now();
        for (index, source) in settings.sources.iter().enumerate() {
            let Some((_, due)) = next.get_mut(&source.name) else {
                continue;
            };
            let Some(fire_at) = due.filter(|t| *t <= now) else {
                continue;
            };
            // Missed fire times collapse into this one run.
            *due = source.schedule.next_after(now, settings.timezone);
            {
                let mut running = lock(&node.running);
                if running.contains_key(&source.name) {
                    tracing::debug!(source = %source.name, "still running; skipping this fire time");
                    continue;
                }
                running.insert(
                    source.name.clone(),
                    Running {
                        cancel: CancellationToken::new(),
                        leased: None,
                    },
                );
            }
            let (settings, http, node) = (Arc::clone(&settings), http.clone(), node.clone());
            let fire_at = fire_time(fire_at);
            tasks.spawn(async move { node.fire(settings, http, index, fire_at).await });
        }
    }
    healthy.store(false, Ordering::SeqCst);
    daemon::notify(sd_notify::NotifyState::Stopping);
    shutdown.cancel();
    let finish = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(daemon::GRACE, finish).await.is_err() {
        tracing::warn!(
            "crawls still running after {} s are abandoned; their work is rolled back",
            daemon::GRACE.as_secs()
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    // An abandoned crawl may have left a lease being taken: wait for that
    // statement's answer, or the release below could come before it.
    node.taking.close();
    if tokio::time::timeout(UPKEEP_LIMIT, node.taking.wait())
        .await
        .is_err()
    {
        tracing::warn!(node = %name, "a lease being taken did not finish within {} s", UPKEEP_LIMIT.as_secs());
    }
    match pg.release_all(&name).await {
        Ok(n) => tracing::info!(node = %name, "released {n} leases"),
        Err(e) => {
            tracing::warn!(node = %name, "cannot release the leases; they expire within {} s: {e}", LEASE.as_secs())
        }
    }
}

/// Applies retention as the daily upkeep of the cluster, if this node
/// `node` is the first to claim today's (a UTC day of the database's
/// clock): Some(the report's lines) when it ran here, None when another
/// node has it. Deletes in short batches (`Postgres::prune`) and stops
/// between them when `keep_going` says so.
pub async fn daily_retention(
    pg: &Postgres,
    node: &str,
    settings: &Settings,
    keep_going: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Vec<String>>, PgError> {
    let now = pg.server_now().await?;
    if !pg.claim_retention_day(node, now).await? {
        return Ok(None);
    }
    let plan = crate::store::RetentionPlan::new(
        Utc::now(),
        settings.retention,
        settings.longest_lookback(),
    );
    let pruned = pg.prune(&plan, keep_going).await?;
    Ok(Some(pruned.lines(&plan)))
}

/// A fire time as the unix second it is claimed under.
fn fire_time(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// Cancels the leased crawls among `running` that are not in `held`
/// (all of them when `held` is None).
fn stop_leased(running: &RunningMap, held: Option<(&[String], Instant)>, why: &str) {
    for (name, r) in lock(running).iter() {
        let Some(leased) = r.leased else {
            continue;
        };
        let lost = match held {
            None => true,
            // A lease taken after the renewal began may not be in its answer.
            Some((held, since)) => leased < since && !held.contains(name),
        };
        if lost && !r.cancel.is_cancelled() {
            tracing::warn!(source = %name, "stopping the crawl: {why}");
            r.cancel.cancel();
        }
    }
}

/// What a node does every `RENEW`: renews its leases (stopping crawls
/// whose lease another node took), registers the sources if a reload's
/// registration failed (not every time: the upsert locks the rows that
/// claims skip), prunes old fire
/// times hourly, and takes over the leases that expired unreleased.
/// Returns the indices of the sources taken over, now in `running` and
/// leased. Err when the database does not answer.
async fn upkeep(
    node: &Node,
    settings: &Settings,
    registered: &mut bool,
    pruned_at: &mut Option<Instant>,
) -> Result<Vec<usize>, PgError> {
    let started = Instant::now();
    let now = node.pg.server_now().await?;
    let held: Vec<String> = node
        .pg
        .renew(&node.name, LEASE.as_secs() as i64, now)
        .await?
        .into_iter()
        .map(|c| c.source)
        .collect();
    stop_leased(
        &node.running,
        Some((&held, started)),
        "another node took its lease over",
    );
    if !*registered {
        register(&node.pg, settings).await?;
        *registered = true;
    }
    if pruned_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
        node.pg.prune_fires(now - FIRE_KEPT).await?;
        *pruned_at = Some(Instant::now());
    }
    // Sources this node is not running whose lease expired unreleased.
    let candidates: Vec<&str> = {
        let running = lock(&node.running);
        settings
            .sources
            .iter()
            .filter(|s| s.enabled && !running.contains_key(&s.name))
            .map(|s| s.name.as_str())
            .collect()
    };
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let (pg, name) = (node.pg.clone(), Arc::clone(&node.name));
    let candidates: Vec<String> = candidates.into_iter().map(str::to_owned).collect();
    let taken = node
        .taking(async move {
            let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
            pg.take_over_expired(&name, &candidates, LEASE.as_secs() as i64, now)
                .await
        })
        .await?;
    let mut indices = Vec::new();
    let mut running = lock(&node.running);
    for claimed in taken {
        let Some(index) = settings
            .sources
            .iter()
            .position(|s| s.name == claimed.source)
        else {
            continue;
        };
        // A fire time of this node took the same lease meanwhile: it runs the source.
        if running.contains_key(&claimed.source) {
            continue;
        }
        running.insert(
            claimed.source,
            Running {
                cancel: CancellationToken::new(),
                leased: Some(Instant::now()),
            },
        );
        indices.push(index);
    }
    Ok(indices)
}
