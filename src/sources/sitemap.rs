//! `sitemap` sources: sitemap indexes, urlsets and Google News sitemaps.

use super::{Item, ParseError};
use url::Url;

/// What one sitemap document holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Sitemap {
    /// A sitemap index: the child sitemaps, newest `lastmod` first when given.
    Index(Vec<Url>),
    /// A urlset: one item per `<url>`; title from `news:title`, date from
    /// `news:publication_date`, else `lastmod`.
    Urls(Vec<Item>),
}

pub fn parse(_body: &str, _base: &Url) -> Result<Sitemap, ParseError> {
    unimplemented!("sitemap::parse")
}
