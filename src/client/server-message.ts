/**
 * Light validation of what a server sends, before the connection acts on it. Written by hand, not
 * with the protocol's zod schema (protocol/messages.ts `serverMessageSchema`): loading zod and
 * building the schemas cost ~0.1 s of CPU at every start of the command line. It accepts and
 * returns exactly what that schema does (test/unit/server-message.test.ts compares the two): known
 * fields only, a malformed `load` or placement figure taken as absent.
 */
import { TandemError, type ServerMessage, type WireError } from '../protocol/client.js'

export type { ServerMessage }

/** The message, or ERR_BAD_FRAME if it is not one a server sends. */
export function parseServerMessage(raw: unknown): ServerMessage {
  const parsed = check(raw)
  if (parsed === undefined) {
    throw new TandemError('ERR_BAD_FRAME', 'the server sent a malformed control message')
  }
  // Error codes are checked where they are used (TandemError.fromWire maps unknown ones).
  return parsed
}

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isInt = (v: unknown): v is number => Number.isSafeInteger(v)
const isString = (v: unknown): v is string => typeof v === 'string'

function check(raw: unknown): ServerMessage | undefined {
  if (!isObject(raw)) return undefined
  switch (raw.type) {
    case 'welcome':
      return welcome(raw)
    case 'response': {
      if (!isNumber(raw.id)) return undefined
      if (raw.ok === true)
        return 'result' in raw
          ? { type: 'response', id: raw.id, ok: true, result: raw.result }
          : undefined
      const error = raw.ok === false ? wireError(raw.error) : undefined
      return error && { type: 'response', id: raw.id, ok: false, error }
    }
    case 'error': {
      const error = wireError(raw.error)
      return error && { type: 'error', error }
    }
    case 'event':
      return isObject(raw.event)
        ? ({ type: 'event', event: { ...raw.event } } as unknown as ServerMessage)
        : undefined
    default:
      return undefined
  }
}

function wireError(raw: unknown): WireError | undefined {
  if (!isObject(raw) || !isString(raw.code) || !isString(raw.message)) return undefined
  const error: WireError = { code: raw.code as WireError['code'], message: raw.message }
  if (raw.retryAfterMs !== undefined) {
    if (!isNumber(raw.retryAfterMs)) return undefined
    error.retryAfterMs = raw.retryAfterMs
  }
  if (raw.holders !== undefined) {
    if (!Array.isArray(raw.holders) || raw.holders.length > 64) return undefined
    const holders = []
    for (const h of raw.holders as unknown[]) {
      if (!isObject(h) || !isString(h.name) || h.name.length > 255) return undefined
      if (!isString(h.address) || h.address.length > 300) return undefined
      const holder: { name: string; address: string; http?: string; up?: boolean } = {
        name: h.name,
        address: h.address,
      }
      if (h.http !== undefined) {
        if (!isString(h.http) || h.http.length > 300) return undefined
        holder.http = h.http
      }
      if (h.up !== undefined) {
        if (typeof h.up !== 'boolean') return undefined
        holder.up = h.up
      }
      holders.push(holder)
    }
    ;(error as { holders?: unknown }).holders = holders
  }
  return error
}

function welcome(raw: Json): ServerMessage | undefined {
  const server = raw.server
  if (!isObject(server) || !isString(server.name) || !isString(server.version)) return undefined
  if (!isString(raw.sessionId)) return undefined
  const out: Json = {
    type: 'welcome',
    server: { name: server.name, version: server.version },
    sessionId: raw.sessionId,
  }
  // A malformed load is taken as none (the client then takes the server as it comes).
  const load = raw.load
  if (
    isObject(load) &&
    isInt(load.clients) &&
    load.clients >= 0 &&
    isInt(load.maxClients) &&
    load.maxClients > 0
  )
    out.load = { clients: load.clients, maxClients: load.maxClients }
  if (raw.sync !== undefined) {
    const sync = raw.sync
    if (!isObject(sync) || !isNumber(sync.port) || !isNumber(sync.time)) return undefined
    const info: Json = { port: sync.port, time: sync.time }
    if (sync.replicas !== undefined) {
      if (!isInt(sync.replicas) || sync.replicas < 1 || sync.replicas > 64) return undefined
      info.replicas = sync.replicas
    }
    // Malformed placement figures are taken as unknown; a malformed --replicas is not.
    if (sync.http === null || (isInt(sync.http) && sync.http >= 1 && sync.http <= 65535))
      info.http = sync.http
    if (isInt(sync.capacity) && sync.capacity >= 1) info.capacity = sync.capacity
    out.sync = info
  }
  return out as unknown as ServerMessage
}
