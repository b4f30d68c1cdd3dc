// `rm 1 3` deletes the files ls showed at indices 1 and 3: every index is read in one listing
// before anything is deleted, so the first deletion cannot shift what the second index names,
// with a remembered ls or without one.
import { existsSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { startServer, tempDir } from '../helpers/index.js'
import { CLI_BIN, runCli } from './run-cli.js'

beforeAll(() => {
  if (!existsSync(CLI_BIN))
    throw new Error('dist/bin/tandem.js is missing: run `npm run build` first')
})

const FILES = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt']

async function setup() {
  const server = await startServer({ name: 'A' })
  const tandem = (args: readonly string[], configHome = tempDir('tandem-cli-config-')) =>
    runCli(args, {
      env: {
        TANDEM_SERVER: server.address,
        TANDEM_CLIENT_ID: 'review-rm',
        XDG_CONFIG_HOME: configHome,
      },
    })
  for (const name of FILES) expect((await tandem(['create', name, '--text', name])).code).toBe(0)
  const names = async () =>
    (JSON.parse((await tandem(['--json', 'ls'])).stdout.toString()) as { name: string }[]).map(
      (r) => r.name,
    )
  return { tandem, names }
}

describe('review i11: rm with several indices', () => {
  it('rm 1 3 after ls deletes what ls showed at 1 and 3', async () => {
    const { tandem, names } = await setup()
    const config = tempDir('tandem-cli-config-')
    expect((await tandem(['ls'], config)).code).toBe(0)
    const run = await tandem(['rm', '1', '3'], config)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(await names()).toEqual(['a.txt', 'c.txt', 'e.txt'])
  })

  it('rm 1 3 without a remembered ls never deletes a file it was not given', async () => {
    const { tandem, names } = await setup()
    // The listing as the person saw it (another machine's ls, the web page): b.txt at 1, d.txt at 3.
    expect(await names()).toEqual(FILES)
    // A config directory with no ls remembered for this server.
    const run = await tandem(['rm', '1', '3'], tempDir('tandem-cli-config-fresh-'))
    expect(run.code).toBe(0)
    // e.txt (index 4 before the command) must never be deleted.
    expect(await names()).toEqual(['a.txt', 'c.txt', 'e.txt'])
  })
})
