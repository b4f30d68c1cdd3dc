// Self-tests of the model and the content parser used by the random-operations test: a checker
// that cannot fail proves nothing.
import { describe, expect, it } from 'vitest'
import { History, type OpRecord } from './history.js'
import { appendBody, parseContent, uploadBody } from './random-content.js'

let clock = 0
function op(
  fields: Partial<OpRecord> & Pick<OpRecord, 'kind'>,
  span: [number, number] = [clock, ++clock],
): OpRecord {
  clock = Math.max(clock, span[1]) + 1
  return { client: 0, send: span[0], ack: span[1], ok: true, ...fields }
}

describe('History.stateAt', () => {
  it('follows a sequential history through upload, rename and delete', () => {
    clock = 0
    const up = op({ kind: 'upload', name: 'a', uid: 'u1' })
    const mv = op({ kind: 'rename', from: 'a', to: 'b' })
    const probe = clock++
    const del = op({ kind: 'delete', name: 'b' })
    const history = new History([up, mv, del])
    expect(history.stateAt('a', probe, probe)).toEqual({ kind: 'empty' })
    expect(history.stateAt('b', probe, probe)).toEqual({ kind: 'file', uid: 'u1' })
    expect(history.stateAt('b', Infinity, Infinity)).toEqual({ kind: 'empty' })
    expect(history.stateAt('c', probe, probe)).toEqual({ kind: 'empty' })
  })

  it('is uncertain while an operation on the name overlaps, or when the last two overlap', () => {
    const first = op({ kind: 'upload', name: 'a', uid: 'u1' }, [0, 10])
    const second = op({ kind: 'upload', name: 'a', uid: 'u2' }, [5, 15])
    const history = new History([first, second])
    expect(history.stateAt('a', 12, 13)).toBeUndefined()
    expect(history.stateAt('a', 20, 21)).toBeUndefined()
    expect(new History([first]).stateAt('a', 20, 21)).toEqual({ kind: 'file', uid: 'u1' })
  })

  it('ignores failed operations and follows renames through uncertainty in the source', () => {
    const up = op({ kind: 'upload', name: 'a', uid: 'u1' }, [0, 1])
    const failed = op({ kind: 'delete', name: 'a', ok: false, code: 'ERR_NOT_FOUND' }, [2, 3])
    const racing = op({ kind: 'upload', name: 'a', uid: 'u2' }, [4, 8])
    const mv = op({ kind: 'rename', from: 'a', to: 'b' }, [6, 9])
    const history = new History([up, failed, racing, mv])
    expect(history.stateAt('a', 3.5, 3.6)).toEqual({ kind: 'file', uid: 'u1' })
    // The rename raced an upload of its source: which file moved is unknown.
    expect(history.stateAt('b', 20, 21)).toBeUndefined()
  })
})

describe('parseContent', () => {
  const bodies = new Map([
    ['u1', uploadBody('u1', 100)],
    ['u2', uploadBody('u2', 100)],
  ])

  it('explains an upload followed by appends', () => {
    const content = Buffer.concat([bodies.get('u1')!, appendBody('a1'), appendBody('a2')])
    expect(parseContent(content, bodies)).toEqual({ uid: 'u1', appends: ['a1', 'a2'] })
  })

  it('flags a torn, mixed or unknown content', () => {
    const torn = bodies.get('u1')!.subarray(0, 50)
    const mixed = Buffer.concat([bodies.get('u1')!.subarray(0, 60), bodies.get('u2')!.subarray(60)])
    const partialAppend = Buffer.concat([bodies.get('u1')!, appendBody('a1').subarray(0, 5)])
    for (const content of [torn, mixed, partialAppend, uploadBody('u9', 10), Buffer.from('junk')]) {
      expect(parseContent(content, bodies)).toHaveProperty('error')
    }
  })
})
