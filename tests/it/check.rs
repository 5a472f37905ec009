//! `mentions check`: a broken config exits 2 with a message naming the
//! file, the line and the key; a good one prints a summary.

use crate::mentions_blocking;
use mentions::sources::Kind;
use std::path::Path;

fn check(config: &str) -> crate::Run {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::write_config(dir.path(), config);
    mentions_blocking(&path, &["check".to_owned()])
}

pub(crate) const GOOD: &str = r#"
[database]
path = "m.db"

[[topic]]
name = "nk"
query = "nordkorea AND russland"

[[source]]
name = "feed-one"
type = "feed"
url = "https://example.org/feed.xml"
"#;

#[test]
fn a_good_config_prints_a_summary() {
    let run = check(GOOD);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("config.toml: OK"), "{}", run.stdout);
    assert!(
        run.stdout.contains("feed-one: feed (web)"),
        "{}",
        run.stdout
    );
}

/// Each broken config, the line it breaks on, and words the message must hold.
fn assert_rejected(config: &str, line: usize, words: &[&str]) {
    let run = check(config);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    let msg = run.stderr.trim();
    assert!(
        msg.contains(&format!("config.toml:{line}")),
        "no line {line} in: {msg}"
    );
    for w in words {
        assert!(msg.contains(w), "{w:?} missing in: {msg}");
    }
    assert!(!msg.contains("panicked"), "{msg}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    assert_rejected(&GOOD.replace("name = \"nk\"", "name = \"nk"), 6, &[]);
}

#[test]
fn unknown_source_type_names_the_type() {
    assert_rejected(
        &GOOD.replace("type = \"feed\"", "type = \"rss\""),
        11,
        &["rss", "feed-one"],
    );
}

#[test]
fn bad_cron_expression_names_the_key() {
    let config = GOOD.replace(
        "type = \"feed\"",
        "type = \"feed\"\nschedule = \"every five minutes\"",
    );
    assert_rejected(&config, 12, &["schedule", "feed-one"]);
}

#[test]
fn unbalanced_query_names_the_topic_and_position() {
    let config = GOOD.replace("nordkorea AND russland", "(nordkorea AND russland");
    assert_rejected(&config, 7, &["nk", "query", "position"]);
}

#[test]
fn missing_required_key_names_it() {
    let config = GOOD.replace("url = \"https://example.org/feed.xml\"\n", "");
    assert_rejected(&config, 9, &["url", "feed-one"]);
}

#[test]
fn unknown_key_names_it() {
    let config = GOOD.replace("[[topic]]", "[[topic]]\ncolour = \"red\"");
    assert_rejected(&config, 6, &["colour"]);
}

#[test]
fn the_shipped_example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let settings = mentions::config::Settings::load(&path).unwrap();
    assert_eq!(settings.topics.len(), 1);
    assert!(settings.sources.len() >= 8);
    assert!(settings
        .sources
        .iter()
        .any(|s| s.spec.type_name() == "sitemap"));
    assert!(settings
        .sources
        .iter()
        .any(|s| s.spec.type_name() == "html"));
    for kind in [Kind::Web, Kind::Social, Kind::Forum] {
        assert!(
            settings.sources.iter().any(|s| s.kind == kind),
            "no {kind:?} source"
        );
    }
    assert_eq!(
        settings.database,
        path.parent().unwrap().join("mentions.db")
    );
}

#[test]
fn a_schedule_that_never_fires_is_a_warning() {
    let run = check(&format!("{GOOD}schedule = \"0 0 0 30 2 *\"\n"));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("(never fires)"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("warning: source \"feed-one\": schedule \"0 0 0 30 2 *\" never fires"),
        "{}",
        run.stderr
    );
    let fine = check(GOOD);
    assert!(!fine.stderr.contains("never fires"), "{}", fine.stderr);
}
