/**
 * What operations see of a session worker's port link: an OpsContext (locks, log, queries, user
 * locks, all asked of the main thread) and the session's Outbound (bodies, events).
 */
import type { LockResult, StatusResult, UnlockResult } from '../../protocol/index.js'
import type { OpsContext } from '../ops/context.js'
import { writtenStates } from '../ops/own-writes.js'
import type { PortLink } from '../workers/port-link.js'
import type { FromWorker } from '../workers/messages.js'
import type { Outbound } from './dispatch.js'

/** The calls the main thread answers, over a session's port or the HTTP worker's. */
export interface MainCaller {
  call<T>(make: (req: number) => FromWorker): Promise<T>
  post(message: FromWorker): void
  /** Send what is queued now (a link that batches by turn; one that sends at once has none). */
  flush?(): void
}

/**
 * An OpsContext whose main-thread services go through `link`. `client` is sent along where the
 * main thread cannot know it (the HTTP worker serves many clients; a session's bridge knows its
 * own and uses that).
 */
export function mainContext(
  link: MainCaller,
  base: Pick<OpsContext, 'config' | 'store' | 'client' | 'signal' | 'index'>,
): OpsContext {
  const client = base.client.id
  return {
    ...base,
    lock: async (names, mode, purpose) => {
      const token = await link.call<number>((req) =>
        purpose
          ? { t: 'lock', req, names, mode, purpose, client }
          : { t: 'lock', req, names, mode, client },
      )
      if (mode !== 'write') return () => link.post({ t: 'unlock', token })
      // What the write left at its names goes to the sync worker before the lock is let go (see
      // own-writes.ts): every operation that writes, whatever it is, is told so here, once. The
      // operation answers its client only after this: a client that then hangs up ends the
      // session, whose locks the main thread releases, and the notice must be in before that. An
      // operation that failed before writing tells nothing: it must not pass another program's
      // change made just before it off as the server's own.
      return async (wrote = true) => {
        if (!wrote) return link.post({ t: 'unlock', token })
        link.post({ t: 'wrote', states: writtenStates(base.store.root, names) })
        link.post({ t: 'unlock', token })
        // Now, not at the turn's end: the notice takes the write's request id to the sync worker
        // (and so to the peers). Until it is in, a peer that got the change from the watcher would
        // apply a replay of it again; a crash in between would leave that window open until this
        // server restarts.
        link.flush?.()
      }
    },
    log: (entry, record) => link.post({ t: 'log', entry: { ...entry, client }, record }),
    published: (name, sha256, identity) => link.post({ t: 'published', name, sha256, identity }),
    treeChange: (change) => link.call((req) => ({ t: 'tree-change', req, change })),
    readLog: (query) => link.call((req) => ({ t: 'query', req, what: 'log', ...query })),
    status: () => link.call<StatusResult>((req) => ({ t: 'query', req, what: 'status' })),
    userLock: (request) =>
      link.call<LockResult | UnlockResult>((req) => ({ t: 'user-lock', req, client, ...request })),
    requests: {
      begin: (tag) => link.call((req) => ({ t: 'request-begin', req, tag })),
      done: async (tag, result, names) => {
        await link.call((req) => ({ t: 'request-done', req, tag, result, names: [...names] }))
      },
      abandon: (rid) => link.post({ t: 'request-abandon', rid }),
    },
  }
}

export function linkOutbound(
  link: PortLink,
  sendMessage: (message: unknown) => void,
  follow: Outbound['follow'],
): Outbound {
  return {
    sendMessage,
    send: (buffers) => link.send(buffers),
    whenWritable: () => link.whenWritable(),
    takeBuffer: (size) => link.takeBuffer(size),
    follow,
  }
}
