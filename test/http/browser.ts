/**
 * A real browser for the web page's tests: Debian's chromium (never a downloaded one), driven by
 * playwright-core, headless, with a fresh profile in a temp dir. Closed when the test (or file)
 * is done. Every request it makes is recorded, so a test can check that all of them went to
 * this machine's servers.
 */
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { registerCleanup, tempDir } from '../helpers/index.js'

export const CHROMIUM = '/usr/bin/chromium'

/** Where screenshots go: test-results/ at the top of the repository. */
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url))

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function hasChromium(): boolean {
  return existsSync(CHROMIUM)
}

export interface Browser {
  context: BrowserContext
  /** A new tab at `url`; its script errors are collected in `pageErrors`. */
  open(url: string): Promise<Page>
  /** Every URL any tab asked for. */
  readonly requests: string[]
  /** Uncaught errors of the pages' scripts. */
  readonly pageErrors: string[]
}

export async function launchBrowser(): Promise<Browser> {
  const profile = tempDir('tandem-chromium-')
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
    colorScheme: 'light',
  })
  registerCleanup(() => context.close())
  const requests: string[] = []
  const pageErrors: string[] = []
  context.on('request', (request) => requests.push(request.url()))
  return {
    context,
    requests,
    pageErrors,
    async open(url) {
      const page = await context.newPage()
      page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.stack ?? err.message}`))
      await page.goto(url)
      return page
    },
  }
}

/** Save a screenshot of `page` as test-results/<name>.png; resolves with its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

/**
 * Run `body`; if it throws, save a screenshot of each page first (named `<prefix>-<page name>`)
 * and print where, then throw again. (Taken here: the browser is closed before vitest's
 * onTestFailed hooks run.)
 */
export async function screenshotsOnFailure(
  prefix: string,
  pages: () => Record<string, Page | undefined>,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body()
  } catch (err) {
    for (const [name, page] of Object.entries(pages())) {
      if (!page || page.isClosed()) continue
      try {
        console.error(`screenshot of page ${name}: ${await screenshot(page, `${prefix}-${name}`)}`)
      } catch (shotError) {
        console.error(`no screenshot of page ${name}: ${String(shotError)}`)
      }
    }
    throw err
  }
}
