// A numeric remote argument is a listing index in cat and create/write/append (and --name makes
// it a name), checked against the listing ls printed: the built CLI against a real server.
import { existsSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/index.js'
import { CLI_BIN, cliAs, errorCode } from './run-cli.js'

beforeAll(() => {
  if (!existsSync(CLI_BIN))
    throw new Error('dist/bin/tandem.js is missing: run `npm run build` first')
})

async function setup(files: string[]) {
  const server = await startServer({ name: 'A' })
  const { tandem } = cliAs(server.address, 'cli-targets')
  for (const name of files)
    expect((await tandem(['create', '--name', name, '--text', name])).code).toBe(0)
  return { tandem }
}

describe('remote arguments: index or name', () => {
  it('cat and append read an index from ls; --name reads the number as a name', async () => {
    const { tandem } = await setup(['2024', 'b.txt'])
    expect((await tandem(['ls'])).code).toBe(0)
    expect((await tandem(['cat', '1'])).stdout.toString()).toBe('b.txt')
    expect((await tandem(['cat', '0'])).stdout.toString()).toBe('2024')
    expect((await tandem(['append', '1', '--text', '+'])).stdout.toString()).toBe(
      'appended to b.txt (now 6 B)\n',
    )
    expect((await tandem(['cat', '--name', '2024'])).stdout.toString()).toBe('2024')
    const noFile = await tandem(['cat', '--name', '1'])
    expect([noFile.code, errorCode(noFile)]).toEqual([1, 'ERR_NOT_FOUND'])
    // create with an index names an existing file: ERR_EXISTS, nothing changed.
    const exists = await tandem(['create', '0', '--text', 'x'])
    expect([exists.code, errorCode(exists)]).toEqual([1, 'ERR_EXISTS'])
    expect(exists.stderr).toContain("'2024'")
  })

  it('refuses an index that moved since ls, naming both files, and changes nothing', async () => {
    const { tandem } = await setup(['b.txt', 'c.txt'])
    expect((await tandem(['ls'])).code).toBe(0)
    expect((await tandem(['create', 'a.txt', '--text', 'a'])).code).toBe(0)
    const stale = await tandem(['write', '1', '--text', 'oops'])
    expect([stale.code, errorCode(stale)]).toEqual([1, 'ERR_LISTING_CHANGED'])
    expect(stale.stderr).toContain("ls showed 'c.txt' at index 1, now it is 'b.txt'")
    expect((await tandem(['cat', 'b.txt'])).stdout.toString()).toBe('b.txt')
    expect((await tandem(['cat', 'c.txt'])).stdout.toString()).toBe('c.txt')
    // After listing again the same index is fine.
    expect((await tandem(['ls'])).code).toBe(0)
    expect((await tandem(['cat', '1'])).stdout.toString()).toBe('b.txt')
  })

  it('says how long the listing is for an index past its end; a huge number is a usage error', async () => {
    const { tandem } = await setup(['only.txt'])
    const past = await tandem(['cat', '5'])
    expect([past.code, past.stderr]).toEqual([
      1,
      'error: ERR_NOT_FOUND: no file at index 5 (the listing has 1 file; indices start at 0)\n',
    ])
    const create = await tandem(['create', '7', '--text', 'x'])
    expect([create.code, create.stderr]).toEqual([
      1,
      "error: ERR_NOT_FOUND: no file at index 7 (the listing has 1 file; indices start at 0); to create a file named '7', use --name\n",
    ])
    const huge = await tandem(['cat', '123456789012345678901234'])
    expect([huge.code, errorCode(huge)]).toEqual([2, 'ERR_USAGE'])
  })
})
