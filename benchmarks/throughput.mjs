/**
 * Question 1 (with 3): how fast does tandem move big files — one client, and nine at once — next
 * to a raw socket piped into a file, measured in the same run; and what does its server process
 * cost meanwhile (peak RSS, CPU seconds per GiB, split main thread / other threads)?
 *
 * Each sample: `sync` (so one sample's write-back does not land in the next), then every client
 * connects, then all start on one signal; throughput = bytes / (last finish − first start). Each
 * upload goes to a fresh file name, deleted after the sample; downloads read hard links of the
 * source files and write fresh local files. The variants' order rotates from run to run.
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { tempDir } from './lib/children.mjs'
import { ClientPool } from './lib/client-pool.mjs'
import { placeFile, writeRandomFile } from './lib/data-files.mjs'
import { cpuDelta, cpuTimes, machineBusy, machineCpu, MemorySampler } from './lib/proc-stats.mjs'
import { startBaseline, startTandem, tandemDirs } from './lib/servers.mjs'
import { GiB, MiB, round } from './lib/stats.mjs'

/**
 * @typedef {{ id: string, op: 'upload' | 'download', clients: number, size: number }} Scenario
 * @typedef {'tandem' | 'baseline' | 'baseline+fsync'} Variant
 */

const VARIANTS = /** @type {Record<Scenario['op'], Variant[]>} */ ({
  upload: ['baseline', 'tandem', 'baseline+fsync'],
  download: ['baseline', 'tandem'],
})

/**
 * @param {{ runs: number, singleSize: number, eachSize: number, clients: number, serverNodeArgs: string[] }} config
 * @param {(line: string) => void} log
 */
export async function measureThroughput(config, log) {
  /** @type {Scenario[]} */
  const scenarios = [
    { id: 'upload-1', op: 'upload', clients: 1, size: config.singleSize },
    { id: 'download-1', op: 'download', clients: 1, size: config.singleSize },
    {
      id: `upload-${config.clients}`,
      op: 'upload',
      clients: config.clients,
      size: config.eachSize,
    },
    {
      id: `download-${config.clients}`,
      op: 'download',
      clients: config.clients,
      size: config.eachSize,
    },
  ]
  const env = await setUp(config, log)
  try {
    const samples = []
    for (let run = 0; run < config.runs; run++) {
      for (const scenario of scenarios) {
        for (const variant of rotate(VARIANTS[scenario.op], run)) {
          const s = await sample(env, scenario, variant, run)
          log(describe(s, run, config.runs))
          samples.push(s)
        }
      }
    }
    return {
      scenarios,
      samples,
      servers: { tandem: env.tandem.command.join(' '), baseline: env.baseline.command.join(' ') },
    }
  } finally {
    await Promise.all([
      env.tandemPool.close(),
      env.basePool.close(),
      env.tandem.stop(),
      env.baseline.stop(),
    ])
  }
}

/** @param {{ singleSize: number, eachSize: number, clients: number, serverNodeArgs: string[] }} config @param {(line: string) => void} log */
async function setUp(config, log) {
  const src = tempDir('tandem-bench-src-')
  const { root: tandemRoot, state: tandemState } = tandemDirs('tandem-bench-tandem-')
  const baseRoot = tempDir('tandem-bench-baseroot-')
  const outDir = tempDir('tandem-bench-out-')
  const single = path.join(src, 'single.bin')
  const each = path.join(src, 'each.bin')
  log(
    `writing test data: ${config.singleSize / MiB} MiB + ${config.eachSize / MiB} MiB of random bytes`,
  )
  writeRandomFile(single, config.singleSize)
  writeRandomFile(each, config.eachSize)
  for (const root of [tandemRoot, baseRoot]) {
    placeFile(single, path.join(root, 'dl-single.bin'))
    for (let i = 0; i < config.clients; i++) placeFile(each, path.join(root, `dl-each-${i}.bin`))
  }
  const tandem = await startTandem({
    root: tandemRoot,
    state: tandemState,
    nodeArgs: config.serverNodeArgs,
  })
  const baseline = await startBaseline({ root: baseRoot })
  return {
    single,
    each,
    outDir,
    tandem,
    baseline,
    roots: { tandem: tandemRoot, baseline: baseRoot },
    tandemPool: new ClientPool('tandem', config.clients),
    basePool: new ClientPool('baseline', config.clients),
  }
}

/** @template T @param {T[]} list @param {number} by */
function rotate(list, by) {
  const k = by % list.length
  return [...list.slice(k), ...list.slice(0, k)]
}

