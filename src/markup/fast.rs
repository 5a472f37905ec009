//! HTML to plain text without a DOM, for markup simple enough to follow:
//! paragraphs, inline formatting, lists, links, images, headings, line
//! breaks, comments and character references. It keeps a small stack of the
//! open elements it knows, mirroring the HTML tree builder's, so that word
//! breaks fall where the tree builder's DOM puts them; anything it cannot
//! follow (tables, scripts, misnested formatting, unknown elements or
//! entities, nesting deeper than 64) gives None and the caller reads the
//! DOM instead. One pass, linear in the input.

use super::entities;

/// The offset of the `;` that ends a reference starting at `s`.
pub(crate) fn semicolon(s: &str) -> Option<usize> {
    s.bytes().take(12).position(|b| b == b';')
}

/// The value of `#123` or `#x7B`.
pub(crate) fn numeric(name: &str) -> Option<u32> {
    let digits = name.strip_prefix('#')?;
    let (digits, radix) = match digits.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16),
        None => (digits, 10),
    };
    if digits.is_empty() || digits.len() > 8 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// Byte classes of [`Plain::push_text`]'s single scan.
const WORD: u8 = 0;
const SPACE: u8 = 1;
const LT: u8 = 2;
const AMP: u8 = 3;
const CONTROL: u8 = 4;
const NON_ASCII: u8 = 5;

static CLASS: [u8; 256] = {
    let mut table = [WORD; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' => SPACE,
            b'<' => LT,
            b'&' => AMP,
            0..=0x1f | 0x7f => CONTROL,
            0x80.. => NON_ASCII,
            _ => WORD,
        };
        b += 1;
    }
    table
};

fn class(b: u8) -> u8 {
    // A u8 always indexes a 256-entry table.
    CLASS[usize::from(b)]
}

/// Plain text under construction: white space collapsed, ends trimmed.
pub(super) struct Plain {
    pub(super) out: String,
    space: bool,
    /// Whether a `<` or `&` was written, i.e. the text may still be markup.
    pub(super) specials: bool,
    /// Whether control characters other than white space are kept (as the
    /// DOM keeps them) or dropped.
    controls: bool,
}

impl Plain {
    /// Appends text up to the first byte that is markup (`&`, and `<` when
    /// `markup`), returning its offset. Runs of visible characters with
    /// single spaces between them are already collapsed and copied whole.
    fn push_text(&mut self, s: &str, markup: bool) -> usize {
        let bytes = s.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            let start = i;
            loop {
                let rest = bytes.get(i..).unwrap_or_default();
                i += rest
                    .iter()
                    .position(|b| class(*b) != WORD)
                    .unwrap_or(rest.len());
                match bytes.get(i) {
                    Some(b' ')
                        if i > start && bytes.get(i + 1).is_some_and(|n| class(*n) == WORD) =>
                    {
                        i += 2
                    }
                    Some(b'<') if !markup => {
                        self.specials = true;
                        i += 1;
                    }
                    Some(0x80..) => match s.get(i..).and_then(|r| r.chars().next()) {
                        Some(c) if !c.is_whitespace() && !c.is_control() => i += c.len_utf8(),
                        _ => break,
                    },
                    _ => break,
                }
            }
            if i > start {
                self.word(s.get(start..i).unwrap_or_default());
                continue;
            }
            match class(b) {
                SPACE => {
                    self.space = true;
                    i += 1;
                }
                // NUL is dropped by the tree builder too.
                CONTROL if !self.controls || b == 0 => i += 1,
                LT | AMP => return i,
                _ => {
                    // White space or a control character beyond ASCII.
                    let Some(c) = s.get(i..).and_then(|r| r.chars().next()) else {
                        return bytes.len();
                    };
                    self.push(c);
                    i += c.len_utf8();
                }
            }
        }
        bytes.len()
    }

    /// Appends visible characters.
    fn word(&mut self, w: &str) {
        if self.space && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.space = false;
        self.out.push_str(w);
    }

    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.space = true;
        } else if self.controls || !c.is_control() {
            self.specials |= c == '<' || c == '&';
            let mut buf = [0u8; 4];
            self.word(c.encode_utf8(&mut buf));
        }
    }
}

