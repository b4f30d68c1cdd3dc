// User locks on the command line, end to end: the built executable against a real server on
// port 0, with its own config dir (where `ls` remembers the listing that `lock INDEX` checks).
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import type { FileRow, StatusResult, UnlockResult, UserLock } from '../../src/protocol/index.js'
import { startCluster, startServer, tempDir, waitFor } from '../helpers/index.js'
import { waitLock } from '../locks/lock-helpers.js'
import { CLI_BIN, cliAs, errorCode, runCli } from './run-cli.js'

beforeAll(() => {
  if (!existsSync(CLI_BIN))
    throw new Error('dist/bin/tandem.js is missing: run `npm run build` first')
})

/** A server of its own with `files`, and the CLI talking to it as client 'cli-test'. */
async function setup(files: string[]) {
  const server = await startServer({ name: 'A' })
  const { tandem } = cliAs(server.address, 'cli-test')
  const json = async <T>(args: readonly string[], clientId = 'cli-test'): Promise<T> => {
    const run = await tandem([...args, '--json'], { env: { TANDEM_CLIENT_ID: clientId } })
    expect([run.code, run.stderr]).toEqual([0, ''])
    return JSON.parse(run.stdout.toString('utf8')) as T
  }
  for (const name of files)
    expect((await tandem(['create', '--name', name, '--text', name])).code).toBe(0)
  const row = async (name: string): Promise<FileRow> => {
    const found = (await json<FileRow[]>(['ls'])).find((r) => r.name === name)
    if (!found) throw new Error(`${name} is not listed`)
    return found
  }
  const locks = async (): Promise<UserLock[]> => (await json<StatusResult>(['status'])).locks
  return { tandem, json, row, locks }
}

