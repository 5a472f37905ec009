//! Text as the matcher sees it: HTML to plain text (read by `markup`),
//! Unicode normalisation (NFKC + full case folding), tokens (maximal runs of
//! letters and digits), and the 64-bit SimHash used for the same-host
//! near-duplicate rule.

use unicode_normalization::UnicodeNormalization;

pub use crate::markup::{collapse_ws, collect_text, html_to_text};

/// NFKC, then full case folding (`ß` → `ss`), then NFKC again so folded
/// output is composed. One pass over the text: ASCII letters are lower-cased,
/// and any other character that is its own NFKC form and a starter (as are
/// letters with accents, typographic quotes and dashes) is folded on its own
/// when what it folds to is such a character too; a text with any other
/// character (a combining mark, a compatibility form) is normalised in full.
/// The result is the same either way: a string of such characters is
/// already NFKC, before folding and after.
pub fn normalize(s: &str) -> String {
    normalize_parts(&[s])
}

/// `normalize` of the parts joined, without joining them first.
pub fn normalize_parts(parts: &[&str]) -> String {
    if parts.iter().all(|p| p.is_ascii()) {
        // NFKC leaves ASCII alone; folding ASCII is lower-casing.
        let mut out = parts.concat();
        out.make_ascii_lowercase();
        return out;
    }
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 8);
    for part in parts {
        if !fold_stable_into(part, &mut out) {
            return normalize_in_full(&parts.concat());
        }
    }
    out
}

/// Appends the case folding of `s` to `out` when every character of `s`
/// and of its folding is ASCII or a stable starter ([`stable`]); false,
/// with `out` in any state, when one is not.
fn fold_stable_into(s: &str, out: &mut String) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Runs of ASCII are lower-cased a byte at a time.
        let run = bytes[i..]
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(bytes.len() - i);
        let start = out.len();
        out.push_str(s.get(i..i + run).unwrap_or_default());
        if let Some(pushed) = out.get_mut(start..) {
            pushed.make_ascii_lowercase();
        }
        i += run;
        let Some(c) = s.get(i..).and_then(|r| r.chars().next()) else {
            break;
        };
        i += c.len_utf8();
        match latin_fold(c) {
            Some(f) => out.push(f),
            None => {
                use caseless::Caseless;
                if !stable(c) {
                    return false;
                }
                let start = out.len();
                out.extend(std::iter::once(c).default_case_fold());
                if !out[start..].chars().all(|f| f.is_ascii() || stable(f)) {
                    return false;
                }
            }
        }
    }
    true
}

/// A character that is its own NFKC form and a starter: a string of such
/// characters (and ASCII) is NFKC, and none of them combines with its
/// neighbours.
fn stable(c: char) -> bool {
    use unicode_normalization::{char::canonical_combining_class, is_nfkc_quick, IsNormalized};
    canonical_combining_class(c) == 0 && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// First character not in the Latin part of [`LATIN_FOLD`].
const LATIN_END: u32 = 0x250;

/// The General Punctuation block (typographic quotes, dashes, spaces),
/// the other part of [`LATIN_FOLD`].
const PUNCTUATION: std::ops::Range<u32> = 0x2000..0x2070;

/// For U+0080 … U+024F (Latin-1 and the Latin extensions, where most
/// non-ASCII letters of European text are) and then U+2000 … U+206F (the
/// quotes and dashes of typeset text): the single stable character a
/// stable character folds to, or 0 where [`fold_stable_into`] has to look.
static LATIN_FOLD: std::sync::LazyLock<Vec<u32>> = std::sync::LazyLock::new(|| {
    use caseless::Caseless;
    (0x80..LATIN_END)
        .chain(PUNCTUATION)
        .map(|n| {
            let Some(c) = char::from_u32(n) else {
                return 0;
            };
            let mut folded = std::iter::once(c).default_case_fold();
            match (folded.next(), folded.next()) {
                (Some(f), None) if stable(c) && stable(f) => u32::from(f),
                _ => 0,
            }
        })
        .collect()
});

fn latin_fold(c: char) -> Option<char> {
    let n = u32::from(c);
    let at = if (0x80..LATIN_END).contains(&n) {
        n - 0x80
    } else if PUNCTUATION.contains(&n) {
        n - PUNCTUATION.start + (LATIN_END - 0x80)
    } else {
        return None;
    };
    let f = *LATIN_FOLD.get(usize::try_from(at).ok()?)?;
    if f == 0 {
        None
    } else {
        char::from_u32(f)
    }
}

/// NFKC, case folding and NFKC again, each in full where a quick check
/// does not say the text is already normalised.
pub(crate) fn normalize_in_full(s: &str) -> String {
    use caseless::Caseless;
    use unicode_normalization::{is_nfkc_quick, IsNormalized};
    let nfkc: std::borrow::Cow<'_, str> = match is_nfkc_quick(s.chars()) {
        IsNormalized::Yes => s.into(),
        _ => s.nfkc().collect::<String>().into(),
    };
    let mut folded = String::with_capacity(nfkc.len() + 8);
    for c in nfkc.chars() {
        if c.is_ascii() {
            folded.push(c.to_ascii_lowercase());
        } else {
            // Full case folding maps each character on its own.
            folded.extend(std::iter::once(c).default_case_fold());
        }
    }
    match is_nfkc_quick(folded.chars()) {
        IsNormalized::Yes => folded,
        _ => folded.nfkc().collect(),
    }
}

