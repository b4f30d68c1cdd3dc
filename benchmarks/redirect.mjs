/**
 * Reads anywhere (issue 13): what a read costs at a member that does not hold the file, next to
 * the same read at its holder. Three real servers on 127.0.0.1 with `--replicas 1`: a file
 * written into A's directory is held by A alone; B and C know it from the index. C runs with
 * `--proxy-reads`.
 *   - binary client: `tandem --server B get` (ERR_MOVED, followed to A by the client itself) next
 *     to `tandem --server A get`, each a fresh CLI process as a user runs it (the process start is
 *     in both; the difference is the redirect), and the same through the client library in this
 *     process (server-pool.js, a new connection per get: no process start);
 *   - HTTP: GET at B (307 to A, followed: a second request) and at C (proxied from A: 200) next
 *     to GET at A, one connection per request;
 * for a 64 KiB file (latency) and a 64 MiB one (MiB/s), medians of the trials. Trials alternate
 * between the variants so that drift hits all alike. The HTTP client is Node's http on a fresh
 * connection per request, in this process; the files are in the page cache after the first read.
 *   node benchmarks/run.mjs --only redirect [--runs N]
 */
import { execFile } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { tempDir } from './lib/children.mjs'
import { importDist } from './lib/dist.mjs'
import { httpPortOf, startCluster, stopCluster, whileAlive } from './lib/cluster.mjs'
import { TANDEM_BIN } from './lib/servers.mjs'
import { MiB, median, round } from './lib/stats.mjs'
import { row } from './lib/summary.mjs'

const SMALL = 'small.bin'
const BIG = 'big.bin'

/**
 * @param {{ runs: number, trials: number, bigTrials: number, smallSize: number, bigSize: number,
 *   timeoutMs: number, serverNodeArgs?: string[] }} config
 * @param {(line: string) => void} log
 */
export async function measureRedirect(config, log) {
  const runs = []
  for (let run = 1; run <= config.runs; run++) {
    const r = await oneRun(config)
    runs.push(r)
    const s = r.summary
    log(
      `  run ${run}: get ${config.smallSize / 1024} KiB p50 ${s.getDirect} ms at the holder, ${s.getMoved} ms redirected (in-process ${s.libDirect} / ${s.libMoved} ms); HTTP p50 ${s.httpDirect} ms direct, ${s.http307} ms 307, ${s.httpProxy} ms proxied; ${config.bigSize / MiB} MiB: get ${s.bigGetDirect} / ${s.bigGetMoved} MiB/s, HTTP ${s.bigHttpDirect} / ${s.bigHttp307} / ${s.bigHttpProxy} MiB/s`,
    )
  }
  return { config, runs }
}

