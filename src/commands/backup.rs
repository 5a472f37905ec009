//! `mentions backup FILE`: a consistent copy of the database, written while
//! `run` goes on writing. The copy is made beside FILE under a temporary
//! name, checked, and only then put in place, so FILE is never a partial
//! copy; an existing FILE is replaced only with `--force`. With
//! `[database] url` the copy is an SQLite database file written from one
//! snapshot of PostgreSQL (`Postgres::backup_into`).

use super::{open_existing_store, print, Failure};
use crate::config::Settings;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(super) fn backup(settings: &Settings, file: &Path, force: bool) -> Result<ExitCode, Failure> {
    let target = resolved(file);
    if settings.postgres.is_none() {
        let database = resolved(&settings.database);
        let own_files = ["", "-wal", "-shm", "-journal", ".lock"].map(|suffix| {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        });
        if own_files.contains(&target) {
            return Err(Failure::Usage(format!(
                "{} is the database itself (or one of its files); name another file for the copy",
                file.display()
            )));
        }
    }
    if target.is_dir() {
        return Err(Failure::Usage(format!(
            "{} is a folder; name the file to write, e.g. {}",
            file.display(),
            file.join("mentions.db").display()
        )));
    }
    if file.exists() && !force {
        return Err(Failure::Usage(format!(
            "{} already exists; pass --force to replace it or name another file",
            file.display()
        )));
    }
    let folder = target.parent().unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Failure::Storage(format!(
            "cannot write {}: the folder {} does not exist",
            file.display(),
            folder.display()
        )));
    }
    let partial = partial(&target);
    remove(&partial);
    // What is copied: the SQLite file, or the PostgreSQL database.
    let (source, copied) = match &settings.postgres {
        None => {
            let store = open_existing_store(settings)?;
            let copied = store.backup_into(&partial).map_err(|e| e.to_string());
            (settings.database.display().to_string(), copied)
        }
        Some(pg) => {
            let runtime = super::runtime()?;
            let copied = runtime.block_on(async {
                let db = super::crawl::connect_postgres(pg, 1).await?;
                Ok::<_, Failure>(
                    db.backup_into(&partial)
                        .await
                        .map_err(|e| pg.scrub(&e.to_string())),
                )
            })?;
            (format!("PostgreSQL at {pg}"), copied)
        }
    };
    let copy = match copied {
        Ok(copy) => copy,
        Err(e) => {
            remove(&partial);
            return Err(Failure::Storage(format!(
                "cannot back up {source} to {}: {e}",
                file.display()
            )));
        }
    };
    if let Err(problem) = &copy.integrity {
        remove(&partial);
        return Err(Failure::Storage(format!(
            "the copy of {source} failed its integrity check ({problem}); nothing was written to {}. Run `mentions check`",
            file.display()
        )));
    }
    place(&partial, &target, force).inspect_err(|_| remove(&partial))?;
    print(&format!(
        "backup: wrote {} ({} mentions, {}, schema version {}, integrity ok)\n",
        file.display(),
        copy.mentions,
        size(copy.bytes),
        copy.schema_version
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Moves the finished copy to FILE; without `force` never over a file that
/// appeared meanwhile (a hard link fails when the name is taken).
fn place(partial: &Path, target: &Path, force: bool) -> Result<(), Failure> {
    let failed =
        |e: std::io::Error| Failure::Storage(format!("cannot write {}: {e}", target.display()));
    if force {
        return std::fs::rename(partial, target).map_err(failed);
    }
    match std::fs::hard_link(partial, target) {
        Ok(()) => {
            remove(partial);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Failure::Usage(format!(
            "{} already exists; pass --force to replace it or name another file",
            target.display()
        ))),
        // A file system without hard links: the check above is all there is.
        Err(_) if !target.exists() => std::fs::rename(partial, target).map_err(failed),
        Err(e) => Err(failed(e)),
    }
}

/// The temporary name of the copy, beside FILE.
fn partial(target: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(format!(".partial-{}", std::process::id()));
    target.with_file_name(name)
}

/// Removes a file and its rollback journal, if they are there.
fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    let _ = std::fs::remove_file(PathBuf::from(journal));
}

/// A path with its folder resolved (symlinks, `..`), whether or not the file exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(folder), path.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => path.to_owned(),
    }
}

/// 3355443 → `3.2 MiB`.
fn size(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes as f64 >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_partial_names() {
        assert_eq!(size(3_355_443), "3.2 MiB");
        assert_eq!(size(20_480), "20 KiB");
        let p = partial(Path::new("/b/mentions.db"));
        assert_eq!(p.parent(), Some(Path::new("/b")));
        assert!(p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".mentions.db.partial-"));
    }
}
