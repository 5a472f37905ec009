//! The dashboard at `/` (with `[server] listen`): a topic and a window, the
//! footer with its change against the window before, the chart of mentions
//! over time, top domains and sources, source health, and the mention list
//! with its filters, paging, downloads and explain views.
//!
//! Read-only, server-rendered, and complete without JavaScript or the
//! internet: the HTML comes from maud templates (`page`), the chart is SVG
//! drawn here (`chart`, also behind `report --format svg`), the stylesheet,
//! a small script and the icon are embedded (`assets`). Every figure is read
//! by the code behind `report` and `list` (`data`). With `[server] token`
//! set, pages need a sign-in (`auth`). Every answer carries a strict
//! Content-Security-Policy: no inline script or style, nothing from other
//! origins.

mod assets;
mod auth;
pub mod chart;
pub mod data;
mod export;
mod page;
pub mod params;
mod words;

use crate::live::LiveSettings;
use crate::sources::platform::Secret;
use crate::store::{ReadPool, StoreError};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::Markup;
use page::Session;
use params::View;
use serde::Deserialize;
use std::sync::atomic::{AtomicI64, Ordering};

pub use assets::total_bytes as asset_bytes;

/// The policy every dashboard answer carries: this origin's stylesheet,
/// script and icon only; forms post only here; no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The dashboard page of `view` as the endpoint serves it (without a
/// sign-out button), for benchmarks and tools that measure it.
pub fn render_page(
    view: &View,
    data: &data::PageData,
    settings: &crate::config::Settings,
) -> String {
    page::dashboard(view, data, settings, Session::Open).into_string()
}

/// What the dashboard needs of the running service.
#[derive(Clone)]
pub struct Dashboard {
    /// The settings in force (topics, sources, report defaults).
    pub settings: LiveSettings,
    /// Read-only connections, shared with the rest of the endpoint.
    pub pool: ReadPool,
    /// `[server] token`: pages need a sign-in when set.
    pub token: Option<Secret>,
}

/// The dashboard's routes, to merge into the endpoint's router.
pub fn router<S: Clone + Send + Sync + 'static>(dashboard: Dashboard) -> Router<S> {
    let guarded = Router::new()
        .route("/", get(index))
        .route("/mentions/{id}", get(explain))
        .route("/mentions.csv", get(download_csv))
        .route("/mentions.json", get(download_json))
        .route("/signout", post(sign_out))
        .route_layer(axum::middleware::from_fn_with_state(
            dashboard.clone(),
            require_session,
        ));
    Router::new()
        .route("/signin", get(sign_in_form).post(sign_in))
        .route("/assets/{name}", get(assets::serve))
        .merge(guarded)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(dashboard)
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// With a token set, a request needs the session cookie or the Bearer
/// token; a browser without either is sent to the sign-in form.
async fn require_session(State(dash): State<Dashboard>, request: Request, next: Next) -> Response {
    let Some(token) = &dash.token else {
        return next.run(request).await;
    };
    if auth::signed_in(request.headers(), token) {
        return next.run(request).await;
    }
    let back = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &back)
        .finish();
    redirect(&format!("/signin?{query}"))
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

fn session(dash: &Dashboard) -> Session {
    if dash.token.is_some() {
        Session::SignedIn
    } else {
        Session::Open
    }
}

/// The language a request asks for (`lang=`), else the configured one.
fn lang_of(query: &str, dash: &Dashboard) -> crate::config::Lang {
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k == "lang" {
            match v.as_ref() {
                "de" => return crate::config::Lang::De,
                "en" => return crate::config::Lang::En,
                _ => {}
            }
        }
    }
    dash.settings.current().report.language
}

/// The last second an error was logged: at most one line per 10 seconds,
/// so a flood of failing requests cannot fill the log.
static LAST_ERROR_LOG: AtomicI64 = AtomicI64::new(i64::MIN);

fn unavailable(dash: &Dashboard, query: &str, e: &StoreError) -> Response {
    let now = chrono::Utc::now().timestamp();
    let last = LAST_ERROR_LOG.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 10
        && LAST_ERROR_LOG
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::error!("dashboard: {e}");
    }
    let lang = lang_of(query, dash);
    let w = words::words(lang);
    // No file paths: the message is the page's own.
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        page::problem(lang, w.unavailable, "", session(dash)),
    )
}

fn bad_request(dash: &Dashboard, query: &str, why: &str) -> Response {
    let lang = lang_of(query, dash);
    html(
        StatusCode::BAD_REQUEST,
        page::problem(lang, words::words(lang).bad_request, why, session(dash)),
    )
}

