//! The desk's SQLite database: opening it, its versioned schema, its lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::batch::Pending;
use crate::error::DeskError;
use crate::holder::LockHolder;
use crate::window::Windows;

/// The database file's name in the data directory.
pub const DATABASE_FILE: &str = "desk.sqlite3";
const LOCK_FILE: &str = "desk.lock";

/// The desk's mark in its database file's header (`PRAGMA application_id`, the 32-bit
/// number SQLite keeps for the application that owns a file): `OTAI` in ASCII. The desk
/// writes only into a file that has it, an empty one, or one an earlier desk made.
pub const APPLICATION_ID: i32 = 0x4F54_4149;

/// The schema, one migration per version; `PRAGMA user_version` is the number applied.
/// A migration is never edited once released: a change is a new entry.
const MIGRATIONS: &[&str] = &[
    // 1: plugins, their versions with config, sealed secrets, deliveries, tickets.
    r"
    CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        plugin_id TEXT NOT NULL,
        version TEXT NOT NULL,
        wasm BLOB NOT NULL,
        manifest TEXT NOT NULL,
        config TEXT NOT NULL,
        installed_at INTEGER NOT NULL
    );
    CREATE TABLE secrets (
        version_seq INTEGER NOT NULL REFERENCES versions(seq) ON DELETE CASCADE,
        key TEXT NOT NULL,
        sealed BLOB NOT NULL,
        PRIMARY KEY (version_seq, key)
    );
    CREATE TABLE plugins (
        id TEXT PRIMARY KEY,
        current_seq INTEGER NOT NULL REFERENCES versions(seq),
        previous_seq INTEGER REFERENCES versions(seq),
        enabled INTEGER NOT NULL,
        disabled_reason TEXT,
        disabled_detail TEXT,
        disabled_at INTEGER,
        window_start INTEGER NOT NULL DEFAULT 0,
        installed_at INTEGER NOT NULL
    );
    CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        plugin_id TEXT NOT NULL,
        version TEXT NOT NULL,
        event TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        failed INTEGER NOT NULL,
        report TEXT NOT NULL
    );
    CREATE INDEX deliveries_by_plugin ON deliveries (plugin_id, seq);
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        ticket TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE ticket_fields (
        ticket_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        plugin_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (ticket_id, key)
    );
    CREATE TABLE ticket_replies (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id TEXT NOT NULL,
        plugin_id TEXT NOT NULL,
        body TEXT NOT NULL,
        is_internal INTEGER NOT NULL,
        at INTEGER NOT NULL
    );
    ",
    // 2: the outcomes of deliveries in each plugin's health window, kept apart from the
    // delivery log, which keeps only the last N reports (fewer than a busy plugin's
    // ten minutes).
    r"
    CREATE TABLE outcomes (
        plugin_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        failed INTEGER NOT NULL
    );
    CREATE INDEX outcomes_by_plugin ON outcomes (plugin_id, at);
    INSERT INTO outcomes (plugin_id, at, failed) SELECT plugin_id, at, failed FROM deliveries;
    ",
    // 3: the keys the desk trusts to sign modules, and the keys that signed each
    // version (OpenSSH public key lines, one a line; empty for an unsigned one), which
    // an upgrade must be signed by too.
    r"
    CREATE TABLE trusted_keys (
        fingerprint TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        comment TEXT NOT NULL,
        added_at INTEGER NOT NULL
    );
    ALTER TABLE versions ADD COLUMN signers TEXT NOT NULL DEFAULT '';
    ",
    // 4: the modules apart from their versions' rows. A row's columns after a blob are
    // read by walking the blob's overflow pages, so listing plugins (their manifests)
    // read every module; now only loading one does (issue 41).
    r"
    CREATE TABLE modules (
        version_seq INTEGER PRIMARY KEY REFERENCES versions(seq) ON DELETE CASCADE,
        wasm BLOB NOT NULL
    );
    INSERT INTO modules (version_seq, wasm) SELECT seq, wasm FROM versions;
    ALTER TABLE versions DROP COLUMN wasm;
    ",
    // 5: where each version's module came from: the registry reference pinned to its
    // digest (`oci://…@sha256:…`) for one pulled from a registry, empty for a file.
    r"
    ALTER TABLE versions ADD COLUMN source TEXT NOT NULL DEFAULT '';
    ",
    // 6: the notices to administrators: each plugin the health policy disabled, when and
    // why, kept after it is dismissed (the list of past notices).
    r"
    CREATE TABLE notices (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        plugin_id TEXT NOT NULL,
        detail TEXT NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0
    );
    ",
    // 7: the health policy an administrator saved (the settings page, `desk settings
    // --set`), one row; without it the desk judges by the policy it was opened with.
    r"
    CREATE TABLE health_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        failure_percent REAL NOT NULL,
        min_deliveries INTEGER NOT NULL,
        window_minutes INTEGER NOT NULL,
        changed_at INTEGER NOT NULL
    );
    ",
    // 8: what a delivery needs to be run again, as a fixture (`crate::replay_record`):
    // the payload as delivered without its config, and each response body whole (or its
    // digest past `KEPT_BODY_MAX`). NULL for a delivery logged before: it cannot be.
    r"
    ALTER TABLE deliveries ADD COLUMN replay TEXT;
    ",
];

