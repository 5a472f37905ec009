//! What a dashboard URL asks for, and the URLs the page links to. The
//! whole state is in the query string, so every view is a link that can be
//! bookmarked, shared and opened without JavaScript:
//!
//! `topic`, `since` (`24h`, `7d`, …) or `from` and `to`, `lang`; for the
//! list `kind`, `source` and `domain` (each repeatable), `q` (the query
//! language), `lfrom`/`lto` (a part of the window, a chart bar), and the
//! paging cursor `after` with `n`, the rows before this page.

use crate::config::{Lang, Settings};
use crate::query::Query;
use crate::report::Window;
use crate::sources::Kind;
use crate::store::ListFilter;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// The window presets the page offers.
pub const PRESETS: [&str; 4] = ["24h", "7d", "30d", "90d"];

/// One dashboard view: topic, window, language and the list's filters.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub topic: String,
    pub window: Window,
    /// The `since` duration as given; None for a from–to window.
    pub since: Option<String>,
    pub lang: Lang,
    /// `lang` was given in the URL (links keep it only then).
    pub lang_given: bool,
    pub kinds: Vec<Kind>,
    pub sources: Vec<String>,
    pub domains: Vec<String>,
    /// The search as typed; parsed when the filter is built.
    pub q: Option<String>,
    /// A part of the window the list is narrowed to (a chart bar).
    pub part: Option<Window>,
    /// Keyset cursor: rows after this `(at, id)`.
    pub after: Option<(i64, i64)>,
    /// Rows on the pages before this one (for "51–100").
    pub skipped: u64,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An RFC 3339 time, or what a date or `datetime-local` input sends
/// (`2026-11-23`, `2026-11-23T16:00`, with seconds or not), read as UTC.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

impl View {
    /// Reads a query string. Unknown keys are ignored (a form's button may
    /// send its own); a value that cannot be read is an error saying which.
    pub fn parse(query: &str, settings: &Settings, now: DateTime<Utc>) -> Result<View, String> {
        let mut topic = None;
        let (mut since, mut from, mut to) = (None, None, None);
        let mut lang = None;
        let mut view = View {
            topic: String::new(),
            window: Window { from: now, to: now },
            since: None,
            lang: settings.report.language,
            lang_given: false,
            kinds: Vec::new(),
            sources: Vec::new(),
            domains: Vec::new(),
            q: None,
            part: None,
            after: None,
            skipped: 0,
        };
        let (mut lfrom, mut lto) = (None, None);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "topic" => topic = Some(value.to_owned()),
                "since" => since = Some(value.to_owned()),
                "from" => from = Some(value.to_owned()),
                "to" => to = Some(value.to_owned()),
                "lang" => lang = Some(value.to_owned()),
                "kind" => {
                    let kind = Kind::parse(value).ok_or_else(|| {
                        format!("kind {value:?} is not one of web, social, forum")
                    })?;
                    if !view.kinds.contains(&kind) {
                        view.kinds.push(kind);
                    }
                }
                "source" if !view.sources.iter().any(|s| s == value) => {
                    view.sources.push(value.to_owned())
                }
                "domain" if !view.domains.iter().any(|s| s == value) => {
                    view.domains.push(value.to_owned())
                }
                "q" => view.q = Some(value.to_owned()),
                "lfrom" => lfrom = Some(value.to_owned()),
                "lto" => lto = Some(value.to_owned()),
                "after" => {
                    let cursor = value
                        .split_once('.')
                        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                    view.after = Some(
                        cursor.ok_or_else(|| format!("after {value:?} is not a page cursor"))?,
                    );
                }
                "n" => view.skipped = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        view.topic = match topic {
            Some(name) if settings.topics.iter().any(|t| t.name == name) => name,
            Some(name) => return Err(format!("there is no topic named {name:?}")),
            None => settings
                .topics
                .first()
                .map(|t| t.name.clone())
                .ok_or_else(|| "no topics are configured".to_owned())?,
        };
        if let Some(l) = lang {
            view.lang = match l.as_str() {
                "en" => Lang::En,
                "de" => Lang::De,
                _ => return Err(format!("lang {l:?} is not en or de")),
            };
            view.lang_given = true;
        }
        // from–to wins over since: the picker's form sends both.
        let time = |name: &str, v: &Option<String>| -> Result<Option<String>, String> {
            v.as_deref()
                .map(|s| {
                    parse_time(s).map(rfc3339).ok_or_else(|| {
                        format!("{name} {s:?} is not a time such as 2026-11-23T16:00:00Z")
                    })
                })
                .transpose()
        };
        let (from, to) = (time("from", &from)?, time("to", &to)?);
        let since = if from.is_some() || to.is_some() {
            None
        } else {
            Some(since.unwrap_or_else(|| "24h".to_owned()))
        };
        view.window = Window::from_args(since.as_deref(), from.as_deref(), to.as_deref(), now)
            .map_err(|e| e.replace("--", ""))?;
        view.since = since;
        let (lfrom, lto) = (time("lfrom", &lfrom)?, time("lto", &lto)?);
        if lfrom.is_some() || lto.is_some() {
            let parse = |s: Option<String>| s.as_deref().and_then(parse_time);
            let part = Window {
                from: parse(lfrom)
                    .unwrap_or(view.window.from)
                    .max(view.window.from),
                to: parse(lto).unwrap_or(view.window.to).min(view.window.to),
            };
            if part.from >= part.to {
                return Err("lfrom must be before lto, within the window".into());
            }
            view.part = (part != view.window).then_some(part);
        }
        if let Some(q) = &view.q {
            Query::parse(q).map_err(|e| format!("the search {q:?} cannot be read: {e}"))?;
        }
        Ok(view)
    }

