/**
 * The human form of `status`: this server, its clients, members (peers), user locks and files in
 * use. What
 * the server says (names, ids, addresses, reasons) is shown escaped (displayText).
 */
import {
  displayText,
  type MemberStatus,
  type PeerStatus,
  type PlacementStatus,
  type RoleStatus,
  type SetAsideEntry,
  type StatusResult,
  type SyncStatus,
  type UserLock,
} from '../../../protocol/client.js'
import { clockTime, humanDuration, humanSize, localTime, plural } from './format.js'
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
  if (status.role?.kind === 'secondary') lines.push(`role     ${secondaryLine(status.role)}`)
  lines.push(`sync     ${syncLine(status.sync)}`)
  if (status.placement) lines.push(...placementLines(status.placement))
  // An older server tells its peers only.
  const members = (status.members as MemberStatus[] | undefined) ?? null
  if (members === null) {
    lines.push(`peers    ${peers.length === 0 ? 'none' : ''}`.trimEnd())
    for (const peer of peers) lines.push(`         ${peerLine(peer, server.uptimeMs)}`)
  } else {
    const up = members.filter((m) => m.state === 'up').length
    lines.push(`members  ${members.length === 0 ? 'none' : `${members.length}, ${up} up`}`)
    for (const member of members) {
      const peer = peers.find((p) => p.address === member.addresses[0])
      lines.push(`         ${memberLine(member, peer, server.uptimeMs)}`)
    }
    // A link no member stands for (cannot happen with this server's own engine): shown as is.
    for (const peer of peers)
      if (!members.some((m) => m.addresses[0] === peer.address))
        lines.push(`         ${peerLine(peer, server.uptimeMs)}`)
  }
  const aside = status.sync.setAside ?? []
  if (aside.length > 0) {
    lines.push(`aside    ${plural(aside.length, 'change')} from peers set aside here, retried:`)
    for (const line of setAsideTable(aside)) lines.push(`${INDENT}${line}`)
  }
  lines.push(`locks    ${locks.length === 0 ? 'none' : locks.length}`)
  for (const line of lockTable(locks)) lines.push(`${INDENT}${line}`)
  const busy = status.pathLocks
  if (busy.length > 0) lines.push(`busy     ${plural(busy.length, 'file')} in use by operations`)
  return lines.join('\n')
}

