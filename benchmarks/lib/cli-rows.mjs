/**
 * The CLI benchmark's rows (cli.mjs) for the summary table: `tandem put`/`get` next to `rsync -a`
 * and `rsync -a --fsync` against a daemon, medians of the runs, with issue 14's targets; then the
 * CPU of each side, per GiB for the big file and per file for the folder.
 */
import { median } from './stats.mjs'
import { row } from './summary.mjs'
import { GiB } from './stats.mjs'

/** Issue 14: minimum tandem ÷ rsync ratios; null = no target (context). */
export const CLI_TARGETS = {
  file: { put: { rsync: 0.8, fsync: null }, get: { rsync: 1.0, fsync: null } },
  folder: { put: { rsync: 1.0, fsync: 1.5 }, get: { rsync: null, fsync: null } },
}

/** @param {{ config: any, samples: any[] }} cli @returns {import('./summary.mjs').Row[]} */
export function cliRows(cli) {
  const rows = []
  for (const kind of /** @type {const} */ (['file', 'folder']))
    for (const op of /** @type {const} */ (['put', 'get'])) rows.push(...caseRows(cli, kind, op))
  return rows
}

/** Seconds until a sample's bytes were on the disk: the command, then a sync. @param {any} s */
const toDisk = (s) => s.wallSec + (s.syncSec ?? NaN)

/** @param {{ config: any, samples: any[] }} cli @param {'file' | 'folder'} kind @param {'put' | 'get'} op */
function caseRows(cli, kind, op) {
  const of = (/** @type {string} */ variant) =>
    cli.samples.filter((s) => s.case === kind && s.op === op && s.variant === variant)
  const med = (/** @type {string} */ variant, /** @type {(s: any) => number} */ f) =>
    median(of(variant).map(f))
  if (of('tandem').length === 0) return []
  const { config } = cli
  const file = kind === 'file'
  const what = file
    ? `${config.bigSize / GiB >= 1 ? `${config.bigSize / GiB} GiB` : `${config.bigSize / 2 ** 20} MiB`}`
    : `${config.smallCount.toLocaleString('en')} × ${config.smallSize / 1024} KiB`
  const speed = (/** @type {any} */ s) => (file ? s.mibPerSec : s.filesPerSec)
  const unit = file ? 'MiB/s' : 'files/s'
  const tandem = med('tandem', speed)
  const targets = CLI_TARGETS[kind][op]
  const versus = (
    /** @type {string} */ metric,
    /** @type {string} */ variant,
    /** @type {number | null} */ min,
  ) => {
    const baseline = med(variant, speed)
    const pass = min === null || !Number.isFinite(baseline) ? null : tandem / baseline >= min
    return row(metric, unit, tandem, {
      baseline,
      baselineName: variant,
      ...(min === null ? {} : { target: `≥ ${min.toFixed(2)}×`, pass }),
    })
  }
  // CPU per GiB (s) for the big file, per file (ms) for the folder.
  const [cpuUnit, per] = file
    ? ['s', (/** @type {any} */ s) => s.bytes / GiB]
    : ['ms', (/** @type {any} */ s) => s.files / 1000]
  const perText = file ? 'per GiB' : 'per file'
  const cpu = (/** @type {string} */ metric, /** @type {(s: any) => number} */ f) =>
    row(
      metric,
      cpuUnit,
      med('tandem', (s) => f(s) / per(s)),
      {
        baseline: med('rsync -a', (s) => f(s) / per(s)),
        baselineName: 'rsync -a',
      },
    )
  return [
    versus(`CLI ${what} ${op}, tandem vs rsync -a`, 'rsync -a', targets.rsync),
    versus(`  vs rsync -a --fsync`, 'rsync -a --fsync', targets.fsync),
    cpu(`  server CPU ${perText} (tandem serve / rsync daemon)`, (s) => s.serverCpuSec),
    row(
      `    of which after the CLI exited`,
      cpuUnit,
      med('tandem', (s) => (s.serverCpuAfterExitSec ?? NaN) / per(s)),
    ),
    cpu(`  client CPU ${perText} (tandem CLI / rsync)`, (s) => s.clientCpuSec),
    cpu(`  server + client CPU ${perText}`, (s) => s.serverCpuSec + s.clientCpuSec),
    // Like for like: until the bytes are on the disk (a sync after the command), and the whole
    // machine's CPU until then, kernel write-back threads included (other load on the machine
    // counts too: compare within a run).
    row(`  seconds to disk (command + sync; lower is better)`, 's', med('tandem', toDisk), {
      baseline: med('rsync -a', toDisk),
      baselineName: 'rsync -a',
    }),
    cpu(`  machine CPU ${perText}, write-back included`, (s) => s.machineCpuSec ?? NaN),
  ]
}