async fn index(State(dash): State<Dashboard>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let settings = dash.settings.current();
    if settings.topics.is_empty() {
        let lang = lang_of(&query, &dash);
        return html(
            StatusCode::OK,
            page::problem(lang, words::words(lang).no_topics, "", session(&dash)),
        );
    }
    let view = match View::parse(&query, &settings, chrono::Utc::now()) {
        Ok(v) => v,
        Err(e) => return bad_request(&dash, &query, &e),
    };
    let loaded = {
        let (settings, view) = (settings.clone(), view.clone());
        dash.pool
            .read(move |store| data::load(store, &settings, &view))
            .await
    };
    match loaded {
        Ok(data) => html(
            StatusCode::OK,
            page::dashboard(&view, &data, &settings, session(&dash)),
        ),
        Err(e) => unavailable(&dash, &query, &e),
    }
}

async fn explain(
    State(dash): State<Dashboard>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let settings = dash.settings.current();
    let lang = lang_of(&query, &dash);
    let not_found = || {
        html(
            StatusCode::NOT_FOUND,
            page::problem(lang, words::words(lang).not_found, "", session(&dash)),
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let loaded = {
        let settings = settings.clone();
        dash.pool
            .read(move |store| data::explain(store, &settings, id))
            .await
    };
    let x = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => return not_found(),
        Err(e) => return unavailable(&dash, &query, &e),
    };
    // The view to go back to: the one the link came from, else the mention's topic.
    let view = View::parse(&query, &settings, chrono::Utc::now()).or_else(|_| {
        View::parse(
            &format!("lang={}", lang_code(lang)),
            &settings,
            chrono::Utc::now(),
        )
    });
    match view {
        Ok(view) => html(StatusCode::OK, page::explain(&view, &x, session(&dash))),
        Err(e) => bad_request(&dash, &query, &e),
    }
}

fn lang_code(lang: crate::config::Lang) -> &'static str {
    words::words(lang).lang_code
}

async fn download_csv(state: State<Dashboard>, query: RawQuery) -> Response {
    download(state, query, export::Format::Csv).await
}

async fn download_json(state: State<Dashboard>, query: RawQuery) -> Response {
    download(state, query, export::Format::Json).await
}

async fn download(
    State(dash): State<Dashboard>,
    RawQuery(query): RawQuery,
    format: export::Format,
) -> Response {
    let query = query.unwrap_or_default();
    let settings = dash.settings.current();
    let view = match View::parse(&query, &settings, chrono::Utc::now()) {
        Ok(v) => v,
        Err(e) => return bad_request(&dash, &query, &e),
    };
    let w = view.list_window();
    let name = export::file_name(
        &view.topic,
        &w.from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        &w.to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        format,
    );
    let content_type = match format {
        export::Format::Csv => "text/csv; charset=utf-8",
        export::Format::Json => "application/json",
    };
    let mut response = export::body(dash.pool.clone(), view.list_filter(), format).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[derive(Debug, Deserialize)]
struct SignInQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
    next: Option<String>,
    lang: Option<String>,
}

fn lang_param(lang: Option<&str>, dash: &Dashboard) -> crate::config::Lang {
    lang_of(&format!("lang={}", lang.unwrap_or_default()), dash)
}

async fn sign_in_form(
    State(dash): State<Dashboard>,
    axum::extract::Query(q): axum::extract::Query<SignInQuery>,
) -> Response {
    let next = auth::safe_next(q.next.as_deref());
    if dash.token.is_none() {
        return redirect(&next);
    }
    let lang = lang_param(q.lang.as_deref(), &dash);
    html(StatusCode::OK, page::sign_in(lang, &next, false))
}

/// Wrong tokens wait this long before the answer, so guessing is slow.
const WRONG_TOKEN_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

async fn sign_in(
    State(dash): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = auth::safe_next(form.next.as_deref());
    let Some(token) = &dash.token else {
        return redirect(&next);
    };
    if auth::token_matches(&form.token, token) || auth::token_matches(form.token.trim(), token) {
        let mut response = redirect(&next);
        response
            .headers_mut()
            .insert(header::SET_COOKIE, auth::set_cookie(token, &headers));
        return response;
    }
    tokio::time::sleep(WRONG_TOKEN_DELAY).await;
    let lang = lang_param(form.lang.as_deref(), &dash);
    html(StatusCode::UNAUTHORIZED, page::sign_in(lang, &next, true))
}

async fn sign_out() -> Response {
    let mut response = redirect("/signin");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie());
    response
}
