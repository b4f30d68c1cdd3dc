/**
 * Placement (issue 13), the rules alone: the one tandem uses — the creating member plus the top
 * K-1 of a weighted rendezvous hash over the members, weighted by disk capacity
 * (server/placement/desired.js) — next to the source design's — the creator plus the K-1 members
 * with the fewest files (server/placement/fewest-files.js) — on the same workload: 10,000 names of
 * mixed sizes (a seeded draw per run: most small, a few of hundreds of MiB), each with the
 * placement id a new name gets (from its creator and name). No server runs: the
 * rules are pure, and these are the numbers that decide between them.
 *   - balance: max/mean of bytes and of files per member, with 3 and 4 members (K = 2), every
 *     file created at a member drawn at random; with disks of 1:2:1, max/mean of how full each is;
 *   - a 4th member joins: the share of all copies that move, next to the fewest any rule must move
 *     for the newcomer to hold its share; and max/mean of files per member afterwards;
 *   - a burst: 1,000 uploads at one member; the largest share of their second copies that lands on
 *     one member. The fewest-files rule is measured with fresh counts (every placement sees the
 *     one before: the best case, impossible across servers) and with the counts of a heartbeat
 *     before the burst (what a member knows of the others while the burst is in flight); and two
 *     bursts at once, at A and at B, each placer with the counts of before them.
 *
 *   node benchmarks/run.mjs --only placement [--runs N]
 *   node benchmarks/placement.mjs [--runs N]
 */
import { createHash, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { importDist } from './lib/dist.mjs'
import { median, round } from './lib/stats.mjs'
import { row } from './lib/summary.mjs'

const KiB = 1024
const MiB = 1024 * KiB
/** The mix of sizes: [share, smallest, largest] (log-uniform within each band). */
const SIZE_BANDS = [
  [0.6, 1 * KiB, 16 * KiB],
  [0.3, 16 * KiB, 1 * MiB],
  [0.09, 1 * MiB, 16 * MiB],
  [0.01, 16 * MiB, 256 * MiB],
]
const K = 2

/**
 * A small seeded generator (mulberry32): each run draws its own workload, the same for both rules.
 * @param {number} seed
 */
function random(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * `count` files under `prefix` (a name of its own per draw), each with a size from the mix.
 * @param {number} count @param {() => number} rand @param {string} prefix
 * @returns {{ name: string, size: number }[]}
 */
function workload(count, rand, prefix) {
  const files = []
  for (let i = 0; i < count; i++) {
    let pick = rand()
    let band = SIZE_BANDS[SIZE_BANDS.length - 1]
    for (const b of SIZE_BANDS) {
      if (pick < b[0]) {
        band = b
        break
      }
      pick -= b[0]
    }
    const [, lo, hi] = /** @type {number[]} */ (band)
    const size = Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))))
    files.push({ name: `${prefix}/f${i}.bin`, size })
  }
  return files
}

/**
 * `file` created at `creator`, with the placement id the scanner gives a new name:
 * base64url(SHA-256(creator \0 name)), 22 characters.
 * @param {{ name: string, size: number }} file @param {string} creator
 */
function at(file, creator) {
  const fileId = createHash('sha256')
    .update(creator)
    .update('\0')
    .update(file.name)
    .digest('base64url')
    .slice(0, 22)
  return { ...file, creator, fileId }
}

/** Max over mean of the values. @param {Iterable<number>} values */
function maxOverMean(values) {
  const v = [...values]
  const mean = v.reduce((a, b) => a + b, 0) / v.length
  return mean === 0 ? NaN : Math.max(...v) / mean
}

/**
 * Files and bytes per member after placing `files` (each with `creator`) by `place`.
 * @param {string[]} names @param {{ size: number }[]} files
 * @param {(file: any) => string[]} place
 */
function tally(names, files, place) {
  const count = new Map(names.map((n) => [n, 0]))
  const bytes = new Map(names.map((n) => [n, 0]))
  for (const f of files)
    for (const m of place(f)) {
      count.set(m, (count.get(m) ?? 0) + 1)
      bytes.set(m, (bytes.get(m) ?? 0) + f.size)
    }
  return { count, bytes }
}

/** One run: every measurement on one drawn workload. @param {number} seed @param {any} rules */
function oneRun(seed, rules) {
  const { desiredHolders, FewestFiles } = rules
  const rand = random(seed)
  const files = workload(10_000, rand, `draw-${seed}`)
  const result = /** @type {Record<string, any>} */ ({})
  for (const n of [3, 4]) {
    const names = ['A', 'B', 'C', 'D'].slice(0, n)
    const created = files.map((f) => at(f, /** @type {string} */ (names[Math.floor(rand() * n)])))
    const members = names.map((name) => ({ name, weight: 100 }))
    const hrw = tally(names, created, (f) => desiredHolders(f, members, K))
    const fewest = new FewestFiles(names)
    const ff = tally(names, created, (f) => fewest.place(f.creator, f.size, K))
    result[`n${n}`] = {
      hrw: { bytes: maxOverMean(hrw.bytes.values()), files: maxOverMean(hrw.count.values()) },
      fewest: { bytes: maxOverMean(ff.bytes.values()), files: maxOverMean(ff.count.values()) },
    }
  }
  result.unequal = unequalDisks(files, rand, rules)
  result.join = join(files, rand, rules)
  result.burst = burst(files.slice(0, 1_000), rules)
  return result
}

