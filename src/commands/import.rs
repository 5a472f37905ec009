//! `mentions import FILE.opml`: a `[[source]]` block (`type = "feed"`) for
//! every feed outline of an OPML file (feed readers export their
//! subscriptions so), ready to append to the config. Outlines nest in
//! folders at any depth; a block's comment names its folders. Names are
//! made from the outline titles (German letters spelt out: `Süddeutsche
//! Zeitung – Politik` → `sueddeutsche-zeitung-politik`) and are unique
//! against the config and each other; a feed the config already reads is
//! named in a comment instead of a block.
//!
//! The OPML is read with quick-xml; the blocks are written with the toml
//! crate's string quoting, so a title or URL cannot break the config.

use super::{print, Failure};
use crate::config::Settings;
use crate::text::collapse_ws;
use quick_xml::events::{BytesStart, Event};
use quick_xml::XmlVersion;
use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use url::Url;

/// Longest name made from a title, in characters.
const MAX_NAME: usize = 60;

/// Deepest outline nesting read.
const MAX_DEPTH: usize = 64;

/// One feed outline of an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedOutline {
    /// `title`, else `text`; may be empty.
    pub title: String,
    pub xml_url: String,
    /// The titles of the folders it sits in, outermost first.
    pub folders: Vec<String>,
}

pub(super) fn import(settings: &Settings, file: &Path) -> Result<ExitCode, Failure> {
    let bytes = std::fs::read(file).map_err(|e| {
        Failure::Usage(format!(
            "cannot read {}: {e}; name an OPML file exported from a feed reader",
            file.display()
        ))
    })?;
    let text = crate::charset::decode(&bytes, None);
    let outlines = parse(&text)
        .map_err(|e| Failure::Usage(format!("{} is not an OPML file: {e}", file.display())))?;
    let taken: Vec<&str> = settings.sources.iter().map(|s| s.name.as_str()).collect();
    let configured: Vec<(&str, &Url)> = settings
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.spec.url()))
        .collect();
    print(&blocks(
        &outlines,
        &taken,
        &configured,
        &file.display().to_string(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The feed outlines of an OPML document, in document order: every
/// `<outline>` with an `xmlUrl`, at any depth. An outline without one is a
/// folder. Errors say why the document is not OPML.
pub fn parse(text: &str) -> Result<Vec<FeedOutline>, String> {
    let text = crate::charset::strip_xml_encoding(text);
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut root_seen = false;
    // For each open element: Some(folder title) for a folder outline.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut out = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {}",
                reader.error_position(),
                collapse_ws(&e.to_string())
            )
        })?;
        let (start, empty) = match event {
            Event::Start(s) => (s, false),
            Event::Empty(s) => (s, true),
            Event::End(_) => {
                open.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = start.local_name().as_ref().to_ascii_lowercase();
        if !root_seen {
            if name != "opml" {
                return Err(format!("the root element is <{name}>, not <opml>"));
            }
            root_seen = true;
        }
        let mut folder = None;
        if name == "outline" {
            let title = attribute(&start, "title")
                .filter(|t| !t.is_empty())
                .or_else(|| attribute(&start, "text"))
                .unwrap_or_default();
            match attribute(&start, "xmlUrl").filter(|u| !u.is_empty()) {
                Some(xml_url) => out.push(FeedOutline {
                    title,
                    xml_url,
                    folders: open.iter().flatten().cloned().collect(),
                }),
                None => folder = Some(title).filter(|t| !t.is_empty()),
            }
        }
        if !empty {
            if open.len() >= MAX_DEPTH {
                return Err(format!("outlines nested more than {MAX_DEPTH} deep"));
            }
            open.push(folder);
        }
    }
    if !root_seen {
        return Err("the file is empty".into());
    }
    Ok(out)
}

/// An attribute's value, unescaped, white space collapsed; the name is
/// matched without regard to case (`xmlurl` is seen in the wild).
fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    let attr = start
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))?;
    let value = attr
        .normalized_value(XmlVersion::Implicit1_0)
        .map(|v| v.into_owned())
        .unwrap_or_else(|_| attr.value.clone().into_owned());
    Some(collapse_ws(&value))
}

