//! Decoding fetched bytes to text (SPEC §6): BOM, then the `Content-Type`
//! charset, then the XML prolog or HTML `<meta>`, else UTF-8 with a
//! windows-1252 fallback.

/// Decodes `body` to UTF-8 text.
pub fn decode(_body: &[u8], _content_type: Option<&str>) -> String {
    unimplemented!("charset::decode")
}
