//! The feed tests written against the feed-rs mapping, unchanged: the reader
//! must keep reading these fixtures to exactly these items.

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
