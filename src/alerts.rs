//! Spike alerts (`[[alert]]`, SPEC §8): count new mentions per window,
//! fire a webhook once per crossing, record it, list with `mentions alerts`.

use crate::config::Settings;
use crate::crawl::SharedStore;
use crate::http::HttpClient;
use chrono::{DateTime, Utc};

/// Evaluates every configured alert at `now`; fires and records those that crossed.
pub async fn check(
    _settings: &Settings,
    _store: &SharedStore,
    _http: &HttpClient,
    _now: DateTime<Utc>,
) {
    unimplemented!("alerts::check")
}
