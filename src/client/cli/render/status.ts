/** The human form of `status`: this server, its clients, peers and locks. */
import type { StatusResult } from '../../../protocol/index.js'
import { humanDuration, localTime } from './format.js'

export function renderStatus(status: StatusResult): string {
  const { server, clients, peers, locks } = status
  const lines = [
    `server   ${server.name} (tandem ${server.version}, protocol ${server.protocol}, pid ${server.pid})`,
    `address  ${server.host}:${server.port}`,
    `root     ${server.root}`,
    `up       ${humanDuration(server.uptimeMs)} (since ${localTime(server.startedAt, true)})`,
    `clients  ${clients.connected} of ${clients.max}`,
  ]
  for (const client of clients.list) {
    lines.push(
      `         ${client.clientId} from ${client.address} since ${localTime(client.connectedAt, true)}`,
    )
  }
  lines.push(`peers    ${peers.length === 0 ? 'none' : ''}`.trimEnd())
  for (const peer of peers) lines.push(`         ${peer.address} ${peer.up ? 'up' : 'down'}`)
  lines.push(`locks    ${locks.length}`)
  return lines.join('\n')
}
