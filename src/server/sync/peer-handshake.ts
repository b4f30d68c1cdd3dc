/**
 * The first step of a link to a peer: hello as a peer on its control port. With a cluster key the
 * two prove it to each other first (protocol/handshake.ts): the peer's challenge, our proof. The
 * welcome tells the peer's name, its file-exchange port and its clock; then the connection ends.
 * A peer that cannot prove the key, or refuses ours, fails the handshake with ERR_AUTH.
 */
import net from 'node:net'
import {
  PeerConnector,
  TandemError,
  isTandemError,
  serverMessageSchema,
} from '../../protocol/index.js'
import { FramedSocket } from './framed-socket.js'

const CONNECT_TIMEOUT_MS = 5_000
const CLOSE_GRACE_MS = 2_000

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
  clusterKey: string | null = null,
): Promise<HandshakeResult> {
  const socket = net.connect({ host, port })
  socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('handshake timed out')))
  const auth = new PeerConnector(clusterKey, self, 'control')
  let sentAt = Date.now()
  let refused = false
  try {
    return await new Promise<HandshakeResult>((resolve, reject) => {
      const framed: FramedSocket = new FramedSocket(socket, {
        onControl: (message) => {
          try {
            if (PeerConnector.isChallenge(message)) {
              framed.send(auth.answer(message))
              sentAt = Date.now() // the welcome answers the proof
              return
            }
            resolve(welcomed(message, auth, sentAt))
          } catch (err) {
            // Told to the peer too, so that it logs the refusal on its side.
            if (isTandemError(err, 'ERR_AUTH') && !PeerConnector.isError(message)) {
              refused = true
              framed.send(PeerConnector.refusal(err))
            }
            reject(err as Error)
          }
        },
        onClose: (err) => reject(err ?? new Error('closed during handshake')),
      })
      framed.send({ type: 'hello', role: 'peer', id: self, ...auth.helloFields })
    })
  } finally {
    socket.end()
    // Our refusal must reach the peer: the socket lingers a moment for it (ended either way).
    if (refused) setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
    else socket.destroy()
  }
}

function welcomed(message: unknown, auth: PeerConnector, sentAt: number): HandshakeResult {
  const parsed = serverMessageSchema.safeParse(message)
  if (!parsed.success) throw new Error('malformed welcome')
  const m = parsed.data
  if (m.type === 'error') throw TandemError.fromWire(m.error as never)
  if (m.type !== 'welcome' || !m.sync) throw new Error('not a tandem peer')
  auth.welcomed(m.server.name)
  const now = Date.now()
  return {
    name: m.server.name,
    syncPort: m.sync.port,
    skewMs: m.sync.time - (sentAt + now) / 2,
  }
}