/// The offset of the first byte of `s` that is in `set` (memchr's
/// vectorised searches for up to three bytes).
pub(crate) fn position(s: &str, set: &[u8]) -> Option<usize> {
    let bytes = s.as_bytes();
    match set {
        [a] => memchr::memchr(*a, bytes),
        [a, b] => memchr::memchr2(*a, *b, bytes),
        [a, b, c] => memchr::memchr3(*a, *b, *c, bytes),
        _ => bytes.iter().position(|x| set.contains(x)),
    }
}

/// What an element the fast path knows does to text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Inline element that the HTML parser may re-open (`b`, `a`, …).
    Formatting,
    /// Other inline element (`span`, `sub`, …).
    Inline,
    /// Element that separates words (`text::BLOCKS`) and closes a `<p>`.
    Block,
    /// Element without content; `true` when it separates words.
    Void(bool),
}

/// The known elements, by lower-case name (ASCII bytes). (A `match` on the
/// name: the compiler compares these short names as integers.)
fn kind(name: &[u8]) -> Option<(&'static str, Kind)> {
    Some(match name {
        b"a" => ("a", Kind::Formatting),
        b"abbr" => ("abbr", Kind::Inline),
        b"address" => ("address", Kind::Block),
        b"article" => ("article", Kind::Block),
        b"aside" => ("aside", Kind::Block),
        b"b" => ("b", Kind::Formatting),
        b"bdi" => ("bdi", Kind::Inline),
        b"bdo" => ("bdo", Kind::Inline),
        b"big" => ("big", Kind::Formatting),
        b"blockquote" => ("blockquote", Kind::Block),
        b"br" => ("br", Kind::Void(true)),
        b"cite" => ("cite", Kind::Inline),
        b"code" => ("code", Kind::Formatting),
        b"data" => ("data", Kind::Inline),
        b"dd" => ("dd", Kind::Block),
        b"del" => ("del", Kind::Inline),
        b"dfn" => ("dfn", Kind::Inline),
        b"div" => ("div", Kind::Block),
        b"dl" => ("dl", Kind::Block),
        b"dt" => ("dt", Kind::Block),
        b"em" => ("em", Kind::Formatting),
        b"figcaption" => ("figcaption", Kind::Block),
        b"figure" => ("figure", Kind::Block),
        b"font" => ("font", Kind::Formatting),
        b"footer" => ("footer", Kind::Block),
        b"h1" => ("h1", Kind::Block),
        b"h2" => ("h2", Kind::Block),
        b"h3" => ("h3", Kind::Block),
        b"h4" => ("h4", Kind::Block),
        b"h5" => ("h5", Kind::Block),
        b"h6" => ("h6", Kind::Block),
        b"header" => ("header", Kind::Block),
        b"hr" => ("hr", Kind::Void(true)),
        b"i" => ("i", Kind::Formatting),
        b"img" => ("img", Kind::Void(true)),
        b"ins" => ("ins", Kind::Inline),
        b"kbd" => ("kbd", Kind::Inline),
        b"li" => ("li", Kind::Block),
        b"main" => ("main", Kind::Block),
        b"mark" => ("mark", Kind::Inline),
        b"nav" => ("nav", Kind::Block),
        b"ol" => ("ol", Kind::Block),
        b"p" => ("p", Kind::Block),
        b"pre" => ("pre", Kind::Block),
        b"q" => ("q", Kind::Inline),
        b"s" => ("s", Kind::Formatting),
        b"samp" => ("samp", Kind::Inline),
        b"section" => ("section", Kind::Block),
        b"small" => ("small", Kind::Formatting),
        b"span" => ("span", Kind::Inline),
        b"strike" => ("strike", Kind::Formatting),
        b"strong" => ("strong", Kind::Formatting),
        b"sub" => ("sub", Kind::Inline),
        b"sup" => ("sup", Kind::Inline),
        b"time" => ("time", Kind::Inline),
        b"tt" => ("tt", Kind::Formatting),
        b"u" => ("u", Kind::Formatting),
        b"ul" => ("ul", Kind::Block),
        b"var" => ("var", Kind::Inline),
        b"wbr" => ("wbr", Kind::Void(false)),
        _ => return None,
    })
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// The open elements of the fast path, mirroring the HTML tree builder's
/// stack for the elements [`kind`] knows.
struct Open {
    stack: Vec<(&'static str, Kind)>,
}

impl Open {
    /// Pops the element at `at` and everything above it; true when a
    /// word-separating element closed.
    fn pop_to(&mut self, at: usize) -> bool {
        let block = self
            .stack
            .get(at..)
            .is_some_and(|s| s.iter().any(|(_, k)| *k == Kind::Block));
        self.stack.truncate(at);
        block
    }

    fn find(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.stack.iter().rposition(|(n, _)| pred(n))
    }

    /// The HTML tree builder's "close a p element", if one is open.
    fn close_p(&mut self) -> bool {
        match self.find(|n| n == "p") {
            Some(at) => self.pop_to(at),
            None => false,
        }
    }

    /// A start tag; None when the fast path cannot follow the tree builder.
    fn start(&mut self, name: &'static str, kind: Kind) -> Option<bool> {
        let mut separates = false;
        match kind {
            Kind::Void(space) => {
                if name == "hr" {
                    separates |= self.close_p();
                }
                separates |= space;
            }
            Kind::Block => {
                // `li`, `dd` and `dt` close an open one first, unless another
                // block (other than address, div and p) is in between.
                let same: &[&str] = match name {
                    "li" => &["li"],
                    "dd" | "dt" => &["dd", "dt"],
                    _ => &[],
                };
                if !same.is_empty() {
                    for at in (0..self.stack.len()).rev() {
                        let (n, k) = self.stack.get(at).copied()?;
                        if same.contains(&n) {
                            self.pop_to(at);
                            break;
                        }
                        if k == Kind::Block && !matches!(n, "address" | "div" | "p") {
                            break;
                        }
                    }
                }
                self.close_p();
                if is_heading(name) && self.stack.last().is_some_and(|(n, _)| is_heading(n)) {
                    self.stack.pop();
                }
                self.stack.push((name, kind));
                separates = true;
            }
            Kind::Formatting | Kind::Inline => {
                // A second `<a>` makes the tree builder restructure.
                if name == "a" && self.find(|n| n == "a").is_some() {
                    return None;
                }
                self.stack.push((name, kind));
            }
        }
        (self.stack.len() <= 64).then_some(separates)
    }

    /// An end tag; None when the fast path cannot follow the tree builder.
    fn end(&mut self, name: &'static str, kind: Kind) -> Option<bool> {
        Some(match kind {
            // `</br>` is read as `<br>`; other void end tags are ignored.
            Kind::Void(_) => name == "br",
            // `</p>` without an open `<p>` makes an empty paragraph.
            Kind::Block if name == "p" => {
                self.close_p();
                true
            }
            Kind::Block => {
                let at = if name == "li" {
                    // Only as far as the nearest list.
                    let at = self.find(|n| matches!(n, "li" | "ul" | "ol"));
                    at.filter(|at| self.stack.get(*at).is_some_and(|(n, _)| *n == "li"))
                } else if is_heading(name) {
                    self.find(is_heading)
                } else {
                    self.find(|n| n == name)
                };
                match at {
                    Some(at) => self.pop_to(at),
                    None => false,
                }
            }
            Kind::Formatting => match self.find(|n| n == name) {
                Some(at) if at + 1 == self.stack.len() => {
                    self.stack.pop();
                    false
                }
                // Misnested formatting: the tree builder's adoption agency.
                Some(_) => return None,
                None => false,
            },
            Kind::Inline => {
                for at in (0..self.stack.len()).rev() {
                    let (n, k) = self.stack.get(at).copied()?;
                    if n == name {
                        self.stack.truncate(at);
                        break;
                    }
                    if k == Kind::Block {
                        break;
                    }
                }
                false
            }
        })
    }
}

/// The lower-case name of a tag at the start of `s` (after `<` or `</`)
/// and its byte length; None for names the fast path does not know.
fn tag_name(s: &str) -> Option<(&'static str, Kind, usize)> {
    let len = s.bytes().take_while(u8::is_ascii_alphanumeric).count();
    // `<b-x>` or `<b:x>` is another element than `<b>`.
    let after = *s.as_bytes().get(len)?;
    if !(after.is_ascii_whitespace() || after == b'/' || after == b'>') {
        return None;
    }
    let mut lower = [0u8; 10];
    let raw = s.as_bytes().get(..len)?;
    let buf = lower.get_mut(..len)?;
    for (l, b) in buf.iter_mut().zip(raw) {
        *l = b.to_ascii_lowercase();
    }
    // The name is ASCII letters and digits: no UTF-8 check is needed.
    let (name, kind) = kind(buf)?;
    Some((name, kind, len))
}

/// The length of a start tag's attributes up to and including `>`, read
/// as the HTML tokenizer reads them; None for anything unusual.
fn attributes_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        while bytes.get(i)?.is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => return Some(i + 1),
            b'/' if bytes.get(i + 1) == Some(&b'>') => return Some(i + 2),
            b'"' | b'\'' | b'<' | b'=' | b'/' => return None,
            _ => {}
        }
        while !matches!(bytes.get(i)?, b'=' | b'>' | b'/' | b'"' | b'\'' | b'<')
            && !bytes.get(i)?.is_ascii_whitespace()
        {
            i += 1;
        }
        if matches!(bytes.get(i)?, b'"' | b'\'' | b'<') {
            return None;
        }
        while bytes.get(i)?.is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i)? != &b'=' {
            continue;
        }
        i += 1;
        while bytes.get(i)?.is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i)? {
            q @ (b'"' | b'\'') => {
                let close = bytes.get(i + 1..)?.iter().position(|b| b == q)?;
                i += close + 2;
                // A quoted value must be followed by space, `/` or `>`.
                if !matches!(bytes.get(i)?, b'>' | b'/') && !bytes.get(i)?.is_ascii_whitespace() {
                    return None;
                }
            }
            b'>' => return None,
            _ => {
                while !bytes.get(i)?.is_ascii_whitespace() && bytes.get(i)? != &b'>' {
                    if matches!(bytes.get(i)?, b'"' | b'\'' | b'<' | b'=' | b'`') {
                        return None;
                    }
                    i += 1;
                }
            }
        }
    }
}

