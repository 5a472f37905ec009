//! Named character references the fast text path decodes itself: the 252
//! of HTML 4, `&apos;` and the upper-case `&AMP;` `&LT;` `&GT;` `&QUOT;`,
//! with their HTML5 values (`&lang;` is U+27E8 there). Any other
//! name sends the text to the DOM, whose HTML5 tokenizer knows all 2,231
//! names, so the result is the same either way (a test checks every entry
//! below against it).

/// `&nbsp;` … `&yuml;` are U+00A0 … U+00FF in this order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// The other names, sorted for binary search.
const OTHERS: [(&str, char); 161] = [
    ("AMP", '&'),
    ("Alpha", 'Α'),
    ("Beta", 'Β'),
    ("Chi", 'Χ'),
    ("Dagger", '‡'),
    ("Delta", 'Δ'),
    ("Epsilon", 'Ε'),
    ("Eta", 'Η'),
    ("GT", '>'),
    ("Gamma", 'Γ'),
    ("Iota", 'Ι'),
    ("Kappa", 'Κ'),
    ("LT", '<'),
    ("Lambda", 'Λ'),
    ("Mu", 'Μ'),
    ("Nu", 'Ν'),
    ("OElig", 'Œ'),
    ("Omega", 'Ω'),
    ("Omicron", 'Ο'),
    ("Phi", 'Φ'),
    ("Pi", 'Π'),
    ("Prime", '″'),
    ("Psi", 'Ψ'),
    ("QUOT", '"'),
    ("Rho", 'Ρ'),
    ("Scaron", 'Š'),
    ("Sigma", 'Σ'),
    ("Tau", 'Τ'),
    ("Theta", 'Θ'),
    ("Upsilon", 'Υ'),
    ("Xi", 'Ξ'),
    ("Yuml", 'Ÿ'),
    ("Zeta", 'Ζ'),
    ("alefsym", 'ℵ'),
    ("alpha", 'α'),
    ("amp", '&'),
    ("and", '∧'),
    ("ang", '∠'),
    ("apos", '\''),
    ("asymp", '≈'),
    ("bdquo", '„'),
    ("beta", 'β'),
    ("bull", '•'),
    ("cap", '∩'),
    ("chi", 'χ'),
    ("circ", 'ˆ'),
    ("clubs", '♣'),
    ("cong", '≅'),
    ("crarr", '↵'),
    ("cup", '∪'),
    ("dArr", '⇓'),
    ("dagger", '†'),
    ("darr", '↓'),
    ("delta", 'δ'),
    ("diams", '♦'),
    ("empty", '∅'),
    ("emsp", '\u{2003}'),
    ("ensp", '\u{2002}'),
    ("epsilon", 'ε'),
    ("equiv", '≡'),
    ("eta", 'η'),
    ("euro", '€'),
    ("exist", '∃'),
    ("fnof", 'ƒ'),
    ("forall", '∀'),
    ("frasl", '⁄'),
    ("gamma", 'γ'),
    ("ge", '≥'),
    ("gt", '>'),
    ("hArr", '⇔'),
    ("harr", '↔'),
    ("hearts", '♥'),
    ("hellip", '…'),
    ("image", 'ℑ'),
    ("infin", '∞'),
    ("int", '∫'),
    ("iota", 'ι'),
    ("isin", '∈'),
    ("kappa", 'κ'),
    ("lArr", '⇐'),
    ("lambda", 'λ'),
    ("lang", '⟨'),
    ("larr", '←'),
    ("lceil", '⌈'),
    ("ldquo", '“'),
    ("le", '≤'),
    ("lfloor", '⌊'),
    ("lowast", '∗'),
    ("loz", '◊'),
    ("lrm", '\u{200E}'),
    ("lsaquo", '‹'),
    ("lsquo", '‘'),
    ("lt", '<'),
    ("mdash", '—'),
    ("minus", '−'),
    ("mu", 'μ'),
    ("nabla", '∇'),
    ("ndash", '–'),
    ("ne", '≠'),
    ("ni", '∋'),
    ("notin", '∉'),
    ("nsub", '⊄'),
    ("nu", 'ν'),
    ("oelig", 'œ'),
    ("oline", '‾'),
    ("omega", 'ω'),
    ("omicron", 'ο'),
    ("oplus", '⊕'),
    ("or", '∨'),
    ("otimes", '⊗'),
    ("part", '∂'),
    ("permil", '‰'),
    ("perp", '⊥'),
    ("phi", 'φ'),
    ("pi", 'π'),
    ("piv", 'ϖ'),
    ("prime", '′'),
    ("prod", '∏'),
    ("prop", '∝'),
    ("psi", 'ψ'),
    ("quot", '"'),
    ("rArr", '⇒'),
    ("radic", '√'),
    ("rang", '⟩'),
    ("rarr", '→'),
    ("rceil", '⌉'),
    ("rdquo", '”'),
    ("real", 'ℜ'),
    ("rfloor", '⌋'),
    ("rho", 'ρ'),
    ("rlm", '\u{200F}'),
    ("rsaquo", '›'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("scaron", 'š'),
    ("sdot", '⋅'),
    ("sigma", 'σ'),
    ("sigmaf", 'ς'),
    ("sim", '∼'),
    ("spades", '♠'),
    ("sub", '⊂'),
    ("sube", '⊆'),
    ("sum", '∑'),
    ("sup", '⊃'),
    ("supe", '⊇'),
    ("tau", 'τ'),
    ("there4", '∴'),
    ("theta", 'θ'),
    ("thetasym", 'ϑ'),
    ("thinsp", '\u{2009}'),
    ("tilde", '˜'),
    ("trade", '™'),
    ("uArr", '⇑'),
    ("uarr", '↑'),
    ("upsih", 'ϒ'),
    ("upsilon", 'υ'),
    ("weierp", '℘'),
    ("xi", 'ξ'),
    ("zeta", 'ζ'),
    ("zwj", '\u{200D}'),
    ("zwnj", '\u{200C}'),
];

/// The character named `name` (without `&` and `;`), if it is in the table.
pub(super) fn named(name: &str) -> Option<char> {
    // The names feeds use most, without a search.
    match name {
        "nbsp" => return Some('\u{A0}'),
        "amp" => return Some('&'),
        "quot" => return Some('"'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        _ => {}
    }
    let i = ALL.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    ALL.get(i).map(|(_, c)| *c)
}

/// Both tables in one, sorted by name, so a name is one binary search
/// (`LATIN1` in code-point order meant a scan of up to 96 names).
static ALL: std::sync::LazyLock<Vec<(&'static str, char)>> = std::sync::LazyLock::new(|| {
    let mut all: Vec<(&'static str, char)> = LATIN1
        .iter()
        .zip('\u{A0}'..='\u{FF}')
        .map(|(n, c)| (*n, c))
        .chain(OTHERS.iter().copied())
        .collect();
    all.sort_unstable_by_key(|(n, _)| *n);
    all
});

#[cfg(test)]
pub(super) fn all() -> impl Iterator<Item = &'static str> {
    LATIN1.iter().copied().chain(OTHERS.iter().map(|(n, _)| *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_equal_to_the_html5_tokenizer() {
        assert!(OTHERS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(ALL.windows(2).all(|w| w[0].0 < w[1].0), "no name twice");
        assert_eq!(ALL.len(), LATIN1.len() + OTHERS.len());
        for name in all() {
            let c = named(name).unwrap();
            // Letters around the reference keep white-space characters visible.
            let html = crate::markup::dom_text(&format!("x&{name};y"));
            assert_eq!(
                html,
                crate::markup::collapse_ws(&format!("x{c}y")),
                "&{name};"
            );
        }
    }
}
