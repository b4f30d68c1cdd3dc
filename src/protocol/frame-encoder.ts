/**
 * Frame encoder: turns messages and body chunks into wire bytes. Data payloads are never copied:
 * `dataFrame` returns the 5-byte header and the payload as two buffers for a vectored write.
 */
import {
  FRAME_HEADER_LENGTH,
  FrameType,
  Limits,
  MAGIC,
  PREAMBLE_LENGTH,
  PROTOCOL_VERSION,
  SHA256_LENGTH,
} from './constants.js'

function header(type: FrameType, length: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_LENGTH)
  buf.writeUInt32BE(length, 0)
  buf.writeUInt8(type, 4)
  return buf
}

/** The 6 bytes each side sends first. `version` is overridable for tests of version mismatch. */
export function encodePreamble(version: number = PROTOCOL_VERSION): Buffer {
  const buf = Buffer.allocUnsafe(PREAMBLE_LENGTH)
  MAGIC.copy(buf, 0)
  buf.writeUInt16BE(version, 4)
  return buf
}

/** A control frame holding `message` as JSON. */
export function encodeControl(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8')
  const buf = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + json.length)
  buf.writeUInt32BE(json.length, 0)
  buf.writeUInt8(FrameType.Control, 4)
  json.copy(buf, FRAME_HEADER_LENGTH)
  return buf
}

/** A data frame as [header, payload]; the payload is not copied. */
export function encodeData(payload: Uint8Array): [Buffer, Uint8Array] {
  if (payload.length > Limits.maxData)
    throw new RangeError(`data frame of ${payload.length} bytes is over the limit`)
  return [header(FrameType.Data, payload.length), payload]
}

/** The end-of-body frame carrying the body's SHA-256. */
export function encodeEnd(sha256: Uint8Array): Buffer {
  if (sha256.length !== SHA256_LENGTH) throw new RangeError('end frame needs a 32-byte SHA-256')
  const buf = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + SHA256_LENGTH)
  buf.writeUInt32BE(SHA256_LENGTH, 0)
  buf.writeUInt8(FrameType.End, 4)
  buf.set(sha256, FRAME_HEADER_LENGTH)
  return buf
}