/// `char::is_alphanumeric`, read from a bit table for the characters of
/// European text beyond ASCII: U+0080 … U+027F (Latin-1 and the Latin
/// extensions) and U+2000 … U+207F (typographic quotes, dashes and
/// spaces), where the standard library's lookup costs hundreds of
/// instructions a character.
fn is_token_char(c: char) -> bool {
    let n = u32::from(c);
    let at = if n < TOKEN_LOW_END {
        n
    } else if (TOKEN_PUNCT_START..TOKEN_PUNCT_END).contains(&n) {
        n - TOKEN_PUNCT_START + TOKEN_LOW_END
    } else {
        return c.is_alphanumeric();
    };
    let Ok(at) = usize::try_from(at) else {
        return c.is_alphanumeric();
    };
    TOKEN_BITS
        .get(at / 64)
        .is_some_and(|word| word >> (at % 64) & 1 == 1)
}

const TOKEN_LOW_END: u32 = 0x280;
const TOKEN_PUNCT_START: u32 = 0x2000;
const TOKEN_PUNCT_END: u32 = 0x2080;

/// Bit k: `char::is_alphanumeric` of the k-th character of the ranges of
/// [`is_token_char`], computed from it once.
static TOKEN_BITS: std::sync::LazyLock<Vec<u64>> = std::sync::LazyLock::new(|| {
    let chars = (0..TOKEN_LOW_END).chain(TOKEN_PUNCT_START..TOKEN_PUNCT_END);
    let mut bits =
        vec![0u64; (TOKEN_LOW_END + TOKEN_PUNCT_END - TOKEN_PUNCT_START).div_ceil(64) as usize];
    for (k, n) in chars.enumerate() {
        if char::from_u32(n).is_some_and(char::is_alphanumeric) {
            if let Some(word) = bits.get_mut(k / 64) {
                *word |= 1 << (k % 64);
            }
        }
    }
    bits
});

/// Splits already normalised text into tokens.
pub fn split_tokens(normalized: &str) -> Vec<String> {
    token_slices(normalized).map(str::to_owned).collect()
}

/// The tokens of already normalised text, borrowed from it: the maximal
/// runs of characters for which `char::is_alphanumeric` holds.
pub fn token_slices(normalized: &str) -> Tokens<'_> {
    Tokens { rest: normalized }
}

/// Iterator of [`token_slices`]. Bytes are classified by a table (ASCII
/// letters and digits, other ASCII, the lead and continuation bytes of
/// other characters), and runs of one ASCII class are skipped with one
/// slice search; only characters beyond ASCII are decoded (`str::chars`)
/// and asked `char::is_alphanumeric`, which for ASCII is
/// `u8::is_ascii_alphanumeric`. It gives what splitting on
/// `!char::is_alphanumeric` and dropping empty pieces gives
/// (`tests::tokens_equal_the_split_on_characters` and a property test).
pub struct Tokens<'a> {
    rest: &'a str,
}

/// Byte classes of [`Tokens`].
const SEPARATOR: u8 = 0;
const ALNUM: u8 = 1;
const NOT_ASCII: u8 = 2;

static TOKEN_CLASS: [u8; 256] = {
    let mut table = [SEPARATOR; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if byte >= 0x80 {
            NOT_ASCII
        } else if byte.is_ascii_alphanumeric() {
            ALNUM
        } else {
            SEPARATOR
        };
        b += 1;
    }
    table
};