/** Disks of 100, 200 and 100 GiB: max/mean of the fraction of each disk the copies fill. */
function unequalDisks(
  /** @type {any[]} */ files,
  /** @type {() => number} */ rand,
  /** @type {any} */ { desiredHolders, FewestFiles },
) {
  const disks = { A: 100, B: 200, C: 100 }
  const names = Object.keys(disks)
  const members = names.map((name) => ({ name, weight: disks[/** @type {'A'} */ (name)] }))
  const created = files.map((f) => at(f, /** @type {string} */ (names[Math.floor(rand() * 3)])))
  const fill = (/** @type {Map<string, number>} */ bytes) =>
    maxOverMean(names.map((n) => (bytes.get(n) ?? 0) / disks[/** @type {'A'} */ (n)]))
  const fewest = new FewestFiles(names)
  return {
    hrw: fill(tally(names, created, (f) => desiredHolders(f, members, K)).bytes),
    fewest: fill(tally(names, created, (f) => fewest.place(f.creator, f.size, K)).bytes),
  }
}

/**
 * Three members hold the files; D joins. The rendezvous rule's holders are computed again with D
 * among the candidates: the copies D gains are what moves (one dropped elsewhere for each). The
 * fewest-files rule places only new files, so nothing moves and D stays empty.
 */
function join(
  /** @type {any[]} */ files,
  /** @type {() => number} */ rand,
  /** @type {any} */ { desiredHolders, FewestFiles },
) {
  const three = ['A', 'B', 'C'].map((name) => ({ name, weight: 100 }))
  const four = [...three, { name: 'D', weight: 100 }]
  const created = files.map((f) =>
    at(f, /** @type {string} */ (three[Math.floor(rand() * 3)]?.name)),
  )
  let moved = 0
  let movedBytes = 0
  const totalBytes = created.reduce((a, f) => a + f.size * K, 0)
  for (const f of created) {
    const before = new Set(desiredHolders(f, three, K))
    const gained = desiredHolders(f, four, K).filter((m) => !before.has(m)).length
    moved += gained
    movedBytes += gained * f.size
  }
  const names = four.map((m) => m.name)
  const hrwAfter = tally(names, created, (f) => desiredHolders(f, four, K))
  const fewest = new FewestFiles(['A', 'B', 'C'])
  for (const f of created) fewest.place(f.creator, f.size, K)
  fewest.add('D')
  const copies = created.length * K
  // The fewest any rule moves for D to hold the mean (creators keep theirs: D created none).
  const fairShare = copies / 4
  return {
    hrw: {
      movedShare: moved / copies,
      movedBytesShare: movedBytes / totalBytes,
      filesAfter: maxOverMean(hrwAfter.count.values()),
    },
    fewest: { movedShare: 0, filesAfter: maxOverMean(fewest.counts().values()) },
    minimumShare: fairShare / copies,
  }
}

/**
 * 1,000 uploads at A, one after another. The largest share of their second copies on one
 * member: 0.5 is an even spread over B and C, 1 is every copy on one.
 */
function burst(/** @type {any[]} */ files, /** @type {any} */ { desiredHolders, FewestFiles }) {
  const names = ['A', 'B', 'C']
  const members = names.map((name) => ({ name, weight: 100 }))
  const atA = files.map((f) => at(f, 'A'))
  const largest = (/** @type {(f: any) => string[]} */ place) => {
    const got = new Map()
    for (const f of atA) {
      const second = place(f)[1]
      got.set(second, (got.get(second) ?? 0) + 1)
    }
    return Math.max(...got.values()) / atA.length
  }
  // The cluster before the burst: B already holds a few more files than C.
  const warm = () => {
    const rule = new FewestFiles(names)
    for (let i = 0; i < 30; i++) rule.place('B', 1, 1)
    for (let i = 0; i < 20; i++) rule.place('C', 1, 1)
    return rule
  }
  const fresh = warm()
  const lagging = warm()
  const before = lagging.counts()
  // Two bursts at once, 500 at A and 500 at B, interleaved: each placer sees the counts of before
  // the bursts (the other's placements reach it a heartbeat later). The share of all second
  // copies on one member: a third is even, and C gets at least half under any rule that spreads
  // (A's go to B or C, B's to A or C).
  const both = files.map((f, i) => at(f, i % 2 === 0 ? 'A' : 'B'))
  const twoPlacers = (/** @type {(f: any) => string[]} */ place) => {
    const got = new Map()
    for (const f of both) {
      const second = place(f)[1]
      got.set(second, (got.get(second) ?? 0) + 1)
    }
    return Math.max(...got.values()) / both.length
  }
  // Before them A and B hold 30 files each, C 20.
  const two = warm()
  for (let i = 0; i < 30; i++) two.place('A', 1, 1)
  const twoBefore = two.counts()
  return {
    hrw: largest((f) => desiredHolders(f, members, K)),
    fewestFresh: largest((f) => fresh.place('A', f.size, K)),
    fewestLagging: largest((f) => lagging.place('A', f.size, K, before)),
    twoHrw: twoPlacers((f) => desiredHolders(f, members, K)),
    twoFewest: twoPlacers((f) => two.place(f.creator, f.size, K, twoBefore)),
  }
}

