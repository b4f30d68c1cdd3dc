/**
 * Question 5: what does tandem's HTTP front end cost, next to the least a `node:http` server can do
 * (lib/http-baseline-server.mjs), measured in the same run?
 *
 *   1. one 1 GiB upload and one 1 GiB download by `curl`: tandem's `PUT /api/v1/files/<name>`
 *      (and `POST /upload?name=`, raw) and `GET /api/v1/files/<name>`, the binary client's
 *      upload and download (the client library in its own process, as in throughput.mjs), and
 *      the baseline's `PUT /files/<name>` (plain, +fsync, +fsync+sha256) and `GET /files/<name>`;
 *   2. small requests at 50 connections (autocannon, lib/http-load.mjs): `GET /heartbeat` and
 *      `GET /list` with 1,000 files in the root, tandem next to the baseline;
 *   3. the binary client's `ls` round trip, looped on one kept-open connection, on the idle server
 *      and while a 1 GiB HTTP upload runs.
 *
 * One tandem server and one baseline serve all runs; the variants' order rotates from run to run.
 * Each upload goes to a fresh name, removed after its sample; `sync` runs before every transfer.
 * Everything on 127.0.0.1. See README.md, "HTTP".
 */
import { execFileSync } from 'node:child_process'
import { rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { tempDir } from './lib/children.mjs'
import { ClientPool } from './lib/client-pool.mjs'
import { curl, hasCurl } from './lib/curl.mjs'
import { placeFile, writeRandomFile, writeSmallFiles } from './lib/data-files.mjs'
import { httpLoad } from './lib/http-load.mjs'
import { LockClient } from './lib/lock-remote.mjs'
import { waitIdle } from './lib/mirror-copy.mjs'
import { cpuDelta, cpuTimes, machineBusy, machineCpu } from './lib/proc-stats.mjs'
import { startHttpBaseline, startTandem, tandemDirs } from './lib/servers.mjs'
import { MiB, median, round } from './lib/stats.mjs'

/**
 * @typedef {{ runs: number, bigSize: number, listFiles: number, listFileSize: number,
 *   connections: number, load: Record<string, [number, number]>, lsIdleSec: number,
 *   lsPauseMs: number, serverNodeArgs: string[] }} HttpConfig
 * @typedef {'tandem PUT' | 'tandem POST /upload' | 'tandem binary' | 'baseline'
 *   | 'baseline+fsync' | 'baseline+fsync+sha256'} UploadVariant
 * @typedef {'tandem GET' | 'tandem binary' | 'baseline'} DownloadVariant
 */

export const CLIENT_ID = 'bench'
const HEADERS = { 'X-Tandem-Client-Id': CLIENT_ID }
const BIG = 'big.bin'
const READY_TIMEOUT_MS = 60_000
const { fetch } = globalThis // Node's own (undici); only for the readiness checks

/** @type {UploadVariant[]} */
const UPLOADS = [
  'baseline',
  'tandem PUT',
  'baseline+fsync',
  'tandem binary',
  'baseline+fsync+sha256',
]
/** In the first run only (context; one more 1 GiB upload per run would lengthen the group by about 5 s a run). */
const FIRST_RUN_UPLOADS = /** @type {UploadVariant[]} */ (['tandem POST /upload'])
const LS_WARMUP = 10 // unrecorded `list`s before each loop: the session thread's first ones are slow
/** @type {DownloadVariant[]} */
const DOWNLOADS = ['baseline', 'tandem GET', 'tandem binary']
const ENDPOINTS = ['/heartbeat', '/list']

/** @param {HttpConfig} config @param {(line: string) => void} log */
export async function measureHttp(config, log) {
  if (!hasCurl()) throw new Error('the HTTP benchmark needs curl (not found on PATH)')
  const env = await setUp(config, log)
  const samples = { uploads: /** @type {any[]} */ ([]), downloads: /** @type {any[]} */ ([]) }
  const load = /** @type {any[]} */ ([])
  const ls = /** @type {any[]} */ ([])
  try {
    for (let run = 0; run < config.runs; run++) {
      const tag = `  run ${run + 1}/${config.runs}`
      for (const variant of rotate(DOWNLOADS, run)) {
        const s = await download(env, variant, run)
        samples.downloads.push(s)
        log(`${tag}  download ${variant.padEnd(22)} ${mibps(s)}  ${cost(s)}`)
      }
      for (const variant of [...rotate(UPLOADS, run), ...(run === 0 ? FIRST_RUN_UPLOADS : [])]) {
        const s = await upload(env, variant, run)
        samples.uploads.push(s)
        log(`${tag}  upload   ${variant.padEnd(22)} ${mibps(s)}  ${cost(s)}`)
      }
      for (const endpoint of ENDPOINTS) {
        for (const variant of rotate(['tandem', 'baseline'], run)) {
          const s = await smallRequests(env, config, endpoint, variant, run)
          load.push(s)
          const r = s.result
          log(
            `${tag}  GET ${endpoint.padEnd(10)} ${variant.padEnd(8)} ${r.requestsPerSec.toFixed(0).padStart(6)} req/s  p50 ${ms(r.latencyMs.p50)}  p99 ${ms(r.latencyMs.p99)}  non-2xx ${r.whole.non2xx}  errors ${r.whole.errors}  server ${s.serverCpuUsPerRequest.toFixed(0)} µs/req; machine ${s.machine.busyPct.toFixed(0)}% busy`,
          )
        }
      }
      const s = await lsDuringUpload(env, config, run)
      ls.push(s)
      log(
        `${tag}  binary ls p50/p99 idle ${ms(s.idle.p50Ms)} / ${ms(s.idle.p99Ms)} (${s.idle.n}), during a ${config.bigSize / MiB} MiB HTTP upload ${ms(s.busy.p50Ms)} / ${ms(s.busy.p99Ms)} (${s.busy.n}; upload ${s.upload.mibPerSec.toFixed(0)} MiB/s)`,
      )
    }
    return {
      config: { ...config, serverNodeArgs: undefined },
      servers: { tandem: env.tandem.command.join(' '), baseline: env.baseline.command.join(' ') },
      ready: env.ready,
      uploads: samples.uploads,
      downloads: samples.downloads,
      load,
      ls,
    }
  } catch (err) {
    log(`  failed; the tandem server said:\n${env.tandem.output().slice(-3000)}`)
    throw err
  } finally {
    await Promise.all([env.pool.close(), env.lsClient.close()])
    await Promise.all([env.tandem.stop(), env.baseline.stop()])
    // 1 GiB and its links: freed now rather than at the end of the whole bench.
    for (const dir of env.dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** @param {HttpConfig} config @param {(line: string) => void} log */
async function setUp(config, log) {
  const srcDir = tempDir('tandem-bench-http-src-')
  const source = path.join(srcDir, BIG)
  log(`writing test data: ${config.bigSize / MiB} MiB of random bytes, ${config.listFiles} files`)
  const sha256 = /** @type {string} */ (writeRandomFile(source, config.bigSize, { sha256: true }))
  const { root, state } = tandemDirs('tandem-bench-http-tandem-')
  const baseRoot = tempDir('tandem-bench-http-base-')
  const dirs = [srcDir, path.dirname(root), baseRoot]
  for (const dir of [root, baseRoot]) {
    placeFile(source, path.join(dir, BIG))
    writeSmallFiles(dir, config.listFiles, config.listFileSize)
  }
  const t0 = performance.now()
  const tandem = await startTandem({ root, state, nodeArgs: config.serverNodeArgs, http: true })
  const baseline = await startHttpBaseline({ root: baseRoot })
  const pool = new ClientPool('tandem', 1)
  const lsClient = await LockClient.start(tandem, `${CLIENT_ID}-ls`)
  const env = {
    dirs,
    source,
    sha256,
    size: config.bigSize,
    listed: config.listFiles + 1,
    roots: { tandem: root, baseline: baseRoot },
    tandem,
    baseline,
    pool,
    lsClient,
    tandemUrl: `http://127.0.0.1:${tandem.httpPort}`,
    baseUrl: `http://127.0.0.1:${baseline.port}`,
    ready: /** @type {Record<string, number>} */ ({}),
  }
  await waitReady(env, t0)
  log(
    `  tandem ${env.tandemUrl} (binary 127.0.0.1:${tandem.port}) holds the ${env.listed} files after ${env.ready.indexedSec.toFixed(1)} s; baseline ${env.baseUrl}`,
  )
  return env
}

/** @typedef {Awaited<ReturnType<typeof setUp>>} Env */

/**
 * Ready: tandem's listing holds every file (over the binary protocol), `big.bin` is served with
 * its SHA-256 as its ETag (so the index has hashed it), the server has gone idle (the indexing is
 * over), and both servers' `GET /list` give every file.
 * @param {Omit<Env, 'ready'> & { ready: Record<string, number> }} env @param {number} t0
 */
async function waitReady(env, t0) {
  const deadline = performance.now() + READY_TIMEOUT_MS
  const bigUrl = `${env.tandemUrl}/api/v1/files/${BIG}`
  for (let listed = 0, etag = null, status = 0; ;) {
    listed = (await env.lsClient.time('list')).result.files.length
    if (listed >= env.listed) {
      const head = await fetch(bigUrl, { method: 'HEAD', headers: HEADERS })
      status = head.status
      etag = head.headers.get('etag')
      if (
        status === 200 &&
        etag === `"${env.sha256}"` &&
        Number(head.headers.get('content-length')) === env.size
      )
        break
    }
    if (performance.now() > deadline)
      throw new Error(
        `not ready after ${READY_TIMEOUT_MS} ms: tandem lists ${listed} of ${env.listed} files; HEAD ${bigUrl}: ${status}, ETag ${etag}`,
      )
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  env.ready.indexedSec = round((performance.now() - t0) / 1000, 2)
  env.ready.idleSec = (await waitIdle(env.tandem)).sec
  for (const [url, what] of [
    [`${env.tandemUrl}/list`, 'tandem GET /list'],
    [`${env.baseUrl}/list`, 'baseline GET /list'],
  ]) {
    const res = await fetch(/** @type {string} */ (url), { headers: HEADERS })
    const rows = res.ok ? await res.json() : null
    if (!Array.isArray(rows) || rows.length !== env.listed)
      throw new Error(
        `${what}: ${res.status}, ${Array.isArray(rows) ? `${rows.length} rows` : 'not an array'}, expected ${env.listed}`,
      )
  }
}

/** @template T @param {T[]} list @param {number} by */
function rotate(list, by) {
  const k = by % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

/**
 * One 1 GiB download. curl writes to /dev/null, and so does the binary client (its Connection.download
 * into fs.createWriteStream('/dev/null')): no side writes the file locally.
 * @param {Env} env @param {DownloadVariant} variant @param {number} run
 */
async function download(env, variant, run) {
  const idleBefore = await settle(env)
  const server = variant === 'baseline' ? env.baseline : env.tandem
  const cpu0 = cpuTimes(server.pid)
  const machine0 = machineCpu()
  let sec
  if (variant === 'tandem binary') {
    const [c] = await env.pool.run([
      {
        op: 'download',
        host: '127.0.0.1',
        port: env.tandem.port,
        name: BIG,
        size: env.size,
        out: '/dev/null',
      },
    ])
    const client = /** @type {import('./lib/client-pool.mjs').ClientResult} */ (c)
    sec = (client.end - client.start) / 1000
  } else {
    const url =
      variant === 'baseline'
        ? `${env.baseUrl}/files/${BIG}`
        : `${env.tandemUrl}/api/v1/files/${BIG}`
    const r = await curl({ method: 'GET', url, headers: HEADERS })
    if (r.status !== 200 || r.downloaded !== env.size)
      throw new Error(`${variant}: GET ${url} answered ${r.status} with ${r.downloaded} bytes`)
    sec = r.sec
  }
  const cpu = cpuDelta(cpu0, cpuTimes(server.pid))
  const machine = machineBusy(machine0, machineCpu())
  return { ...transferSample('download', variant, run, env.size, sec, cpu, machine), idleBefore }
}

/**
 * Before each transfer: `sync` (so that one sample's write-back does not land in the next), then
 * both servers idle (tandem's work after the previous sample, such as noticing a removed upload,
 * would take CPU from whichever sample comes next).
 * @param {Env} env
 */
async function settle(env) {
  execFileSync('sync')
  return waitIdle(env.tandem, env.baseline)
}

/**
 * One 1 GiB upload to a fresh name, checked (the stored size; tandem's answer has the SHA-256 of the
 * source) and removed afterwards.
 * @param {Env} env @param {UploadVariant} variant @param {number} run
 */
async function upload(env, variant, run) {
  const name = `up-${variant.replace(/[^a-z0-9]+/gi, '-')}-${run}.bin`
  const onTandem = variant.startsWith('tandem')
  const stored = path.join(onTandem ? env.roots.tandem : env.roots.baseline, name)
  const idleBefore = await settle(env)
  const server = onTandem ? env.tandem : env.baseline
  const cpu0 = cpuTimes(server.pid)
  const machine0 = machineCpu()
  try {
    const sec = await uploadOnce(env, variant, name)
    const cpu = cpuDelta(cpu0, cpuTimes(server.pid))
    const machine = machineBusy(machine0, machineCpu())
    const size = statSync(stored).size
    if (size !== env.size) throw new Error(`${variant}: ${name} holds ${size} bytes`)
    return { ...transferSample('upload', variant, run, env.size, sec, cpu, machine), idleBefore }
  } finally {
    rmSync(stored, { force: true })
  }
}

/** @param {Env} env @param {UploadVariant} variant @param {string} name @returns {Promise<number>} seconds */
async function uploadOnce(env, variant, name) {
  if (variant === 'tandem binary') {
    const [c] = await env.pool.run([
      {
        op: 'upload',
        host: '127.0.0.1',
        port: env.tandem.port,
        file: env.source,
        name,
        size: env.size,
      },
    ])
    const client = /** @type {import('./lib/client-pool.mjs').ClientResult} */ (c)
    return (client.end - client.start) / 1000
  }
  const r = await curlUpload(env, variant, name)
  return r.sec
}

/**
 * @param {Env} env @param {Exclude<UploadVariant, 'tandem binary'>} variant @param {string} name
 */
async function curlUpload(env, variant, name) {
  const encoded = encodeURIComponent(name)
  /** @type {Record<UploadVariant, string>} */
  const urls = {
    'tandem PUT': `${env.tandemUrl}/api/v1/files/${encoded}`,
    'tandem POST /upload': `${env.tandemUrl}/upload?name=${encoded}`,
    'tandem binary': '',
    baseline: `${env.baseUrl}/files/${encoded}`,
    'baseline+fsync': `${env.baseUrl}/files/${encoded}?fsync=1`,
    'baseline+fsync+sha256': `${env.baseUrl}/files/${encoded}?fsync=1&sha256=1`,
  }
  const url = urls[variant]
  const r = await curl({
    method: variant === 'tandem POST /upload' ? 'POST' : 'PUT',
    url,
    file: env.source,
    headers: { ...HEADERS, 'Content-Type': 'application/octet-stream' },
  })
  if (r.status < 200 || r.status > 299 || r.uploaded !== env.size)
    throw new Error(`${variant}: ${url} answered ${r.status} after ${r.uploaded} bytes: ${r.body}`)
  if (variant.startsWith('tandem') || variant.endsWith('sha256')) {
    const answer = JSON.parse(r.body)
    if (answer.sha256 !== env.sha256)
      throw new Error(`${variant}: ${url} answered sha256 ${answer.sha256}, expected ${env.sha256}`)
  }
  return r
}

/**
 * @param {'upload' | 'download'} op @param {string} variant @param {number} run @param {number} bytes
 * @param {number} sec @param {ReturnType<typeof cpuDelta>} cpu
 * @param {ReturnType<typeof machineBusy>} machine the whole machine meanwhile (other users included)
 */
function transferSample(op, variant, run, bytes, sec, cpu, machine) {
  return {
    op,
    variant,
    run: run + 1,
    bytes,
    sec: round(sec, 4),
    mibPerSec: round(bytes / MiB / sec),
    serverCpuSec: round(cpu.totalSec, 3),
    serverMainThreadSec: round(cpu.mainThreadSec, 3),
    // Busy core-seconds the server did not use: the client (curl or the binary client) and
    // whatever else ran on the machine.
    machine: { ...machine, notServerCoreSec: round(machine.busyCoreSec - cpu.totalSec, 3) },
  }
}

/**
 * autocannon at `connections` connections, measured after an unrecorded warm-up (one run, see
 * lib/http-load.mjs; both spans from `config.load[endpoint]`), all with one client id (so at
 * tandem they hold one admission slot).
 * @param {Env} env @param {HttpConfig} config @param {string} endpoint @param {string} variant @param {number} run
 */
async function smallRequests(env, config, endpoint, variant, run) {
  const server = variant === 'tandem' ? env.tandem : env.baseline
  const idle = await waitIdle(env.tandem, env.baseline)
  const cpu0 = cpuTimes(server.pid)
  const machine0 = machineCpu()
  const result = await httpLoad({
    url: `${variant === 'tandem' ? env.tandemUrl : env.baseUrl}${endpoint}`,
    connections: config.connections,
    warmupSec: warmupSec(config, endpoint),
    durationSec: durationSec(config, endpoint),
    headers: HEADERS,
  })
  const cpu = cpuDelta(cpu0, cpuTimes(server.pid))
  const machine = machineBusy(machine0, machineCpu())
  return {
    endpoint,
    variant,
    run: run + 1,
    idleBefore: idle,
    result,
    // Warm-up included, as in `whole.requests`: the same interval.
    serverCpuSec: round(cpu.totalSec, 3),
    serverCpuUsPerRequest: round((cpu.totalSec / result.whole.requests) * 1e6, 1),
    // The rest is the load process and whatever else ran on the machine.
    machine: {
      ...machine,
      otherCoreSec: round(machine.busyCoreSec - cpu.totalSec - result.clientCpuSec, 3),
    },
  }
}

/**
 * The binary client's `list`, looped on one kept-open connection (`lsPauseMs` after each answer):
 * for `lsIdleSec` on the idle server, and for as long as one curl `PUT /api/v1/files` of 1 GiB
 * runs. Which goes first alternates from run to run. Each loop follows LS_WARMUP unrecorded ones.
 * @param {Env} env @param {HttpConfig} config @param {number} run
 */
async function lsDuringUpload(env, config, run) {
  const loopArgs = { request: 'list', pauseMs: config.lsPauseMs }
  const warmUp = async () => {
    for (let i = 0; i < LS_WARMUP; i++) await env.lsClient.time('list')
  }
  const idle = async () => {
    await warmUp()
    await waitIdle(env.tandem, env.baseline)
    await env.lsClient.call('loop', loopArgs)
    await new Promise((resolve) => setTimeout(resolve, config.lsIdleSec * 1000))
    return env.lsClient.call('stopLoop')
  }
  const name = `up-during-ls-${run}.bin`
  const busy = async () => {
    await warmUp()
    await settle(env)
    await env.lsClient.call('loop', loopArgs)
    try {
      const r = await curlUpload(env, 'tandem PUT', name)
      return { loop: await env.lsClient.call('stopLoop'), sec: r.sec }
    } finally {
      rmSync(path.join(env.roots.tandem, name), { force: true })
    }
  }
  let idleLoop, busyRun
  if (run % 2 === 0) {
    idleLoop = await idle()
    busyRun = await busy()
  } else {
    busyRun = await busy()
    idleLoop = await idle()
  }
  for (const loop of [idleLoop, busyRun.loop])
    if (loop.errors.length > 0)
      throw new Error(`binary ls failed: ${loop.errors.slice(0, 3).join('; ')}`)
  return {
    run: run + 1,
    idle: spread(idleLoop.ms),
    busy: spread(busyRun.loop.ms),
    upload: { sec: busyRun.sec, mibPerSec: round(env.size / MiB / busyRun.sec) },
    samplesMs: {
      idle: idleLoop.ms.map((x) => round(x, 3)),
      busy: busyRun.loop.ms.map((x) => round(x, 3)),
    },
  }
}

/** @param {HttpConfig} config @param {string} endpoint */
const warmupSec = (config, endpoint) => config.load[endpoint]?.[0] ?? 1
/** @param {HttpConfig} config @param {string} endpoint */
const durationSec = (config, endpoint) => config.load[endpoint]?.[1] ?? 5

/** n, p50, p99 (nearest rank) and max of round trips in ms. @param {number[]} xs */
function spread(xs) {
  const sorted = [...xs].sort((a, b) => a - b)
  const rank = (/** @type {number} */ p) =>
    sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN
  return {
    n: sorted.length,
    p50Ms: round(median(sorted), 3),
    p99Ms: round(rank(0.99), 3),
    maxMs: round(sorted.at(-1) ?? NaN, 3),
  }
}

/** @param {{ serverCpuSec: number, machine: { busyPct: number, notServerCoreSec: number } }} s */
const cost = (s) =>
  `server cpu ${s.serverCpuSec.toFixed(2)} s; machine ${s.machine.busyPct.toFixed(0)}% busy, ${s.machine.notServerCoreSec.toFixed(1)} core-s not the server's`

/** @param {{ mibPerSec: number, sec: number }} s */
const mibps = (s) => `${s.mibPerSec.toFixed(1).padStart(7)} MiB/s  ${s.sec.toFixed(2)} s`
const ms = (/** @type {number} */ x) => `${x.toFixed(x >= 100 ? 0 : 2)} ms`
