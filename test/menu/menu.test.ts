// The interactive menu in a real terminal (tmux), against a real server: what a person sees and
// what lands on the server's disk. Needs the tmux binary; skipped (saying so) without it.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, tempDir, TestClient, waitFor, type ServerHandle } from '../helpers/index.js'
import type { StatusResult } from '../../src/protocol/index.js'
import { choose, closeMenus, MENU, openMenu } from './menu-driver.js'
import { hasTmux, type Terminal } from './tmux.js'

const TMUX = hasTmux()
if (!TMUX) console.warn('test/menu: skipped, tmux is not installed (e.g. apt-get install tmux)')
const CLIENT_ID = 'menu-test'

afterEach(closeMenus)

/** Pick a file or path in a search list: type part of it, wait until it is highlighted, Enter. */
async function pick(
  term: Terminal,
  prompt: string,
  typed: string,
  highlighted: RegExp,
): Promise<void> {
  await term.waitFor(`? ${prompt}`)
  term.type(typed)
  // The whole term first: the terminal may pass the typed keys in two reads, and an Enter read
  // together with the last ones arrives while the search is still loading, which drops it.
  await term.waitFor(`? ${prompt} ${typed}`)
  await term.waitFor(highlighted)
  term.keys('Enter')
}

async function waitForExit(term: Terminal): Promise<number> {
  const { status } = await waitFor(
    () => {
      const status = term.exitStatus()
      return status === undefined ? undefined : { status }
    },
    { what: 'the menu to exit' },
  )
  return status
}

async function serverStatus(server: ServerHandle): Promise<StatusResult> {
  const client = await TestClient.connect(server.port, { clientId: 'menu-test-observer' })
  try {
    const reply = await client.call<StatusResult>('status')
    if (!reply.result) throw new Error(`status failed: ${JSON.stringify(reply.error)}`)
    return reply.result
  } finally {
    await client.close()
  }
}

async function connectedClients(server: ServerHandle): Promise<string[]> {
  return (await serverStatus(server)).clients.list.map((c) => c.clientId)
}

