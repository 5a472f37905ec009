//! Canonical URLs (SPEC §4 rule 1): the identity of a web mention.

use url::Url;

/// The canonical form of `url`: scheme and host lower-cased, default port
/// and fragment dropped, tracking and session parameters dropped, remaining
/// query parameters sorted.
pub fn canonical(_url: &Url) -> Url {
    unimplemented!("canon::canonical")
}

/// Parses `link` (absolute, or relative to `base`) and canonicalises it.
/// Only http and https links are accepted.
pub fn canonical_str(_link: &str, _base: Option<&Url>) -> Option<Url> {
    unimplemented!("canon::canonical_str")
}
