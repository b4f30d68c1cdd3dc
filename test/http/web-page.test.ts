// The web page (GET /) in a real browser against two real servers, A and B, that mirror each
// other: a file uploaded through A's page is listed on B's page as soon as it is on B's disk,
// downloads whole from B's page, is renamed and deleted from the pages, and a file another
// program writes into B's directory shows in A's activity panel. Needs Debian's chromium;
// skipped (saying so) without it. The page's files themselves are checked without a browser.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  registerCleanup,
  sha256,
  startCluster,
  startServer,
  tempDir,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'
import { hasChromium, launchBrowser, screenshot, screenshotsOnFailure } from './browser.js'

const CHROMIUM = hasChromium()
if (!CHROMIUM)
  console.warn(
    'test/http/web-page: skipped, /usr/bin/chromium is missing (apt-get install chromium)',
  )

/** The page must list a file this soon after it is on the server's disk. */
const LISTED_WITHIN_MS = 1000

function httpUrl(server: ServerHandle): string {
  if (!server.httpUrl) throw new Error('the server was started without HTTP')
  return server.httpUrl
}

/**
 * Run in the page: a file dropped on the drop zone, as a drag from the desktop delivers it. A
 * string, as it runs in the browser and the tests are compiled without the DOM's types.
 */
const DROP_A_FILE = `(() => {
  const data = new DataTransfer()
  data.items.add(new File(['dropped on the page\\n'], 'dropped.txt', { type: 'text/plain' }))
  const zone = document.getElementById('drop-zone')
  for (const type of ['dragenter', 'dragover', 'drop'])
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }))
})()`

/** The listing's cell holding exactly `name`. */
function nameCell(page: Page, name: string) {
  return page.getByRole('cell', { name, exact: true })
}

/** Resolves when the page's event stream is open (changes reach it from then on). */
async function live(page: Page): Promise<void> {
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()
}

describe.skipIf(!CHROMIUM)('the web page in a browser, two servers', () => {
  it('uploads, lists on the peer, downloads, renames, deletes, and shows changes made on disk', async () => {
    // A and B, each the other's peer, both up (the cluster prints their output on a failure).
    const [a, b] = await startCluster(2, { http: true })
    const browser = await launchBrowser()
    const pages: Record<string, Page | undefined> = {}
    await screenshotsOnFailure(
      'web-page-failed',
      () => pages,
      async () => {
        const pageA = (pages.A = await browser.open(`${a.httpUrl}/`))
        const pageB = (pages.B = await browser.open(`${b.httpUrl}/`))
        await Promise.all([live(pageA), live(pageB)])
        await pageA.locator('.server-name', { hasText: 'A' }).first().waitFor()

        // A few files through A's page: a text file large enough for a real progress bar, and two
        // more for the listing's sake.
        const upload = tempDir('tandem-web-upload-')
        const content = Buffer.from(randomBytes(300 * 1024).toString('base64'))
        const original = path.join(upload, 'hello.txt')
        writeFileSync(original, content)
        writeFileSync(path.join(upload, 'notes.md'), '# Notes\n\nMirrored by tandem.\n')
        writeFileSync(path.join(upload, 'data.json'), '{"quarter": 1, "total": 42}\n')
        // The page acted on or watched is brought to the front each time: a background tab's
        // rendering is throttled (a click there waits ~2 s for the page to be drawn).
        await pageA.bringToFront()
        await pageA.getByLabel('Upload files').setInputFiles(original)
        await pageB.bringToFront()

        // On B's disk (whole), then on B's page within a second of that.
        const onB = b.file('hello.txt')
        await waitFor(() => existsSync(onB), {
          timeoutMs: 15_000,
          intervalMs: 10,
          what: 'hello.txt on B',
        })
        const onDiskAt = Date.now()
        expect(sha256(readFileSync(onB))).toBe(sha256(content))
        await nameCell(pageB, 'hello.txt').waitFor({
          timeout: Math.max(1, onDiskAt + LISTED_WITHIN_MS - Date.now()),
        })
        console.info(
          `hello.txt listed on B's page ${Date.now() - onDiskAt} ms after it was on B's disk`,
        )
        await pageA
          .getByRole('listitem')
          .filter({ hasText: 'hello.txt' })
          .filter({ hasText: 'created' })
          .waitFor()

        await pageA.bringToFront()
        await pageA
          .getByLabel('Upload files')
          .setInputFiles([path.join(upload, 'notes.md'), path.join(upload, 'data.json')])
        await pageB.bringToFront()
        await nameCell(pageB, 'notes.md').waitFor()
        await nameCell(pageB, 'data.json').waitFor()

        // Download from B's page: the same bytes.
        const [download] = await Promise.all([
          pageB.waitForEvent('download'),
          pageB.getByRole('link', { name: 'Download hello.txt' }).click(),
        ])
        expect(download.suggestedFilename()).toBe('hello.txt')
        const saved = await download.path()
        expect(sha256(await fs.readFile(saved))).toBe(sha256(content))

        // Rename on B's page: the new name on both pages and disks, the old one gone.
        await pageB.getByRole('button', { name: 'Rename hello.txt' }).click()
        const newName = pageB.getByLabel('New name')
        await newName.fill('renamed.txt')
        await newName.press('Enter')
        for (const page of [pageA, pageB]) {
          await nameCell(page, 'renamed.txt').waitFor()
          await nameCell(page, 'hello.txt').waitFor({ state: 'detached' })
        }
        await waitFor(() => existsSync(a.file('renamed.txt')), {
          what: 'renamed.txt on A',
        })

        // Delete on A's page, confirmed in the dialog: gone from both pages and both disks.
        await pageA.bringToFront()
        await pageA.getByRole('button', { name: 'Delete renamed.txt' }).click()
        const dialog = pageA.getByRole('dialog')
        await dialog.getByText('renamed.txt').waitFor()
        await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
        for (const page of [pageA, pageB])
          await nameCell(page, 'renamed.txt').waitFor({ state: 'detached' })
        await waitFor(
          () => !existsSync(a.file('renamed.txt')) && !existsSync(b.file('renamed.txt')),
          { what: 'renamed.txt gone from both disks' },
        )

        // Dropped on A's page (a drop event carrying a file, as a drag from the desktop does).
        await pageA.evaluate(DROP_A_FILE)
        await nameCell(pageB, 'dropped.txt').waitFor()
        expect(await fs.readFile(b.file('dropped.txt'), 'utf8')).toBe('dropped on the page\n')

        // Lock one through A's page: a "yours" badge there.
        await pageA.getByRole('button', { name: 'Lock notes.md' }).click()
        await pageA.getByRole('button', { name: 'Unlock notes.md' }).waitFor()
        await pageA.getByRole('row').filter({ hasText: 'notes.md' }).getByText('yours').waitFor()

        // Another program writes into B's directory: A pulls it, and its activity panel says so.
        await b.write('from-disk.txt', 'written straight into B\n')
        await pageA
          .getByTestId('activity')
          .getByText('from-disk.txt')
          .first()
          .waitFor({ timeout: 15_000 })
        // Listed on A's page as held by A too, once the refetch after that event is in.
        await pageA
          .getByRole('row')
          .filter({ has: nameCell(pageA, 'from-disk.txt') })
          .getByRole('cell')
          .getByText('A', { exact: true })
          .waitFor()

        expect(browser.pageErrors).toEqual([])
        const elsewhere = browser.requests.filter((url) => new URL(url).hostname !== '127.0.0.1')
        expect(elsewhere).toEqual([])
        console.info(`screenshot of A's page: ${await screenshot(pageA, 'web-page')}`)
      },
    )
  }, 120_000)
})