describe.skipIf(!TMUX)(
  `the interactive menu${TMUX ? '' : ' (skipped: tmux is not installed)'}`,
  () => {
    it('lists, uploads, downloads, renames and deletes, shows errors as one line, and exits', async () => {
      const server = await startServer()
      writeFileSync(path.join(server.root, 'notes.txt'), 'already here\n')
      const home = tempDir('tandem-menu-home-')
      mkdirSync(path.join(home, 'outbox'))
      const bytes = randomBytes(200_000)
      writeFileSync(path.join(home, 'outbox', 'report.bin'), bytes)
      const term = await openMenu(server, { cwd: home, clientId: CLIENT_ID })
      const header = await term.waitFor('client menu-test')
      expect(header).toContain('server A at 127.0.0.1:')

      await choose(term, 'List files')
      await term.waitFor(/0\s+notes\.txt\s+13 B\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+A\s+-/)

      // Upload: the local path completes from what is typed; the stored name defaults to its base.
      await choose(term, 'Upload a file or folder')
      await pick(term, 'Local file or folder to upload', 'outbox/rep', /❯ outbox\/report\.bin/)
      await term.waitFor('? Store it on the server as (report.bin)')
      term.keys('Enter')
      await term.waitFor('✔ Uploaded outbox/report.bin as report.bin (195 KiB')
      expect(readFileSync(path.join(server.root, 'report.bin')).equals(bytes)).toBe(true)

      await choose(term, 'List files')
      await term.waitFor(/1\s+report\.bin\s+195 KiB/)

      // Download to the default, ./report.bin in the menu's directory.
      await choose(term, 'Download a file or folder')
      await pick(term, 'File or folder to download', 'report', /❯ 1\s+report\.bin/)
      await term.waitFor('? Save it as (./report.bin)')
      term.keys('Enter')
      await term.waitFor('✔ Downloaded report.bin to ./report.bin (195 KiB')
      expect(readFileSync(path.join(home, 'report.bin')).equals(bytes)).toBe(true)

      // Rename report.bin, typing the new name over the pre-filled old one.
      const renameReportTo = async (newName: string): Promise<void> => {
        await choose(term, 'Rename a file or folder')
        await pick(term, 'File or folder to rename', 'report', /❯ 1\s+report\.bin/)
        await term.waitFor('? New name report.bin')
        term.keys('C-u')
        term.type(newName)
        term.keys('Enter')
      }

      // A refused rename is one line with its code, and the menu comes back.
      await renameReportTo('notes.txt')
      await term.waitFor('✖ ERR_EXISTS:')
      expect(readFileSync(path.join(server.root, 'notes.txt'), 'utf8')).toBe('already here\n')

      await renameReportTo('archive/report-2026.bin')
      await term.waitFor('✔ Renamed report.bin → archive/report-2026.bin')
      expect(existsSync(path.join(server.root, 'report.bin'))).toBe(false)
      expect(readFileSync(path.join(server.root, 'archive/report-2026.bin')).equals(bytes)).toBe(
        true,
      )

      // Delete asks first, and No is the default.
      await choose(term, 'Delete a file or folder')
      await pick(term, 'File or folder to delete', 'report', /❯ 0\s+archive\/report-2026\.bin/)
      await term.waitFor('This cannot be undone. (y/N)')
      term.type('y')
      term.keys('Enter')
      await term.waitFor('✔ Deleted archive/report-2026.bin')
      expect(existsSync(path.join(server.root, 'archive/report-2026.bin'))).toBe(false)

      await choose(term, 'Exit')
      expect(await waitForExit(term)).toBe(0)
      expect(term.screen()).toContain('Bye.')
    })

    it('connects again after the idle timeout closed its connection, and leaves on Ctrl+C', async () => {
      const server = await startServer({ extraArgs: ['--idle-timeout-ms', '1000'] })
      writeFileSync(path.join(server.root, 'kept.txt'), 'kept\n')
      const term = await openMenu(server, {
        cwd: tempDir('tandem-menu-home-'),
        clientId: CLIENT_ID,
      })
      await waitFor(async () => !(await connectedClients(server)).includes(CLIENT_ID), {
        what: 'the server to close the idle menu connection',
      })

      await choose(term, 'List files')
      await term.waitFor(/0\s+kept\.txt\s+5 B/)
      await term.waitFor(MENU)

      term.keys('C-c')
      expect(await waitForExit(term)).toBe(0)
      expect(term.screen()).toContain('Bye.')
    })

    it('locks a file picked from the listing, shows it locked, and unlocks it (forcing only when asked)', async () => {
      const server = await startServer()
      writeFileSync(path.join(server.root, 'alpha.txt'), 'alpha\n')
      writeFileSync(path.join(server.root, 'plan.txt'), 'plan\n')
      const term = await openMenu(server, {
        cwd: tempDir('tandem-menu-home-'),
        clientId: CLIENT_ID,
      })

      await choose(term, 'List files')
      await term.waitFor(/1\s+plan\.txt\s+5 B\s+\S+ \S+\s+A\s+-/)

      // Lock plan.txt: picked by typing part of its name; no time-to-live.
      await choose(term, 'Lock a file')
      await pick(term, 'File to lock', 'plan', /❯ 1\s+plan\.txt/)
      await term.waitFor('? Time to live')
      term.keys('Enter')
      await term.waitFor('✔ 🔒 Locked plan.txt at A (until unlocked)')
      expect((await serverStatus(server)).locks).toEqual([
        expect.objectContaining({
          name: 'plan.txt',
          server: 'A',
          owner: CLIENT_ID,
          expiresAt: null,
        }),
      ])

      await choose(term, 'List files')
      await term.waitFor(
        /Locked plan\.txt[\s\S]*1\s+plan\.txt\s+5 B\s+\S+ \S+\s+A\s+🔒 menu-test@A/,
      )

      // Another client's lock on alpha.txt: the menu asks before forcing it, and No keeps it.
      const other = await TestClient.connect(server.port, { clientId: 'someone-else' })
      try {
        expect((await other.call('lock', { name: 'alpha.txt' })).ok).toBe(true)
      } finally {
        await other.close()
      }
      await choose(term, 'Unlock a file')
      await pick(term, 'File to unlock', 'alpha', /❯ 0\s+alpha\.txt/)
      await term.waitFor('alpha.txt is locked by someone-else. Force the unlock? (y/N)')
      term.keys('Enter')
      await term.waitFor('Left alpha.txt locked.')

      // Unlock plan.txt, our own lock: no question asked.
      await choose(term, 'Unlock a file')
      await pick(term, 'File to unlock', 'plan', /❯ 1\s+plan\.txt/)
      await term.waitFor('✔ Unlocked plan.txt at A: no queued updates')
      const locks = (await serverStatus(server)).locks
      expect(locks.map((lock) => [lock.name, lock.owner])).toEqual([['alpha.txt', 'someone-else']])

      await choose(term, 'List files')
      await term.waitFor(/Unlocked plan\.txt[\s\S]*1\s+plan\.txt\s+5 B\s+\S+ \S+\s+A\s+-/)

      // Forcing alpha.txt when the person says yes.
      await choose(term, 'Unlock a file')
      await pick(term, 'File to unlock', 'alpha', /❯ 0\s+alpha\.txt/)
      await term.waitFor('Force the unlock? (y/N)')
      term.type('y')
      term.keys('Enter')
      await term.waitFor("✔ Unlocked alpha.txt at A (forced; it was someone-else's)")
      expect((await serverStatus(server)).locks).toEqual([])

      await choose(term, 'Unlock a file')
      await term.waitFor('No file is locked.')
      await choose(term, 'Exit')
      expect(await waitForExit(term)).toBe(0)
    })
  },
)

