// Files made straight on a server's disk with names tandem cannot serve (an escape sequence, a
// newline) are shown escaped by every human output and never mirrored: A's `ls` shows them
// escaped, one row each, and `ls --json` exactly; A's console says once, escaped, that they are
// not mirrored; B never receives an entry for them, while an ordinary file still arrives.
import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FileRow } from '../../src/protocol/index.js'
import { runCli } from '../client/run-cli.js'
import {
  startCluster,
  startServer,
  tempDir,
  waitFor,
  type ClusterServer,
} from '../helpers/index.js'

const ESC_NAME = 'x\x1b[31mRED\x1b[0m'
const ESC_SHOWN = 'x\\x1b[31mRED\\x1b[0m'
const NL_NAME = 'disk\nnewline'
const NL_SHOWN = 'disk\\nnewline'

/** Wait until `server`'s console has a line containing `text`. */
function consoleLine(server: ClusterServer, text: string): Promise<string> {
  return waitFor(
    () =>
      server
        .output()
        .split('\n')
        .find((line) => line.includes(text)),
    {
      timeoutMs: 20_000,
      what: `${server.name}'s console to say ${JSON.stringify(text)}`,
    },
  )
}

describe('names that cannot be served', () => {
  it('are shown escaped, listed exactly in --json, and never sent to peers', async () => {
    const [a, b] = await startCluster(2)
    await a.write(ESC_NAME, 'escape\n')
    await a.write(NL_NAME, 'newline\n')
    await a.write('plain.txt', 'ordinary\n')
    await waitFor(() => existsSync(b.file('plain.txt')), { what: 'plain.txt to reach B' })

    // A's console: each reported once, escaped; no raw escape, no line split by the name.
    await consoleLine(a, `not mirrored: '${ESC_SHOWN}'`)
    await consoleLine(a, `not mirrored: '${NL_SHOWN}'`)

    // Entries go in order: once a later file is on B, B has seen all A indexed before it.
    await a.write('marker.txt', 'after\n')
    await consoleLine(b, 'pulled marker.txt from A')
    expect(b.output()).not.toContain('ignored an invalid entry')
    const onB = await b.list()
    expect(onB.map((row) => row.name)).toEqual(['marker.txt', 'plain.txt'])
    expect(onB.find((row) => row.name === 'plain.txt')?.servers).toEqual(['A', 'B'])

    const shownByA = a.output()
    expect(shownByA).not.toContain('\x1b')
    expect(shownByA).not.toContain(NL_NAME)
    for (const shown of [ESC_SHOWN, NL_SHOWN])
      expect(shownByA.split(`not mirrored: '${shown}'`)).toHaveLength(2)

    // A's `ls`: one row per file, the names escaped.
    const ls = await runCli(['--server', a.address, 'ls'])
    expect(ls.code).toBe(0)
    const text = ls.stdout.toString('utf8')
    expect(text).not.toContain('\x1b')
    const lines = text.trimEnd().split('\n')
    expect(lines).toHaveLength(6) // the header, four files, the total
    expect(lines.slice(1, 5).every((line) => /^\s*\d+ {2}/.test(line))).toBe(true)
    expect(text).toContain(ESC_SHOWN)
    expect(text).toContain(NL_SHOWN)

    // `ls --json`: valid JSON, the real names; A holds them, B does not.
    const json = await runCli(['--server', a.address, '--json', 'ls'])
    const rows = JSON.parse(json.stdout.toString('utf8')) as FileRow[]
    expect(rows.map((row) => row.name).sort()).toEqual(
      [ESC_NAME, NL_NAME, 'marker.txt', 'plain.txt'].sort(),
    )
    expect(rows.find((row) => row.name === ESC_NAME)?.servers).toEqual(['A'])
  }, 90_000)

  it("quotes such a name escaped in the client's error line", async () => {
    const server = await startServer()
    const local = path.join(tempDir('tandem-local-'), ESC_NAME)
    writeFileSync(local, 'escape\n')
    // A local file whose name cannot be stored: the error names it.
    const run = await runCli(['--server', server.address, 'put', local])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error: ERR_BAD_PATH: /)
    expect(run.stderr).not.toContain('\x1b')
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain(ESC_SHOWN)
  }, 60_000)
})
