//! Storage faults speak: a missing database is exit 3 naming the path and is
//! never created by a reader, a damaged one fails `check` with exit 3, and
//! no window panics. (A symlinked database path taking the same lock is
//! tested with the daemon, in daemon.rs.)

use crate::{mentions_blocking, write_config};
use std::path::Path;

// The config `check` accepts: database `m.db` beside it, one topic, one feed.
use crate::check::GOOD as CONFIG;

fn run(config: &Path, args: &[&str]) -> crate::Run {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    mentions_blocking(config, &args)
}

#[test]
fn readers_on_a_missing_database_exit_3_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), CONFIG);
    let db = dir.path().join("m.db");
    for args in [
        &["report"][..],
        &["report", "--format", "json"],
        &["sources"],
        &["alerts"],
    ] {
        let out = run(&config, args);
        assert_eq!(out.code, 3, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains(&db.display().to_string()) && out.stderr.contains("does not exist"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!db.exists(), "{args:?} created the database");
    }
    // `check` creates it; then readers work.
    assert_eq!(run(&config, &["check"]).code, 0);
    assert!(db.exists());
    let out = run(&config, &["report"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("Web: 0, Social: 0, Forums: 0"),
        "{out:?}"
    );
}

#[test]
fn check_on_a_damaged_database_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), CONFIG);
    assert_eq!(run(&config, &["check"]).code, 0);
    let db = dir.path().join("m.db");
    // Overwrite every page after the first (the header stays readable).
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    assert!(len > 4096, "the new database has {len} bytes");
    let mut bytes = std::fs::read(&db).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i % 251) as u8;
    }
    std::fs::write(&db, bytes).unwrap();
    let out = run(&config, &["check"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("m.db"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn a_window_reaching_too_far_back_is_a_usage_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), CONFIG);
    assert_eq!(run(&config, &["check"]).code, 0);
    for since in ["99999999999d", "36501d", "9999999999999999999999d"] {
        let out = run(&config, &["report", "--since", since]);
        assert_eq!(out.code, 2, "{since}: {out:?}");
        assert!(out.stderr.contains("--since"), "{since}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    assert_eq!(run(&config, &["report", "--since", "36500d"]).code, 0);
}