impl<'a> Tokens<'a> {
    /// The offset of the first character at or after `i` that is (`token`
    /// true) or is not a token character; the end of the text if none.
    #[inline(always)]
    fn find_token_edge(&self, mut i: usize, token: bool) -> usize {
        let s = self.rest;
        let bytes = s.as_bytes();
        let run = if token { SEPARATOR } else { ALNUM };
        loop {
            let rest = bytes.get(i..).unwrap_or_default();
            i += rest
                .iter()
                .position(|b| TOKEN_CLASS[usize::from(*b)] != run)
                .unwrap_or(rest.len());
            match bytes.get(i) {
                Some(&b) if TOKEN_CLASS[usize::from(b)] == NOT_ASCII => {
                    match s.get(i..).and_then(|r| r.chars().next()) {
                        Some(c) if is_token_char(c) != token => i += c.len_utf8(),
                        _ => return i,
                    }
                }
                Some(_) => return i,
                None => return bytes.len(),
            }
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest;
        let start = self.find_token_edge(0, true);
        let end = self.find_token_edge(start, false);
        self.rest = s.get(end..).unwrap_or_default();
        s.get(start..end).filter(|t| !t.is_empty())
    }
}

/// Normalises plain text and splits it into tokens.
pub fn tokens(s: &str) -> Vec<String> {
    split_tokens(&normalize(s))
}

/// 64-bit SimHash over tokens, each token weighted by its count, hashed with
/// XXH3-64 (seed 0). Written by hand so that stored fingerprints never change
/// with a dependency update.
///
/// A bit of the result is set when more than half of the tokens' hashes
/// have it set (each hash adds one to the bits it has and takes one from
/// the others; the bit is set when the sum is positive). The hashes' set
/// bits are counted eight at a time: each byte of a hash is spread by a
/// table into eight one-byte counters of a `u64`, and the counters are
/// added into wider ones before they can overflow. The result is the same
/// as adding ±1 bit by bit (`tests::simhash_equals_the_bit_by_bit_sum`).
pub fn simhash<S: AsRef<str>>(tokens: &[S]) -> u64 {
    // ones[bit]: how many hashes have the bit set.
    let mut ones = [0u32; 64];
    let mut lanes = [0u64; 8];
    let mut pending = 0;
    for t in tokens {
        let h = xxhash_rust::xxh3::xxh3_64(t.as_ref().as_bytes());
        for (j, lane) in lanes.iter_mut().enumerate() {
            *lane += SPREAD[((h >> (8 * j)) & 0xff) as usize];
        }
        pending += 1;
        // A one-byte counter holds up to 255.
        if pending == 255 {
            drain(&mut lanes, &mut ones);
            pending = 0;
        }
    }
    drain(&mut lanes, &mut ones);
    let n = tokens.len() as u64;
    let mut out = 0u64;
    for (bit, &c) in ones.iter().enumerate() {
        // Sum of ±1 = set - unset = 2 * set - n; positive sets the bit.
        if 2 * u64::from(c) > n {
            out |= 1 << bit;
        }
    }
    out
}

/// A byte's bits spread into the bytes of a `u64`: bit k of the byte is
/// byte k (0 or 1) of the result.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut k = 0;
        while k < 8 {
            if b >> k & 1 == 1 {
                table[b] |= 1 << (8 * k);
            }
            k += 1;
        }
        b += 1;
    }
    table
};

/// Adds the one-byte counters of `lanes` into `ones` and clears them:
/// byte k of `lanes[j]` counts bit 8 * j + k.
fn drain(lanes: &mut [u64; 8], ones: &mut [u32; 64]) {
    for (j, lane) in lanes.iter_mut().enumerate() {
        for k in 0..8 {
            ones[8 * j + k] += ((*lane >> (8 * k)) & 0xff) as u32;
        }
        *lane = 0;
    }
}

/// Texts with fewer tokens than this get an exact fingerprint instead of a
/// SimHash: on a handful of words one changed word ("Tag 1000" / "Tag 1001")
/// can leave a SimHash within a few bits, which would merge different items.
pub const MIN_SIMHASH_TOKENS: usize = 24;

