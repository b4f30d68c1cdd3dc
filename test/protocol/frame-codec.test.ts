// The frame decoder fed the encoder's output, cut at every byte boundary, and hand-made bad bytes.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  encodeControl,
  encodeData,
  encodeEnd,
  encodePreamble,
  FrameDecoder,
  FrameType,
  Limits,
  MAGIC,
  type ErrorCode,
} from '../../src/protocol/index.js'

type Event =
  | { kind: 'preamble'; version: number }
  | { kind: 'control'; message: unknown }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'end'; sha256: Buffer }

/** A decoder that records what it reports; data pieces are joined per frame. */
function recorder(options: {
  expectPreamble: boolean
  maxControl?: number
  maxData?: number
  version?: number
}) {
  const events: Event[] = []
  let pieces: Buffer[] = []
  const decoder = new FrameDecoder(
    {
      onPreamble: (version) => events.push({ kind: 'preamble', version }),
      onControl: (message) => events.push({ kind: 'control', message }),
      onData: (piece, frameEnd) => {
        // Copy: pieces are views into the pushed chunk.
        pieces.push(Buffer.from(piece))
        if (frameEnd) {
          events.push({ kind: 'data', bytes: Buffer.concat(pieces) })
          pieces = []
        }
      },
      onEnd: (sha256) => events.push({ kind: 'end', sha256 }),
    },
    {
      expectPreamble: options.expectPreamble,
      maxControl: options.maxControl ?? Limits.maxRequestControl,
      ...(options.maxData === undefined ? {} : { maxData: options.maxData }),
      ...(options.version === undefined ? {} : { version: options.version }),
    },
  )
  return { decoder, events }
}

function codeOf(fn: () => void): ErrorCode | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: ErrorCode }).code
  }
  return undefined
}

function header(length: number, type: number): Buffer {
  const buf = Buffer.alloc(5)
  buf.writeUInt32BE(length, 0)
  buf.writeUInt8(type, 4)
  return buf
}

type Unit =
  | { kind: 'control'; message: Record<string, unknown> }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'end'; sha256: Buffer }

const jsonValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))
const unitArb: fc.Arbitrary<Unit> = fc.oneof(
  fc
    .dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 })
    .map((message) => ({ kind: 'control' as const, message })),
  fc
    .uint8Array({ maxLength: 64 })
    .map((bytes) => ({ kind: 'data' as const, bytes: Buffer.from(bytes) })),
  fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((bytes) => ({ kind: 'end' as const, sha256: Buffer.from(bytes) })),
)

function encodeUnits(units: Unit[]): Buffer {
  const parts: Uint8Array[] = [encodePreamble()]
  for (const unit of units) {
    if (unit.kind === 'control') parts.push(encodeControl(unit.message))
    else if (unit.kind === 'data') parts.push(...encodeData(unit.bytes))
    else parts.push(encodeEnd(unit.sha256))
  }
  return Buffer.concat(parts)
}

function expected(units: Unit[]): Event[] {
  return [
    { kind: 'preamble', version: 1 },
    ...units.map((unit): Event => {
      if (unit.kind === 'control')
        return { kind: 'control', message: JSON.parse(JSON.stringify(unit.message)) }
      if (unit.kind === 'data') return { kind: 'data', bytes: unit.bytes }
      return { kind: 'end', sha256: unit.sha256 }
    }),
  ]
}

/** Push `bytes` cut at the given offsets, each chunk in its own fresh buffer. */
function pushSplit(decoder: FrameDecoder, bytes: Buffer, cuts: number[]): void {
  const points = [...new Set(cuts)].sort((a, b) => a - b)
  let start = 0
  for (const point of [...points, bytes.length]) {
    decoder.push(Buffer.from(bytes.subarray(start, point)))
    start = point
  }
}