/// A source name from a title: lower case ASCII letters, digits and
/// dashes; German letters spelt out (`ä` → `ae`, `ß` → `ss`), other accents
/// dropped (`é` → `e`), everything else a dash.
pub fn slug(title: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    let mut dash = false;
    let mut push = |s: &str, out: &mut String| {
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c.to_ascii_lowercase());
            } else {
                dash = true;
            }
        }
    };
    for c in title.chars() {
        match c {
            'ä' | 'Ä' => push("ae", &mut out),
            'ö' | 'Ö' => push("oe", &mut out),
            'ü' | 'Ü' => push("ue", &mut out),
            'ß' | 'ẞ' => push("ss", &mut out),
            c if c.is_ascii() => push(c.encode_utf8(&mut [0; 4]), &mut out),
            c => {
                // Decomposed, the base letter of an accented one is ASCII.
                let base: String = std::iter::once(c).nfkd().filter(|d| d.is_ascii()).collect();
                push(if base.is_empty() { " " } else { &base }, &mut out);
            }
        }
    }
    if out.chars().count() > MAX_NAME {
        let cut: String = out.chars().take(MAX_NAME).collect();
        // Whole words: cut at the last dash when there is one.
        out = match cut.rfind('-') {
            Some(i) if i > 0 => cut[..i].to_owned(),
            _ => cut,
        };
    }
    out
}

/// Hands out names unique against the config and each other: `name`,
/// else `name-2`, `name-3`, …
pub struct Names {
    taken: HashSet<String>,
}

