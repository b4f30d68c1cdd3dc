/**
 * What `status` says of this server's role: an equal, or a secondary of its primary, which is
 * reachable while the mirror link to it is connected (its heartbeats arrive).
 */
import type { PeerStatus, RoleStatus } from '../../protocol/index.js'

export function roleStatus(primary: string | null, peers: readonly PeerStatus[]): RoleStatus {
  if (primary === null) return { kind: 'equal' }
  const link = peers.find((peer) => peer.address === primary)
  return {
    kind: 'secondary',
    primary,
    name: link?.name ?? null,
    reachable: link?.connected ?? false,
  }
}
