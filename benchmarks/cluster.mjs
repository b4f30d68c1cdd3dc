/**
 * Issue 12: how fast does a cluster assemble itself, and how fast does it notice a member gone?
 * Three real `tandem serve --cluster NAME --cluster-key FILE` processes with no --peer, each in a
 * network namespace of a private lab (lib/netns-lab.mjs: multicast DNS never leaves it), fresh
 * ones for every run. Per run:
 *   1. cold start: all three spawned at once; the time until every server has said that each of
 *      the two others is up (its console line), from the spawn and from the last "listening";
 *   2. kill -9 of one member: the time until both others have said it is down (its kernel
 *      closes its sockets, so this is the links seeing the connection end);
 *   3. a member cut off the network (its veth down at the bridge, then kill -9: no FIN, no RST,
 *      like a machine losing power): the time until the last one left says it is down, which
 *      only the heartbeat's silence can tell (the peer timeout).
 * Times come from the servers' console lines as they reach the benchmark. Where namespaces cannot
 * be made (not root, no `ip`), the rows are skipped with one line saying why.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { spawnTracked, stopChild, tempDir } from './lib/children.mjs'
import { createLab, netnsUnavailable } from './lib/netns-lab.mjs'
import { TANDEM_BIN, tandemDirs } from './lib/servers.mjs'
import { median, round } from './lib/stats.mjs'
import { row } from './lib/summary.mjs'

/** @typedef {{ runs: number, timeoutMs: number, serverNodeArgs: string[] }} ClusterConfig */

const NAMES = ['A', 'B', 'C']
const CLUSTER = 'bench'
const ASSEMBLE_TARGET_S = 10 // the promise
const DOWN_TARGET_S = 7 // --peer-timeout (5 s) + 2 s
// "⇄ peer B up" today; "member B joined/up" once membership has its own lines.
const UP = /(?:peer|member) (\S+) (?:up|joined)/
const DOWN = /(?:peer|member) (\S+) (?:down|left)/
const LISTENING = /listening on /
// Names on the console are wrapped in private-use marks (console.ts `named`).
const plain = (/** @type {string} */ line) => line.replace(/[\ue000\ue001]/g, '')

/** @param {ClusterConfig} config @param {(line: string) => void} log */
export async function measureCluster(config, log) {
  const reason = netnsUnavailable()
  if (reason !== null) {
    log(`  cluster rows skipped: ${reason}`)
    return { config, skipped: reason, runs: [] }
  }
  const runs = []
  for (let run = 0; run < config.runs; run++) runs.push(await oneRun(config, run, log))
  return { config, skipped: null, runs }
}

/** @param {ClusterConfig} config @param {number} run @param {(line: string) => void} log */
async function oneRun(config, run, log) {
  const lab = createLab(NAMES.length)
  const keyFile = path.join(tempDir('tandem-bench-cluster-key-'), 'key')
  writeFileSync(keyFile, 'bench-cluster-key-0123456789abcdef\n')
  const servers = []
  try {
    const t0 = performance.now()
    for (const [i, name] of NAMES.entries())
      servers.push(spawnIn(lab.members[i], name, keyFile, config))
    const listening = await Promise.all(
      servers.map((s) => s.first(LISTENING, t0, config.timeoutMs)),
    )
    const assembled = await Promise.all(
      servers.map((s) =>
        Promise.all(
          NAMES.filter((n) => n !== s.name).map((n) => s.first(UP, t0, config.timeoutMs, n)),
        ),
      ),
    )
    const assembledMs = Math.max(...assembled.flat())
    const lastListeningMs = Math.max(...listening)
    const victim = /** @type {(typeof servers)[number]} */ (servers[2])
    const t1 = performance.now()
    victim.child.kill('SIGKILL')
    const downs = await Promise.all(
      servers.slice(0, 2).map((s) => s.first(DOWN, t1, config.timeoutMs, victim.name)),
    )
    const [a, cut] = /** @type {[(typeof servers)[number], (typeof servers)[number]]} */ (servers)
    const t2 = performance.now()
    lab.cut(1)
    cut.child.kill('SIGKILL')
    const silentMs = await a.first(DOWN, t2, config.timeoutMs, cut.name)
    const result = {
      run: run + 1,
      listeningSec: round(lastListeningMs / 1000, 3),
      assembledSec: round(assembledMs / 1000, 3),
      afterListeningSec: round((assembledMs - lastListeningMs) / 1000, 3),
      downSec: round(Math.max(...downs) / 1000, 3),
      silentDownSec: round(silentMs / 1000, 3),
    }
    log(
      `  run ${run + 1}/${config.runs}  all listening ${result.listeningSec} s, assembled ${result.assembledSec} s (${result.afterListeningSec} s after the last listened); kill -9 → down everywhere ${result.downSec} s; cut off → down ${result.silentDownSec} s`,
    )
    return result
  } catch (err) {
    for (const s of servers) log(`  ${s.name}'s last output:\n${s.output().slice(-1500)}`)
    throw err
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.child, 'SIGKILL', 1000)))
    lab.destroy()
  }
}

