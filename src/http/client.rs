//! The shared HTTP client (SPEC §6): one reqwest client with rustls,
//! automatic decompression, the configured user agent, a per-attempt timeout
//! and a redirect cap; on top of it retries with `Retry-After`, conditional
//! GET, a body cap counted after decompression, global and per-host
//! concurrency limits, and the robots.txt check.

use super::limiter::HostLimiter;
use super::robots::RobotsCache;
use super::FetchError;
use chrono::{DateTime, NaiveDateTime, Utc};
use http::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, RETRY_AFTER,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::{debug, warn};
use url::Url;

/// The longest wait between two attempts, whatever `Retry-After` asks for.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Statuses worth another attempt.
const RETRY_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

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

    /// A GET to a platform API: robots.txt does not apply.
    pub fn api_get(url: Url) -> Request {
        Request {
            robots: false,
            ..Request::get(url)
        }
    }

    /// A POST of a JSON body to a platform API (robots.txt does not apply).
    pub fn post_json(url: Url, body: &serde_json::Value) -> Request {
        Request {
            method: http::Method::POST,
            body: Some(body.to_string().into_bytes()),
            ..Request::api_get(url)
        }
        .header(CONTENT_TYPE, "application/json")
    }

    /// A POST of `application/x-www-form-urlencoded` pairs (token endpoints).
    pub fn post_form(url: Url, pairs: &[(&str, &str)]) -> Request {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Request {
            method: http::Method::POST,
            body: Some(body.into_bytes()),
            ..Request::api_get(url)
        }
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
    }

    /// Adds one request header (an `Authorization` value is never logged).
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }

    /// Makes this a conditional GET with the validators stored last time.
    pub fn with_validators(mut self, validators: Option<Validators>) -> Request {
        self.validators = validators;
        self
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
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    settings: HttpSettings,
    global: Semaphore,
    hosts: HostLimiter,
    robots: RobotsCache,
}

/// How the body cap is applied.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyLimit {
    /// More bytes than this fail the fetch.
    Fail(u64),
    /// Bytes past this are dropped (robots.txt is parsed up to a limit).
    Truncate(u64),
}

/// Why one attempt failed, and whether another attempt may help.
enum Failure {
    Final(FetchError),
    /// Retryable, with the server's `Retry-After` if it sent one.
    Retry(FetchError, Option<Duration>),
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Result<HttpClient, FetchError> {
        HttpClient::build(settings, true)
    }

