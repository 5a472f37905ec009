//! Decoding fetched bytes to text (SPEC §6): BOM, then the `Content-Type`
//! charset, then the XML prolog or HTML `<meta>`, else UTF-8 with a
//! windows-1252 fallback. Labels follow the WHATWG Encoding Standard via
//! encoding_rs, so `ISO-8859-1` decodes as windows-1252 like browsers do.

use encoding_rs::{Encoding, REPLACEMENT, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};
use std::borrow::Cow;

/// How far into the body the prolog or `<meta>` declaration is looked for.
const SNIFF_LEN: usize = 1024;

/// Decodes `body` to UTF-8 text.
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let (text, _) = decode_with_encoding(body, content_type);
    text
}

/// [`decode`] of a body the caller gives up: a body that is UTF-8 already
/// (most documents) becomes the text as it is, neither copied nor checked
/// twice.
pub fn decode_owned(body: Vec<u8>, content_type: Option<&str>) -> String {
    // What bytes that are not UTF-8 after all are read as.
    let fallback = match named_encoding(&body, content_type) {
        Some((enc, 0)) if enc == UTF_8 => UTF_8,
        Some((enc, bom_len)) => return decode_as(&body, enc, bom_len),
        None => WINDOWS_1252,
    };
    String::from_utf8(body).unwrap_or_else(|e| {
        let (text, _) = fallback.decode_without_bom_handling(e.as_bytes());
        text.into_owned()
    })
}

/// Like [`decode`], also naming the encoding that was used.
pub fn decode_with_encoding(
    body: &[u8],
    content_type: Option<&str>,
) -> (String, &'static Encoding) {
    let (enc, bom_len) = named_encoding(body, content_type).unwrap_or_else(|| {
        let enc = if std::str::from_utf8(body).is_ok() {
            UTF_8
        } else {
            WINDOWS_1252
        };
        (enc, 0)
    });
    (decode_as(body, enc, bom_len), enc)
}

/// `body` after its BOM of `bom_len` bytes, read as `enc`.
fn decode_as(body: &[u8], enc: &'static Encoding, bom_len: usize) -> String {
    let rest = body.get(bom_len..).unwrap_or_default();
    let (text, _) = enc.decode_without_bom_handling(rest);
    text.into_owned()
}

/// The encoding a BOM, the `Content-Type` charset or an in-document
/// declaration names, with the BOM's length (0 without one); None when
/// nothing names one (then UTF-8 if the body is valid UTF-8, else
/// windows-1252).
fn named_encoding(body: &[u8], content_type: Option<&str>) -> Option<(&'static Encoding, usize)> {
    if let Some(found) = Encoding::for_bom(body) {
        return Some(found);
    }
    content_type
        .and_then(charset_param)
        .and_then(|label| known_label(&label))
        .or_else(|| {
            // A document cannot be read as ASCII to find a UTF-16 label, so
            // an in-document UTF-16 declaration means UTF-8 (WHATWG).
            sniff_declaration(body)
                .and_then(|label| known_label(&label))
                .map(|enc| {
                    if enc == UTF_16LE || enc == UTF_16BE {
                        UTF_8
                    } else {
                        enc
                    }
                })
        })
        .map(|enc| (enc, 0))
}

/// An encoding for `label`, ignoring the WHATWG "replacement" encoding,
/// which would turn the whole document into U+FFFD.
fn known_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes()).filter(|enc| *enc != REPLACEMENT)
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The encoding named by an XML prolog or HTML `<meta>` in the first
/// [`SNIFF_LEN`] bytes.
fn sniff_declaration(body: &[u8]) -> Option<String> {
    let head = body.get(..SNIFF_LEN).unwrap_or(body);
    // Labels are ASCII; other bytes become '?' so byte offsets stay aligned.
    let head: String = head
        .iter()
        .map(|&b| {
            if b.is_ascii() {
                b.to_ascii_lowercase() as char
            } else {
                '?'
            }
        })
        .collect();
    let trimmed = head.trim_start();
    if trimmed.starts_with("<?xml") {
        let decl = trimmed.get(..trimmed.find("?>")?)?;
        if let Some(label) = attr_value(decl, "encoding") {
            return Some(label);
        }
    }
    let mut rest = head.as_str();
    while let Some(start) = rest.find("<meta") {
        let tag = rest.get(start..)?;
        let end = tag.find('>').unwrap_or(tag.len());
        let meta = tag.get(..end)?;
        if let Some(label) = attr_value(meta, "charset") {
            return Some(label);
        }
        rest = tag.get(end..)?;
    }
    None
}

