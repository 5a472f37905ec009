//! robots.txt (RFC 9309): a pure verdict over a fetched robots.txt, and a
//! per-origin cache of up to 24 h. The client does the fetching (once per
//! scheme+host+port); this module only judges and remembers. Rules are
//! parsed by `texting_robots` for our user agent's product token. A 4xx
//! robots.txt allows everything; a 5xx, timeout or unreachable one disallows
//! the host, remembered only briefly. The client may also keep a verdict
//! beyond the process (`memory.rs`); an unreachable one never.

use super::error::FetchError;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use texting_robots::Robot;
use tracing::{debug, warn};
use url::Url;

/// How long a readable (or absent) robots.txt is trusted.
pub(crate) const GOOD_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long an unreachable robots.txt keeps the host closed before we ask again.
const UNAVAILABLE_TTL: Duration = Duration::from_secs(5 * 60);
/// RFC 9309 asks parsers to read at least 500 KiB; the rest is ignored.
pub const MAX_ROBOTS_BYTES: u64 = 500 * 1024;
/// Above this many origins, expired entries are dropped on insertion.
const SWEEP_ABOVE: usize = 1024;

/// What one origin's robots.txt says.
#[derive(Clone)]
pub enum Verdict {
    AllowAll,
    Rules(Arc<Robot>),
    /// Why robots.txt could not be read.
    Unavailable(String),
}

struct Cached {
    verdict: Verdict,
    expires: Instant,
}

/// One slot per origin; its async mutex makes concurrent first requests
/// wait for a single robots.txt fetch.
type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The per-origin robots.txt cache, shared by all clones of one client.
pub(crate) struct RobotsCache {
    agent: String,
    origins: Mutex<HashMap<String, Slot>>,
}

/// The product token of a user agent (`mentions` in `mentions/0.1 (+https://…)`),
/// which is what robots.txt groups name.
pub fn product_token(user_agent: &str) -> &str {
    let token = user_agent
        .split(['/', ' ', '\t'])
        .next()
        .unwrap_or_default()
        .trim();
    if token.is_empty() {
        "*"
    } else {
        token
    }
}

/// Where the robots.txt governing `url` lives.
pub fn robots_url(url: &Url) -> Url {
    let mut robots = url.clone();
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    // Only fails for URLs that cannot carry credentials, which then have none.
    let _ = robots.set_username("");
    let _ = robots.set_password(None);
    robots
}

/// Judges the outcome of fetching `robots` (the robots.txt URL) for the
/// user agent's product token `agent`.
pub fn verdict(agent: &str, robots: &Url, fetched: Result<&[u8], &FetchError>) -> Verdict {
    match fetched {
        Ok(body) => match Robot::new(agent, body) {
            Ok(robot) => {
                debug!(url = %robots, "robots.txt read");
                Verdict::Rules(Arc::new(robot))
            }
            Err(e) => {
                // RFC 9309 wants what can be parsed used; a file we cannot use at all restricts nothing.
                warn!(url = %robots, error = %e, "robots.txt could not be parsed; treating it as absent");
                Verdict::AllowAll
            }
        },
        // 429 means "overloaded", which RFC 9309 treats like a server error.
        Err(FetchError::Status { status, .. }) if (400..500).contains(status) && *status != 429 => {
            debug!(url = %robots, status, "no robots.txt; everything allowed");
            Verdict::AllowAll
        }
        // RFC 9309 §2.3.1.2: a redirect chain too long counts as "unavailable" (allow all).
        Err(FetchError::TooManyRedirects { .. }) => Verdict::AllowAll,
        Err(e) => {
            warn!(url = %robots, error = %e, "robots.txt unreachable; host skipped for now");
            Verdict::Unavailable(e.to_string())
        }
    }
}

/// How long `verdict` is trusted when it was just made.
pub(crate) fn ttl(verdict: &Verdict) -> Duration {
    match verdict {
        Verdict::Unavailable(_) => UNAVAILABLE_TTL,
        _ => GOOD_TTL,
    }
}