/** @param {{ runs: number }} config @param {(line: string) => void} log */
export async function measurePlacement(config, log) {
  const desired = await importDist('server/placement/desired.js')
  const fewest = await importDist('server/placement/fewest-files.js')
  const rules = { desiredHolders: desired.desiredHolders, FewestFiles: fewest.FewestFiles }
  const runs = []
  for (let run = 1; run <= config.runs; run++) {
    const seed = randomBytes(4).readUInt32BE(0)
    const started = performance.now()
    const r = { seed, ...oneRun(seed, rules), ms: Math.round(performance.now() - started) }
    runs.push(r)
    const f = (/** @type {number} */ x) => round(x, 3)
    log(
      `  run ${run} (seed ${seed}): bytes max/mean N=3 ${f(r.n3.hrw.bytes)} rendezvous, ${f(r.n3.fewest.bytes)} fewest-files; N=4 ${f(r.n4.hrw.bytes)} / ${f(r.n4.fewest.bytes)}; files N=3 ${f(r.n3.hrw.files)} / ${f(r.n3.fewest.files)}; 1:2:1 disks fill ${f(r.unequal.hrw)} / ${f(r.unequal.fewest)}; D joins: ${f(r.join.hrw.movedShare * 100)} % of copies move (minimum ${f(r.join.minimumShare * 100)} %); burst: ${f(r.burst.hrw * 100)} % / ${f(r.burst.fewestFresh * 100)} % fresh / ${f(r.burst.fewestLagging * 100)} % lagging on one member; two bursts at once ${f(r.burst.twoHrw * 100)} % / ${f(r.burst.twoFewest * 100)} % on one`,
    )
  }
  return { config: { files: 10_000, k: K, sizeBands: SIZE_BANDS, runs: config.runs }, runs }
}

/**
 * The table's rows: the rendezvous rule in the tandem column, the fewest-files rule as baseline
 * (for the join, the least any rule must move). Lower is better everywhere.
 * @param {{ runs: any[] }} p @returns {import('./lib/summary.mjs').Row[]}
 */
export function placementRows(p) {
  const med = (/** @type {(r: any) => number} */ f) => median(p.runs.map(f))
  const vs = (/** @type {(r: any) => number} */ f) => ({
    baseline: med(f),
    baselineName: 'fewest files',
    target: 'report',
  })
  return [
    row(
      'placement N=3 K=2: bytes max/mean',
      '×',
      med((r) => r.n3.hrw.bytes),
      vs((r) => r.n3.fewest.bytes),
    ),
    row(
      '  files max/mean',
      '×',
      med((r) => r.n3.hrw.files),
      vs((r) => r.n3.fewest.files),
    ),
    row(
      'placement N=4 K=2: bytes max/mean',
      '×',
      med((r) => r.n4.hrw.bytes),
      vs((r) => r.n4.fewest.bytes),
    ),
    row(
      '  files max/mean',
      '×',
      med((r) => r.n4.hrw.files),
      vs((r) => r.n4.fewest.files),
    ),
    row(
      'disks 1:2:1: fill max/mean',
      '×',
      med((r) => r.unequal.hrw),
      vs((r) => r.unequal.fewest),
    ),
    row(
      'a 4th member joins: copies moved',
      '%',
      med((r) => r.join.hrw.movedShare * 100),
      {
        baseline: med((r) => r.join.minimumShare * 100),
        baselineName: 'its fair share',
        target: 'report',
      },
    ),
    row(
      '  then files max/mean',
      '×',
      med((r) => r.join.hrw.filesAfter),
      vs((r) => r.join.fewest.filesAfter),
    ),
    row(
      'burst of 1,000 at A: most 2nd copies on one',
      '%',
      med((r) => r.burst.hrw * 100),
      vs((r) => r.burst.fewestFresh * 100),
    ),
    row(
      '  vs fewest files, counts a heartbeat old',
      '%',
      med((r) => r.burst.hrw * 100),
      {
        baseline: med((r) => r.burst.fewestLagging * 100),
        baselineName: 'fewest (lagging)',
        target: 'report',
      },
    ),
    row(
      'bursts at A and B at once: most on one',
      '%',
      med((r) => r.burst.twoHrw * 100),
      {
        baseline: med((r) => r.burst.twoFewest * 100),
        baselineName: 'fewest (lagging)',
        target: 'report',
      },
    ),
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } })
  const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`)
  const result = await measurePlacement({ runs: Number(values.runs ?? 5) }, log)
  log(JSON.stringify(placementRows(result), null, 1))
}
