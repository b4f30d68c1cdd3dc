// Names that try to leave the data directory: each refused with ERR_BAD_PATH, while another client
// keeps being served, and nothing outside the data directory is read or written.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  snapshotTree,
  startServer,
  tempDir,
  TestClient,
  walkTree,
  type ServerHandle,
} from '../helpers/index.js'

const SECRET = 'sentinel: must never be read or changed by tandem\n'

describe('bad names', () => {
  let base: string
  let server: ServerHandle
  let attacker: TestClient
  let bystander: TestClient
  let before: Map<string, string>
  let round = 0
  // The data directory and the server's own state are the server's business; the rest is not.
  const outsideOnly = (relative: string) =>
    relative === 'root' || relative === 'state' || relative === 'root.lock'

  beforeAll(async () => {
    base = tempDir()
    const root = path.join(base, 'root')
    mkdirSync(root)
    mkdirSync(path.join(base, 'state'))
    mkdirSync(path.join(base, 'outside'))
    writeFileSync(path.join(base, 'sentinel.txt'), SECRET)
    writeFileSync(path.join(base, 'outside', 'secret.txt'), SECRET)
    symlinkSync(path.join(base, 'sentinel.txt'), path.join(root, 'file-link'))
    symlinkSync(path.join(base, 'outside'), path.join(root, 'dir-link'))
    writeFileSync(path.join(root, 'inside.txt'), 'inside')
    before = snapshotTree(base, outsideOnly)
    server = await startServer({ root, stateDir: path.join(base, 'state') })
    attacker = await TestClient.connect(server.port, { clientId: 'attacker' })
    bystander = await TestClient.connect(server.port, { clientId: 'bystander' })
  })

  /** The other client is still served, with its own data intact. */
  async function bystanderServed(): Promise<void> {
    const body = Buffer.from(`round ${++round}`)
    expect((await bystander.upload('bystander.txt', body)).ok).toBe(true)
    expect((await bystander.download('bystander.txt')).body).toEqual(body)
  }

  afterAll(() => {
    // Nothing outside the data directory was created, changed or removed.
    expect(snapshotTree(base, outsideOnly)).toEqual(before)
    expect(walkTree(path.join(base, 'outside'))).toEqual(['secret.txt'])
  })

  const badNames: [string, string][] = [
    ['dot-dot', '..'],
    ['dot-dot to a sibling', '../sentinel.txt'],
    ['dot-dot inside a path', 'a/../../sentinel.txt'],
    ['an absolute path', '/etc/passwd'],
    ['an absolute path to the sentinel', '<absolute sentinel>'],
    ['NUL', 'a\u0000b.txt'],
    ['a newline', 'a\nb.txt'],
    ['a bell', 'a\u0007b.txt'],
    ['DEL', 'a\u007fb.txt'],
    ['a backslash', '..\\sentinel.txt'],
    ['a 256-byte segment', 'n'.repeat(256)],
    ['a path over 1024 bytes', Array.from({ length: 12 }, () => 'p'.repeat(100)).join('/')],
    ['a temp-file name', '.tandem-tmp-0123456789abcdef'],
  ]
  const nameOf = (name: string) =>
    name === '<absolute sentinel>' ? path.join(base, 'sentinel.txt') : name

  it.each(badNames)('refuses %s in every operation with ERR_BAD_PATH', async (_label, raw) => {
    const name = nameOf(raw)
    const replies = await Promise.all([
      attacker.download(name),
      attacker.stat(name),
      attacker.upload(name, Buffer.from('evil')),
      attacker.create(name, Buffer.from('evil')),
      attacker.write(name, Buffer.from('evil')),
      attacker.append(name, Buffer.from('evil')),
      attacker.delete(name),
      attacker.rename(name, 'stolen.txt'),
      attacker.rename('inside.txt', name),
    ])
    expect(replies.map((r) => r.error?.code)).toEqual(replies.map(() => 'ERR_BAD_PATH'))
    expect(replies.some((r) => r.body !== undefined)).toBe(false)
    await bystanderServed()
  })

  it('refuses reading and writing through a symlink that leads out', async () => {
    const replies = await Promise.all([
      attacker.download('file-link'),
      attacker.stat('file-link'),
      attacker.upload('file-link', Buffer.from('evil')),
      attacker.write('file-link', Buffer.from('evil')),
      attacker.append('file-link', Buffer.from('evil')),
      attacker.download('dir-link/secret.txt'),
      attacker.upload('dir-link/new.txt', Buffer.from('evil')),
      attacker.create('dir-link/new.txt', Buffer.from('evil')),
      attacker.append('dir-link/secret.txt', Buffer.from('evil')),
      attacker.rename('inside.txt', 'dir-link/moved.txt'),
      attacker.rename('dir-link/secret.txt', 'taken.txt'),
      attacker.delete('dir-link/secret.txt'),
    ])
    expect(replies.map((r) => r.error?.code)).toEqual(replies.map(() => 'ERR_BAD_PATH'))
    await bystanderServed()
  })

  it('lists the links that lead out as links, and nothing behind them', async () => {
    const files = (await attacker.list()).result!.files
    expect(files.map((f) => f.name)).toContain('inside.txt')
    // The links are names in the root, shown as what they are: never their target's size or
    // anything under a linked folder.
    const links = files.filter((f) => f.name.includes('link') || f.name.includes('secret'))
    expect(links.map(({ name, kind, size }) => ({ name, kind, size }))).toEqual([
      { name: 'dir-link', kind: 'symlink', size: 0 },
      { name: 'file-link', kind: 'symlink', size: 0 },
    ])
  })

  it('keeps the connection in step after a refused body: the next request is served', async () => {
    const refused = attacker.upload('../x.txt', Buffer.alloc(600_000, 1))
    const ping = attacker.call('ping')
    expect((await refused).error?.code).toBe('ERR_BAD_PATH')
    expect((await ping).ok).toBe(true)
    await bystanderServed()
  })
})
