// The client's hand-written check of server messages (client/server-message.ts) accepts and
// returns what the protocol's zod schema does, on good messages and on each kind of bad one.
import { describe, expect, it } from 'vitest'
import { parseServerMessage } from '../../src/client/server-message.js'
import { serverMessageSchema } from '../../src/protocol/index.js'

const welcome = { type: 'welcome', server: { name: 'A', version: '1.0.0' }, sessionId: 's1' }
const holder = { name: 'B', address: '127.0.0.1:8002', http: 'http://127.0.0.1:8080', up: true }
const samples: unknown[] = [
  welcome,
  { ...welcome, extra: 1, load: { clients: 2, maxClients: 9 } },
  { ...welcome, load: { clients: -1, maxClients: 9 } },
  { ...welcome, load: 'busy' },
  { ...welcome, sync: { port: 9, time: 5, replicas: 2, http: 8080, capacity: 10 } },
  { ...welcome, sync: { port: 9, time: 5, http: null } },
  { ...welcome, sync: { port: 9, time: 5, http: 70000, capacity: 0 } },
  { ...welcome, sync: { port: 9, time: 5, replicas: 0 } },
  { ...welcome, sync: { port: 'x', time: 5 } },
  { ...welcome, server: { name: 'A' } },
  { ...welcome, sessionId: 3 },
  { type: 'response', id: 1, ok: true, result: { name: 'a', size: 1 } },
  { type: 'response', id: 1, ok: true },
  { type: 'response', id: '1', ok: true, result: 1 },
  { type: 'response', id: 2, ok: false, error: { code: 'ERR_NOT_FOUND', message: 'no' } },
  {
    type: 'response',
    id: 2,
    ok: false,
    error: { code: 'ERR_BUSY', message: 'x', retryAfterMs: 5 },
  },
  {
    type: 'response',
    id: 2,
    ok: false,
    error: { code: 'ERR_MOVED', message: 'm', holders: [holder] },
  },
  {
    type: 'response',
    id: 2,
    ok: false,
    error: { code: 'E', message: 'm', holders: [{ name: 'B' }] },
  },
  {
    type: 'response',
    id: 2,
    ok: false,
    error: { code: 'E', message: 'm', holders: Array(65).fill(holder) },
  },
  { type: 'response', id: 2, ok: false, error: { code: 'E' } },
  { type: 'response', id: 2, ok: 'no', error: { code: 'E', message: 'm' } },
  { type: 'error', error: { code: 'ERR_TIMEOUT', message: 'idle', other: 1 } },
  { type: 'error' },
  { type: 'event', event: { seq: 1, op: 'upload' } },
  { type: 'event', event: [1] },
  { type: 'other' },
  null,
  'text',
  [welcome],
]

describe('parseServerMessage', () => {
  it.each(samples.map((s, i) => [i, s]))('sample %i as the zod schema has it', (_i, sample) => {
    const expected = serverMessageSchema.safeParse(sample)
    if (!expected.success) {
      expect(() => parseServerMessage(sample)).toThrow(/malformed control message/)
      return
    }
    expect(parseServerMessage(sample)).toEqual(expected.data)
  })
})
