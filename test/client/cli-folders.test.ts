// put/get/rm/mv by cp's rules, through the built CLI against real servers in temp dirs: how the
// last argument reads, folders both ways (compared by SHA-256), --no-clobber, rm -r at two servers.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { FileRow } from '../../src/protocol/index.js'
import { startCluster, startServer, tempDir, waitFor, type ServerHandle } from '../helpers/index.js'
import { CLI_BIN, errorCode, runCli, type CliOptions } from './run-cli.js'

let server: ServerHandle
let configHome: string

beforeAll(async () => {
  if (!existsSync(CLI_BIN))
    throw new Error('dist/bin/tandem.js is missing: run `npm run build` first')
  server = await startServer({ name: 'A' })
  configHome = tempDir('tandem-cli-config-')
})

function tandem(args: readonly string[], options: CliOptions & { at?: string } = {}) {
  const env = {
    TANDEM_SERVER: options.at ?? server.address,
    TANDEM_CLIENT_ID: 'cli-folders',
    XDG_CONFIG_HOME: configHome,
    ...options.env,
  }
  return runCli(args, { ...options, env })
}

async function json<T>(args: readonly string[], options: CliOptions & { at?: string } = {}) {
  const run = await tandem([...args, '--json'], options)
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout.toString('utf8')) as T
}

const names = async (prefix: string): Promise<string[]> =>
  (await json<FileRow[]>(['ls'])).map((r) => r.name).filter((n) => n.startsWith(prefix))

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await fs.writeFile(path.join(root, name), content)
  }
}

/** relative path → SHA-256 of every file under root (temp files would show up here too). */
async function hashTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    out[path.relative(root, full).split(path.sep).join('/')] = sha256(await fs.readFile(full))
  }
  return out
}

describe('put: the last argument is the destination on the server', () => {
  it('put FILE .. is ERR_BAD_PATH and uploads nothing, even with a local parent folder', async () => {
    const dir = tempDir()
    await writeTree(dir, { 'sub/notes.txt': 'n' })
    const before = await names('')
    for (const dest of ['..', '../x', 'a/../../b', '/etc/x']) {
      const run = await tandem(['put', 'notes.txt', dest], { cwd: path.join(dir, 'sub') })
      expect([run.code, errorCode(run)]).toEqual([1, 'ERR_BAD_PATH'])
    }
    expect(await names('')).toEqual(before)
  })

  it('put a b with a local b stores one file named b', async () => {
    const dir = tempDir()
    await writeTree(dir, { 'p1/a': 'AAA', 'p1/b': 'BB' })
    const result = await json<{ files: { name: string }[] }>(['put', 'a', 'b'], {
      cwd: path.join(dir, 'p1'),
    })
    expect(result.files.map((f) => f.name)).toEqual(['b'])
    expect((await tandem(['cat', 'b'])).stdout.toString()).toBe('AAA')
  })

  it('a trailing / or an existing folder on the server means inside; several go into a folder', async () => {
    const dir = tempDir()
    await writeTree(dir, { 'a.txt': 'a', 'b.txt': 'b', 'photos/x.jpg': 'x' })
    const put = (args: string[]) =>
      json<{ files: { name: string }[] }>(['put', ...args], { cwd: dir })
    const stored = async (args: string[]) => (await put(args)).files.map((f) => f.name).sort()
    expect(await stored(['a.txt', 'in1/'])).toEqual(['in1/a.txt'])
    expect(await stored(['a.txt', 'b.txt', 'in2/'])).toEqual(['in2/a.txt', 'in2/b.txt'])
    expect(await stored(['a.txt', 'b.txt', 'in3'])).toEqual(['in3/a.txt', 'in3/b.txt'])
    // in1 is a folder on the server now: a plain `in1` is inside it too.
    expect(await stored(['b.txt', 'in1'])).toEqual(['in1/b.txt'])
    // A new name for a folder renames its top; `/` is the root.
    expect(await stored(['photos', 'pics'])).toEqual(['pics/x.jpg'])
    expect(await stored(['photos', 'in1'])).toEqual(['in1/photos/x.jpg'])
    expect(await stored(['a.txt', '/'])).toEqual(['a.txt'])
  })
})

