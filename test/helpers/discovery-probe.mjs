// A stand-alone process around the built discovery modules, for tests that run it inside a
// network namespace (test/helpers/netns.ts). One JSON line per event on stdout.
//   node discovery-probe.mjs announce '{"cluster","name","ports":{control,sync,http}}'
//     → {"member":{…}} per onMember, {"warn":"…"} per warning; stops on SIGTERM
//   node discovery-probe.mjs discover '{"cluster","timeoutMs"}' → {"servers":[…]} and exits
//   node discovery-probe.mjs garbage '{"cluster"}' → sends garbage to the mDNS group, then
//     {"sent":N,"queries":Q,"answers":A,"windowMs":W}: A = tandem answers heard in the W ms from
//     the flood's first query to 1 s after its last
import { createRequire } from 'node:module'
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'

const [mode, json] = process.argv.slice(2)
const options = JSON.parse(json ?? '{}')
const dist = new URL('../../dist/', import.meta.url)
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`)

if (mode === 'announce') {
  const { startDiscovery } = await import(new URL('server/discovery/discovery.js', dist).href)
  const discovery = startDiscovery({
    ...options,
    onMember: (member) => print({ member }),
    warn: (warn) => print({ warn }),
  })
  print({ started: true })
  process.on('SIGTERM', () => discovery.stop().then(() => process.exit(0)))
} else if (mode === 'discover') {
  const { discoverServers } = await import(new URL('client/discovery.js', dist).href)
  print({ servers: await discoverServers(options.cluster, options) })
} else if (mode === 'fake-members') {
  print(await sendFakeMembers(options))
} else if (mode === 'garbage') {
  print(await sendGarbage(options.cluster))
} else {
  throw new Error(`unknown mode ${mode}`)
}

/**
 * Announcements of `count` members that do not exist (names fake-0…, well-formed TXT of
 * `cluster`, version `v`), 50 to a packet, from this namespace's address (`afterQuery`: once a
 * query for tandem servers is heard); then {"sent":N}.
 */
async function sendFakeMembers({ cluster, count, v = 1, prefix = 'fake', afterQuery = false }) {
  const require = createRequire(createRequire(import.meta.url).resolve('multicast-dns'))
  const packet = require('dns-packet')
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  await new Promise((resolve) => socket.bind(afterQuery ? 5353 : 0, '0.0.0.0', resolve))
  if (afterQuery) {
    // As an answer: wait for someone's query for tandem servers on the group.
    socket.addMembership('224.0.0.251')
    await new Promise((resolve) =>
      socket.on('message', (message) => {
        try {
          const p = packet.decode(message)
          if (p.type === 'query' && p.questions.some((q) => q.name === '_tandem._tcp.local'))
            resolve()
        } catch {
          // not a packet
        }
      }),
    )
  }
  let sent = 0
  for (let first = 0; first < count; first += 50) {
    const answers = []
    for (let i = first; i < Math.min(count, first + 50); i++) {
      const name = `${prefix}-${i}`
      answers.push({
        name: `${name}._tandem._tcp.local`,
        type: 'TXT',
        data: [
          `cluster=${cluster}`,
          `name=${name}`,
          `port=${1000 + i}`,
          `sync=${20000 + i}`,
          'http=',
          `v=${v}`,
        ],
      })
    }
    const bytes = packet.encode({ type: 'response', answers })
    await new Promise((resolve, reject) =>
      socket.send(bytes, 5353, '224.0.0.251', (err) => (err ? reject(err) : resolve())),
    )
    sent += answers.length
  }
  socket.close()
  return { sent }
}

/** Random bytes, cut and lying packets, huge and mistyped records, and a query flood. */
async function sendGarbage(cluster) {
  const require = createRequire(createRequire(import.meta.url).resolve('multicast-dns'))
  const packet = require('dns-packet')
  const instance = `evil._tandem._tcp.local`
  const txt = (data) =>
    packet.encode({ type: 'response', answers: [{ name: instance, type: 'TXT', data }] })
  const good = txt([`cluster=${cluster}`, 'name=evil', 'port=1', 'sync=2', 'http=', 'v=1'])
  const packets = [
    ...Array.from({ length: 50 }, (_, i) => randomBytes(1 + ((i * 97) % 1400))),
    Buffer.alloc(12, 0xff), // a header that promises 65535 records of each kind
    good.subarray(0, good.length - 5), // cut short
    // Huge TXT: many big strings (dns-packet limits each to 255 bytes).
    txt(Array.from({ length: 200 }, () => `cluster=${cluster}${'x'.repeat(200)}`)),
    // Wrong values in the right record.
    txt([`cluster=${cluster}`, 'name=evil', 'port=abc', 'sync=2', 'http=', 'v=1']),
    txt([`cluster=${cluster}`, 'name=evil', 'port=99999', 'sync=2', 'http=', 'v=1']),
    txt([`cluster=${cluster}`, 'name=../../etc', 'port=1', 'sync=2', 'http=', 'v=1']),
    txt([`cluster=${cluster}`, 'name=evil', 'port=1', 'sync=2', 'http=x', 'v=nope']),
    txt(['=', '==', 'cluster', '']),
    // Wrong record types under our names.
    packet.encode({
      type: 'response',
      answers: [
        { name: '_tandem._tcp.local', type: 'A', data: '10.0.0.1' },
        { name: instance, type: 'SRV', data: { port: 0, target: '' } },
        { name: instance, type: 'NULL', data: randomBytes(300) },
        { name: instance, type: 'PTR', data: 'x' },
      ],
    }),
    // Queries of odd shapes.
    packet.encode({ type: 'query', questions: [{ name: '_tandem._tcp.local', type: 'TXT' }] }),
    packet.encode({ type: 'query', questions: [] }),
  ]
  // On the group's port, to hear the answers (the servers answer to the group).
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  await new Promise((resolve) => socket.bind(5353, '0.0.0.0', resolve))
  socket.addMembership('224.0.0.251')
  let answers = 0
  socket.on('message', (message) => {
    try {
      const p = packet.decode(message)
      if (p.type === 'response' && p.answers.some((a) => a.name === '_tandem._tcp.local')) answers++
    } catch {
      // ours, or garbage
    }
  })
  const send = (p) =>
    new Promise((resolve, reject) =>
      socket.send(p, 5353, '224.0.0.251', (err) => (err ? reject(err) : resolve())),
    )
  for (const p of packets) await send(p)
  // A query flood, 400 queries over about 2 s: answers are rate-limited, so a server neither
  // stops nor floods the group back.
  const query = packet.encode({
    type: 'query',
    questions: [{ name: '_tandem._tcp.local', type: 'PTR' }],
  })
  answers = 0
  const started = Date.now()
  for (let i = 0; i < 400; i++) {
    await send(query)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  socket.close()
  return { sent: packets.length + 400, queries: 400, answers, windowMs: Date.now() - started }
}
