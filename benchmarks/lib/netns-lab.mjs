/**
 * A private network of Linux network namespaces for the cluster benchmark (the tests have the same
 * thing in test/helpers/netns.ts): a hub namespace with a bridge of its own, `count` member
 * namespaces joined to it by veth pairs (`eth0`, 10.213.0.<i+1>/24, `lo` up, a 224.0.0.0/4
 * route), so that multicast DNS stays inside. The host's interfaces are never touched. `destroy()`
 * kills what runs inside and deletes the namespaces; an exit hook does it for a run that dies.
 */
import { execFileSync } from 'node:child_process'

const PREFIX = `tdb-${process.pid}-`
let labs = 0
/** @type {Set<string>} */
const live = new Set()

/** @param {string[]} args */
const ip = (args) =>
  execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** Why namespaces cannot be made here, or null. */
export function netnsUnavailable() {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  try {
    ip(['netns', 'add', `${PREFIX}probe`])
    ip(['netns', 'del', `${PREFIX}probe`])
    return null
  } catch (err) {
    return `cannot make a network namespace: ${String(err).split('\n')[0]}`
  }
}

/** @param {string} ns */
function remove(ns) {
  try {
    for (const pid of ip(['netns', 'pids', ns]).split('\n').filter(Boolean))
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // gone
      }
    ip(['netns', 'del', ns])
  } catch {
    // not there
  }
  live.delete(ns)
}

/**
 * @param {number} count
 * @returns {{ members: { ns: string, address: string }[], cut(index: number): void, destroy(): void }}
 */
export function createLab(count) {
  const base = `${PREFIX}${++labs}`
  const hub = `${base}-hub`
  /** @type {{ ns: string, address: string }[]} */
  const members = []
  const destroy = () => {
    for (const m of [...members].reverse()) remove(m.ns)
    remove(hub)
  }
  try {
    ip(['netns', 'add', hub])
    live.add(hub)
    ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'])
    ip(['-n', hub, 'link', 'set', 'br0', 'up'])
    for (let i = 0; i < count; i++) {
      const ns = `${base}-${i}`
      const address = `10.213.0.${i + 1}`
      ip(['netns', 'add', ns])
      live.add(ns)
      members.push({ ns, address })
      ip(['-n', hub, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
      ip(['-n', hub, 'link', 'set', `v${i}`, 'master', 'br0'])
      ip(['-n', hub, 'link', 'set', `v${i}`, 'up'])
      ip(['-n', ns, 'link', 'set', 'lo', 'up'])
      ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0'])
      ip(['-n', ns, 'link', 'set', 'eth0', 'up'])
      ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
    }
  } catch (err) {
    destroy()
    throw err
  }
  /** Take member `index` off the bridge (its veth down at the hub): its packets stop, no FIN. */
  const cut = (/** @type {number} */ index) => ip(['-n', hub, 'link', 'set', `v${index}`, 'down'])
  return { members, cut, destroy }
}

process.once('exit', () => {
  for (const ns of [...live].reverse()) remove(ns)
})
