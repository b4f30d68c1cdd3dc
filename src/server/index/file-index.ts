/**
 * The file index (issue 3): per file the current version — size, mtime, SHA-256, version vector,
 * tombstone flag — and the local fingerprint that tells whether the disk changed since. Every
 * stored entry gets the next value of this server's change sequence, so a peer asks only for what
 * changed since it last looked. Also keeps each peer's progress and what each peer holds.
 */
import type { Statement } from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import type { FileEntry, Fingerprint, LocalEntry } from './entry.js'
import type { IndexDb } from './database.js'
import { RENAME_SEPARATOR, RequestTable, type RequestWindowBounds } from './request-window.js'
import type { VersionVector } from './version-vector.js'

interface Row {
  name: string
  size: number
  mtime: number
  hash: string | null
  deleted: number
  version: string
  origin: string
  seq: number
  renamed_from: string | null
  fp_size: number | null
  fp_mtime: number | null
  fp_ino: number | null
  request: string | null
  file_id: string | null
  creator: string | null
}

export interface PeerProgress {
  epoch: string
  lastSeq: number
}

/** A live file as placement sees it (the replication planner's input). */
export interface PlacementRow {
  name: string
  hash: string
  size: number
  fileId: string | null
  creator: string | null
  /** Its content is on this server's disk (the index has a fingerprint for it). */
  held: boolean
}

/** An entry to store: the index assigns its sequence number. */
export interface NewEntry {
  entry: Omit<FileEntry, 'seq'>
  fingerprint: Fingerprint | null
}

export class FileIndex {
  readonly epoch: string
  #seq: number
  readonly #db: IndexDb
  readonly #listeners = new Set<(entries: FileEntry[]) => void>()
  readonly #q
  /** The rids that came with entries (this server's and the peers'): the request window. */
  readonly requests: RequestTable

  constructor(db: IndexDb, window?: RequestWindowBounds) {
    this.#db = db
    this.#q = prepare(db)
    this.requests = new RequestTable(db, window)
    // After an unclean stop the last transactions may be lost (synchronous = NORMAL), and their
    // sequence numbers reused for other changes: a new epoch makes every peer start over from 0
    // (entries only; content it already has is never fetched again).
    const uncleanStop = this.#meta('clean') === '0'
    const epoch = this.#meta('epoch')
    this.epoch = epoch && !uncleanStop ? epoch : this.#setMeta('epoch', randomUUID())
    this.#setMeta('clean', '0')
    this.#seq = (db.prepare('SELECT MAX(seq) AS s FROM files').get() as { s: number | null }).s ?? 0
  }

  /** Called at a clean stop: the next start keeps the epoch. */
  markClean(): void {
    this.#setMeta('clean', '1')
  }

  get seq(): number {
    return this.#seq
  }

  get(name: string): LocalEntry | undefined {
    const row = this.#q.get.get(name) as Row | undefined
    return row && toLocal(row)
  }

  /**
   * Store entries in one transaction, each with the next sequence number; tell the listeners.
   * Each stored entry says whether this server holds its content (`held`: live, on disk here).
   */
  put(items: readonly NewEntry[]): FileEntry[] {
    if (items.length === 0) return []
    const stored = this.#db.transaction(() =>
      items.map(({ entry, fingerprint }) => {
        const full: FileEntry = {
          ...entry,
          seq: ++this.#seq,
          held: !entry.deleted && fingerprint !== null,
        }
        this.#q.upsert.run(toRow(full, fingerprint))
        this.#recordRequest(full)
        return full
      }),
    )()
    for (const listener of this.#listeners) listener(stored)
    return stored
  }

