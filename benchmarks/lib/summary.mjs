/**
 * Turns raw samples into the table's rows: medians over runs, ratios tandem / baseline, and each
 * target from the issue with pass or fail. Rows without a target are context (ratio only).
 *
 * @typedef {{ metric: string, unit: string, tandem: number, baseline: number, baselineName: string,
 *   ratio: number, target: string, pass: boolean | null }} Row
 */
import { median, round } from './stats.mjs'

const MEMORY_LIMIT_MIB = 250

/**
 * One row from a value and, optionally, its baseline (ratio value / baseline) and target.
 * @param {string} metric @param {string} unit @param {number} value
 * @param {{ target?: string, pass?: boolean | null, baseline?: number, baselineName?: string }} [extra]
 * @returns {Row}
 */
export function row(metric, unit, value, extra = {}) {
  const baseline = extra.baseline ?? NaN
  return {
    metric,
    unit,
    tandem: round(value),
    baseline: round(baseline),
    baselineName: extra.baselineName ?? 'baseline',
    ratio: Number.isFinite(baseline) ? round(value / baseline, 3) : NaN,
    target: extra.target ?? '(context)',
    pass: extra.pass ?? null,
  }
}

/** @param {any[]} samples @param {(s: any) => boolean} where @param {(s: any) => number} value */
function med(samples, where, value) {
  return median(samples.filter(where).map(value))
}

/** @param {Omit<Row, 'ratio' | 'pass'>} row @param {number | null} minRatio @returns {Row} */
function ratioRow(row, minRatio) {
  const ratio = round(row.tandem / row.baseline, 3)
  return {
    ...row,
    tandem: round(row.tandem),
    baseline: round(row.baseline),
    ratio,
    pass: minRatio === null ? null : ratio >= minRatio,
  }
}

/** @param {{ clients: number, op: string }} sc */
function label(sc) {
  return `${sc.op} ${sc.clients === 1 ? '1 client' : `${sc.clients} clients`}`
}

/** @param {{ scenarios: {id: string, op: string, clients: number}[], samples: any[] }} throughput @returns {Row[]} */
export function throughputRows(throughput) {
  const { samples } = throughput
  /** @type {Row[]} */
  const rows = []
  for (const sc of throughput.scenarios) {
    const mbps = (/** @type {string} */ variant) =>
      med(
        samples,
        (s) => s.scenario === sc.id && s.variant === variant,
        (s) => s.mibPerSec,
      )
    const target = sc.clients === 1 ? 1.2 : 1.0
    rows.push(
      ratioRow(
        {
          metric: label(sc),
          unit: 'MiB/s',
          tandem: mbps('tandem'),
          baseline: mbps('baseline'),
          baselineName: 'baseline',
          target: `≥ ${target.toFixed(2)}×`,
        },
        target,
      ),
    )
    if (sc.op === 'upload') {
      rows.push(
        ratioRow(
          {
            metric: `${label(sc)} vs baseline+fsync`,
            unit: 'MiB/s',
            tandem: mbps('tandem'),
            baseline: mbps('baseline+fsync'),
            baselineName: 'baseline+fsync',
            target: '(context)',
          },
          null,
        ),
      )
    }
  }
  for (const sc of throughput.scenarios) rows.push(...costRows(samples, sc))
  return rows
}

/** What one scenario cost: CPU per GiB on each side, how busy the machine was, server memory. */
function costRows(
  /** @type {any[]} */ samples,
  /** @type {{id: string, op: string, clients: number}} */ sc,
) {
  const of = (/** @type {string} */ variant) =>
    samples.filter((s) => s.scenario === sc.id && s.variant === variant)
  const both = (
    /** @type {string} */ metric,
    /** @type {string} */ unit,
    /** @type {(s: any) => number} */ value,
  ) =>
    ratioRow(
      {
        metric,
        unit,
        tandem: median(of('tandem').map(value)),
        baseline: median(of('baseline').map(value)),
        baselineName: 'baseline',
        target: '(context)',
      },
      null,
    )
  const rows = [
    both(`server CPU per GiB, ${label(sc)}`, 's', (s) => s.server.cpuSecPerGiB),
    both('  of which server main thread', 's', (s) => s.server.mainThreadSecPerGiB),
    both('  client CPU per GiB', 's', (s) => s.clientCpuSecPerGiB),
    // On a CPU-bound machine, throughput ratio ≈ 1 / this ratio: the row that explains the others.
    both('  server + client CPU per GiB', 's', (s) => s.server.cpuSecPerGiB + s.clientCpuSecPerGiB),
    both('  machine busy (all cores)', '%', (s) => s.machine.busyPct),
  ]
  if (sc.clients > 1) {
    const peak = (/** @type {string} */ variant) =>
      Math.max(...of(variant).map((s) => s.server.memory.peakRssMiB))
    const tandem = peak('tandem')
    const row = ratioRow(
      {
        metric: `  server peak RSS (max of runs)`,
        unit: 'MiB',
        tandem,
        baseline: peak('baseline'),
        baselineName: 'baseline',
        target: `≤ ${MEMORY_LIMIT_MIB} MiB`,
      },
      null,
    )
    rows.push({ ...row, pass: tandem <= MEMORY_LIMIT_MIB })
  }
  return rows
}

/** @param {{ samples: any[] }} small @returns {Row[]} */
export function smallFileRows(small) {
  const fps = (/** @type {string} */ variant) =>
    med(
      small.samples,
      (s) => s.variant === variant,
      (s) => s.filesPerSec,
    )
  /** @type {Row[]} */
  const rows = []
  for (const variant of ['tandem put (CLI)', 'tandem putFiles (library)']) {
    if (!small.samples.some((s) => s.variant === variant)) continue
    rows.push(
      ratioRow(
        {
          metric: `small files, ${variant}`,
          unit: 'files/s',
          tandem: fps(variant),
          baseline: fps('writeFile'),
          baselineName: 'writeFile',
          target: '≥ 2.00×',
        },
        2.0,
      ),
    )
    rows.push(
      ratioRow(
        {
          metric: `small files, ${variant} vs writeFile+fsync`,
          unit: 'files/s',
          tandem: fps(variant),
          baseline: fps('writeFile+fsync'),
          baselineName: 'writeFile+fsync',
          target: '(context)',
        },
        null,
      ),
    )
  }
  return rows
}

/** The table as text: metric, tandem, baseline, ratio, target, pass/fail. @param {Row[]} rows */
export function renderTable(rows) {
  const head = ['metric', 'unit', 'tandem', 'baseline', 'ratio', 'target', 'result']
  const body = rows.map((r) => [
    r.metric,
    r.unit,
    fmt(r.tandem),
    `${fmt(r.baseline)}${r.baselineName === 'baseline' ? '' : ` (${r.baselineName})`}`,
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : '—',
    r.target,
    r.pass === null ? '' : r.pass ? 'pass' : 'FAIL',
  ])
  const widths = head.map((h, i) =>
    Math.max(h.length, ...body.map((cells) => String(cells[i]).length)),
  )
  const line = (/** @type {string[]} */ cells) =>
    cells
      .map((c, i) =>
        i === 0 || i === 1 || i === 5
          ? c.padEnd(/** @type {number} */ (widths[i]))
          : c.padStart(/** @type {number} */ (widths[i])),
      )
      .join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

/** @param {number} x */
function fmt(x) {
  if (!Number.isFinite(x)) return '—'
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)
}
