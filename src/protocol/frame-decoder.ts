/**
 * Frame decoder: a state machine fed with arbitrary byte chunks (as they come off a socket or a
 * MessagePort) that reports the preamble, control messages (parsed JSON, not yet validated), data
 * pieces and end-of-body frames. It never touches a socket.
 *
 * Data payloads are reported piece by piece, as subarrays of the input chunks (no copy, no waiting
 * for the whole frame), so a 1 MiB frame split over many TCP reads costs nothing extra. A consumer
 * that keeps a piece beyond the push() call must copy it; the decoder itself keeps no reference to
 * a chunk after push() returns, so the caller may recycle chunk buffers.
 */
import {
  FRAME_HEADER_LENGTH,
  FrameType,
  Limits,
  MAGIC,
  PREAMBLE_LENGTH,
  SHA256_LENGTH,
} from './constants.js'
import { TandemError } from './errors.js'

export interface DecoderHandlers {
  /** The peer's protocol version, from its preamble (only when `expectPreamble`). */
  onPreamble?(version: number): void
  onControl(message: unknown): void
  /** A piece of a data frame's payload; `frameEnd` is true on the frame's last piece. */
  onData(piece: Buffer, frameEnd: boolean): void
  onEnd(sha256: Buffer): void
}

export interface DecoderOptions {
  expectPreamble: boolean
  maxControl: number
  maxData?: number
  /**
   * The protocol version the other side must speak: a preamble with another one fails with
   * ERR_UNSUPPORTED_VERSION. Unset, any version is reported to onPreamble for the caller to judge.
   */
  version?: number
}

type State = 'preamble' | 'header' | 'control' | 'data' | 'end' | 'failed'

export class FrameDecoder {
  readonly #handlers: DecoderHandlers
  #maxControl: number
  readonly #maxData: number
  readonly #version: number | undefined
  #state: State
  #stopped = false
  /** Bytes of a small unit (preamble, header, control payload, end payload) being assembled. */
  #pending: Buffer[] = []
  #pendingLength = 0
  /** How many bytes the current unit needs in all (or data bytes left in a data frame). */
  #need: number
  #error: TandemError | undefined

  constructor(handlers: DecoderHandlers, options: DecoderOptions) {
    this.#handlers = handlers
    this.#maxControl = options.maxControl
    this.#maxData = options.maxData ?? Limits.maxData
    this.#version = options.version
    this.#state = options.expectPreamble ? 'preamble' : 'header'
    this.#need = options.expectPreamble ? PREAMBLE_LENGTH : FRAME_HEADER_LENGTH
  }

  /** True between frames: nothing partial is buffered. */
  get atFrameBoundary(): boolean {
    return this.#state === 'header' && this.#pendingLength === 0
  }

  /**
   * Change the control-frame limit for the frames whose header has not been read yet (a
   * handshake takes small frames; what follows it may be larger).
   */
  limitControl(maxControl: number): void {
    this.#maxControl = maxControl
  }

  /**
   * Stop once the unit being reported is done (call it from a handler): the push in progress
   * returns how many bytes of its chunk were consumed, and the decoder takes no more bytes. For a
   * reader that decodes the start of a stream and hands the rest on (the server's hello gate).
   */
  stop(): void {
    this.#stopped = true
  }