    /// The window the list shows: the chart bar's part, or the whole window.
    pub fn list_window(&self) -> Window {
        self.part.unwrap_or(self.window)
    }

    /// Whether the list is narrowed by more than the window.
    pub fn filtered(&self) -> bool {
        !self.kinds.is_empty()
            || !self.sources.is_empty()
            || !self.domains.is_empty()
            || self.q.is_some()
            || self.part.is_some()
    }

    /// The `list` filter this view selects (`Store::list`, as the CLI).
    pub fn list_filter(&self) -> ListFilter {
        let w = self.list_window();
        ListFilter {
            topic: self.topic.clone(),
            from: w.from.timestamp(),
            to: w.to.timestamp(),
            kinds: self.kinds.clone(),
            sources: self.sources.clone(),
            domains: self.domains.clone(),
            search: self.q.as_deref().and_then(|q| Query::parse(q).ok()),
            excluded: false,
            after: self.after,
        }
    }

    /// The window before this one, of the same length.
    pub fn previous_window(&self) -> Window {
        let len = self.window.to - self.window.from;
        Window {
            from: self.window.from - len,
            to: self.window.from,
        }
    }

    /// The query pairs of this view, in a stable order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("topic", self.topic.clone())];
        match &self.since {
            Some(s) => out.push(("since", s.clone())),
            None => {
                out.push(("from", rfc3339(self.window.from)));
                out.push(("to", rfc3339(self.window.to)));
            }
        }
        if self.lang_given {
            out.push(("lang", self.lang_code().to_owned()));
        }
        out.extend(self.kinds.iter().map(|k| ("kind", k.as_str().to_owned())));
        out.extend(self.sources.iter().map(|s| ("source", s.clone())));
        out.extend(self.domains.iter().map(|d| ("domain", d.clone())));
        if let Some(q) = &self.q {
            out.push(("q", q.clone()));
        }
        if let Some(p) = self.part {
            out.push(("lfrom", rfc3339(p.from)));
            out.push(("lto", rfc3339(p.to)));
        }
        if let Some((at, id)) = self.after {
            out.push(("after", format!("{at}.{id}")));
            out.push(("n", self.skipped.to_string()));
        }
        out
    }

    pub fn lang_code(&self) -> &'static str {
        match self.lang {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// `path` with this view's query string.
    pub fn url(&self, path: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.pairs() {
            query.append_pair(k, &v);
        }
        // `:` may stand in a query as it is: times stay readable and short.
        let query = query.finish().replace("%3A", ":");
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }

    /// This view with the list back on its first page.
    pub fn first_page(&self) -> View {
        View {
            after: None,
            skipped: 0,
            ..self.clone()
        }
    }

    /// The same list filters, without paging and chart part: what the
    /// topic, window and language pickers keep.
    pub fn unfiltered(&self) -> View {
        View {
            kinds: Vec::new(),
            sources: Vec::new(),
            domains: Vec::new(),
            q: None,
            part: None,
            ..self.first_page()
        }
    }

    /// A window preset of the same topic and language, filters kept.
    pub fn with_since(&self, since: &str) -> View {
        View {
            since: Some(since.to_owned()),
            part: None,
            ..self.first_page()
        }
    }

    pub fn with_lang(&self, lang: Lang) -> View {
        View {
            lang,
            lang_given: true,
            ..self.clone()
        }
    }

    /// The list narrowed to one kind.
    pub fn with_kind(&self, kind: Kind) -> View {
        View {
            kinds: vec![kind],
            ..self.first_page()
        }
    }

    /// The list narrowed to one source.
    pub fn with_source(&self, source: &str) -> View {
        View {
            sources: vec![source.to_owned()],
            ..self.first_page()
        }
    }

    /// The list narrowed to one domain.
    pub fn with_domain(&self, domain: &str) -> View {
        View {
            domains: vec![domain.to_owned()],
            ..self.first_page()
        }
    }

    /// The list narrowed to a part of the window (a chart bar).
    pub fn with_part(&self, part: Window) -> View {
        View {
            part: (part != self.window).then_some(part),
            ..self.first_page()
        }
    }

    /// The next page after the row `(at, id)`, `shown` rows on this one.
    pub fn next_page(&self, cursor: (i64, i64), shown: u64) -> View {
        View {
            after: Some(cursor),
            skipped: self.skipped + shown,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn settings() -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[report]\nlanguage = \"de\"\n\n[[topic]]\nname = \"nk\"\nquery = \"nordkorea\"\n\n[[topic]]\nname = \"klima\"\nquery = \"klima\"\n",
        )
        .unwrap();
        Settings::load(&path).unwrap()
    }

    #[test]
    fn reads_a_query_string_and_writes_it_back() {
        let s = settings();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 30, 0).unwrap();
        let v = View::parse("", &s, now).unwrap();
        assert_eq!(v.topic, "nk");
        assert_eq!(v.lang, Lang::De);
        assert_eq!(v.window.to - v.window.from, chrono::Duration::hours(24));
        assert_eq!(v.url("/"), "/?topic=nk&since=24h");

        let q = "topic=klima&from=2026-11-23T16%3A00&to=2026-11-25T16:00:00Z&since=7d&lang=en\
                 &kind=web&kind=social&kind=web&source=a+b&domain=taz.de&q=kursk+OR+moskau\
                 &lfrom=2026-11-24T00:00:00Z&lto=2026-11-24T01:00:00Z&after=1764000000.42&n=50&x=1";
        let v = View::parse(q, &s, now).unwrap();
        assert_eq!(v.topic, "klima");
        assert_eq!(v.since, None);
        assert_eq!(
            v.window.from,
            Utc.with_ymd_and_hms(2026, 11, 23, 16, 0, 0).unwrap()
        );
        assert_eq!(v.kinds, [Kind::Web, Kind::Social]);
        assert_eq!(v.sources, ["a b"]);
        assert_eq!(v.after, Some((1_764_000_000, 42)));
        let f = v.list_filter();
        assert_eq!(f.to - f.from, 3600);
        assert!(f.search.is_some());
        assert_eq!(View::parse(&v.url("/")[2..], &s, now).unwrap(), v);
        assert_eq!(
            v.previous_window().from,
            Utc.with_ymd_and_hms(2026, 11, 21, 16, 0, 0).unwrap()
        );
        // A part reaching outside the window is cut to it.
        let v = View::parse(
            "from=2026-11-23&to=2026-11-24&lfrom=2026-11-22&lto=2026-11-23T06:00",
            &s,
            now,
        )
        .unwrap();
        assert_eq!(
            v.part.unwrap().from,
            Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn bad_values_are_errors_that_say_which() {
        let s = settings();
        let now = Utc::now();
        for (q, says) in [
            ("topic=nope", "no topic named \"nope\""),
            ("kind=blog", "kind \"blog\""),
            ("from=yesterday&to=2026-11-24", "from \"yesterday\""),
            ("from=2026-11-24", "go together"),
            ("since=soon", "\"soon\""),
            ("lang=fr", "lang \"fr\""),
            ("q=(kursk", "the search"),
            ("after=x", "cursor"),
        ] {
            let e = View::parse(q, &s, now).unwrap_err();
            assert!(e.contains(says), "{q}: {e}");
        }
    }
}
