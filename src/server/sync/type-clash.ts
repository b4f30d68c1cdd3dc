/**
 * A file on one server where another server has a folder of the same name. The rule, the same on
 * every server: **the folder wins, and the file is kept beside it as a conflict copy**
 * (`NAME.sync-conflict-YYYYMMDD-HHMMSS-SERVER.EXT`, named from the file version's mtime and
 * origin, so every server that meets the clash makes the same copy, and the copies merge as the
 * same content). The name then holds a tombstone above the file's version, so the file does not
 * come back over the folder anywhere. Why the folder: it may hold many files, from many servers,
 * each with its own versions and locks; moving it aside would rename all of them, while the file
 * is one version that a copy keeps whole.
 *
 * Two ways to meet it: a peer's file arrives where a folder is here (its content goes to the
 * copy), or a peer's file inside a folder arrives where that folder's name is a file here (the
 * file here is moved to its copy first).
 */
import { lstatSync, type Stats } from 'node:fs'
import path from 'node:path'
import { TandemError } from '../../protocol/errors.js'
import type { FileEntry, LocalEntry } from '../index/entry.js'
import type { FileIndex } from '../index/file-index.js'
import { mergeVectors } from '../index/version-vector.js'
import type { FileStore } from '../storage/file-store.js'
import { probe } from '../watch/disk-probe.js'
import { conflictCopyId, tombstone, type FileIdentityOf } from '../watch/findings.js'
import type { PeerSource } from './applier.js'
import { conflictName } from '../index/conflict-name.js'
import { contentFor } from './content-source.js'
import { Stale, expectDisk } from './disk-check.js'
import { moveInto } from './move-into.js'
import { ensureRoom } from './room.js'

export interface ClashOptions {
  self: string
  index: FileIndex
  store: FileStore
  /** Scan these names now (a file here not indexed yet). */
  scanNow(names: readonly string[]): Promise<void>
  /** Hint the scanner (the copy is then indexed and mirrored as a new file). */
  hint(name: string): void
  /** The copy written here is the server's own work, not another program's (see the scanner). */
  ownState?(name: string, identity?: FileIdentityOf): Promise<void>
  /** Is this name user-locked here? (A locked file is never moved aside.) */
  held(name: string): boolean
  /** Run `fn` with the names marked busy and under their write locks (for `peer`'s entry). */
  locked<T>(peer: PeerSource, names: readonly string[], fn: () => Promise<T>): Promise<T>
}

export class TypeClash {
  constructor(private readonly o: ClashOptions) {}

  /** The nearest folder name above `name` that is a regular file here, or null. */
  async fileAbove(name: string): Promise<string | null> {
    const parts = name.split('/')
    for (let i = 1; i < parts.length; i++) {
      const above = parts.slice(0, i).join('/')
      // A read-only look-up: synchronous (see disk-probe.ts), once per folder level.
      const st = lstatOrNull(path.join(this.o.store.root, above))
      if (!st || !st.isDirectory()) return st?.isFile() ? above : null
    }
    return null
  }

  /** Make way for a folder at `blocker`: the file there goes to its conflict copy (returned). */
  async moveAside(peer: PeerSource, blocker: string): Promise<string> {
    const { index, store, self } = this.o
    if (this.o.held(blocker))
      throw new TandemError(
        'ERR_LOCKED',
        `'${blocker}' is a file here, locked, where a folder goes`,
      )
    let local = index.get(blocker)
    if (!local?.fingerprint) {
      await this.o.scanNow([blocker]) // a file here not indexed yet: it becomes a version first
      local = index.get(blocker)
    }
    if (!local || local.deleted)
      throw new TandemError('ERR_EXISTS', `'${blocker}' is a file here where a folder goes`)
    const copyName = conflictName(blocker, local.mtime, local.origin)
    const file = await store.resolve(blocker, { follow: false })
    const copy = await store.resolve(copyName, { follow: false })
    await this.o.locked(peer, [blocker, copyName], async () => {
      if (index.get(blocker)?.seq !== local.seq) throw new Stale('indexed meanwhile')
      const localCopy = index.get(copyName)
      if (localCopy && !localCopy.deleted)
        throw new TandemError(
          'ERR_EXISTS',
          `'${blocker}' is in a folder's way, and '${copyName}' exists`,
        )
      await expectDisk(file.path, local)
      await expectDisk(copy.path, localCopy)
      await moveInto(file.path, copy.path)
      await this.o.ownState?.(copyName, conflictCopyId(local, copyName))
      index.put([tombstone(local, self, Date.now())])
    })
    this.o.hint(copyName)
    return copyName
  }

  /** `entry`, a file, arrived where a folder is here: keep it as its conflict copy (returned). */
  async keepBesideFolder(peer: PeerSource, entry: FileEntry): Promise<string> {
    const { index, store, self } = this.o
    const copyName = conflictName(entry.name, entry.mtime, entry.origin)
    const file = await store.resolve(entry.name, { follow: false })
    const copy = await store.resolve(copyName, { follow: false })
    const localCopy = index.get(copyName)
    const live = localCopy !== undefined && !localCopy.deleted
    const kept = live && localCopy.hash === entry.hash
    if (live && !kept)
      throw new TandemError(
        'ERR_EXISTS',
        `'${entry.name}' is a folder here, and '${copyName}' exists`,
      )
    if (!kept) await ensureRoom(store.root, entry.size, copyName)
    const planned = index.get(entry.name)
    const temp = kept ? null : await contentFor(index, store, peer, entry, copy)
    try {
      await this.o.locked(peer, [entry.name, copyName], async () => {
        if ((await probe(file.path)).kind !== 'dir') throw new Stale('no longer a folder')
        if (index.get(entry.name)?.seq !== planned?.seq) throw new Stale('indexed meanwhile')
        if (temp) {
          await expectDisk(copy.path, localCopy)
          await temp.publish(copy.path)
          await this.o.ownState?.(copyName, conflictCopyId(entry, copyName))
        }
        index.put([tombstone(above(planned, entry), self, Date.now())])
      })
    } finally {
      await temp?.discard()
    }
    if (temp) this.o.hint(copyName)
    return copyName
  }
}

/** What a tombstone at the name must descend from: ours (if any) and the file's version. */
function above(local: LocalEntry | undefined, remote: FileEntry): LocalEntry {
  const version = local ? mergeVectors(local.version, remote.version) : remote.version
  return { ...(local ?? remote), version, fingerprint: null }
}

function lstatOrNull(full: string): Stats | null {
  try {
    return lstatSync(full)
  } catch {
    return null
  }
}