/**
 * @param {{ ns: string, address: string } | undefined} at @param {string} name @param {string} keyFile
 * @param {ClusterConfig} config
 */
function spawnIn(at, name, keyFile, config) {
  if (!at) throw new Error('no namespace')
  const dirs = tandemDirs(`tandem-bench-cluster-${name.toLowerCase()}-`)
  const args = [
    ...['netns', 'exec', at.ns, process.execPath, ...config.serverNodeArgs, TANDEM_BIN, 'serve'],
    ...['--name', name, '--root', dirs.root, '--state', dirs.state, '--host', at.address],
    ...['--cluster', CLUSTER, '--cluster-key', keyFile, '--no-http'],
  ]
  const proc = spawnTracked('ip', args)
  /** @type {[number, string][]} */
  const lines = []
  /** @type {(() => void)[]} */
  const waiters = []
  let partial = ''
  proc.child.stdout?.on('data', (/** @type {Buffer} */ chunk) => {
    const now = performance.now()
    const parts = (partial + chunk.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) lines.push([now, plain(line)])
    for (const wake of waiters.splice(0)) wake()
  })
  /**
   * Ms after `since` of the first line at or after it that matches `pattern` (naming `who`).
   * @param {RegExp} pattern @param {number} since @param {number} timeoutMs @param {string} [who]
   * @returns {Promise<number>}
   */
  const first = (pattern, since, timeoutMs, who) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: no ${pattern} ${who ?? ''} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      const check = () => {
        for (const [t, line] of lines) {
          const m = pattern.exec(line)
          if (t >= since && m && (who === undefined || m[1] === who)) {
            clearTimeout(timer)
            return resolve(t - since)
          }
        }
        waiters.push(check)
      }
      check()
    })
  return { name, child: proc.child, output: () => proc.output.text, first }
}

/** @param {Awaited<ReturnType<typeof measureCluster>>} result @returns {import('./lib/summary.mjs').Row[]} */
export function clusterRows(result) {
  if (result.skipped !== null || result.runs.length === 0) return []
  const m = (/** @type {(r: any) => number} */ f) => median(result.runs.map(f))
  const assembled = m((r) => r.assembledSec)
  const down = m((r) => r.downSec)
  const silent = m((r) => r.silentDownSec)
  return [
    row('cluster of 3 (--cluster): assembled from a cold start', 's', assembled, {
      target: `≤ ${ASSEMBLE_TARGET_S} s`,
      pass: assembled <= ASSEMBLE_TARGET_S,
    }),
    row(
      'cluster of 3: assembled, after the last server listens',
      's',
      m((r) => r.afterListeningSec),
    ),
    row('cluster of 3: kill -9 of a member → down everywhere', 's', down, {
      target: `≤ ${DOWN_TARGET_S} s`,
      pass: down <= DOWN_TARGET_S,
    }),
    row('cluster: a member cut off (no FIN) → down at the others', 's', silent, {
      target: `≤ ${DOWN_TARGET_S} s`,
      pass: silent <= DOWN_TARGET_S,
    }),
  ]
}
