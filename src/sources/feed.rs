//! `feed` sources: RSS 0.9x/1.0/2.0, Atom and JSON Feed, detected from the content.
//!
//! feed-rs reads the document; this module maps its entries to [`Item`]s:
//! absolute links, plain-text title and body, the first author, a UTC date
//! read by [`parse_date`] (feed-rs alone drops German day names), and the
//! declared language as an ISO 639-1 code.

use super::dates::parse_date;
use super::{Item, ParseError};
use crate::charset::strip_xml_encoding;
use crate::text::{collapse_ws, html_to_text};
use feed_rs::model::{Entry, Feed, FeedType, Link, LinkTarget, Text};
use quick_xml::events::Event;
use url::Url;

/// Parses a decoded feed document. Relative links resolve against `base`.
pub fn parse(body: &str, base: &Url) -> Result<Vec<Item>, ParseError> {
    // The text is already UTF-8; a prolog naming another charset would make
    // the XML reader decode it a second time.
    let body = strip_xml_encoding(body);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .sanitize_content(false)
        .timestamp_parser(parse_date)
        .build();
    let feed = parser
        .parse(body.as_bytes())
        .map_err(|e| ParseError(one_line(&e.to_string())))?;
    let entry_langs = match feed.feed_type {
        FeedType::Atom => atom_entry_langs(&body),
        _ => Vec::new(),
    };
    // Only trust the scan when it saw the same entries feed-rs did.
    let entry_langs = if entry_langs.len() == feed.entries.len() {
        entry_langs
    } else {
        vec![None; feed.entries.len()]
    };
    Ok(feed
        .entries
        .iter()
        .zip(entry_langs)
        .filter_map(|(entry, lang)| to_item(&feed, entry, lang.as_deref(), base))
        .collect())
}

/// The `xml:lang` in effect on each top-level Atom `<entry>`, in document
/// order; feed-rs keeps only one written on `<content>`.
fn atom_entry_langs(body: &str) -> Vec<Option<String>> {
    let mut reader = quick_xml::Reader::from_str(body);
    // The language in effect inside each open element.
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut langs = Vec::new();
    loop {
        let (start, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(_)) => {
                stack.pop();
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let declared = start
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref() == "xml:lang")
            .and_then(|a| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.trim().to_string())
            });
        let lang = match declared {
            // `xml:lang=""` means the language is unknown.
            Some(v) if v.is_empty() => None,
            Some(v) => Some(v),
            None => stack.last().cloned().flatten(),
        };
        if stack.len() == 1 && start.local_name().as_ref() == "entry" {
            langs.push(lang.clone());
        }
        if !empty {
            stack.push(lang);
        }
    }
    langs
}

/// An error message on one line, for logs and the report.
fn one_line(s: &str) -> String {
    collapse_ws(s)
}

/// Maps one entry; None when it has neither title nor text.
fn to_item(feed: &Feed, entry: &Entry, entry_lang: Option<&str>, base: &Url) -> Option<Item> {
    let title = entry
        .title
        .as_ref()
        .map(|t| text_to_plain(feed.feed_type.clone(), t))
        .unwrap_or_default();
    let body = entry
        .content
        .as_ref()
        .and_then(|c| {
            let body = c.body.as_deref()?;
            Some(markup_to_plain(
                feed.feed_type.clone(),
                c.content_type.as_str(),
                body,
            ))
        })
        .filter(|t| !t.is_empty());
    let text = body
        .or_else(|| {
            entry
                .summary
                .as_ref()
                .map(|s| text_to_plain(feed.feed_type.clone(), s))
        })
        .unwrap_or_default();
    if title.is_empty() && text.is_empty() {
        return None;
    }
    let author = entry
        .authors
        .iter()
        .chain(feed.authors.iter())
        .filter_map(|p| p.name.as_deref())
        .map(collapse_ws)
        .find(|n| !n.is_empty());
    let lang = entry
        .language
        .as_deref()
        .and_then(iso_639_1)
        .or_else(|| entry_lang.and_then(iso_639_1))
        .or_else(|| feed.language.as_deref().and_then(iso_639_1));
    Some(Item {
        url: entry_url(entry, base),
        platform_id: None,
        title,
        text,
        author,
        published: entry.published.or(entry.updated),
        lang,
    })
}

