//! Leases: how several nodes (daemons on different machines) share the
//! sources of one PostgreSQL database. A node runs a source only while it
//! holds the source's lease; it renews its leases while it runs, releases
//! them all when it stops (SIGTERM), and a lease not renewed by its
//! `expires_at` may be taken over by another node (a node that died). A
//! scheduled fire time of a source is claimed once across the cluster, so
//! however many nodes compute the same schedule, one of them runs it.
//!
//! Times are unix seconds. Each call takes `now` from the caller; a daemon
//! passes the database's clock (`Postgres::server_now`) so that nodes need
//! not agree on theirs, and tests pass fixed times.
//!
//! `cluster.rs` runs the daemon on these.

use super::{PgError, Postgres};
use crate::sources::Kind;

/// A source a node holds, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub source: String,
    pub expires_at: i64,
}

/// The end of a statement whose CTE `taken` returns the leases a node just
/// got (`source_id`, `expires_at`): marks the node on those sources and
/// answers them by name, as [`Postgres::leases`] reads them.
const MARK_TAKEN: &str = ", marked AS (
                     UPDATE source SET node = $1::text FROM taken
                     WHERE source.id = taken.source_id
                     RETURNING source.name, taken.expires_at
                 )
                 SELECT name, expires_at FROM marked ORDER BY name";

impl Postgres {
    /// Runs `sql`, whose rows are (source name, lease expiry), as leases.
    async fn leases(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Claimed>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(sql, params)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(rows
            .iter()
            .map(|r| Claimed {
                source: r.get(0),
                expires_at: r.get(1),
            })
            .collect())
    }

