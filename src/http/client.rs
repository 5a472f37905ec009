//! The shared client and its request/response types.

use super::FetchError;
use std::time::Duration;
use url::Url;

/// Client settings, from `[crawler]`.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub user_agent: String,
    /// Whole request, per attempt.
    pub timeout: Duration,
    /// Cap on the decompressed body.
    pub max_body: u64,
    pub max_redirects: usize,
    pub retries: u32,
    pub concurrency: usize,
    pub per_host_concurrency: usize,
    pub respect_robots_txt: bool,
    pub proxy: Option<Url>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            user_agent: concat!("mentions/", env!("CARGO_PKG_VERSION")).to_owned(),
            timeout: Duration::from_secs(30),
            max_body: 10 * 1024 * 1024,
            max_redirects: 10,
            retries: 2,
            concurrency: 16,
            per_host_concurrency: 2,
            respect_robots_txt: true,
            proxy: None,
        }
    }
}

/// Validators for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One request. `robots` says whether robots.txt is consulted (crawler
/// fetches) or not (platform APIs).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: http::Method,
    pub url: Url,
    pub headers: Vec<(http::HeaderName, String)>,
    pub body: Option<Vec<u8>>,
    pub robots: bool,
    pub validators: Option<Validators>,
}

impl Request {
    /// A crawler GET: robots.txt applies.
    pub fn get(url: Url) -> Request {
        Request {
            method: http::Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            robots: true,
            validators: None,
        }
    }
}

/// A successful (2xx) or not-modified (304) response.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    /// After redirects.
    pub final_url: Url,
    pub headers: http::HeaderMap,
    /// Decompressed, at most `max_body` bytes; empty for 304.
    pub body: Vec<u8>,
    /// The response's own validators, to store for the next conditional GET.
    pub validators: Validators,
}

impl Fetched {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }

    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// The shared client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    _todo: (),
}

impl HttpClient {
    pub fn new(_settings: HttpSettings) -> Result<HttpClient, FetchError> {
        unimplemented!("HttpClient::new")
    }

    /// Sends `req` with retries, limits and robots.txt; non-2xx/304 answers
    /// after retries are `FetchError::Status`.
    pub async fn fetch(&self, _req: Request) -> Result<Fetched, FetchError> {
        unimplemented!("HttpClient::fetch")
    }
}
