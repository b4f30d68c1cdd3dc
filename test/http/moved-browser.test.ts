// What a real browser (Debian's chromium) makes of ERR_MOVED's answers (http/moved.ts): a page's
// download link whose URL answers 307 to another origin (a holder) downloads the holder's bytes
// under the file's name, and the page's own fetch of such a file (its viewer) gets the bytes
// proxied, since a browser would not follow the redirect to another origin for a script. The
// member and the holder are small loopback servers; the whole cluster is web-page-moved.test.ts.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import fs from 'node:fs/promises'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { TandemError } from '../../src/protocol/index.js'
import { registerCleanup } from '../helpers/index.js'
import { answerMoved } from '../../src/server/http/moved.js'
import { hasChromium, launchBrowser } from './browser.js'

const CHROMIUM = hasChromium()
const CONTENT = Buffer.from('the holder has these bytes\n'.repeat(100))

async function holder(): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment; filename="far.txt"',
      'content-length': CONTENT.length,
    })
    res.end(CONTENT)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>member</title>
<a id="link" href="/files/far.txt?ClientId=web" download="far.txt">Download far.txt</a>
<pre id="viewed"></pre>
<script>
  window.view = async () => {
    const res = await fetch('/files/far.txt?purpose=read')
    document.getElementById('viewed').textContent = res.status + ':' + (await res.text()).length
  }
</script>`

async function member(holderHttp: string): Promise<string> {
  const app = Fastify({ forceCloseConnections: true })
  app.get('/', (_req, reply) => reply.type('text/html').send(PAGE))
  app.get('/files/*', () => {
    throw new TandemError('ERR_MOVED', "'far.txt' is not held here", {
      holders: [{ name: 'B', address: '127.0.0.1:1', http: holderHttp }],
    })
  })
  app.setErrorHandler((err, request, reply) =>
    answerMoved(request, reply, (err as TandemError).toWire(), false),
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  registerCleanup(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

describe.skipIf(!CHROMIUM)('a browser and ERR_MOVED', () => {
  it("a download link redirected to the holder downloads its bytes; the page's fetch is proxied", async () => {
    const url = await member(await holder())
    const browser = await launchBrowser()
    const page = await browser.open(`${url}/`)
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#link').click(),
    ])
    expect(download.suggestedFilename()).toBe('far.txt')
    expect(await fs.readFile(await download.path())).toEqual(CONTENT)
    await page.evaluate('window.view()')
    await page.locator('#viewed', { hasText: `200:${CONTENT.length}` }).waitFor()
    expect(browser.pageErrors).toEqual([])
  }, 60_000)
})
