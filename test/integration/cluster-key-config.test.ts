// Where the cluster key comes from: `--cluster-key FILE` (one trailing newline trimmed) or
// TANDEM_CLUSTER_KEY (the key itself; the flag wins). A key too short, or a file that cannot be
// read, stops the start with one line `error: ERR_USAGE: …` and exit status 2. Real processes.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { computeProof, newNonce } from '../../src/protocol/index.js'
import {
  deadline,
  exitOf,
  rawConnect,
  spawnServer,
  startServer,
  tempDir,
} from '../helpers/index.js'

const ONE_ERROR_LINE = /^error: (ERR_[A-Z_]+): [^\n]+\n$/
const KEY = 'a-key-from-the-environment-0123456789'
const FILE_KEY = 'a-key-from-the-file-0123456789abcdef'

function layout(): { root: string; stateDir: string; base: string } {
  const base = tempDir('tandem-key-config-')
  mkdirSync(path.join(base, 'root'))
  mkdirSync(path.join(base, 'state'))
  return { root: path.join(base, 'root'), stateDir: path.join(base, 'state'), base }
}

async function failedStart(extraArgs: string[], env: Record<string, string> = {}) {
  const server = spawnServer({ ...layout(), extraArgs, env })
  const code = await deadline(exitOf(server.proc), 20_000, 'the server to give up')
  return { code, output: server.output() }
}

/** Whether the server on `port` welcomes a peer that proves `key` (a refusal: its code). */
async function acceptsKey(port: number, key: string): Promise<string> {
  const conn = await rawConnect(port)
  const nonce = newNonce()
  await conn.sendPreamble()
  await conn.sendControl({ type: 'hello', role: 'peer', id: 'Z', nonce })
  const challenge = await conn.nextControl()
  if (challenge.type !== 'challenge') return String((challenge.error as { code: string }).code)
  const proof = computeProof(key, 'connector', {
    channel: 'control',
    connector: 'Z',
    acceptor: String(challenge.server),
    connectorNonce: nonce,
    acceptorNonce: String(challenge.nonce),
  })
  await conn.sendControl({ type: 'proof', proof })
  const answer = await conn.nextControl()
  conn.destroy()
  return answer.type === 'welcome' ? 'welcome' : String((answer.error as { code: string }).code)
}

describe('serve --cluster-key', () => {
  it('a key shorter than 16 bytes: ERR_USAGE, one line, exit 2, saying how to make one', async () => {
    const { base } = layout()
    const file = path.join(base, 'short.key')
    writeFileSync(file, 'fifteen-bytes!!\n')
    for (const run of [
      () => failedStart(['--cluster-key', file]),
      () => failedStart([], { TANDEM_CLUSTER_KEY: 'short' }),
    ]) {
      const { code, output } = await run()
      expect(code).toBe(2)
      expect(output).toMatch(ONE_ERROR_LINE)
      expect(output).toContain('error: ERR_USAGE: ')
      expect(output).toContain('head -c 32 /dev/urandom | base64')
    }
  })

  it('a key file that cannot be read: ERR_USAGE, exit 2', async () => {
    const { code, output } = await failedStart(['--cluster-key', '/nonexistent/cluster.key'])
    expect(code).toBe(2)
    expect(output).toMatch(ONE_ERROR_LINE)
    expect(output).toContain('error: ERR_USAGE: ')
  })

  it('TANDEM_CLUSTER_KEY gives the key; --cluster-key FILE wins over it', async () => {
    const fromEnv = await startServer({ env: { TANDEM_CLUSTER_KEY: KEY } })
    expect(await acceptsKey(fromEnv.port, KEY)).toBe('welcome')
    expect(await acceptsKey(fromEnv.port, FILE_KEY)).toBe('ERR_AUTH')
    const { base } = layout()
    const file = path.join(base, 'cluster.key')
    writeFileSync(file, `${FILE_KEY}\n`) // the newline is not part of the key
    const fromFile = await startServer({
      env: { TANDEM_CLUSTER_KEY: KEY },
      extraArgs: ['--cluster-key', file],
    })
    expect(await acceptsKey(fromFile.port, FILE_KEY)).toBe('welcome')
    expect(await acceptsKey(fromFile.port, KEY)).toBe('ERR_AUTH')
    expect(fromFile.output()).not.toContain(FILE_KEY)
  }, 40_000)
})