/// The open database and the lock that keeps other desks out of the directory.
pub(crate) struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// The health windows, kept in step with the `outcomes` table.
    pub(crate) windows: Windows,
    /// The deliveries not committed yet.
    pub(crate) pending: Pending,
    /// The first error the desk's stores met while the host delivered (they cannot
    /// return one to the host): the desk operation that called the host reports it.
    pub(crate) host_error: Option<DeskError>,
    /// Held while the desk is open; the OS releases it if the process dies. It says
    /// who holds it ([`LockHolder`]). `None` for a desk opened to read
    /// ([`Store::open_read_only`]), which keeps nobody out.
    lock: Option<File>,
}

impl Store {
    /// Opens (or creates) the database in `dir`, locks the directory, and brings the
    /// schema up to date. Returns whether the database is new.
    pub(crate) fn open(dir: &Path) -> Result<(Store, bool), DeskError> {
        std::fs::create_dir_all(dir).map_err(|source| DeskError::Io {
            what: "failed to create the data directory",
            path: dir.to_owned(),
            source,
        })?;
        let lock_path = dir.join(LOCK_FILE);
        let mut lock = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|source| DeskError::Io {
                what: "failed to open the lock file",
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(DeskError::Locked {
                    path: dir.to_owned(),
                    holder: LockHolder::read(&mut lock),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(DeskError::Io {
                    what: "failed to lock",
                    path: lock_path,
                    source,
                });
            }
        }
        // Until the caller says what it runs (`Desk::set_holder`): this process, by the
        // name it was started as.
        LockHolder::this_process(&LockHolder::program_name(), None)
            .write(&mut lock)
            .map_err(|source| DeskError::Io {
                what: "failed to write to the lock file",
                path: lock_path.clone(),
                source,
            })?;
        let path = dir.join(DATABASE_FILE);
        refuse_emptied(dir, &path)?;
        let mut conn = Connection::open(&path).map_err(|e| DeskError::database(&path, e))?;
        let db = |e: rusqlite::Error| DeskError::database(&path, e);
        // Whose file it is, decided before anything is written to it: the pragmas below
        // already would (WAL is recorded in the header).
        let found = Found::read(&conn)
            .map_err(|e| DeskError::database(&path, format!("{e} (is it a SQLite database?)")))?;
        let owner = found
            .owner()
            .map_err(|why| DeskError::database(&path, why))?;
        let is_new = owner == Owner::Nobody;
        conn.execute_batch(
            // WAL with `synchronous = NORMAL`: a crash of the process loses nothing committed;
            // a power cut may lose the last deliveries, not the database. The lock file
            // keeps every other desk from writing; SQLite's own locks stay in the normal
            // mode (taken around each transaction, the WAL index in the `-shm` file)
            // so that reading commands can open the database beside a running desk
            // (`Store::open_read_only`). A checkpoint syncs the file to disk, the one
            // sync `NORMAL` makes: every 10,000 pages (40 MB of log) instead of SQLite's
            // 1,000, it halved the mean cost of a delivery (`cargo bench -p
            // otai-plugin-desk --bench desk`).
            "PRAGMA foreign_keys = ON;
             PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             PRAGMA wal_autocheckpoint = 10000;",
        )
        .map_err(|e| DeskError::database(&path, format!("{e} (is it a SQLite database?)")))?;
        if owner != Owner::Desk {
            // A new desk, or one an earlier version made before the mark: marked now,
            // before its first migration.
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(db)?;
        }
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found.version).unwrap_or(0))
        {
            let tx = conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        // Deliveries run the same dozen statements over and over, so they are prepared
        // once. The bundled SQLite is built with STAT4, whose planner may look at the
        // values bound to a statement and then compiles it again on every run (a join
        // on a bound id took 20 µs instead of 2); the stability guarantee turns that off.
        conn.set_prepared_statement_cache_capacity(32);
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(db)?;
        Ok((
            Store {
                conn,
                path,
                windows: Windows::default(),
                pending: Pending::default(),
                host_error: None,
                lock: Some(lock),
            },
            is_new,
        ))
    }

