//! The lenient XML tokenizer under the feed reader: start and end tags with
//! their byte offsets, nothing else. Text, CDATA and comments are skipped
//! here and read later from the raw slice between a field's tags, so the
//! reader never copies text it does not use.
//!
//! It reads what XML parsers reject the way HTML parsers and feedparser's
//! loose parser do: a `<` that does not start markup is text, an unescaped
//! `&` is text, a comment, CDATA section or tag that never ends is text, and
//! a stray quote inside a tag does not swallow the rest of the document.
//! Every search moves forward, and a search that failed is remembered, so
//! the time is linear in the input whatever it holds.

/// One tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag<'a> {
    /// `<name attrs>` or `<name attrs/>`; `start` is the offset of its
    /// `<`, `end` the offset after its `>`.
    Start {
        name: &'a str,
        attrs: &'a str,
        self_closing: bool,
        start: usize,
        end: usize,
    },
    /// `</name>`; `start` is the offset of its `<`.
    End { name: &'a str, start: usize },
}

/// Offsets from which a terminator is known not to occur: a failed search
/// is never repeated over the same bytes.
#[derive(Debug, Clone, Copy)]
struct Absent {
    gt: usize,
    comment_end: usize,
    cdata_end: usize,
    pi_end: usize,
    double_quote: usize,
    single_quote: usize,
}

/// Iterator over the tags of a document.
pub(super) struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
    absent: Absent,
    /// A `<!DOCTYPE …[…]>` internal subset is only looked for once.
    doctype_seen: bool,
}

impl<'a> Tokenizer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        let none = usize::MAX;
        Tokenizer {
            src,
            pos: 0,
            absent: Absent {
                gt: none,
                comment_end: none,
                cdata_end: none,
                pi_end: none,
                double_quote: none,
                single_quote: none,
            },
            doctype_seen: false,
        }
    }

    /// Offset of `needle` at or after `from`, remembering a miss in `absent`.
    fn search(&self, from: usize, needle: &str, absent: &mut usize) -> Option<usize> {
        if from >= *absent {
            return None;
        }
        let rest = self.src.get(from..)?;
        let first = *needle.as_bytes().first()?;
        // memchr on the first byte, then a comparison: the terminators are
        // short and their first byte is rare in the text they end.
        let mut at = 0;
        let found = loop {
            match rest
                .as_bytes()
                .get(at..)
                .and_then(|r| memchr::memchr(first, r))
            {
                Some(i) if rest.get(at + i..).is_some_and(|r| r.starts_with(needle)) => {
                    break Some(at + i);
                }
                Some(i) => at += i + 1,
                None => break None,
            }
        };
        match found {
            Some(i) => Some(from + i),
            None => {
                *absent = from;
                None
            }
        }
    }

    fn find_gt(&mut self, from: usize) -> Option<usize> {
        let mut absent = self.absent.gt;
        let found = self.search(from, ">", &mut absent);
        self.absent.gt = absent;
        found
    }

    /// Skips a construct that ends with `terminator`; false when it never ends.
    fn skip_to(
        &mut self,
        from: usize,
        terminator: &str,
        which: fn(&mut Absent) -> &mut usize,
    ) -> bool {
        let mut absent = *which(&mut self.absent);
        let found = self.search(from, terminator, &mut absent);
        *which(&mut self.absent) = absent;
        match found {
            Some(i) => {
                self.pos = i + terminator.len();
                true
            }
            None => false,
        }
    }

    /// `<!DOCTYPE …>` with an optional `[…]` internal subset.
    fn skip_doctype(&mut self, from: usize) -> bool {
        let bytes = self.src.as_bytes();
        let mut i = from;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'>' => {
                    self.pos = i + 1;
                    return true;
                }
                b'[' => {
                    // The subset ends at `]` followed by optional space and `>`.
                    let Some(close) = self.src.get(i..).and_then(|r| r.find(']')) else {
                        return false;
                    };
                    i += close + 1;
                    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'>') {
                        self.pos = i + 1;
                        return true;
                    }
                }
                _ => i += 1,
            }
        }
        false
    }

    /// The end of a start tag's attributes: the offset of its `>`.
    fn tag_end(&mut self, from: usize) -> Option<usize> {
        let bytes = self.src.as_bytes();
        let mut i = from;
        loop {
            // Attribute name or the end of the tag.
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i)? {
                b'>' => return Some(i),
                b'/' if bytes.get(i + 1) == Some(&b'>') => return Some(i + 1),
                _ => {}
            }
            while bytes
                .get(i)
                .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'=' && *b != b'>')
            {
                if bytes.get(i) == Some(&b'/') && bytes.get(i + 1) == Some(&b'>') {
                    return Some(i + 1);
                }
                i += 1;
            }
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            if bytes.get(i) != Some(&b'=') {
                continue;
            }
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i)? {
                q @ (b'"' | b'\'') => {
                    let (needle, mut absent) = if *q == b'"' {
                        ("\"", self.absent.double_quote)
                    } else {
                        ("'", self.absent.single_quote)
                    };
                    let close = self.search(i + 1, needle, &mut absent);
                    if *q == b'"' {
                        self.absent.double_quote = absent;
                    } else {
                        self.absent.single_quote = absent;
                    }
                    match close {
                        Some(c) => i = c + 1,
                        // An unclosed quote: the tag ends at the next `>`.
                        None => return self.find_gt(i),
                    }
                }
                _ => {
                    while bytes
                        .get(i)
                        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                    {
                        i += 1;
                    }
                }
            }
        }
    }
}