/// Ok when `verdict` lets us fetch `url`.
pub fn allows(verdict: &Verdict, url: &Url) -> Result<(), FetchError> {
    let host = || url.host_str().unwrap_or_default().to_owned();
    match verdict {
        Verdict::AllowAll => Ok(()),
        Verdict::Rules(robot) if robot.allowed(url.as_str()) => Ok(()),
        Verdict::Rules(_) => Err(FetchError::RobotsDisallowed {
            host: host(),
            url: url.clone(),
        }),
        Verdict::Unavailable(reason) => Err(FetchError::RobotsUnavailable {
            host: host(),
            reason: reason.clone(),
        }),
    }
}

impl RobotsCache {
    pub(crate) fn new(user_agent: &str) -> RobotsCache {
        RobotsCache {
            agent: product_token(user_agent).to_owned(),
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// The product token robots.txt groups are matched against.
    pub(crate) fn agent(&self) -> &str {
        &self.agent
    }

    /// The verdict for the origin of `url`: cached, or made by `load` (with
    /// how long to trust it) once while concurrent callers for the same
    /// origin wait for it.
    pub(crate) async fn verdict_for<F, Fut>(&self, url: &Url, load: F) -> Verdict
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (Verdict, Duration)>,
    {
        let slot = self.slot(url.origin().ascii_serialization());
        let mut cached = slot.lock().await;
        match cached.as_ref() {
            Some(c) if c.expires > Instant::now() => c.verdict.clone(),
            _ => {
                let (verdict, ttl) = load().await;
                *cached = Some(Cached {
                    verdict: verdict.clone(),
                    expires: Instant::now() + ttl,
                });
                verdict
            }
        }
    }

    fn slot(&self, origin: String) -> Slot {
        let mut origins = self.lock();
        if !origins.contains_key(&origin) && origins.len() >= SWEEP_ABOVE {
            let now = Instant::now();
            // A slot that is locked is being filled right now and must stay.
            origins.retain(|_, slot| {
                slot.try_lock()
                    .map_or(true, |c| c.as_ref().is_some_and(|c| c.expires > now))
            });
        }
        Arc::clone(origins.entry(origin).or_default())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // The map stays consistent whatever panicked while it was held.
        self.origins.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_token_is_the_part_before_the_slash() {
        assert_eq!(
            product_token("mentions/0.1 (+https://example.org/about-our-bot)"),
            "mentions"
        );
        assert_eq!(product_token("FooBot"), "FooBot");
        assert_eq!(product_token(""), "*");
    }

    #[test]
    fn robots_url_keeps_origin_only() {
        let u = Url::parse("https://user:pw@example.org:8443/a/b?q=1#f").unwrap();
        assert_eq!(
            robots_url(&u).as_str(),
            "https://example.org:8443/robots.txt"
        );
    }

    fn robots() -> Url {
        Url::parse("https://example.org/robots.txt").unwrap()
    }

    fn status(code: u16) -> FetchError {
        FetchError::Status {
            url: robots(),
            status: code,
        }
    }

    #[test]
    fn verdicts_follow_rfc_9309() {
        let page = Url::parse("https://example.org/private/a").unwrap();
        let rules = verdict(
            "mentions",
            &robots(),
            Ok(b"User-agent: *\nDisallow: /private\n"),
        );
        assert!(matches!(
            allows(&rules, &page),
            Err(FetchError::RobotsDisallowed { .. })
        ));
        assert!(allows(&rules, &Url::parse("https://example.org/public").unwrap()).is_ok());
        // A 4xx other than 429 means "no robots.txt": everything is allowed.
        assert!(allows(&verdict("mentions", &robots(), Err(&status(404))), &page).is_ok());
        // 429 and 5xx close the host for now.
        for code in [429, 503] {
            let v = verdict("mentions", &robots(), Err(&status(code)));
            assert!(matches!(
                allows(&v, &page),
                Err(FetchError::RobotsUnavailable { .. })
            ));
        }
        let looped = FetchError::TooManyRedirects {
            url: robots(),
            max: 10,
        };
        assert!(allows(&verdict("mentions", &robots(), Err(&looped)), &page).is_ok());
    }
}
