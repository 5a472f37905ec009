//! Which language a mention is written in, when its source does not say.
//! Detection is the most expensive text step there is, so it runs only for
//! mentions that are new (the store asks once an item proved new, never
//! for a duplicate or a re-polled item), on a bounded prefix, and only
//! among the languages the project's sources are written in.

use std::sync::LazyLock;
use whatlang::{Detector, Lang};

/// Characters of title and excerpt looked at; enough for a reliable guess.
const SAMPLE_CHARS: usize = 300;

/// The languages told apart, with their ISO 639-1 codes.
const LANGUAGES: [(Lang, &str); 12] = [
    (Lang::Deu, "de"),
    (Lang::Eng, "en"),
    (Lang::Fra, "fr"),
    (Lang::Spa, "es"),
    (Lang::Ita, "it"),
    (Lang::Nld, "nl"),
    (Lang::Por, "pt"),
    (Lang::Pol, "pl"),
    (Lang::Rus, "ru"),
    (Lang::Ukr, "uk"),
    (Lang::Tur, "tr"),
    (Lang::Ces, "cs"),
];

static DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(LANGUAGES.iter().map(|(l, _)| *l).collect()));

/// ISO 639-1 code of the text's language when the detector is confident.
pub fn detect(title: &str, text: &str) -> Option<&'static str> {
    let mut sample = String::with_capacity(SAMPLE_CHARS + 4);
    for c in title
        .chars()
        .chain([' '])
        .chain(text.chars())
        .take(SAMPLE_CHARS)
    {
        sample.push(c);
    }
    let info = DETECTOR.detect(&sample)?;
    if !info.is_reliable() {
        return None;
    }
    LANGUAGES
        .iter()
        .find(|(l, _)| *l == info.lang())
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_news_languages_are_told_apart() {
        let cases = [
            ("de", "Russland und Nordkorea vertiefen ihre Zusammenarbeit", "Die Regierung in Moskau hat am Dienstag bestätigt, dass weitere Soldaten aus dem Land in die Region Kursk verlegt wurden."),
            ("en", "Russia and North Korea deepen their cooperation", "The government in Moscow confirmed on Tuesday that more soldiers from the country have been moved to the Kursk region."),
            ("fr", "La Russie et la Corée du Nord renforcent leur coopération", "Le gouvernement à Moscou a confirmé mardi que d'autres soldats du pays ont été déplacés vers la région de Koursk."),
            ("es", "Rusia y Corea del Norte profundizan su cooperación", "El gobierno en Moscú confirmó el martes que más soldados del país han sido trasladados a la región de Kursk."),
        ];
        for (code, title, text) in cases {
            assert_eq!(detect(title, text), Some(code), "{title}");
        }
        assert_eq!(detect("", ""), None);
    }

    #[test]
    fn only_a_bounded_prefix_is_read() {
        let german = "Die Regierung in Moskau hat am Dienstag bestätigt, dass weitere Soldaten verlegt wurden. ";
        // An English tail after the sample does not change the answer.
        let text = format!(
            "{}{}",
            german.repeat(4),
            "The quick brown fox jumps over the lazy dog. ".repeat(1000)
        );
        assert_eq!(detect("", &text), Some("de"));
    }
}
