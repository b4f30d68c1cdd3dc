/**
 * Client discovery (`tandem --cluster NAME`): ask the LAN by multicast DNS-SD for the servers of a
 * cluster and collect the answers for a while. The server side (announcing) is the server's
 * discovery module; both read the records with protocol/discovery-records.ts.
 *
 * As on the server: the socket is bound to 0.0.0.0 with the interface set apart (given only an
 * interface, multicast-dns binds to it and hears nothing), and a server's address is the one its
 * answer came from, its ports the ones in its TXT record (loopback addresses are filtered out of
 * records by DNS-SD stacks). Nothing is cached: only servers that answer now are returned, so a
 * server killed with kill -9 is not among them however long its records would live elsewhere.
 */
import type { RemoteInfo } from 'node:dgram'
import { MAX_DISCOVERED, parseAnnouncements, SERVICE_TYPE } from '../protocol/discovery-records.js'
import type { ServerAddress } from './address.js'

/** A server that answered, in the order of the answers. */
export interface DiscoveredServer extends ServerAddress {
  name: string
  httpPort: number | null
}

export interface DiscoverOptions {
  /** How long to listen for answers. */
  timeoutMs: number
  /** IPv4 address of the interface to ask on; default: the OS's choice. */
  interface?: string | null
}

/** Queries within the window (ms after start): answers to one query may be lost. */
const QUERIES_MS = [0, 250, 1000]

/** The servers of `cluster` that answer within `timeoutMs` (empty if none). */
export async function discoverServers(
  cluster: string,
  options: DiscoverOptions,
): Promise<DiscoveredServer[]> {
  // Loaded here, not at start: only --cluster needs it (start-up time of every command).
  const { default: makeMdns } = await import('multicast-dns')
  const iface = options.interface ?? null
  const mdns = makeMdns({
    bind: '0.0.0.0',
    reuseAddr: true,
    ...(iface ? { interface: iface } : {}),
  })
  const found = new Map<string, DiscoveredServer>()
  mdns.on('response', (packet: unknown, rinfo: RemoteInfo) => {
    let announcements
    try {
      announcements = parseAnnouncements(packet)
    } catch {
      return // someone else's bytes
    }
    for (const a of announcements) {
      // At most MAX_DISCOVERED: each is dialled (least-loaded), and anyone can announce any.
      if (a.cluster !== cluster || found.has(a.name) || found.size >= MAX_DISCOVERED) continue
      found.set(a.name, { name: a.name, host: rinfo.address, port: a.port, httpPort: a.httpPort })
    }
  })
  mdns.on('warning', () => {})
  return new Promise((resolve) => {
    let failed = false
    mdns.on('error', () => {
      // Port 5353 cannot be had (EACCES/EADDRINUSE): no server can be found this way.
      failed = true
      finish()
    })
    const ask = (): void =>
      mdns.query({ questions: [{ name: SERVICE_TYPE, type: 'PTR' }] }, () => {})
    const timers = QUERIES_MS.filter((ms) => ms < options.timeoutMs).map((ms) =>
      setTimeout(ask, ms),
    )
    const end = setTimeout(() => finish(), options.timeoutMs)
    let done = false
    function finish(): void {
      if (done) return
      done = true
      for (const t of timers) clearTimeout(t)
      clearTimeout(end)
      mdns.destroy(() => resolve(failed ? [] : [...found.values()]))
    }
  })
}