// Long listings a page at a time (the terminal is 40 lines high): part D's cases.
describe.skipIf(!TMUX)(
  `the menu pages long listings${TMUX ? '' : ' (skipped: tmux is not installed)'}`,
  () => {
    it('lists 74 files a page at a time (Space: a page, Enter: a line, q: stop), and the picker scrolls', async () => {
      const server = await startServer()
      const name = (i: number): string => `file-${String(i).padStart(2, '0')}.txt`
      for (let i = 0; i < 74; i++) writeFileSync(path.join(server.root, name(i)), `${i}\n`)
      const term = await openMenu(server, {
        cwd: tempDir('tandem-menu-home-'),
        clientId: CLIENT_ID,
      })

      // 76 lines (header, 74 files, total) on a 40-line terminal: 38 a page, then the prompt.
      await choose(term, 'List files')
      let screen = await term.waitFor('-- more -- 38 of 76 lines')
      expect(screen).toMatch(/36\s+file-36\.txt/)
      expect(screen).not.toContain('file-37.txt')
      expect(screen).not.toContain(MENU)

      term.keys('Enter') // one more line
      screen = await term.waitFor('-- more -- 39 of 76 lines')
      expect(screen).toMatch(/37\s+file-37\.txt/)
      expect(screen).not.toContain('file-38.txt')
      expect(screen).not.toContain('-- more -- 38 of 76') // each prompt is erased after its key

      term.keys('Space') // the rest: the last page, then the menu's own "press any key"
      screen = await term.waitFor('Press any key to go back to the menu…')
      expect(screen).toMatch(/73\s+file-73\.txt/)
      expect(screen).toContain('74 files, 212 B')
      expect(screen).not.toContain('-- more --')
      term.keys('Space')
      await term.waitFor(MENU)

      // q stops at once: back to the menu without the rest, and without "press any key".
      await choose(term, 'List files')
      await term.waitFor('-- more -- 38 of 76 lines')
      term.type('q')
      screen = await term.waitFor(MENU)
      expect(screen).not.toContain('file-73.txt')
      expect(screen).not.toContain('Press any key')

      // The picker shows as many files as the terminal has room for, and scrolls past them.
      await choose(term, 'Download a file or folder')
      screen = await term.waitFor(/❯\s+0\s+file-00\.txt/)
      expect(screen).toMatch(/31\s+file-31\.txt/)
      expect(screen).not.toContain('file-32.txt')
      for (let i = 0; i < 50; i++) term.keys('Down')
      screen = await term.waitFor(/❯\s+50\s+file-50\.txt/)
      expect(screen).not.toContain('file-00.txt')
      term.keys('Escape')
      await term.waitFor(MENU)

      await choose(term, 'Exit')
      expect(await waitForExit(term)).toBe(0)
    })
  },
)

