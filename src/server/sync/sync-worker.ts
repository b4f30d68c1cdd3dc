/**
 * The peer-sync worker's entry: a plain worker thread that runs the sync engine (engine.ts, which
 * owns the watcher, the file index, the file-exchange port and the links to the peers) and
 * carries its traffic with the main thread: path locks asked of it, reports told to it, and its
 * requests (status, user locks, stop) answered, all through workers/request-reply.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { startDiscovery, type Discovery } from '../discovery/discovery.js'
import { answer, Outbox, Requests, unbatch } from '../workers/request-reply.js'
import { SyncEngine, type EngineHost } from './engine.js'
import type { FromSync, SyncWorkerData, ToSync } from './messages.js'

const data = workerData as SyncWorkerData
const port = parentPort!
// Messages of one microtask leave as one (a bulk mirror asks for thousands of locks).
const outbox = new Outbox<FromSync>((message) => port.postMessage(message))
const post = (message: FromSync): void => outbox.post(message)
const requests = new Requests()
/** --cluster: started on 'discover' (the main thread knows the control and HTTP ports). */
let discovery: Discovery | undefined

const host: EngineHost = {
  lock: async (names, mode) => {
    const token = await requests.call<number>((req) =>
      post(
        mode ? { t: 'lock', req, names: [...names], mode } : { t: 'lock', req, names: [...names] },
      ),
    )
    return () => post({ t: 'unlock', token })
  },
  tell: post,
}

async function main(): Promise<void> {
  const engine = await SyncEngine.open(data, host)
  port.on('message', (batch: ToSync) => {
    for (const m of unbatch(batch)) onMessage(engine, m)
  })
  post({ t: 'ready', syncPort: engine.syncPort })
  await engine.run()
}

function onMessage(engine: SyncEngine, m: ToSync): void {
  switch (m.t) {
    case 'reply':
    case 'reply-failed':
      return requests.settle(m)
    case 'status':
      return answer(post, m.req, () => engine.status())
    case 'published':
      return engine.published(m.name, m.sha256, m.identity)
    case 'tree-change':
      return answer(post, m.req, () => engine.treeChange(m.change))
    case 'wrote':
      return engine.wrote(m.states)
    case 'request-done':
      return engine.requestDone(m.request, m.names)
    case 'user-lock':
      return answer(post, m.req, () => engine.userLock(m))
    case 'clients':
      return engine.clients(m.count)
    case 'add-member':
      return void engine.addMember(m.member)
    case 'member-refused':
      return engine.refused(m.peer, m.reason)
    case 'discover':
      if (data.cluster === null || discovery !== undefined) return
      discovery = startDiscovery({
        cluster: data.cluster,
        name: data.self,
        ports: { control: m.control, sync: engine.syncPort, http: m.http },
        interface: data.clusterInterface,
        // A member found: a link to it (by name; a known name at a new address moves its link).
        onMember: (member) =>
          void engine.addMember({
            name: member.name,
            address: `${member.host}:${member.port}`,
            source: 'discovered',
          }),
        warn: (message) => post({ t: 'warn', message }),
      })
      return
    case 'stop':
      return void stop(engine)
  }
}

async function stop(engine: SyncEngine): Promise<void> {
  await discovery?.stop()
  await engine.stop()
  post({ t: 'stopped' })
  outbox.flush()
  port.close()
}

main().catch((err: unknown) => {
  post({ t: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
})
