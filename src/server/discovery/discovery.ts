/**
 * Cluster discovery (`--cluster NAME`): announce this server with multicast DNS-SD and browse for
 * the other members of its cluster. Runs in the sync worker, which owns the peer links: every
 * member found becomes an `onMember` call, and the engine adds a link for a name it has no link
 * for. Discovery only says where a member is; whether it is up comes from the links' heartbeats.
 *
 * The pitfalls of the multicast-DNS stack, each handled here:
 * - Given only an `interface`, multicast-dns binds the socket to that unicast address, and then no
 *   multicast packet is received: the socket is bound to 0.0.0.0 and the interface is set apart.
 * - Loopback and internal addresses are left out of a service's addresses by DNS-SD libraries, and
 *   an A record may name any address: the ports come from the TXT record and the host is the
 *   address the packet came from (the one that reached us).
 * - A server killed with kill -9 sends no goodbye and its records live on in caches for their TTL.
 *   Nothing here keeps records: a member is only ever "found", never "gone"; being up or down is
 *   the peer link's heartbeat's business (--peer-timeout).
 * Also: the packets come from anyone on the LAN. Every field is checked (discovery-records.ts), a
 * packet that cannot be parsed is dropped, and answers to queries are rate-limited, so that
 * garbage or a query flood neither stops discovery nor makes this server flood the group.
 */
import makeMdns from 'multicast-dns'
import type { RemoteInfo } from 'node:dgram'
import os from 'node:os'
import {
  announcementRecords,
  ANNOUNCEMENT_VERSION,
  asksForTandem,
  MAX_DISCOVERED,
  parseAnnouncements,
  SERVICE_TYPE,
  type Announcement,
} from '../../protocol/discovery-records.js'

/** A member of the cluster as discovery found it. */
export interface DiscoveredMember {
  name: string
  /** The address its announcement came from. */
  host: string
  /** Control port. */
  port: number
  /** File-exchange port. */
  syncPort: number
  /** HTTP port, or null. */
  httpPort: number | null
}

export interface DiscoveryOptions {
  cluster: string
  /** This server's name (its own announcements are not members). */
  name: string
  ports: { control: number; sync: number; http: number | null }
  /** IPv4 address of the interface to use for multicast; default: the OS's choice. */
  interface?: string | null
  /** A member seen for the first time, or at another address or ports than before. */
  onMember(member: DiscoveredMember): void
  warn(message: string): void
  /** Time between re-queries once the first burst is over (default 5 s). */
  queryIntervalMs?: number
}

export interface Discovery {
  stop(): Promise<void>
}

/** Queries right after start (ms): a burst, because the first packets of a new socket may be lost. */
const FIRST_QUERIES_MS = [0, 300, 1000, 2500]
const QUERY_INTERVAL_MS = 5_000 // 5 s: a member started later announces itself; this is for lost packets
const MIN_ANSWER_GAP_MS = 200 // at most 5 answers a second, whatever floods the group
const MIN_MOVE_GAP_MS = 5_000 // a member's address changes at most this often (its announcements come as often)
const MAX_WARNINGS = 16 // distinct warnings; then one line saying that the rest are not shown

