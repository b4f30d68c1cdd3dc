/**
 * The first step of a link to a peer: hello as a peer on its control port. The welcome tells the
 * peer's name, its file-exchange port and its clock; then the connection ends.
 */
import net from 'node:net'
import { TandemError, serverMessageSchema } from '../../protocol/index.js'
import { FramedSocket } from './framed-socket.js'

const CONNECT_TIMEOUT_MS = 5_000

export interface HandshakeResult {
  name: string
  syncPort: number
  /** The peer's clock minus ours. */
  skewMs: number
}

export async function handshake(
  host: string,
  port: number,
  self: string,
): Promise<HandshakeResult> {
  const socket = net.connect({ host, port })
  socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('handshake timed out')))
  const sentAt = Date.now()
  try {
    return await new Promise<HandshakeResult>((resolve, reject) => {
      const framed = new FramedSocket(socket, {
        onControl: (message) => {
          const parsed = serverMessageSchema.safeParse(message)
          if (!parsed.success) return reject(new Error('malformed welcome'))
          const m = parsed.data
          if (m.type === 'error') return reject(TandemError.fromWire(m.error as never))
          if (m.type !== 'welcome' || !m.sync) return reject(new Error('not a tandem peer'))
          const now = Date.now()
          resolve({
            name: m.server.name,
            syncPort: m.sync.port,
            skewMs: m.sync.time - (sentAt + now) / 2,
          })
        },
        onClose: (err) => reject(err ?? new Error('closed during handshake')),
      })
      framed.send({ type: 'hello', role: 'peer', id: self })
    })
  } finally {
    socket.end()
    socket.destroy()
  }
}
