/**
 * Sends one request body on the wire: data frames of at most Limits.dataChunk bytes, hashed as
 * they go, then the end frame with the SHA-256. Used by Connection's send queue, which runs one
 * body at a time, so bodies never interleave.
 */
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { encodeData, encodeEnd, Limits, SHA256_LENGTH } from '../protocol/index.js'

/**
 * A request body: bytes in memory, a stream, or a function that opens the stream when the body's
 * turn on the wire comes (so that many queued uploads keep only one file open).
 */
export type BodySource = Uint8Array | Readable | (() => Readable | Promise<Readable>)

/** Progress of one body: bytes done so far, and the total when it is known. */
export type Progress = (done: number, total: number | undefined) => void

/** What the sender needs from the connection. */
export interface BodyIo {
  /** Register the pending answer and write the request's control frame. */
  begin(): Promise<void>
  write(data: Uint8Array | Uint8Array[]): Promise<void>
  /** The body could not even be opened: nothing was sent, fail the request locally. */
  fail(error: Error): void
  /** The body failed halfway: the request's answer is to be replaced by this error. */
  localError(error: Error): void
  isClosed(): boolean
}

export async function sendBody(
  io: BodyIo,
  source: BodySource,
  total: number | undefined,
  onProgress: Progress | undefined,
): Promise<void> {
  let stream: Readable | undefined
  try {
    if (typeof source === 'function') stream = await source()
    else if (!(source instanceof Uint8Array)) stream = source
  } catch (err) {
    io.fail(asError(err))
    return
  }
  await io.begin()
  const hash = createHash('sha256')
  let done = 0
  try {
    for await (const chunk of stream ? rechunk(stream) : slices(source as Uint8Array)) {
      // Leaving the loop destroys the stream, which is what a lost connection needs.
      if (io.isClosed()) return
      hash.update(chunk)
      await io.write(encodeData(chunk))
      done += chunk.length
      onProgress?.(done, total)
    }
  } catch (err) {
    io.localError(asError(err))
    // The frames already sent cannot be taken back: end the body with a hash that cannot match,
    // so the server discards it (ERR_INTEGRITY) and the connection stays usable.
    await io.write(encodeEnd(Buffer.alloc(SHA256_LENGTH)))
    return
  }
  await io.write(encodeEnd(hash.digest()))
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += Limits.dataChunk) {
    yield bytes.subarray(offset, offset + Limits.dataChunk)
  }
}

/** A stream's chunks cut to at most one data frame each. */
async function* rechunk(stream: Readable): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    yield* slices(bytes)
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