/// The entry's page: its alternate link, else its first link, else an
/// http(s) id (RSS `guid`, Atom `id`).
fn entry_url(entry: &Entry, base: &Url) -> Option<String> {
    let is_page = |l: &&Link| {
        l.target.is_none()
            && l.rel
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
    };
    let not_comments = |l: &&Link| {
        !matches!(
            l.target,
            Some(LinkTarget::Comments) | Some(LinkTarget::CommentsFeed)
        )
    };
    entry
        .links
        .iter()
        .find(is_page)
        .or_else(|| entry.links.iter().find(not_comments))
        .and_then(|l| absolute_http(l.href.trim(), base))
        .or_else(|| {
            let id = entry.id.trim();
            let url = Url::parse(id).ok()?;
            matches!(url.scheme(), "http" | "https").then(|| url.to_string())
        })
}

/// `href` resolved against `base`, if the result is an http(s) URL.
fn absolute_http(href: &str, base: &Url) -> Option<String> {
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// A title or summary as plain text.
fn text_to_plain(feed_type: FeedType, text: &Text) -> String {
    markup_to_plain(feed_type, text.content_type.as_str(), &text.content)
}

/// Plain text from a body of the given media type. Atom `type="text"` and
/// JSON Feed text keep their angle brackets; RSS fields are HTML in
/// practice whatever feed-rs labels them.
fn markup_to_plain(feed_type: FeedType, media_type: &str, body: &str) -> String {
    let literal =
        media_type == "text/plain" && matches!(feed_type, FeedType::Atom | FeedType::JSON);
    if literal {
        // Tags stay as written, but entities are decoded: publishers such
        // as WordPress put `&#8217;` into plain-text titles.
        return html_to_text(&body.replace('<', "&lt;"));
    }
    let text = html_to_text(body);
    // Publishers that escape their HTML twice leave tags or entities behind.
    if looks_like_markup(&text) {
        html_to_text(&text)
    } else {
        text
    }
}

/// Whether `s` still holds an HTML tag (`<b>`, `</p>`) or an entity (`&amp;`).
fn looks_like_markup(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'<' => {
            let next = bytes.get(i + 1).copied().unwrap_or(0);
            (next.is_ascii_alphabetic() || next == b'/')
                && bytes.get(i + 1..).is_some_and(|rest| rest.contains(&b'>'))
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

/// The primary subtag of a language tag as an ISO 639-1 code: `de-DE` → `de`.
pub fn iso_639_1(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?;
    (primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::decode;
    use chrono::{DateTime, Utc};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/feed/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    fn base(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn item(url: &str, title: &str, text: &str, published: &str) -> Item {
        Item {
            url: Some(url.to_string()),
            title: title.to_string(),
            text: text.to_string(),
            published: utc(published),
            ..Item::default()
        }
    }

    fn with(mut item: Item, author: Option<&str>, lang: Option<&str>) -> Item {
        item.author = author.map(str::to_string);
        item.lang = lang.map(str::to_string);
        item
    }

    #[test]
    fn rss2_german_latin1() {
        // Decoded as the fetcher does: the charset is only in the prolog.
        let text = decode(&fixture("rss2_de_latin1.xml"), Some("application/rss+xml"));
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"));
        let items = parse(
            &text,
            &base("https://www.rheinische-abendpost.de/politik/index.rss"),
        )
        .unwrap();
        let de = Some("de");
        assert_eq!(
            items,
            [
                with(
                    item(
                        "https://www.rheinische-abendpost.de/politik/ausland/nordkorea-russland-soldaten-100.html",
                        "Nordkorea schickt weitere Soldaten nach Russland",
                        "Nach Angaben des südkoreanischen Geheimdienstes hat Pjöngjang weitere 3.000 Soldaten an die Front verlegt. Seoul spricht von einer „neuen Eskalationsstufe“.",
                        "2026-11-24T13:05:00Z",
                    ),
                    Some("Jörg Müller"),
                    de,
                ),
                // Relative link; content:encoded wins over description; script dropped.
                with(
                    item(
                        "https://www.rheinische-abendpost.de/wirtschaft/gasumlage-streit-102.html",
                        "Streit um Gasumlage: „Das ist für viele Haushalte unzumutbar“",
                        "Kritik aus den Ländern Die Ministerpräsidenten von Bayern und Sachsen lehnen die Umlage ab.",
                        "2026-11-25T08:30:00Z",
                    ),
                    Some("Anna Schäfer"),
                    de,
                ),
                // Escaped HTML in the title is stripped.
                with(
                    item(
                        "https://www.rheinische-abendpost.de/politik/inland/haushalt-2027-beschlossen-104.html",
                        "Eilmeldung: Bundestag beschließt Haushalt 2027",
                        "Mit 389 zu 301 Stimmen hat der Bundestag den Etat verabschiedet.",
                        "2026-11-26T17:58:00Z",
                    ),
                    None,
                    de,
                ),
                // No title, no link: the permalink guid is the URL. The
                // item with neither title nor text before it is skipped.
                with(
                    item(
                        "https://www.rheinische-abendpost.de/nrw/kurzmeldung-108.html",
                        "",
                        "Kurzmeldung: Die Landesregierung in Düsseldorf tagt morgen auf Schloß Benrath.",
                        "2026-11-27T06:00:00Z",
                    ),
                    None,
                    de,
                ),
            ]
        );
    }

    #[test]
    fn rss2_latin1_declared_in_content_type_only() {
        let bytes = fixture("rss2_de_latin1.xml");
        let text = decode(&bytes, Some("text/xml; charset=iso-8859-1"));
        let items = parse(&text, &base("https://www.rheinische-abendpost.de/")).unwrap();
        assert_eq!(items[0].author.as_deref(), Some("Jörg Müller"));
        assert_eq!(
            items[2].title,
            "Eilmeldung: Bundestag beschließt Haushalt 2027"
        );
    }

    #[test]
    fn rss1_rdf() {
        let text = decode(&fixture("rss1_rdf.xml"), None);
        let items = parse(
            &text,
            &base("https://netzpolitik-blog.example.org/feed/rdf"),
        )
        .unwrap();
        assert_eq!(
            items,
            [
                with(
                    item(
                        "https://netzpolitik-blog.example.org/2026/chatkontrolle-rat/",
                        "Chatkontrolle: Rat einigt sich auf Position",
                        "Die EU-Staaten haben sich auf eine gemeinsame Linie verständigt. Weiterlesen",
                        "2026-11-24T14:42:10Z",
                    ),
                    Some("Markus Beckedahl"),
                    Some("de"),
                ),
                with(
                    item(
                        "https://netzpolitik-blog.example.org/2026/vorratsdaten-eugh/",
                        "EuGH kippt Vorratsdatenspeicherung erneut",
                        "Luxemburg bleibt bei seiner Linie.",
                        "2026-11-23T00:00:00Z",
                    ),
                    None,
                    Some("de"),
                ),
            ]
        );
    }

    #[test]
    fn atom_text_html_and_xhtml() {
        let text = decode(&fixture("atom.xml"), Some("application/atom+xml"));
        // The feed's URL differs from its xml:base; xml:base wins.
        let items = parse(&text, &base("https://feeds.example.net/wz/technik")).unwrap();
        assert_eq!(
            items,
            [
                // type="html" title and content; the alternate link, not
                // the replies link; published before updated.
                with(
                    item(
                        "https://blog.wienerzeitung.example/artikel/ki-verordnung/",
                        "KI-Verordnung: Was sich ab 2027 & danach ändert",
                        "Die KI-Verordnung gilt schrittweise. Hochrisiko-Systeme folgen 2027.",
                        "2026-11-24T08:15:00Z",
                    ),
                    Some("Lena Gruber"),
                    Some("de"),
                ),
                // type="xhtml"; the entry's own xml:base and xml:lang;
                // the feed's author is inherited.
                with(
                    item(
                        "https://blog.wienerzeitung.example/english/vienna-liveability.html",
                        "Vienna tops liveability ranking",
                        "For the fourth year running, the EIU ranks Vienna first. Stability Healthcare",
                        "2026-11-23T20:00:00Z",
                    ),
                    Some("Redaktion Technik"),
                    Some("en"),
                ),
                // type="text" is literal: `&lt;noch&gt;` stays `<noch>`.
                // No link: the http(s) id is the URL.
                with(
                    item(
                        "https://blog.wienerzeitung.example/notizen/glasfaser-favoriten",
                        "Kurz notiert: Glasfaser für Favoriten <noch> 2027",
                        "Der Ausbau im 10. Bezirk verzögert sich.",
                        "2026-11-22T06:45:00Z",
                    ),
                    Some("Redaktion Technik"),
                    Some("de"),
                ),
            ]
        );
    }

    #[test]
    fn json_feed_1_1() {
        let text = decode(&fixture("jsonfeed11.json"), Some("application/feed+json"));
        let items = parse(&text, &base("https://notizen.example.de/feed.json")).unwrap();
        let de = Some("de");
        assert_eq!(
            items,
            [
                // content_html beats summary; first of `authors`.
                with(
                    item(
                        "https://notizen.example.de/2026/11/24/energie/",
                        "Folge 112: Energiewende im Norden",
                        "Wir sprechen mit Ole Hansen über Windparks & Netze.",
                        "2026-11-24T05:00:00Z",
                    ),
                    Some("Tim Berger"),
                    de,
                ),
                // content_text is literal; the URL comes from the id; the
                // feed's author is inherited.
                with(
                    item(
                        "https://notizen.example.de/2026/11/20/kurz/",
                        "",
                        "Kurz notiert: Die nächste Folge erscheint <b>nicht</b> am Freitag.",
                        "2026-11-20T12:00:00Z",
                    ),
                    Some("Sabine Krüger"),
                    de,
                ),
                // Relative url; date_modified when date_published is missing.
                with(
                    item(
                        "https://notizen.example.de/2026/11/18/bahn/",
                        "Folge 111: Bahn & Brücken",
                        "Sanierungsstau bei der Bahn.",
                        "2026-11-18T09:00:00Z",
                    ),
                    Some("Sabine Krüger"),
                    de,
                ),
            ]
        );
    }

    #[test]
    fn json_feed_1_0_single_author() {
        let body = r#"{
          "version": "https://jsonfeed.org/version/1",
          "title": "Daring Example",
          "home_page_url": "https://daring.example.com/",
          "author": {"name": "John Example"},
          "items": [{
            "id": "https://daring.example.com/2026/11/24/phones",
            "url": "https://daring.example.com/2026/11/24/phones",
            "title": "Phones &amp; Tablets &#8211; a &lt;short&gt; take",
            "content_text": "Short take.",
            "date_published": "2026-11-24T10:00:00-05:00"
          }]
        }"#;
        let items = parse(body, &base("https://daring.example.com/feed.json")).unwrap();
        assert_eq!(
            items,
            [with(
                item(
                    "https://daring.example.com/2026/11/24/phones",
                    // Plain text, but the entity WordPress-style feeds leave is decoded.
                    "Phones & Tablets – a <short> take",
                    "Short take.",
                    "2026-11-24T15:00:00Z",
                ),
                Some("John Example"),
                None,
            )]
        );
    }

    #[test]
    fn rss_0_91_and_double_escaped_entities() {
        let body = r#"<?xml version="1.0" encoding="windows-1252"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91">
<channel>
<title>Alte Seite</title>
<link>http://alte-seite.example.de/</link>
<description>Seit 1999</description>
<language>de</language>
<item>
<title>Preise &amp;amp; Tarife: &amp;quot;Alles wird teurer&amp;quot;</title>
<link>http://alte-seite.example.de/preise.html</link>
<description>Strom &amp;amp; Gas</description>
</item>
</channel>
</rss>"#;
        let items = parse(body, &base("http://alte-seite.example.de/rss.xml")).unwrap();
        assert_eq!(
            items,
            [with(
                Item {
                    url: Some("http://alte-seite.example.de/preise.html".into()),
                    title: "Preise & Tarife: \"Alles wird teurer\"".into(),
                    text: "Strom & Gas".into(),
                    ..Item::default()
                },
                None,
                Some("de"),
            )]
        );
    }

    #[test]
    fn rss_0_92_german_date_without_weekday_name_in_english() {
        let body = r#"<rss version="0.92"><channel><title>T</title><link>https://x.example/</link><description>D</description>
<item><title>Termin</title><link>https://x.example/termin</link><description>Text</description><pubDate>Di, 3 Mär 2026 08:00:00 +0100</pubDate></item>
</channel></rss>"#;
        let items = parse(body, &base("https://x.example/rss")).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].published, utc("2026-03-03T07:00:00Z"));
    }

    #[test]
    fn malformed_xml_is_one_line_error() {
        let text = decode(&fixture("malformed.xml"), None);
        let err = parse(&text, &base("https://kaputt.example.de/feed")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to parse XML: Parser error: ill-formed document: expected `</item>`, but `</channel>` was found"
        );
    }

    #[test]
    fn not_a_feed() {
        let err = parse("<html><body>404</body></html>", &base("https://x.example/")).unwrap_err();
        assert!(!err.to_string().is_empty());
        assert!(parse("", &base("https://x.example/")).is_err());
        assert!(parse("{\"items\": 3}", &base("https://x.example/")).is_err());
        assert!(parse("\u{0}\u{1}garbage", &base("https://x.example/")).is_err());
    }

    #[test]
    fn language_tags() {
        assert_eq!(iso_639_1("de-DE").as_deref(), Some("de"));
        assert_eq!(iso_639_1(" EN_us ").as_deref(), Some("en"));
        assert_eq!(iso_639_1("fr").as_deref(), Some("fr"));
        assert_eq!(iso_639_1("deu"), None);
        assert_eq!(iso_639_1(""), None);
        assert_eq!(iso_639_1("d1"), None);
    }
}