impl Names {
    pub fn new<'a>(taken: impl IntoIterator<Item = &'a str>) -> Names {
        Names {
            taken: taken.into_iter().map(str::to_owned).collect(),
        }
    }

    pub fn unique(&mut self, wanted: &str) -> String {
        let base = if wanted.is_empty() { "feed" } else { wanted };
        let mut name = base.to_owned();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// A TOML basic string, quoted and escaped by the toml crate.
pub fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A comment line: one line, whatever the text holds.
pub fn comment(text: &str) -> String {
    format!("# {}\n", collapse_ws(&text.replace(['\r', '\n'], " ")))
}

/// One ready `[[source]]` block.
pub fn source_block(name: &str, source_type: &str, url: &str) -> String {
    format!(
        "[[source]]\nname = {}\ntype = {}\nurl = {}\n",
        toml_string(name),
        toml_string(source_type),
        toml_string(url)
    )
}

/// The blocks for `outlines`: names unique against `taken`, feeds the
/// config reads already (`configured`) named in a comment instead.
pub fn blocks(
    outlines: &[FeedOutline],
    taken: &[&str],
    configured: &[(&str, &Url)],
    file: &str,
) -> String {
    let mut names = Names::new(taken.iter().copied());
    let mut seen: Vec<Url> = Vec::new();
    let mut out = String::new();
    let mut written = 0;
    for o in outlines {
        let Some(url) = Url::parse(&o.xml_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        else {
            out.push_str(&comment(&format!(
                "skipped \"{}\": its xmlUrl {} is not an http(s) address",
                o.title, o.xml_url
            )));
            out.push('\n');
            continue;
        };
        if let Some((name, _)) = configured.iter().find(|(_, u)| **u == url) {
            out.push_str(&comment(&format!(
                "\"{}\" ({url}) is already configured as source \"{name}\"",
                o.title
            )));
            out.push('\n');
            continue;
        }
        if seen.contains(&url) {
            continue;
        }
        seen.push(url.clone());
        let title = if o.title.is_empty() {
            url.host_str().unwrap_or_default().to_owned()
        } else {
            o.title.clone()
        };
        let mut about = title.clone();
        if !o.folders.is_empty() {
            about.push_str(&format!(" (in {})", o.folders.join(" / ")));
        }
        out.push_str(&comment(&about));
        out.push_str(&source_block(
            &names.unique(&slug(&title)),
            "feed",
            url.as_str(),
        ));
        out.push('\n');
        written += 1;
    }
    let head = match written {
        0 => format!("# {file} lists no feeds that are not configured already.\n"),
        1 => format!("# 1 feed from {file}; append to the config.\n\n"),
        n => format!("# {n} feeds from {file}; append to the config.\n\n"),
    };
    format!("{head}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Abonnements</title></head>
  <body>
    <outline text="Nachrichten" title="Nachrichten">
      <outline type="rss" text="Süddeutsche Zeitung – Politik" title="Süddeutsche Zeitung – Politik" xmlUrl="https://rss.sueddeutsche.de/rss/Politik" htmlUrl="https://www.sueddeutsche.de/politik"/>
      <outline text="Regional">
        <outline type="rss" text="Münchner Merkur &amp; tz" xmlUrl="https://www.merkur.de/politik/rssfeed.rdf"/>
      </outline>
    </outline>
    <outline type="rss" text="Le Monde – International" xmlUrl="https://www.lemonde.fr/international/rss_full.xml"/>
    <outline type="rss" title="" text="" xmlUrl="https://blog.example.org/feed?x=1&amp;y=2"/>
    <outline type="rss" text="Kaputt" xmlUrl="feed://nicht.example/rss"/>
  </body>
</opml>"#;

    #[test]
    fn nested_outlines_are_read_with_their_folders() {
        let outlines = parse(OPML).unwrap();
        let shown: Vec<(&str, &str, Vec<&str>)> = outlines
            .iter()
            .map(|o| {
                (
                    o.title.as_str(),
                    o.xml_url.as_str(),
                    o.folders.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "Süddeutsche Zeitung – Politik",
                    "https://rss.sueddeutsche.de/rss/Politik",
                    vec!["Nachrichten"]
                ),
                (
                    "Münchner Merkur & tz",
                    "https://www.merkur.de/politik/rssfeed.rdf",
                    vec!["Nachrichten", "Regional"]
                ),
                (
                    "Le Monde – International",
                    "https://www.lemonde.fr/international/rss_full.xml",
                    vec![]
                ),
                ("", "https://blog.example.org/feed?x=1&y=2", vec![]),
                ("Kaputt", "feed://nicht.example/rss", vec![]),
            ]
        );
    }

    #[test]
    fn slugs_spell_out_german_letters() {
        assert_eq!(
            slug("Süddeutsche Zeitung – Politik"),
            "sueddeutsche-zeitung-politik"
        );
        assert_eq!(slug("Münchner Merkur & tz"), "muenchner-merkur-tz");
        assert_eq!(slug("ÖRR: Straße, Größe"), "oerr-strasse-groesse");
        assert_eq!(slug("Le Monde – À la une"), "le-monde-a-la-une");
        assert_eq!(slug("  --Heise online!-- "), "heise-online");
        assert_eq!(slug("北京新闻"), "");
        let long = slug(&"Nachrichten aus aller Welt ".repeat(5));
        assert!(long.len() <= MAX_NAME && !long.ends_with('-'), "{long}");
        assert!(long.starts_with("nachrichten-aus-aller-welt-nachrichten"));
    }

    #[test]
    fn names_are_unique_against_the_config_and_each_other() {
        let mut names = Names::new(["merkur", "merkur-2"]);
        assert_eq!(names.unique("merkur"), "merkur-3");
        assert_eq!(names.unique("merkur"), "merkur-4");
        assert_eq!(names.unique("zeit"), "zeit");
        assert_eq!(names.unique(""), "feed");
        assert_eq!(names.unique(""), "feed-2");
    }

    #[test]
    fn blocks_are_ready_to_append() {
        let merkur = Url::parse("https://www.merkur.de/politik/rssfeed.rdf").unwrap();
        let text = blocks(
            &parse(OPML).unwrap(),
            &["le-monde-international", "merkur-politik"],
            &[("merkur-politik", &merkur)],
            "abos.opml",
        );
        assert_eq!(
            text,
            r#"# 3 feeds from abos.opml; append to the config.

# Süddeutsche Zeitung – Politik (in Nachrichten)
[[source]]
name = "sueddeutsche-zeitung-politik"
type = "feed"
url = "https://rss.sueddeutsche.de/rss/Politik"

# "Münchner Merkur & tz" (https://www.merkur.de/politik/rssfeed.rdf) is already configured as source "merkur-politik"

# Le Monde – International
[[source]]
name = "le-monde-international-2"
type = "feed"
url = "https://www.lemonde.fr/international/rss_full.xml"

# blog.example.org
[[source]]
name = "blog-example-org"
type = "feed"
url = "https://blog.example.org/feed?x=1&y=2"

# skipped "Kaputt": its xmlUrl feed://nicht.example/rss is not an http(s) address

"#
        );
        // The blocks are a valid config fragment.
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["source"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn what_is_not_opml_is_named() {
        assert_eq!(
            parse("<rss version=\"2.0\"><channel/></rss>").unwrap_err(),
            "the root element is <rss>, not <opml>"
        );
        assert!(parse("<opml><body><outline")
            .unwrap_err()
            .starts_with("not well-formed XML"));
        assert_eq!(parse("").unwrap_err(), "the file is empty");
        assert_eq!(
            blocks(&[], &[], &[], "leer.opml"),
            "# leer.opml lists no feeds that are not configured already.\n"
        );
    }

    #[test]
    fn hostile_titles_stay_comments_and_strings() {
        let o = FeedOutline {
            title: "Evil\n[[source]]\nname = \"x\"\"\"".into(),
            xml_url: "https://e.example/\"feed\"".into(),
            folders: vec![],
        };
        let text = blocks(&[o], &[], &[], "x.opml");
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let sources = parsed["source"].as_array().unwrap();
        assert_eq!(sources.len(), 1);
        assert_eq!(sources[0]["name"].as_str(), Some("evil-source-name-x"));
        assert_eq!(
            sources[0]["url"].as_str(),
            Some("https://e.example/%22feed%22")
        );
    }
}
