/**
 * The file index's database (SQLite via better-sqlite3): `index.db` in the state directory,
 * outside the served tree, owned by the peer-sync worker (session workers open it read-only for
 * the composite listing). Separate from the main thread's `tandem.db` so that the two threads
 * never wait on each other's write transactions. WAL mode: kill -9 never corrupts it.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import path from 'node:path'

export type IndexDb = Database.Database

export const INDEX_FILE = 'index.db'

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE files (
     name     TEXT PRIMARY KEY,
     size     INTEGER NOT NULL,
     mtime    REAL    NOT NULL,
     hash     TEXT,
     deleted  INTEGER NOT NULL,
     version  TEXT    NOT NULL,  -- JSON version vector
     origin   TEXT    NOT NULL,
     seq      INTEGER NOT NULL,
     renamed_from TEXT,
     fp_size  INTEGER,           -- local fingerprint: how the file looked when indexed
     fp_mtime REAL,
     fp_ino   INTEGER
   );
   CREATE UNIQUE INDEX files_seq ON files (seq);
   CREATE INDEX files_hash ON files (hash) WHERE deleted = 0;
   CREATE INDEX files_ino ON files (fp_ino) WHERE deleted = 0;
   -- Per peer: its index epoch and the last of its sequence numbers applied here.
   CREATE TABLE peers (name TEXT PRIMARY KEY, epoch TEXT NOT NULL, last_seq INTEGER NOT NULL);
   -- What each peer last announced per name: which servers hold which file (the listing).
   CREATE TABLE peer_files (
     peer    TEXT NOT NULL,
     name    TEXT NOT NULL,
     size    INTEGER NOT NULL,
     mtime   REAL NOT NULL,
     hash    TEXT,
     deleted INTEGER NOT NULL,
     PRIMARY KEY (peer, name)
   ) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // User locks, the peers' updates queued for them, and the locks peers announce.
  `CREATE TABLE user_locks (
     name    TEXT PRIMARY KEY,
     owner   TEXT    NOT NULL,
     since   INTEGER NOT NULL,
     expires INTEGER            -- ms since the epoch; NULL: until unlocked
   );
   CREATE TABLE lock_queue (
     id       INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order
     name     TEXT    NOT NULL,
     peer     TEXT    NOT NULL,
     entry    TEXT    NOT NULL,  -- JSON FileEntry as the peer sent it
     content  TEXT,              -- file under <state>/queue holding its content (NULL: a tombstone)
     received INTEGER NOT NULL
   );
   CREATE INDEX lock_queue_name ON lock_queue (name, id);
   CREATE TABLE peer_locks (
     peer    TEXT    NOT NULL,
     name    TEXT    NOT NULL,
     owner   TEXT    NOT NULL,
     since   INTEGER NOT NULL,
     expires INTEGER,
     queued  INTEGER NOT NULL,
     PRIMARY KEY (peer, name)
   ) WITHOUT ROWID;`,
  // Set while a lock's queue is being applied: an unlock cut short by a crash resumes at start.
  `ALTER TABLE user_locks ADD COLUMN unlocking TEXT;`,
  // A peer's entry that could not be applied here yet (a file/folder clash, no space…): kept
  // until it is applied or superseded, so moving the peer's progress past it loses nothing.
  `CREATE TABLE set_aside (
     peer     TEXT    NOT NULL,
     name     TEXT    NOT NULL,
     entry    TEXT    NOT NULL,  -- JSON FileEntry as the peer sent it
     code     TEXT    NOT NULL,  -- the error code of the last attempt
     reason   TEXT    NOT NULL,
     since    INTEGER NOT NULL,  -- ms since the epoch: first set aside
     attempts INTEGER NOT NULL,
     next_at  INTEGER NOT NULL,  -- ms since the epoch: the next retry
     PRIMARY KEY (peer, name)
   ) WITHOUT ROWID;`,
  // Request ids applied by any member whose change reached here (request-window.ts), and the
  // request that made each version (sent with the entry).
  `CREATE TABLE requests (
     rid     TEXT    PRIMARY KEY,
     client  TEXT    NOT NULL,  -- the rid's client part (the window is kept per client)
     op      TEXT    NOT NULL,
     target  TEXT    NOT NULL,
     result  TEXT    NOT NULL,  -- JSON: the answer the client got
     origin  TEXT    NOT NULL,  -- the server that applied it
     at      INTEGER NOT NULL,  -- ms since the epoch: recorded here
     names   TEXT               -- JSON: the names it wrote (tandem.db's rows only)
   ) WITHOUT ROWID;
   CREATE INDEX requests_client ON requests (client, at);
   CREATE INDEX requests_at ON requests (at);
   ALTER TABLE files ADD COLUMN request TEXT;`,
  // Partial replication (--replicas): each file's placement id and creator (kept through renames);
  // whether a peer holds the version it announced (a live entry with no local fingerprint is a
  // file held elsewhere); and the members met, with where clients reach them and their weight.
  `ALTER TABLE files ADD COLUMN file_id TEXT;
   ALTER TABLE files ADD COLUMN creator TEXT;
   ALTER TABLE peer_files ADD COLUMN held INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE peer_files ADD COLUMN file_id TEXT;
   CREATE TABLE members (
     name     TEXT PRIMARY KEY,
     address  TEXT NOT NULL,  -- HOST:PORT of its control port
     http     TEXT,           -- HOST:PORT of its HTTP API (NULL: none)
     capacity INTEGER,        -- its file system's size in GiB: its placement weight
     last_up  INTEGER,        -- ms since the epoch: last seen up (its link came up or went down)
     up       INTEGER NOT NULL DEFAULT 0  -- 1: its link is up now (all 0 at each start)
   ) WITHOUT ROWID;`,
]

export function openIndexDb(stateDir: string): IndexDb {
  mkdirSync(stateDir, { recursive: true })
  const db = new Database(path.join(stateDir, INDEX_FILE))
  db.pragma('journal_mode = WAL')
  // NORMAL in WAL mode survives a process crash; after a power cut the startup inventory finds
  // what the last transactions missed (the disk is the truth, the index a cache of it).
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  const current = db.pragma('user_version', { simple: true }) as number
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!)
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
  return db
}

/** A read-only connection for other threads (WAL: readers never block the writer). */
export function openIndexReader(stateDir: string): IndexDb | undefined {
  try {
    const db = new Database(path.join(stateDir, INDEX_FILE), {
      readonly: true,
      fileMustExist: true,
    })
    db.pragma('busy_timeout = 2000')
    return db
  } catch {
    return undefined
  }
}
