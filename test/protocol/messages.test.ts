// parseRequest: schema validation of requests, and the codes of what it refuses.
import { describe, expect, it } from 'vitest'
import { OPERATIONS, parseRequest, RequestError } from '../../src/protocol/index.js'

function failure(raw: unknown): { code: string; requestId: number | undefined } {
  try {
    parseRequest(raw)
  } catch (err) {
    expect(err).toBeInstanceOf(RequestError)
    const e = err as RequestError
    return { code: e.code, requestId: e.requestId }
  }
  throw new Error('parseRequest accepted it')
}

describe('parseRequest', () => {
  it('accepts well-formed requests of each kind', () => {
    const samples = [
      { id: 0, op: 'list' },
      { id: 1, op: 'stat', name: 'a.txt' },
      { id: 2, op: 'download', name: 'a.txt' },
      { id: 3, op: 'upload', name: 'a.txt', size: 10, mtime: 1_700_000_000_000 },
      { id: 4, op: 'create', name: 'a.txt' },
      { id: 5, op: 'write', name: 'a.txt' },
      { id: 6, op: 'append', name: 'a.txt' },
      { id: 7, op: 'rename', from: 'a.txt', to: 'b.txt' },
      { id: 8, op: 'delete', name: 'a.txt' },
      { id: 9, op: 'log', limit: 10, follow: true },
      { id: 10, op: 'status' },
      { id: 11, op: 'ping' },
      { id: 12, op: 'lock', index: 3, expect: 'plan.txt', ttlSeconds: 60 },
      { id: 13, op: 'unlock', name: 'plan.txt', force: true },
    ]
    expect(new Set(samples.map((s) => s.op))).toEqual(new Set(OPERATIONS))
    for (const sample of samples) expect(parseRequest(sample)).toEqual(sample)
  })

  it('answers an unknown op with ERR_UNKNOWN_OPERATION and the request id', () => {
    expect(failure({ id: 5, op: 'format-disk' })).toEqual({
      code: 'ERR_UNKNOWN_OPERATION',
      requestId: 5,
    })
    // Inherited object keys are not operations.
    expect(failure({ id: 6, op: 'toString' })).toEqual({
      code: 'ERR_UNKNOWN_OPERATION',
      requestId: 6,
    })
    expect(failure({ id: 7, op: '__proto__' })).toEqual({
      code: 'ERR_UNKNOWN_OPERATION',
      requestId: 7,
    })
  })

  it.each([
    ['a missing name', { id: 3, op: 'stat' }],
    ['a name of the wrong type', { id: 3, op: 'download', name: 42 }],
    ['an empty name', { id: 3, op: 'delete', name: '' }],
    ['an unknown extra field', { id: 3, op: 'list', extra: true }],
    ['a negative size', { id: 3, op: 'upload', name: 'a', size: -1 }],
    ['a fractional size', { id: 3, op: 'upload', name: 'a', size: 1.5 }],
    ['a rename without to', { id: 3, op: 'rename', from: 'a' }],
    ['a log limit of 0', { id: 3, op: 'log', limit: 0 }],
    ['a lock with neither name nor index', { id: 3, op: 'lock' }],
    ['a lock with both name and index', { id: 3, op: 'lock', name: 'a', index: 0 }],
    ['a lock with a negative index', { id: 3, op: 'lock', index: -1 }],
    ['a lock with a ttl of 0', { id: 3, op: 'lock', name: 'a', ttlSeconds: 0 }],
    ['an unlock with a string force', { id: 3, op: 'unlock', name: 'a', force: 'yes' }],
    ['a follow that is not boolean', { id: 3, op: 'log', follow: 'yes' }],
    ['a missing op', { id: 3 }],
    ['an op that is not a string', { id: 3, op: 7 }],
  ])('answers %s with ERR_BAD_REQUEST carrying the id', (_label, raw) => {
    expect(failure(raw)).toEqual({ code: 'ERR_BAD_REQUEST', requestId: 3 })
  })

  it.each([
    ['no id', { op: 'list' }],
    ['a negative id', { id: -1, op: 'list' }],
    ['a fractional id', { id: 1.5, op: 'list' }],
    ['a string id', { id: '1', op: 'list' }],
  ])('answers %s with ERR_BAD_REQUEST and no id', (_label, raw) => {
    expect(failure(raw)).toEqual({ code: 'ERR_BAD_REQUEST', requestId: undefined })
  })

  it.each([[null], [42], ['list'], [[{ id: 1, op: 'list' }]]])(
    'refuses the non-object %j',
    (raw) => {
      expect(failure(raw).code).toBe('ERR_BAD_REQUEST')
    },
  )
})
