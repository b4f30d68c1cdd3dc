/**
 * The human form of `status`: this server, its clients, peers, user locks and files in use. What
 * the server says (names, ids, addresses, reasons) is shown escaped (displayText).
 */
import {
  displayText,
  type PeerStatus,
  type StatusResult,
  type SyncStatus,
  type UserLock,
} from '../../../protocol/index.js'
import { clockTime, humanDuration, localTime, plural } from './format.js'
import { renderTable, type Column } from './table.js'

const INDENT = '         ' // under the labels' column

export function renderStatus(status: StatusResult): string {
  const { server, clients, peers, locks } = status
  const lines = [
    `server   ${displayText(server.name)} (tandem ${displayText(server.version)}, protocol ${server.protocol}, pid ${server.pid})`,
    `address  ${displayText(server.host)}:${server.port}`,
    `root     ${displayText(server.root)}`,
    `up       ${humanDuration(server.uptimeMs)} (since ${localTime(server.startedAt, true)})`,
    `clients  ${clients.connected} of ${clients.max}`,
  ]
  for (const client of clients.list) {
    lines.push(
      `         ${displayText(client.clientId)} from ${displayText(client.address)} since ${localTime(client.connectedAt, true)}`,
    )
  }
  lines.push(`sync     ${syncLine(status.sync)}`)
  lines.push(`peers    ${peers.length === 0 ? 'none' : ''}`.trimEnd())
  for (const peer of peers) lines.push(`         ${peerLine(peer, server.uptimeMs)}`)
  lines.push(`locks    ${locks.length === 0 ? 'none' : locks.length}`)
  for (const line of lockTable(locks)) lines.push(`${INDENT}${line}`)
  const busy = status.pathLocks
  if (busy.length > 0) lines.push(`busy     ${plural(busy.length, 'file')} in use by operations`)
  return lines.join('\n')
}

/** Every user lock, here and at the peers: file, owner, server, since, end, queued updates. */
function lockTable(locks: readonly UserLock[]): string[] {
  if (locks.length === 0) return []
  const now = Date.now()
  const columns: Column[] = [
    { header: 'NAME' },
    { header: 'OWNER' },
    { header: 'SERVER' },
    { header: 'SINCE' },
    { header: 'EXPIRES' },
    { header: 'QUEUED', align: 'right' },
  ]
  const rows = locks.map((lock) => [
    displayText(lock.name),
    displayText(lock.owner),
    displayText(lock.server),
    clockTime(lock.since, now),
    lock.expiresAt === null ? 'when unlocked' : clockTime(lock.expiresAt, now),
    String(lock.queued),
  ])
  return renderTable(columns, rows)
}

function syncLine(sync: SyncStatus | undefined): string {
  if (!sync) return 'unknown'
  const files = sync.files === undefined ? '' : `, ${plural(sync.files, 'file')} indexed`
  const reason = sync.reason ? `: ${displayText(sync.reason)}` : ''
  return `${sync.state}${files}${reason}`
}

/** `B (127.0.0.1:9001) up, heard 0.4 s ago, 0 changes behind, clock +3.1 s` */
function peerLine(peer: PeerStatus, uptimeMs: number): string {
  const who = displayText(peer.name ? `${peer.name} (${peer.address})` : peer.address)
  const parts = [`${who} ${peer.up ? 'up' : 'down'}`]
  if (peer.lastHeard !== null)
    parts.push(`heard ${humanDuration(Math.max(0, Date.now() - peer.lastHeard))} ago`)
  else if (!peer.up) parts.push(`never reached in ${humanDuration(uptimeMs)}`)
  if (peer.behind !== null) parts.push(`${plural(peer.behind, 'change')} behind`)
  if (peer.clockSkewMs !== null && Math.abs(peer.clockSkewMs) >= 1000)
    parts.push(
      `clock ${peer.clockSkewMs > 0 ? '+' : '-'}${(Math.abs(peer.clockSkewMs) / 1000).toFixed(1)} s`,
    )
  return parts.join(', ')
}
