//! `html` sources: any listing page read by CSS selectors.

use super::{Item, ParseError};
use url::Url;

/// Compiled selectors of one `html` source.
#[derive(Debug, Clone)]
pub struct Selectors {
    pub item: scraper::Selector,
    pub title: scraper::Selector,
    pub link: scraper::Selector,
    pub date: Option<scraper::Selector>,
    pub text: Option<scraper::Selector>,
    pub author: Option<scraper::Selector>,
    pub next: Option<scraper::Selector>,
}

/// One selector as written in the config could not be compiled.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid CSS selector `{selector}` for `{key}`: {message}")]
pub struct SelectorError {
    pub key: &'static str,
    pub selector: String,
    pub message: String,
}

/// Raw selector strings as written in the config.
#[derive(Debug, Clone, Default)]
pub struct SelectorSpec {
    pub item: String,
    pub title: String,
    pub link: String,
    pub date: Option<String>,
    pub text: Option<String>,
    pub author: Option<String>,
    pub next: Option<String>,
}

impl Selectors {
    pub fn compile(_spec: &SelectorSpec) -> Result<Selectors, SelectorError> {
        unimplemented!("html::Selectors::compile")
    }
}

/// One listing page: its items and the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Url>,
}

pub fn parse(_body: &str, _page_url: &Url, _selectors: &Selectors) -> Result<Page, ParseError> {
    unimplemented!("html::parse")
}