/// The value after `name=` in `s` (quoted or bare); also finds `charset=`
/// inside a `content="text/html; charset=…"` attribute.
fn attr_value(s: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = s.get(from..)?.find(name) {
        let after = s.get(from + pos + name.len()..)?.trim_start();
        from += pos + name.len();
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let value = value.strip_prefix(['"', '\'']).unwrap_or(value);
        let label: String = value
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
            .collect();
        if !label.is_empty() {
            return Some(label);
        }
    }
    None
}

/// Rewrites an XML prolog's `encoding="…"` to UTF-8 in already decoded
/// text, so an XML parser does not decode the UTF-8 text a second time as
/// the original charset.
pub fn strip_xml_encoding(text: &str) -> Cow<'_, str> {
    let lead = text.len()
        - text
            .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
            .len();
    let Some(rest) = text.get(lead..) else {
        return Cow::Borrowed(text);
    };
    if !rest.starts_with("<?xml") {
        return Cow::Borrowed(text);
    }
    let Some(end) = rest.find("?>") else {
        return Cow::Borrowed(text);
    };
    let Some(decl) = rest.get(..end) else {
        return Cow::Borrowed(text);
    };
    let Some(key) = decl.find("encoding") else {
        return Cow::Borrowed(text);
    };
    // Locate the quoted value after `encoding` `=`.
    let after_key = key + "encoding".len();
    let Some(tail) = decl.get(after_key..) else {
        return Cow::Borrowed(text);
    };
    let Some(eq) = tail.find('=') else {
        return Cow::Borrowed(text);
    };
    let Some(value_part) = tail.get(eq + 1..) else {
        return Cow::Borrowed(text);
    };
    let ws = value_part.len() - value_part.trim_start().len();
    let quoted = value_part.trim_start();
    let Some(quote) = quoted.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return Cow::Borrowed(text);
    };
    let Some(close) = quoted.get(1..).and_then(|q| q.find(quote)) else {
        return Cow::Borrowed(text);
    };
    let value = quoted.get(1..1 + close).unwrap_or_default();
    if value.eq_ignore_ascii_case("utf-8") {
        return Cow::Borrowed(text);
    }
    let value_start = lead + after_key + eq + 1 + ws + 1;
    let value_end = value_start + close;
    match (text.get(..value_start), text.get(value_end..)) {
        (Some(before), Some(after)) => Cow::Owned(format!("{before}UTF-8{after}")),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Grüße aus Köln" as ISO-8859-1 bytes.
    const LATIN1_WORDS: &[u8] = b"Gr\xfc\xdfe aus K\xf6ln";

    fn latin1_feed(prolog_encoding: Option<&str>) -> Vec<u8> {
        let mut body = Vec::new();
        match prolog_encoding {
            Some(enc) => body.extend_from_slice(
                format!("<?xml version=\"1.0\" encoding=\"{enc}\"?>\n").as_bytes(),
            ),
            None => body.extend_from_slice(b"<?xml version=\"1.0\"?>\n"),
        }
        body.extend_from_slice(b"<rss version=\"2.0\"><channel><title>");
        body.extend_from_slice(LATIN1_WORDS);
        body.extend_from_slice(b"</title></channel></rss>");
        body
    }

    #[test]
    fn an_owned_body_decodes_as_a_borrowed_one() {
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice("<a>Grüße</a>".as_bytes());
        let utf16: Vec<u8> = b"\xff\xfe<\0a\0>\0"
            .iter()
            .copied()
            .chain("ü".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let cases: Vec<(Vec<u8>, Option<&str>)> = vec![
            ("<a>Grüße</a>".as_bytes().to_vec(), None),
            (
                "<a>Grüße</a>".as_bytes().to_vec(),
                Some("text/xml; charset=utf-8"),
            ),
            (b"<a>plain ascii</a>".to_vec(), Some("text/html")),
            // Declared UTF-8, but a stray Latin-1 byte: replaced, as before.
            (
                b"<a>Gr\xfc\xdfe</a>".to_vec(),
                Some("text/xml; charset=utf-8"),
            ),
            // Undeclared and not UTF-8: windows-1252.
            (b"<a>\x93Zitat\x94 Gr\xfc\xdfe</a>".to_vec(), None),
            (latin1_feed(Some("ISO-8859-1")), None),
            (latin1_feed(None), Some("text/xml; charset=ISO-8859-1")),
            (bom, None),
            (utf16, None),
            (Vec::new(), None),
        ];
        for (body, content_type) in cases {
            let borrowed = decode(&body, content_type);
            assert_eq!(
                decode_owned(body, content_type),
                borrowed,
                "{content_type:?}"
            );
        }
        assert_eq!(
            decode_owned(b"<a>Gr\xfc\xdfe</a>".to_vec(), None),
            "<a>Grüße</a>"
        );
        assert_eq!(
            decode_owned(b"<a>Gr\xfc</a>".to_vec(), Some("text/xml; charset=utf-8")),
            "<a>Gr\u{fffd}</a>"
        );
    }

    #[test]
    fn iso_8859_1_declared_only_in_prolog() {
        let body = latin1_feed(Some("ISO-8859-1"));
        let text = decode(&body, Some("application/rss+xml"));
        assert!(text.contains("<title>Grüße aus Köln</title>"), "{text}");
    }

    #[test]
    fn iso_8859_1_declared_only_in_content_type() {
        let body = latin1_feed(None);
        let text = decode(&body, Some("text/xml; charset=ISO-8859-1"));
        assert!(text.contains("<title>Grüße aus Köln</title>"), "{text}");
        let text = decode(&body, Some("text/xml;Charset=\"iso-8859-1\""));
        assert!(text.contains("<title>Grüße aus Köln</title>"), "{text}");
    }

    #[test]
    fn content_type_wins_over_prolog() {
        let mut body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>".to_vec();
        body.extend_from_slice("Grüße".as_bytes());
        body.extend_from_slice(b"</a>");
        let text = decode(&body, Some("application/xml; charset=utf-8"));
        assert!(text.contains("<a>Grüße</a>"), "{text}");
    }

    #[test]
    fn windows_1252_curly_quotes() {
        let body = b"<html><head><meta charset=\"windows-1252\"></head><body>\x93Zitat\x94 \x96 \x80 5</body></html>";
        let text = decode(body, None);
        assert!(
            text.contains("\u{201c}Zitat\u{201d} \u{2013} \u{20ac} 5"),
            "{text}"
        );
    }

    #[test]
    fn meta_http_equiv_content_type() {
        let mut body = b"<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><title>".to_vec();
        body.extend_from_slice(LATIN1_WORDS);
        body.extend_from_slice(b"</title>");
        let text = decode(&body, Some("text/html"));
        assert!(text.ends_with("<title>Grüße aus Köln</title>"), "{text}");
    }

    #[test]
    fn utf8_bom() {
        let mut body = b"\xef\xbb\xbf".to_vec();
        body.extend_from_slice("<?xml version=\"1.0\"?><a>Grüße</a>".as_bytes());
        // The BOM beats a wrong Content-Type charset.
        let text = decode(&body, Some("text/xml; charset=iso-8859-1"));
        assert_eq!(text, "<?xml version=\"1.0\"?><a>Grüße</a>");
    }

    #[test]
    fn utf16_with_bom() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>Grüße €</a>";
        let mut le = vec![0xff, 0xfe];
        let mut be = vec![0xfe, 0xff];
        for unit in doc.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(decode(&le, None), doc);
        assert_eq!(decode(&be, Some("text/xml")), doc);
    }

    #[test]
    fn invalid_utf8_without_declaration_is_windows_1252() {
        let text = decode(LATIN1_WORDS, None);
        assert_eq!(text, "Grüße aus Köln");
        let (_, enc) = decode_with_encoding(LATIN1_WORDS, Some("text/plain"));
        assert_eq!(enc, WINDOWS_1252);
    }

    #[test]
    fn valid_utf8_without_declaration() {
        let text = decode("<p>Grüße</p>".as_bytes(), Some("text/html"));
        assert_eq!(text, "<p>Grüße</p>");
    }

    #[test]
    fn unknown_labels_are_ignored() {
        let text = decode(LATIN1_WORDS, Some("text/html; charset=klingon"));
        assert_eq!(text, "Grüße aus Köln");
        // "iso-2022-kr" maps to the replacement encoding; it must not blank the page.
        let text = decode("Grüße".as_bytes(), Some("text/html; charset=iso-2022-kr"));
        assert_eq!(text, "Grüße");
    }

    #[test]
    fn strip_xml_encoding_rewrites_prolog() {
        let text = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss/>";
        assert_eq!(
            strip_xml_encoding(text),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss/>"
        );
        let text = "\n <?xml version='1.0' encoding = 'windows-1252' standalone='yes'?><a/>";
        assert_eq!(
            strip_xml_encoding(text),
            "\n <?xml version='1.0' encoding = 'UTF-8' standalone='yes'?><a/>"
        );
        for unchanged in [
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>",
            "<?xml version=\"1.0\"?><a encoding=\"latin1\"/>",
            "<rss/>",
            "<?xml encoding=\"",
            "",
        ] {
            assert!(matches!(strip_xml_encoding(unchanged), Cow::Borrowed(_)));
        }
    }
}