    /// Opens the database in `dir` to read, beside a desk that may hold it: no lock is
    /// taken and nothing is written (no directory or file created, no migration; only
    /// SQLite's own `-shm` index may appear beside the file, as for any reader of a WAL
    /// database). The schema must be this version's exactly: an older one is brought up to
    /// date only by a desk that writes, a newer one only a newer desk reads.
    pub(crate) fn open_read_only(dir: &Path) -> Result<Store, DeskError> {
        let path = dir.join(DATABASE_FILE);
        if !dir.is_dir() {
            return Err(DeskError::NoDesk {
                path: dir.to_owned(),
                what: "there is no such directory",
            });
        }
        if !path.is_file() {
            return Err(DeskError::NoDesk {
                path: dir.to_owned(),
                what: "it holds no desk database",
            });
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| DeskError::database(&path, e))?;
        let found = Found::read(&conn)
            .map_err(|e| DeskError::database(&path, format!("{e} (is it a SQLite database?)")))?;
        let known = MIGRATIONS.len() as i64;
        match found
            .owner()
            .map_err(|why| DeskError::database(&path, why))?
        {
            Owner::Desk if found.version == known => {}
            Owner::Nobody => {
                return Err(DeskError::NoDesk {
                    path: dir.to_owned(),
                    what: "its database is empty",
                });
            }
            _ => {
                return Err(DeskError::database(
                    &path,
                    format!(
                        "its schema is version {}, and this desk reads version {known}: a \
                         command that only reads never brings a schema up to date. Run one \
                         that writes (or `cargo otai-plugin dev`) once the desk is free",
                        found.version
                    ),
                ));
            }
        }
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(|e| DeskError::database(&path, e))?;
        Ok(Store {
            conn,
            path,
            windows: Windows::default(),
            pending: Pending::default(),
            host_error: None,
            lock: None,
        })
    }

    /// Writes who holds the desk into its lock file (nothing for a desk that reads).
    pub(crate) fn set_holder(&mut self, holder: &LockHolder) -> Result<(), DeskError> {
        let Some(file) = &mut self.lock else {
            return Ok(());
        };
        holder.write(file).map_err(|source| DeskError::Io {
            what: "failed to write to the lock file",
            path: self.path.with_file_name(LOCK_FILE),
            source,
        })
    }

    /// Whether the desk was opened only to read.
    pub(crate) fn read_only(&self) -> bool {
        self.lock.is_none()
    }

    /// A `meta` value.
    pub(crate) fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, DeskError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Sets a `meta` value.
    pub(crate) fn set_meta(&self, name: &str, value: &[u8]) -> Result<(), DeskError> {
        self.conn
            .execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// A database error, naming the file.
    pub(crate) fn error(&self, e: impl std::fmt::Display) -> DeskError {
        DeskError::database(&self.path, e)
    }

    /// Keeps an error a store met on the host's path, for the desk to report (the
    /// first one: what followed may stem from it).
    pub(crate) fn defer(&mut self, e: impl Into<Deferred>) {
        if self.host_error.is_none() {
            self.host_error = Some(match e.into() {
                Deferred::Desk(e) => e,
                Deferred::Sqlite(e) => self.error(e),
            });
        }
    }
}

/// An error a store met on the host's path: the desk's own, or SQLite's.
pub(crate) enum Deferred {
    Desk(DeskError),
    Sqlite(rusqlite::Error),
}

impl From<DeskError> for Deferred {
    fn from(e: DeskError) -> Self {
        Deferred::Desk(e)
    }
}

impl From<rusqlite::Error> for Deferred {
    fn from(e: rusqlite::Error) -> Self {
        Deferred::Sqlite(e)
    }
}

/// Refuses an empty database file beside a key file: the key was made with a database
/// that had data, and starting afresh over a file that lost it would hide the loss.
fn refuse_emptied(dir: &Path, path: &Path) -> Result<(), DeskError> {
    let key = dir.join(crate::secrets::KEY_FILE);
    let empty = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
    if empty && key.exists() {
        return Err(DeskError::database(
            path,
            format!(
                "the file is empty (0 bytes), but the key file `{}` beside it was made with \
                 a database that had data: the desk does not start afresh over it. Restore \
                 `{DATABASE_FILE}` from a backup, or, to start a new desk, remove both files",
                key.display()
            ),
        ));
    }
    Ok(())
}

/// Who a database file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// An empty database: a new desk.
    Nobody,
    /// A desk's: it has the mark.
    Desk,
    /// A desk made by a version before the mark: the desk's tables and nothing else.
    EarlierDesk,
}

/// What a database file holds, read without writing to it.
struct Found {
    application_id: i32,
    version: i64,
    /// Its tables, indexes, views and triggers, SQLite's own left out.
    objects: Vec<String>,
}