// Folders in the menu: part A's cases.
describe.skipIf(!TMUX)(
  `the interactive menu with folders${TMUX ? '' : ' (skipped: tmux is not installed)'}`,
  () => {
    it('downloads a folder (asking once about the files already here), renames and deletes it', async () => {
      const server = await startServer()
      const bytes = randomBytes(300_000)
      mkdirSync(path.join(server.root, 'docs', 'sub'), { recursive: true })
      writeFileSync(path.join(server.root, 'docs', 'a.txt'), 'new a\n')
      writeFileSync(path.join(server.root, 'docs', 'sub', 'b.bin'), bytes)
      writeFileSync(path.join(server.root, 'other.txt'), 'other\n')
      const home = tempDir('tandem-menu-home-')
      mkdirSync(path.join(home, 'docs'))
      writeFileSync(path.join(home, 'docs', 'a.txt'), 'old a\n')
      const term = await openMenu(server, { cwd: home, clientId: CLIENT_ID })

      // The picker offers the folder, above its files, with its file count.
      await choose(term, 'Download a file or folder')
      await pick(term, 'File or folder to download', 'docs', /❯\s+docs\/\s+\d+ KiB\s+2 files/)
      await term.waitFor(/\? Save the folder \(2 files, \d+ KiB\) as \(\.\/docs\)/)
      term.keys('Enter')
      // One question for the batch; keeping the file that is here is the default.
      await term.waitFor('1 of 2 files exist in ./docs already')
      await term.waitFor('❯ Keep them (download only the others)')
      term.keys('Enter')
      await term.waitFor(
        /✔ Downloaded docs\/ to \.\/docs \(1 file, \d+ KiB in .*; kept 1 file there/,
      )
      expect(readFileSync(path.join(home, 'docs', 'a.txt'), 'utf8')).toBe('old a\n')
      expect(readFileSync(path.join(home, 'docs', 'sub', 'b.bin')).equals(bytes)).toBe(true)

      // Again, replacing: now both files are the server's.
      await choose(term, 'Download a file or folder')
      await pick(term, 'File or folder to download', 'docs', /❯\s+docs\/\s+\d+ KiB\s+2 files/)
      await term.waitFor('? Save the folder')
      term.keys('Enter')
      await term.waitFor('All 2 files exist in ./docs already')
      term.keys('Up') // from "Keep them" to "Replace them"
      await term.waitFor('❯ Replace them')
      term.keys('Enter')
      await term.waitFor(/✔ Downloaded docs\/ to \.\/docs \(2 files/)
      expect(readFileSync(path.join(home, 'docs', 'a.txt'), 'utf8')).toBe('new a\n')

      // Rename the folder: one operation on the server.
      await choose(term, 'Rename a file or folder')
      await pick(term, 'File or folder to rename', 'docs', /❯\s+docs\/\s+\d+ KiB\s+2 files/)
      await term.waitFor('? New name docs')
      term.keys('C-u')
      term.type('papers')
      term.keys('Enter')
      await term.waitFor('✔ Renamed the folder docs/ (2 files) → papers/')
      expect(readFileSync(path.join(server.root, 'papers', 'sub', 'b.bin')).equals(bytes)).toBe(
        true,
      )
      expect(existsSync(path.join(server.root, 'docs'))).toBe(false)

      // Delete asks first, saying how many files go, and No is the default.
      await choose(term, 'Delete a file or folder')
      await pick(term, 'File or folder to delete', 'papers', /❯\s+papers\/\s+\d+ KiB\s+2 files/)
      await term.waitFor(
        /Delete the folder papers\/ and its 2 files \(\d+ KiB\)\? This cannot be undone\. \(y\/N\)/,
      )
      term.type('y')
      term.keys('Enter')
      await term.waitFor('✔ Deleted papers/ (2 files)')
      expect(existsSync(path.join(server.root, 'papers', 'a.txt'))).toBe(false)
      expect(existsSync(path.join(server.root, 'papers', 'sub', 'b.bin'))).toBe(false)
      expect(existsSync(path.join(server.root, 'other.txt'))).toBe(true)

      await choose(term, 'Exit')
      expect(await waitForExit(term)).toBe(0)
    })
  },
)
