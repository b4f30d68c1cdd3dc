// Run as a child process by test/unit/young-generation.test.ts (V8 flags are process-wide, so not
// in the test's own process). It does what `tandem serve` does first (dist's
// keepMainYoungGenerationSmall), starts worker threads as the server does — a session pool and
// a plain Worker with its own young-generation limit, as the sync host starts one — then makes
// the main thread and the plain worker allocate fast, and prints each one's new-space size (MiB)
// as JSON. A semi-space growth factor of 1 keeps them at their initial 2 MiB; 2 doubles them.
import v8 from 'node:v8'
import { once } from 'node:events'
import { MessageChannel, Worker } from 'node:worker_threads'

const dist = new URL('../../dist/server/', import.meta.url)
const { keepMainYoungGenerationSmall } = await import(
  new URL('workers/young-generation.js', dist).href
)
keepMainYoungGenerationSmall()
const { SessionPool } = await import(new URL('session-pool.js', dist).href)

const CHURN = `function churn() {
  let keep = []
  for (let i = 0; i < 3e6; i++) {
    keep.push({ i, s: 'x' + i })
    if (keep.length > 50000) keep = []
  }
}
const newSpaceMiB = () =>
  require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576`
function mainNewSpaceMiB() {
  let keep = []
  for (let i = 0; i < 3e6; i++) {
    keep.push({ i, s: 'x' + i })
    if (keep.length > 50000) keep = []
  }
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576
}

// A session thread, started by its first task (as the server's first client does).
const pool = new SessionPool(1, 1, new URL('pool-task.mjs', import.meta.url).href)
const { port1, port2 } = new MessageChannel()
const task = pool.run({ port: port2 }, { transferList: [port2] })
await once(port1, 'message')

// A plain worker, as the sync host starts its worker; it allocates once told to.
const plain = new Worker(
  `const { parentPort } = require('node:worker_threads')
  ${CHURN}
  parentPort.once('message', () => { churn(); parentPort.postMessage(newSpaceMiB()) })`,
  { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 8 } },
)
await once(plain, 'online')
plain.postMessage('go')
const [worker] = await once(plain, 'message')
const main = mainNewSpaceMiB()
port1.postMessage('end')
await task
await plain.terminate()
await pool.destroy()
console.log(JSON.stringify({ main, worker }))
