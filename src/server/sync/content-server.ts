/**
 * The serving side of a content channel: pipelined fetches by name and SHA-256. Each fetch is
 * looked up and opened at once (small files read whole), and answered in order: a header, the
 * body in data frames, and an end frame with the SHA-256 of what was sent. A file that changed
 * since it was indexed is not sent (ERR_NOT_FOUND: its new version will be announced).
 */
import { createHash } from 'node:crypto'
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { Limits } from '../../protocol/constants.js'
import { TandemError } from '../../protocol/errors.js'
import { sameFingerprint, type LocalEntry } from '../index/entry.js'
import { fail, send, type Channel } from './channel.js'
import type { ExchangeOptions } from './exchange-server.js'
import type { FramedSocket } from './framed-socket.js'
import { isGone } from '../watch/disk-probe.js'

function isTandemError(err: unknown): boolean {
  return err instanceof TandemError
}

export function contentChannel(framed: FramedSocket, o: ExchangeOptions): Channel {
  // Fetches are looked up and opened concurrently (small files read whole), then answered in
  // order: a burst of small files costs one round of disk look-ups, not one per file in turn.
  let order = Promise.resolve()
  let outstanding = 0
  return {
    request(message) {
      if (message.type !== 'fetch') return fail(framed, 'ERR_BAD_REQUEST', 'expected fetch')
      // Bounded: a peer that asks faster than it reads stops being read (no flood of open files).
      if (++outstanding >= MAX_OUTSTANDING) framed.socket.pause()
      const prepared = prepare(o, message.name, message.hash)
      order = order
        .then(async () => answer(framed, message.id, message.name, await prepared))
        .catch((err: unknown) => {
          if (!framed.closed) o.warn(`content channel: ${String(err)}`)
          framed.destroy() // a body half-sent cannot be taken back
        })
        .finally(() => {
          if (--outstanding < MAX_OUTSTANDING / 2) framed.socket.resume()
        })
    },
    close() {},
  }
}

const READ_WHOLE = 256 * 1024
/** Files indexed at up to this size are read with synchronous calls (readSmall). */
const READ_AT_ONCE = 64 * 1024
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK
const MAX_OUTSTANDING = 64 // fetches being prepared or answered on one channel

/** An opened, checked copy of the content, to stream. */
interface Opened {
  handle: FileHandle
  size: number
  mtime: number
}

/** Read whole when small (nothing left open), else opened. */
type Prepared = Opened | { size: number; mtime: number; whole: Buffer }

async function prepare(o: ExchangeOptions, name: string, hash: string): Promise<Prepared | null> {
  // The file at that name first; other files with that content only when it is not current.
  const named = o.index.get(name)
  const usable = (e: LocalEntry | undefined): e is LocalEntry =>
    !!e && !e.deleted && e.hash === hash
  if (usable(named)) {
    const first = await prepareFrom(o, named)
    if (first) return first
  }
  for (const source of o.index.byHash(hash)) {
    if (source.name === named?.name || !usable(source)) continue
    const prepared = await prepareFrom(o, source)
    if (prepared) return prepared
  }
  return null
}

/** `source`'s content if its file is still as indexed: read whole when small, else opened. */
async function prepareFrom(o: ExchangeOptions, source: LocalEntry): Promise<Prepared | null> {
  if (source.size <= READ_AT_ONCE) return readSmall(o, source)
  const opened = await openIfCurrent(o, source)
  if (!opened || opened.size > READ_WHOLE) return opened
  try {
    const whole = Buffer.allocUnsafe(opened.size)
    const { bytesRead } = await opened.handle.read(whole, 0, opened.size, 0)
    return { size: opened.size, mtime: opened.mtime, whole: whole.subarray(0, bytesRead) }
  } finally {
    await opened.handle.close()
  }
}

/**
 * A small file (as indexed) read with synchronous calls: open, fstat, one read, close take a few
 * microseconds each on a file in the page cache, where four round trips through the thread pool
 * cost far more CPU than the calls themselves — and a burst of small files is what fetches are.
 */
async function readSmall(o: ExchangeOptions, source: LocalEntry): Promise<Prepared | null> {
  const path = await resolved(o, source)
  if (path === null) return null
  let fd: number
  try {
    fd = openSync(path, OPEN_FLAGS)
  } catch (err) {
    if (isGone(err)) return null // gone or replaced since indexed: its change will be announced
    throw err
  }
  try {
    const st = fstatSync(fd)
    const fp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
    // Grown past what is read at once: not as indexed, so not sent (announced again).
    if (!st.isFile() || st.size > READ_WHOLE || !sameFingerprint(source.fingerprint, fp))
      return null
    const whole = Buffer.allocUnsafe(st.size)
    const bytesRead = st.size === 0 ? 0 : readSync(fd, whole, 0, st.size, 0)
    return { size: st.size, mtime: source.mtime, whole: whole.subarray(0, bytesRead) }
  } finally {
    closeSync(fd)
  }
}

/** The path to read `source` at, or null when the name is not servable any more. */
async function resolved(o: ExchangeOptions, source: LocalEntry): Promise<string | null> {
  try {
    return (await o.store.resolve(source.name, { follow: false })).path
  } catch (err) {
    if (isTandemError(err)) return null // not a servable name any more (a folder, a symlink out)
    throw err
  }
}

/** Open a file if it is still as indexed (else null: it changed since, and will be announced). */
async function openIfCurrent(o: ExchangeOptions, source: LocalEntry): Promise<Opened | null> {
  const path = await resolved(o, source)
  if (path === null) return null
  // Gone or replaced since indexed: null (its change will be announced). Anything else (EMFILE,
  // EIO) is thrown: the channel closes and the peer retries, rather than skip the file for good.
  const handle = await open(path, OPEN_FLAGS).catch((err: unknown) => {
    if (isGone(err)) return undefined
    throw err
  })
  if (!handle) return null
  const st = await handle.stat().catch(async (err: unknown) => {
    await handle.close()
    throw err
  })
  const fp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
  if (st.isFile() && sameFingerprint(source.fingerprint, fp))
    return { handle, size: st.size, mtime: source.mtime }
  await handle.close()
  return null
}

async function answer(
  framed: FramedSocket,
  id: number,
  name: string,
  p: Prepared | null,
): Promise<void> {
  if (!p) {
    return send(framed, {
      type: 'content',
      id,
      ok: false,
      error: { code: 'ERR_NOT_FOUND', message: `no current copy of '${name}' with that content` },
    })
  }
  send(framed, { type: 'content', id, ok: true, size: p.size, mtime: p.mtime })
  const hash = createHash('sha256')
  if ('whole' in p) {
    hash.update(p.whole)
    if (p.whole.length > 0) await framed.sendData(p.whole)
    return framed.sendEnd(hash.digest())
  }
  try {
    let position = 0
    while (position < p.size) {
      const buf = Buffer.allocUnsafe(Math.min(Limits.maxData, p.size - position))
      const { bytesRead } = await p.handle.read(buf, 0, buf.length, position)
      if (bytesRead === 0) break // shrank while read: the receiver's size check fails it
      const piece = buf.subarray(0, bytesRead)
      hash.update(piece)
      await framed.sendData(piece)
      position += bytesRead
    }
    framed.sendEnd(hash.digest())
  } finally {
    await p.handle.close()
  }
}
