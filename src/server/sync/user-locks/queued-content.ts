/**
 * The contents of queued updates: each is fetched when it arrives (the peer may
 * change the file again before the unlock) into `<state>/queue`, fsynced and checked against its
 * SHA-256 like any mirrored content, and kept there until the unlock applies it. On unlock the
 * stored file is the source its update is taken from.
 */
import { open, readdir, unlink } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { TandemError } from '../../../protocol/errors.js'
import type { FileEntry } from '../../index/entry.js'
import type { FileIndex } from '../../index/file-index.js'
import type { FileStore } from '../../storage/file-store.js'
import type { ContentSink } from '../../storage/sealed-file.js'
import type { PeerSource } from '../peer-source.js'
import { contentFor, copyInto } from '../content-source.js'

export class QueuedContent {
  readonly #dir: string

  constructor(
    stateDir: string,
    private readonly index: FileIndex,
    private readonly store: FileStore,
  ) {
    this.#dir = path.join(stateDir, 'queue')
  }

  /** Keep `entry`'s content (from a local copy or from the peer); its file name, or null. */
  async keep(peer: PeerSource, entry: FileEntry): Promise<string | null> {
    if (entry.deleted) return null
    const file = `q-${Date.now()}-${randomBytes(6).toString('hex')}`
    const target = { name: entry.name, path: path.join(this.#dir, file) }
    const temp = await contentFor(this.index, this.store, peer, entry, target)
    try {
      await temp.publish(target.path)
    } finally {
      await temp.discard()
    }
    return file
  }

  /**
   * A source that hands out a kept content (for the applier, as if fetched from `peer`). When the
   * kept file is gone (removed by hand from the state directory), `fallback` — the peer itself,
   * if it is connected — is asked for the same content instead.
   */
  source(peer: string, file: string | null, fallback?: PeerSource): PeerSource {
    const stored = file && path.join(this.#dir, file)
    return {
      name: peer,
      fetch: async (name, hash, size, temp: ContentSink) => {
        const handle = stored ? await open(stored, 'r').catch(() => undefined) : undefined
        if (!handle) {
          if (fallback) return fallback.fetch(name, hash, size, temp)
          throw new TandemError(
            'ERR_PEER_UNREACHABLE',
            `the queued content of '${name}' is missing here and ${peer} is not connected to send it again`,
          )
        }
        try {
          await copyInto(handle, temp)
          const info = await handle.stat()
          return { size: info.size, mtime: info.mtimeMs }
        } finally {
          await handle.close()
        }
      },
    }
  }

  async remove(file: string | null): Promise<void> {
    if (file) await unlink(path.join(this.#dir, file)).catch(() => undefined)
  }

  /** Remove what no queued update references (a crash between keeping a content and its row). */
  async sweep(referenced: ReadonlySet<string>): Promise<number> {
    let names: string[]
    try {
      names = await readdir(this.#dir)
    } catch {
      return 0
    }
    const stale = names.filter((name) => !referenced.has(name))
    await Promise.all(
      stale.map((name) => unlink(path.join(this.#dir, name)).catch(() => undefined)),
    )
    return stale.length
  }
}
