//! The optional HTTP endpoint (`[server] listen`): `/healthz`, `/metrics`
//! (Prometheus text), `/api/report` (the JSON of `report --format json`),
//! `/api/mentions` (the rows behind the counts, in keyset pages) and
//! `/api/mentions/ID` (the JSON of `explain`).
//!
//! Clients are strangers: connections are capped (more wait in the kernel's
//! backlog rather than costing file descriptors), a client must send its
//! headers promptly and no connection lives long, database reads go through
//! a small pool of read-only connections off the async threads, errors name
//! no file paths, and error logs are rate-limited so a flood cannot fill
//! the disk.

use crate::listing::{self, Cursor, Selection};
use crate::live::LiveSettings;
use crate::report::{self, Window};
use crate::sources::platform::Secret;
use crate::store::{ReadPool, StoreError};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Client connections served at once; well below the usual limit of 1,024
/// open files, so crawls keep theirs.
const MAX_CONNECTIONS: usize = 256;
/// A client must send a request's headers within this time, the first and
/// each one on a kept-alive connection.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// No connection is kept longer than this, busy or idle.
const MAX_CONNECTION_TIME: Duration = Duration::from_secs(60);
/// Read-only database connections shared by all requests.
const READ_CONNECTIONS: usize = 4;
/// At most one error log line per this interval; the rest are counted.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// What the endpoint sees of the running service.
#[derive(Clone)]
pub struct Handle {
    /// The settings in force; they change on reload.
    pub settings: LiveSettings,
    /// True while the scheduler runs.
    pub healthy: Arc<AtomicBool>,
    /// `[server] token`: asked of every request but `/healthz`.
    pub token: Option<Secret>,
}

#[derive(Clone)]
struct AppState {
    settings: LiveSettings,
    healthy: Arc<AtomicBool>,
    metrics: Option<&'static metrics_exporter_prometheus::PrometheusHandle>,
    pool: ReadPool,
    errors: Arc<ErrorLog>,
    token: Option<Secret>,
}

/// Error logging that a flood of failing requests cannot turn into a flood
/// of log lines: one line per interval, saying how many were left out.
#[derive(Default)]
struct ErrorLog {
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl ErrorLog {
    fn error(&self, message: &str) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < ERROR_LOG_INTERVAL) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        match self.suppressed.swap(0, Ordering::Relaxed) {
            0 => tracing::error!("{message}"),
            n => tracing::error!("{message} ({n} more errors in the last interval not logged)"),
        }
    }
}

/// What a client is told when the database cannot be read: no file paths.
fn store_failure(errors: &ErrorLog, what: &str, e: &StoreError) -> Response {
    errors.error(&format!("{what}: {e}"));
    match e {
        StoreError::Missing { .. } => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not exist yet",
        ),
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database cannot be read right now",
        ),
    }
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
    Ok(serve_on(listener, handle, shutdown))
}

/// Serves on `listener` until `shutdown` (`spawn` after binding; tests
/// bind port 0 and learn the address first).
pub fn serve_on(
    listener: tokio::net::TcpListener,
    handle: Handle,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let local = listener.local_addr().ok();
    let pool = ReadPool::for_settings(&handle.settings.current(), READ_CONNECTIONS);
    let state = AppState {
        settings: handle.settings,
        healthy: handle.healthy,
        metrics: crate::telemetry::install(),
        pool,
        errors: Arc::default(),
        token: handle.token,
    };
    let errors = Arc::clone(&state.errors);
    let app = router(state);
    if let Some(local) = local {
        tracing::info!("HTTP endpoint listening on http://{local}");
    }
    tokio::spawn(serve(listener, app, errors, shutdown))
}

/// Accepts connections while a slot is free and serves each with hyper's
/// HTTP/1 under the header timeout and the connection time limit.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    errors: Arc<ErrorLog>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = shutdown.cancelled() => break,
        };
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, say: back off instead of spinning.
                    errors.error(&format!("HTTP endpoint cannot accept a connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = tokio::time::sleep(MAX_CONNECTION_TIME) => {}
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_millis(500), connection).await;
                }
            }
        });
    }
}

fn router(state: AppState) -> Router {
    let guarded = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/report", get(api_report))
        .route("/api/mentions", get(api_mentions))
        .route("/api/mentions/{id}", get(api_mention))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ));
    let dashboard = crate::dashboard::router(crate::dashboard::Dashboard {
        settings: state.settings.clone(),
        pool: state.pool.clone(),
        token: state.token.clone(),
    });
    Router::new()
        .route("/healthz", get(healthz))
        .merge(guarded)
        .merge(dashboard)
        .with_state(state)
}

/// With `[server] token` set, a request needs `Authorization: Bearer <token>`.
async fn require_token(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    let offered = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if token_matches(offered, token) {
        return next.run(request).await;
    }
    let mut refused = error(
        StatusCode::UNAUTHORIZED,
        "this endpoint needs Authorization: Bearer <[server] token>",
    );
    refused.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    refused
}

