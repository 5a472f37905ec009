//! Source types and the item they all produce. Parsers are pure functions
//! over decoded text so fixtures test them without a network.

pub mod bluesky;
pub mod context;
pub mod dates;
pub mod discourse;
pub mod feed;
pub mod fulltext;
pub mod gdelt;
pub mod googlenews;
pub mod hackernews;
pub mod html;
pub mod lemmy;
pub mod mastodon;
pub mod paging;
pub mod platform;
pub mod reddit;
pub mod sitemap;
pub mod telegram;
pub mod types;
pub mod web;

use chrono::{DateTime, Utc};

/// The kind of place a mention comes from; the three numbers of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Web,
    Social,
    Forum,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Web => "web",
            Kind::Social => "social",
            Kind::Forum => "forum",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "web" => Some(Kind::Web),
            "social" => Some(Kind::Social),
            "forum" => Some(Kind::Forum),
            _ => None,
        }
    }

    /// Stable number stored in the database.
    pub fn code(self) -> i64 {
        match self {
            Kind::Web => 0,
            Kind::Social => 1,
            Kind::Forum => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<Kind> {
        match code {
            0 => Some(Kind::Web),
            1 => Some(Kind::Social),
            2 => Some(Kind::Forum),
            _ => None,
        }
    }
}

/// One entry read from a source, before matching. Text fields are plain
/// text: parsers strip HTML and decode entities (see `text::html_to_text`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item {
    /// Absolute link to the item's page, as the source gives it.
    pub url: Option<String>,
    /// Platform identity (SPEC §4 rule 2), e.g. `at://…` or `t3_abc`; None for web items.
    pub platform_id: Option<String>,
    pub title: String,
    pub text: String,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// ISO 639-1 code when the source declares one.
    pub lang: Option<String>,
    /// The date the source gave when it could not be read (`published` is
    /// then None and the item is stored undated); the crawl logs it.
    pub unread_date: Option<String>,
    /// The publisher's host when `url` is not on the publisher's own site
    /// (a news search's opaque link): the mention's host for the references
    /// and for the same-headline rule.
    pub publisher: Option<String>,
    /// `url` as the reader parsed it, when it did (feeds), so that
    /// identifying the item does not parse it again.
    pub parsed_url: ParsedUrl,
}

/// An item's `url` as parsed by its reader: a cache of `url`, which is what
/// counts, so items are equal whatever it holds. Only a reader that made
/// `url` from it sets it.
#[derive(Debug, Clone, Default)]
pub struct ParsedUrl(Option<url::Url>);

impl ParsedUrl {
    /// The parsed form of `url`, which is `url.as_str()`.
    pub fn of(url: url::Url) -> ParsedUrl {
        ParsedUrl(Some(url))
    }

    pub fn get(&self) -> Option<&url::Url> {
        self.0.as_ref()
    }
}

impl PartialEq for ParsedUrl {
    fn eq(&self, _: &ParsedUrl) -> bool {
        true
    }
}

/// A parser could not read a document at all (items it can read are kept).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);