/** @param {Parameters<typeof measureRedirect>[0]} config */
async function oneRun(config) {
  const cluster = await startCluster({
    names: ['A', 'B', 'C'],
    prefix: 'redirect',
    nodeArgs: config.serverNodeArgs ?? [],
    extraArgs: ['--replicas', '1', '--http-port', '0'],
    argsFor: (name) => (name === 'C' ? ['--proxy-reads'] : []),
  })
  const out = tempDir('tandem-bench-redirect-out-')
  try {
    const [a, b, c] = /** @type {import('./lib/cluster.mjs').ClusterServer[]} */ (cluster)
    if (!a || !b || !c) throw new Error('three servers expected')
    const [httpA, httpB, httpC] = await Promise.all([a, b, c].map((s) => httpPortOf(s)))
    writeFileSync(path.join(a.root, SMALL), randomFillSync(Buffer.alloc(config.smallSize)))
    writeFileSync(path.join(a.root, BIG), randomFillSync(Buffer.alloc(config.bigSize)))
    // B and C list both files (the index reaches every member; the content stays at A).
    await whileAlive(
      cluster,
      poll(async () => {
        for (const s of [b, c]) {
          const rows = JSON.parse(await cli(s.port, ['--json', 'ls']))
          const names = (Array.isArray(rows) ? rows : (rows.files ?? [])).map(
            (/** @type {any} */ r) => r.name,
          )
          if (!names.includes(SMALL) || !names.includes(BIG)) return false
        }
        return true
      }, config.timeoutMs),
    )
    // Only A holds them (else nothing is redirected, and the rows would measure direct reads); a
    // surplus copy of the first moments is dropped by the rebalancer once the members' views rest.
    const elsewhere = () =>
      [b, c].flatMap((s) =>
        [SMALL, BIG].filter((n) => existsSync(path.join(s.root, n))).map((n) => `${s.name}:${n}`),
      )
    const surplus = elsewhere()
    await whileAlive(
      cluster,
      poll(async () => elsewhere().length === 0, config.timeoutMs).catch(() => {
        throw new Error(`--replicas 1 should leave the files at A alone; still ${elsewhere()}`)
      }),
    )
    const target = (/** @type {string} */ name) => path.join(out, name)
    /** @type {Record<string, number[]>} */
    const t = { getDirect: [], getMoved: [], httpDirect: [], http307: [], httpProxy: [] }
    const small = async (/** @type {string} */ key, /** @type {() => Promise<void>} */ f) => {
      const started = performance.now()
      await f()
      t[key]?.push(performance.now() - started)
    }
    const get = async (
      /** @type {number} */ port,
      /** @type {string} */ name,
      /** @type {number} */ size,
    ) => {
      const file = target(`${port}-${name}`)
      rmSync(file, { force: true })
      await cli(port, ['get', name, file])
      if (statSync(file).size !== size) throw new Error(`get ${name}: another size`)
    }
    // The client library in this process, a new pool (connection) per get: what the redirect
    // costs without a process start around it.
    const { ServerPool } = await importDist('client/server-pool.js')
    const { downloadFile } = await importDist('client/transfer.js')
    const libGet = async (
      /** @type {number} */ port,
      /** @type {string} */ name,
      /** @type {number} */ size,
    ) => {
      const file = target(`lib-${port}-${name}`)
      rmSync(file, { force: true })
      const pool = new ServerPool([{ host: '127.0.0.1', port }], { clientId: 'bench-redirect-lib' })
      try {
        await pool.run((/** @type {any} */ conn) => downloadFile(conn, name, file))
      } finally {
        await pool.close()
      }
      if (statSync(file).size !== size) throw new Error(`get ${name}: another size`)
    }
    Object.assign(t, { libDirect: [], libMoved: [] })
    for (let i = 0; i < config.trials; i++) {
      await small('getDirect', () => get(a.port, SMALL, config.smallSize))
      await small('getMoved', () => get(b.port, SMALL, config.smallSize))
      await small('libDirect', () => libGet(a.port, SMALL, config.smallSize))
      await small('libMoved', () => libGet(b.port, SMALL, config.smallSize))
      await small('httpDirect', () => httpGet(httpA, SMALL, config.smallSize))
      await small('http307', () => httpGet(httpB, SMALL, config.smallSize, 307))
      await small('httpProxy', () => httpGet(httpC, SMALL, config.smallSize))
    }
    const mibps = async (/** @type {string} */ key, /** @type {() => Promise<void>} */ f) => {
      const started = performance.now()
      await f()
      t[key]?.push(config.bigSize / MiB / ((performance.now() - started) / 1000))
    }
    Object.assign(t, {
      bigGetDirect: [],
      bigGetMoved: [],
      bigHttpDirect: [],
      bigHttp307: [],
      bigHttpProxy: [],
    })
    for (let i = 0; i < config.bigTrials; i++) {
      await mibps('bigGetDirect', () => get(a.port, BIG, config.bigSize))
      await mibps('bigGetMoved', () => get(b.port, BIG, config.bigSize))
      await mibps('bigHttpDirect', () => httpGet(httpA, BIG, config.bigSize))
      await mibps('bigHttp307', () => httpGet(httpB, BIG, config.bigSize, 307))
      await mibps('bigHttpProxy', () => httpGet(httpC, BIG, config.bigSize))
    }
    const p50 = (/** @type {number[]} */ v) => round(median(v))
    return {
      surplusSeen: surplus,
      samples: t,
      summary: {
        getDirect: p50(t.getDirect ?? []),
        getMoved: p50(t.getMoved ?? []),
        libDirect: p50(t.libDirect ?? []),
        libMoved: p50(t.libMoved ?? []),
        httpDirect: p50(t.httpDirect ?? []),
        http307: p50(t.http307 ?? []),
        httpProxy: p50(t.httpProxy ?? []),
        bigGetDirect: p50(t.bigGetDirect ?? []),
        bigGetMoved: p50(t.bigGetMoved ?? []),
        bigHttpDirect: p50(t.bigHttpDirect ?? []),
        bigHttp307: p50(t.bigHttp307 ?? []),
        bigHttpProxy: p50(t.bigHttpProxy ?? []),
      },
    }
  } finally {
    await stopCluster(cluster)
    rmSync(out, { recursive: true, force: true })
  }
}

