//! The optional HTTP endpoint (`[server] listen`): `/healthz`, `/metrics`
//! (Prometheus text) and `/api/report` (the JSON of `report --format json`).

use crate::daemon::LiveSettings;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Binds `addr` now (so a bad address fails at start) and serves until
/// `shutdown`. `healthy` is true while the scheduler runs.
pub async fn spawn(
    _addr: SocketAddr,
    _settings: LiveSettings,
    _healthy: Arc<AtomicBool>,
    _shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    unimplemented!("server::spawn")
}
