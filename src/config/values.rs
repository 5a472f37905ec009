//! Typed value checks shared by every section: names, durations, sizes,
//! counts, URLs, cron schedules and references to topics. Each turns one
//! spanned raw value into a typed one or an error at that value's line.

use super::locate::Cx;
use super::raw::SizeValue;
use super::{ConfigError, Topic};
use crate::schedule::Schedule;
use crate::units::{parse_duration, parse_size};
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;
use url::Url;

impl Cx<'_> {
    /// A `[[topic]]`/`[[source]]` name: present, not blank, trimmed.
    pub(super) fn name(
        &self,
        name: &Option<Spanned<String>>,
        table: Range<usize>,
        unnamed: &str,
    ) -> Result<String, ConfigError> {
        match name {
            Some(n) if n.get_ref().trim().is_empty() => {
                Err(self.at(n.span(), Some(unnamed), "name", "is empty; give it a name"))
            }
            Some(n) => Ok(n.get_ref().trim().to_owned()),
            None => Err(self.missing(table, unnamed, "name", "give it a unique name")),
        }
    }

    /// A duration such as `"30s"`, above zero.
    pub(super) fn positive_duration(
        &self,
        v: &Spanned<String>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<Duration, ConfigError> {
        match parse_duration(v.get_ref()) {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(self.at(
                v.span(),
                owner,
                key,
                format!(
                    "\"{}\" is not a duration above zero; write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\"",
                    v.get_ref()
                ),
            )),
        }
    }

    /// A whole number of at least `min` that fits `T`.
    pub(super) fn count<T: TryFrom<i64>>(
        &self,
        v: &Spanned<i64>,
        min: i64,
        owner: Option<&str>,
        key: &str,
    ) -> Result<T, ConfigError> {
        let n = *v.get_ref();
        if n < min {
            return Err(self.at(
                v.span(),
                owner,
                key,
                format!("{n} is too small; it must be at least {min}"),
            ));
        }
        T::try_from(n).map_err(|_| self.at(v.span(), owner, key, format!("{n} is too large")))
    }

    /// An absolute http:// or https:// URL with a host.
    pub(super) fn http_url(
        &self,
        v: &Spanned<String>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<Url, ConfigError> {
        let text = v.get_ref().trim();
        match Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
            Ok(_) => Err(self.at(
                v.span(),
                owner,
                key,
                format!("\"{text}\" is not an http:// or https:// URL"),
            )),
            Err(e) => Err(self.at(
                v.span(),
                owner,
                key,
                format!("\"{text}\" is not a valid URL ({e}); write a full address such as https://example.org/feed.xml"),
            )),
        }
    }

    /// A cron expression (SPEC §2).
    pub(super) fn schedule(
        &self,
        v: &Spanned<String>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<Schedule, ConfigError> {
        Schedule::parse(v.get_ref()).map_err(|e| self.at(v.span(), owner, key, e))
    }

    /// A size such as `"10MiB"` or a plain number of bytes, above zero.
    pub(super) fn size(
        &self,
        v: &Spanned<SizeValue>,
        owner: Option<&str>,
        key: &str,
    ) -> Result<u64, ConfigError> {
        let bytes = match v.get_ref() {
            SizeValue::Bytes(n) => u64::try_from(*n).ok(),
            SizeValue::Text(t) => parse_size(t),
        };
        match bytes {
            Some(n) if n > 0 => Ok(n),
            _ => Err(self.at(
                v.span(),
                owner,
                key,
                "is not a size above zero; write e.g. \"10MiB\", \"512KiB\", \"1MB\" \
                 or a number of bytes",
            )),
        }
    }

    /// A reference to a `[[topic]]` by name: its index in `topics`.
    pub(super) fn topic(
        &self,
        v: &Spanned<String>,
        topics: &[Topic],
        owner: Option<&str>,
        key: &str,
    ) -> Result<usize, ConfigError> {
        topics
            .iter()
            .position(|t| &t.name == v.get_ref())
            .ok_or_else(|| {
                self.at(
                    v.span(),
                    owner,
                    key,
                    format!(
                        "unknown topic \"{}\"; {}",
                        v.get_ref(),
                        known_topics(topics)
                    ),
                )
            })
    }
}

/// The topics one may name instead, for a message about an unknown one.
fn known_topics(topics: &[Topic]) -> String {
    if topics.is_empty() {
        "no [[topic]] is defined".to_owned()
    } else {
        let names: Vec<String> = topics.iter().map(|t| format!("\"{}\"", t.name)).collect();
        format!("defined topics are {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{error, parse, TOPIC};

    #[test]
    fn wrong_value_types_and_ranges() {
        assert_eq!(
            error("[crawler]\nmax_redirects = \"ten\"\n"),
            "config.toml:2:17: crawler.max_redirects: invalid type: string \"ten\", expected a whole number"
        );
        assert_eq!(
            error("[crawler]\nconcurrency = 0\n"),
            "config.toml:2:15: crawler.concurrency: 0 is too small; it must be at least 1"
        );
        assert_eq!(
            error("[crawler]\ntimeout = \"30 seconds\"\n"),
            "config.toml:2:11: crawler.timeout: \"30 seconds\" is not a duration above zero; \
             write e.g. \"500ms\", \"30s\", \"90m\", \"48h\" or \"7d\""
        );
        let e = error("[crawler]\nmax_body = \"10 MegaBytes\"\n");
        assert!(
            e.starts_with("config.toml:2:12: crawler.max_body: is not a size"),
            "{e}"
        );
        assert_eq!(
            error("[crawler]\ntimezone = \"Europe/Berln\"\n"),
            "config.toml:2:12: crawler.timezone: unknown time zone \"Europe/Berln\"; use an IANA \
             name such as \"Europe/Berlin\" or \"UTC\""
        );
        assert_eq!(
            error("[report]\nlanguage = \"fr\"\n"),
            "config.toml:2:12: report.language: unknown language \"fr\"; expected \"en\" or \"de\""
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"feed\"\nkind = \"news\"\nurl = \"https://a.example/\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:8: source \"m\": kind: unknown kind \"news\"; expected one of web, social, forum"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"feed\"\nurl = \"ftp://a.example/x\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:7: source \"m\": url: \"ftp://a.example/x\" is not an http:// or https:// URL"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"feed\"\nurl = \"https://a.example/\"\nenabled = \"yes\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:9:11: source \"m\": enabled: invalid type: string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn bad_cron() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://www.merkur.de/\"\nschedule = \"0 */15 * * * * *\"\n"
        );
        let e = error(&text);
        assert!(
            e.starts_with("config.toml:9:12: source \"merkur\": schedule: invalid cron expression `0 */15 * * * * *`: it has 7 fields;"),
            "{e}"
        );
        let e = error("[crawler]\nschedule = \"0 0 * * 8\"\n");
        assert!(
            e.starts_with("config.toml:2:12: crawler.schedule: invalid cron expression `0 0 * * 8`: day-of-week: `8` is not a day of the week"),
            "{e}"
        );
    }

    #[test]
    fn max_body_in_plain_bytes() {
        let s = parse("[crawler]\nmax_body = 1048576\n").expect("plain bytes");
        assert_eq!(s.http.max_body, 1_048_576);
    }
}
