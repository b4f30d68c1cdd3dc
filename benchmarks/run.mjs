/**
 * `npm run bench`: runs each benchmark script (one question each), prints one table and writes
 * benchmarks/results/bench-<timestamp>.json and results/latest.json with every raw sample and the
 * machine they ran on. See README.md for what each number means.
 *
 *   node benchmarks/run.mjs [--runs N] [--quick] [--only throughput|small-files|cli|mirror|locks|http|roles|cluster|membership|placement|placement-rules|heal|redirect] [--cpu-prof]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { cleanupAll, installExitHooks } from './lib/children.mjs'
import { DIST_DIR } from './lib/dist.mjs'
import { machineInfo } from './lib/machine.mjs'
import { MiB } from './lib/stats.mjs'
import { renderTable, smallFileRows, throughputRows } from './lib/summary.mjs'
import { mirrorRows } from './lib/mirror-rows.mjs'
import { measureMirror } from './mirror.mjs'
// User locks (issue 4): locks.mjs, lib/lock-*.mjs.
import { lockRows } from './lib/lock-rows.mjs'
import { measureLocks } from './locks.mjs'
import { measureSmallFiles } from './small-files.mjs'
// The user's path (issue 14): the CLI next to rsync and its daemon (cli.mjs, lib/rsync-daemon.mjs).
import { measureCli } from './cli.mjs'
import { cliRows } from './lib/cli-rows.mjs'
// The HTTP front end (issue 5): http.mjs, lib/http-*.mjs, lib/curl.mjs.
import { httpRows } from './lib/http-rows.mjs'
import { measureHttp } from './http.mjs'
import { measureThroughput } from './throughput.mjs'
// Roles (issue 12): a write through a secondary next to the same write at the primary.
import { measureRoles, roleRows } from './roles.mjs'
// Clusters that assemble themselves (issue 12): cluster.mjs, lib/netns-lab.mjs.
import { clusterRows, measureCluster } from './cluster.mjs'
import { measureMembership, membershipRows } from './membership.mjs'
// Partial replication (issue 13): the placement rules alone (placement.mjs).
import { measurePlacement, placementRows } from './placement.mjs'
// ... and end to end: healing after a member is lost (heal.mjs), reads at a non-holder (redirect.mjs).
import { healRows, measureHeal } from './heal.mjs'
import { measureRedirect, redirectRows } from './redirect.mjs'

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))

const SIZES = {
  full: {
    singleSize: 1024 * MiB,
    eachSize: 128 * MiB,
    clients: 9,
    smallCount: 1000,
    smallSize: 4096,
    cli: { bigSize: 1024 * MiB, smallCount: 1000, smallSize: 4096 },
    mirror: {
      trials: 20,
      latencySize: 1024,
      smallCount: 1000,
      smallSize: 4096,
      bigSize: 256 * MiB,
      manyCount: 10_000,
      manySize: 1024,
      opTimeoutMs: 10_000,
    },
    locks: {
      trials: 30,
      warmups: 3,
      updates: 100,
      queuedTrials: 2,
      updateSize: 1024,
      opTimeoutMs: 10_000,
    },
    http: {
      bigSize: 1024 * MiB,
      listFiles: 1000,
      listFileSize: 1024,
      connections: 50,
      // [warm-up, measured] seconds per endpoint: a /list takes 1–2 s at 50 connections here, so
      // it gets longer windows (its rate moves in steps of about 50 / measured seconds).
      load: { '/heartbeat': [1, 2], '/list': [2, 6] },
      lsIdleSec: 2,
      lsPauseMs: 10,
    },
    roles: { trials: 200, warmups: 10, appendSize: 1024, bigSize: 256 * MiB },
    cluster: { timeoutMs: 30_000 },
    heal: { count: 1000, size: 64 * 1024, timeoutMs: 120_000 },
    redirect: {
      trials: 15,
      bigTrials: 3,
      smallSize: 64 * 1024,
      bigSize: 64 * MiB,
      timeoutMs: 30_000,
    },
  },
  quick: {
    singleSize: 64 * MiB,
    eachSize: 8 * MiB,
    clients: 9,
    smallCount: 200,
    smallSize: 4096,
    cli: { bigSize: 64 * MiB, smallCount: 200, smallSize: 4096 },
    mirror: {
      trials: 5,
      latencySize: 1024,
      smallCount: 200,
      smallSize: 4096,
      bigSize: 16 * MiB,
      manyCount: 1000,
      manySize: 1024,
      opTimeoutMs: 10_000,
    },
    locks: {
      trials: 10,
      warmups: 1,
      updates: 100,
      queuedTrials: 2,
      updateSize: 1024,
      opTimeoutMs: 10_000,
    },
    http: {
      bigSize: 64 * MiB,
      listFiles: 1000,
      listFileSize: 1024,
      connections: 50,
      load: { '/heartbeat': [1, 1], '/list': [1, 2] },
      lsIdleSec: 1,
      lsPauseMs: 10,
    },
    roles: { trials: 50, warmups: 5, appendSize: 1024, bigSize: 32 * MiB },
    cluster: { timeoutMs: 30_000 },
    heal: { count: 200, size: 64 * 1024, timeoutMs: 60_000 },
    redirect: {
      trials: 3,
      bigTrials: 1,
      smallSize: 64 * 1024,
      bigSize: 8 * MiB,
      timeoutMs: 30_000,
    },
  },
}

const ONLY = [
  'throughput',
  'small-files',
  'cli',
  'mirror',
  'locks',
  'http',
  'roles',
  'cluster',
  'membership',
  'placement',
  'placement-rules',
  'heal',
  'redirect',
]

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(
      'usage: node benchmarks/run.mjs [--runs N] [--quick] [--only throughput|small-files|cli|mirror|locks|http|roles|cluster|membership|placement|placement-rules|heal|redirect] [--cpu-prof]\n',
    )
    process.exit(0)
  }
  const runs = Number(values.runs ?? (values.quick ? 1 : 3))
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number ≥ 1')
  if (values.only !== undefined && !ONLY.includes(values.only))
    throw new Error(`--only takes one of ${ONLY.join(', ')}`)
  const profileDir = path.join(RESULTS, 'profiles', stamp())
  return {
    runs,
    quick: values.quick,
    dist: DIST_DIR,
    only: values.only ?? null,
    ...(values.quick ? SIZES.quick : SIZES.full),
    profileDir: values['cpu-prof'] ? profileDir : null,
    serverNodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  }
}

function stamp() {
  return new Date().toISOString().replace(/[:.]/g, '-')
}

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`)

async function main() {
  installExitHooks()
  const opts = options()
  const startedAt = new Date()
  const machine = machineInfo()
  log(
    `tandem benchmarks: ${opts.runs} run(s)${opts.quick ? ', quick sizes' : ''} on ${machine.cpuCount} × ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverage.join(' ')}`,
  )
  let throughput = null
  let smallFiles = null
  let cli = null
  let mirror = null
  let locks = null
  let http = null
  let roles = null
  let cluster = null
  let membership = null
  let placement = null
  let heal = null
  let redirect = null
  const wanted = (/** @type {string} */ name) =>
    opts.only === null ||
    opts.only === name ||
    // --only placement: the rules alone and both end-to-end measurements of partial replication.
    (opts.only === 'placement' && ['placement-rules', 'heal', 'redirect'].includes(name))
  if (wanted('throughput')) {
    log(
      `\ntransfer throughput: 1 client × ${opts.singleSize / MiB} MiB, ${opts.clients} clients × ${opts.eachSize / MiB} MiB`,
    )
    throughput = await measureThroughput({ ...opts }, log)
  }
  if (wanted('small-files')) {
    log(`\nsmall files: ${opts.smallCount} files of ${opts.smallSize / 1024} KiB in one put`)
    smallFiles = await measureSmallFiles(
      {
        runs: opts.runs,
        count: opts.smallCount,
        size: opts.smallSize,
        serverNodeArgs: opts.serverNodeArgs,
      },
      log,
    )
  }
  if (wanted('cli')) {
    const c = opts.cli
    log(
      `\nthe command line next to rsync (daemon on 127.0.0.1): put and get of 1 × ${c.bigSize / MiB} MiB and of ${c.smallCount} × ${c.smallSize / 1024} KiB; tandem, rsync -a, rsync -a --fsync`,
    )
    cli = await measureCli({ ...c, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs }, log)
  }
  if (wanted('mirror')) {
    const m = opts.mirror
    log(
      `\nmirroring A → B: latency ${m.trials} trials × create/modify/rename/delete of ${m.latencySize} B; initial mirror ${m.smallCount} × ${m.smallSize / 1024} KiB, 1 × ${m.bigSize / MiB} MiB, ${m.manyCount} × ${m.manySize / 1024} KiB`,
    )
    mirror = await measureMirror(
      { ...m, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs },
      log,
    )
  }
  if (wanted('locks')) {
    const l = opts.locks
    log(
      `\nuser locks at A, B changing the file: ${l.trials} trials × ping/stat/lock/unlock; unlock applying ${l.updates} queued updates of ${l.updateSize} B, ${l.queuedTrials} trial(s) per run next to ${l.updates} changes mirrored unlocked`,
    )
    locks = await measureLocks({ ...l, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs }, log)
  }
  if (wanted('http')) {
    const h = opts.http
    log(
      `\nHTTP: ${h.bigSize / MiB} MiB up and down by curl, GET /heartbeat and /list (${h.listFiles} files) at ${h.connections} connections, binary ls during an HTTP upload`,
    )
    http = await measureHttp({ ...h, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs }, log)
  }
  if (wanted('roles')) {
    const r = opts.roles
    log(
      `\nroles: ${r.trials} trials × a ${r.appendSize} B append at a primary and through its secondary, and a ${r.bigSize / MiB} MiB upload each way`,
    )
    roles = await measureRoles({ ...r, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs }, log)
  }
  if (wanted('cluster')) {
    log(
      `\ncluster: 3 servers with --cluster and a key in network namespaces; cold start until all see all up, then kill -9 of one until both others see it down`,
    )
    cluster = await measureCluster(
      { ...opts.cluster, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs },
      log,
    )
  }
  if (wanted('membership')) {
    log(`\nmembership: 3 servers, --peer-timeout 2s; a member kill -9'd, SIGSTOPped and SIGCONTed`)
    membership = await measureMembership(
      { runs: opts.runs, serverNodeArgs: opts.serverNodeArgs },
      log,
    )
  }
  if (wanted('placement-rules')) {
    log(
      `\nplacement rules (no server): 10,000 names of mixed sizes, K = 2, 3 and 4 members; rendezvous (tandem) vs fewest files (the source design); ${Math.max(opts.runs, 5)} draws`,
    )
    // Pure and quick (about a second a draw): at least 5 draws, whatever --runs says.
    placement = await measurePlacement({ runs: Math.max(opts.runs, 5) }, log)
  }
  if (wanted('heal')) {
    const h = opts.heal
    log(
      `\nhealing: 3 servers, --replicas 2 --rereplicate-after 1s; ${h.count} × ${h.size / 1024} KiB created at C, C kill -9'd, until A and B both hold every file; next to cp -r of the same files`,
    )
    heal = await measureHeal({ ...h, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs }, log)
  }
  if (wanted('redirect')) {
    const r = opts.redirect
    log(
      `\nreads at a member that does not hold the file: 3 servers, --replicas 1, the file at A; get at B (ERR_MOVED followed) vs at A; HTTP GET at B (307), at C (--proxy-reads) vs at A; ${r.trials} trials × ${r.smallSize / 1024} KiB, one ${r.bigSize / MiB} MiB`,
    )
    redirect = await measureRedirect(
      { ...r, runs: opts.runs, serverNodeArgs: opts.serverNodeArgs },
      log,
    )
  }
  const rows = [
    ...(throughput ? throughputRows(throughput) : []),
    ...(smallFiles ? smallFileRows(smallFiles) : []),
    ...(cli ? cliRows(cli) : []),
    ...(mirror ? mirrorRows(mirror) : []),
    ...(locks ? lockRows(locks) : []),
    ...(http ? httpRows(http) : []),
    ...(roles ? roleRows(roles) : []),
    ...(cluster ? clusterRows(cluster) : []),
    ...(membership ? membershipRows(membership) : []),
    ...(placement ? placementRows(placement) : []),
    ...(heal ? healRows(heal) : []),
    ...(redirect ? redirectRows(redirect) : []),
  ]
  log(
    `\nmedians of ${opts.runs} run(s); ratio = tandem / baseline (for RSS, CPU and latency, lower is better)\n`,
  )
  log(renderTable(rows))
  const finishedAt = new Date()
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSec: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    options: opts,
    machine: { ...machine, loadAverageEnd: machineInfo().loadAverage },
    summary: rows,
    throughput,
    smallFiles,
    cli,
    mirror,
    locks,
    http,
    roles,
    cluster,
    membership,
    placement,
    heal,
    redirect,
  }
  mkdirSync(RESULTS, { recursive: true })
  const file = path.join(RESULTS, `bench-${stamp()}.json`)
  const json = `${JSON.stringify(result, null, 1)}\n`
  writeFileSync(file, json)
  writeFileSync(path.join(RESULTS, 'latest.json'), json)
  log(
    `\n${result.durationSec} s; results in ${path.relative(process.cwd(), file)} (and results/latest.json)`,
  )
  if (opts.profileDir)
    log(
      `server CPU profiles in ${path.relative(process.cwd(), opts.profileDir)} (see README: reading a profile)`,
    )
}

main().then(
  () => {
    cleanupAll()
    process.exit(0)
  },
  (err) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    cleanupAll()
    process.exit(1)
  },
)