describe('lock and unlock', () => {
  it('locks by the index ls showed, lists the owner, refuses other writers, and unlocks', async () => {
    const { tandem, json, row, locks } = await setup(['a.txt', 'plan.txt', 'z.txt'])
    const { index } = await row('plan.txt') // ls --json remembers the listing too
    expect(index).toBe(1)
    const locked = await tandem(['lock', String(index)])
    expect([locked.code, locked.stdout.toString()]).toEqual([
      0,
      'locked plan.txt at A (until unlocked)\n',
    ])
    expect(await row('plan.txt')).toMatchObject({
      locked: true,
      locks: [{ name: 'plan.txt', server: 'A', owner: 'cli-test', expiresAt: null, queued: 0 }],
    })
    expect((await tandem(['ls'])).stdout.toString()).toMatch(/1\s+plan\.txt\s.*\scli-test@A\n/)
    expect(await locks()).toMatchObject([{ name: 'plan.txt', owner: 'cli-test' }])
    const other = await tandem(['append', 'plan.txt', '--text', 'x'], {
      env: { TANDEM_CLIENT_ID: 'someone-else' },
    })
    expect([other.code, errorCode(other)]).toEqual([1, 'ERR_LOCKED'])
    expect(await json<UnlockResult>(['unlock', String(index)])).toEqual({
      name: 'plan.txt',
      owner: 'cli-test',
      forced: false,
      applied: 0,
      conflicts: 0,
    })
    expect(await row('plan.txt')).toMatchObject({ locked: false, locks: [] })
    expect(await locks()).toEqual([])
  })

  it("accepts the original tool's -lock -0 and -unlock -0, and a --ttl", async () => {
    const { tandem, json, row } = await setup(['first.txt', 'second.txt'])
    await tandem(['ls'])
    const before = Date.now()
    const lock = await json<UserLock>(['-lock', '-0', '--ttl', '600'])
    expect(lock).toMatchObject({ name: 'first.txt', server: 'A', owner: 'cli-test' })
    expect(lock.expiresAt! - before).toBeGreaterThanOrEqual(590_000)
    expect(lock.expiresAt! - before).toBeLessThanOrEqual(610_000)
    expect((await row('first.txt')).locked).toBe(true)
    const unlocked = await tandem(['-unlock', '-0'])
    expect([unlocked.code, unlocked.stdout.toString()]).toEqual([
      0,
      'unlocked first.txt at A: no queued updates\n',
    ])
    expect((await row('first.txt')).locked).toBe(false)
  })

  it('refuses an index whose file changed since ls with ERR_LISTING_CHANGED, and locks nothing', async () => {
    const { tandem, locks } = await setup(['m.txt', 'n.txt'])
    expect((await tandem(['ls'])).code).toBe(0) // m.txt is 0
    expect((await tandem(['create', 'a.txt', '--text', 'a'])).code).toBe(0) // now m.txt is 1
    const stale = await tandem(['lock', '0'])
    expect([stale.code, errorCode(stale)]).toEqual([1, 'ERR_LISTING_CHANGED'])
    const staleUnlock = await tandem(['unlock', '1'])
    expect([staleUnlock.code, errorCode(staleUnlock)]).toEqual([1, 'ERR_LISTING_CHANGED'])
    expect(await locks()).toEqual([])
    // Listed again, the same index names what the person now sees.
    await tandem(['ls'])
    expect((await tandem(['lock', '0'])).code).toBe(0)
    expect(await locks()).toMatchObject([{ name: 'a.txt' }])
  })

  it("refuses another client's unlock with ERR_NOT_OWNER; --force releases it", async () => {
    const { tandem, json, locks } = await setup(['plan.txt'])
    expect((await tandem(['lock', 'plan.txt'])).code).toBe(0)
    const intruder = { env: { TANDEM_CLIENT_ID: 'intruder' } }
    const refused = await tandem(['unlock', 'plan.txt'], intruder)
    expect([refused.code, errorCode(refused)]).toEqual([1, 'ERR_NOT_OWNER'])
    const again = await tandem(['lock', 'plan.txt'], intruder)
    expect([again.code, errorCode(again)]).toEqual([1, 'ERR_LOCKED'])
    expect(await locks()).toMatchObject([{ name: 'plan.txt', owner: 'cli-test' }])
    const forced = await json<UnlockResult>(['unlock', 'plan.txt', '--force'], 'intruder')
    expect(forced).toMatchObject({ name: 'plan.txt', owner: 'cli-test', forced: true })
    expect(await locks()).toEqual([])
  })

  it('refuses a lock of a missing name with ERR_NOT_FOUND; --name makes a number a name', async () => {
    const { tandem, locks } = await setup(['7', 'x.txt'])
    const missing = await tandem(['lock', 'nope.txt'])
    expect([missing.code, errorCode(missing)]).toEqual([1, 'ERR_NOT_FOUND'])
    expect((await tandem(['lock', '7', '--name'])).code).toBe(0)
    expect(await locks()).toMatchObject([{ name: '7' }])
  })

  it("shows what waits: peers' updates queued at A in ls and status, applied by unlock", async () => {
    const [a, b] = await startCluster(2)
    const configHome = tempDir('tandem-cli-config-')
    const at = (server: typeof a, args: string[]) =>
      runCli(args, {
        env: {
          TANDEM_SERVER: server.address,
          TANDEM_CLIENT_ID: 'cli-test',
          XDG_CONFIG_HOME: configHome,
        },
      })
    await a.write('plan.txt', 'v0\n')
    await waitFor(async () => (await b.list()).some((r) => r.name === 'plan.txt'), {
      what: 'B to list plan.txt',
    })
    expect((await at(a, ['ls'])).code).toBe(0)
    expect((await at(a, ['lock', '0'])).code).toBe(0)
    await waitLock(b, 'plan.txt', 'A') // B knows of the lock before it changes the file
    for (const line of ['v1\n', 'v2\n'])
      expect((await at(b, ['append', 'plan.txt', '--text', line])).code).toBe(0)
    await waitLock(a, 'plan.txt', 'A', 2)
    expect((await at(a, ['ls'])).stdout.toString()).toMatch(
      /0\s+plan\.txt\s.*\scli-test@A \(2 queued\)\n/,
    )
    expect((await at(b, ['ls'])).stdout.toString()).toMatch(/0\s+plan\.txt\s.*\scli-test@A/)
    expect((await at(a, ['status'])).stdout.toString()).toMatch(
      /^\s+plan\.txt\s+cli-test\s+A\s+\S+\s+when unlocked\s+2$/m,
    )
    const unlocked = await at(a, ['unlock', '0'])
    expect([unlocked.code, unlocked.stdout.toString()]).toEqual([
      0,
      'unlocked plan.txt at A: 2 queued updates applied\n',
    ])
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('v0\nv1\nv2\n')
  })
})
