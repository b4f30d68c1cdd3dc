// A session task for test/unit/idle-collect.test.ts, run in a SessionPool thread through the
// thread's real collector (dist's idleCollector, as session/worker.ts runs sessions). A session
// holds `mib` MiB of ArrayBuffers until its port says 'end', then drops them and ends. The thread
// answers 'state' on the BroadcastChannel with its collector's counters and its ArrayBuffer bytes
// (asked that way, not by a session, since a session would cancel the collect it waits for).
import { BroadcastChannel } from 'node:worker_threads'
import { IdleCollector, idleCollector } from '../../dist/server/workers/idle-collect.js'

// The same collector with a long wait, for a test that must start a session before it runs.
const slow = new IdleCollector({ idleMs: 5_000 })

const channel = new BroadcastChannel('idle-collect-test')
channel.onmessage = () =>
  channel.postMessage({
    collects: idleCollector.collects,
    skipped: idleCollector.skipped,
    scheduled: idleCollector.scheduled,
    slow: { collects: slow.collects, skipped: slow.skipped, scheduled: slow.scheduled },
    arrayBuffers: process.memoryUsage().arrayBuffers,
  })

export default function session({ port, mib, useSlow = false }) {
  return (useSlow ? slow : idleCollector).around(async () => {
    let held = Array.from({ length: mib }, () => new ArrayBuffer(1024 * 1024))
    port.postMessage('started')
    await new Promise((resolve) => port.once('message', resolve))
    held = null
    port.close()
    return held
  })
}