/// Compares in constant time, so the answer's timing says nothing of the token.
fn token_matches(offered: &str, token: &Secret) -> bool {
    use subtle::ConstantTimeEq;
    offered.as_bytes().ct_eq(token.expose().as_bytes()).into()
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
    let gauges = state
        .pool
        .read(move |store| {
            let topics: Vec<&str> = settings.topics.iter().map(|t| t.name.as_str()).collect();
            let sources: Vec<&str> = settings.sources.iter().map(|s| s.name.as_str()).collect();
            crate::telemetry::database_gauges(store, &topics, &sources)
        })
        .await;
    let gauges = gauges.unwrap_or_else(|e| {
        // The counters are still worth serving when the database is busy or gone.
        state
            .errors
            .error(&format!("metrics: cannot read the database: {e}"));
        String::new()
    });
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
    let window = match window_of(
        params.since.as_deref(),
        params.from.as_deref(),
        params.to.as_deref(),
    ) {
        Ok(w) => w,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
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
        Err(_) => {
            let name = params.topic.as_deref().unwrap_or_default();
            return error(StatusCode::NOT_FOUND, &format!("no topic named {name:?}"));
        }
    };
    let single = params.topic.is_some();
    let built = state
        .pool
        .read(move |store| {
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            report::build(store, &settings, &topics, window, top)
        })
        .await;
    match built {
        Ok(reports) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            report::render_json(&reports, single),
        )
            .into_response(),
        Err(e) => store_failure(&state.errors, "api/report", &e),
    }
}

/// The query string of `/api/mentions`: named like the `list` flags (`q`
/// for `--search`); `kind`, `source` and `domain` may repeat.
#[derive(Debug, Default)]
struct MentionParams {
    topic: Option<String>,
    since: Option<String>,
    from: Option<String>,
    to: Option<String>,
    kinds: Vec<crate::sources::Kind>,
    sources: Vec<String>,
    domains: Vec<String>,
    q: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl MentionParams {
    fn parse(query: &str) -> Result<MentionParams, String> {
        let mut p = MentionParams::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.into_owned();
            let once = |slot: &mut Option<String>| {
                if slot.is_some() {
                    return Err(format!("{key} is given more than once"));
                }
                *slot = Some(value.clone());
                Ok(())
            };
            match &*key {
                "topic" => once(&mut p.topic)?,
                "since" => once(&mut p.since)?,
                "from" => once(&mut p.from)?,
                "to" => once(&mut p.to)?,
                "q" => once(&mut p.q)?,
                "limit" => once(&mut p.limit)?,
                "cursor" => once(&mut p.cursor)?,
                "kind" => {
                    let kind = listing::parse_kind(&value)?;
                    if !p.kinds.contains(&kind) {
                        p.kinds.push(kind);
                    }
                }
                "source" => p.sources.push(value),
                "domain" => p.domains.push(listing::parse_domain("domain", &value)?),
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}; the parameters are topic, since, from, to, kind, source, domain, q, limit and cursor"
                    ))
                }
            }
        }
        Ok(p)
    }
}

/// A page of the mentions a report counts, newest first:
/// `{"mentions": [...], "next": "<cursor>" | null}`.
async fn api_mentions(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = match MentionParams::parse(query.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let settings = state.settings.current();
    let window = match window_of(
        params.since.as_deref(),
        params.from.as_deref(),
        params.to.as_deref(),
    ) {
        Ok(w) => w,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let limit = match params.limit.as_deref().map(str::parse::<usize>) {
        None => listing::PAGE_ROWS,
        Some(Ok(n)) if (1..=listing::MAX_PAGE_ROWS).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "limit must be a whole number from 1 to {}",
                    listing::MAX_PAGE_ROWS
                ),
            )
        }
    };
    let topics: Vec<String> = match report::select_topics(&settings, params.topic.as_deref()) {
        Ok(topics) => topics.into_iter().map(str::to_owned).collect(),
        Err(_) => {
            let name = params.topic.as_deref().unwrap_or_default();
            return error(StatusCode::NOT_FOUND, &format!("no topic named {name:?}"));
        }
    };
    let search = match params.q.as_deref().map(|q| listing::parse_search("q", q)) {
        None => None,
        Some(Ok(q)) => Some(q),
        Some(Err(e)) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let cursor = match params.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => match Cursor::decode(text).filter(|c| topics.contains(&c.topic)) {
            Some(c) => Some(c),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "cursor is not one this endpoint gave out for these parameters; start again without it",
                )
            }
        },
    };
    let selection = Selection {
        topics,
        window,
        kinds: params.kinds,
        sources: params.sources,
        domains: params.domains,
        search,
        excluded: false,
    };
    let page = state
        .pool
        .read(move |store| {
            if let Some(name) = listing::unknown_source(store, &settings, &selection.sources)? {
                return Ok(Err(format!("no source named {name:?}")));
            }
            let filters = selection.filters();
            let (rows, next) = listing::page(store, &filters, cursor.as_ref(), limit)?;
            let body = listing::page_json(&rows, next.as_ref());
            // `${VAR}` values never leave the process, not even inside a stored link.
            Ok(Ok(crate::secrets::mask(&body).into_owned()))
        })
        .await;
    match page {
        Ok(Ok(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, &e),
        Err(e) => store_failure(&state.errors, "api/mentions", &e),
    }
}

/// One mention explained: the JSON of `explain ID --format json`.
async fn api_mention(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(Ok(id)) = id.ok().map(|Path(id)| id.parse::<i64>()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "a mention's id is a whole number, as /api/mentions gives it",
        );
    };
    let settings = state.settings.current();
    let explained = state
        .pool
        .read(move |store| {
            Ok(listing::explain_mention(store, &settings, id)?
                .map(|x| crate::secrets::mask(&listing::pretty(&x.json())).into_owned()))
        })
        .await;
    match explained {
        Ok(Some(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, &format!("no mention has id {id}")),
        Err(e) => store_failure(&state.errors, "api/mentions/ID", &e),
    }
}

/// The window of `since` or `from`/`to` query parameters, as `report` reads
/// them; the reason for a 400 answer when they are combined or unreadable.
fn window_of(since: Option<&str>, from: Option<&str>, to: Option<&str>) -> Result<Window, String> {
    if since.is_some() && (from.is_some() || to.is_some()) {
        return Err("since cannot be combined with from and to".to_owned());
    }
    Window::from_args(since, from, to, chrono::Utc::now())
}
