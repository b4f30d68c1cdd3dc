/**
 * The serving side of a content channel: pipelined fetches by name and SHA-256. Each fetch is
 * looked up and opened at once (small files read whole), and answered in order: a header, the
 * body in data frames, and an end frame with the SHA-256 of what was sent. A file that changed
 * since it was indexed is not sent (ERR_NOT_FOUND: its new version will be announced).
 */
import { createHash } from 'node:crypto'
import { constants as fsConstants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { Limits, TandemError } from '../../protocol/index.js'
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
const MAX_OUTSTANDING = 64 // fetches being prepared or answered on one channel

/** An opened, checked copy of the content: read whole when small, else a handle to stream. */
interface Prepared {
  handle: FileHandle
  size: number
  mtime: number
  whole?: Buffer
}

async function prepare(o: ExchangeOptions, name: string, hash: string): Promise<Prepared | null> {
  const sources = [o.index.get(name), ...o.index.byHash(hash)].filter(
    (e): e is LocalEntry => !!e && !e.deleted && e.hash === hash,
  )
  for (const source of sources) {
    const opened = await openIfCurrent(o, source)
    if (!opened) continue
    if (opened.size > READ_WHOLE) return opened
    try {
      const whole = Buffer.allocUnsafe(opened.size)
      const { bytesRead } = await opened.handle.read(whole, 0, opened.size, 0)
      return { ...opened, whole: whole.subarray(0, bytesRead) }
    } finally {
      await opened.handle.close()
    }
  }
  return null
}

/** Open a file if it is still as indexed (else null: it changed since, and will be announced). */
async function openIfCurrent(o: ExchangeOptions, source: LocalEntry): Promise<Prepared | null> {
  let path: string
  try {
    path = (await o.store.resolve(source.name, { follow: false })).path
  } catch (err) {
    if (isTandemError(err)) return null // not a servable name any more (a folder, a symlink out)
    throw err
  }
  const flags = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK
  // Gone or replaced since indexed: null (its change will be announced). Anything else (EMFILE,
  // EIO) is thrown: the channel closes and the peer retries, rather than skip the file for good.
  const handle = await open(path, flags).catch((err: unknown) => {
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
  if (p.whole) {
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