    /// The database server's clock, in unix seconds.
    pub async fn server_now(&self) -> Result<i64, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint",
                &[],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(row.get(0))
    }

    /// Makes sure the configured sources have rows (name, type, kind), as
    /// the SQLite store's first commit of a source does.
    pub async fn register_sources(&self, sources: &[(&str, &str, Kind)]) -> Result<(), PgError> {
        let names: Vec<&str> = sources.iter().map(|s| s.0).collect();
        let types: Vec<&str> = sources.iter().map(|s| s.1).collect();
        let kinds: Vec<i64> = sources.iter().map(|s| s.2.code()).collect();
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO source (name, type, kind)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
                 ON CONFLICT (name) DO UPDATE SET type = excluded.type, kind = excluded.kind",
                &[&names, &types, &kinds],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }

    /// Claims, for `node`, those of the `due` sources that no other node
    /// holds: free ones, expired ones (taken over) and the node's own
    /// (extended). Sources another transaction is claiming at this moment
    /// are skipped (`FOR UPDATE SKIP LOCKED`), never waited for; the
    /// `ON CONFLICT … WHERE` guard re-checks the lease as committed, so two
    /// nodes never both get one source. Returns what `node` now holds of
    /// `due`, by name; it also becomes each source's `node`.
    pub async fn claim_due(
        &self,
        node: &str,
        due: &[&str],
        ttl_secs: i64,
        now: i64,
    ) -> Result<Vec<Claimed>, PgError> {
        self.leases(
            &format!(
                "WITH due AS (
                     SELECT s.id FROM source s
                     WHERE s.name = ANY($2::text[])
                       AND NOT EXISTS (
                           SELECT 1 FROM source_lease l
                           WHERE l.source_id = s.id AND l.node <> $1::text AND l.expires_at > $3::bigint)
                     ORDER BY s.id
                     FOR UPDATE OF s SKIP LOCKED
                 ), taken AS (
                     INSERT INTO source_lease (source_id, node, acquired_at, expires_at)
                     SELECT id, $1::text, $3::bigint, $3::bigint + $4::bigint FROM due
                     ON CONFLICT (source_id) DO UPDATE
                         SET node = excluded.node,
                             acquired_at = CASE WHEN source_lease.node = excluded.node
                                                THEN source_lease.acquired_at
                                                ELSE excluded.acquired_at END,
                             expires_at = excluded.expires_at
                         WHERE source_lease.node = excluded.node
                            OR source_lease.expires_at <= excluded.acquired_at
                     RETURNING source_id, expires_at
                 ) {MARK_TAKEN}"
            ),
            &[&node, &due, &now, &ttl_secs],
        )
        .await
    }

    /// Extends every lease `node` still holds to `now + ttl_secs`. A lease
    /// another node took over is not the node's any more and is not in the
    /// answer: the node must stop running that source.
    pub async fn renew(
        &self,
        node: &str,
        ttl_secs: i64,
        now: i64,
    ) -> Result<Vec<Claimed>, PgError> {
        self.leases(
            "WITH renewed AS (
                     UPDATE source_lease SET expires_at = $2::bigint + $3::bigint
                     WHERE node = $1::text
                     RETURNING source_id, expires_at
                 )
                 SELECT s.name, r.expires_at FROM renewed r JOIN source s ON s.id = r.source_id
                 ORDER BY s.name",
            &[&node, &now, &ttl_secs],
        )
        .await
    }

    /// Takes over, for `node`, the leases among `sources` that expired
    /// without being released: the crawls a node started and never
    /// finished (it died, or lost the database for longer than a lease).
    /// Each is given to exactly one of the nodes that ask at once (the
    /// update re-checks the expiry of the row as committed). Returns what
    /// `node` took; it becomes each source's `node`.
    pub async fn take_over_expired(
        &self,
        node: &str,
        sources: &[&str],
        ttl_secs: i64,
        now: i64,
    ) -> Result<Vec<Claimed>, PgError> {
        self.leases(
            &format!(
                "WITH taken AS (
                     UPDATE source_lease l
                     SET node = $1::text, acquired_at = $3::bigint, expires_at = $3::bigint + $4::bigint
                     FROM source s
                     WHERE s.id = l.source_id AND s.name = ANY($2::text[])
                       AND l.expires_at <= $3::bigint
                     RETURNING l.source_id, l.expires_at
                 ) {MARK_TAKEN}"
            ),
            &[&node, &sources, &now, &ttl_secs],
        )
        .await
    }

    /// Gives up one source's lease (its run ended). True when `node` held it.
    pub async fn release(&self, node: &str, source: &str) -> Result<bool, PgError> {
        let client = self.client().await?;
        let n = client
            .execute(
                "DELETE FROM source_lease l USING source s
                 WHERE s.id = l.source_id AND s.name = $2 AND l.node = $1",
                &[&node, &source],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(n > 0)
    }

    /// Gives up every lease of `node` at once (on SIGTERM), so the other
    /// nodes need not wait for them to expire. Returns how many it held.
    pub async fn release_all(&self, node: &str) -> Result<u64, PgError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM source_lease WHERE node = $1", &[&node])
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Claims the run of `source` scheduled at `fire_at` for `node`; true
    /// for exactly one of all the nodes that ask (the row's primary key
    /// decides), false for the others. A source without a row is an error.
    pub async fn claim_fire(
        &self,
        node: &str,
        source: &str,
        fire_at: i64,
        now: i64,
    ) -> Result<bool, PgError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "WITH s AS (SELECT id FROM source WHERE name = $2::text),
                 claimed AS (
                     INSERT INTO source_fire (source_id, fire_at, node, claimed_at)
                     SELECT id, $3::bigint, $1::text, $4::bigint FROM s
                     ON CONFLICT (source_id, fire_at) DO NOTHING
                     RETURNING 1
                 )
                 SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM claimed)",
                &[&node, &source, &fire_at, &now],
            )
            .await
            .map_err(|e| self.query_error(e))?;
        let (known, claimed): (i64, i64) = (row.get(0), row.get(1));
        if known == 0 {
            return Err(PgError::Query {
                target: self.target().describe(),
                detail: format!("no source named {source:?} (register_sources first)"),
            });
        }
        Ok(claimed == 1)
    }

    /// Deletes claimed fire times older than `before`; returns how many.
    pub async fn prune_fires(&self, before: i64) -> Result<u64, PgError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM source_fire WHERE claimed_at < $1", &[&before])
            .await
            .map_err(|e| self.query_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdb::TestDb;
    use super::super::PgTarget;
    use super::*;
    use std::collections::BTreeSet;

    /// `n` nodes, each a pool of its own (as separate daemons would be),
    /// on a database with sources s00..s{count}.
    async fn cluster(db: &TestDb, nodes: usize, count: usize) -> (Vec<Postgres>, Vec<String>) {
        let target = PgTarget::parse(db.url()).unwrap();
        let mut pools = Vec::new();
        for _ in 0..nodes {
            pools.push(Postgres::connect(&target, 3).await.unwrap());
        }
        let names: Vec<String> = (0..count).map(|i| format!("s{i:02}")).collect();
        let sources: Vec<(&str, &str, Kind)> = names
            .iter()
            .map(|n| (n.as_str(), "feed", Kind::Web))
            .collect();
        pools[0].register_sources(&sources).await.unwrap();
        (pools, names)
    }

    fn names(claimed: &[Claimed]) -> Vec<&str> {
        claimed.iter().map(|c| c.source.as_str()).collect()
    }

    /// (source, node) of every lease row.
    async fn leases(pg: &Postgres) -> Vec<(String, String)> {
        pg.client()
            .await
            .unwrap()
            .query(
                "SELECT s.name, l.node FROM source_lease l JOIN source s ON s.id = l.source_id ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn expired_unreleased_leases_are_taken_over_once() {
        let Some(db) = TestDb::create("lease takeover").await else {
            return;
        };
        let (pools, all) = cluster(&db, 3, 12).await;
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        // node-dead holds s00..s05 until 1030 and dies; node-a holds s06 and s07
        // and renews; s08 was released after its run; s09..s11 never ran.
        assert_eq!(
            pools[0]
                .claim_due("node-dead", &all[..6], 30, 1000)
                .await
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            pools[1]
                .claim_due("node-a", &all[6..9], 30, 1000)
                .await
                .unwrap()
                .len(),
            3
        );
        assert!(pools[1].release("node-a", "s08").await.unwrap());
        // Before expiry nothing is taken over.
        assert!(pools[1]
            .take_over_expired("node-a", &all, 30, 1029)
            .await
            .unwrap()
            .is_empty());
        pools[1].renew("node-a", 30, 1020).await.unwrap();
        // At expiry, two nodes ask at once for everything: each dead lease goes to one.
        let (a, b) = tokio::join!(
            pools[1].take_over_expired("node-a", &all, 30, 1030),
            pools[2].take_over_expired("node-b", &all, 30, 1030),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut taken: Vec<&str> = names(&a).into_iter().chain(names(&b)).collect();
        taken.sort_unstable();
        assert_eq!(
            taken,
            &all[..6],
            "the dead node's six, once each: {a:?} {b:?}"
        );
        assert!(a.iter().chain(&b).all(|c| c.expires_at == 1060));
        let rows = leases(&pools[0]).await;
        assert_eq!(rows.len(), 8, "{rows:?}");
        assert!(rows.iter().all(|(_, node)| node != "node-dead"), "{rows:?}");
        assert!(rows.contains(&("s06".into(), "node-a".into())), "{rows:?}");
        // The source rows name the node that took them.
        let client = pools[0].client().await.unwrap();
        for c in a.iter() {
            let node: String = client
                .query_one("SELECT node FROM source WHERE name = $1", &[&c.source])
                .await
                .unwrap()
                .get(0);
            assert_eq!(node, "node-a");
        }
        // Taken over once: asking again gives nothing.
        assert!(pools[2]
            .take_over_expired("node-b", &all, 30, 1031)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn concurrent_claims_give_each_source_to_exactly_one_node() {
        let Some(db) = TestDb::create("lease claims").await else {
            return;
        };
        let (pools, all) = cluster(&db, 3, 40).await;
        for round in 0..5_i64 {
            let now = 1000 + round * 1000;
            let tasks: Vec<_> = pools
                .iter()
                .enumerate()
                .map(|(i, pg)| {
                    let pg = pg.clone();
                    let due = all.clone();
                    tokio::spawn(async move {
                        let due: Vec<&str> = due.iter().map(String::as_str).collect();
                        let node = format!("node-{i}");
                        // Half the rounds claim all at once, half one by one in
                        // an order of the node's own, so claims interleave.
                        if round % 2 == 0 {
                            let got = pg.claim_due(&node, &due, 60, now).await.unwrap();
                            return (node, got);
                        }
                        let mut order = due.clone();
                        fastrand::Rng::with_seed(round as u64 * 10 + i as u64).shuffle(&mut order);
                        let mut got = Vec::new();
                        for name in order {
                            got.extend(pg.claim_due(&node, &[name], 60, now).await.unwrap());
                        }
                        (node, got)
                    })
                })
                .collect();
            let mut seen = BTreeSet::new();
            let mut expected_rows = Vec::new();
            for task in tasks {
                let (node, got) = task.await.unwrap();
                for c in &got {
                    assert_eq!(c.expires_at, now + 60);
                    assert!(seen.insert(c.source.clone()), "{} claimed twice", c.source);
                    expected_rows.push((c.source.clone(), node.clone()));
                }
            }
            assert_eq!(seen.len(), 40, "round {round}: every due source claimed");
            expected_rows.sort();
            assert_eq!(leases(&pools[0]).await, expected_rows);
            // Held and unexpired: a later claim by anyone else gets nothing.
            for (i, pg) in pools.iter().enumerate() {
                let due: Vec<&str> = all.iter().map(String::as_str).collect();
                let mine = expected_rows
                    .iter()
                    .filter(|r| r.1 == format!("node-{i}"))
                    .count();
                let again = pg
                    .claim_due(&format!("node-{i}"), &due, 60, now + 30)
                    .await
                    .unwrap();
                assert_eq!(again.len(), mine, "a node extends only its own");
                assert!(pg
                    .claim_due("node-x", &due, 60, now + 59)
                    .await
                    .unwrap()
                    .is_empty());
            }
            for (i, pg) in pools.iter().enumerate() {
                pg.release_all(&format!("node-{i}")).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn a_source_being_claimed_elsewhere_is_skipped_not_waited_for() {
        let Some(db) = TestDb::create("lease skip locked").await else {
            return;
        };
        let (pools, _) = cluster(&db, 2, 3).await;
        // Another node's claim in progress: its transaction holds s01's row.
        let mut other = pools[1].client().await.unwrap();
        let tx = other.transaction().await.unwrap();
        tx.execute("SELECT 1 FROM source WHERE name = 's01' FOR UPDATE", &[])
            .await
            .unwrap();
        let got = pools[0]
            .claim_due("a", &["s00", "s01", "s02"], 60, 1000)
            .await
            .unwrap();
        assert_eq!(names(&got), ["s00", "s02"]);
        tx.rollback().await.unwrap();
        let got = pools[0]
            .claim_due("a", &["s00", "s01", "s02"], 60, 1001)
            .await
            .unwrap();
        assert_eq!(names(&got), ["s00", "s01", "s02"]);
    }

    /// Another node's claim of the same source, not committed yet: its
    /// lease row's foreign key holds the source row, so this claim skips
    /// the source instead of waiting, and never overwrites the lease once
    /// it is committed.
    #[tokio::test]
    async fn an_uncommitted_claim_elsewhere_is_skipped_and_then_held() {
        let Some(db) = TestDb::create("lease race").await else {
            return;
        };
        let (pools, _) = cluster(&db, 2, 2).await;
        let mut other = pools[1].client().await.unwrap();
        let tx = other.transaction().await.unwrap();
        tx.execute(
            "INSERT INTO source_lease (source_id, node, acquired_at, expires_at)
             SELECT id, 'a', 1000, 1060 FROM source WHERE name = 's00'",
            &[],
        )
        .await
        .unwrap();
        let got = pools[0]
            .claim_due("b", &["s00", "s01"], 60, 1001)
            .await
            .unwrap();
        assert_eq!(names(&got), ["s01"]);
        tx.commit().await.unwrap();
        assert!(pools[0]
            .claim_due("b", &["s00"], 60, 1002)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            leases(&pools[0]).await,
            [("s00".into(), "a".into()), ("s01".into(), "b".into())]
        );
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_the_old_node_loses_it() {
        let Some(db) = TestDb::create("lease expiry").await else {
            return;
        };
        let (pools, _) = cluster(&db, 2, 2).await;
        let (a, b) = (&pools[0], &pools[1]);
        let got = a.claim_due("a", &["s00", "s01"], 60, 1000).await.unwrap();
        assert_eq!(names(&got), ["s00", "s01"]);
        assert!(b
            .claim_due("b", &["s00"], 60, 1059)
            .await
            .unwrap()
            .is_empty());
        let got = b.claim_due("b", &["s00"], 60, 1060).await.unwrap();
        assert_eq!(
            got,
            [Claimed {
                source: "s00".into(),
                expires_at: 1120
            }]
        );
        // The old node renews what it still holds, which is only s01.
        let renewed = a.renew("a", 60, 1061).await.unwrap();
        assert_eq!(
            renewed,
            [Claimed {
                source: "s01".into(),
                expires_at: 1121
            }]
        );
        assert_eq!(
            leases(a).await,
            [("s00".into(), "b".into()), ("s01".into(), "a".into())]
        );
        let node: Option<String> = a
            .client()
            .await
            .unwrap()
            .query_one("SELECT node FROM source WHERE name = 's00'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(node.as_deref(), Some("b"));
        // Renewed in time, a lease holds past its first expiry.
        assert!(b
            .claim_due("b", &["s01"], 60, 1120)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            names(&b.claim_due("b", &["s01"], 60, 1121).await.unwrap()),
            ["s01"]
        );
        // Unknown names claim nothing.
        assert!(a
            .claim_due("a", &["nope"], 60, 5000)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn release_frees_at_once() {
        let Some(db) = TestDb::create("lease release").await else {
            return;
        };
        let (pools, _) = cluster(&db, 2, 3).await;
        let (a, b) = (&pools[0], &pools[1]);
        assert_eq!(
            a.claim_due("a", &["s00", "s01", "s02"], 600, 1000)
                .await
                .unwrap()
                .len(),
            3
        );
        assert!(a.release("a", "s01").await.unwrap());
        assert!(!b.release("b", "s00").await.unwrap(), "not b's to release");
        assert_eq!(
            names(
                &b.claim_due("b", &["s00", "s01", "s02"], 600, 1001)
                    .await
                    .unwrap()
            ),
            ["s01"]
        );
        assert_eq!(a.release_all("a").await.unwrap(), 2);
        assert_eq!(
            names(
                &b.claim_due("b", &["s00", "s01", "s02"], 600, 1002)
                    .await
                    .unwrap()
            ),
            ["s00", "s01", "s02"]
        );
        assert_eq!(a.release_all("a").await.unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn a_fire_time_is_claimed_once_across_three_nodes() {
        let Some(db) = TestDb::create("fire claims").await else {
            return;
        };
        let (pools, _) = cluster(&db, 3, 1).await;
        for fire_at in (0..20_i64).map(|i| 3600 * i) {
            let tasks: Vec<_> = pools
                .iter()
                .enumerate()
                .map(|(i, pg)| {
                    let pg = pg.clone();
                    tokio::spawn(async move {
                        pg.claim_fire(&format!("node-{i}"), "s00", fire_at, fire_at)
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut wins = 0;
            for t in tasks {
                wins += usize::from(t.await.unwrap());
            }
            assert_eq!(wins, 1, "fire time {fire_at}");
        }
        let c = pools[0].client().await.unwrap();
        let n: i64 = c
            .query_one("SELECT count(*) FROM source_fire", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 20);
        assert!(!pools[1].claim_fire("late", "s00", 0, 99_999).await.unwrap());
        assert_eq!(pools[0].prune_fires(3600 * 10).await.unwrap(), 10);
        let err = pools[0].claim_fire("a", "unknown", 0, 0).await.unwrap_err();
        assert!(
            err.to_string().contains("no source named \"unknown\""),
            "{err}"
        );
    }
}
