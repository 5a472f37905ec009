//! The shared HTTP client (SPEC §6): one reqwest client with rustls (`tls.rs`),
//! automatic decompression, the configured user agent, a per-attempt timeout
//! and a redirect cap; on top of it retries with `Retry-After`, conditional
//! GET, a body cap counted after decompression, global and per-host
//! concurrency limits, and the robots.txt check. With a `HostMemory`
//! (`memory.rs`), robots.txt verdicts and the back-offs hosts ask for are
//! also kept in the store, so the next process or another node uses them.

use super::error::FetchError;
use super::guard::{Guard, Refused};
use super::limiter::HostLimiter;
use super::memory::{self, HostMemory, StoredRobots, MAX_BACKOFF, MAX_ORIGIN};
use super::ratelimit::Budget;
use super::robots::{self, RobotsCache, Verdict, MAX_ROBOTS_BYTES};
use chrono::{DateTime, NaiveDateTime, Utc};
use http::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, RETRY_AFTER,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tracing::{debug, warn};
use url::Url;

/// The longest wait between two attempts, whatever `Retry-After` asks for.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// How long a back-off read from the host memory is trusted before it is read again.
const BACKOFF_RECHECK: Duration = Duration::from_secs(30);

/// Above this many origins, stale back-off entries are dropped on insertion.
const GATES_SWEEP_ABOVE: usize = 1024;

/// Statuses worth another attempt.
const RETRY_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// Client settings, from `[crawler]`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Hosts named by configured URLs: fetched whatever their addresses.
    pub trusted_hosts: BTreeSet<String>,
    /// Lifts the private-network check (`[crawler] allow_private_networks`).
    pub allow_private_networks: bool,
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
            trusted_hosts: BTreeSet::new(),
            allow_private_networks: false,
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
    /// False for log-in requests, whose credentials must not follow a redirect.
    pub follow_redirects: bool,
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
            follow_redirects: true,
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

    /// Follows no redirect: a log-in's password goes only where it was sent.
    pub fn without_redirects(mut self) -> Request {
        self.follow_redirects = false;
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

    /// The body as text (`charset::decode_owned`: a UTF-8 body becomes the
    /// text without a copy), leaving the body empty.
    pub fn take_text(&mut self) -> String {
        let body = std::mem::take(&mut self.body);
        crate::charset::decode_owned(body, self.content_type())
    }
}

/// The shared client; cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
    /// Where robots.txt verdicts and back-offs are kept beyond this process.
    memory: Option<Arc<dyn HostMemory>>,
}

/// Until when one origin asked to be left alone, as this process knows it.
#[derive(Debug, Clone, Copy)]
struct Gate {
    until: Option<DateTime<Utc>>,
    /// When the host memory was last asked about it.
    read_at: Instant,
}