impl Found {
    fn read(conn: &Connection) -> rusqlite::Result<Found> {
        let mut stmt = conn.prepare(
            r"SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name",
        )?;
        let objects = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Found {
            application_id: conn.query_row("PRAGMA application_id", [], |r| r.get(0))?,
            version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
            objects,
        })
    }

    /// Whose the file is, or why the desk does not use it.
    fn owner(&self) -> Result<Owner, String> {
        let known = MIGRATIONS.len() as i64;
        let newer = || {
            format!(
                "its schema is version {}, written by a newer otai-plugin-desk (this one knows \
                 up to {known})",
                self.version
            )
        };
        let foreign_hint = "the desk writes only into its own database; give it a data \
                            directory of its own (`--data-dir`)";
        match self.application_id {
            APPLICATION_ID if self.version > known => Err(newer()),
            APPLICATION_ID => Ok(Owner::Desk),
            0 if self.objects.is_empty() && self.version == 0 => Ok(Owner::Nobody),
            0 => {
                let ours = schema_objects(known as usize);
                let theirs: Vec<&String> = self
                    .objects
                    .iter()
                    .filter(|o| !ours.contains(&o.as_str()))
                    .collect();
                let needed = schema_objects(usize::try_from(self.version).unwrap_or(0));
                let complete = needed.iter().all(|n| self.objects.iter().any(|o| o == n));
                if theirs.is_empty() && complete && self.version > 0 {
                    return if self.version > known {
                        Err(newer())
                    } else {
                        Ok(Owner::EarlierDesk)
                    };
                }
                let shown: Vec<String> = theirs.iter().take(5).map(|o| format!("`{o}`")).collect();
                let what = match (theirs.len(), self.objects.is_empty()) {
                    (_, true) => format!(
                        "it has no tables, but another application set its `user_version` to {}",
                        self.version
                    ),
                    (0, false) => format!(
                        "it has some of the desk's tables, but not those of a desk at schema \
                         version {}",
                        self.version
                    ),
                    (n, false) if n > shown.len() => format!(
                        "it holds another application's tables ({}, and {} more)",
                        shown.join(", "),
                        n - shown.len()
                    ),
                    (_, false) => format!(
                        "it holds another application's tables ({})",
                        shown.join(", ")
                    ),
                };
                Err(format!(
                    "{what}, and not the desk's mark (`PRAGMA application_id` {APPLICATION_ID:#x}): \
                     it is not a desk database, and nothing was written to it; {foreign_hint}"
                ))
            }
            other => Err(format!(
                "it belongs to another application (its `PRAGMA application_id` is {other:#x}, \
                 the desk's is {APPLICATION_ID:#x}), and nothing was written to it; {foreign_hint}"
            )),
        }
    }
}

/// The tables and indexes the first `version` migrations create.
fn schema_objects(version: usize) -> Vec<&'static str> {
    MIGRATIONS
        .iter()
        .take(version)
        .flat_map(|sql| {
            ["CREATE TABLE ", "CREATE INDEX "]
                .into_iter()
                .flat_map(move |create| {
                    sql.match_indices(create).filter_map(move |(at, _)| {
                        sql[at + create.len()..].split([' ', '(']).next()
                    })
                })
        })
        .collect()
}

/// Now, in milliseconds since the Unix epoch (what the database stores).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Locks one of the desk's mutexes (the database, the host's health handles, the
/// events kept), whatever a panic elsewhere left in it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every write is a transaction and the maps are updated in one step: a panic
    // elsewhere cannot leave either half done.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_objects_are_read_from_the_migrations() {
        let mut v2 = schema_objects(2);
        v2.sort_unstable();
        assert_eq!(
            v2,
            [
                "deliveries",
                "deliveries_by_plugin",
                "meta",
                "outcomes",
                "outcomes_by_plugin",
                "plugins",
                "secrets",
                "ticket_fields",
                "ticket_replies",
                "tickets",
                "versions"
            ]
        );
        assert!(!schema_objects(1).contains(&"outcomes"));
    }

    /// A desk made before migration 4 keeps its modules, moved to their own table.
    #[test]
    fn the_modules_move_out_of_the_versions_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute(
            "INSERT INTO versions (plugin_id, version, wasm, manifest, config, installed_at)
             VALUES ('com.example.a', '1.0.0', x'0061736d01000000', '{}', '{}', 0)",
            [],
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[3]).unwrap();
        tx.commit().unwrap();
        let wasm: Vec<u8> = conn
            .query_row(
                "SELECT m.wasm FROM modules m JOIN versions v ON v.seq = m.version_seq",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(wasm, b"\0asm\x01\0\0\0");
        assert!(conn.prepare("SELECT wasm FROM versions").is_err());
        // A version deleted takes its module with it.
        conn.execute("DELETE FROM versions", []).unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM modules", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