  /** Record how the file looks on disk now, when its content is unchanged (no new version). */
  setFingerprint(name: string, fingerprint: Fingerprint | null): void {
    this.#q.setFingerprint.run(
      fingerprint?.size ?? null,
      fingerprint?.mtimeMs ?? null,
      fingerprint?.ino ?? null,
      name,
    )
  }

  /**
   * Store `entry` again, the same version, with the next sequence number and this fingerprint:
   * this server's holdings of it changed (a copy arrived, a surplus copy was dropped, the file
   * appeared on disk), and its subscribers learn the new `held` from the entry.
   */
  restore(entry: FileEntry, fingerprint: Fingerprint | null): FileEntry {
    return this.put([{ entry: storedAgain(entry), fingerprint }])[0]!
  }

  /**
   * `restore`, committed to stable storage before it returns (synchronous = FULL for this one
   * transaction): for a copy about to be deleted from the disk. With NORMAL, a power cut could keep
   * the deletion and lose this commit, and the next start would find an indexed file missing and
   * record it as deleted everywhere; with it on disk first, the worst case is a file still there
   * that the index says is held elsewhere, which the scanner finds again as held.
   */
  restoreDurably(entry: FileEntry, fingerprint: Fingerprint | null): FileEntry {
    return this.putDurably([{ entry: storedAgain(entry), fingerprint }])[0]!
  }

  /**
   * `put`, committed to stable storage before it returns (synchronous = FULL for this one
   * transaction): for what no disk change would show again after a power cut (a client's delete
   * or rename of files held elsewhere, answered once this returns).
   */
  putDurably(items: readonly NewEntry[]): FileEntry[] {
    this.#db.pragma('synchronous = FULL')
    try {
      return this.put(items)
    } finally {
      this.#db.pragma('synchronous = NORMAL')
    }
  }

  /** Entries with seq > `after`, oldest first, each saying whether this server holds it. */
  since(after: number, limit: number): FileEntry[] {
    return (this.#q.since.all(after, limit) as Row[]).map((row) => ({
      ...toEntry(row),
      held: row.deleted === 0 && row.fp_size !== null,
    }))
  }

  /** Live entries (name and fingerprint), for the inventory of the disk. */
  live(): LocalEntry[] {
    return (this.#q.live.all() as Row[]).map(toLocal)
  }

  /** Live entries under a folder name. */
  liveUnder(folder: string): LocalEntry[] {
    return (this.#q.liveUnder.all(`${folder}/`, `${folder}0`) as Row[]).map(toLocal)
  }

  /** Live entries whose file had this inode when indexed (rename detection). */
  byInode(ino: number): LocalEntry[] {
    return (this.#q.byInode.all(ino) as Row[]).map(toLocal)
  }

  liveCount(): number {
    return (this.#q.liveCount.get() as { n: number }).n
  }

  /** Live files held here (on this disk) with this content (to copy instead of fetching). */
  byHash(hash: string): LocalEntry[] {
    return (this.#q.byHash.all(hash) as Row[]).map(toLocal)
  }

  /** Live files whose content is on this disk (a live entry without a fingerprint is not). */
  heldCount(): number {
    return (this.#q.heldCount.get() as { n: number }).n
  }

  /** Every live file, as placement sees it. */
  placementRows(): PlacementRow[] {
    return (this.#q.placementRows.all() as PlacementDbRow[]).map((r) => ({
      name: r.name,
      hash: r.hash,
      size: r.size,
      fileId: r.file_id,
      creator: r.creator,
      held: r.held === 1,
    }))
  }

  /** The peers that last announced they hold this content at this name (live). */
  holdersOf(name: string, hash: string): string[] {
    return (this.#q.holdersOf.all(name, hash) as { peer: string }[]).map((r) => r.peer)
  }

  onStored(listener: (entries: FileEntry[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  peerProgress(peer: string): PeerProgress | undefined {
    const row = this.#q.peerGet.get(peer) as { epoch: string; last_seq: number } | undefined
    return row && { epoch: row.epoch, lastSeq: row.last_seq }
  }

  /** What a peer announced it holds (recorded on arrival, for the composite listing). */
  recordHoldings(peer: string, announced: readonly FileEntry[]): void {
    this.#db.transaction(() => {
      for (const e of announced) {
        // A peer that does not say (an older one, or full mirroring) holds what it announces.
        const held = !e.deleted && e.held !== false ? 1 : 0
        const fileId = e.fileId ?? null
        this.#q.peerFile.run(peer, e.name, e.size, e.mtime, e.hash, e.deleted ? 1 : 0, held, fileId)
        // A peer's rid counts as applied from its arrival: its change is on its way here.
        this.#recordRequest(e)
      }
    })()
  }

  #recordRequest(e: FileEntry): void {
    const r = e.request
    if (r && requestMadeEntry(r, e)) this.requests.record({ ...r, origin: e.origin })
  }

  /** How far this server has applied a peer's changes (after they are applied). */
  recordProgress(peer: string, progress: PeerProgress): void {
    this.#q.peerSet.run(peer, progress.epoch, progress.lastSeq)
  }

  /** Forget what a peer holds (its index was reset: it will announce everything again). */
  forgetPeer(peer: string): void {
    this.#q.peerForget.run(peer)
  }

  /** Entries stored after `seq`: what a peer that has everything up to `seq` has not received. */
  countSince(seq: number): number {
    return (this.#q.countSince.get(seq) as { n: number }).n
  }

  /**
   * The last of this index's sequence numbers `peer` said it applied (its subscription's start,
   * then each acknowledgement), in this epoch; undefined when it never said so in this one.
   */
  peerAcked(peer: string): number | undefined {
    const [epoch, seq] = (this.#meta(`acked:${peer}`) ?? '').split(' ')
    return epoch === this.epoch && seq !== undefined ? Number(seq) : undefined
  }

  /** `peer` applied everything up to `seq` of this index (kept across restarts). */
  recordAck(peer: string, seq: number): void {
    this.#setMeta(`acked:${peer}`, `${this.epoch} ${Math.min(seq, this.#seq)}`)
  }

  /** The server name last met at a peer's address (so a peer down since our restart is known). */
  peerNameAt(address: string): string | undefined {
    return this.#meta(`peer-name:${address}`)
  }

  rememberPeerName(address: string, name: string): void {
    if (this.peerNameAt(address) !== name) this.#setMeta(`peer-name:${address}`, name)
  }

  // Prepared once: a peer's ack reads and writes its meta row on every batch it applies.
  #metaGet: Statement<[string], { value: string }> | undefined
  #metaSet: Statement<[string, string]> | undefined

  #meta(key: string): string | undefined {
    this.#metaGet ??= this.#db.prepare('SELECT value FROM meta WHERE key = ?')
    return this.#metaGet.get(key)?.value
  }

  #setMeta(key: string, value: string): string {
    this.#metaSet ??= this.#db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
    this.#metaSet.run(key, value)
    return value
  }
}

/** An entry as it is stored again, the same version (its seq, `held` and fingerprint go). */
export function storedAgain(e: FileEntry): Omit<FileEntry, 'seq'> {
  return {
    name: e.name,
    size: e.size,
    mtime: e.mtime,
    hash: e.hash,
    deleted: e.deleted,
    version: e.version,
    origin: e.origin,
    renamedFrom: e.renamedFrom ?? null,
    ...(e.request ? { request: e.request } : {}),
    ...(e.fileId ? { fileId: e.fileId } : {}),
    ...(e.creator ? { creator: e.creator } : {}),
  }
}

function prepare(db: IndexDb) {
  return {
    get: db.prepare('SELECT * FROM files WHERE name = ?'),
    upsert: db.prepare(
      `INSERT OR REPLACE INTO files
         (name, size, mtime, hash, deleted, version, origin, seq, renamed_from, fp_size, fp_mtime, fp_ino,
          request, file_id, creator)
       VALUES (@name, @size, @mtime, @hash, @deleted, @version, @origin, @seq, @renamed_from,
               @fp_size, @fp_mtime, @fp_ino, @request, @file_id, @creator)`,
    ),
    setFingerprint: db.prepare(
      'UPDATE files SET fp_size = ?, fp_mtime = ?, fp_ino = ? WHERE name = ?',
    ),
    since: db.prepare('SELECT * FROM files WHERE seq > ? ORDER BY seq LIMIT ?'),
    live: db.prepare('SELECT * FROM files WHERE deleted = 0'),
    // '0' follows '/' in code-point order: the range holds exactly the names under the folder.
    liveUnder: db.prepare('SELECT * FROM files WHERE deleted = 0 AND name >= ? AND name < ?'),
    byInode: db.prepare('SELECT * FROM files WHERE fp_ino = ? AND deleted = 0'),
    liveCount: db.prepare('SELECT COUNT(*) AS n FROM files WHERE deleted = 0'),
    countSince: db.prepare('SELECT COUNT(*) AS n FROM files WHERE seq > ?'),
    // A few candidates are enough: the first whose disk still matches is copied. Only files
    // held here: a live entry without a fingerprint has no content on this disk.
    byHash: db.prepare(
      'SELECT * FROM files WHERE hash = ? AND deleted = 0 AND fp_size IS NOT NULL LIMIT 4',
    ),
    heldCount: db.prepare(
      'SELECT COUNT(*) AS n FROM files WHERE deleted = 0 AND fp_size IS NOT NULL',
    ),
    placementRows: db.prepare(
      `SELECT name, hash, size, file_id, creator, fp_size IS NOT NULL AS held FROM files
        WHERE deleted = 0`,
    ),
    holdersOf: db.prepare(
      `SELECT peer FROM peer_files
        WHERE name = ? AND hash = ? AND held = 1 AND deleted = 0 ORDER BY peer`,
    ),
    peerGet: db.prepare('SELECT epoch, last_seq FROM peers WHERE name = ?'),
    peerSet: db.prepare('INSERT OR REPLACE INTO peers (name, epoch, last_seq) VALUES (?, ?, ?)'),
    peerFile: db.prepare(
      `INSERT OR REPLACE INTO peer_files (peer, name, size, mtime, hash, deleted, held, file_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    peerForget: db.prepare('DELETE FROM peer_files WHERE peer = ?'),
  }
}

function toRow(e: FileEntry, fp: Fingerprint | null): Record<string, unknown> {
  return {
    name: e.name,
    size: e.size,
    mtime: e.mtime,
    hash: e.hash,
    deleted: e.deleted ? 1 : 0,
    version: JSON.stringify(e.version),
    origin: e.origin,
    seq: e.seq,
    renamed_from: e.renamedFrom ?? null,
    fp_size: fp?.size ?? null,
    fp_mtime: fp?.mtimeMs ?? null,
    fp_ino: fp?.ino ?? null,
    request: e.request ? JSON.stringify(e.request) : null,
    file_id: e.fileId ?? null,
    creator: e.creator ?? null,
  }
}

interface PlacementDbRow {
  name: string
  hash: string
  size: number
  file_id: string | null
  creator: string | null
  held: number
}

function toEntry(row: Row): FileEntry {
  return {
    name: row.name,
    size: row.size,
    mtime: row.mtime,
    hash: row.hash,
    deleted: row.deleted === 1,
    version: JSON.parse(row.version) as VersionVector,
    origin: row.origin,
    seq: row.seq,
    renamedFrom: row.renamed_from,
    ...(row.request ? { request: JSON.parse(row.request) as FileEntry['request'] } : {}),
    // Placement's stable identity (kept across new versions and renames), when it has one.
    ...(row.file_id === null ? {} : { fileId: row.file_id }),
    ...(row.creator === null ? {} : { creator: row.creator }),
  }
}

function toLocal(row: Row): LocalEntry {
  const fingerprint =
    row.fp_size === null || row.fp_mtime === null || row.fp_ino === null
      ? null
      : { size: row.fp_size, mtimeMs: row.fp_mtime, ino: row.fp_ino }
  return { ...toEntry(row), fingerprint }
}

/**
 * Whether `r` can be the request that made `e`: a write of its name, a delete of it or of a folder
 * holding it, a rename from or to it (or to or from a folder holding it). A peer's entry whose
 * request names something else (another client's append to another file) is not taken as that
 * request applied: a replay of its rid here would be answered without being applied.
 */
function requestMadeEntry(r: NonNullable<FileEntry['request']>, e: FileEntry): boolean {
  const about = (target: string): boolean => e.name === target || e.name.startsWith(`${target}/`)
  if (r.op === 'delete') return e.deleted && about(r.target)
  if (r.op === 'rename') return r.target.split(RENAME_SEPARATOR).some(about)
  return !e.deleted && e.name === r.target
}