  /**
   * Feed bytes; returns how many were consumed (all of them unless a handler called stop()).
   * Throws a TandemError (ERR_BAD_FRAME, ERR_TOO_LARGE, ERR_UNSUPPORTED_VERSION) on bad input;
   * after that the decoder stays failed and rethrows on every push.
   */
  push(chunk: Buffer): number {
    if (this.#error) throw this.#error
    if (this.#stopped) throw new TandemError('ERR_INTERNAL', 'push to a stopped decoder')
    try {
      return this.#consume(chunk)
    } catch (err) {
      this.#state = 'failed'
      this.#error = err instanceof TandemError ? err : new TandemError('ERR_BAD_FRAME', String(err))
      throw this.#error
    }
  }

  #consume(chunk: Buffer): number {
    let offset = 0
    while (offset < chunk.length && !this.#stopped) {
      if (this.#state === 'data') {
        const take = Math.min(this.#need, chunk.length - offset)
        this.#need -= take
        const piece = chunk.subarray(offset, offset + take)
        offset += take
        const frameEnd = this.#need === 0
        if (frameEnd) this.#toHeader()
        this.#handlers.onData(piece, frameEnd)
        continue
      }
      const take = Math.min(this.#need - this.#pendingLength, chunk.length - offset)
      this.#pending.push(chunk.subarray(offset, offset + take))
      this.#pendingLength += take
      offset += take
      if (this.#pendingLength < this.#need) {
        // The unit stays incomplete past this push: copy its tail, because the caller may reuse
        // the chunk's memory (recycled transfer buffers) before the next push.
        this.#pending[this.#pending.length - 1] = Buffer.from(chunk.subarray(offset - take, offset))
        return offset
      }
      const unit =
        this.#pending.length === 1
          ? this.#pending[0]!
          : Buffer.concat(this.#pending, this.#pendingLength)
      this.#pending = []
      this.#pendingLength = 0
      this.#completeUnit(unit)
    }
    return offset
  }

  #completeUnit(unit: Buffer): void {
    switch (this.#state) {
      case 'preamble':
        return this.#onPreamble(unit)
      case 'header':
        return this.#onHeader(unit)
      case 'control':
        this.#toHeader()
        return this.#handlers.onControl(parseJson(unit))
      case 'end':
        this.#toHeader()
        // Copy: the 32 bytes may be a view into a chunk the caller reuses.
        return this.#handlers.onEnd(Buffer.from(unit))
      default:
        throw new TandemError('ERR_INTERNAL', `decoder in state ${this.#state}`)
    }
  }

  #toHeader(): void {
    this.#state = 'header'
    this.#need = FRAME_HEADER_LENGTH
  }

  #onPreamble(unit: Buffer): void {
    if (!unit.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new TandemError('ERR_BAD_FRAME', 'not a tandem connection (bad magic bytes)')
    }
    const version = unit.readUInt16BE(MAGIC.length)
    if (this.#version !== undefined && version !== this.#version)
      throw new TandemError(
        'ERR_UNSUPPORTED_VERSION',
        `this side speaks protocol version ${this.#version}, the other side ${version}`,
      )
    this.#toHeader()
    this.#handlers.onPreamble?.(version)
  }

  #onHeader(unit: Buffer): void {
    const length = unit.readUInt32BE(0)
    const type = unit.readUInt8(4)
    switch (type) {
      case FrameType.Control:
        if (length > this.#maxControl) {
          throw new TandemError(
            'ERR_TOO_LARGE',
            `control frame of ${length} bytes is over the ${this.#maxControl}-byte limit`,
          )
        }
        if (length === 0) throw new TandemError('ERR_BAD_FRAME', 'empty control frame')
        this.#state = 'control'
        this.#need = length
        return
      case FrameType.Data:
        if (length > this.#maxData) {
          throw new TandemError(
            'ERR_TOO_LARGE',
            `data frame of ${length} bytes is over the ${this.#maxData}-byte limit`,
          )
        }
        if (length === 0) return this.#handlers.onData(Buffer.alloc(0), true)
        this.#state = 'data'
        this.#need = length
        return
      case FrameType.End:
        if (length !== SHA256_LENGTH)
          throw new TandemError(
            'ERR_BAD_FRAME',
            `end frame of ${length} bytes (expected ${SHA256_LENGTH})`,
          )
        this.#state = 'end'
        this.#need = length
        return
      default:
        throw new TandemError('ERR_BAD_FRAME', `unknown frame type ${type}`)
    }
  }
}

function parseJson(unit: Buffer): unknown {
  try {
    return JSON.parse(unit.toString('utf8'))
  } catch {
    throw new TandemError('ERR_BAD_FRAME', 'control frame is not valid JSON')
  }
}