/// Whether `b` may start an element name.
fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

/// Whether `b` may continue an element name.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
}

/// The element name starting at `from`: its end offset.
fn name_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while bytes.get(i).copied().is_some_and(is_name_byte) {
        i += 1;
    }
    i
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        let src = self.src;
        let bytes = src.as_bytes();
        loop {
            let lt = self.pos + memchr::memchr(b'<', bytes.get(self.pos..)?)?;
            let rest = src.get(lt..)?;
            // Unless a construct below is recognised, the `<` is text.
            self.pos = lt + 1;
            if rest.starts_with("<!--") {
                self.skip_to(lt + 4, "-->", |a| &mut a.comment_end);
            } else if rest.starts_with("<![CDATA[") {
                self.skip_to(lt + 9, "]]>", |a| &mut a.cdata_end);
            } else if rest.starts_with("<!") {
                if !self.doctype_seen {
                    self.doctype_seen = true;
                    self.skip_doctype(lt + 2);
                } else if let Some(gt) = self.find_gt(lt + 2) {
                    self.pos = gt + 1;
                }
            } else if rest.starts_with("<?") {
                self.skip_to(lt + 2, "?>", |a| &mut a.pi_end);
            } else if rest.starts_with("</") {
                if !bytes.get(lt + 2).copied().is_some_and(is_name_start) {
                    continue;
                }
                let end = name_end(bytes, lt + 2);
                let gt = if bytes.get(end) == Some(&b'>') {
                    end
                } else if let Some(gt) = self.find_gt(end) {
                    gt
                } else {
                    continue;
                };
                self.pos = gt + 1;
                return Some(Tag::End {
                    name: src.get(lt + 2..end)?,
                    start: lt,
                });
            } else if bytes.get(lt + 1).copied().is_some_and(is_name_start) {
                let end = name_end(bytes, lt + 1);
                let Some(gt) = self.tag_end(end) else {
                    continue;
                };
                self.pos = gt + 1;
                let self_closing = gt > end && bytes.get(gt - 1) == Some(&b'/');
                let attrs_end = if self_closing { gt - 1 } else { gt };
                return Some(Tag::Start {
                    name: src.get(lt + 1..end)?,
                    attrs: src.get(end..attrs_end.max(end))?,
                    self_closing,
                    start: lt,
                    end: gt + 1,
                });
            }
        }
    }
}

/// The attributes of a start tag as (name, raw value) pairs; values keep
/// their entity references (see `super::text::xml_text`).
pub(super) fn attributes(attrs: &str) -> impl Iterator<Item = (&str, &str)> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'=')
        {
            i += 1;
        }
        let name = attrs.get(name_start..i)?;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            if name.is_empty() {
                i += 1;
                continue;
            }
            return Some((name, ""));
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                let len = bytes
                    .get(start..)?
                    .iter()
                    .position(|b| *b == q)
                    .unwrap_or(bytes.len() - start);
                i = start + len + 1;
                attrs.get(start..start + len)?
            }
            _ => {
                let start = i;
                while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                    i += 1;
                }
                attrs.get(start..i)?
            }
        };
        return Some((name, value));
    })
}

/// The value of attribute `name` (ASCII case-insensitive).
pub(super) fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    if attrs.is_empty() {
        return None;
    }
    attributes(attrs)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The local part of a qualified name and its prefix: `dc:creator` →
/// (`Some("dc")`, `creator`).
pub(super) fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(src: &str) -> Vec<String> {
        Tokenizer::new(src)
            .map(|t| match t {
                Tag::Start {
                    name,
                    attrs,
                    self_closing,
                    ..
                } => format!("<{name}{attrs}{}>", if self_closing { "/" } else { "" }),
                Tag::End { name, .. } => format!("</{name}>"),
            })
            .collect()
    }

    #[test]
    fn reads_tags_and_skips_the_rest() {
        assert_eq!(
            tags("\u{feff}<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x \"<y>\">]><rss a='>'><!-- <no> --><t><![CDATA[</t>]]></t><e/></rss>"),
            ["<rss a='>'>", "<t>", "</t>", "<e/>", "</rss>"]
        );
    }

    #[test]
    fn text_that_is_not_markup_stays_text() {
        assert_eq!(tags("<t>I <3 Berlin & a < b</t>"), ["<t>", "</t>"]);
        assert_eq!(tags("<t><!-- never closed</t>"), ["<t>", "</t>"]);
        assert_eq!(tags("<t><![CDATA[ never closed</t>"), ["<t>", "</t>"]);
        assert_eq!(tags("<t a=\"b>c</t><u>"), ["<t a=\"b>", "</t>", "<u>"]);
        assert_eq!(tags("<t>x</t"), ["<t>"]);
    }

    #[test]
    fn attributes_tolerate_bare_ampersands_and_missing_quotes() {
        let attrs = " url=\"https://x.example/a?b=1&c=2\" medium=image  width=640 checked";
        assert_eq!(
            attributes(attrs).collect::<Vec<_>>(),
            [
                ("url", "https://x.example/a?b=1&c=2"),
                ("medium", "image"),
                ("width", "640"),
                ("checked", "")
            ]
        );
        assert_eq!(attribute(" Version='2.0'", "version"), Some("2.0"));
        assert_eq!(attribute(" a=\"unclosed", "a"), Some("unclosed"));
    }
}
