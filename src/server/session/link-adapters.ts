/**
 * What handlers see of the worker's port link: the SessionContext (locks, log) and the Outbound
 * (bodies, queries, events), built over the PortLink's messages to the main thread.
 */
import type { PortLink } from '../workers/port-link.js'
import type { SessionContext } from './context.js'
import type { Outbound } from './dispatch.js'

export function linkContext(
  link: PortLink,
  base: Pick<SessionContext, 'config' | 'store' | 'client' | 'signal'>,
): SessionContext {
  return {
    ...base,
    lock: async (names, mode, purpose) => {
      const token = await link.call<number>((req) =>
        purpose ? { t: 'lock', req, names, mode, purpose } : { t: 'lock', req, names, mode },
      )
      return () => link.post({ t: 'unlock', token })
    },
    log: (entry, record) =>
      link.post({ t: 'log', entry: { ...entry, client: base.client.id }, record }),
    published: (name, sha256, identity) => link.post({ t: 'published', name, sha256, identity }),
  }
}

export function linkOutbound(link: PortLink, sendMessage: (message: unknown) => void): Outbound {
  return {
    sendMessage,
    send: (buffers) => link.send(buffers),
    whenWritable: () => link.whenWritable(),
    takeBuffer: (size) => link.takeBuffer(size),
    queryLog: (limit) => link.call((req) => ({ t: 'query', req, what: 'log', limit: limit ?? 50 })),
    queryStatus: () => link.call((req) => ({ t: 'query', req, what: 'status' })),
    follow: () => link.post({ t: 'follow' }),
    userLock: (request) => link.call((req) => ({ t: 'user-lock', req, ...request })),
  }
}
