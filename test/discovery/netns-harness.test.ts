// The netns harness itself: two namespaces on its private bridge exchange a UDP multicast datagram,
// and after destroy() no namespace or link of the lab is left (and the host's links are unchanged).
import { execFileSync } from 'node:child_process'
import { expect, it } from 'vitest'
import { createLab, describeNetns, execIn, spawnIn } from '../helpers/netns.js'
import { waitFor } from '../helpers/wait-for.js'

const GROUP = '239.255.42.99'
const PORT = 41234

const RECEIVER = `
const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true })
s.on('message', (m, r) => { console.log('got ' + m + ' from ' + r.address); process.exit(0) })
s.bind(${PORT}, '0.0.0.0', () => { s.addMembership('${GROUP}'); console.log('ready') })
`
const sender = (text: string): string => `
const s = require('node:dgram').createSocket('udp4')
s.bind(0, '0.0.0.0', () => {
  s.setMulticastTTL(1)
  s.send('${text}', ${PORT}, '${GROUP}', (err) => { if (err) throw err; s.close() })
})
`

const links = (ns?: string): string =>
  execFileSync('ip', [...(ns ? ['-n', ns] : []), '-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0])
    .filter(Boolean)
    .sort()
    .join(' ')

describeNetns('netns harness', () => {
  it('carries multicast between two namespaces and removes everything afterwards', async () => {
    const hostLinks = links()
    const lab = createLab(2)
    const [a, b] = lab.members
    expect(links(a!.ns)).toBe('eth0 lo')
    const receiver = spawnIn(b!.ns, process.execPath, ['-e', RECEIVER])
    let out = ''
    receiver.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    await waitFor(() => out.includes('ready'), { what: 'the receiver to join the group' })
    // Multicast is unreliable: send until one arrives (a datagram may go before the join settles).
    await waitFor(
      async () => {
        await execIn(a!.ns, process.execPath, ['-e', sender('hello')])
        return out.includes(`got hello from ${a!.address}`)
      },
      { what: 'the datagram to arrive', intervalMs: 200 },
    )
    // The host never saw the lab: its links are as before.
    expect(links()).toBe(hostLinks)
    lab.destroy()
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    for (const ns of [lab.hub, ...lab.members.map((m) => m.ns)]) expect(left).not.toContain(ns)
    expect(links()).toBe(hostLinks)
    await waitFor(() => receiver.exitCode !== null || receiver.signalCode !== null, {
      what: 'the receiver to be killed with its namespace',
    })
  })
})