/** Start announcing and browsing; `stop()` closes the socket. */
export function startDiscovery(options: DiscoveryOptions): Discovery {
  const mdns = openMdns(options.interface ?? null)
  const own = announcementRecords({
    cluster: options.cluster,
    name: options.name,
    port: options.ports.control,
    syncPort: options.ports.sync,
    httpPort: options.ports.http,
    version: ANNOUNCEMENT_VERSION,
  })
  /** Where each member was announced, and when that last changed. */
  const known = new Map<string, { where: string; since: number }>()
  const warned = new Set<string>()
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key) || warned.size > MAX_WARNINGS) return
    warned.add(key)
    // Keys carry names and addresses from the packets: made-up ones must not flood the console.
    options.warn(
      warned.size > MAX_WARNINGS
        ? 'discovery: more warnings about packets on the multicast group are not shown'
        : message,
    )
  }
  let lastAnswer = 0
  let answerTimer: NodeJS.Timeout | undefined
  const announce = (): void => {
    // An announcement of our own (query()) also answers what waits: one timer, never two chains.
    clearTimeout(answerTimer)
    answerTimer = undefined
    lastAnswer = Date.now()
    mdns.respond({ answers: own as never }, sendFailed)
  }
  const sendFailed = (err: Error | null): void => {
    if (err)
      warnOnce(
        `send:${err.message}`,
        `discovery: cannot send on the multicast group: ${err.message}`,
      )
  }
  const query = (): void => {
    mdns.query({ questions: [{ name: SERVICE_TYPE, type: 'PTR' }] }, sendFailed)
    announce()
  }

  mdns.on('query', (packet: unknown) => {
    if (!safely(() => asksForTandem(packet)) || answerTimer !== undefined) return
    const wait = Math.max(0, lastAnswer + MIN_ANSWER_GAP_MS - Date.now())
    answerTimer = setTimeout(announce, wait)
  })
  mdns.on('response', (packet: unknown, rinfo: RemoteInfo) => {
    for (const a of safely(() => parseAnnouncements(packet)) ?? []) {
      const member = memberOf(a, rinfo, options, warnOnce)
      if (member === null) continue
      const where = `${member.host}:${member.port}:${member.syncPort}:${member.httpPort}`
      const before = known.get(member.name)
      if (before?.where === where) continue
      // A move (restarted on other ports) is followed, but at most once per MIN_MOVE_GAP_MS: two
      // senders announcing one name must not make its link jump back and forth, redialling.
      if (before !== undefined && Date.now() - before.since < MIN_MOVE_GAP_MS) continue
      if (before === undefined && known.size >= MAX_DISCOVERED) {
        warnOnce(
          'full',
          `discovery: more than ${MAX_DISCOVERED} members announced in cluster ${options.cluster}; ${member.name} at ${member.host} and any further ones are ignored`,
        )
        continue
      }
      known.set(member.name, { where, since: Date.now() })
      options.onMember(member)
    }
  })
  // Undecodable packets come as 'warning': garbage on the group is dropped without a word.
  mdns.on('warning', () => {})
  mdns.on('error', (err: Error) =>
    warnOnce(
      'error',
      `discovery: the multicast socket failed (${err.message}); use --peer instead`,
    ),
  )

  const timers = FIRST_QUERIES_MS.map((ms) => setTimeout(query, ms))
  const interval = setInterval(query, options.queryIntervalMs ?? QUERY_INTERVAL_MS)
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t)
        clearInterval(interval)
        clearTimeout(answerTimer)
        mdns.destroy(() => resolve())
      }),
  }
}

/** An mDNS socket on 0.0.0.0:5353, sending on `iface` (an IPv4 address) or the OS's choice. */
export function openMdns(iface: string | null): makeMdns.MulticastDNS {
  // Pitfall: `interface` alone would bind to that address and receive nothing; bind 0.0.0.0.
  return makeMdns({ bind: '0.0.0.0', reuseAddr: true, ...(iface ? { interface: iface } : {}) })
}

function memberOf(
  a: Announcement,
  rinfo: RemoteInfo,
  options: DiscoveryOptions,
  warnOnce: (key: string, message: string) => void,
): DiscoveredMember | null {
  if (a.cluster !== options.cluster) return null
  if (a.name === options.name) {
    // Our own announcement (multicast loops back) has our ports and comes from one of our
    // addresses; another server of our name (a cloned machine's host name) differs in either.
    const echo =
      a.port === options.ports.control &&
      a.syncPort === options.ports.sync &&
      ownAddresses().has(rinfo.address)
    if (!echo)
      warnOnce(
        `twin:${rinfo.address}`,
        `discovery: another server at ${rinfo.address} is also named ${a.name} in cluster ${a.cluster}; it is ignored`,
      )
    return null
  }
  if (a.version !== ANNOUNCEMENT_VERSION) {
    warnOnce(
      `version:${a.name}`,
      `discovery: member ${a.name} at ${rinfo.address} speaks protocol ${a.version}, this server ${ANNOUNCEMENT_VERSION}; it is ignored`,
    )
    return null
  }
  // Pitfall: the host is the packet's sender, not an address from the records (see the header).
  return {
    name: a.name,
    host: rinfo.address,
    port: a.port,
    syncPort: a.syncPort,
    httpPort: a.httpPort,
  }
}

/** This machine's IPv4 addresses (of its network namespace), looked up at most once a second. */
let own: { at: number; addresses: Set<string> } | undefined
function ownAddresses(): Set<string> {
  if (own === undefined || Date.now() - own.at > 1000) {
    const addresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && i.family === 'IPv4')
      .map((i) => i!.address)
    own = { at: Date.now(), addresses: new Set(addresses) }
  }
  return own.addresses
}

/** The parsers never throw, but a packet is someone else's bytes: a throw here would end the thread. */
function safely<T>(parse: () => T): T | undefined {
  try {
    return parse()
  } catch {
    return undefined
  }
}
