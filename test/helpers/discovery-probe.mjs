// A stand-alone process around the built discovery modules, for tests that run it inside a
// network namespace (test/helpers/netns.ts). One JSON line per event on stdout.
//   node discovery-probe.mjs announce '{"cluster","name","ports":{control,sync,http}}'
//     → {"member":{…}} per onMember, {"warn":"…"} per warning; stops on SIGTERM
//   node discovery-probe.mjs discover '{"cluster","timeoutMs"}' → {"servers":[…]} and exits
//   node discovery-probe.mjs garbage '{"cluster"}' → sends garbage to the mDNS group and exits
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
} else if (mode === 'garbage') {
  await sendGarbage(options.cluster)
  print({ sent: true })
} else {
  throw new Error(`unknown mode ${mode}`)
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
  // A query flood: answers are rate-limited, the server must neither stop nor flood back.
  const query = packet.encode({
    type: 'query',
    questions: [{ name: '_tandem._tcp.local', type: 'PTR' }],
  })
  for (let i = 0; i < 500; i++) packets.push(query)
  const socket = dgram.createSocket('udp4')
  await new Promise((resolve) => socket.bind(0, '0.0.0.0', resolve))
  for (const p of packets)
    await new Promise((resolve, reject) =>
      socket.send(p, 5353, '224.0.0.251', (err) => (err ? reject(err) : resolve())),
    )
  socket.close()
}
