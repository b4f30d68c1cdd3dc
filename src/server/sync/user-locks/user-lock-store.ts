/**
 * Where user locks live: in the sync worker's index database, beside the file
 * index, so that a lock, its queued updates and the peer progress that made them queued commit in
 * the same WAL and survive kill -9 together. Queued contents are files under `<state>/queue`; a
 * row names its file. Also the locks the peers announce, for the listing and `status`.
 */
import type { PeerLock } from '../../../protocol/index.js'
import type { IndexDb } from '../../index/database.js'
import type { FileEntry } from '../../index/entry.js'

export interface LockRow {
  name: string
  owner: string
  since: number
  /** ms since the epoch, or null: until unlocked. */
  expires: number | null
  /** Why it is being unlocked (its queue being applied), or null. */
  unlocking: string | null
}

export interface QueuedUpdate {
  id: number
  name: string
  peer: string
  entry: FileEntry
  /** The file under <state>/queue holding the content; null for a tombstone. */
  content: string | null
  received: number
}

interface QueueRow {
  id: number
  name: string
  peer: string
  entry: string
  content: string | null
  received: number
}

export class UserLockStore {
  readonly #db: IndexDb
  readonly #s

  constructor(db: IndexDb) {
    this.#db = db
    this.#s = {
      all: db.prepare<[], LockRow>('SELECT name, owner, since, expires, unlocking FROM user_locks'),
      put: db.prepare<[string, string, number, number | null, string | null]>(
        'INSERT OR REPLACE INTO user_locks (name, owner, since, expires, unlocking) VALUES (?, ?, ?, ?, ?)',
      ),
      unlocking: db.prepare<[string | null, string]>(
        'UPDATE user_locks SET unlocking = ? WHERE name = ?',
      ),
      peerLock: db.prepare<[string, number], { peer: string; owner: string }>(
        'SELECT peer, owner FROM peer_locks WHERE name = ? AND (expires IS NULL OR expires > ?) LIMIT 1',
      ),
      remove: db.prepare<[string]>('DELETE FROM user_locks WHERE name = ?'),
      add: db.prepare<[string, string, string, string | null, number]>(
        'INSERT INTO lock_queue (name, peer, entry, content, received) VALUES (?, ?, ?, ?, ?)',
      ),
      first: db.prepare<[string], QueueRow>(
        'SELECT * FROM lock_queue WHERE name = ? ORDER BY id LIMIT 1',
      ),
      queued: db.prepare<[string], QueueRow>('SELECT * FROM lock_queue WHERE name = ? ORDER BY id'),
      dequeue: db.prepare<[number]>('DELETE FROM lock_queue WHERE id = ?'),
      counts: db.prepare<[], { name: string; n: number }>(
        'SELECT name, COUNT(*) AS n FROM lock_queue GROUP BY name',
      ),
      contents: db.prepare<[], { content: string }>(
        'SELECT content FROM lock_queue WHERE content IS NOT NULL',
      ),
      clearPeer: db.prepare<[string]>('DELETE FROM peer_locks WHERE peer = ?'),
      putPeer: db.prepare<[string, string, string, number, number | null, number]>(
        'INSERT OR REPLACE INTO peer_locks (peer, name, owner, since, expires, queued) VALUES (?, ?, ?, ?, ?, ?)',
      ),
    }
  }

  locks(): LockRow[] {
    return this.#s.all.all()
  }

  put(row: LockRow): void {
    this.#durably(() => this.#s.put.run(row.name, row.owner, row.since, row.expires, row.unlocking))
  }

  remove(name: string): void {
    this.#durably(() => this.#s.remove.run(name))
  }

  setUnlocking(name: string, why: string | null): void {
    this.#s.unlocking.run(why, name)
  }

  /** A lock a peer announced on `name` (still in its time at `now`), if any. */
  peerLock(name: string, now = Date.now()): { peer: string; owner: string } | undefined {
    return this.#s.peerLock.get(name, now)
  }

  /**
   * A client is told its lock is taken (or gone) only once that survives a power cut: the index
   * runs with synchronous=NORMAL (its files can be rebuilt from the disk), a lock cannot.
   */
  #durably(write: () => void): void {
    this.#db.pragma('synchronous = FULL')
    try {
      write()
    } finally {
      this.#db.pragma('synchronous = NORMAL')
    }
  }

  /** Queue a peer's update, after the others (the caller has checked it is not queued yet). */
  enqueue(name: string, peer: string, entry: FileEntry, content: string | null): void {
    this.#s.add.run(name, peer, JSON.stringify(entry), content, Date.now())
  }

  /** The oldest update queued for `name`. */
  first(name: string): QueuedUpdate | undefined {
    const row = this.#s.first.get(name)
    return row && toUpdate(row)
  }

  /** Every update queued for `name`, oldest first. */
  queued(name: string): QueuedUpdate[] {
    return this.#s.queued.all(name).map(toUpdate)
  }

  dequeue(id: number): void {
    this.#s.dequeue.run(id)
  }

  /** name → updates waiting. */
  counts(): Map<string, number> {
    return new Map(this.#s.counts.all().map((row) => [row.name, row.n]))
  }

  /** The queue files still referenced (the others are leftovers of a crash). */
  contentFiles(): Set<string> {
    return new Set(this.#s.contents.all().map((row) => row.content))
  }

  /** A peer announced its locks: they replace what it announced before. */
  replacePeerLocks(peer: string, locks: readonly PeerLock[]): void {
    this.#db.transaction(() => {
      this.#s.clearPeer.run(peer)
      for (const l of locks)
        this.#s.putPeer.run(peer, l.name, l.owner, l.since, l.expiresAt, l.queued)
    })()
  }
}

function toUpdate(row: QueueRow): QueuedUpdate {
  return { ...row, entry: JSON.parse(row.entry) as FileEntry }
}
