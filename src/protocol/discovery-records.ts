/**
 * The DNS-SD records a tandem server announces on multicast DNS, and the parser that turns a
 * received packet back into announcements. Pure: shared by the server (which announces and
 * browses) and the client (which browses). Service type `_tandem._tcp.local`, instance = the
 * server's name, TXT: `cluster`, `name`, `port` (control), `sync` (file-exchange), `http` (HTTP
 * port or empty), `v` (protocol version).
 *
 * The parser takes the packet as the mDNS library decoded it, with no trust in its shape: any
 * field may be missing, of another type or huge (anyone on the LAN can send anything), and a bad
 * record is skipped, never thrown on.
 */
import { PROTOCOL_VERSION } from './constants.js'

export const SERVICE_TYPE = '_tandem._tcp.local'

/** What one server says about itself. */
export interface Announcement {
  cluster: string
  name: string
  /** Control port. */
  port: number
  /** File-exchange port. */
  syncPort: number
  /** HTTP port, or null when it serves none. */
  httpPort: number | null
  /** Its protocol version. */
  version: number
}

/** A DNS resource record, as the mDNS library encodes and decodes it. */
export interface DnsRecord {
  name: string
  type: string
  ttl?: number
  data: unknown
}

/**
 * Cluster and server names in records: the server-name rule of the config (letters, digits, ".",
 * "_", "-"), at most 63 — the most a DNS label holds (the instance label is the server's name).
 */
export const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,63}$/
/** A TXT record longer than this is not ours (ours is under 200 bytes). */
const MAX_TXT_BYTES = 1024
/** At most this many records of a packet are looked at. */
const MAX_RECORDS = 64

/**
 * The most members (servers) a server or a client takes from discovery: a cluster is a handful of
 * servers, and anyone on the LAN can announce made-up ones; each taken is a link (a client: a dial).
 */
export const MAX_DISCOVERED = 64

const TTL_S = 120 // 2 min: only for other mDNS software; membership comes from heartbeats

/** The answers that announce `a` (PTR → SRV + TXT): a response to a query, or unsolicited. */
export function announcementRecords(a: Announcement): DnsRecord[] {
  const instance = `${a.name}.${SERVICE_TYPE}`
  const txt = [
    `cluster=${a.cluster}`,
    `name=${a.name}`,
    `port=${a.port}`,
    `sync=${a.syncPort}`,
    `http=${a.httpPort ?? ''}`,
    `v=${a.version}`,
  ]
  return [
    { name: SERVICE_TYPE, type: 'PTR', ttl: TTL_S, data: instance },
    { name: instance, type: 'SRV', ttl: TTL_S, data: { port: a.port, target: `${a.name}.local` } },
    { name: instance, type: 'TXT', ttl: TTL_S, data: txt },
  ]
}

/** True if a decoded query packet asks for tandem servers (PTR or ANY of the service type). */
export function asksForTandem(packet: unknown): boolean {
  const questions = field(packet, 'questions')
  if (!Array.isArray(questions)) return false
  return questions.slice(0, MAX_RECORDS).some((q) => {
    const name = field(q, 'name')
    const type = field(q, 'type')
    return (
      typeof name === 'string' &&
      name.toLowerCase() === SERVICE_TYPE &&
      (type === 'PTR' || type === 'ANY')
    )
  })
}

/** The announcements of tandem servers in a decoded response packet (answers and additionals). */
export function parseAnnouncements(packet: unknown): Announcement[] {
  const records = [field(packet, 'answers'), field(packet, 'additionals')]
    .filter(Array.isArray)
    .flat()
    .slice(0, MAX_RECORDS)
  const found: Announcement[] = []
  for (const record of records) {
    const name = field(record, 'name')
    if (field(record, 'type') !== 'TXT' || typeof name !== 'string') continue
    if (!name.toLowerCase().endsWith(`.${SERVICE_TYPE}`)) continue
    const a = fromTxt(txtEntries(field(record, 'data')))
    if (a !== null && !found.some((f) => f.name === a.name && f.cluster === a.cluster))
      found.push(a)
  }
  return found
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined
}

/** TXT data decodes as a Buffer, a string or an array of them; anything else is nothing. */
function txtEntries(data: unknown): Map<string, string> {
  const parts: unknown[] = Array.isArray(data) ? data : [data]
  const entries = new Map<string, string>()
  let bytes = 0
  for (const part of parts) {
    const text = Buffer.isBuffer(part)
      ? part.toString('utf8')
      : typeof part === 'string'
        ? part
        : null
    if (text === null) continue
    bytes += text.length
    if (bytes > MAX_TXT_BYTES) return new Map()
    const eq = text.indexOf('=')
    if (eq > 0 && !entries.has(text.slice(0, eq)))
      entries.set(text.slice(0, eq), text.slice(eq + 1))
  }
  return entries
}

function fromTxt(txt: Map<string, string>): Announcement | null {
  const cluster = txt.get('cluster')
  const name = txt.get('name')
  const port = portOf(txt.get('port'))
  const syncPort = portOf(txt.get('sync'))
  const http = txt.get('http')
  const httpPort = http === '' ? null : portOf(http)
  const version = Number(txt.get('v'))
  if (cluster === undefined || !CLUSTER_NAME.test(cluster)) return null
  if (name === undefined || !CLUSTER_NAME.test(name)) return null
  if (port === null || syncPort === null || (http !== '' && httpPort === null)) return null
  if (!Number.isInteger(version) || version < 1) return null
  return { cluster, name, port, syncPort, httpPort, version }
}

function portOf(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return null
  const port = Number(text)
  return port >= 1 && port <= 65_535 ? port : null
}

/** This build's announcement version. */
export const ANNOUNCEMENT_VERSION = PROTOCOL_VERSION
