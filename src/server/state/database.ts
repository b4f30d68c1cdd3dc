/**
 * The server's embedded database (SQLite via better-sqlite3) in the state directory, outside the
 * served tree. WAL mode: a crash (kill -9) never corrupts it, and readers never block the writer.
 * Schema changes are numbered migrations keyed on `user_version`.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import path from 'node:path'

export type Db = Database.Database

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE change_log (
     seq      INTEGER PRIMARY KEY AUTOINCREMENT,
     time     INTEGER NOT NULL,
     server   TEXT    NOT NULL,
     op       TEXT    NOT NULL,
     name     TEXT,
     new_name TEXT,
     client   TEXT,
     size     INTEGER,
     detail   TEXT
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // A local change's kind, and the bytes an interrupted transfer moved (or a local change's size).
  `ALTER TABLE change_log ADD COLUMN what TEXT;
   ALTER TABLE change_log ADD COLUMN bytes INTEGER;`,
  // This server's own applied request ids, written before the client is answered (the same
  // table as index.db's, index/request-window.ts).
  `CREATE TABLE requests (
     rid     TEXT    PRIMARY KEY,
     client  TEXT    NOT NULL,
     op      TEXT    NOT NULL,
     target  TEXT    NOT NULL,
     result  TEXT    NOT NULL,
     origin  TEXT    NOT NULL,
     at      INTEGER NOT NULL,
     names   TEXT               -- JSON: the names it wrote (told again to the sync worker at start)
   ) WITHOUT ROWID;
   CREATE INDEX requests_client ON requests (client, at);
   CREATE INDEX requests_at ON requests (at);`,
]

export function openDatabase(stateDir: string): Db {
  mkdirSync(stateDir, { recursive: true })
  const db = new Database(path.join(stateDir, 'tandem.db'))
  db.pragma('journal_mode = WAL')
  // NORMAL in WAL mode survives a process crash; a power cut may lose the last few log lines,
  // never a file (files are fsynced on their own).
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  migrate(db)
  return db
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!)
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}