/// A character reference at the start of `s` as the HTML tokenizer reads
/// it, and its length; None when only the full tokenizer can tell.
fn html_reference(s: &str) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    match bytes.get(1) {
        Some(b'#') => {
            let end = semicolon(s)?;
            let n = numeric(s.get(1..end)?)?;
            // Zero, C1, surrogates and out-of-range values are remapped.
            if n == 0 || (0x80..=0x9f).contains(&n) {
                return None;
            }
            Some((char::from_u32(n)?, end + 1))
        }
        Some(b) if b.is_ascii_alphanumeric() => {
            let len = bytes
                .iter()
                .skip(1)
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            if bytes.get(1 + len) != Some(&b';') {
                return None;
            }
            Some((entities::named(s.get(1..1 + len)?)?, len + 2))
        }
        // Not a reference: the `&` is text.
        _ => Some(('&', 1)),
    }
}

/// The text the DOM gives (or, with `markup` false, entity decoding alone)
/// for fragments simple enough to read without a DOM; None otherwise.
/// With `controls` false, control characters other than white space are
/// dropped.
pub(super) fn fast(html: &str, markup: bool, controls: bool) -> Option<Plain> {
    let mut plain = Plain {
        out: String::with_capacity(html.len()),
        space: false,
        specials: false,
        controls,
    };
    let mut open = Open { stack: Vec::new() };
    // The tokenizer drops a leading byte order mark.
    let mut rest = html.strip_prefix('\u{feff}').unwrap_or(html);
    loop {
        rest = rest.get(plain.push_text(rest, markup)..)?;
        if rest.is_empty() {
            return Some(plain);
        }
        if rest.starts_with('&') {
            let (c, len) = html_reference(rest)?;
            plain.push(c);
            rest = rest.get(len..)?;
            continue;
        }
        let after = rest.get(1..)?;
        let next = after.bytes().next();
        let (separates, len) = match next {
            Some(b'/') => {
                let name_at = after.get(1..)?;
                let (name, kind, len) = tag_name(name_at)?;
                let tail = name_at.get(len..)?;
                let close = tail.find('>')?;
                if !tail.get(..close)?.trim_ascii().is_empty() {
                    return None;
                }
                (open.end(name, kind)?, 2 + len + close + 1)
            }
            Some(b'!') => {
                let body = after.strip_prefix("!--")?;
                if body.starts_with('>') || body.starts_with("->") {
                    return None;
                }
                let end = body.find("-->")?;
                if body.get(..end)?.contains("--!") {
                    return None;
                }
                (false, 4 + end + 3)
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let (name, kind, len) = tag_name(after)?;
                let attrs = attributes_len(after.get(len..)?)?;
                (open.start(name, kind)?, 1 + len + attrs)
            }
            Some(b'?') => return None,
            // `<` before anything else is text.
            _ => (false, 0),
        };
        if len == 0 {
            plain.push('<');
            rest = after;
            continue;
        }
        if separates {
            plain.space = true;
        }
        rest = rest.get(len..)?;
    }
}
