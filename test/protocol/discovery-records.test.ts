// The DNS-SD records of discovery: what a server announces parses back to the same announcement,
// and records of any other shape (anyone on the LAN can send them) are skipped, never thrown on.
import { describe, expect, it } from 'vitest'
import {
  announcementRecords,
  asksForTandem,
  parseAnnouncements,
  SERVICE_TYPE,
  type Announcement,
} from '../../src/protocol/discovery-records.js'

const A: Announcement = {
  cluster: 'blue',
  name: 'A',
  port: 8001,
  syncPort: 5001,
  httpPort: null,
  version: 1,
}

const txt = (data: unknown) => ({
  answers: [{ name: `x.${SERVICE_TYPE}`, type: 'TXT', data }],
})

describe('discovery records', () => {
  it('round-trips an announcement (TXT as strings or as buffers, as the library decodes it)', () => {
    const records = announcementRecords(A)
    expect(parseAnnouncements({ answers: records })).toEqual([A])
    const asBuffers = records.map((r) =>
      r.type === 'TXT' ? { ...r, data: (r.data as string[]).map((s) => Buffer.from(s)) } : r,
    )
    expect(parseAnnouncements({ answers: asBuffers })).toEqual([{ ...A }])
    expect(parseAnnouncements({ additionals: records })).toEqual([A])
    const withHttp = { ...A, httpPort: 8081 }
    expect(parseAnnouncements({ answers: announcementRecords(withHttp) })).toEqual([withHttp])
  })

  it('skips records of the wrong shape, type or value', () => {
    const base = ['cluster=blue', 'name=A', 'port=8001', 'sync=5001', 'http=', 'v=1']
    const bad: unknown[] = [
      null,
      42,
      'x',
      [],
      { answers: 'no' },
      { answers: [null, 1, 'x', { type: 'TXT' }, { name: 5, type: 'TXT', data: base }] },
      { answers: [{ name: `x.${SERVICE_TYPE}`, type: 'A', data: base }] },
      { answers: [{ name: 'x._other._tcp.local', type: 'TXT', data: base }] },
      txt({ not: 'txt' }),
      txt([1, 2, {}]),
      txt(base.map((e) => e.replace('port=8001', 'port=abc'))),
      txt(base.map((e) => e.replace('port=8001', 'port=0'))),
      txt(base.map((e) => e.replace('port=8001', 'port=65536'))),
      txt(base.map((e) => e.replace('sync=5001', 'sync='))),
      txt(base.map((e) => e.replace('http=', 'http=x'))),
      txt(base.map((e) => e.replace('v=1', 'v=0'))),
      txt(base.map((e) => e.replace('name=A', 'name=../etc'))),
      txt(base.map((e) => e.replace('name=A', `name=${'n'.repeat(64)}`))),
      txt(base.map((e) => e.replace('cluster=blue', 'cluster='))),
      txt(base.filter((e) => !e.startsWith('name='))),
      txt([...base, 'pad='.padEnd(2000, 'x')]), // far larger than ours
    ]
    for (const packet of bad) expect(parseAnnouncements(packet)).toEqual([])
  })

  it('recognises queries for tandem servers only', () => {
    expect(asksForTandem({ questions: [{ name: SERVICE_TYPE, type: 'PTR' }] })).toBe(true)
    expect(asksForTandem({ questions: [{ name: SERVICE_TYPE.toUpperCase(), type: 'ANY' }] })).toBe(
      true,
    )
    for (const q of [
      null,
      {},
      { questions: 'x' },
      { questions: [{ name: SERVICE_TYPE, type: 'A' }] },
    ])
      expect(asksForTandem(q)).toBe(false)
  })
})
