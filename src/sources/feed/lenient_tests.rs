//! The corpus of documents real feeds send that strict XML readers reject
//! (tests/fixtures/feed/lenient/), each read to the exact items Python's
//! feedparser reads from it. Each test names the feedparser behaviour it
//! mirrors. feedparser first tries a strict XML parser; when that fails it
//! sets `bozo` and reads the document again with its loose parser, which
//! takes undeclared entities, bare `&` and unbalanced tags in its stride.

use super::*;
use crate::charset::decode;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/feed/lenient/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // As the fetcher decodes: no Content-Type charset, so BOM, then prolog.
    decode(&bytes, None)
}

fn read_fixture(name: &str, base: &str) -> FeedDoc {
    read(&fixture(name), &Url::parse(base).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (title, link, date) of each item, the date as RFC 3339 in UTC.
fn outline(doc: &FeedDoc) -> Vec<(&str, Option<&str>, Option<String>)> {
    doc.items
        .iter()
        .map(|i| {
            (
                i.title.as_str(),
                i.url.as_deref(),
                i.published.map(|d| d.to_rfc3339()),
            )
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn rss_root_with_a_default_namespace() {
    // feedparser maps the RSS namespaces (http://backend.userland.com/rss2,
    // http://purl.org/rss/1.0/, …) to no prefix, so a default namespace on
    // <rss> changes nothing. feed-rs read no item of this document.
    let doc = read_fixture(
        "default-namespace.xml",
        "https://www.northern-courier.example.co.uk/world/rss",
    );
    assert_eq!(doc.version, "rss20");
    assert_eq!(
        outline(&doc),
        [
            (
                "Ceasefire talks resume in Geneva",
                Some("https://www.northern-courier.example.co.uk/world/ceasefire-talks-geneva-4411"),
                some("2026-11-23T07:45:00+00:00")
            ),
            (
                "Flooding closes rail line in Cumbria",
                Some("https://www.northern-courier.example.co.uk/world/uk/cumbria-flooding-4412"),
                some("2026-11-23T09:10:00+00:00")
            ),
            (
                "Markets steady ahead of rate decision",
                Some("https://www.northern-courier.example.co.uk/business/markets-rate-decision-4415"),
                some("2026-11-23T11:30:00+00:00")
            ),
        ]
    );
    // content:encoded before description; dc:creator; <language>.
    let first = &doc.items[0];
    assert_eq!(
        first.text,
        "Delegations met for a second day of talks on Monday, diplomats said. A joint statement is expected on Wednesday."
    );
    assert_eq!(first.author.as_deref(), Some("Harriet Cole"));
    assert!(doc.items.iter().all(|i| i.lang.as_deref() == Some("en")));
    assert!(doc.warnings.is_empty() && doc.skipped == 0);
}

#[test]
fn rss_without_a_version_attribute() {
    // feedparser's _start_rss: an <rss> without `version` is version "rss",
    // read like any other RSS. feed-rs said "no root element".
    let doc = read_fixture("no-version.xml", "https://www.stadtanzeiger.example.de/rss");
    assert_eq!(doc.version, "rss");
    assert_eq!(
        outline(&doc),
        [
            (
                "Neue Radwege am Ring freigegeben",
                Some("https://www.stadtanzeiger.example.de/lokales/radwege-ring-20871.html"),
                some("2026-11-24T05:30:00+00:00")
            ),
            (
                "Weihnachtsmarkt öffnet am Donnerstag",
                Some("https://www.stadtanzeiger.example.de/lokales/weihnachtsmarkt-20874.html"),
                some("2026-11-24T07:00:00+00:00")
            ),
        ]
    );
    assert_eq!(doc.items[0].author.as_deref(), Some("Petra Lindner"));
}

#[test]
fn unescaped_ampersands_in_text_and_attributes() {
    // Not well-formed XML (feedparser: bozo, "not well-formed (invalid
    // token)"); its loose parser keeps a bare `&` as text and reads every
    // item. feed-rs lost the whole feed at the first one.
    let doc = read_fixture(
        "unescaped-ampersands.xml",
        "https://www.wirtschaftsblatt.example.de/rss",
    );
    assert_eq!(
        outline(&doc),
        [
            (
                "Müller & Söhne übernimmt Konkurrenten",
                Some("https://www.wirtschaftsblatt.example.de/unternehmen/mueller-soehne-uebernahme-5501.html?utm_source=rss&utm_medium=feed"),
                some("2026-11-25T09:15:00+00:00")
            ),
            (
                "AT&T und Telekom verhandeln über Netzkooperation",
                Some("https://www.wirtschaftsblatt.example.de/telekom/att-kooperation-5502.html"),
                some("2026-11-25T10:40:00+00:00")
            ),
            (
                "Dax schließt im Plus",
                Some("https://www.wirtschaftsblatt.example.de/maerkte/dax-schluss-5503.html"),
                some("2026-11-25T16:45:00+00:00")
            ),
        ]
    );
    assert_eq!(
        doc.items[0].text,
        "Der Maschinenbauer zahlt 240 Millionen Euro & übernimmt 900 Beschäftigte."
    );
}

#[test]
fn html_entities_that_xml_does_not_declare() {
    // feedparser's loose parser decodes the HTML named entities (`&nbsp;`,
    // `&eacute;`, `&bdquo;` …) that the strict parser calls undefined.
    let doc = read_fixture(
        "undeclared-entities.xml",
        "https://kulturjournal.example.at/feed",
    );
    assert_eq!(
        outline(&doc),
        [
            (
                "Café-Konzerte im Museumsquartier – das Programm",
                Some("https://kulturjournal.example.at/musik/cafe-konzerte-mq"),
                some("2026-11-26T08:00:00+00:00")
            ),
            (
                "Burgtheater zeigt «Faust» in neuer Inszenierung",
                Some("https://kulturjournal.example.at/theater/burgtheater-faust"),
                some("2026-11-26T10:20:00+00:00")
            ),
        ]
    );
    assert_eq!(
        doc.items[0].text,
        "Von Jazz bis Kammermusik… „Wir wollen alle erreichen“, sagt die Intendantin."
    );
    assert_eq!(
        doc.items[1].text,
        "Premiere ist am 12. Dezember; Karten ab 15 €."
    );
}

#[test]
fn stray_control_characters() {
    // Control characters are not allowed in XML (feedparser: bozo), and the
    // loose parser reads every item. The characters themselves are dropped
    // (white-space ones such as vertical tab separate words).
    let doc = read_fixture(
        "control-characters.xml",
        "https://regional-sued.example.de/rss",
    );
    assert_eq!(
        outline(&doc),
        [
            (
                "Stromausfall in drei Gemeinden",
                Some("https://regional-sued.example.de/meldungen/stromausfall-301"),
                some("2026-11-27T06:12:00+00:00")
            ),
            (
                "Kreistag beschließt Haushalt",
                Some("https://regional-sued.example.de/meldungen/kreistag-haushalt-302"),
                some("2026-11-27T08:30:00+00:00")
            ),
        ]
    );
    assert_eq!(
        doc.items[0].text,
        "Rund 4.000 Haushalte waren am Morgen ohne Strom."
    );
    assert_eq!(doc.items[1].text, "Die Kreisumlage bleibt unverändert.");
}

#[test]
fn byte_order_mark_and_a_prolog_naming_another_encoding() {
    // feedparser trusts the BOM over the prolog (and reports the mismatch
    // as CharacterEncodingOverride); the text is UTF-8 and stays intact.
    let doc = read_fixture(
        "bom-wrong-prolog.xml",
        "https://www.ostseebote.example.de/rss",
    );
    assert_eq!(
        outline(&doc),
        [(
            "Fährverkehr nach Rügen eingeschränkt",
            Some("https://www.ostseebote.example.de/verkehr/faehre-ruegen-7720.html"),
            some("2026-11-28T05:40:00+00:00")
        )]
    );
    assert_eq!(doc.items[0].author.as_deref(), Some("Jürgen Weiß"));
    // Text handed over with its BOM still in front reads the same.
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/feed/lenient/bom-wrong-prolog.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let with_bom = String::from_utf8(bytes).unwrap();
    assert!(with_bom.starts_with('\u{feff}'));
    let base = Url::parse("https://www.ostseebote.example.de/rss").unwrap();
    assert_eq!(read(&with_bom, &base).unwrap(), doc);
}

#[test]
fn html_inside_titles_and_descriptions() {
    // feedparser sanitises titles that hold HTML down to their text, and
    // its loose parser reads unescaped tags (`<br>` without `</br>`) and a
    // `<` that starts no tag as text.
    let doc = read_fixture(
        "html-in-titles.xml",
        "https://techblog-nord.example.de/feed/",
    );
    assert_eq!(
        outline(&doc),
        [
            (
                "Sicherheitslücke in OpenSSH: Update dringend empfohlen",
                Some("https://techblog-nord.example.de/2026/11/openssh-luecke/"),
                some("2026-11-29T09:00:00+00:00")
            ),
            (
                "Umfrage: Nur 12 % nutzen Passkeys < 1 Jahr",
                Some("https://techblog-nord.example.de/2026/11/passkeys-umfrage/"),
                some("2026-11-29T11:30:00+00:00")
            ),
        ]
    );
    assert_eq!(
        doc.items[0].text,
        "Betroffen sind Versionen vor 9.9. Ein Patch ist verfügbar."
    );
    assert_eq!(
        doc.items[1].text,
        "Die Verbreitung wächst langsam – I <3 Passkeys, sagt der Autor."
    );
}

#[test]
fn broken_items_are_repaired_one_by_one() {
    // feedparser's loose parser: a mistyped end tag (`</titel>`) is
    // ignored, an unclosed <description> ends where the next field starts,
    // a forgotten </item> ends where the next <item> starts. Every item is
    // read; feed-rs lost the feed at the first mistake.
    let doc = read_fixture(
        "broken-items.xml",
        "https://www.landeszeitung.example.de/rss",
    );
    assert_eq!(
        outline(&doc),
        [
            (
                "Landtag debattiert über Schulgesetz",
                Some("https://www.landeszeitung.example.de/politik/schulgesetz-1001.html"),
                some("2026-11-30T07:00:00+00:00")
            ),
            (
                "Minister tritt zurück",
                Some("https://www.landeszeitung.example.de/politik/ruecktritt-1002.html"),
                some("2026-11-30T08:15:00+00:00")
            ),
            (
                "Koalition einigt sich auf Haushalt",
                Some("https://www.landeszeitung.example.de/politik/haushalt-1003.html"),
                some("2026-11-30T09:30:00+00:00")
            ),
            (
                "Neue Polizeistation in Lindenau",
                Some("https://www.landeszeitung.example.de/politik/polizeistation-1004.html"),
                some("2026-11-30T10:45:00+00:00")
            ),
            (
                "Kommunalwahl: Termin steht fest",
                Some("https://www.landeszeitung.example.de/politik/kommunalwahl-1005.html"),
                some("2026-11-30T12:00:00+00:00")
            ),
        ]
    );
    assert_eq!(
        doc.items[2].text,
        "Nach langen Verhandlungen steht der Etat."
    );
    assert!(doc.warnings.is_empty() && doc.skipped == 0);
}

#[test]
fn a_truncated_document_costs_only_its_last_item() {
    // feedparser reads the complete items of a cut-off download (bozo:
    // "no element found"). The item cut off mid-title is dropped and
    // counted, and the warning says so.
    let doc = read_fixture("truncated.xml", "https://morningledger.example.com/feed");
    assert_eq!(
        outline(&doc),
        [
            (
                "Retail sales rise for third month",
                Some("https://morningledger.example.com/2026/11/30/retail-sales"),
                some("2026-11-30T18:30:00+00:00")
            ),
            (
                "Chipmaker beats forecasts",
                Some("https://morningledger.example.com/2026/11/30/chipmaker-earnings"),
                some("2026-11-30T21:05:00+00:00")
            ),
        ]
    );
    assert_eq!(doc.skipped, 1);
    assert_eq!(
        doc.warnings,
        ["1 of 3 items could not be read: ill-formed document: `<item>` is not closed before the end of the document"]
    );
}

#[test]
fn atom_0_3() {
    // feedparser's _start_feed: version="0.3" is "atom03"; `issued` is the
    // published date, `modified` the updated one, mode="escaped" content is
    // HTML. feed-rs knew only the Atom 1.0 namespace and read no entry.
    let doc = read_fixture("atom03.xml", "https://gartenblog.example.de/atom.xml");
    assert_eq!(doc.version, "atom03");
    assert_eq!(
        outline(&doc),
        [
            (
                "Tomaten & Paprika überwintern",
                Some("https://gartenblog.example.de/2026/11/ueberwintern"),
                some("2026-11-20T08:00:00+00:00")
            ),
            (
                "Kompost richtig anlegen",
                Some("https://gartenblog.example.de/2026/11/kompost"),
                some("2026-11-18T07:30:00+00:00")
            ),
        ]
    );
    assert_eq!(doc.items[0].text, "Paprika lässt sich im Haus überwintern.");
    // The feed's author and xml:lang are inherited.
    assert!(doc
        .items
        .iter()
        .all(|i| i.author.as_deref() == Some("Ines Hartmann") && i.lang.as_deref() == Some("de")));
}

#[test]
fn media_rss_group_in_atom() {
    // feedparser maps media:title and media:description to title and
    // description, also inside media:group (video sites' Atom feeds).
    let doc = read_fixture(
        "media-group.xml",
        "https://video.example.com/feeds/videos.xml?channel_id=UCx1",
    );
    assert_eq!(doc.version, "atom10");
    assert_eq!(
        outline(&doc),
        [(
            "Why Berlin has two zoos",
            Some("https://video.example.com/watch?v=abc123"),
            some("2026-11-21T15:00:06+00:00")
        )]
    );
    assert_eq!(
        doc.items[0].text,
        "A short history of the Cold War split, told through its animals."
    );
    assert_eq!(doc.items[0].author.as_deref(), Some("Berlin Explained"));
}

#[test]
fn windows_1252_character_references() {
    // feedparser reads `&#128;`–`&#159;` as the windows-1252 characters
    // publishers meant (€, „, “, –), as browsers do.
    let doc = read_fixture("cp1252-references.xml", "http://forum.example.de/rss.xml");
    assert_eq!(doc.version, "rss092");
    assert_eq!(
        outline(&doc),
        [(
            "Umbau – was sich „ändert“",
            Some("http://forum.example.de/umbau.html"),
            None
        )]
    );
    assert_eq!(doc.items[0].text, "Die Preise steigen um 5€.");
}

#[test]
fn wordpress_feed() {
    // An ordinary WordPress feed: content:encoded, CDATA dc:creator, the
    // comments link and the enclosure are not the item's page.
    let doc = read_fixture("wordpress.xml", "https://harbourpost.example.com/feed/");
    assert_eq!(
        outline(&doc),
        [
            (
                "Council approves new ferry timetable",
                Some("https://harbourpost.example.com/2026/12/01/ferry-timetable/"),
                some("2026-12-01T08:30:00+00:00")
            ),
            (
                "Fish market reopens after refit",
                Some("https://harbourpost.example.com/2026/11/30/fish-market/"),
                some("2026-11-30T17:00:00+00:00")
            ),
        ]
    );
    assert_eq!(
        doc.items[0].text,
        "The council’s transport committee voted 7–2 in favour of the new timetable, which adds a 6:15 sailing. The morning ferry"
    );
    assert_eq!(doc.items[1].author.as_deref(), Some("Sam O'Neill"));
    assert!(doc.items.iter().all(|i| i.lang.as_deref() == Some("en")));
}

#[test]
fn rss_0_90() {
    // feedparser names the Netscape RDF namespace "rss090"; items with a
    // title and no description are items.
    let doc = read_fixture("rss090.rdf", "http://heimatverein.example.de/rss");
    assert_eq!(doc.version, "rss090");
    assert_eq!(
        outline(&doc),
        [
            (
                "Jahreshauptversammlung am 5. Dezember",
                Some("http://heimatverein.example.de/termine/jhv"),
                None
            ),
            (
                "Chronik 1926–2026 erschienen",
                Some("http://heimatverein.example.de/chronik"),
                None
            ),
        ]
    );
}

#[test]
fn json_feed_item_by_item() {
    // A numeric id and an item that is not an object: feedparser's JSON
    // reader takes what it knows; the odd item is skipped and counted.
    let doc = read_fixture("lenient.json", "https://kiezfunk.example.de/feed.json");
    assert_eq!(doc.version, "json11");
    assert_eq!(
        outline(&doc),
        [
            (
                "Folge 118: Spätis & Kiezkultur",
                Some("https://kiezfunk.example.de/folgen/118"),
                some("2026-11-26T17:00:00+00:00")
            ),
            (
                "Folge 117: Mietendeckel",
                Some("https://kiezfunk.example.de/folgen/117"),
                some("2026-11-19T17:00:00+00:00")
            ),
        ]
    );
    // The first named feed author; an author's e-mail address is not the name.
    assert_eq!(doc.items[0].author.as_deref(), Some("Mara Stein"));
    assert_eq!(doc.items[1].author.as_deref(), Some("Jonas Brandt"));
    assert_eq!(doc.items[1].text, "Was vom Mietendeckel bleibt.");
    assert_eq!(doc.skipped, 1);
    assert_eq!(
        doc.warnings,
        ["1 of 3 items could not be read: not an object"]
    );
}

#[test]
fn a_feed_without_items_is_read_with_a_warning() {
    // feedparser returns no entries and no error for an empty channel; the
    // warning keeps the zero from being silent.
    let doc = read_fixture("empty-channel.xml", "https://neuer-blog.example.de/feed");
    assert!(doc.items.is_empty());
    assert_eq!(
        doc.warnings,
        ["the document's root is <rss> but it has no <item> elements"]
    );
    let base = Url::parse("https://x.example/feed").unwrap();
    let atom = read(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title></feed>",
        &base,
    )
    .unwrap();
    assert_eq!(
        atom.warnings,
        ["the document's root is <feed> but it has no <entry> elements"]
    );
    let empty = read(
        "<rss version=\"2.0\"><channel><item><link>https://x.example/a</link></item></channel></rss>",
        &base,
    )
    .unwrap();
    assert_eq!(empty.warnings, ["none of the 1 items has a title or text"]);
    let json = read(
        "{\"version\": \"https://jsonfeed.org/version/1\", \"items\": []}",
        &base,
    )
    .unwrap();
    assert_eq!(json.warnings, ["the JSON Feed has no items"]);
}

#[test]
fn what_is_not_a_feed_says_what_it_is() {
    let base = Url::parse("https://x.example/feed").unwrap();
    let err = |body: &str| read(body, &base).unwrap_err().to_string();
    assert_eq!(
        err(&fixture("html-page.html")),
        "the document is an HTML page, not a feed"
    );
    assert_eq!(
        err("<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>"),
        "the document is a sitemap (<urlset>), not a feed"
    );
    assert_eq!(
        err("<opml version=\"2.0\"><body/></opml>"),
        "the document's root element is <opml>, not a feed (<rss>, <rdf:RDF> or <feed>)"
    );
    assert_eq!(err(" \n"), "the document is empty");
    assert_eq!(
        err("\u{0}\u{1}garbage"),
        "the document is neither XML nor JSON (it starts with \"\\0\\u{1}garbage\")"
    );
    assert_eq!(
        err("{\"items\": 3}"),
        "the document is JSON but not a JSON Feed (no \"version\": \"https://jsonfeed.org/version/1.1\")"
    );
    assert!(err("{\"version\": ").starts_with("the document is not valid JSON: "));
    // Every item broken: the reason, never a silent zero.
    assert_eq!(
        err("<rss version=\"2.0\"><channel><item><title>Nordkorea</ti"),
        "unable to parse XML: Parser error: ill-formed document: `<item>` is not closed before the end of the document"
    );
}

#[test]
fn deep_nesting_is_capped() {
    let base = Url::parse("https://x.example/feed").unwrap();
    let depth = walk::MAX_DEPTH * 2;
    let body = format!(
        "<rss><channel>{}{}<item><title>Nach der Tiefe</title></item></channel></rss>",
        "<x>".repeat(depth),
        "</x>".repeat(depth)
    );
    let doc = read(&body, &base).unwrap();
    assert_eq!(doc.items.len(), 1);
    assert_eq!(doc.items[0].title, "Nach der Tiefe");
}

#[test]
fn namespaced_elements_by_their_namespace_not_their_prefix() {
    // feedparser resolves prefixes through the namespace they are bound to
    // (an unusual `d:` for Dublin Core is still dc:creator), and reads an
    // atom:link inside an RSS item as the item's link.
    let body = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:c="http://purl.org/rss/1.0/modules/content/" xmlns:a="http://www.w3.org/2005/Atom" xmlns:m="http://search.yahoo.com/mrss/">
<channel><title>Präfixe</title><d:language>de</d:language>
<item>
  <a:link rel="alternate" href="https://praefixe.example.de/artikel/1"/>
  <title>Erster Artikel</title>
  <d:creator>Eva Roth</d:creator>
  <d:date>2026-11-30T10:00:00+01:00</d:date>
  <d:language>en-GB</d:language>
  <c:encoded>&lt;p&gt;Volltext&lt;/p&gt;</c:encoded>
  <description>Kurzfassung</description>
</item>
<item>
  <m:title>Nur ein Medientitel</m:title>
  <m:description>Beschreibung des Videos</m:description>
  <guid>https://praefixe.example.de/video/2</guid>
</item>
</channel></rss>"#;
    let doc = read(
        body,
        &Url::parse("https://praefixe.example.de/rss").unwrap(),
    )
    .unwrap();
    assert_eq!(
        outline(&doc),
        [
            (
                "Erster Artikel",
                Some("https://praefixe.example.de/artikel/1"),
                some("2026-11-30T09:00:00+00:00")
            ),
            (
                "Nur ein Medientitel",
                Some("https://praefixe.example.de/video/2"),
                None
            ),
        ]
    );
    let (first, second) = (&doc.items[0], &doc.items[1]);
    assert_eq!(first.text, "Volltext");
    assert_eq!(first.author.as_deref(), Some("Eva Roth"));
    // The item's dc:language before the channel's.
    assert_eq!(first.lang.as_deref(), Some("en"));
    assert_eq!(second.lang.as_deref(), Some("de"));
    assert_eq!(second.text, "Beschreibung des Videos");
}

#[test]
fn authors_as_feedparser_reads_them() {
    // feedparser's author detail: in `email (Name)` and `Name <email>` the
    // address is not the name; an address alone is no name.
    let body = r#"<rss version="2.0"><channel>
<item><title>a</title><author>redaktion@zeitung.example.de (Karl Weber)</author></item>
<item><title>b</title><author>Karl Weber &lt;k.weber@zeitung.example.de&gt;</author></item>
<item><title>c</title><author>leser@zeitung.example.de</author></item>
<item><title>d</title><author>  Anna   Schmidt </author></item>
</channel></rss>"#;
    let doc = read(body, &Url::parse("https://zeitung.example.de/rss").unwrap()).unwrap();
    let authors: Vec<Option<&str>> = doc.items.iter().map(|i| i.author.as_deref()).collect();
    assert_eq!(
        authors,
        [
            Some("Karl Weber"),
            Some("Karl Weber"),
            None,
            Some("Anna Schmidt")
        ]
    );
}
