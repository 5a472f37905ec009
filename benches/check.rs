//! `mentions check` on configs of many sources: 10,000 and 20,000 feeds
//! (names and URLs all different, spread over 5,000 hosts, both topics
//! each), the release binary run under /usr/bin/time from start to exit.
//! Checks that it exits 0 and lists every source.
//!
//! `cargo build --release && cargo bench --bench check -- [--runs N] [--sources N]`

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::Path;

fn main() {
    let mut runs = 3usize;
    let mut sizes = vec![10_000usize, 20_000];
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--sources" => {
                if let Some(n) = it.next().and_then(|v| v.parse().ok()) {
                    sizes = vec![n];
                }
            }
            _ => {}
        }
    }
    let dir = out_dir();
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mentions");
    let time_file = dir.join("check.time");
    for sources in sizes {
        let db = dir.join("check.db");
        let config = feed_sources_config(&database_path(&db), "", sources, |s| {
            format!(
                "url = \"https://h{}.example.org/feed/{s}.xml\"\n",
                s % 5_000
            )
        });
        let config_path = dir.join(format!("check-{sources}.toml"));
        std::fs::write(&config_path, &config).expect("write config");
        println!(
            "check: {sources} feed sources, {:.1} MiB of config, `mentions check` (release)",
            mib(config.len() as u64)
        );
        let mut walls = Vec::new();
        for run in 0..runs {
            remove_database(&db);
            let t = run_timed(
                &[
                    binary.as_os_str(),
                    OsStr::new("--config"),
                    config_path.as_os_str(),
                    OsStr::new("check"),
                ],
                &time_file,
            );
            let listed = String::from_utf8_lossy(&t.output.stdout)
                .lines()
                .filter(|l| l.trim_start().starts_with("quelle-"))
                .count();
            assert_eq!(
                listed, sources,
                "check listed other sources than configured"
            );
            let (wall, user, sys) = (t.wall, t.user, t.sys);
            println!(
                "  run {}: {wall:.3} s, CPU {user:.2} s user + {sys:.2} s sys, peak RSS {:.1} MiB; {listed} sources listed OK",
                run + 1,
                t.peak_rss_kib / 1024.0
            );
            walls.push(wall);
        }
        walls.sort_by(f64::total_cmp);
        println!("check_{sources}_sources_s={:.3}", walls[walls.len() / 2]);
    }
}
