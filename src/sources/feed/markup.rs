//! From the raw bytes between a field's tags to plain text, in two layers:
//! the XML layer ([`xml_text`]: CDATA, the five XML entities and numeric
//! references; undeclared names such as `&nbsp;` and bare `&` stay for the
//! HTML layer, as feedparser's loose parser reads them), then the HTML layer
//! ([`html_plain`], [`literal_plain`]): the text `text::html_to_text`
//! gives (one reader, `crate::markup`, without a DOM when the markup is
//! simple), but with control characters other than white space dropped
//! (feedparser strips them too).

use crate::markup::{numeric, plain_text, position, semicolon};
use std::borrow::Cow;

/// How a field's raw content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Escaped or CDATA-wrapped HTML (RSS fields, Atom `type="html"`); tags
    /// written unescaped inside the field are HTML too.
    Html,
    /// Inline XHTML markup (Atom `type="xhtml"`).
    Xhtml,
    /// Character data; child tags are dropped.
    Text,
}

/// The content of a field as its markup language sees it: HTML source for
/// [`Mode::Html`] and [`Mode::Xhtml`], text for [`Mode::Text`]. Borrows when
/// nothing needs decoding (plain text, or one CDATA section).
pub(super) fn xml_text(raw: &str, mode: Mode) -> Cow<'_, str> {
    if mode == Mode::Xhtml {
        if !raw.contains("<![CDATA[") && !raw.contains("<?") {
            return Cow::Borrowed(raw);
        }
    } else {
        if position(raw, b"<&").is_none() {
            return Cow::Borrowed(raw);
        }
        if let Some(inner) = sole_cdata(raw) {
            return Cow::Borrowed(inner);
        }
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    // Set once no `>` follows, so stray `<`s cost one search in total.
    let mut no_gt = false;
    let specials: &[u8] = if mode == Mode::Xhtml { b"<" } else { b"<&" };
    while let Some(i) = position(rest, specials) {
        out.push_str(rest.get(..i).unwrap_or_default());
        rest = rest.get(i..).unwrap_or_default();
        if rest.starts_with('&') {
            match xml_reference(rest) {
                Some((c, len)) => {
                    out.push(c);
                    rest = rest.get(len..).unwrap_or_default();
                }
                None => {
                    out.push('&');
                    rest = rest.get(1..).unwrap_or_default();
                }
            }
        } else if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let (inner, after) = cdata.split_once("]]>").unwrap_or((cdata, ""));
            if mode == Mode::Xhtml {
                escape_into(&mut out, inner);
            } else {
                out.push_str(inner);
            }
            rest = after;
        } else if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.split_once("-->").map_or("", |(_, after)| after);
        } else if let Some(pi) = rest.strip_prefix("<?") {
            rest = pi.split_once("?>").map_or("", |(_, after)| after);
        } else {
            let tag_like = rest
                .as_bytes()
                .get(1)
                .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!'));
            let gt = if tag_like && !no_gt {
                rest.find('>')
            } else {
                None
            };
            no_gt |= tag_like && gt.is_none();
            match gt {
                Some(gt) => {
                    if mode != Mode::Text {
                        out.push_str(rest.get(..=gt).unwrap_or_default());
                    }
                    rest = rest.get(gt + 1..).unwrap_or_default();
                }
                None => {
                    out.push('<');
                    rest = rest.get(1..).unwrap_or_default();
                }
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The inside of a field that is exactly one CDATA section (and space).
fn sole_cdata(raw: &str) -> Option<&str> {
    let inner = raw.trim().strip_prefix("<![CDATA[")?.strip_suffix("]]>")?;
    (!inner.contains("]]>")).then_some(inner)
}

/// Text written into HTML source as text.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
}

/// An XML entity or character reference at the start of `s` and its
/// length. References the HTML layer reads differently are left to it:
/// `&#150;` is `–` there (windows-1252), as feedparser reads it.
fn xml_reference(s: &str) -> Option<(char, usize)> {
    let end = semicolon(s)?;
    let name = s.get(1..end)?;
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let n = numeric(name)?;
            if (0x80..=0x9f).contains(&n) {
                return None;
            }
            char::from_u32(n).filter(|c| *c != '\0')?
        }
    };
    Some((c, end + 1))
}

/// Plain text of an HTML fragment: `text::html_to_text` without control
/// characters.
pub(super) fn html_plain(html: &str) -> String {
    plain_text(html, true, false).text
}

/// Plain text in which only character references are markup (Atom
/// `type="text"`, JSON Feed text): `<b>` stays as written.
pub(super) fn literal_plain(text: &str) -> String {
    plain_text(text, false, false).text
}

/// HTML as plain text; HTML escaped twice (`&amp;lt;b&amp;gt;`) is read
/// twice, as publishers that double-escape mean it.
pub(super) fn html_twice(html: &str) -> String {
    let read = plain_text(html, true, false);
    if read.specials && looks_like_markup(&read.text) {
        html_plain(&read.text)
    } else {
        read.text
    }
}

/// Whether `s` still holds an HTML tag (`<b>`, `</p>`) or an entity (`&amp;`).
pub(super) fn looks_like_markup(s: &str) -> bool {
    let bytes = s.as_bytes();
    if position(s, b"<&").is_none() {
        return false;
    }
    // Looked up once, so that many `<` cost no more than one.
    let last_gt = bytes.iter().rposition(|b| *b == b'>');
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'<' => {
            let next = bytes.get(i + 1).copied().unwrap_or(0);
            (next.is_ascii_alphabetic() || next == b'/') && last_gt.is_some_and(|gt| gt > i)
        }
        b'&' => {
            let rest = bytes.get(i + 1..).unwrap_or_default();
            let name_len = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'#')
                .count();
            name_len > 0 && rest.get(name_len) == Some(&b';')
        }
        _ => false,
    })
}
