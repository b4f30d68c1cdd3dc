/**
 * The HTTP benchmark's rows for the summary table (same Row shape as summary.mjs): medians over
 * runs, ratio tandem / HTTP baseline, and the targets (download ≥ 0.9×, upload ≥ 0.8× of the plain
 * baseline, small requests ≥ 0.7×, no non-2xx answer). See README.md, "HTTP".
 */
import { median, MiB } from './stats.mjs'
import { row } from './summary.mjs'

/**
 * @param {{ config: { bigSize: number, connections: number, listFiles: number }, uploads: any[],
 *   downloads: any[], load: any[], ls: any[] }} http
 * @returns {import('./summary.mjs').Row[]}
 */
export function httpRows(http) {
  const { config } = http
  const size = `${config.bigSize / MiB >= 1024 ? `${config.bigSize / MiB / 1024} GiB` : `${config.bigSize / MiB} MiB`}`
  const speed = (/** @type {any[]} */ samples, /** @type {string} */ variant) =>
    median(samples.filter((s) => s.variant === variant).map((s) => s.mibPerSec))
  const up = (/** @type {string} */ v) => speed(http.uploads, v)
  const down = (/** @type {string} */ v) => speed(http.downloads, v)
  const gib = config.bigSize / (1024 * MiB)
  const cpu = (/** @type {any[]} */ samples, /** @type {string} */ variant) =>
    median(samples.filter((s) => s.variant === variant).map((s) => s.serverCpuSec / gib))
  /** @param {string} metric @param {number} value @param {number} baseline @param {string} baselineName @param {number | null} min */
  const mibRow = (metric, value, baseline, baselineName, min) => {
    const r = row(metric, 'MiB/s', value, { baseline, baselineName })
    return min === null
      ? r
      : { ...r, target: `≥ ${min.toFixed(2)}×`, pass: Number.isFinite(r.ratio) && r.ratio >= min }
  }
  const base = 'http baseline'
  const rows = [
    mibRow(
      `HTTP download ${size}, curl GET /api/v1/files`,
      down('tandem GET'),
      down('baseline'),
      base,
      0.9,
    ),
    mibRow('  binary client download', down('tandem binary'), down('baseline'), base, null),
    row('  server CPU per GiB, HTTP download', 's', cpu(http.downloads, 'tandem GET'), {
      baseline: cpu(http.downloads, 'baseline'),
      baselineName: base,
    }),
    mibRow(
      `HTTP upload ${size}, curl PUT /api/v1/files`,
      up('tandem PUT'),
      up('baseline'),
      base,
      0.8,
    ),
    mibRow('  vs baseline+fsync', up('tandem PUT'), up('baseline+fsync'), '+fsync', null),
    mibRow(
      '  vs baseline+fsync+sha256',
      up('tandem PUT'),
      up('baseline+fsync+sha256'),
      '+fsync+sha256',
      null,
    ),
    mibRow(
      '  curl POST /upload?name= (raw; run 1 only)',
      up('tandem POST /upload'),
      up('baseline'),
      base,
      null,
    ),
    mibRow('  binary client upload', up('tandem binary'), up('baseline'), base, null),
    row('  server CPU per GiB, HTTP upload', 's', cpu(http.uploads, 'tandem PUT'), {
      baseline: cpu(http.uploads, 'baseline+fsync+sha256'),
      baselineName: '+fsync+sha256',
    }),
  ]
  for (const endpoint of ['/heartbeat', '/list']) {
    const of = (/** @type {string} */ variant) =>
      http.load.filter((s) => s.endpoint === endpoint && s.variant === variant)
    const med = (/** @type {string} */ variant, /** @type {(r: any) => number} */ f) =>
      median(of(variant).map((s) => f({ ...s.result, cpuUs: s.serverCpuUsPerRequest })))
    const sum = (/** @type {string} */ variant) =>
      of(variant).reduce((n, s) => n + s.result.whole.non2xx + s.result.whole.errors, 0)
    const what =
      endpoint === '/list' ? `GET /list (${config.listFiles + 1} files)` : 'GET /heartbeat'
    const rps = row(
      `${what}, ${config.connections} connections`,
      'req/s',
      med('tandem', (r) => r.requestsPerSec),
      { baseline: med('baseline', (r) => r.requestsPerSec), baselineName: base },
    )
    rows.push({ ...rps, target: '≥ 0.70×', pass: Number.isFinite(rps.ratio) && rps.ratio >= 0.7 })
    rows.push(
      row(
        '  p99 latency',
        'ms',
        med('tandem', (r) => r.latencyMs.p99),
        {
          baseline: med('baseline', (r) => r.latencyMs.p99),
          baselineName: base,
        },
      ),
    )
    rows.push(
      row(
        '  server CPU per request',
        'µs',
        med('tandem', (r) => r.cpuUs),
        {
          baseline: med('baseline', (r) => r.cpuUs),
          baselineName: base,
        },
      ),
    )
    const bad = sum('tandem')
    rows.push({
      ...row('  non-2xx answers + errors, all runs', 'count', bad, {
        baseline: sum('baseline'),
        baselineName: base,
      }),
      ratio: NaN,
      target: '= 0',
      pass: bad === 0,
    })
  }
  const ls = (/** @type {'idle' | 'busy'} */ when, /** @type {'p50Ms' | 'p99Ms'} */ p) =>
    median(http.ls.map((s) => s[when][p]))
  const idle = 'idle server'
  rows.push(
    row(`binary ls during an HTTP upload of ${size}, p50`, 'ms', ls('busy', 'p50Ms'), {
      baseline: ls('idle', 'p50Ms'),
      baselineName: idle,
      target: 'report',
    }),
    row('  p99', 'ms', ls('busy', 'p99Ms'), {
      baseline: ls('idle', 'p99Ms'),
      baselineName: idle,
      target: 'report',
    }),
    row('  the upload meanwhile', 'MiB/s', median(http.ls.map((s) => s.upload.mibPerSec)), {
      baseline: up('tandem PUT'),
      baselineName: 'upload alone',
    }),
  )
  return rows
}
