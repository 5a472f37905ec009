//! `feed` sources: RSS 0.9x/1.0/2.0, Atom and JSON Feed, detected from the content.

use super::{Item, ParseError};
use url::Url;

/// Parses a decoded feed document. Relative links resolve against `base`.
pub fn parse(_body: &str, _base: &Url) -> Result<Vec<Item>, ParseError> {
    unimplemented!("feed::parse")
}
