//! The dashboard's stylesheet, script and icon, embedded in the binary
//! (also in debug builds), served under `/assets/` with a content hash in
//! their URL so browsers may keep them for a year.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "src/dashboard/assets/"]
struct Assets;

/// The first 8 bytes of the file's SHA-256, in hex.
fn version(name: &str) -> String {
    Assets::get(name)
        .map(|f| {
            f.metadata.sha256_hash()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

/// The URL of an embedded file, with its version.
pub fn url(name: &str) -> String {
    format!("/assets/{name}?v={}", version(name))
}

/// The bytes of every embedded file (what a first visit loads besides the page).
pub fn total_bytes() -> usize {
    Assets::iter()
        .filter_map(|name| Assets::get(&name).map(|f| f.data.len()))
        .sum()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(file) = Assets::get(&name) else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    let mut response = (
        [(header::CONTENT_TYPE, content_type(&name))],
        file.data.into_owned(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_embedded_with_versions() {
        assert!(Assets::get("dashboard.css").is_some());
        assert!(Assets::get("dashboard.js").is_some());
        assert!(url("dashboard.css").starts_with("/assets/dashboard.css?v="));
        assert_eq!(
            url("dashboard.css").len(),
            "/assets/dashboard.css?v=".len() + 16
        );
        assert!(total_bytes() > 1000);
    }
}
