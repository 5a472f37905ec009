//! Embeds `migrations/NNNN_*.sql` (SQLite) and `migrations/postgres/NNNN_*.sql`
//! in order, so a binary always carries the schema it expects, and asserts
//! that both lists have the same numbers: a schema change is made for both.

use std::fmt::Write as _;
use std::path::Path;

/// (version, file name) of the numbered `.sql` files in `dir`, checked for gaps.
fn numbered(dir: &Path) -> Vec<(u32, String)> {
    let mut files: Vec<(u32, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} exists: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_suffix(".sql")?.split('_').next()?.parse().ok()?;
            Some((version, name))
        })
        .collect();
    files.sort();
    for (i, (version, name)) in files.iter().enumerate() {
        assert_eq!(
            *version as usize,
            i + 1,
            "migrations must be numbered 0001, 0002, … without gaps: {}/{name}",
            dir.display()
        );
    }
    files
}

/// Writes `const {name}: &[(u32, &str, &str)]` listing `files` of `dir`.
fn write_list(name: &str, dir: &Path, files: &[(u32, String)], out_file: &str) {
    let mut out = format!(
        "/// (version, file name, SQL), in order.\npub const {name}: &[(u32, &str, &str)] = &[\n"
    );
    for (version, file) in files {
        let path = dir.join(file);
        writeln!(
            out,
            "    ({version}, {file:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join(out_file);
    std::fs::write(dest, out).unwrap();
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/postgres");
    // Read when the script runs, not when it was compiled: a moved checkout must embed its own files.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let sqlite_dir = Path::new(&manifest).join("migrations");
    let postgres_dir = sqlite_dir.join("postgres");
    let sqlite = numbered(&sqlite_dir);
    let postgres = numbered(&postgres_dir);
    let numbers = |files: &[(u32, String)]| files.iter().map(|f| f.0).collect::<Vec<_>>();
    assert_eq!(
        numbers(&sqlite),
        numbers(&postgres),
        "migrations/ (SQLite) and migrations/postgres/ must have the same numbers: \
         a schema change is written for both (a PostgreSQL file may hold only a comment \
         when the change means nothing there)"
    );
    write_list("MIGRATIONS", &sqlite_dir, &sqlite, "migrations.rs");
    write_list(
        "PG_MIGRATIONS",
        &postgres_dir,
        &postgres,
        "postgres_migrations.rs",
    );
}