struct Inner {
    client: reqwest::Client,
    /// The same, following no redirects.
    direct: reqwest::Client,
    guard: Arc<Guard>,
    settings: HttpSettings,
    global: Semaphore,
    hosts: HostLimiter,
    robots: RobotsCache,
    /// Back-offs by origin (scheme://host:port).
    gates: Mutex<HashMap<String, Gate>>,
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
/// Boxed because a `FetchError` carries a whole `Url`.
enum Failure {
    Final(Box<FetchError>),
    /// Retryable, with the server's `Retry-After` if it sent one.
    Retry(Box<FetchError>, Option<Duration>),
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
        let guard = Arc::new(Guard::new(
            &settings.trusted_hosts,
            settings.allow_private_networks,
        ));
        // One TLS set-up for both clients: the roots are loaded once, at the first https fetch.
        let tls = super::tls::client_config().map_err(|reason| FetchError::Setup { reason })?;
        let client = HttpClient::reqwest(
            &settings,
            &guard,
            system_proxy,
            redirects(&settings, &guard),
            tls.clone(),
        )?;
        let direct = HttpClient::reqwest(
            &settings,
            &guard,
            system_proxy,
            reqwest::redirect::Policy::none(),
            tls,
        )?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                client,
                direct,
                guard,
                global: Semaphore::new(settings.concurrency.clamp(1, Semaphore::MAX_PERMITS)),
                hosts: HostLimiter::new(settings.per_host_concurrency),
                robots: RobotsCache::new(&settings.user_agent),
                gates: Mutex::new(HashMap::new()),
                settings,
            }),
            memory: None,
        })
    }

    /// The same client keeping robots.txt verdicts and back-offs in `memory`
    /// too (its in-memory caches stay the first level, shared with `self`).
    pub fn with_memory(&self, memory: Arc<dyn HostMemory>) -> HttpClient {
        HttpClient {
            inner: Arc::clone(&self.inner),
            memory: Some(memory),
        }
    }

    fn reqwest(
        settings: &HttpSettings,
        guard: &Arc<Guard>,
        system_proxy: bool,
        redirects: reqwest::redirect::Policy,
        tls: rustls::ClientConfig,
    ) -> Result<reqwest::Client, FetchError> {
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .redirect(redirects)
            .dns_resolver(guard.resolver())
            .gzip(true)
            .brotli(true)
            .deflate(true);
        if let Some(proxy) = &settings.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str()).map_err(|e| FetchError::Setup {
                reason: format!("the proxy {proxy} cannot be used: {}", innermost(&e)),
            })?;
            // NO_PROXY still exempts hosts from the configured proxy, as SPEC §2 promises.
            builder = builder.proxy(proxy.no_proxy(reqwest::NoProxy::from_env()));
        } else if !system_proxy {
            builder = builder.no_proxy();
        }
        builder.build().map_err(|e| FetchError::Setup {
            reason: innermost(&e),
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
            self.check_robots(&req.url).await?;
        }
        let limit = BodyLimit::Fail(self.inner.settings.max_body);
        self.fetch_unchecked(&req, limit).await
    }

    /// Ok when robots.txt lets us fetch `url`; the origin's robots.txt is
    /// fetched here once (or read from the host memory) and its verdict cached.
    async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        let verdict = self
            .inner
            .robots
            .verdict_for(url, || self.load_robots(url))
            .await;
        robots::allows(&verdict, url)
    }

    /// The verdict on the origin of `url` and how long to trust it: from a
    /// robots.txt the host memory holds and still trusts, else fetched now
    /// (and then stored, unless it could not be read).
    async fn load_robots(&self, url: &Url) -> (Verdict, Duration) {
        let agent = self.inner.robots.agent();
        let robots_txt = robots::robots_url(url);
        let origin = url.origin().ascii_serialization();
        let memory = self.memory.as_ref().filter(|_| origin.len() <= MAX_ORIGIN);
        if let Some(memory) = memory {
            match memory::bounded(memory.robots(&origin)).await {
                Ok(Some(stored)) => {
                    let left = (stored.expires_at - Utc::now())
                        .to_std()
                        .unwrap_or_default();
                    if !left.is_zero() {
                        debug!(url = %robots_txt, "robots.txt as stored");
                        let verdict =
                            robots::verdict(agent, &robots_txt, Ok(stored.body.as_bytes()));
                        return (verdict, left.min(robots::GOOD_TTL));
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(url = %robots_txt, error = %e, "stored robots.txt not read; fetching it")
                }
            }
        }
        let fetched = self
            .fetch_unchecked(
                &Request::api_get(robots_txt.clone()),
                BodyLimit::Truncate(MAX_ROBOTS_BYTES),
            )
            .await;
        let body = fetched.as_ref().map(|f| f.body.as_slice());
        let verdict = robots::verdict(agent, &robots_txt, body);
        let ttl = robots::ttl(&verdict);
        let Some(memory) = memory else {
            return (verdict, ttl);
        };
        let body = match (&verdict, &fetched) {
            (Verdict::Rules(_), Ok(f)) => memory::storable_body(&f.body),
            // Unreadable: closes the host for this crawl only, never stored.
            (Verdict::Unavailable(_), _) => return (verdict, ttl),
            // Absent, a 4xx, unparseable: nothing is disallowed.
            _ => String::new(),
        };
        let now = Utc::now();
        let stored = StoredRobots {
            body,
            fetched_at: now,
            expires_at: now + ttl,
        };
        if let Err(e) = memory::bounded(memory.save_robots(&origin, &stored)).await {
            warn!(url = %robots_txt, error = %e, "robots.txt not stored");
        }
        (verdict, ttl)
    }

    /// Waits while the origin of `url` asked to be left alone; when that is
    /// longer than `MAX_WAIT`, nothing is sent and the fetch fails.
    async fn gate(&self, url: &Url) -> Result<(), FetchError> {
        let origin = url.origin().ascii_serialization();
        let Some(until) = self.backoff_until(&origin).await else {
            return Ok(());
        };
        let wait = (until - Utc::now()).to_std().unwrap_or_default();
        if wait.is_zero() {
            return Ok(());
        }
        if wait > MAX_WAIT {
            return Err(FetchError::BackingOff {
                url: url.clone(),
                secs: wait.as_secs_f64().ceil() as u64,
            });
        }
        debug!(%origin, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "host asked to be left alone; waiting");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Until when `origin` asked to be left alone: as this process knows
    /// it, or as the host memory says when this process has not asked it
    /// for `BACKOFF_RECHECK`.
    async fn backoff_until(&self, origin: &str) -> Option<DateTime<Utc>> {
        let known = self.gates().get(origin).copied();
        let memory = match (&self.memory, known) {
            (None, _) => return known.and_then(|g| g.until),
            (Some(_), Some(g)) if g.read_at.elapsed() < BACKOFF_RECHECK => return g.until,
            (Some(_), _) if origin.len() > MAX_ORIGIN => return known.and_then(|g| g.until),
            (Some(memory), _) => memory,
        };
        let stored = match memory::bounded(memory.backoff(origin)).await {
            // A row cannot hold a host for longer than a server could ask.
            Ok(until) => until.map(|u| u.min(Utc::now() + MAX_BACKOFF)),
            Err(e) => {
                warn!(%origin, error = %e, "stored back-off not read");
                None
            }
        };
        let mut gates = self.gates();
        sweep(&mut gates, origin);
        let gate = gates.entry(origin.to_owned()).or_insert(Gate {
            until: None,
            read_at: Instant::now(),
        });
        gate.until = gate.until.max(stored);
        gate.read_at = Instant::now();
        gate.until
    }

    /// Leaves the origin of `url` alone for `wait` (at most `MAX_BACKOFF`),
    /// in this process and in the host memory.
    async fn back_off(&self, url: &Url, wait: Duration, reason: &str) {
        let origin = url.origin().ascii_serialization();
        let until = Utc::now() + wait.min(MAX_BACKOFF);
        {
            let mut gates = self.gates();
            sweep(&mut gates, &origin);
            let gate = gates.entry(origin.clone()).or_insert(Gate {
                until: None,
                read_at: Instant::now(),
            });
            gate.until = gate.until.max(Some(until));
        }
        debug!(%origin, %until, reason, "host to be left alone");
        let Some(memory) = self.memory.as_ref().filter(|_| origin.len() <= MAX_ORIGIN) else {
            return;
        };
        if let Err(e) = memory::bounded(memory.save_backoff(&origin, until, reason)).await {
            warn!(%origin, error = %e, "back-off not stored");
        }
    }

    fn gates(&self) -> std::sync::MutexGuard<'_, HashMap<String, Gate>> {
        // The map stays consistent whatever panicked while it was held.
        self.inner.gates.lock().unwrap_or_else(|e| e.into_inner())
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
        self.gate(&req.url).await?;
        let mut retry = 0;
        loop {
            match self.attempt(req, limit).await {
                Ok(fetched) => {
                    if let Some(spent) = spent_budget(&fetched.headers) {
                        self.back_off(&req.url, spent, "rate-limit budget spent")
                            .await;
                    }
                    return Ok(fetched);
                }
                Err(Failure::Final(e)) => return Err(*e),
                Err(Failure::Retry(e, after)) => {
                    if let Some(after) = after.filter(|d| !d.is_zero()) {
                        self.back_off(&req.url, after, "Retry-After").await;
                    }
                    if retry >= self.inner.settings.retries {
                        return Err(*e);
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
        self.inner.guard.check_url(&req.url).map_err(|refused| {
            Failure::Final(Box::new(FetchError::Refused {
                url: req.url.clone(),
                reason: refused.to_string(),
            }))
        })?;
        let host = req.url.host_str().unwrap_or_default().to_ascii_lowercase();
        let _host_slot = self.inner.hosts.acquire(&host).await;
        // Never closed, so this only fails in theory; then the attempt runs unthrottled.
        let _global_slot = self.inner.global.acquire().await.ok();

        let request = self.build_request(req)?;
        let response = request
            .send()
            .await
            .map_err(|e| self.classify(&req.url, &e))?;
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
            Err(Failure::Retry(
                Box::new(error),
                retry_after_uncapped(response.headers()),
            ))
        } else {
            Err(Failure::Final(Box::new(error)))
        }
    }

    fn build_request(&self, req: &Request) -> Result<reqwest::RequestBuilder, Failure> {
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                Failure::Final(Box::new(FetchError::Other {
                    url: req.url.clone(),
                    reason: format!("the value of header {name} is not valid in HTTP"),
                }))
            })?;
            headers.append(name.clone(), value);
        }
        if let Some(v) = &req.validators {
            // Stored validators came from a server; unusable ones are simply not sent.
            if let Some(etag) = v
                .etag
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
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
        let mut url = req.url.clone();
        if !self.inner.guard.trusts(url.host_str().unwrap_or_default()) {
            // User info in a URL from content is dropped, never sent.
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        let client = if req.follow_redirects {
            &self.inner.client
        } else {
            &self.inner.direct
        };
        let mut builder = client.request(req.method.clone(), url).headers(headers);
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
            Failure::Final(Box::new(FetchError::TooLarge {
                url: url.clone(),
                limit: cap,
            }))
        };
        if !truncate && response.content_length().is_some_and(|n| n > cap) {
            return Err(too_large());
        }
        // Sized for the announced length, so a large body is not copied
        // again each time it outgrows its buffer; at most 1 MiB up front,
        // as a server may announce more than it sends.
        let announced = response.content_length().unwrap_or(0).min(cap).min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
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
        if let Some(refused) = source_of::<Refused>(e) {
            Failure::Final(Box::new(FetchError::Refused {
                url: url.clone(),
                reason: refused.to_string(),
            }))
        } else if e.is_redirect() {
            Failure::Final(Box::new(FetchError::TooManyRedirects {
                url: url.clone(),
                max: self.inner.settings.max_redirects,
            }))
        } else if e.is_timeout() {
            let secs = self.inner.settings.timeout.as_secs_f64().ceil();
            Failure::Retry(
                Box::new(FetchError::Timeout {
                    url: url.clone(),
                    // Saturates for absurd values; the number is only shown.
                    secs: secs as u64,
                }),
                None,
            )
        } else if e.is_connect() {
            Failure::Retry(
                Box::new(FetchError::Connect {
                    url: url.clone(),
                    reason,
                }),
                None,
            )
        } else if e.is_decode() || e.is_builder() {
            Failure::Final(Box::new(FetchError::Other {
                url: url.clone(),
                reason,
            }))
        } else {
            // A connection closed early or a garbled answer: transient as far as we can tell.
            Failure::Retry(
                Box::new(FetchError::Other {
                    url: url.clone(),
                    reason,
                }),
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
#[cfg(test)]
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_uncapped(headers).map(|d| d.min(MAX_WAIT))
}

/// `Retry-After` as delta-seconds or an HTTP-date, as the server said it
/// (the retry loop waits at most `MAX_WAIT`, a back-off lasts at most `MAX_BACKOFF`).
fn retry_after_uncapped(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(MAX_BACKOFF.as_secs())));
    }
    let when = parse_http_date(value)?;
    Some((when - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

/// How long until the rate-limit budget a response reports refills, when it is spent.
fn spent_budget(headers: &HeaderMap) -> Option<Duration> {
    Budget::from_headers(headers, Utc::now())
        .filter(|b| b.remaining < 1.0 && !b.reset_in.is_zero())
        .map(|b| b.reset_in)
}

/// Keeps the back-off map small: above `GATES_SWEEP_ABOVE` origins, those
/// whose back-off is over and that were not read lately go (unless `keep`).
fn sweep(gates: &mut HashMap<String, Gate>, keep: &str) {
    if gates.len() < GATES_SWEEP_ABOVE || gates.contains_key(keep) {
        return;
    }
    let now = Utc::now();
    gates.retain(|_, g| g.until.is_some_and(|u| u > now) || g.read_at.elapsed() < BACKOFF_RECHECK);
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

/// The redirect policy: at most `max_redirects` hops, none to a private
/// IP literal, none carrying user info to a host the config does not name.
fn redirects(settings: &HttpSettings, guard: &Arc<Guard>) -> reqwest::redirect::Policy {
    let max = settings.max_redirects;
    let guard = Arc::clone(guard);
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            return attempt.error(TooManyHops);
        }
        if let Err(refused) = guard.check_url(attempt.url()) {
            return attempt.error(refused);
        }
        let url = attempt.url();
        let credentials = !url.username().is_empty() || url.password().is_some();
        if credentials && !guard.trusts(url.host_str().unwrap_or_default()) {
            return attempt.stop();
        }
        attempt.follow()
    })
}

/// The redirect limit was reached (classified as `TooManyRedirects`).
#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyHops;

/// The first error of type `E` in `e`'s chain of sources.
fn source_of<E: std::error::Error + 'static>(e: &reqwest::Error) -> Option<&E> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::{serve, serve_raw, settings};
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Redirect, Response};
    use axum::routing::{get, post};
    use axum::Router;
    use http::header::{AUTHORIZATION, CONTENT_ENCODING};
    use std::io::Write;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const MIB: u64 = 1024 * 1024;

    fn client(s: HttpSettings) -> HttpClient {
        HttpClient::build(s, false).unwrap()
    }

    fn url(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).unwrap()
    }

    fn retrying(retries: u32) -> HttpSettings {
        HttpSettings {
            retries,
            ..settings()
        }
    }

    /// A server whose `/` answers `first` on the first request and 200 "ok" after,
    /// counting requests.
    async fn flaky(first: fn() -> Response) -> (SocketAddr, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/",
                get(move |State(hits): State<Arc<AtomicUsize>>| async move {
                    if hits.fetch_add(1, Ordering::SeqCst) == 0 {
                        first()
                    } else {
                        "ok".into_response()
                    }
                }),
            )
            .with_state(hits.clone());
        (serve(app).await, hits)
    }

    /// Reads a request head (enough for these tests' bodiless GETs).
    async fn read_head(socket: &mut tokio::net::TcpStream) {
        let mut buf = vec![0u8; 4096];
        let _ = socket.read(&mut buf).await;
    }

    #[tokio::test]
    async fn conditional_get_sends_validators_and_returns_304() {
        type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;
        let seen: Seen = Arc::default();
        let app = Router::new()
            .route(
                "/feed.xml",
                get(|State(seen): State<Seen>, headers: HeaderMap| async move {
                    let header = |name| {
                        headers
                            .get(name)
                            .and_then(|v: &HeaderValue| v.to_str().ok())
                            .map(str::to_owned)
                    };
                    let inm = header(IF_NONE_MATCH);
                    seen.lock()
                        .unwrap()
                        .push((inm.clone(), header(IF_MODIFIED_SINCE)));
                    if inm.as_deref() == Some("\"5f3c-61a2\"") {
                        (StatusCode::NOT_MODIFIED, [(ETAG, "\"5f3c-61a2\"")]).into_response()
                    } else {
                        (
                            [
                                (ETAG, "\"5f3c-61a2\""),
                                (LAST_MODIFIED, "Tue, 15 Oct 2024 08:00:00 GMT"),
                                (CONTENT_TYPE, "application/rss+xml; charset=utf-8"),
                            ],
                            "<rss version=\"2.0\"><channel/></rss>",
                        )
                            .into_response()
                    }
                }),
            )
            .with_state(seen.clone());
        let addr = serve(app).await;
        let c = client(settings());

        let first = c.fetch(Request::get(url(addr, "/feed.xml"))).await.unwrap();
        assert_eq!(first.status, 200);
        assert!(!first.not_modified());
        assert_eq!(first.body, b"<rss version=\"2.0\"><channel/></rss>");
        assert_eq!(
            first.content_type(),
            Some("application/rss+xml; charset=utf-8")
        );
        let stored = Validators {
            etag: Some("\"5f3c-61a2\"".to_owned()),
            last_modified: Some("Tue, 15 Oct 2024 08:00:00 GMT".to_owned()),
        };
        assert_eq!(first.validators, stored);

        let second = c
            .fetch(Request::get(url(addr, "/feed.xml")).with_validators(Some(stored.clone())))
            .await
            .unwrap();
        assert_eq!(second.status, 304);
        assert!(second.not_modified());
        assert!(second.body.is_empty());
        // The 304 repeats the ETag only; the stored Last-Modified is kept.
        assert_eq!(second.validators, stored);

        assert_eq!(
            *seen.lock().unwrap(),
            [
                (None, None),
                (
                    Some("\"5f3c-61a2\"".to_owned()),
                    Some("Tue, 15 Oct 2024 08:00:00 GMT".to_owned())
                )
            ]
        );
    }

    #[tokio::test]
    async fn retry_after_seconds_is_honoured() {
        let (addr, hits) = flaky(|| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(RETRY_AFTER, "1")],
                "maintenance",
            )
                .into_response()
        })
        .await;
        let start = Instant::now();
        let f = client(retrying(2))
            .fetch(Request::api_get(url(addr, "/")))
            .await
            .unwrap();
        let waited = start.elapsed();
        assert_eq!(f.body, b"ok");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        assert!(waited >= Duration::from_secs(1), "{waited:?}");
        // Seconds, not a misread unit or the 30 s cap; the margin above the
        // second is for a machine busy with other builds.
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[tokio::test]
    async fn retry_after_http_date_is_honoured() {
        let (addr, hits) = flaky(|| {
            let at = (Utc::now() + chrono::TimeDelta::seconds(2))
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(RETRY_AFTER, at)],
                "slow down",
            )
                .into_response()
        })
        .await;
        let start = Instant::now();
        let f = client(retrying(1))
            .fetch(Request::api_get(url(addr, "/")))
            .await
            .unwrap();
        let waited = start.elapsed();
        assert_eq!(f.status, 200);
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        // The date has whole seconds, so "now + 2 s" means a wait of 1 to 2 s.
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
        // (The margin above 2 s is for a machine busy with other builds.)
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[tokio::test]
    async fn retries_run_out_into_a_status_error() {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/",
                get(|State(hits): State<Arc<AtomicUsize>>| async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    (StatusCode::BAD_GATEWAY, [(RETRY_AFTER, "0")], "bad gateway")
                }),
            )
            .with_state(hits.clone());
        let addr = serve(app).await;
        let err = client(retrying(2))
            .fetch(Request::api_get(url(addr, "/")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Status { status: 502, .. }),
            "{err:?}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn not_found_is_not_retried() {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .fallback(|State(hits): State<Arc<AtomicUsize>>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                (StatusCode::NOT_FOUND, "no such page")
            })
            .with_state(hits.clone());
        let addr = serve(app).await;
        let err = client(retrying(2))
            .fetch(Request::api_get(url(addr, "/missing")))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("http://{addr}/missing answered HTTP 404")
        );
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    const PAGE: &str = "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\">\
        <title>Nordkorea schickt Truppen nach Russland</title></head><body><article>\
        <h1>Nordkorea schickt Truppen nach Russland</h1><p>Kursk – Berichte über \
        nordkoreanische Soldaten häufen sich.</p></article></body></html>";

    #[tokio::test]
    async fn gzip_and_deflate_bodies_are_decoded() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(PAGE.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(PAGE.as_bytes()).unwrap();
        let zlib = zlib.finish().unwrap();
        let app = Router::new()
            .route(
                "/gzip",
                get(move || async move { ([(CONTENT_ENCODING, "gzip")], gz) }),
            )
            .route(
                "/deflate",
                get(move || async move { ([(CONTENT_ENCODING, "deflate")], zlib) }),
            );
        let addr = serve(app).await;
        let c = client(settings());
        for path in ["/gzip", "/deflate"] {
            let f = c.fetch(Request::api_get(url(addr, path))).await.unwrap();
            assert_eq!(String::from_utf8(f.body).unwrap(), PAGE, "{path}");
        }
    }

    #[tokio::test]
    async fn gzip_bomb_stops_at_the_body_cap() {
        // 100 MiB of zeros compress to about 100 KiB.
        let bomb = tokio::task::spawn_blocking(|| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let zeros = vec![0u8; MIB as usize];
            for _ in 0..100 {
                gz.write_all(&zeros).unwrap();
            }
            gz.finish().unwrap()
        })
        .await
        .unwrap();
        assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
        let app = Router::new().route(
            "/bomb",
            get(move || async move { ([(CONTENT_ENCODING, "gzip")], bomb) }),
        );
        let addr = serve(app).await;
        let start = Instant::now();
        let err = client(HttpSettings {
            max_body: MIB,
            ..settings()
        })
        .fetch(Request::api_get(url(addr, "/bomb")))
        .await
        .unwrap_err();
        assert!(
            matches!(&err, FetchError::TooLarge { limit, .. } if *limit == MIB),
            "{err:?}"
        );
        // Decoding all 100 MiB would take far longer than stopping after 1 MiB.
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn endless_stream_stops_at_the_body_cap() {
        let addr = serve_raw(|mut socket| async move {
            read_head(&mut socket).await;
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = b"10000\r\n".to_vec();
            chunk.extend_from_slice(&[b'a'; 0x10000]);
            chunk.extend_from_slice(b"\r\n");
            while socket.write_all(&chunk).await.is_ok() {}
        })
        .await;
        let err = client(HttpSettings {
            max_body: MIB,
            ..settings()
        })
        .fetch(Request::api_get(url(addr, "/stream")))
        .await
        .unwrap_err();
        assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn declared_oversize_fails_before_the_body_arrives() {
        let addr = serve_raw(|mut socket| async move {
            read_head(&mut socket).await;
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        })
        .await;
        let start = Instant::now();
        let err = client(HttpSettings {
            max_body: MIB,
            ..settings()
        })
        .fetch(Request::api_get(url(addr, "/big.xml")))
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("http://{addr}/big.xml: body larger than the 1048576-byte limit (max_body)")
        );
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn one_byte_a_second_times_out() {
        let addr = serve_raw(|mut socket| async move {
            read_head(&mut socket).await;
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..100 {
                if socket.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
        .await;
        let start = Instant::now();
        let err = client(settings())
            .fetch(Request::api_get(url(addr, "/slow")))
            .await
            .unwrap_err();
        let took = start.elapsed();
        assert_eq!(
            err.to_string(),
            format!("http://{addr}/slow: timed out after 2 s")
        );
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(3),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn redirects_are_followed_up_to_the_limit() {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/loop",
                get(|State(hits): State<Arc<AtomicUsize>>| async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    Redirect::temporary("/loop")
                }),
            )
            .route("/old", get(|| async { Redirect::permanent("/new") }))
            .route("/new", get(|| async { "moved here" }))
            .with_state(hits.clone());
        let addr = serve(app).await;
        let c = client(HttpSettings {
            max_redirects: 3,
            ..settings()
        });
        let err = c
            .fetch(Request::api_get(url(addr, "/loop")))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("http://{addr}/loop: more than 3 redirects")
        );
        assert_eq!(hits.load(Ordering::SeqCst), 4);

        let moved = c.fetch(Request::api_get(url(addr, "/old"))).await.unwrap();
        assert_eq!(moved.final_url, url(addr, "/new"));
        assert_eq!(moved.body, b"moved here");
    }

    /// A server on `ip` answering every path with "secret", counting requests.
    async fn internal(ip: &str) -> (SocketAddr, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .fallback(|State(hits): State<Arc<AtomicUsize>>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                "secret"
            })
            .with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, hits)
    }

    #[tokio::test]
    async fn content_cannot_send_the_crawler_to_private_addresses() {
        let (inside, hits) = internal("127.0.0.2").await;
        let port = inside.port();
        let targets = [
            format!("http://127.0.0.2:{port}/secret"),
            format!("http://localhost:{port}/secret"),
            format!("http://2130706434:{port}/secret"),
            format!("http://0x7f000002:{port}/secret"),
            format!("http://user:pass@127.0.0.2:{port}/secret"),
        ];
        let app = Router::new().route(
            "/go/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<usize>,
                 State(targets): State<Vec<String>>| async move {
                    Redirect::temporary(&targets[n])
                },
            ),
        );
        let addr = serve(app.with_state(targets.to_vec())).await;
        // Only the configured site's host is trusted, as a config names it.
        let c = client(HttpSettings {
            allow_private_networks: false,
            trusted_hosts: ["127.0.0.1".to_owned()].into(),
            ..settings()
        });
        for (n, target) in targets.iter().enumerate() {
            // Followed as a redirect…
            let err = c
                .fetch(Request::api_get(url(addr, &format!("/go/{n}"))))
                .await
                .unwrap_err();
            assert!(
                matches!(err, FetchError::Refused { .. }),
                "{target}: {err:?}"
            );
            assert!(err.to_string().contains("allow_private_networks"), "{err}");
            // …or fetched directly, as an item's link would be.
            let err = c
                .fetch(Request::api_get(Url::parse(target).unwrap()))
                .await
                .unwrap_err();
            assert!(
                matches!(err, FetchError::Refused { .. }),
                "{target}: {err:?}"
            );
        }
        assert_eq!(hits.load(Ordering::SeqCst), 0);

        // allow_private_networks lifts it.
        let open = client(HttpSettings {
            allow_private_networks: true,
            ..settings()
        });
        let page = open
            .fetch(Request::api_get(url(addr, "/go/0")))
            .await
            .unwrap();
        assert_eq!(page.body, b"secret");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn log_in_requests_follow_no_redirect() {
        let (inside, hits) = internal("127.0.0.1").await;
        let app = Router::new().route(
            "/login",
            axum::routing::post(move || async move {
                Redirect::temporary(&format!("http://{inside}/steal"))
            }),
        );
        let addr = serve(app).await;
        let c = client(settings());
        let login =
            Request::post_form(url(addr, "/login"), &[("password", "x")]).without_redirects();
        let err = c.fetch(login).await.unwrap_err();
        assert!(
            matches!(err, FetchError::Status { status: 307, .. }),
            "{err:?}"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn refused_connection_is_retried_then_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let start = Instant::now();
        let err = client(retrying(1))
            .fetch(Request::api_get(url(addr, "/")))
            .await
            .unwrap_err();
        match err {
            FetchError::Connect { url: u, reason } => {
                assert_eq!(u, url(addr, "/"));
                assert!(reason.contains("refused"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // A refused connection fails at once: the 0.5 s at least is the
        // one backoff (0.5–1.5 s) between the two attempts. The upper
        // bound only rules out a hang; a loaded machine stretches the rest.
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(500) && took < Duration::from_secs(10),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn unresolvable_host_fails_fast() {
        let start = Instant::now();
        let err = client(settings())
            .fetch(Request::api_get(
                Url::parse("http://nonexistent.invalid/").unwrap(),
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
        assert!(start.elapsed() < Duration::from_millis(1500));
    }

    /// A server that sleeps in each request and records the most requests in flight.
    async fn busy_server() -> (SocketAddr, Arc<(AtomicUsize, AtomicUsize)>) {
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let app = Router::new()
            .fallback(
                |State(c): State<Arc<(AtomicUsize, AtomicUsize)>>| async move {
                    let now = c.0.fetch_add(1, Ordering::SeqCst) + 1;
                    c.1.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    c.0.fetch_sub(1, Ordering::SeqCst);
                    "done"
                },
            )
            .with_state(counts.clone());
        (serve(app).await, counts)
    }

    async fn fetch_parallel(c: &HttpClient, addr: SocketAddr, n: usize) {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(
                    async move { c.fetch(Request::api_get(url(addr, &format!("/{i}")))).await },
                )
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn per_host_concurrency_is_honoured() {
        let (addr, counts) = busy_server().await;
        let c = client(HttpSettings {
            per_host_concurrency: 2,
            concurrency: 16,
            ..settings()
        });
        fetch_parallel(&c, addr, 6).await;
        assert_eq!(counts.1.load(Ordering::SeqCst), 2);
        // Idle hosts leave the limiter's map.
        assert_eq!(c.tracked_hosts(), 0);
    }

    #[tokio::test]
    async fn global_concurrency_is_honoured() {
        let (addr, counts) = busy_server().await;
        let c = client(HttpSettings {
            per_host_concurrency: 4,
            concurrency: 1,
            ..settings()
        });
        fetch_parallel(&c, addr, 4).await;
        assert_eq!(counts.1.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn api_helpers_send_method_headers_and_body() {
        let app = Router::new().route(
            "/api/v1/search",
            post(|headers: HeaderMap, body: String| async move {
                let h = |name| {
                    headers
                        .get(name)
                        .and_then(|v: &HeaderValue| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned()
                };
                (
                    [("x-ratelimit-remaining", "299")],
                    format!("{} | {} | {}", h(CONTENT_TYPE), h(AUTHORIZATION), body),
                )
            }),
        );
        let addr = serve(app).await;
        let c = client(settings());

        let json = serde_json::json!({"q": "nordkorea russland", "limit": 40});
        let f = c
            .fetch(
                Request::post_json(url(addr, "/api/v1/search"), &json)
                    .header(AUTHORIZATION, "Bearer s3cr3t"),
            )
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(f.body).unwrap(),
            r#"application/json | Bearer s3cr3t | {"limit":40,"q":"nordkorea russland"}"#
        );
        assert_eq!(
            f.headers
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok()),
            Some("299")
        );

        let f = c
            .fetch(Request::post_form(
                url(addr, "/api/v1/search"),
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "read write"),
                ],
            ))
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(f.body).unwrap(),
            "application/x-www-form-urlencoded | - | grant_type=client_credentials&scope=read+write"
        );
    }

    #[tokio::test]
    async fn garbage_answers_and_bad_requests_are_errors() {
        let addr = serve_raw(|mut socket| async move {
            read_head(&mut socket).await;
            let _ = socket.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
        })
        .await;
        let c = client(settings());
        let err = c.fetch(Request::api_get(url(addr, "/"))).await.unwrap_err();
        assert!(matches!(err, FetchError::Other { .. }), "{err:?}");

        let err = c
            .fetch(Request::api_get(url(addr, "/")).header(AUTHORIZATION, "Bearer a\nb"))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("http://{addr}/: the value of header authorization is not valid in HTTP")
        );

        let err = c
            .fetch(Request::get(Url::parse("ftp://example.org/file").unwrap()))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ftp://example.org/file: the scheme ftp is not fetched over HTTP"
        );
    }

    #[tokio::test]
    async fn configured_proxy_carries_the_requests() {
        // A forward proxy sees the absolute URL in the request line.
        let proxy = serve(
            Router::new().fallback(|uri: axum::http::Uri| async move { format!("proxied {uri}") }),
        )
        .await;
        let c = HttpClient::new(HttpSettings {
            proxy: Some(url(proxy, "/")),
            ..settings()
        })
        .unwrap();
        let f = c
            .fetch(Request::api_get(
                Url::parse("http://feeds.example.invalid/rss?x=1").unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(f.body, b"proxied http://feeds.example.invalid/rss?x=1");
    }

    #[test]
    fn retry_after_values() {
        let parse = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            retry_after(&h)
        };
        assert_eq!(parse("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse("86400"), Some(MAX_WAIT));
        assert_eq!(parse("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            parse("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse("Wed Oct 21 07:28:00 2015"), Some(Duration::ZERO));
        let later = (Utc::now() + chrono::TimeDelta::hours(2))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        assert_eq!(parse(&later), Some(MAX_WAIT));
        assert_eq!(parse("-5"), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_grows_from_one_second_with_jitter() {
        for _ in 0..50 {
            let first = backoff(0);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_millis(1500));
            let third = backoff(2);
            assert!(third >= Duration::from_secs(2) && third <= Duration::from_secs(6));
            assert!(backoff(30) <= MAX_WAIT);
        }
    }
}
