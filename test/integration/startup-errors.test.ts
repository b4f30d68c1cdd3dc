// `tandem serve` that cannot start: one line `error: ERR_…: message` on stderr, a non-zero exit,
// no stack trace and nothing before it that reads as if it served. Real server processes, real
// ports held by a real listener, real directories.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  canMountTmpfs,
  deadline,
  exitOf,
  registerCleanup,
  spawnServer,
  startServer,
  tempDir,
} from '../helpers/index.js'

function layout(): { root: string; stateDir: string } {
  const base = tempDir('tandem-startup-')
  const root = path.join(base, 'root')
  const stateDir = path.join(base, 'state')
  mkdirSync(root)
  mkdirSync(stateDir)
  return { root, stateDir }
}

/** A port on 127.0.0.1 that another program (this test) listens on. */
async function heldPort(): Promise<number> {
  const holder = net.createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  registerCleanup(() => new Promise<void>((resolve) => holder.close(() => resolve())))
  return (holder.address() as net.AddressInfo).port
}

/** Start a server that must fail; its exit status and everything it printed. */
async function failedStart(
  dirs: { root: string; stateDir: string },
  extraArgs: string[] = [],
  http = false,
): Promise<{ code: number | null; output: string }> {
  const server = spawnServer({ ...dirs, extraArgs, http })
  const code = await deadline(exitOf(server.proc), 20_000, 'the server to give up')
  return { code, output: server.output() }
}

const ONE_ERROR_LINE = /^error: (ERR_[A-Z_]+): [^\n]+\n$/

describe('serve: startup errors', () => {
  it.each([
    ['control', '--port', 'the control port'],
    ['file-exchange', '--sync-port', 'the file-exchange port'],
    ['HTTP', '--http-port', 'the HTTP port'],
  ])('a %s port in use: ERR_PORT_IN_USE naming the port and its option', async (_, flag, what) => {
    const port = await heldPort()
    const { code, output } = await failedStart(
      layout(),
      [flag, String(port)],
      flag === '--http-port',
    )
    expect(code).toBe(1)
    expect(output).toMatch(ONE_ERROR_LINE)
    expect(output).toContain(`error: ERR_PORT_IN_USE: ${what} 127.0.0.1:${port} is already in use`)
    expect(output).toContain(`with ${flag}`)
  })

  it('a data directory it cannot write: ERR_PERMISSION', async (t) => {
    const dirs = layout()
    if (canMountTmpfs()) {
      // As root a chmod does not stop writes; a read-only file system does.
      const { execFileSync } = await import('node:child_process')
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dirs.root])
      registerCleanup(() => {
        execFileSync('umount', ['-l', dirs.root])
      })
    } else if (process.getuid?.() !== 0) {
      chmodSync(dirs.root, 0o500)
      registerCleanup(() => chmodSync(dirs.root, 0o700))
    } else {
      t.skip() // root without mount: no honest way to make a directory unwritable here
    }
    const { code, output } = await failedStart(dirs)
    expect(code).toBe(1)
    expect(output).toMatch(ONE_ERROR_LINE)
    expect(output).toMatch(
      new RegExp(
        `^error: ERR_PERMISSION: cannot use ${dirs.root} as the data directory \\(--root\\): `,
      ),
    )
  })

  it('a data directory that is a file: ERR_BAD_PATH', async () => {
    const dirs = layout()
    const file = path.join(path.dirname(dirs.root), 'a-file')
    writeFileSync(file, 'x')
    const { code, output } = await failedStart({ ...dirs, root: file })
    expect(code).toBe(1)
    expect(output).toMatch(ONE_ERROR_LINE)
    expect(output).toContain(`error: ERR_BAD_PATH: cannot use ${file} as the data directory`)
  })

  it('a root or a state directory another server uses: ERR_STATE_LOCKED, the first unharmed', async () => {
    const dirs = layout()
    const first = await startServer(dirs)
    // The same root (with the same state, or another); then another root on the same state.
    const otherState = path.join(path.dirname(dirs.root), 'other-state')
    const otherRoot = path.join(path.dirname(dirs.root), 'other-root')
    mkdirSync(otherRoot)
    for (const [attempt, locked] of [
      [dirs, `the data directory ${dirs.root}`],
      [{ ...dirs, stateDir: otherState }, `the data directory ${dirs.root}`],
      [{ ...dirs, root: otherRoot }, `the state directory ${dirs.stateDir}`],
    ] as const) {
      const { code, output } = await failedStart(attempt)
      expect(code).toBe(3)
      expect(output).toMatch(ONE_ERROR_LINE)
      expect(output).toContain(
        `error: ERR_STATE_LOCKED: ${locked} is already used by another tandem server`,
      )
    }
    expect(first.output()).toMatch(/listening on/)
    expect(first.proc.exitCode).toBeNull()
  })

  it('a bad option: ERR_USAGE and status 2', async () => {
    for (const extra of [['--bogus'], ['--max-clients', '0']]) {
      const { code, output } = await failedStart(layout(), extra)
      expect([extra, code]).toEqual([extra, 2])
      expect(output).toMatch(ONE_ERROR_LINE)
      expect(output).toMatch(/^error: ERR_USAGE: /)
    }
  })
})
