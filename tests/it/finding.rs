//! Finding sources: OPML out of one config and into another, and
//! `discover` against local sites.

use crate::{mentions, write_config};

const TOPIC: &str = "[[topic]]\nname = \"nk\"\nquery = 'nordkorea AND russland'\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opml_round_trip_between_two_configs() {
    let from = tempfile::tempdir().unwrap();
    let exported = write_config(
        from.path(),
        &format!(
            r#"{TOPIC}
[[source]]
name = "sueddeutsche-politik"
type = "feed"
url = "https://rss.sueddeutsche.de/rss/Politik"

[[source]]
name = "merkur-politik"
type = "feed"
url = "https://www.merkur.de/politik/rssfeed.rdf"

[[source]]
name = "news-sitemap"
type = "sitemap"
url = "https://www.merkur.de/news-sitemap.xml"

[[source]]
name = "hn"
type = "hackernews"
"#
        ),
    );
    // Only the config is read: no database is needed, none is made.
    let opml = mentions(&exported, &["sources", "--format", "opml"]).await;
    assert_eq!(opml.code, 0, "{opml:?}");
    assert!(!from.path().join("mentions.db").exists());
    assert!(
        opml.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"),
        "{}",
        opml.stdout
    );
    assert_eq!(opml.stdout.matches("<outline ").count(), 2, "feeds only");

    let to = tempfile::tempdir().unwrap();
    let existing = format!(
        r#"{TOPIC}
[[source]]
name = "sueddeutsche-politik"
type = "feed"
url = "https://rss.sueddeutsche.de/rss/Topthemen"

[[source]]
name = "merkur"
type = "feed"
url = "https://www.merkur.de/politik/rssfeed.rdf"
"#
    );
    let config = write_config(to.path(), &existing);
    let file = to.path().join("abos.opml");
    std::fs::write(&file, &opml.stdout).unwrap();
    let imported = mentions(&config, &["import", file.to_str().unwrap()]).await;
    assert_eq!(imported.code, 0, "{imported:?}");
    let blocks = imported.stdout;
    assert!(
        blocks.contains(
            "# sueddeutsche-politik\n[[source]]\nname = \"sueddeutsche-politik-2\"\ntype = \"feed\"\nurl = \"https://rss.sueddeutsche.de/rss/Politik\"\n"
        ),
        "{blocks}"
    );
    assert!(
        blocks.contains("is already configured as source \"merkur\""),
        "{blocks}"
    );
    // Appended, the blocks make a valid config with one more source.
    std::fs::write(&config, format!("{existing}\n{blocks}")).unwrap();
    let check = mentions(&config, &["check"]).await;
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check.stdout.contains("sueddeutsche-politik-2"),
        "{}",
        check.stdout
    );

    let missing = mentions(&config, &["import", "nirgends.opml"]).await;
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("cannot read nirgends.opml"),
        "{}",
        missing.stderr
    );
    std::fs::write(&file, "<rss version=\"2.0\"><channel/></rss>").unwrap();
    let not_opml = mentions(&config, &["import", file.to_str().unwrap()]).await;
    assert_eq!(not_opml.code, 2, "{not_opml:?}");
    assert!(
        not_opml
            .stderr
            .contains("is not an OPML file: the root element is <rss>, not <opml>"),
        "{}",
        not_opml.stderr
    );
}
