/**
 * A private network of Linux network namespaces for multicast tests (discovery). `createLab(n)`
 * makes a hub namespace holding a bridge of its own and n member namespaces, each joined to the
 * bridge by a veth pair (its end is `eth0`, address 10.213.0.<i+1>/24, `lo` up, and a route for
 * 224.0.0.0/4 so that multicast goes out on `eth0`). The host's own interfaces and namespace are
 * never touched: every link is made with `ip -n <hub>` and born inside the namespaces.
 *
 * Everything is removed when the test (or file) ends, also on failure: the processes still in a
 * namespace (`ip netns pids`) are killed before `ip netns del`, a process exit hook does the same
 * for a run that dies, and names carry the test process's pid, so a later run removes what a
 * crashed one left (the pid is no longer alive).
 *
 * Namespaces need root and iproute2. Where they cannot be made, `describeNetns` skips with the
 * reason; under `CI` (or `TANDEM_NETNS_REQUIRED`, which .ci/run sets) it fails instead, so that
 * CI never silently skips these tests.
 */
import {
  execFile,
  execFileSync,
  spawn,
  type ChildProcess,
  type SpawnOptions,
} from 'node:child_process'
import { describe, it } from 'vitest'
import { registerCleanup, trackProcess } from './cleanup.js'

/** Prefix of every namespace this harness makes: `tdn-<pid>-<lab>-<hub|index>`. */
const PREFIX = 'tdn-'
const NAME = /^tdn-(\d+)-/
/** The subnet of every lab (each lab is its own namespaces, so labs never see each other). */
export const LAB_SUBNET = '10.213.0'

export interface NetnsMember {
  /** The namespace's name (for `ip netns exec`, `spawnIn`, `execIn`). */
  readonly ns: string
  /** Its address on the lab's bridge. */
  readonly address: string
  /** Its interface on the bridge (inside its namespace). */
  readonly iface: string
}

export interface NetnsLab {
  /** The hub namespace (holds the bridge; runs nothing). */
  readonly hub: string
  readonly members: readonly NetnsMember[]
  /** Kill every process in the lab's namespaces and delete them (idempotent; also automatic). */
  destroy(): void
}

let labCount = 0
const liveNamespaces = new Set<string>()

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Why namespaces cannot be made here, or null when they can (probed once). */
let support: string | null | undefined
export function netnsUnavailable(): string | null {
  if (support !== undefined) return support
  if (process.platform !== 'linux') return (support = 'network namespaces need Linux')
  if (process.getuid?.() !== 0) return (support = 'network namespaces need root')
  const probe = `${PREFIX}${process.pid}-probe`
  try {
    ip(['netns', 'add', probe])
    ip(['netns', 'del', probe])
    support = null
  } catch (err) {
    support = `cannot make a network namespace (ip netns add): ${(err as Error).message.split('\n')[0]}`
  }
  return support
}

/**
 * `describe` for tests that need namespaces: skipped with the reason where they cannot be made,
 * a failing test instead under `CI`.
 */
export function describeNetns(name: string, body: () => void): void {
  const reason = netnsUnavailable()
  if (reason === null) return void describe(name, body)
  if (process.env.CI || process.env.TANDEM_NETNS_REQUIRED) {
    return void describe(name, () => {
      it('can make network namespaces (required under CI)', () => {
        throw new Error(`${reason}; CI must run these tests as root with iproute2`)
      })
    })
  }
  console.warn(`skipping "${name}": ${reason}`)
  describe.skip(name, body)
}

/** Delete namespaces of ours left by runs whose process is gone. */
function removeStale(): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const ns = line.split(' ')[0] ?? ''
    const pid = NAME.exec(ns)?.[1]
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue
    removeNamespace(ns)
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Kill what runs inside, then delete (deleting a namespace destroys its links and veth peers). */
function removeNamespace(ns: string): void {
  try {
    for (const pid of ip(['netns', 'pids', ns]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    ip(['netns', 'del', ns])
  } catch {
    // Not there (already deleted).
  }
  liveNamespaces.delete(ns)
}

/** Make a lab of `count` member namespaces on a private bridge; removed when the test ends. */
export function createLab(count: number): NetnsLab {
  removeStale()
  const base = `${PREFIX}${process.pid}-${++labCount}`
  const hub = `${base}-hub`
  const names = [hub]
  const members: NetnsMember[] = []
  const lab: NetnsLab = {
    hub,
    members,
    destroy: () => {
      // Members first: their processes die before the bridge goes.
      for (const ns of [...names].reverse()) removeNamespace(ns)
    },
  }
  registerCleanup(() => lab.destroy())
  try {
    addNamespace(hub)
    ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'])
    ip(['-n', hub, 'link', 'set', 'br0', 'up'])
    for (let i = 0; i < count; i++) {
      const ns = `${base}-${i}`
      names.push(ns)
      addNamespace(ns)
      const address = `${LAB_SUBNET}.${i + 1}`
      // Both ends are born inside the namespaces: nothing appears on the host.
      ip(['-n', hub, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      ip(['-n', hub, 'link', 'set', `v${i}`, 'master', 'br0'])
      ip(['-n', hub, 'link', 'set', `v${i}`, 'up'])
      ip(['-n', ns, 'link', 'set', 'lo', 'up'])
      ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
      members.push({ ns, address, iface: 'eth0' })
    }
  } catch (err) {
    lab.destroy()
    throw err
  }
  return lab
}

function addNamespace(ns: string): void {
  ip(['netns', 'add', ns])
  liveNamespaces.add(ns)
}

/** Spawn `cmd args` inside namespace `ns` (ip netns exec execs it: the child's pid is cmd's). */
export function spawnIn(
  ns: string,
  cmd: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const proc = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  })
  trackProcess(proc)
  return proc
}

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run `cmd args` inside `ns` to its end (never rejects on a non-zero exit: read `code`). */
export function execIn(
  ns: string,
  cmd: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'ip',
      ['netns', 'exec', ns, cmd, ...args],
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
        if (err !== null && code === null && !err.killed) return reject(err)
        resolve({ code, stdout, stderr })
      },
    )
    trackProcess(child)
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

// A run that ends (or dies in a way that still runs exit hooks) takes its namespaces along.
process.once('exit', () => {
  for (const ns of [...liveNamespaces].reverse()) removeNamespace(ns)
})