/**
 * `tandem --server 127.0.0.1:PORT ARGS` as a user runs it; resolves with its stdout.
 * @param {number} port @param {string[]} args @returns {Promise<string>}
 */
function cli(port, args) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [TANDEM_BIN, '--server', `127.0.0.1:${port}`, '--no-wait', ...args],
      { maxBuffer: 64 * MiB, env: { ...process.env, TANDEM_CLIENT_ID: 'bench-redirect' } },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`tandem ${args.join(' ')}: ${stderr || err.message}`))
          : resolve(stdout),
    )
  })
}

/**
 * GET /api/v1/files/NAME on a fresh connection; a 307 is followed once (a new connection to its
 * Location). The body is counted, not kept.
 * @param {number} port @param {string} name @param {number} size @param {number} [expect] the status the first answer must have
 */
async function httpGet(port, name, size, expect = 200) {
  const { status, location, bytes } = await request(`http://127.0.0.1:${port}/api/v1/files/${name}`)
  if (status !== expect) throw new Error(`GET ${name} at ${port}: ${status}, expected ${expect}`)
  if (status === 307 && location) {
    const again = await request(location)
    if (again.status !== 200 || again.bytes !== size)
      throw new Error(`GET after 307: ${again.status}`)
    return
  }
  if (status !== 200 || bytes !== size)
    throw new Error(`GET ${name} at ${port}: ${status}, ${bytes} B`)
}

/** @param {string} url @returns {Promise<{ status: number, location: string | undefined, bytes: number }>} */
function request(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let bytes = 0
      res.on('data', (chunk) => (bytes += chunk.length))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, bytes }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

/** @param {() => Promise<boolean>} done @param {number} timeoutMs */
async function poll(done, timeoutMs) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await done().catch(() => false)) return
    if (performance.now() > deadline) throw new Error(`not listed within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * The table's rows: each read at a member that does not hold the file, next to the same read at
 * its holder.
 * @param {{ runs: any[], config: any }} r @returns {import('./lib/summary.mjs').Row[]}
 */
export function redirectRows(r) {
  const med = (/** @type {(x: any) => number} */ f) => median(r.runs.map((x) => f(x.summary)))
  const kib = `${r.config.smallSize / 1024} KiB`
  const mib = `${r.config.bigSize / MiB} MiB`
  const at = (/** @type {(x: any) => number} */ f) => ({
    baseline: med(f),
    baselineName: 'at the holder',
    target: 'report',
  })
  return [
    row(
      `get ${kib} redirected (ERR_MOVED followed)`,
      'ms',
      med((s) => s.getMoved),
      at((s) => s.getDirect),
    ),
    row(
      '  in-process client, a connection per get',
      'ms',
      med((s) => s.libMoved),
      at((s) => s.libDirect),
    ),
    row(
      `HTTP GET ${kib}: 307 followed`,
      'ms',
      med((s) => s.http307),
      at((s) => s.httpDirect),
    ),
    row(
      `HTTP GET ${kib}: --proxy-reads`,
      'ms',
      med((s) => s.httpProxy),
      at((s) => s.httpDirect),
    ),
    row(
      `get ${mib} redirected`,
      'MiB/s',
      med((s) => s.bigGetMoved),
      at((s) => s.bigGetDirect),
    ),
    row(
      `HTTP GET ${mib}: 307 followed`,
      'MiB/s',
      med((s) => s.bigHttp307),
      at((s) => s.bigHttpDirect),
    ),
    row(
      `HTTP GET ${mib}: --proxy-reads`,
      'MiB/s',
      med((s) => s.bigHttpProxy),
      at((s) => s.bigHttpDirect),
    ),
  ]
}