/** @param {Awaited<ReturnType<typeof setUp>>} env @param {Scenario} scenario @param {Variant} variant @param {number} run */
function jobsFor(env, scenario, variant, run) {
  const server = variant === 'tandem' ? env.tandem : env.baseline
  const slug = variant.replace('+', '-')
  return Array.from({ length: scenario.clients }, (_, i) => {
    const common = { op: scenario.op, host: server.host, port: server.port, size: scenario.size }
    if (scenario.op === 'upload') {
      const file = scenario.clients === 1 ? env.single : env.each
      return {
        ...common,
        file,
        name: `up-${scenario.id}-${slug}-${run}-${i}.bin`,
        fsync: variant === 'baseline+fsync',
      }
    }
    const name = scenario.clients === 1 ? 'dl-single.bin' : `dl-each-${i}.bin`
    return { ...common, name, out: path.join(env.outDir, `${scenario.id}-${slug}-${run}-${i}.bin`) }
  })
}

/** @param {Awaited<ReturnType<typeof setUp>>} env @param {Scenario} scenario @param {Variant} variant @param {number} run */
async function sample(env, scenario, variant, run) {
  const server = variant === 'tandem' ? env.tandem : env.baseline
  const pool = variant === 'tandem' ? env.tandemPool : env.basePool
  const jobs = jobsFor(env, scenario, variant, run)
  execFileSync('sync')
  const cpuBefore = cpuTimes(server.pid)
  const machineBefore = machineCpu()
  const sampler = new MemorySampler(server.pid)
  sampler.start()
  let clients, memory
  try {
    clients = await pool.run(jobs)
  } finally {
    memory = sampler.stop()
    removeOutputs(jobs, variant === 'tandem' ? env.roots.tandem : env.roots.baseline)
  }
  const cpu = cpuDelta(cpuBefore, cpuTimes(server.pid))
  const machine = machineBusy(machineBefore, machineCpu())
  const clientCpuSec = clients.reduce((sum, c) => sum + c.cpuSec, 0)
  const bytes = clients.reduce((sum, c) => sum + c.bytes, 0)
  const wallSec =
    (Math.max(...clients.map((c) => c.end)) - Math.min(...clients.map((c) => c.start))) / 1000
  return {
    scenario: scenario.id,
    variant,
    run: run + 1,
    clients: scenario.clients,
    bytes,
    wallSec: round(wallSec, 4),
    mibPerSec: round(bytes / MiB / wallSec),
    server: {
      cpu,
      cpuSecPerGiB: round(cpu.totalSec / (bytes / GiB), 3),
      mainThreadSecPerGiB: round(cpu.mainThreadSec / (bytes / GiB), 3),
      memory,
    },
    clientCpuSecPerGiB: round(clientCpuSec / (bytes / GiB), 3),
    // All cores busy means the sample was CPU-bound: then server + client CPU per GiB decide it.
    // The rest of busyCoreSec is other work on the machine (other users, the kernel's write-back).
    machine: {
      ...machine,
      serverAndClientsCoreSec: round(cpu.totalSec + clientCpuSec, 3),
      otherCoreSec: round(machine.busyCoreSec - cpu.totalSec - clientCpuSec, 3),
    },
    perClient: clients.map((c) => ({ ...c, sec: round((c.end - c.start) / 1000, 4) })),
  }
}

/** Uploaded files and downloaded copies live for one sample only. */
function removeOutputs(/** @type {Record<string, any>[]} */ jobs, /** @type {string} */ root) {
  for (const job of jobs) {
    if (job.op === 'upload') rmSync(path.join(root, job.name), { force: true })
    else rmSync(job.out, { force: true })
  }
}

/** @param {Awaited<ReturnType<typeof sample>>} s @param {number} run @param {number} runs */
function describe(s, run, runs) {
  const what = `${s.scenario.padEnd(11)} ${s.variant.padEnd(15)}`
  const cpu = `cpu s/GiB: server ${s.server.cpuSecPerGiB.toFixed(2)} (main ${s.server.mainThreadSecPerGiB.toFixed(2)}) client ${s.clientCpuSecPerGiB.toFixed(2)}`
  const cost = `${cpu}; machine ${s.machine.busyPct.toFixed(0)}% busy; server peak ${s.server.memory.peakRssMiB.toFixed(0)} MiB`
  return `  run ${run + 1}/${runs}  ${what} ${s.mibPerSec.toFixed(1).padStart(8)} MiB/s  ${s.wallSec.toFixed(2)} s  ${cost}`
}