describe('get: folders, several sources, --no-clobber', () => {
  it('round-trips a folder tree: put FOLDER, get FOLDER, equal SHA-256 per file, no temp file', async () => {
    const dir = tempDir()
    const files: Record<string, Buffer> = {}
    for (let i = 0; i < 40; i++) files[`tree/d${i % 4}/f${i}.bin`] = randomBytes(1000 + i * 997)
    files['tree/big.bin'] = randomBytes(3 * 1024 * 1024)
    files['tree/deep/er/still/x.txt'] = Buffer.from('x')
    await writeTree(path.join(dir, 'src'), files)
    expect((await tandem(['put', path.join(dir, 'src', 'tree'), 'rt/'])).code).toBe(0)
    const out = path.join(dir, 'out')
    await fs.mkdir(out)
    const got = await json<{ files: { name: string; path: string }[]; bytes: number; skipped: [] }>(
      ['get', 'rt/tree'],
      { cwd: out },
    )
    expect(got.files).toHaveLength(Object.keys(files).length)
    expect(got.skipped).toEqual([])
    expect(got.bytes).toBe(Object.values(files).reduce((s, b) => s + b.length, 0))
    expect(await hashTree(path.join(out, 'tree'))).toEqual(
      await hashTree(path.join(dir, 'src', 'tree')),
    )
    expect(await fs.readdir(out)).toEqual(['tree'])
    // Into a new name, and into an existing folder (then inside it, under its base name).
    await json(['get', 'rt/tree', path.join(dir, 'renamed')])
    expect(await hashTree(path.join(dir, 'renamed'))).toEqual(
      await hashTree(path.join(dir, 'src', 'tree')),
    )
    await json(['get', 'rt/tree', out])
    expect(await fs.readdir(path.join(out, 'tree'))).toContain('big.bin')
  })

  it('gets several sources (names and a folder) into a folder it makes, and / gets everything', async () => {
    const dir = tempDir()
    await writeTree(dir, { 'm/one.txt': '1', 'm/two.txt': '22', 'm/sub/three.txt': '333' })
    expect((await tandem(['put', path.join(dir, 'm'), 'multi'])).code).toBe(0)
    const dest = path.join(dir, 'made', 'here')
    const got = await json<{ files: { path: string }[] }>([
      'get',
      'multi/one.txt',
      'multi/sub',
      dest,
    ])
    expect(got.files.map((f) => f.path).sort()).toEqual(
      [path.join(dest, 'one.txt'), path.join(dest, 'sub', 'three.txt')].sort(),
    )
    expect(await fs.readFile(path.join(dest, 'sub', 'three.txt'), 'utf8')).toBe('333')
    const all = path.join(dir, 'all')
    await json(['get', '/', all])
    expect(await fs.readFile(path.join(all, 'multi', 'two.txt'), 'utf8')).toBe('22')
    const missing = await tandem(['get', 'multi/nothing', path.join(dir, 'x')])
    expect([missing.code, errorCode(missing)]).toEqual([1, 'ERR_NOT_FOUND'])
    expect(existsSync(path.join(dir, 'x'))).toBe(false)
  })

  it('replaces existing local files, or keeps them with --no-clobber and says so', async () => {
    const dir = tempDir()
    await writeTree(dir, { 'nc/a.txt': 'new a', 'nc/b.txt': 'new b' })
    expect((await tandem(['put', path.join(dir, 'nc'), 'noclob'])).code).toBe(0)
    const out = tempDir()
    await writeTree(out, { 'noclob/a.txt': 'old a' })
    const kept = await json<{
      files: { name: string }[]
      skipped: { name: string; path: string; reason: string }[]
    }>(['get', 'noclob', '--no-clobber'], { cwd: out })
    expect(kept.files.map((f) => f.name)).toEqual(['noclob/b.txt'])
    expect(kept.skipped).toEqual([
      { name: 'noclob/a.txt', path: path.join('noclob', 'a.txt'), reason: 'exists' },
    ])
    expect(await fs.readFile(path.join(out, 'noclob', 'a.txt'), 'utf8')).toBe('old a')
    const human = await tandem(['get', 'noclob', '-n'], { cwd: out })
    expect(human.stdout.toString()).toContain(`kept ${path.join('noclob', 'a.txt')}`)
    expect((await tandem(['get', 'noclob'], { cwd: out })).code).toBe(0)
    expect(await fs.readFile(path.join(out, 'noclob', 'a.txt'), 'utf8')).toBe('new a')
  })
})

