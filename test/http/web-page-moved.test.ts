// The web page of a member that holds no copy of a file (--replicas 2 of 3 real servers on
// loopback, each the others' --peer): the file is listed with its holders as its servers, its
// download link gets the whole file (a 307 to a holder, followed by the browser), and its viewer
// shows it (the page's own fetch, proxied). Needs Debian's chromium; skipped without it.
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { sha256, waitFor, type ClusterServer } from '../helpers/index.js'
import { hasChromium, launchBrowser, screenshotsOnFailure } from './browser.js'
import { startPlacementCluster } from '../helpers/placement.js'

const CHROMIUM = hasChromium()
const FILES = 9

/** Three members on loopback, each the others' --peer, --replicas 2, HTTP on. */
function startReplicated(): Promise<ClusterServer[]> {
  return startPlacementCluster({ members: 3, http: true, fast: false })
}

describe.skipIf(!CHROMIUM)('the web page at a member without a copy', () => {
  it('lists the file with its holders, downloads it whole, and views it', async () => {
    const servers = await startReplicated()
    const [a, b] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const files = new Map<string, Buffer>()
    for (let i = 0; i < FILES; i++) {
      const name = `w-${i}.txt`
      const content = Buffer.from(`page file ${i}\n`.repeat(500 + i))
      files.set(name, content)
      const res = await fetch(`${a.httpUrl}/api/v1/files/${encodeURIComponent(name)}`, {
        method: 'PUT',
        body: content,
      })
      expect(res.status, await res.text()).toBeLessThan(300)
    }
    // A file whose two copies are at A and C, none at B.
    const far = await waitFor(
      async () => {
        for (const [name, content] of files) {
          const on = await Promise.all(
            servers.map((s) =>
              fs.readFile(path.join(s.root, name)).then(
                (bytes) => sha256(bytes) === sha256(content),
                () => false,
              ),
            ),
          )
          if (on.filter(Boolean).length === 2 && !on[1]) return name
        }
        return false
      },
      { timeoutMs: 30_000, what: 'a file on two disks, not on B' },
    )
    const content = files.get(far)!
    const browser = await launchBrowser()
    const pages: Record<string, Page | undefined> = {}
    await screenshotsOnFailure(
      'web-page-moved-failed',
      () => pages,
      async () => {
        const page = (pages.B = await browser.open(`${b.httpUrl}/`))
        const row = page.getByRole('row').filter({ hasText: far })
        await row.waitFor()
        // Its servers are its holders: A and C, not B.
        const servers = row.locator('td.servers')
        await waitFor(async () => /A/.test(await servers.innerText()), { what: 'A listed' })
        expect(await servers.innerText()).toMatch(/C/)
        expect(await servers.innerText()).not.toMatch(/\bB\b/)

        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('link', { name: `Download ${far}` }).click(),
        ])
        expect(download.suggestedFilename()).toBe(far)
        expect(sha256(await fs.readFile(await download.path()))).toBe(sha256(content))

        await page.getByRole('button', { name: `View ${far}` }).click()
        await page
          .locator('#view-text')
          .filter({ hasText: content.toString().slice(0, 40) })
          .waitFor()
        expect(browser.pageErrors).toEqual([])
      },
    )
  }, 120_000)
})
