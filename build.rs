//! Embeds `migrations/NNNN_*.sql` in order, so a binary always carries the
//! schema it expects.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // Read when the script runs, not when it was compiled: a moved checkout must embed its own files.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("migrations");
    let mut files: Vec<(u32, String)> = std::fs::read_dir(&dir)
        .expect("migrations/ exists")
        .filter_map(|e| e.ok())
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
            "migrations must be numbered 0001, 0002, … without gaps: {name}"
        );
    }
    let mut out = String::from("/// (version, file name, SQL), in order.\npub const MIGRATIONS: &[(u32, &str, &str)] = &[\n");
    for (version, name) in &files {
        let path = dir.join(name);
        writeln!(
            out,
            "    ({version}, {name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(dest, out).unwrap();
}
