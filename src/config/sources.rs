//! Checks per source type: which keys a `[[source]]` may set (read from the
//! table in `sources::types`), its defaults, and how each type's keys make
//! its `SourceSpec` (feed, sitemap, html selectors, platform settings).

use super::locate::Cx;
use super::raw::RawSource;
use super::{ConfigError, Lang, SourceConfig, SourceSpec, Topic};
use crate::schedule::Schedule;
use crate::sources::html::{SelectorSpec, Selectors};
use crate::sources::platform::{PlatformSpec, Secret};
use crate::sources::types;
use crate::sources::Kind;
use std::time::Duration;
use toml::Spanned;
use url::Url;

const DEFAULT_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// A value with runs of white space made one space, trimmed.
fn collapse(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Cx<'_> {
    /// One `[[source]]`: the common keys, then the keys of its type.
    pub(super) fn source(
        &self,
        i: usize,
        entry: &Spanned<RawSource>,
        topics: &[Topic],
        default_schedule: &Schedule,
        report_language: Lang,
    ) -> Result<SourceConfig, ConfigError> {
        let s = entry.get_ref();
        let unnamed = format!("source #{}", i + 1);
        let name = self.name(&s.name, entry.span(), &unnamed)?;
        let owner = format!("source \"{name}\"");
        let owner = Some(owner.as_str());

        let Some(type_name) = &s.source_type else {
            return Err(self.missing(
                entry.span(),
                &format!("source \"{name}\""),
                "type",
                &format!("set it to one of {}", types::type_names()),
            ));
        };
        let Some(source_type) = types::source_type(type_name.get_ref()) else {
            return Err(self.at(
                type_name.span(),
                owner,
                "type",
                format!(
                    "unknown type \"{}\"; expected one of {}",
                    type_name.get_ref(),
                    types::type_names()
                ),
            ));
        };
        let type_name = source_type.name;
        for (key, span) in s.present_keys() {
            if !source_type.accepts(key) {
                let belongs = format!("{} sources", types::key_owners(key));
                return Err(self.at(
                    span,
                    owner,
                    key,
                    format!(
                        "this key does not apply to a {type_name} source (it is for {belongs}); remove it"
                    ),
                ));
            }
        }

        let kind = match &s.kind {
            Some(k) => Kind::parse(k.get_ref().trim()).ok_or_else(|| {
                self.at(
                    k.span(),
                    owner,
                    "kind",
                    format!(
                        "unknown kind \"{}\"; expected one of web, social, forum",
                        k.get_ref()
                    ),
                )
            })?,
            None => source_type.kind,
        };
        let schedule = match &s.schedule {
            Some(text) => self.schedule(text, owner, "schedule")?,
            None => default_schedule.clone(),
        };
        let topic_indices = match &s.topics {
            None => (0..topics.len()).collect(),
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(self.at(
                        list.span(),
                        owner,
                        "topics",
                        "the list is empty; name at least one topic or remove the key to use every topic",
                    ));
                }
                let mut indices: Vec<usize> = Vec::new();
                for t in list.get_ref() {
                    let idx = self.topic(t, topics, owner, "topics")?;
                    if !indices.contains(&idx) {
                        indices.push(idx);
                    }
                }
                indices
            }
        };
        let enabled = s.enabled.as_ref().map(|b| *b.get_ref()).unwrap_or(true);
        let lookback = match &s.lookback {
            Some(l) => self.positive_duration(l, owner, "lookback")?,
            None => DEFAULT_LOOKBACK,
        };
        let max_pages = match &s.max_pages {
            Some(n) => self.count(n, 1, owner, "max_pages")?,
            None => source_type.max_pages,
        };
        let url = match (&s.url, source_type.default_url) {
            (Some(url), _) => self.http_url(url, owner, "url")?,
            (None, Some(default)) => Url::parse(default).map_err(|e| ConfigError {
                message: format!("built-in URL {default}: {e}"),
            })?,
            (None, None) => {
                return Err(self.missing(
                    entry.span(),
                    &format!("source \"{name}\""),
                    "url",
                    source_type.url_hint,
                ));
            }
        };
        let full_text = s.full_text.as_ref().map(|b| *b.get_ref()).unwrap_or(false);
        let spec = match type_name {
            "feed" => SourceSpec::Feed { url, full_text },
            "sitemap" => SourceSpec::Sitemap { url, full_text },
            "html" => SourceSpec::Html {
                url,
                selectors: self.selectors(entry, &name)?,
            },
            "googlenews" | "gdelt" => self.news(entry, type_name, url, &name, report_language)?,
            _ => SourceSpec::Platform(self.platform(entry, type_name, url, &name)?),
        };
        Ok(SourceConfig {
            name,
            kind,
            schedule,
            topics: topic_indices,
            enabled,
            lookback,
            max_pages,
            spec,
        })
    }

    /// The keys of a platform source type.
    fn platform(
        &self,
        entry: &Spanned<RawSource>,
        type_name: &str,
        url: Url,
        name: &str,
    ) -> Result<PlatformSpec, ConfigError> {
        let s = entry.get_ref();
        let owner_text = format!("source \"{name}\"");
        let owner = Some(owner_text.as_str());
        let text =
            |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>, ConfigError> {
                match v {
                    None => Ok(None),
                    Some(v) if v.get_ref().trim().is_empty() => Err(self.at(
                        v.span(),
                        owner,
                        key,
                        "is empty; remove the key or give it a value",
                    )),
                    Some(v) => Ok(Some(v.get_ref().trim().to_owned())),
                }
            };
        // Keys that only work together: both or neither.
        let pair = |a: &Option<Spanned<String>>,
                    a_key: &str,
                    b: &Option<Spanned<String>>,
                    b_key: &str|
         -> Result<Option<(String, Secret)>, ConfigError> {
            match (text(a, a_key)?, text(b, b_key)?) {
                (Some(a), Some(b)) => Ok(Some((a, Secret::new(b)))),
                (None, None) => Ok(None),
                (Some(_), None) => Err(self.missing(
                    entry.span(),
                    &owner_text,
                    b_key,
                    &format!("{a_key} and {b_key} go together"),
                )),
                (None, Some(_)) => Err(self.missing(
                    entry.span(),
                    &owner_text,
                    a_key,
                    &format!("{a_key} and {b_key} go together"),
                )),
            }
        };
        // A non-empty list of names, each cleaned by `clean`.
        let names = |v: &Option<Spanned<Vec<Spanned<String>>>>,
                     key: &str,
                     example: &str,
                     clean: &dyn Fn(&str) -> String|
         -> Result<Vec<String>, ConfigError> {
            let Some(list) = v else {
                return Err(self.missing(
                    entry.span(),
                    &owner_text,
                    key,
                    &format!("list at least one, e.g. {key} = [{example}]"),
                ));
            };
            if list.get_ref().is_empty() {
                return Err(self.at(
                    list.span(),
                    owner,
                    key,
                    format!("the list is empty; list at least one, e.g. {key} = [{example}]"),
                ));
            }
            let mut out = Vec::new();
            for item in list.get_ref() {
                let cleaned = clean(item.get_ref().trim());
                if cleaned.is_empty()
                    || cleaned
                        .contains(|c: char| c.is_whitespace() || c == '/' || c == '?' || c == '#')
                {
                    return Err(self.at(
                        item.span(),
                        owner,
                        key,
                        format!("\"{}\" is not a valid name", item.get_ref()),
                    ));
                }
                if !out.contains(&cleaned) {
                    out.push(cleaned);
                }
            }
            Ok(out)
        };
        let search = text(&s.search, "search")?;
        Ok(match type_name {
            "mastodon" => PlatformSpec::Mastodon {
                url,
                hashtags: names(&s.hashtags, "hashtags", "\"nordkorea\"", &|t| {
                    t.trim_start_matches('#').to_owned()
                })?,
                access_token: text(&s.access_token, "access_token")?.map(Secret::new),
            },
            "bluesky" => PlatformSpec::Bluesky {
                url,
                search,
                login: pair(&s.identifier, "identifier", &s.app_password, "app_password")?,
            },
            "reddit" => PlatformSpec::Reddit {
                url,
                search,
                subreddit: text(&s.subreddit, "subreddit")?.map(|r| {
                    r.trim_start_matches("/r/")
                        .trim_start_matches("r/")
                        .trim_end_matches('/')
                        .to_owned()
                }),
                credentials: pair(&s.client_id, "client_id", &s.client_secret, "client_secret")?,
            },
            "lemmy" => PlatformSpec::Lemmy { url, search },
            "discourse" => PlatformSpec::Discourse { url, search },
            "hackernews" => PlatformSpec::HackerNews { url, search },
            _ => PlatformSpec::Telegram {
                url,
                channels: names(&s.channels, "channels", "\"durov\"", &|c| {
                    c.trim_start_matches("https://")
                        .trim_start_matches("t.me/s/")
                        .trim_start_matches("t.me/")
                        .trim_start_matches('@')
                        .trim_end_matches('/')
                        .to_owned()
                })?,
            },
        })
    }

    /// The keys of a news search (`googlenews`, `gdelt`).
    fn news(
        &self,
        entry: &Spanned<RawSource>,
        type_name: &str,
        url: Url,
        name: &str,
        report_language: Lang,
    ) -> Result<SourceSpec, ConfigError> {
        let s = entry.get_ref();
        let owner_text = format!("source \"{name}\"");
        let owner = Some(owner_text.as_str());
        let text = |v: &Option<Spanned<String>>,
                    key: &str|
         -> Result<Option<(String, std::ops::Range<usize>)>, ConfigError> {
            match v {
                None => Ok(None),
                Some(v) if v.get_ref().trim().is_empty() => Err(self.at(
                    v.span(),
                    owner,
                    key,
                    "is empty; remove the key or give it a value",
                )),
                Some(v) => Ok(Some((collapse(v.get_ref()), v.span()))),
            }
        };
        // Two ASCII letters, e.g. a language or country code.
        let code = |v: Option<(String, std::ops::Range<usize>)>,
                    key: &str,
                    example: &str|
         -> Result<Option<String>, ConfigError> {
            match v {
                None => Ok(None),
                Some((v, _)) if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    Ok(Some(v))
                }
                Some((v, span)) => Err(self.at(
                    span,
                    owner,
                    key,
                    format!("\"{v}\" is not a two-letter code; write it like \"{example}\""),
                )),
            }
        };
        if type_name == "googlenews" {
            let search = text(&s.search, "search")?.map(|(v, _)| v);
            let language = code(text(&s.language, "language")?, "language", "de")?
                .map(|l| l.to_ascii_lowercase())
                .unwrap_or_else(|| match report_language {
                    Lang::De => "de".to_owned(),
                    Lang::En => "en".to_owned(),
                });
            let country = match code(text(&s.country, "country")?, "country", "DE")? {
                Some(c) => c.to_ascii_uppercase(),
                None => match language.as_str() {
                    "de" => "DE".to_owned(),
                    "en" => "US".to_owned(),
                    other => {
                        return Err(self.missing(
                            entry.span(),
                            &owner_text,
                            "country",
                            &format!(
                                "name the edition's country for language \"{other}\", e.g. country = \"{}\"",
                                other.to_ascii_uppercase()
                            ),
                        ))
                    }
                },
            };
            return Ok(SourceSpec::GoogleNews {
                url,
                search,
                language,
                country,
            });
        }
        // GDELT names languages and countries in one word (`german`,
        // `unitedstates`) or by code; the operator takes no spaces.
        let operand = |v: Option<(String, std::ops::Range<usize>)>,
                       key: &str,
                       example: &str|
         -> Result<Option<String>, ConfigError> {
            match v {
                None => Ok(None),
                Some((v, span)) => {
                    let word: String = v
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        .to_lowercase();
                    if word.chars().all(|c| c.is_ascii_alphabetic()) {
                        Ok(Some(word))
                    } else {
                        Err(self.at(
                            span,
                            owner,
                            key,
                            format!("\"{v}\" is not a GDELT {key}; write a name or code such as \"{example}\""),
                        ))
                    }
                }
            }
        };
        Ok(SourceSpec::Gdelt {
            url,
            query: text(&s.query, "query")?.map(|(v, _)| v),
            sourcelang: operand(text(&s.sourcelang, "sourcelang")?, "sourcelang", "german")?,
            sourcecountry: operand(
                text(&s.sourcecountry, "sourcecountry")?,
                "sourcecountry",
                "germany",
            )?,
        })
    }

    fn selectors(&self, entry: &Spanned<RawSource>, name: &str) -> Result<Selectors, ConfigError> {
        let s = entry.get_ref();
        let owner = format!("source \"{name}\"");
        let required = |v: &Option<Spanned<String>>, key: &str| match v {
            Some(v) => Ok(v.get_ref().clone()),
            None => Err(self.missing(
                entry.span(),
                &owner,
                key,
                "html sources need item, title and link selectors",
            )),
        };
        let optional = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.get_ref().clone());
        let spec = SelectorSpec {
            item: required(&s.item, "item")?,
            title: required(&s.title, "title")?,
            link: required(&s.link, "link")?,
            date: optional(&s.date),
            text: optional(&s.text),
            author: optional(&s.author),
            next: optional(&s.next),
        };
        Selectors::compile(&spec).map_err(|e| {
            let field = match e.key {
                "item" => &s.item,
                "title" => &s.title,
                "link" => &s.link,
                "date" => &s.date,
                "text" => &s.text,
                "author" => &s.author,
                "next" => &s.next,
                _ => &None,
            };
            let span = field.as_ref().map(Spanned::span).unwrap_or(entry.span());
            self.at(
                span,
                Some(&owner),
                e.key,
                format!("invalid CSS selector `{}`: {}", e.selector, e.message),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{env, error, parse, TOPIC};
    use crate::config::{Settings, SourceSpec};
    use crate::sources::platform::{PlatformSpec, Secret};
    use crate::sources::Kind;
    use std::path::Path;
    use std::time::Duration;

    #[test]
    fn source_defaults_by_type() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"f\"\ntype = \"feed\"\nurl = \"https://example.org/feed.xml\"\n\n\
             [[source]]\nname = \"h\"\ntype = \"html\"\nurl = \"https://example.org/news/\"\n\
             item = \"article\"\ntitle = \"h2\"\nlink = \"h2 a\"\n"
        );
        let s = parse(&text).expect("valid");
        let (f, h) = (&s.sources[0], &s.sources[1]);
        assert_eq!((f.kind, f.enabled, f.max_pages), (Kind::Web, true, 10));
        assert_eq!(f.lookback, Duration::from_secs(7 * 86_400));
        assert_eq!(f.topics, [0]);
        assert_eq!(f.schedule.text, "0 */15 * * * *");
        assert!(matches!(
            f.spec,
            SourceSpec::Feed {
                full_text: false,
                ..
            }
        ));
        assert_eq!((h.kind, h.max_pages), (Kind::Web, 1));
        match &h.spec {
            SourceSpec::Html { selectors, .. } => {
                assert!(selectors.date.is_none() && selectors.next.is_none())
            }
            other => panic!("expected html, got {other:?}"),
        }
    }

    #[test]
    fn platform_sources_with_defaults_and_secrets() {
        let text = format!(
            "{TOPIC}
[[source]]
name = \"fedi\"
type = \"mastodon\"
url = \"https://mastodon.social\"
hashtags = [\"#Nordkorea\", \"russland\", \"nordkorea\"]
access_token = \"${{TOKEN}}\"

[[source]]
name = \"sky\"
type = \"bluesky\"
identifier = \"alice.example\"
app_password = \"${{TOKEN}}\"

[[source]]
name = \"rd\"
type = \"reddit\"
subreddit = \"r/de\"
search = \"nordkorea\"

[[source]]
name = \"hn\"
type = \"hackernews\"

[[source]]
name = \"tg\"
type = \"telegram\"
channels = [\"@durov\", \"https://t.me/s/telegram\"]
"
        );
        let s = Settings::parse_with_env(&text, Path::new("config.toml"), &env).expect("valid");
        let kinds: Vec<Kind> = s.sources.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Social,
                Kind::Social,
                Kind::Forum,
                Kind::Forum,
                Kind::Social
            ]
        );
        match &s.sources[0].spec {
            SourceSpec::Platform(PlatformSpec::Mastodon {
                hashtags,
                access_token,
                ..
            }) => {
                assert_eq!(hashtags, &["Nordkorea", "russland", "nordkorea"]);
                assert_eq!(access_token.as_ref().map(Secret::expose), Some("s3cret"));
                // Secrets never print.
                assert!(!format!("{:?}", s.sources[0]).contains("s3cret"));
            }
            other => panic!("{other:?}"),
        }
        match &s.sources[1].spec {
            SourceSpec::Platform(PlatformSpec::Bluesky { url, login, search }) => {
                assert_eq!(url.as_str(), "https://public.api.bsky.app/");
                assert_eq!(login.as_ref().map(|l| l.0.as_str()), Some("alice.example"));
                assert!(search.is_none());
            }
            other => panic!("{other:?}"),
        }
        match &s.sources[2].spec {
            SourceSpec::Platform(PlatformSpec::Reddit {
                url,
                subreddit,
                credentials,
                ..
            }) => {
                assert_eq!(url.as_str(), "https://www.reddit.com/");
                assert_eq!(subreddit.as_deref(), Some("de"));
                assert!(credentials.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.sources[3].spec.type_name(), "hackernews");
        match &s.sources[4].spec {
            SourceSpec::Platform(PlatformSpec::Telegram { channels, .. }) => {
                assert_eq!(channels, &["durov", "telegram"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn platform_source_errors() {
        let half_login = format!(
            "{TOPIC}\n[[source]]\nname = \"sky\"\ntype = \"bluesky\"\nidentifier = \"alice.example\"\n"
        );
        assert!(
            error(&half_login).contains("app_password"),
            "{}",
            error(&half_login)
        );
        let no_instance = format!("{TOPIC}\n[[source]]\nname = \"l\"\ntype = \"lemmy\"\n");
        assert!(
            error(&no_instance).contains("url"),
            "{}",
            error(&no_instance)
        );
        let misplaced = format!(
            "{TOPIC}\n[[source]]\nname = \"f\"\ntype = \"feed\"\nurl = \"https://e.org/f\"\nhashtags = [\"x\"]\n"
        );
        assert!(
            error(&misplaced).contains("mastodon sources"),
            "{}",
            error(&misplaced)
        );
        let empty = format!(
            "{TOPIC}\n[[source]]\nname = \"m\"\ntype = \"mastodon\"\nurl = \"https://m.example\"\nhashtags = []\n"
        );
        assert!(error(&empty).contains("config.toml:9"), "{}", error(&empty));
    }

    #[test]
    fn news_search_editions_follow_the_report_language() {
        let text = format!(
            "[report]\nlanguage = \"de\"\n{TOPIC}
[[source]]
name = \"gn\"
type = \"googlenews\"

[[source]]
name = \"gn-at\"
type = \"googlenews\"
country = \"at\"
search = '  nordkorea   -sport '

[[source]]
name = \"gn-us\"
type = \"googlenews\"
language = \"EN\"
kind = \"social\"
"
        );
        let s = parse(&text).expect("valid");
        let editions: Vec<(&str, Option<&str>, &str, &str, Kind)> = s
            .sources
            .iter()
            .map(|src| match &src.spec {
                SourceSpec::GoogleNews {
                    url,
                    search,
                    language,
                    country,
                } => (
                    url.as_str(),
                    search.as_deref(),
                    language.as_str(),
                    country.as_str(),
                    src.kind,
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            editions,
            [
                ("https://news.google.com/", None, "de", "DE", Kind::Web),
                (
                    "https://news.google.com/",
                    Some("nordkorea -sport"),
                    "de",
                    "AT",
                    Kind::Web
                ),
                ("https://news.google.com/", None, "en", "US", Kind::Social),
            ]
        );
        assert!(s.sources[0].spec.is_news_search());
        assert_eq!(s.sources[0].max_pages, 1);
    }

    #[test]
    fn gdelt_filters_are_written_as_gdelt_reads_them() {
        let text = format!(
            "{TOPIC}
[[source]]
name = \"gd\"
type = \"gdelt\"
query = '(kursk OR \"north korea\")'
sourcelang = \"German\"
sourcecountry = \"United States\"

[[source]]
name = \"gd-all\"
type = \"gdelt\"
url = \"https://gdelt.example.org/\"
"
        );
        let s = parse(&text).expect("valid");
        match &s.sources[0].spec {
            SourceSpec::Gdelt {
                url,
                query,
                sourcelang,
                sourcecountry,
            } => {
                assert_eq!(url.as_str(), "https://api.gdeltproject.org/");
                assert_eq!(query.as_deref(), Some("(kursk OR \"north korea\")"));
                assert_eq!(sourcelang.as_deref(), Some("german"));
                assert_eq!(sourcecountry.as_deref(), Some("unitedstates"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!((s.sources[0].kind, s.sources[0].max_pages), (Kind::Web, 10));
        assert!(s.sources[1].spec.is_news_search());
        let bad = format!("{TOPIC}\n[[source]]\nname = \"gd\"\ntype = \"gdelt\"\nsourcecountry = \"Côte d'Ivoire\"\n");
        assert_eq!(
            error(&bad),
            "config.toml:8:17: source \"gd\": sourcecountry: \"Côte d'Ivoire\" is not a GDELT sourcecountry; write a name or code such as \"germany\""
        );
        let misplaced =
            format!("{TOPIC}\n[[source]]\nname = \"gd\"\ntype = \"gdelt\"\nsearch = \"kursk\"\n");
        assert_eq!(
            error(&misplaced),
            "config.toml:8:10: source \"gd\": search: this key does not apply to a gdelt source (it is for bluesky, reddit, lemmy, discourse and hackernews, googlenews sources); remove it"
        );
    }

    #[test]
    fn news_search_errors() {
        let base = format!("{TOPIC}\n[[source]]\nname = \"gn\"\ntype = \"googlenews\"\n");
        assert_eq!(
            error(&format!("{base}language = \"fr\"\n")),
            "config.toml:5: source \"gn\": missing key `country`; name the edition's country for language \"fr\", e.g. country = \"FR\""
        );
        assert_eq!(
            error(&format!("{base}country = \"Deutschland\"\n")),
            "config.toml:8:11: source \"gn\": country: \"Deutschland\" is not a two-letter code; write it like \"DE\""
        );
        assert_eq!(
            error(&format!("{base}search = \" \"\n")),
            "config.toml:8:10: source \"gn\": search: is empty; remove the key or give it a value"
        );
        assert_eq!(
            error(&format!("{base}hashtags = [\"x\"]\n")),
            "config.toml:8:12: source \"gn\": hashtags: this key does not apply to a googlenews source (it is for mastodon sources); remove it"
        );
    }

    #[test]
    fn unknown_source_type() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"rss\"\nurl = \"https://www.merkur.de/\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:7:8: source \"merkur\": type: unknown type \"rss\"; expected one of feed, sitemap, html, mastodon, bluesky, reddit, lemmy, discourse, hackernews, telegram, googlenews, gdelt"
        );
    }

    #[test]
    fn key_of_another_type() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://www.merkur.de/\"\nitem = \"li.teaser\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:9:8: source \"merkur\": item: this key does not apply to a feed source \
             (it is for html sources); remove it"
        );
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"forum\"\ntype = \"html\"\nurl = \"https://forum.example/\"\n\
             item = \"li\"\ntitle = \"a\"\nlink = \"a\"\nfull_text = true\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:12:13: source \"forum\": full_text: this key does not apply to a html \
             source (it is for feed and sitemap sources); remove it"
        );
    }

    #[test]
    fn bad_selector() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"forum\"\ntype = \"html\"\nurl = \"https://forum.example/\"\n\
             item = \"li.result\"\ntitle = \"h3 >\"\nlink = \"a\"\n"
        );
        let e = error(&text);
        assert!(
            e.starts_with("config.toml:10:9: source \"forum\": title: invalid CSS selector `h3 >`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_topic_in_topics() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\nurl = \"https://a.example/\"\n\
             topics = [\"nk\", \"bahnstreik\"]\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:9:17: source \"merkur\": topics: unknown topic \"bahnstreik\"; defined topics are \"nk\""
        );
    }
}