/** A secondary forwards its writes: to which primary, and whether it can now. */
function secondaryLine(role: Extract<RoleStatus, { kind: 'secondary' }>): string {
  const who = role.name === null ? '' : ` ${displayText(role.name)}`
  const state = role.reachable ? 'reachable' : 'unreachable: writes here fail, reads work'
  return `secondary of the primary${who} at ${displayText(role.primary)} (${state})`
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

/**
 * `copies   K=2: 60 files, 41 held here, 3 under-replicated, 0 surplus` and, while healing or
 * once it did something, `healing  2 queued; 19 copied (1.2 MiB), 0 dropped; last error: …`.
 */
export function placementLines(p: PlacementStatus): string[] {
  const lines = [
    `copies   K=${p.replicas}: ${plural(p.files, 'file')}, ${p.held} held here, ` +
      `${p.underReplicated} under-replicated, ${p.surplus} surplus`,
  ]
  const h = p.healing
  if (h.queued > 0 || h.copied > 0 || h.dropped > 0 || h.lastError !== undefined) {
    const error = h.lastError === undefined ? '' : `; last error: ${displayText(h.lastError)}`
    lines.push(
      `healing  ${h.queued} queued; ${h.copied} copied (${humanSize(h.bytes)}), ${h.dropped} dropped${error}`,
    )
  }
  return lines
}

function syncLine(sync: SyncStatus | undefined): string {
  if (!sync) return 'unknown'
  const files = sync.files === undefined ? '' : `, ${plural(sync.files, 'file')} indexed`
  const reason = sync.reason ? `: ${displayText(sync.reason)}` : ''
  return `${sync.state}${files}${reason}`
}

/** Peers' entries that could not be applied here: name, from, how long, tries, why. */
function setAsideTable(entries: readonly SetAsideEntry[]): string[] {
  const now = Date.now()
  const columns: Column[] = [
    { header: 'NAME' },
    { header: 'FROM' },
    { header: 'WAITING', align: 'right' },
    { header: 'TRIES', align: 'right' },
    { header: 'WHY' },
  ]
  const rows = entries.map((e) => [
    displayText(e.name),
    displayText(e.peer),
    humanDuration(Math.max(0, now - e.since)),
    String(e.attempts),
    `${displayText(e.code)}: ${displayText(e.reason)}`,
  ])
  return renderTable(columns, rows)
}

/**
 * `B (127.0.0.1:9001) up, static, 2 clients, heard 0.4 s ago, backlog 0, 0 changes behind`, or
 * `C (10.0.0.3:8001) refused, discovered, never reached in 1 min: ERR_AUTH …`: a member, with
 * what its link says besides (stalled, the oldest waiting, fetched, clock) when there is one.
 */
function memberLine(member: MemberStatus, peer: PeerStatus | undefined, uptimeMs: number): string {
  const where = member.addresses.join(', ')
  const who = displayText(member.name ? `${member.name} (${where})` : where)
  const state = member.state === 'up' && peer?.state === 'stalled' ? 'up (stalled)' : member.state
  const parts = [`${who} ${state}`, member.source]
  if (member.clients !== null) parts.push(plural(member.clients, 'client'))
  if (member.lastContact !== null)
    parts.push(`heard ${humanDuration(Math.max(0, Date.now() - member.lastContact))} ago`)
  else if (member.state !== 'connecting') parts.push(`never reached in ${humanDuration(uptimeMs)}`)
  if (member.backlog !== null)
    parts.push(
      member.backlog === 0
        ? 'backlog 0'
        : `backlog ${member.backlog} (${member.backlog === 1 ? 'a change' : 'changes'} here it has not received yet)`,
    )
  if (member.behind !== null) parts.push(`${plural(member.behind, 'change')} behind`)
  if (peer) parts.push(...linkDetails(peer))
  const line = parts.join(', ')
  return member.reason ? `${line}: ${displayText(member.reason)}` : line
}

/** The oldest change waiting, contents fetched, a clock apart: what a link adds to its member. */
function linkDetails(peer: PeerStatus): string[] {
  const parts: string[] = []
  if (peer.oldestWaitingMs !== null && peer.behind)
    parts.push(`the oldest waiting ${humanDuration(peer.oldestWaitingMs)}`)
  if (peer.fetched && peer.fetched.files > 0)
    parts.push(`${plural(peer.fetched.files, 'file')} (${humanSize(peer.fetched.bytes)}) fetched`)
  if (peer.clockSkewMs !== null && Math.abs(peer.clockSkewMs) >= 1000)
    parts.push(
      `clock ${peer.clockSkewMs > 0 ? '+' : '-'}${(Math.abs(peer.clockSkewMs) / 1000).toFixed(1)} s`,
    )
  return parts
}

/**
 * `B (127.0.0.1:9001) up, heard 0.4 s ago, backlog 0, 0 changes behind, clock +3.1 s`, or
 * `B (…) down, heard 12.0 s ago, backlog 3 (changes here it has not received yet), …`, or
 * `B (…) stalled, heard 0.2 s ago, backlog 0, 4 changes behind, the oldest waiting 2 min 03 s`.
 * The backlog is what waits for the peer; "behind" is what of the peer's waits here; "fetched"
 * the contents this server fetched whole from it since it started (renames and copies fetch none).
 */
function peerLine(peer: PeerStatus, uptimeMs: number): string {
  const who = displayText(peer.name ? `${peer.name} (${peer.address})` : peer.address)
  const state = peer.state
  const parts = [`${who} ${state}`]
  if (peer.lastHeard !== null)
    parts.push(`heard ${humanDuration(Math.max(0, Date.now() - peer.lastHeard))} ago`)
  else if (state === 'down') parts.push(`never reached in ${humanDuration(uptimeMs)}`)
  if (peer.backlog !== null && peer.backlog !== undefined)
    parts.push(
      peer.backlog === 0
        ? 'backlog 0'
        : `backlog ${peer.backlog} (${peer.backlog === 1 ? 'a change' : 'changes'} here it has not received yet)`,
    )
  if (peer.behind !== null) parts.push(`${plural(peer.behind, 'change')} behind`)
  parts.push(...linkDetails(peer))
  return parts.join(', ')
}
