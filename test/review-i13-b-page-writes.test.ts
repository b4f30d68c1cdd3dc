// Review of issue 13 (reviewer B): the web page's own writes of a file its member does not hold —
// delete, rename, lock (web/api.js: fetch with the X-Tandem-Client-Id header) — get the 307 to a
// holder's HTTP origin (http/moved.ts answerMoved: only GET/HEAD are proxied for the page). A
// browser follows a script's fetch to another origin only through CORS: the custom header and
// DELETE need a preflight, which the holder does not answer, and a redirected request's Origin is
// "null", which the holder refuses anyway (request-parts.ts crossSiteRefusal). The page's Delete
// button on a file held elsewhere fails with "no answer from the server" (ERR_NETWORK), while
// the listing offers it, the docs say a DELETE is "redone there", and the CLI does it.
//
// Three real servers on loopback (--replicas 2), Debian's chromium; the page's own api module.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256, waitFor, type ClusterServer } from './helpers/index.js'
import { hasChromium, launchBrowser } from './http/browser.js'
import { startPlacementCluster } from './helpers/placement.js'

const CHROMIUM = hasChromium()

/** Three members on loopback, each the others' --peer, --replicas 2, HTTP on. */
function startReplicated(): Promise<ClusterServer[]> {
  return startPlacementCluster({ members: 3, http: true, fast: false })
}

describe.skipIf(!CHROMIUM)(
  'the web page writing a file its member does not hold (review i13 B)',
  () => {
    it("the page's delete of it (as its Delete button does) deletes it", async () => {
      const servers = await startReplicated()
      const [a, b] = servers as [ClusterServer, ClusterServer, ClusterServer]
      const files = new Map<string, Buffer>()
      for (let i = 0; i < 8; i++) {
        const name = `p-${i}.txt`
        const content = Buffer.from(`page write ${i}\n`.repeat(100))
        files.set(name, content)
        const res = await fetch(`${a.httpUrl}/api/v1/files/${encodeURIComponent(name)}`, {
          method: 'PUT',
          body: content,
        })
        expect(res.status, await res.text()).toBeLessThan(300)
      }
      // A file on two disks, none of them B's.
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
      const browser = await launchBrowser()
      const page = await browser.open(`${b.httpUrl}/`)
      // A string, not a function: the test's own transform would rewrite a function's import().
      const outcome = await page.evaluate(`(async () => {
      const { api } = await import('/assets/api.js')
      try {
        await api.remove(${JSON.stringify(far)})
        return 'deleted'
      } catch (err) {
        return err.code + ': ' + err.message
      }
    })()`)
      expect(outcome, 'the page at B deleting a file held at A and C').toBe('deleted')
      await waitFor(async () => !(await a.list()).some((r) => r.name === far), {
        timeoutMs: 10_000,
        what: 'the file deleted in the cluster',
      })
    }, 120_000)
  },
)