describe('the web page files', () => {
  it('are served from memory with their type, an ETag, no-cache and nosniff; an unknown one is a JSON 404', async () => {
    const server = await startServer({ http: true })
    const base = httpUrl(server)
    const index = await fetch(`${base}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('cache-control')).toBe('no-cache')
    expect(index.headers.get('x-content-type-options')).toBe('nosniff')
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'")
    const html = await index.text()
    expect(html).toContain('/assets/app.js')
    const etag = index.headers.get('etag')
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await fetch(`${base}/`, { headers: { 'If-None-Match': etag! } })
    expect(again.status).toBe(304)

    const script = await fetch(`${base}/assets/app.js`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(script.headers.get('x-content-type-options')).toBe('nosniff')
    const style = await fetch(`${base}/assets/style.css`)
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(await style.text()).toContain(':root')

    const missing = await fetch(`${base}/assets/nothing-here.js`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({
      error: { code: 'ERR_NOT_FOUND', message: expect.any(String) },
    })
    const head = await fetch(`${base}/assets/app.js`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('etag')).toBe(script.headers.get('etag'))
  })

  it('take no client slot: the page loads while every slot is taken', async () => {
    const server = await startServer({ http: true, maxClients: 1 })
    const base = httpUrl(server)
    // An open event stream holds the one slot.
    const holder = new AbortController()
    registerCleanup(() => holder.abort())
    const stream = await fetch(`${base}/api/v1/events?ClientId=slot-holder`, {
      signal: holder.signal,
    })
    expect(stream.status).toBe(200)
    const busy = await fetch(`${base}/api/v1/files`, { headers: { 'X-Tandem-Client-Id': 'other' } })
    expect(busy.status).toBe(503)
    expect(busy.headers.get('retry-after')).not.toBeNull()
    for (const file of ['/', '/assets/app.js', '/assets/style.css'])
      expect(
        (await fetch(`${base}${file}`, { headers: { 'X-Tandem-Client-Id': 'other' } })).status,
      ).toBe(200)
    holder.abort()
  })
})