describe('listing indices', () => {
  it('get N and rm N take the file at index N of the last ls; --name makes N a name', async () => {
    await tandem(['create', '00idx.txt', '--text', 'by index'])
    expect((await tandem(['create', '--name', '7', '--text', 'named seven'])).code).toBe(0)
    const rows = await json<FileRow[]>(['ls'])
    const index = rows.findIndex((r) => r.name === '00idx.txt')
    const out = tempDir()
    const got = await json<{ files: { name: string }[] }>(['get', String(index)], { cwd: out })
    expect(got.files.map((f) => f.name)).toEqual(['00idx.txt'])
    expect(await fs.readFile(path.join(out, '00idx.txt'), 'utf8')).toBe('by index')
    await json(['get', '7', '--name'], { cwd: out })
    expect(await fs.readFile(path.join(out, '7'), 'utf8')).toBe('named seven')
    expect(await json(['rm', String(index)])).toEqual({ name: '00idx.txt' })
    expect(await json(['rm', '--name', '7'])).toEqual({ name: '7' })
  })
})

describe('rm and mv', () => {
  it('rm several names; mv into a folder with a trailing /', async () => {
    for (const n of ['rm1/a', 'rm1/b', 'rm1/c']) await tandem(['create', n, '--text', n])
    expect(await json(['rm', 'rm1/a', 'rm1/b'])).toEqual([{ name: 'rm1/a' }, { name: 'rm1/b' }])
    expect(await json(['mv', 'rm1/c', 'rm2/'])).toMatchObject({ from: 'rm1/c', to: 'rm2/c' })
    expect(await names('rm')).toEqual(['rm2/c'])
  })

  it('mv FOLDER renames it at both servers; rm FOLDER is ERR_IS_DIRECTORY; rm -r removes it at both', async () => {
    const [a, b] = await startCluster(2)
    for (const n of ['tree/x.txt', 'tree/sub/y.txt', 'keep.txt'])
      expect((await tandem(['create', n, '--text', n], { at: a.address })).code).toBe(0)
    await waitFor(() => existsSync(path.join(b.root, 'tree', 'sub', 'y.txt')), {
      what: 'the tree at B',
    })
    const moved = await json(['mv', 'tree', 'moved/'], { at: a.address })
    expect(moved).toMatchObject({ from: 'tree', to: 'moved/tree', files: 2, folder: true })
    await waitFor(() => existsSync(path.join(b.root, 'moved', 'tree', 'sub', 'y.txt')), {
      what: 'the renamed tree at B',
    })
    await waitFor(() => !existsSync(path.join(b.root, 'tree', 'x.txt')), {
      what: 'the old names gone at B',
    })
    const refused = await tandem(['rm', 'moved/tree'], { at: a.address })
    expect([refused.code, errorCode(refused)]).toEqual([1, 'ERR_IS_DIRECTORY'])
    expect(refused.stderr).toContain('rm -r')
    const done = await json(['rm', '-r', 'moved/tree'], { at: a.address })
    expect(done).toMatchObject({ name: 'moved/tree', files: 2, folder: true })
    await waitFor(() => !existsSync(path.join(b.root, 'moved', 'tree', 'x.txt')), {
      what: 'the tree gone at B',
    })
    await waitFor(() => !existsSync(path.join(b.root, 'moved', 'tree', 'sub', 'y.txt')), {
      what: 'all of the tree gone at B',
    })
    expect(existsSync(path.join(a.root, 'moved', 'tree', 'sub', 'y.txt'))).toBe(false)
    expect(readFileSync(path.join(b.root, 'keep.txt'), 'utf8')).toBe('keep.txt')
    const human = await tandem(['rm', '-r', 'keep.txt'], { at: a.address })
    expect(human.stdout.toString()).toBe('deleted keep.txt\n')
  })
})
