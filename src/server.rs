//! The optional HTTP endpoint (`[server] listen`): `/healthz`, `/metrics`
//! (Prometheus text) and `/api/report` (the JSON of `report --format json`).
//! Every database read opens its own connection off the async threads, so
//! the endpoint never waits for the crawler's connection.

use crate::live::LiveSettings;
use crate::report::{self, Window};
use crate::store::Store;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the endpoint sees of the running service.
#[derive(Clone)]
pub struct Handle {
    /// The settings in force; they change on reload.
    pub settings: LiveSettings,
    /// True while the scheduler runs.
    pub healthy: Arc<AtomicBool>,
}

#[derive(Clone)]
struct AppState {
    settings: LiveSettings,
    healthy: Arc<AtomicBool>,
    metrics: Option<&'static metrics_exporter_prometheus::PrometheusHandle>,
}

/// Binds `addr` now (so a bad address fails at start) and serves until
/// `shutdown`.
pub async fn spawn(
    addr: SocketAddr,
    handle: Handle,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} ([server] listen): {e}"))?;
    let local = listener.local_addr().unwrap_or(addr);
    let state = AppState {
        settings: handle.settings,
        healthy: handle.healthy,
        metrics: crate::telemetry::install(),
    };
    let app = router(state);
    tracing::info!("HTTP endpoint listening on http://{local}");
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!("HTTP endpoint on {local} stopped: {e}");
        }
    }))
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/report", get(api_report))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(state)
}

/// A JSON error body: `{"error": "..."}`.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string() + "\n";
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    if state.healthy.load(Ordering::SeqCst) {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not running\n").into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let settings = state.settings.current();
    let gauges = tokio::task::spawn_blocking(move || {
        let store = Store::open(&settings.database)?;
        let topics: Vec<&str> = settings.topics.iter().map(|t| t.name.as_str()).collect();
        let sources: Vec<&str> = settings.sources.iter().map(|s| s.name.as_str()).collect();
        crate::telemetry::database_gauges(&store, &topics, &sources)
    })
    .await;
    let gauges = match gauges {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => {
            // The counters are still worth serving when the database is busy or gone.
            tracing::warn!("metrics: cannot read the database: {e}");
            String::new()
        }
        Err(e) => {
            tracing::error!("metrics: database task ended abnormally: {e}");
            String::new()
        }
    };
    let body = crate::telemetry::render(state.metrics, &gauges);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
        body,
    )
        .into_response()
}

/// The query string of `/api/report`, named like the `report` flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    topic: Option<String>,
    since: Option<String>,
    from: Option<String>,
    to: Option<String>,
    top: Option<String>,
}

async fn api_report(
    State(state): State<AppState>,
    params: Result<Query<ReportParams>, QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let settings = state.settings.current();
    if params.since.is_some() && (params.from.is_some() || params.to.is_some()) {
        return error(
            StatusCode::BAD_REQUEST,
            "since cannot be combined with from and to",
        );
    }
    let window = match Window::from_args(
        params.since.as_deref(),
        params.from.as_deref(),
        params.to.as_deref(),
        chrono::Utc::now(),
    ) {
        Ok(w) => w,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let top = match params.top.as_deref().map(str::parse::<usize>) {
        None => settings.report.top_references,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "top must be a whole number such as 5",
            )
        }
    };
    let topics: Vec<String> = match report::select_topics(&settings, params.topic.as_deref()) {
        Ok(topics) => topics.into_iter().map(str::to_owned).collect(),
        Err(e) => return error(StatusCode::NOT_FOUND, &e),
    };
    let single = params.topic.is_some();
    let built = tokio::task::spawn_blocking(move || {
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        let store = Store::open(&settings.database)?;
        report::build(&store, &settings, &topics, window, top)
    })
    .await;
    match built {
        Ok(Ok(reports)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            report::render_json(&reports, single),
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!("api/report: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
        }
        Err(e) => {
            tracing::error!("api/report: the database task ended abnormally: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the report could not be built",
            )
        }
    }
}
