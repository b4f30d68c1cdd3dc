/**
 * Sends one request body on the wire: data frames hashed as they go, then the end frame with the
 * SHA-256. Used by Connection's send queue, which runs one body at a time, so bodies never
 * interleave.
 *
 * A local file (FileBody, what transfer.ts uploads) is read 1 MiB at a time into recycled blocks
 * and each read goes out as one data frame, header and payload in one vectored write; the next
 * read runs while this block is hashed and the socket writes it. Other bodies go out in frames of at most Limits.dataChunk.
 */
import { createHash, type Hash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { encodeData, encodeEnd, Limits, SHA256_LENGTH } from '../protocol/index.js'
import { readBlocks } from './block-pool.js'
import { FileBody } from './file-body.js'

/**
 * A request body: bytes in memory, a stream, or a function that opens the stream when the body's
 * turn on the wire comes (so that many queued uploads keep only one file open).
 */
export type BodySource = Uint8Array | Readable | (() => Readable | Promise<Readable>)

/** Progress of one body: bytes done so far, and the total when it is known. */
export type Progress = (done: number, total: number | undefined) => void

/** What the sender needs from the connection. */
export interface BodyIo {
  /** Register the pending answer; returns the request's control frame, to be written first. */
  begin(): Buffer
  /**
   * Write bytes; resolves when the socket can take more. `written` is called once the socket no
   * longer refers to `data` (its buffers may then be reused).
   */
  write(data: Uint8Array | Uint8Array[], written?: () => void): Promise<void>
  /** The body could not even be opened: nothing was sent, fail the request locally. */
  fail(error: Error): void
  /** The body failed halfway: the request's answer is to be replaced by this error. */
  localError(error: Error): void
  isClosed(): boolean
}

interface Sending {
  io: BodyIo
  hash: Hash
  total: number | undefined
  onProgress: Progress | undefined
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
  const sending: Sending = { io, hash: createHash('sha256'), total, onProgress }
  if (stream instanceof FileBody) return sendFile(sending, stream)
  await io.write(io.begin())
  let complete: boolean
  try {
    complete = await sendChunks(sending, stream ? rechunk(stream) : slices(source as Uint8Array))
  } catch (err) {
    return abandon(io, err)
  }
  if (complete) await io.write(encodeEnd(sending.hash.digest()))
}

/**
 * The body failed halfway. The frames already sent cannot be taken back: end the body with a
 * hash that cannot match, so that the server discards it (ERR_INTEGRITY) and the connection
 * stays usable; the request reports the local error.
 */
async function abandon(io: BodyIo, err: unknown): Promise<void> {
  io.localError(asError(err))
  await io.write(encodeEnd(Buffer.alloc(SHA256_LENGTH)))
}

/** Send chunks of at most one data frame each; false if the connection closed first. */
async function sendChunks(s: Sending, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
  let done = 0
  for await (const chunk of chunks) {
    // Leaving the loop destroys the stream, which is what a lost connection needs.
    if (s.io.isClosed()) return false
    s.hash.update(chunk)
    await s.io.write(encodeData(chunk))
    done += chunk.length
    s.onProgress?.(done, s.total)
  }
  return true
}

/**
 * Send a local file a block at a time, reading the next block while the socket writes this one.
 * Each recycled block goes back to the pool once the socket is done with it. The control frame
 * waits for the first block, so that a small file leaves in one vectored write (control, data,
 * end), and a file that cannot be read fails with nothing sent.
 */
async function sendFile(s: Sending, file: FileBody): Promise<void> {
  let block = file.firstBuffer()
  let reading = file.readInto(block)
  let head: Buffer[] | undefined
  let done = 0
  try {
    for (;;) {
      const length = await reading.catch((err: unknown) => {
        readBlocks.give(block)
        throw err
      })
      head ??= [s.io.begin()]
      if (s.io.isClosed()) return readBlocks.give(block)
      const sent = block
      const view = sent.subarray(0, length)
      done += length
      // A short read is the end of a regular file once the announced size is reached (and an
      // empty read always is), which spares small files a second read.
      const more = length > 0 && (length === sent.length || s.total === undefined || done < s.total)
      if (more) {
        block = readBlocks.take()
        reading = file.readInto(block)
        reading.catch(() => {}) // awaited (and its failure reported) at the top of the loop
      }
      // Hashed once the next read is under way: a libuv thread reads while this one hashes.
      s.hash.update(view)
      const frames = length > 0 ? encodeData(view) : []
      const end = more ? [] : [encodeEnd(s.hash.digest())]
      await s.io.write([...head, ...frames, ...end], () => readBlocks.give(sent))
      head = []
      if (length > 0) s.onProgress?.(done, s.total)
      if (!more) return
    }
  } catch (err) {
    if (head) return abandon(s.io, err)
    s.io.fail(asError(err))
  } finally {
    file.destroy()
  }
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
