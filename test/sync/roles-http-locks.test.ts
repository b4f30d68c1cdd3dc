// Roles over HTTP and with user locks: HTTP writes at a secondary are forwarded like binary ones
// (on the primary's disk when the answer comes; conditional writes refused, never checked
// against the secondary's possibly older copy), and a user lock taken at a secondary is held at
// the primary in the client's name, so it blocks another client's write at the primary.
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { cliAs } from '../client/run-cli.js'
import {
  TestClient,
  encodeName,
  expectError,
  expectJson,
  httpRequest,
  sha256,
  treeOf,
  waitFile,
  waitFor,
} from '../helpers/index.js'
import { startRoles } from '../helpers/roles.js'

describe('roles: HTTP and user locks', () => {
  it("HTTP writes at a secondary are forwarded and on the primary's disk when answered", async () => {
    const { primary, secondaries } = await startRoles({ secondaries: 1, http: true })
    const s1 = secondaries[0]!
    const base = s1.httpUrl
    const big = randomBytes(3 * 1024 * 1024 + 17) // several frames, not a multiple of one
    const put = await httpRequest(base, `/api/v1/files/${encodeName('docs/big.bin')}`, {
      method: 'PUT',
      body: big,
      clientId: 'carol',
    })
    expect(expectJson(put, 201)).toMatchObject({ name: 'docs/big.bin', sha256: sha256(big) })
    expect(sha256(await readFile(primary.file('docs/big.bin')))).toBe(sha256(big))

    const appended = await httpRequest(base, `/api/v1/append/${encodeName('docs/big.bin')}`, {
      method: 'POST',
      body: 'tail',
      clientId: 'carol',
    })
    expectJson(appended)
    expect((await readFile(primary.file('docs/big.bin'))).subarray(-4).toString()).toBe('tail')

    const short = await httpRequest(base, `/write/${encodeName('note.txt')}`, {
      method: 'POST',
      json: { content: 'hello' },
      clientId: 'carol',
    })
    // write needs an existing file: the primary's own answer comes back.
    expectError(short, 404, 'ERR_NOT_FOUND')
    const upload = await httpRequest(base, `/upload?name=note.txt`, {
      method: 'POST',
      body: 'hello',
      clientId: 'carol',
    })
    expectJson(upload)
    expect(await readFile(primary.file('note.txt'), 'utf8')).toBe('hello')

    // A conditional write is refused: the secondary cannot make the primary check it.
    await waitFile([s1], 'note.txt', 'hello')
    const conditional = await httpRequest(base, `/api/v1/files/${encodeName('note.txt')}`, {
      method: 'PUT',
      body: 'lost update?',
      headers: { 'if-match': `"${sha256('hello')}"` },
      clientId: 'carol',
    })
    expectError(conditional, 400, 'ERR_BAD_REQUEST')
    expect(await readFile(primary.file('note.txt'), 'utf8')).toBe('hello')

    const renamed = await httpRequest(base, '/api/v1/rename', {
      method: 'POST',
      json: { from: 'note.txt', to: 'kept.txt' },
      clientId: 'carol',
    })
    expectJson(renamed)
    expect(await readFile(primary.file('kept.txt'), 'utf8')).toBe('hello')
    const removed = await httpRequest(base, `/api/v1/files/${encodeName('docs')}?recursive=1`, {
      method: 'DELETE',
      clientId: 'carol',
    })
    expectJson(removed)
    await expect(readFile(primary.file('docs/big.bin'))).rejects.toMatchObject({ code: 'ENOENT' })
    // The secondary follows by mirroring only.
    await waitFor(async () => [...(await treeOf(s1.root)).keys()].join() === 'kept.txt', {
      what: 'the secondary to mirror the primary',
    })

    // The primary stopped: an HTTP write gets 502 ERR_PEER_UNREACHABLE, a read still works.
    await primary.stop()
    expectError(
      await httpRequest(base, `/api/v1/files/${encodeName('new.txt')}`, {
        method: 'PUT',
        body: 'x',
        clientId: 'carol',
      }),
      502,
      'ERR_PEER_UNREACHABLE',
    )
    const read = await httpRequest(base, `/api/v1/files/${encodeName('kept.txt')}`, {
      clientId: 'carol',
    })
    expect(read.status).toBe(200)
    expect(read.text).toBe('hello')
  })

  it('a user lock taken at a secondary is held at the primary and blocks another client there', async () => {
    const { primary, secondaries } = await startRoles({ secondaries: 1 })
    const s1 = secondaries[0]!
    const alice = cliAs(s1.address, 'alice')
    const made = await alice.tandem(['--json', 'create', 'plan.txt', '--text', 'v1\n'])
    expect(made.code, made.stderr).toBe(0)
    await waitFile([s1], 'plan.txt', 'v1\n')
    const locked = await alice.tandem(['--json', 'lock', '--name', 'plan.txt'])
    expect(locked.code, locked.stderr).toBe(0)
    // Held at the primary, by alice (not by the secondary).
    expect(JSON.parse(locked.stdout.toString())).toMatchObject({
      name: 'plan.txt',
      owner: 'alice',
      server: 'P',
    })

    const bob = await TestClient.connect(primary.port, { clientId: 'bob' })
    try {
      const refused = await bob.append('plan.txt', Buffer.from('bob was here\n'))
      expect(refused.ok).toBe(false)
      expect(refused.error?.code).toBe('ERR_LOCKED')
    } finally {
      await bob.close()
    }
    // Another client at the secondary is refused by the primary too.
    const dave = cliAs(s1.address, 'dave')
    const daveRun = await dave.tandem(['--json', 'append', 'plan.txt', '--text', 'dave\n'])
    expect(daveRun.code).toBe(1)
    expect(JSON.parse(daveRun.stdout.toString()).error.code).toBe('ERR_LOCKED')
    // The owner writes through the secondary.
    const own = await alice.tandem(['--json', 'append', 'plan.txt', '--text', 'v2\n'])
    expect(own.code, own.stderr).toBe(0)
    expect(await readFile(primary.file('plan.txt'), 'utf8')).toBe('v1\nv2\n')

    const unlocked = await alice.tandem(['--json', 'unlock', '--name', 'plan.txt'])
    expect(unlocked.code, unlocked.stderr).toBe(0)
    const bobAgain = await TestClient.connect(primary.port, { clientId: 'bob' })
    try {
      const reply = await bobAgain.append('plan.txt', Buffer.from('bob\n'))
      expect(reply.ok, reply.error?.code).toBe(true)
    } finally {
      await bobAgain.close()
    }
    expect(await readFile(primary.file('plan.txt'), 'utf8')).toBe('v1\nv2\nbob\n')
  })
})
