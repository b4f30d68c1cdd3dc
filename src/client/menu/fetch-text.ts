/**
 * The beginning of a file, for showing it or editing it: at most `limit` bytes are kept, and a
 * longer download is cut off there (the connection is dropped; the session opens a new one), so
 * peeking at a 10 GiB file costs no more than peeking at a small one.
 */
import { Writable } from 'node:stream'
import type { FileRow } from '../../protocol/client.js'
import type { Session } from './session.js'
import { waitWith } from './ui.js'

export interface FileStart {
  bytes: Buffer
  /** The file is longer than what was fetched. */
  truncated: boolean
  /** The bytes look binary (a NUL, or not UTF-8): they are not text to print. */
  binary: boolean
  /** The bytes as text, when they are text. */
  text: string | undefined
}

export async function fetchStart(
  session: Session,
  row: FileRow,
  limit: number,
): Promise<FileStart> {
  const bytes = await waitWith(
    `Fetching ${row.name}…`,
    session.run(
      async (conn) => {
        let cut = false
        const sink = new Collector(limit, () => {
          cut = true
          conn.destroy()
        })
        // A look at the file, logged as a read (one cut off at the limit: as interrupted).
        await conn.download(row.name, sink, { purpose: 'read' }).catch((err: unknown) => {
          if (!cut) throw err
        })
        return sink.bytes()
      },
      { readOnly: true },
    ),
  )
  const truncated = bytes.length > limit
  const kept = bytes.subarray(0, limit)
  const text = asText(kept)
  return { bytes: kept, truncated, binary: text === undefined, text }
}

/** UTF-8 text, or undefined for bytes that are not (a cut multi-byte character at the end is fine). */
function asText(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8192).includes(0)) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true })
  } catch {
    return undefined
  }
}

/** Keeps the first `limit` bytes and one more (to know there were more); then calls `onFull`. */
class Collector extends Writable {
  readonly #limit: number
  readonly #onFull: () => void
  readonly #chunks: Buffer[] = []
  #size = 0

  constructor(limit: number, onFull: () => void) {
    super()
    this.#limit = limit
    this.#onFull = onFull
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.#size <= this.#limit) {
      this.#chunks.push(chunk)
      this.#size += chunk.length
      if (this.#size > this.#limit) this.#onFull()
    }
    callback()
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks)
  }
}