describe('FrameDecoder fed the encoder output', () => {
  it('decodes the same frames wherever the stream is cut in two', () => {
    fc.assert(
      fc.property(fc.array(unitArb, { maxLength: 6 }), (units) => {
        const bytes = encodeUnits(units)
        for (let cut = 0; cut <= bytes.length; cut++) {
          const { decoder, events } = recorder({ expectPreamble: true })
          pushSplit(decoder, bytes, [cut])
          expect(events).toEqual(expected(units))
          expect(decoder.atFrameBoundary).toBe(true)
        }
      }),
      { numRuns: 60 },
    )
  })

  it('decodes the same frames when cut at many random points', () => {
    fc.assert(
      fc.property(
        fc.array(unitArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (units, raw) => {
          const bytes = encodeUnits(units)
          const { decoder, events } = recorder({ expectPreamble: true })
          pushSplit(
            decoder,
            bytes,
            raw.map((n) => n % (bytes.length + 1)),
          )
          expect(events).toEqual(expected(units))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('decodes the same frames fed one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(unitArb, { maxLength: 6 }), (units) => {
        const bytes = encodeUnits(units)
        const { decoder, events } = recorder({ expectPreamble: true })
        pushSplit(
          decoder,
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
        )
        expect(events).toEqual(expected(units))
      }),
      { numRuns: 50 },
    )
  })

  it('keeps a partial unit intact when the caller reuses the chunk memory', () => {
    const control = encodeControl({ id: 1, op: 'list' })
    const { decoder, events } = recorder({ expectPreamble: false })
    const reused = Buffer.alloc(control.length)
    // First push: header and half the JSON; then the same memory is overwritten for the rest.
    const half = 9
    control.copy(reused, 0, 0, half)
    decoder.push(reused.subarray(0, half))
    reused.fill(0xee)
    control.copy(reused, 0, half)
    decoder.push(reused.subarray(0, control.length - half))
    expect(events).toEqual([{ kind: 'control', message: { id: 1, op: 'list' } }])
  })

  it('reports a data frame in pieces without waiting for the whole frame', () => {
    const body = Buffer.alloc(1000, 7)
    const [head, payload] = encodeData(body)
    const pieces: number[] = []
    const decoder = new FrameDecoder(
      { onControl: () => {}, onData: (piece) => pieces.push(piece.length), onEnd: () => {} },
      { expectPreamble: false, maxControl: 1024 },
    )
    decoder.push(Buffer.concat([head, payload.subarray(0, 100)]))
    expect(pieces).toEqual([100])
    decoder.push(Buffer.from(payload.subarray(100)))
    expect(pieces).toEqual([100, 900])
  })

  it('carries a real SHA-256 through an end frame and an empty data frame', () => {
    const sha = createHash('sha256').update('').digest()
    const { decoder, events } = recorder({ expectPreamble: false })
    decoder.push(Buffer.concat([...encodeData(Buffer.alloc(0)), encodeEnd(sha)]))
    expect(events).toEqual([
      { kind: 'data', bytes: Buffer.alloc(0) },
      { kind: 'end', sha256: sha },
    ])
  })
})

describe('FrameDecoder.stop', () => {
  it('stops after the unit a handler stopped it in, and says how much of the chunk it took', () => {
    const hello = encodeControl({ type: 'hello' })
    const rest = Buffer.concat([encodeControl({ id: 1 }), Buffer.from('garbage')])
    const bytes = Buffer.concat([encodePreamble(), hello, rest])
    for (let cut = 1; cut < bytes.length; cut++) {
      const messages: unknown[] = []
      const decoder: FrameDecoder = new FrameDecoder(
        {
          onControl: (message) => {
            messages.push(message)
            decoder.stop()
          },
          onData: () => undefined,
          onEnd: () => undefined,
        },
        { expectPreamble: true, maxControl: 100 },
      )
      let consumed = decoder.push(bytes.subarray(0, cut))
      if (messages.length === 0) consumed = cut + decoder.push(bytes.subarray(cut))
      expect(messages).toEqual([{ type: 'hello' }])
      expect(bytes.subarray(consumed)).toEqual(rest)
      expect(codeOf(() => decoder.push(rest))).toBe('ERR_INTERNAL')
    }
  })
})

describe('FrameDecoder on bad input', () => {
  it('refuses a preamble with bad magic', () => {
    const { decoder } = recorder({ expectPreamble: true })
    expect(codeOf(() => decoder.push(Buffer.from('GET / HTTP/1.1\r\n')))).toBe('ERR_BAD_FRAME')
  })

  it('reports another protocol version to onPreamble and lets the caller decide', () => {
    const { decoder, events } = recorder({ expectPreamble: true })
    decoder.push(encodePreamble(7))
    expect(events).toEqual([{ kind: 'preamble', version: 7 }])
  })

  it('refuses another protocol version itself when told which one to expect', () => {
    const { decoder, events } = recorder({ expectPreamble: true, version: 1 })
    expect(codeOf(() => decoder.push(encodePreamble(2)))).toBe('ERR_UNSUPPORTED_VERSION')
    expect(events).toEqual([])
    const right = recorder({ expectPreamble: true, version: 1 })
    right.decoder.push(encodePreamble(1))
    expect(right.events).toEqual([{ kind: 'preamble', version: 1 }])
  })

  it('refuses an oversized control frame from its header alone', () => {
    const { decoder } = recorder({ expectPreamble: false, maxControl: 100 })
    expect(codeOf(() => decoder.push(header(101, FrameType.Control)))).toBe('ERR_TOO_LARGE')
  })

  it('accepts a control frame of exactly the limit', () => {
    const message = { pad: 'x'.repeat(90) }
    const frame = encodeControl(message)
    const { decoder, events } = recorder({ expectPreamble: false, maxControl: frame.length - 5 })
    decoder.push(frame)
    expect(events).toEqual([{ kind: 'control', message }])
  })

  it('refuses an oversized data frame', () => {
    const { decoder } = recorder({ expectPreamble: false, maxData: 1024 })
    expect(codeOf(() => decoder.push(header(1025, FrameType.Data)))).toBe('ERR_TOO_LARGE')
    const defaults = recorder({ expectPreamble: false })
    expect(codeOf(() => defaults.decoder.push(header(Limits.maxData + 1, FrameType.Data)))).toBe(
      'ERR_TOO_LARGE',
    )
    expect(codeOf(() => defaults.decoder.push(header(0xffffffff, FrameType.Data)))).toBe(
      'ERR_TOO_LARGE',
    )
  })

  it('refuses an unknown frame type', () => {
    for (const type of [0, 4, 255]) {
      const { decoder } = recorder({ expectPreamble: false })
      expect(codeOf(() => decoder.push(header(1, type)))).toBe('ERR_BAD_FRAME')
    }
  })

  it('refuses an end frame whose length is not 32', () => {
    for (const length of [0, 31, 33]) {
      const { decoder } = recorder({ expectPreamble: false })
      expect(codeOf(() => decoder.push(header(length, FrameType.End)))).toBe('ERR_BAD_FRAME')
    }
  })

  it('refuses a control frame that is not JSON, or empty', () => {
    const text = Buffer.from('{not json')
    const bad = recorder({ expectPreamble: false })
    expect(
      codeOf(() => bad.decoder.push(Buffer.concat([header(text.length, FrameType.Control), text]))),
    ).toBe('ERR_BAD_FRAME')
    const empty = recorder({ expectPreamble: false })
    expect(codeOf(() => empty.decoder.push(header(0, FrameType.Control)))).toBe('ERR_BAD_FRAME')
  })

  it('stays failed: every later push rethrows the same error and reports nothing', () => {
    const { decoder, events } = recorder({ expectPreamble: true })
    expect(codeOf(() => decoder.push(Buffer.from('XXXX\u0000\u0001')))).toBe('ERR_BAD_FRAME')
    let first: unknown
    try {
      decoder.push(Buffer.concat([MAGIC, Buffer.from([0, 1])]))
    } catch (err) {
      first = err
    }
    expect((first as { code?: string }).code).toBe('ERR_BAD_FRAME')
    expect(() => decoder.push(encodeControl({ ok: true }))).toThrow(first as Error)
    expect(events).toEqual([])
    expect(decoder.atFrameBoundary).toBe(false)
  })

  it('reports frames before the bad one in the same chunk, and none after', () => {
    const { decoder, events } = recorder({ expectPreamble: false })
    const chunk = Buffer.concat([encodeControl({ a: 1 }), header(1, 9), encodeControl({ b: 2 })])
    expect(codeOf(() => decoder.push(chunk))).toBe('ERR_BAD_FRAME')
    expect(events).toEqual([{ kind: 'control', message: { a: 1 } }])
  })
})

describe('frame encoder limits', () => {
  it('refuses a data payload over the limit and an end frame of the wrong size', () => {
    expect(() => encodeData(Buffer.alloc(Limits.maxData + 1))).toThrow(RangeError)
    expect(() => encodeEnd(Buffer.alloc(31))).toThrow(RangeError)
  })
})
