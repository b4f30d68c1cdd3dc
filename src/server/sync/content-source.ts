/**
 * Where a mirrored version's content comes from: a file here with the same SHA-256 when there is
 * one still as indexed (a copy, a rename already seen), else the peer. Either way it lands in a
 * temp file beside the target, fsynced and checked against the hash, with the version's mtime.
 * A small version (at most SMALL_BODY_BYTES) fetched from a peer is held in memory whole, checked,
 * then written in one go (storage/small-file.ts), as a small upload is: no descriptor is held while
 * it arrives, and its bytes are hashed once and written by one call.
 */
import type { FileHandle } from 'node:fs/promises'
import { TandemError } from '../../protocol/errors.js'
import type { FileEntry, LocalEntry } from '../index/entry.js'
import { sameFingerprint } from '../index/entry.js'
import type { FileIndex } from '../index/file-index.js'
import type { FileStore } from '../storage/file-store.js'
import type { ResolvedName } from '../storage/path-jail.js'
import { withReadBuffer } from '../storage/read-buffers.js'
import type { ContentSink } from '../storage/sealed-file.js'
import { SMALL_BODY_BYTES, SmallBody, type SmallFile } from '../storage/small-file.js'
import { TempFile } from '../storage/temp-file.js'
import { fingerprintOf } from '../watch/disk-probe.js'
import type { PeerSource } from './applier.js'
import { Superseded } from './content-client.js'
import { Stale } from './disk-check.js'

/** A sealed temp file: streamed (TempFile) or written whole (SmallFile); published alike. */
export type SealedTemp = TempFile | SmallFile

/**
 * A sealed temp file beside `target` holding `entry`'s content. When `peer` has no current copy
 * (it only passed the entry on: with --replicas it may not hold the file), `others` — the members
 * that announced they hold this content — are asked in turn before giving up.
 */
export async function contentFor(
  index: FileIndex,
  store: FileStore,
  peer: PeerSource,
  entry: FileEntry,
  target: ResolvedName,
  others?: () => readonly PeerSource[],
): Promise<SealedTemp> {
  const hash = entry.hash
  if (!hash) throw new TandemError('ERR_INTERNAL', `no content to take for '${entry.name}'`)
  const expected = { sha256: Buffer.from(hash, 'hex'), size: entry.size, mtimeMs: entry.mtime }
  for (const source of index.byHash(hash)) {
    const temp = await TempFile.create(target.path, target.name)
    try {
      await copyLocal(store, source, temp)
      await temp.seal(expected)
      return temp
    } catch {
      await temp.discard() // changed since indexed: fetch instead
    }
  }
  try {
    return await fetchInto(peer, entry, hash, target, expected)
  } catch (err) {
    if (!(err instanceof Superseded) || !others) throw err
    for (const other of others()) {
      if (other.name === peer.name) continue
      try {
        return await fetchInto(other, entry, hash, target, expected)
      } catch (next) {
        // Not there either (changed, torn, gone): the next holder, else the first failure. A
        // failure here (no space, a disk error) is this server's and is thrown.
        const code = (next as { code?: unknown }).code
        if (
          !(next instanceof Superseded) &&
          code !== 'ERR_INTEGRITY' &&
          code !== 'ERR_PEER_UNREACHABLE'
        )
          throw next
      }
    }
    throw err
  }
}

async function fetchInto(
  peer: PeerSource,
  entry: FileEntry,
  hash: string,
  target: ResolvedName,
  expected: { sha256: Buffer; size: number; mtimeMs: number },
): Promise<SealedTemp> {
  if (entry.size <= SMALL_BODY_BYTES) {
    // Checked (size, SHA-256) before anything touches the disk; then temp file, fsync, and the
    // caller's rename, as for any other.
    const body = new SmallBody()
    await peer.fetch(entry.name, hash, entry.size, body)
    return (await body.seal(target.path, target.name, expected)).file
  }
  const temp = await TempFile.create(target.path, target.name)
  try {
    await peer.fetch(entry.name, hash, entry.size, temp)
    await temp.seal(expected)
    return temp
  } catch (err) {
    await temp.discard()
    throw err
  }
}

async function copyLocal(store: FileStore, source: LocalEntry, temp: TempFile): Promise<void> {
  const file = await store.resolve(source.name, { follow: false })
  const current = await fingerprintOf(file.path)
  if (!sameFingerprint(current, source.fingerprint)) throw new Stale('source changed')
  const { handle } = await store.openForRead(file)
  try {
    await copyInto(handle, temp)
  } finally {
    await handle.close()
  }
}

/** Copy an open file, from its current position to its end, into a temp file. */
export async function copyInto(handle: FileHandle, temp: ContentSink): Promise<void> {
  await withReadBuffer(async (buf) => {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null)
      if (bytesRead === 0) return
      await temp.write([buf.subarray(0, bytesRead)])
    }
  })
}
