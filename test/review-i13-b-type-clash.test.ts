// Review of issue 13 (reviewer B): at a member that holds none of a folder's files (they are held
// at other members, --replicas), the operations make a FILE of the folder's name, and at a member
// that does not hold a file, they make a FOLDER of the file's name — a type clash across the
// cluster that a member holding the files refuses (ERR_IS_DIRECTORY / ERR_EXISTS). The cluster
// then resolves the clash by its rule (the folder wins, the file is moved to a conflict copy):
// the client was told its upload succeeded under a name it then loses, or — for a path below a
// file held elsewhere — the holders move that existing file aside to a conflict name.
//
// Each case is run at a holder (the names on this disk: refused) and at a non-holder (the same
// names listed by the index as held at B only): it must be refused there too, making nothing.
import { describe, expect, it } from 'vitest'
import type { Holder } from '../src/protocol/index.js'
import { rename } from '../src/server/ops/files.js'
import { createOpsHarness, runBody } from './helpers/ops-harness.js'

const B: Holder = { name: 'B', address: '127.0.0.1:9002', http: '127.0.0.1:9082' }

/** The code an operation fails with, or 'ok'. */
function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (err: { code?: string }) => err.code ?? 'thrown',
  )
}

/** The folder `docs/` (one file) and the file `f.txt`, here on disk or held at B only. */
function member(holds: boolean) {
  const h = createOpsHarness()
  if (holds) {
    h.writeFile('docs/far.txt', 'far')
    h.writeFile('f.txt', 'f')
  } else {
    h.data.elsewhere.set('docs/far.txt', [B])
    h.peerHolds('B', 'docs/far.txt', 3, 1_000, 'ab'.repeat(32))
    h.data.elsewhere.set('f.txt', [B])
    h.peerHolds('B', 'f.txt', 1, 1_000, 'cd'.repeat(32))
  }
  h.writeFile('mine.txt', 'mine')
  return h
}

type Case = [string, (h: ReturnType<typeof member>) => Promise<unknown>]

const CASES: Case[] = [
  [
    'mv mine.txt onto the folder docs',
    (h) => rename(h.context(), { from: 'mine.txt', to: 'docs' }),
  ],
  [
    'put (upload) a file named docs',
    (h) => runBody(h.context(), { op: 'upload', name: 'docs' }, 'x'),
  ],
  ['create a file named docs', (h) => runBody(h.context(), { op: 'create', name: 'docs' }, 'x')],
  [
    'create f.txt/x below the file f.txt',
    (h) => runBody(h.context(), { op: 'create', name: 'f.txt/x' }, 'x'),
  ],
  [
    'put f.txt/x below the file f.txt',
    (h) => runBody(h.context(), { op: 'upload', name: 'f.txt/x' }, 'x'),
  ],
  [
    'mv mine.txt to f.txt/x below the file f.txt',
    (h) => rename(h.context(), { from: 'mine.txt', to: 'f.txt/x' }),
  ],
]

describe('a name whose type differs at the holders (review i13 B)', () => {
  for (const [what, op] of CASES) {
    it(`${what}: refused at a non-holder as at a holder`, async () => {
      const atHolder = await outcome(op(member(true)))
      expect(atHolder, 'at a holder').not.toBe('ok')
      const elsewhere = member(false)
      const atNonHolder = await outcome(op(elsewhere))
      // Nothing of the other type may be made here.
      expect(
        {
          refused: atNonHolder !== 'ok',
          docsFile: elsewhere.exists('docs'),
          underFile: elsewhere.exists('f.txt'),
        },
        `at a member that holds none of them (answered ${atNonHolder}; a holder ${atHolder})`,
      ).toEqual({ refused: true, docsFile: false, underFile: false })
    })
  }
})
