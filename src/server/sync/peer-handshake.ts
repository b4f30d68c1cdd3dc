/**
 * The first step of a link to a peer: hello as a peer on its control port, saying our
 * --replicas. With a cluster key the two prove it to each other first (protocol/handshake.ts):
 * the peer's challenge, our proof. The welcome tells the peer's name, its file-exchange port, its
 * clock, its --replicas, HTTP port and disk capacity; then the connection ends. A peer that cannot
 * prove the key, or refuses ours, fails the handshake with ERR_AUTH; one that keeps another number
 * of copies, with ERR_REPLICAS_MISMATCH (whichever side sees it first; the other is told).
 */
import net from 'node:net'
import {
  PeerConnector,
  replicasField,
  replicasMismatch,
  controlReplySchema,
} from '../../protocol/handshake.js'
import { TandemError, isTandemError } from '../../protocol/errors.js'
import { FramedSocket } from './framed-socket.js'

const CONNECT_TIMEOUT_MS = 5_000
const CLOSE_GRACE_MS = 2_000

/** What the welcome told of the member, for placement (see PeerLink.remote). */
export interface RemoteInfo {
  /** Its --replicas: the same as ours (a mismatch fails the handshake); null: every member. */
  replicas: number | null
  /** Its HTTP API's port (null: none). */
  http: number | null
  /** Its data directory's file system, GiB (at least 1; 1 from a server that does not say). */
  capacity: number
}

export interface HandshakeResult extends RemoteInfo {
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
  replicas: number | null = null,
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
            resolve(welcomed(message, auth, sentAt, self, replicas))
          } catch (err) {
            // Told to the peer too, so that it logs the refusal on its side.
            const refusal =
              isTandemError(err, 'ERR_AUTH') || isTandemError(err, 'ERR_REPLICAS_MISMATCH')
            if (refusal && !PeerConnector.isError(message)) {
              refused = true
              framed.send(PeerConnector.refusal(err))
            }
            reject(err as Error)
          }
        },
        onClose: (err) => reject(err ?? new Error('closed during handshake')),
      })
      framed.send({
        type: 'hello',
        role: 'peer',
        id: self,
        ...auth.helloFields,
        ...replicasField(replicas),
      })
    })
  } finally {
    socket.end()
    // Our refusal must reach the peer: the socket lingers a moment for it (ended either way).
    if (refused) setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
    else socket.destroy()
  }
}

function welcomed(
  message: unknown,
  auth: PeerConnector,
  sentAt: number,
  self: string,
  replicas: number | null,
): HandshakeResult {
  const parsed = controlReplySchema.safeParse(message)
  if (!parsed.success) throw new Error('malformed welcome')
  const m = parsed.data
  if (m.type === 'error') throw TandemError.fromWire(m.error)
  if (m.type !== 'welcome' || !m.sync) throw new Error('not a tandem peer')
  auth.welcomed(m.server.name)
  const theirs = m.sync.replicas ?? null
  const mismatch = replicasMismatch(self, replicas, m.server.name, theirs)
  if (mismatch) throw mismatch
  const now = Date.now()
  return {
    name: m.server.name,
    syncPort: m.sync.port,
    skewMs: m.sync.time - (sentAt + now) / 2,
    replicas: theirs,
    http: m.sync.http ?? null,
    capacity: m.sync.capacity ?? 1,
  }
}