/// The fingerprint stored for the same-host near-duplicate rule: a SimHash
/// for texts of at least `MIN_SIMHASH_TOKENS` tokens, else a hash of the
/// exact token sequence, so short texts are copies only when identical.
pub fn fingerprint<S: AsRef<str>>(tokens: &[S]) -> u64 {
    if tokens.len() >= MIN_SIMHASH_TOKENS {
        return simhash(tokens);
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for t in tokens {
        h.update(t.as_ref().as_bytes());
        h.update(b" ");
    }
    h.digest()
}

/// Number of differing bits.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// At most `max_chars` characters of `s`, cut at a word boundary with `…`.
pub fn excerpt(s: &str, max_chars: usize) -> String {
    // Where the first character past the limit begins, if there is one:
    // characters begin at the bytes that are not UTF-8 continuation bytes
    // (0b10xx_xxxx), so they are counted without decoding them.
    let Some((end, _)) = s
        .bytes()
        .enumerate()
        .filter(|(_, b)| (*b as i8) >= -0x40)
        .nth(max_chars)
    else {
        return s.to_owned();
    };
    excerpt_to(s, end, max_chars)
}

/// The excerpt of `s` whose first character past the limit begins at `end`.
fn excerpt_to(s: &str, end: usize, max_chars: usize) -> String {
    let cut = s.get(..end).unwrap_or(s);
    let cut = match cut.rfind(' ') {
        Some(i) if i > max_chars / 2 => &cut[..i],
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

/// Longest part of a source's text quoted in a log line, in characters.
const QUOTE_CHARS: usize = 80;

/// Text from a source for a log line: at most 80 characters, in double
/// quotes, control characters and quotes escaped (`"vor 3\tTagen"`), `…`
/// after a cut.
pub fn quote(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{head:?}{cut}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(
            html_to_text("#<span>Russland</span> &amp; Co"),
            "#Russland & Co"
        );
        assert_eq!(html_to_text("<p>eins</p><p>zwei</p>"), "eins zwei");
        assert_eq!(html_to_text("a<script>var x=1;</script>b"), "ab");
        assert_eq!(
            html_to_text("Stra&szlig;e &#8211; &quot;x&quot;"),
            "Straße – \"x\""
        );
        assert_eq!(html_to_text("  plain\n text "), "plain text");
    }

    #[test]
    fn folds_case_and_compatibility_forms() {
        assert_eq!(normalize("Fußball"), "fussball");
        assert_eq!(normalize("FUSSBALL"), "fussball");
        assert_eq!(normalize("ﬁnal"), "final");
        assert_eq!(normalize("Ｒｕｓｓｌａｎｄ"), "russland");
    }

    #[test]
    fn one_pass_and_full_normalisation_agree_on_every_character() {
        // Every character of the Basic Multilingual Plane and beyond the
        // Latin table, alone, after a letter, and before a combining mark.
        for n in 0x80..0x3_0000 {
            let Some(c) = char::from_u32(n) else { continue };
            for s in [format!("{c}"), format!("A{c}"), format!("{c}\u{301}x")] {
                assert_eq!(normalize(&s), normalize_in_full(&s), "{s:?} (U+{n:04X})");
            }
        }
        assert_eq!(
            normalize("Straße „Köln“ – Éclair …"),
            "strasse „köln“ – éclair ..."
        );
        assert_eq!(
            normalize_parts(&["ÄRGER", "\n", "ﬁnal"]),
            normalize("ÄRGER\nﬁnal")
        );
    }

    /// The tokenizer as first written: `str::split` on a character predicate.
    fn tokens_by_split(s: &str) -> Vec<&str> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .collect()
    }

    #[test]
    fn tokens_equal_the_split_on_characters() {
        let cases = [
            "",
            " ",
            "a",
            "  a  ",
            "nordkorea, russland: 2026!",
            "straße „köln“ – éclair … ½ ² ٣ x²y",
            "\u{a0}a\u{a0}b\u{2003}c\u{feff}d\u{301}e",
            "日本語のテキスト、中文。한국어",
            "ω-ψ ǅx ǈ ﬁ ⅷ ①",
            "a\u{0}b\u{7f}c\u{85}d\u{10ffff}e😀f",
            "kim jong-un's 3rd (visit) #x_y",
        ];
        for s in cases {
            assert_eq!(
                token_slices(s).collect::<Vec<_>>(),
                tokens_by_split(s),
                "{s:?}"
            );
        }
        // Every character, alone and between letters.
        for n in 0..0x3_0000 {
            let Some(c) = char::from_u32(n) else { continue };
            for s in [format!("{c}"), format!("a{c}b"), format!("{c}{c} {c}")] {
                assert_eq!(
                    token_slices(&s).collect::<Vec<_>>(),
                    tokens_by_split(&s),
                    "U+{n:04X}"
                );
            }
        }
    }

    #[test]
    fn tokens_are_letter_and_digit_runs() {
        assert_eq!(
            tokens("#<span>Russland</span>"),
            ["span", "russland", "span"]
        );
        assert_eq!(
            tokens(&html_to_text("#<span>Russland</span>")),
            ["russland"]
        );
        assert_eq!(tokens("Fußball-WM 2026"), ["fussball", "wm", "2026"]);
        assert_eq!(tokens("Kim Jong-un"), ["kim", "jong", "un"]);
        assert_eq!(
            tokens("Überraschung in Köln"),
            ["überraschung", "in", "köln"]
        );
    }

    #[test]
    fn simhash_is_stable_and_near_for_near_texts() {
        let a = tokens("Nordkorea schickt weitere Soldaten nach Russland, berichtet der Geheimdienst am Montag in Seoul");
        let b = tokens("Nordkorea schickt weitere Soldaten nach Russland, berichtet der Geheimdienst am Montag in Seoul.");
        let c = tokens("Bundesliga: Bayern gewinnt das Spitzenspiel gegen Dortmund deutlich mit vier zu null Toren");
        assert_eq!(simhash(&a), simhash(&b));
        assert!(hamming(simhash(&a), simhash(&c)) > 3);
        // Pinned: fingerprints are stored on disk and must not drift.
        assert_eq!(simhash(&["a", "b"]), simhash(&["b", "a"]));
    }

    /// The SimHash as first written: ±1 per bit and token.
    fn simhash_bit_by_bit<S: AsRef<str>>(tokens: &[S]) -> u64 {
        let mut weights = [0i32; 64];
        for t in tokens {
            let h = xxhash_rust::xxh3::xxh3_64(t.as_ref().as_bytes());
            for (bit, w) in weights.iter_mut().enumerate() {
                if h >> bit & 1 == 1 {
                    *w += 1;
                } else {
                    *w -= 1;
                }
            }
        }
        weights.iter().enumerate().fold(
            0u64,
            |acc, (bit, &w)| if w > 0 { acc | 1 << bit } else { acc },
        )
    }

    #[test]
    fn simhash_equals_the_bit_by_bit_sum() {
        // Every length up to past two overflows of the one-byte counters,
        // with repeated tokens (ties, sums of zero) and distinct ones.
        let words: Vec<String> = (0..700).map(|i| format!("w{}", i % 37 + i / 300)).collect();
        for n in (0..words.len()).step_by(7).chain([255, 256, 510, 511, 512]) {
            let t = &words[..n];
            assert_eq!(simhash(t), simhash_bit_by_bit(t), "{n} tokens");
        }
        let same = vec!["kursk"; 300];
        assert_eq!(simhash(&same), simhash_bit_by_bit(&same));
        assert_eq!(simhash(&[] as &[&str]), 0);
    }

    #[test]
    fn short_texts_are_copies_only_when_identical() {
        let a = tokens("Nordkorea und Russland: Meldung 1000");
        let b = tokens("Nordkorea und Russland: Meldung 1001");
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(
            fingerprint(&a),
            fingerprint(&tokens("NORDKOREA und Russland – Meldung 1000"))
        );
        // A long text with an agency tag appended is a near copy; the same
        // words with other punctuation and case are the same fingerprint.
        let long = "Seit dem Sommer hat sich die Zusammenarbeit zwischen Nordkorea und Russland sichtbar vertieft und Beobachter sprechen von einer Allianz die weit über symbolische Gesten hinausgeht und die Sicherheitslage in Ostasien verändert";
        let x = tokens(long);
        assert!(x.len() >= MIN_SIMHASH_TOKENS);
        assert!(
            hamming(
                fingerprint(&x),
                fingerprint(&tokens(&format!("{long} (dpa)")))
            ) <= 3
        );
        assert_eq!(
            fingerprint(&x),
            fingerprint(&tokens(&long.to_uppercase().replace(' ', " – ")))
        );
    }

    #[test]
    fn excerpt_cuts_at_words() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("one two three four", 10), "one two…");
    }

    /// `excerpt` as first written: the cut found by decoding characters.
    fn excerpt_by_chars(s: &str, max_chars: usize) -> String {
        let Some((end, _)) = s.char_indices().nth(max_chars) else {
            return s.to_owned();
        };
        excerpt_to(s, end, max_chars)
    }

    #[test]
    fn excerpt_counts_characters_not_bytes() {
        let texts = [
            "",
            "ä",
            "Straße „Köln“ – Éclair … über Ärger 😀 日本語 the end",
            "ééééé ééééé ééééé",
            "a😀b😀c😀d😀e😀f😀 g😀h😀",
            "x\u{301}y\u{301}z\u{301} w\u{301}v\u{301}",
        ];
        for t in texts {
            for max in 0..t.chars().count() + 2 {
                assert_eq!(excerpt(t, max), excerpt_by_chars(t, max), "{t:?} {max}");
            }
        }
    }
}
