/**
 * Wire constants shared by the client and the server. Pure: no sockets, files or threads.
 *
 * A connection starts with a fixed 6-byte preamble from each side (magic + protocol version), so
 * that a peer speaking another version is recognised before any frame is parsed. After it, both
 * directions carry length-prefixed frames: [u32 BE payload length][u8 frame type][payload].
 */

/** "TNDM": the first four bytes each side sends. */
export const MAGIC = Buffer.from('TNDM', 'latin1')
export const PROTOCOL_VERSION = 1
export const PREAMBLE_LENGTH = 6 // 4 bytes magic + u16 BE version
export const FRAME_HEADER_LENGTH = 5 // u32 BE payload length + u8 type

export const FrameType = {
  /** A JSON control message (request, response, event, error). */
  Control: 1,
  /** A raw chunk of a file body. */
  Data: 2,
  /** End of a file body: payload is the SHA-256 (32 bytes) of the whole body. */
  End: 3,
} as const
export type FrameType = (typeof FrameType)[keyof typeof FrameType]

export const SHA256_LENGTH = 32

/** Hard limits on frame payloads. A frame over its limit is refused with ERR_TOO_LARGE. */
export const Limits = {
  /** What a server accepts from a client in one control frame. */
  maxRequestControl: 256 * 1024, // 256 KiB
  /**
   * The first control frame on the control port, the hello: a valid one is a few hundred bytes
   * (two strings of at most 128 characters), and a connection that has not said hello yet holds
   * no more than this in the server's memory.
   */
  maxHello: 4 * 1024, // 4 KiB
  /** What a client accepts from a server in one control frame (a large listing). */
  maxResponseControl: 64 * 1024 * 1024, // 64 MiB
  /** One data frame, either direction. */
  maxData: 1024 * 1024, // 1 MiB
  /** The size senders use for data frames. */
  dataChunk: 256 * 1024, // 256 KiB
} as const

/** Names: the longest path and path segment accepted (bytes of UTF-8). */
export const NameLimits = {
  maxPathBytes: 1024,
  maxSegmentBytes: 255,
} as const
