// The web page (and the HTTP API's rows) tell what the listing tells: a file whose copies differ (a lock at A holds B's
// newer version back) carries a visible "≠ differs" mark whose tooltip says which server holds
// which size and time, gone after the unlock; a symlink is named as one. Two real servers and
// Debian's chromium (skipped, saying so, without it).
import fs from 'node:fs'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  get,
  registerCleanup,
  startCluster,
  TestClient,
  waitFile,
  waitFor,
  type ListRow,
} from '../helpers/index.js'
import { hasChromium, launchBrowser, screenshotsOnFailure } from './browser.js'

const CHROMIUM = hasChromium()
if (!CHROMIUM)
  console.warn(
    'test/http/web-listing-truth: skipped, /usr/bin/chromium is missing (apt-get install chromium)',
  )

const NEWER = 'a newer version, written at B\n'

describe.skipIf(!CHROMIUM)('the web page marks copies that differ', () => {
  it('shows ≠ with who holds what while a lock holds a copy back, and a symlink as one', async () => {
    const [a, b] = await startCluster(2, { http: true })
    await b.write('plan.txt', 'base\n')
    await waitFile([a], 'plan.txt', 'base\n')
    fs.symlinkSync('plan.txt', a.file('alias.txt'))
    const alice = await TestClient.connect(a.port, { clientId: 'alice' })
    registerCleanup(() => alice.close())
    expect((await alice.call('lock', { name: 'plan.txt' })).ok).toBe(true)
    await b.write('plan.txt', NEWER)
    // B's version recorded as B's holding, and waiting in the lock's queue (nothing changes then).
    await waitFor(
      async () => {
        const row = (await a.list()).find((r: ListRow) => r.name === 'plan.txt')
        return row?.differs === true && row.locks.some((l) => l.server === 'A' && l.queued === 1)
      },
      { what: 'A’s listing to mark plan.txt as differing, B’s version queued' },
    )

    // The HTTP API's rows carry the same fields as `ls --json`.
    const stat = (await get(a.httpUrl, '/api/v1/stat/plan.txt')).json<ListRow>()
    expect(stat).toMatchObject({ name: 'plan.txt', servers: ['A', 'B'], differs: true })
    expect(stat.copies?.map((c) => [c.server, c.size])).toEqual([
      ['A', 5],
      ['B', NEWER.length],
    ])
    const listed = (await get(a.httpUrl, '/list')).json<ListRow[]>()
    expect(listed.find((r) => r.name === 'plan.txt')).toEqual(stat)
    expect(listed.find((r) => r.name === 'alias.txt')).toMatchObject({ kind: 'symlink', size: 0 })

    const browser = await launchBrowser()
    const pages: Record<string, Page | undefined> = {}
    await screenshotsOnFailure(
      'web-listing-truth-failed',
      () => pages,
      async () => {
        const page = (pages.A = await browser.open(`${a.httpUrl}/`))
        const row = page.locator('tr[data-name="plan.txt"]')
        const mark = row.locator('.badge.differs')
        await mark.waitFor()
        expect(await mark.textContent()).toBe('≠ differs')
        expect(await mark.isVisible()).toBe(true)
        const title = (await mark.getAttribute('title')) ?? ''
        expect(title).toMatch(/^The copies differ\. A: 5 B \(5 bytes\), modified \S+/)
        expect(title).toContain(`B: ${NEWER.length} B (${NEWER.length} bytes), modified `)
        expect(await mark.getAttribute('aria-label')).toBe(title)

        const link = page.locator('tr[data-name="alias.txt"]')
        await link.waitFor()
        expect(await link.locator('.badge.symlink').textContent()).toBe('→ symlink, not mirrored')
        expect(await link.locator('td.size').textContent()).toBe('-')
        expect(await link.locator('.badge.differs').count()).toBe(0)
        expect(await page.locator('#summary').textContent()).toBe(
          '1 file, 1 symlink · 5 B in all · 1 with copies that differ',
        )

        // The unlock applies B's version at A: one version again, the mark goes by itself.
        expect((await alice.call('unlock', { name: 'plan.txt' })).ok).toBe(true)
        await waitFile([a], 'plan.txt', NEWER)
        await mark.waitFor({ state: 'detached' })
        expect(await row.locator('.badge.differs').count()).toBe(0)
        expect(browser.pageErrors).toEqual([])
      },
    )
  }, 60_000)
})
