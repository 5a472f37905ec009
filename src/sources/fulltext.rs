//! Full-text pages: the main text of an article (not navigation, asides and
//! footers), its same-host `rel=canonical`, and `article:published_time`.

use chrono::{DateTime, Utc};
use url::Url;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    /// Plain main text.
    pub text: String,
    /// `<link rel="canonical">` when it points to the same host as `page_url`.
    pub canonical: Option<Url>,
    /// `article:published_time` (or equivalent) when present.
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
}

pub fn extract(_html: &str, _page_url: &Url) -> Article {
    unimplemented!("fulltext::extract")
}
