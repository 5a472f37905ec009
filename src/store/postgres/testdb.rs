//! For tests: a PostgreSQL database of its own for each test, created on
//! the server that `MENTIONS_TEST_POSTGRES` names and dropped (`WITH
//! (FORCE)`) when the guard drops, also when the test panics. Unset, the
//! PostgreSQL tests say so on stderr and return; set and unreachable, they
//! fail. Shared by the unit tests and `tests/it` (included by path there),
//! so it uses only the driver and `url`.

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable that names the test server.
pub const VAR: &str = "MENTIONS_TEST_POSTGRES";

/// A database that exists while this lives.
pub struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    /// A new empty database, or None (with the line on stderr) when
    /// `MENTIONS_TEST_POSTGRES` is unset. Panics when the server cannot be reached.
    pub async fn create(test: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(VAR) else {
            // Once per test binary, past the test harness's capture (which
            // would hide it for a test that passes).
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "PostgreSQL tests not run: set {VAR}=postgres://postgres@127.0.0.1:5432/postgres (first skipped: {test})"
                );
            });
            return None;
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "mentions_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..)
        );
        let client = admin(&admin_url).await;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e:?}"));
        let mut url =
            url::Url::parse(&admin_url).unwrap_or_else(|e| panic!("{VAR} is not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        Some(TestDb {
            admin_url,
            name,
            url: url.to_string(),
        })
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A connection to the administrative database (in a task of its own).
async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{VAR} is set but PostgreSQL cannot be reached there: {e:?}"));
    tokio::spawn(connection);
    client
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // drop the database from a thread with a runtime of its own.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the test database")
                .block_on(async {
                    let client = admin(&admin_url).await;
                    client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await
                })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e:?}", self.name),
            Err(_) => eprintln!("could not drop the test database {}", self.name),
        }
    }
}
