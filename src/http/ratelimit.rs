//! Rate-limit headers of platform APIs, read into one budget so a source
//! slows down before the budget runs out instead of running into 429s.
//!
//! Mastodon: `X-RateLimit-Limit/Remaining/Reset` (reset an ISO 8601 time);
//! Bluesky: `RateLimit-Limit/Remaining/Reset` (reset epoch seconds);
//! Reddit: `x-ratelimit-used/remaining/reset` (remaining may be fractional,
//! reset seconds from now). The reset value is read by its shape: an RFC
//! 3339 time, epoch seconds, or seconds from now.

use chrono::{DateTime, Utc};
use http::HeaderMap;
use std::time::Duration;

/// The longest a source waits in place for its budget; beyond that it stops
/// paging and the next crawl goes on.
pub const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Requests kept in reserve: below this many left, requests are spread out
/// over the rest of the window.
const RESERVE: f64 = 5.0;

/// A rate-limit budget as the server reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub limit: Option<f64>,
    pub remaining: f64,
    /// Time until the window resets.
    pub reset_in: Duration,
}

fn header<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| headers.get(*n))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn reset_in(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(
            (t.with_timezone(&Utc) - now)
                .to_std()
                .unwrap_or(Duration::ZERO),
        );
    }
    let n: f64 = value.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    if n > 1_000_000_000.0 {
        let t = DateTime::from_timestamp(n as i64, 0)?;
        return Some((t - now).to_std().unwrap_or(Duration::ZERO));
    }
    Some(Duration::from_secs_f64(n))
}

impl Budget {
    /// Reads the budget from whichever family of headers the response has.
    pub fn from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Budget> {
        let remaining: f64 = header(headers, &["x-ratelimit-remaining", "ratelimit-remaining"])?
            .parse()
            .ok()?;
        let reset = header(headers, &["x-ratelimit-reset", "ratelimit-reset"])?;
        let limit = header(headers, &["x-ratelimit-limit", "ratelimit-limit"])
            .and_then(|v| v.split([',', ';']).next()?.trim().parse().ok())
            .or_else(|| {
                let used: f64 = header(headers, &["x-ratelimit-used"])?.parse().ok()?;
                Some(used + remaining)
            });
        Some(Budget {
            limit,
            remaining: remaining.max(0.0),
            reset_in: reset_in(reset, now)?,
        })
    }

    /// How long to wait before the next request: nothing while the budget
    /// is comfortable, an even share of the window when it runs low, the
    /// whole rest of the window when it is spent.
    pub fn pause(&self) -> Duration {
        if self.remaining >= RESERVE {
            return Duration::ZERO;
        }
        if self.remaining < 1.0 {
            return self.reset_in;
        }
        self.reset_in.div_f64(self.remaining)
    }
}

/// What to do before the next request to the same API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Go,
    Wait(Duration),
    /// The budget is spent for longer than `MAX_PAUSE`; stop and resume next crawl.
    Stop(Duration),
}

/// Reads the headers of the last response and says how to go on.
pub fn pace(headers: &HeaderMap, now: DateTime<Utc>) -> Pace {
    match Budget::from_headers(headers, now).map(|b| b.pause()) {
        None => Pace::Go,
        Some(d) if d.is_zero() => Pace::Go,
        Some(d) if d <= MAX_PAUSE => Pace::Wait(d),
        Some(d) => Pace::Stop(d),
    }
}

/// Waits as `pace` says; `Err` with a sentence for the source's error when
/// the budget is spent for longer than `MAX_PAUSE`.
pub async fn throttle(headers: &HeaderMap) -> Result<(), String> {
    match pace(headers, Utc::now()) {
        Pace::Go => Ok(()),
        Pace::Wait(d) => {
            tracing::info!(
                wait_ms = d.as_millis() as u64,
                "rate limit budget low; slowing down"
            );
            tokio::time::sleep(d).await;
            Ok(())
        }
        Pace::Stop(d) => Err(format!(
            "rate limit budget spent for the next {} s; the rest is read on the next crawl",
            d.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.insert(*n, v.parse().unwrap());
        }
        h
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    #[test]
    fn mastodon_headers_with_an_iso_reset() {
        let h = headers(&[
            ("x-ratelimit-limit", "300"),
            ("x-ratelimit-remaining", "2"),
            ("x-ratelimit-reset", "2026-11-25T12:00:30.000Z"),
        ]);
        let b = Budget::from_headers(&h, now()).unwrap();
        assert_eq!(b.limit, Some(300.0));
        assert_eq!(b.reset_in, Duration::from_secs(30));
        assert_eq!(pace(&h, now()), Pace::Wait(Duration::from_secs(15)));
    }

    #[test]
    fn bluesky_headers_with_an_epoch_reset() {
        let reset = (now().timestamp() + 600).to_string();
        let h = headers(&[
            ("ratelimit-limit", "3000"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", &reset),
            ("ratelimit-policy", "3000;w=300"),
        ]);
        assert_eq!(pace(&h, now()), Pace::Stop(Duration::from_secs(600)));
        let h = headers(&[("ratelimit-remaining", "2999"), ("ratelimit-reset", &reset)]);
        assert_eq!(pace(&h, now()), Pace::Go);
    }

    #[test]
    fn reddit_headers_with_fractional_remaining() {
        let h = headers(&[
            ("x-ratelimit-used", "98"),
            ("x-ratelimit-remaining", "2.0"),
            ("x-ratelimit-reset", "20"),
        ]);
        let b = Budget::from_headers(&h, now()).unwrap();
        assert_eq!(b.limit, Some(100.0));
        assert_eq!(pace(&h, now()), Pace::Wait(Duration::from_secs(10)));
    }

    #[test]
    fn missing_or_garbled_headers_mean_go() {
        assert_eq!(pace(&HeaderMap::new(), now()), Pace::Go);
        let h = headers(&[
            ("x-ratelimit-remaining", "lots"),
            ("x-ratelimit-reset", "soon"),
        ]);
        assert_eq!(pace(&h, now()), Pace::Go);
    }
}
