//! `mentions run`: wires the service together — the database lock, the
//! store, the HTTP client, the optional endpoint, signal handling — and
//! hands control to the scheduler (`daemon`) until a stop signal. One daemon
//! per SQLite database: a lock file beside it says who holds it. With
//! `[database] url` the process is one node of several on PostgreSQL: no
//! lock, and the scheduler is `cluster`'s.

use super::{open_store, runtime, Failure};
use crate::config::Settings;
use crate::daemon::{self, Signal};
use crate::http::HttpClient;
use crate::live::LiveSettings;
use crate::server;
use crate::store::SharedStore;
use chrono::Utc;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(super) fn run(settings: Settings) -> Result<ExitCode, Failure> {
    if settings.postgres.is_some() {
        return run_on_postgres(settings);
    }
    let _lock = InstanceLock::acquire(&settings.database)?;
    let store: SharedStore = crate::store::shared(open_store(&settings)?);
    let http = HttpClient::new(settings.http.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    check_server(&settings)?;
    let server_settings = settings.server.clone();
    let live = LiveSettings::new(settings);
    runtime()?.block_on(async move {
        let (tx, signals) = tokio::sync::mpsc::unbounded_channel();
        listen_for_signals(tx);
        let healthy = Arc::new(AtomicBool::new(false));
        let shutdown = CancellationToken::new();
        let server = start_server(server_settings, &live, &healthy, &shutdown).await?;
        daemon::schedule_loop(live, http, store, healthy, signals, shutdown).await;
        if let Some(server) = server {
            let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
        }
        Ok::<_, Failure>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `mentions run` on PostgreSQL (`[database] url`): one node of several
/// sharing the database. No lock file: the nodes share the sources through
/// leases (see `cluster`). Unreachable at start exits 3 naming the host.
fn run_on_postgres(settings: Settings) -> Result<ExitCode, Failure> {
    let Some(target) = settings.postgres.clone() else {
        return Err(Failure::Usage("no [database] url".into()));
    };
    let http = HttpClient::new(settings.http.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    check_server(&settings)?;
    let runtime = runtime()?;
    let node = crate::cluster::node_name();
    let pg = runtime
        .block_on(super::crawl::connect_postgres(
            &target,
            settings.http.concurrency + 2,
        ))?
        .with_node(&node);
    runtime
        .block_on(async {
            crate::cluster::register(&pg, &settings).await?;
            // Leases a previous process of this name left (MENTIONS_NODE
            // set, killed): it is not running those crawls any more.
            let stale = pg.release_all(&node).await?;
            if stale > 0 {
                tracing::info!(node = %node, "released {stale} leases left by an earlier process of this node");
            }
            Ok::<_, crate::store::postgres::PgError>(())
        })
        .map_err(|e| Failure::Storage(target.scrub(&e.to_string())))?;
    tracing::info!(node = %node, "running as node {node} on PostgreSQL at {target}");
    let server_settings = settings.server.clone();
    let live = LiveSettings::new(settings);
    runtime.block_on(async move {
        let (tx, signals) = tokio::sync::mpsc::unbounded_channel();
        listen_for_signals(tx);
        let healthy = Arc::new(AtomicBool::new(false));
        let shutdown = CancellationToken::new();
        let server = start_server(server_settings, &live, &healthy, &shutdown).await?;
        crate::cluster::schedule_loop(live, http, pg, healthy, signals, shutdown).await;
        if let Some(server) = server {
            let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
        }
        Ok::<_, Failure>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// An endpoint other machines can reach needs a token.
fn check_server(settings: &Settings) -> Result<(), Failure> {
    if let Some(server) = &settings.server {
        if !server.listen.ip().is_loopback() && server.token.is_none() {
            return Err(Failure::Usage(format!(
                "{}: [server] listen = \"{}\" is reachable from other machines, so the endpoint needs a token: set [server] token = \"${{MENTIONS_TOKEN}}\" or listen on 127.0.0.1",
                settings.path.display(),
                server.listen
            )));
        }
    }
    Ok(())
}

/// Starts the endpoint of `[server]`, if set.
async fn start_server(
    config: Option<crate::config::ServerSettings>,
    live: &LiveSettings,
    healthy: &Arc<AtomicBool>,
    shutdown: &CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>, Failure> {
    let Some(config) = config else {
        return Ok(None);
    };
    let handle = server::Handle {
        settings: live.clone(),
        healthy: Arc::clone(healthy),
        token: config.token,
    };
    Ok(Some(
        server::spawn(config.listen, handle, shutdown.clone())
            .await
            .map_err(Failure::Usage)?,
    ))
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

/// The lock file of a database: `mentions.db` → `mentions.db.lock`.
fn lock_path(database: &Path) -> PathBuf {
    let database = resolved(database);
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}

/// The database's real path, so a symlink to it takes the same lock: the
/// file itself when it exists, else its resolved folder and name.
fn resolved(database: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(database) {
        return real;
    }
    let folder = match database.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(folder), database.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => database.to_owned(),
    }
}

/// Holds the daemon lock for as long as it lives (the OS drops it on exit, even on kill -9).
struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    fn acquire(database: &Path) -> Result<InstanceLock, Failure> {
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
