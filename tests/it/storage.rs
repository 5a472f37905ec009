//! Storage faults speak: a missing database is exit 3 naming the path and is
//! never created by a reader, a damaged one fails `check` with exit 3, and
//! no window panics. On a real full disk (a small tmpfs) a crawl that cannot
//! be stored exits 3 and its failure still reaches `sources`; readers work
//! in a read-only folder, with and without `run` writing. (A symlinked
//! database path taking the same lock is tested with the daemon, in
//! daemon.rs.) The disk tests mount file systems, so they need root; they
//! are skipped with a printed reason without it.

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
    let mut bytes = std::fs::read(&db).unwrap();
    // The header's page size: two bytes, big-endian, at offset 16.
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    assert_eq!(page, 8192);
    assert!(
        bytes.len() > page,
        "the new database has {} bytes",
        bytes.len()
    );
    for (i, b) in bytes.iter_mut().enumerate().skip(page) {
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

/// A tmpfs of 2 MiB mounted for one test; unmounted (with any bind mounts
/// of it) when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
    /// Read-only views of the disk, unmounted before their folders go.
    binds: Vec<tempfile::TempDir>,
}

impl SmallDisk {
    /// None, with the reason printed, where mounting is not possible (the
    /// tests run as root in CI).
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        match mount(&["-t", "tmpfs", "-o", "size=2m", "tmpfs"], dir.path()) {
            Ok(()) => Some(SmallDisk {
                dir,
                binds: Vec::new(),
            }),
            Err(why) => {
                eprintln!("skipped: cannot mount a tmpfs (needs root): {why}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        mount(&["-o", &format!("remount,{mode}")], self.path()).unwrap();
    }

    /// The disk again, read-only, at a new folder.
    fn bind_read_only(&mut self) -> std::path::PathBuf {
        let view = tempfile::tempdir().unwrap();
        let at = view.path().to_owned();
        mount(&["--bind", &self.path().display().to_string()], &at).unwrap();
        self.binds.push(view);
        mount(&["-o", "remount,bind,ro"], &at).unwrap();
        at
    }

    /// Writes a file until the disk is full, then frees `room` bytes of it.
    fn fill_leaving(&self, room: u64) {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&block[..512]).is_ok() {}
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(room)).unwrap();
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        for view in self.binds.iter().rev() {
            let _ = std::process::Command::new("umount")
                .arg(view.path())
                .status();
        }
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

fn mount(args: &[&str], at: &Path) -> Result<(), String> {
    let out = std::process::Command::new("mount")
        .args(args)
        .arg(at)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// A feed of `n` matching items with long titles: a crawl of it needs far
/// more room than a source's failure does.
fn big_feed(base: &str, n: usize) -> String {
    const WORDS: [&str; 32] = [
        "Soldaten",
        "Granaten",
        "Raketen",
        "Kursk",
        "Moskau",
        "Pjöngjang",
        "Abkommen",
        "Sanktionen",
        "Öl",
        "Satelliten",
        "Grenze",
        "Bahnlinie",
        "Hafen",
        "Rajin",
        "Munition",
        "Artillerie",
        "Gipfel",
        "Kreml",
        "Geheimdienst",
        "Lieferung",
        "Frachter",
        "Drohnen",
        "Ausbildung",
        "Front",
        "Verhandlungen",
        "Botschaft",
        "Delegation",
        "Wirtschaft",
        "Technik",
        "Weltraum",
        "Flugzeuge",
        "Truppen",
    ];
    // Different words in every title, so no two items are one mention.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let items: String = (0..n)
        .map(|i| {
            let words: Vec<&str> = (0..24)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    WORDS[(state % 32) as usize]
                })
                .collect();
            format!(
                "<item><title>Nordkorea und Russland {i}: {}</title><link>{base}/news/{i}.html</link><pubDate>Tue, 24 Nov 2026 10:00:00 +0000</pubDate></item>\n",
                words.join(" ")
            )
        })
        .collect();
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><link>{base}/</link><description>d</description>\n{items}</channel></rss>")
}

/// Config with the database at `db`, one feed source `big`.
fn disk_config(dir: &Path, db: &Path, feed: &str, extra: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[database]\npath = \"{}\"\n\n[crawler]\nuser_agent = \"mentions-test/1.0\"\ntimeout = \"5s\"\nretries = 0\n{extra}\n[[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n[[source]]\nname = \"big\"\ntype = \"feed\"\nurl = \"{feed}\"\n",
            db.display()
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_the_full_disk_cannot_take_exits_3_and_its_failure_is_recorded() {
    let Some(disk) = SmallDisk::mount() else {
        return;
    };
    let server = crate::server::TestServer::start().await;
    server.route("/robots.txt", crate::server::Route::status(404));
    server.route(
        "/big.xml",
        crate::server::Route::ok("application/rss+xml", big_feed(&server.url(""), 400)),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = disk.path().join("m.db");
    let config = disk_config(dir.path(), &db, &server.url("/big.xml"), "");
    assert_eq!(run(&config, &["check"]).code, 0);
    // Room to open the database and write a line, not a crawl of 400 items.
    disk.fill_leaving(160 * 1024);

    let out = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&config, &["crawl"])
    })
    .await
    .unwrap();
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(
        out.stdout,
        format!(
            "big: 0 new, 0 already counted, 400 items read; FAILED: could not store the crawl in {}: database error: database or disk is full\n",
            db.display()
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "mentions: the crawl of 1 of 1 sources could not be stored in {}. Free space",
            db.display()
        )),
        "{}",
        out.stderr
    );

    // With room again: `sources` shows the crawl that was not stored.
    disk.free();
    let out = run(&config, &["sources", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let big = &out.json()[0];
    assert_eq!(
        big["last_error"], "could not store the crawl: database error: database or disk is full",
        "{big}"
    );
    assert_eq!(big["consecutive_failures"], 1, "{big}");
    assert_eq!(big["mentions"], 0, "{big}");
    assert!(
        big["last_run"].is_string() && big["last_success"].is_null(),
        "{big}"
    );

    // The source fails again (and is stored): the failures count on.
    server.route("/big.xml", crate::server::Route::status(503));
    assert_eq!(run(&config, &["crawl"]).code, 1);
    let out = run(&config, &["sources", "--format", "json"]);
    let big = &out.json()[0];
    assert_eq!(big["consecutive_failures"], 2, "{big}");
    assert!(big["last_error"].as_str().unwrap().contains("503"), "{big}");

    // And then it is all stored.
    server.route(
        "/big.xml",
        crate::server::Route::ok("application/rss+xml", big_feed(&server.url(""), 400)),
    );
    let out = run(&config, &["crawl"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "big: 400 new, 0 already counted, 400 items read\n"
    );
    let out = run(&config, &["sources", "--format", "json"]);
    let big = &out.json()[0];
    assert_eq!(
        (&big["consecutive_failures"], &big["mentions"]),
        (&serde_json::json!(0), &serde_json::json!(400)),
        "{big}"
    );
}

/// A small disk holding `m.db`, crawled once from a feed of three items
/// (the server keeps serving it): the disk, the server, the config's
/// folder, the database and the config. None where mounting is not possible.
async fn crawled_disk() -> Option<(
    SmallDisk,
    crate::server::TestServer,
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
)> {
    let disk = SmallDisk::mount()?;
    let server = crate::server::TestServer::start().await;
    server.route("/robots.txt", crate::server::Route::status(404));
    server.route(
        "/big.xml",
        crate::server::Route::ok("application/rss+xml", big_feed(&server.url(""), 3)),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = disk.path().join("m.db");
    let config = disk_config(dir.path(), &db, &server.url("/big.xml"), "");
    let out = run(&config, &["crawl"]);
    assert_eq!(out.code, 0, "{out:?}");
    Some((disk, server, dir, db, config))
}

/// Readers read a database in a read-only folder: with no writer (no
/// write-ahead log to read) and while `run` writes through another mount.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_work_in_a_read_only_folder() {
    let Some((mut disk, server, dir, db, config)) = crawled_disk().await else {
        return;
    };
    disk.remount("ro");
    let readers = [
        &crate::report_all("nk")[..],
        &["sources", "--format", "json"],
        &["alerts"],
    ];
    for args in readers {
        let out = run(&config, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    }
    let report = run(&config, readers[0]);
    assert_eq!(report.json()["total"], 3, "{}", report.stdout);
    // A command that writes says so, naming the database.
    let out = run(&config, &["prune"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains(&db.display().to_string()),
        "{}",
        out.stderr
    );
    disk.remount("rw");

    // `run` writes through the disk's own mount; readers read through a
    // read-only view of it, where the write-ahead log exists but cannot be written.
    let view = disk.bind_read_only();
    server.route(
        "/big.xml",
        crate::server::Route::ok("application/rss+xml", big_feed(&server.url(""), 7)),
    );
    let service_dir = tempfile::tempdir().unwrap();
    let service = disk_config(
        service_dir.path(),
        &db,
        &server.url("/big.xml"),
        "schedule = \"*/1 * * * * *\"\n",
    );
    let _daemon = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_mentions"))
            .arg("--config")
            .arg(&service)
            .arg("run")
            .env("NO_PROXY", "*")
            .env_remove("NOTIFY_SOCKET")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let reader = disk_config(dir.path(), &view.join("m.db"), "http://unused.invalid/", "");
    let started = std::time::Instant::now();
    let total = loop {
        let out = run(&reader, readers[0]);
        assert_eq!(out.code, 0, "{out:?}");
        let total = out.json()["total"].clone();
        if total == 7 || started.elapsed() > std::time::Duration::from_secs(20) {
            break total;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(view.join("m.db-wal").exists());
    assert_eq!(total, 7, "the reader sees what `run` stores");
}

/// Through a read-only view, a write-ahead log without its index is a
/// writer opening or closing the database: a reader waits for it to
/// settle. One a dead writer left behind is reported, naming the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_waits_out_a_writer_opening_the_database_and_reports_a_stale_log() {
    let Some((mut disk, _server, dir, db, _config)) = crawled_disk().await else {
        return;
    };
    let view = disk.bind_read_only();
    let reader = disk_config(dir.path(), &view.join("m.db"), "http://unused.invalid/", "");
    let report = crate::report_all("nk");

    // A log with no index and no writer to make one.
    let wal = disk.path().join("m.db-wal");
    std::fs::write(&wal, b"").unwrap();
    assert!(!disk.path().join("m.db-shm").exists());
    let out = run(&reader, &report);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "{} exists but cannot be read",
            view.join("m.db-wal").display()
        )),
        "{}",
        out.stderr
    );

    // The same log, and a writer that opens the database a moment later
    // and holds it open until the reader is done.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let conn = rusqlite::Connection::open(&db).unwrap();
            let _: u32 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            let _ = stopped.recv();
        })
    };
    let out = run(&reader, &report);
    drop(stop);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["total"], 3, "{}", out.stdout);
    writer.join().unwrap();
}

/// A child process killed when dropped (before the disk it uses is unmounted).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
