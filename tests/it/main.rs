//! Integration tests: one binary. Each test starts its own local HTTP
//! server on 127.0.0.1 (port 0) serving recorded payloads, runs the real
//! `mentions` binary against a config in a temporary folder, and asserts
//! exact counts from its output.

mod alerts;
mod bluesky_hn;
mod check;
mod cluster;
mod daemon;
mod dashboard;
mod fediverse;
mod finding;
mod hostile;
mod listing;
mod news;
mod platforms;
mod postgres;
mod postgres_read;
mod reddit_discourse;
mod retention;
mod secrets;
mod server;
mod service;
mod signals;
mod storage;
mod telegram_forums;
mod web;

use std::path::{Path, PathBuf};

/// `--from` and `--to` spanning every date a test stores.
pub const ALL_TIME: [&str; 4] = [
    "--from",
    "2000-01-01T00:00:00Z",
    "--to",
    "2100-01-01T00:00:00Z",
];

/// `report` of `topic` over every time, as JSON.
pub fn report_all(topic: &str) -> [&str; 9] {
    let [from, start, to, end] = ALL_TIME;
    [
        "report", "--topic", topic, "--format", "json", from, start, to, end,
    ]
}

/// A client for the tests' own requests. reqwest is built without a TLS
/// provider of its own (`mentions` hands it a ready rustls configuration),
/// so a client built here needs ring installed as the process's provider.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// Output of one `mentions` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Runs the binary with `--config <config>` and `args`, off the async runtime.
pub async fn mentions(config: &Path, args: &[&str]) -> Run {
    let config = config.to_owned();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || mentions_blocking(&config, &args))
        .await
        .unwrap()
}

/// Starts `mentions run` on `config` in the background, as node `node`
/// (`MENTIONS_NODE`) if given, its log (`mentions=info`) written to `log`.
pub fn spawn_run(config: &Path, node: Option<&str>, log: &Path) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mentions"));
    cmd.arg("--config").arg(config).arg("run");
    if let Some(node) = node {
        cmd.env("MENTIONS_NODE", node);
    }
    cmd.env("RUST_LOG", "mentions=info")
        .env_remove("MENTIONS_CONFIG")
        .env("NO_PROXY", "*")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).expect("the log file can be created"))
        .spawn()
        .expect("the mentions binary starts")
}

pub fn mentions_blocking(config: &Path, args: &[String]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mentions"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "mentions=info")
        .env_remove("MENTIONS_CONFIG")
        .env("NO_PROXY", "*")
        .output()
        .expect("the mentions binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `config.toml` into `dir` and returns its path.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A recorded payload from tests/fixtures/it, with `{A}` and `{B}` replaced
/// by the two host names of the test server (bytes, so non-UTF-8 files stay as they are).
pub fn fixture(name: &str, a: &str, b: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/it")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    replace(&replace(&bytes, b"{A}", a.as_bytes()), b"{B}", b.as_bytes())
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