    /// `system_proxy` off lets tests reach 127.0.0.1 whatever the environment says.
    pub(crate) fn build(
        settings: HttpSettings,
        system_proxy: bool,
    ) -> Result<HttpClient, FetchError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(settings.max_redirects))
            .gzip(true)
            .brotli(true)
            .deflate(true);
        if let Some(proxy) = &settings.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str()).map_err(|e| FetchError::Setup {
                reason: format!("the proxy {proxy} cannot be used: {}", innermost(&e)),
            })?;
            builder = builder.proxy(proxy);
        } else if !system_proxy {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| FetchError::Setup {
            reason: innermost(&e),
        })?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                client,
                global: Semaphore::new(settings.concurrency.clamp(1, Semaphore::MAX_PERMITS)),
                hosts: HostLimiter::new(settings.per_host_concurrency),
                robots: RobotsCache::new(&settings.user_agent),
                settings,
            }),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.inner.settings
    }

    /// Sends `req` with retries, limits and robots.txt; non-2xx/304 answers
    /// after retries are `FetchError::Status`.
    pub async fn fetch(&self, req: Request) -> Result<Fetched, FetchError> {
        if !matches!(req.url.scheme(), "http" | "https") {
            return Err(FetchError::Other {
                reason: format!("the scheme {} is not fetched over HTTP", req.url.scheme()),
                url: req.url,
            });
        }
        if req.robots && self.inner.settings.respect_robots_txt {
            self.inner.robots.check(self, &req.url).await?;
        }
        let limit = BodyLimit::Fail(self.inner.settings.max_body);
        self.fetch_unchecked(&req, limit).await
    }

    /// Hosts currently holding or waiting for a per-host slot.
    pub fn tracked_hosts(&self) -> usize {
        self.inner.hosts.tracked_hosts()
    }

    /// The retry loop, without the robots.txt check.
    pub(crate) async fn fetch_unchecked(
        &self,
        req: &Request,
        limit: BodyLimit,
    ) -> Result<Fetched, FetchError> {
        let mut retry = 0;
        loop {
            match self.attempt(req, limit).await {
                Ok(fetched) => return Ok(fetched),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(e, after)) => {
                    if retry >= self.inner.settings.retries {
                        return Err(e);
                    }
                    let wait = after.map_or_else(|| backoff(retry), |d| d.min(MAX_WAIT));
                    retry += 1;
                    warn!(
                        method = %req.method,
                        url = %req.url,
                        retry,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %e,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One attempt, holding a per-host and a global slot throughout.
    async fn attempt(&self, req: &Request, limit: BodyLimit) -> Result<Fetched, Failure> {
        let host = req.url.host_str().unwrap_or_default().to_ascii_lowercase();
        let _host_slot = self.inner.hosts.acquire(&host).await;
        // Never closed, so this only fails in theory; then the attempt runs unthrottled.
        let _global_slot = self.inner.global.acquire().await.ok();

        let request = self.build_request(req)?;
        let response = request.send().await.map_err(|e| self.classify(&req.url, &e))?;
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        debug!(method = %req.method, url = %req.url, %final_url, status, "fetched");

        if status == 304 || (200..300).contains(&status) {
            let headers = response.headers().clone();
            let validators = response_validators(&headers, req.validators.as_ref());
            let body = if status == 304 || req.method == http::Method::HEAD {
                Vec::new()
            } else {
                self.read_body(response, &req.url, limit).await?
            };
            return Ok(Fetched {
                status,
                final_url,
                headers,
                body,
                validators,
            });
        }
        let error = FetchError::Status {
            url: final_url,
            status,
        };
        if RETRY_STATUSES.contains(&status) {
            Err(Failure::Retry(error, retry_after(response.headers())))
        } else {
            Err(Failure::Final(error))
        }
    }

    fn build_request(&self, req: &Request) -> Result<reqwest::RequestBuilder, Failure> {
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                Failure::Final(FetchError::Other {
                    url: req.url.clone(),
                    reason: format!("the value of header {name} is not valid in HTTP"),
                })
            })?;
            headers.append(name.clone(), value);
        }
        if let Some(v) = &req.validators {
            // Stored validators came from a server; unusable ones are simply not sent.
            if let Some(etag) = v.etag.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
                headers.insert(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v
                .last_modified
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                headers.insert(IF_MODIFIED_SINCE, lm);
            }
        }
        let mut builder = self
            .inner
            .client
            .request(req.method.clone(), req.url.clone())
            .headers(headers);
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        Ok(builder)
    }

    /// Reads the decompressed body chunk by chunk, never holding more than the cap.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        url: &Url,
        limit: BodyLimit,
    ) -> Result<Vec<u8>, Failure> {
        let (cap, truncate) = match limit {
            BodyLimit::Fail(cap) => (cap, false),
            BodyLimit::Truncate(cap) => (cap, true),
        };
        let too_large = || {
            Failure::Final(FetchError::TooLarge {
                url: url.clone(),
                limit: cap,
            })
        };
        if !truncate && response.content_length().is_some_and(|n| n > cap) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok(body),
                Err(e) => return Err(self.classify(url, &e)),
            };
            let room = usize::try_from(cap)
                .unwrap_or(usize::MAX)
                .saturating_sub(body.len());
            if chunk.len() > room {
                if truncate {
                    body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                    return Ok(body);
                }
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// Maps a reqwest error to a `FetchError`, marking transient ones retryable.
    fn classify(&self, url: &Url, e: &reqwest::Error) -> Failure {
        let reason = innermost(e);
        if e.is_redirect() {
            Failure::Final(FetchError::TooManyRedirects {
                url: url.clone(),
                max: self.inner.settings.max_redirects,
            })
        } else if e.is_timeout() {
            let secs = self.inner.settings.timeout.as_secs_f64().ceil();
            Failure::Retry(
                FetchError::Timeout {
                    url: url.clone(),
                    // Saturates for absurd values; the number is only shown.
                    secs: secs as u64,
                },
                None,
            )
        } else if e.is_connect() {
            Failure::Retry(
                FetchError::Connect {
                    url: url.clone(),
                    reason,
                },
                None,
            )
        } else if e.is_decode() || e.is_builder() {
            Failure::Final(FetchError::Other {
                url: url.clone(),
                reason,
            })
        } else {
            // A connection closed early or a garbled answer: transient as far as we can tell.
            Failure::Retry(
                FetchError::Other {
                    url: url.clone(),
                    reason,
                },
                None,
            )
        }
    }
}

/// The response's validators; a 304 that omits one keeps the stored one.
fn response_validators(headers: &HeaderMap, sent: Option<&Validators>) -> Validators {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let mut v = Validators {
        etag: get(ETAG),
        last_modified: get(LAST_MODIFIED),
    };
    if let Some(sent) = sent {
        if v.etag.is_none() {
            v.etag.clone_from(&sent.etag);
        }
        if v.last_modified.is_none() {
            v.last_modified.clone_from(&sent.last_modified);
        }
    }
    v
}

/// The deepest error in the chain: the part that says what actually went wrong.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Exponential backoff from 1 s, with ±50 % jitter so clients do not move in step.
fn backoff(retry: u32) -> Duration {
    let base = f64::from(1u32 << retry.min(6));
    let secs = (base * (0.5 + fastrand::f64())).min(MAX_WAIT.as_secs_f64());
    Duration::from_secs_f64(secs)
}

/// `Retry-After` as delta-seconds or an HTTP-date, capped at `MAX_WAIT`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_WAIT));
    }
    let when = parse_http_date(value)?;
    let wait = (when - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_WAIT))
}

/// IMF-fixdate, and the two obsolete forms RFC 9110 still asks recipients to accept.
fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|d| d.and_utc())
}
