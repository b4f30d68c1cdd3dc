/**
 * One big HTTP transfer by `curl`, a real other program (its own process), timed by curl itself
 * (`%{time_total}`: from the connect to the last byte; curl's own start-up is not in it).
 *   upload:   `curl -T FILE` (streamed from the file, Content-Length; `-X POST` for POST), with
 *             `Expect:` off so that the body follows the headers at once; the answer (JSON) is kept.
 *   download: `curl -o /dev/null`: nothing is written locally, for tandem and the baseline alike.
 * Only to 127.0.0.1.
 */
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { spawnTracked } from './children.mjs'

const WRITE_OUT = '\n%{http_code} %{time_total} %{size_upload} %{size_download}'

/** Whether curl is there (the HTTP transfers need it). */
export function hasCurl() {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * @typedef {{ status: number, sec: number, uploaded: number, downloaded: number, body: string }} CurlResult
 */

/**
 * @param {{ method: 'PUT' | 'POST' | 'GET', url: string, file?: string,
 *   headers?: Record<string, string> }} request
 * @returns {Promise<CurlResult>}
 */
export async function curl({ method, url, file, headers = {} }) {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`curl: only to 127.0.0.1, not ${url}`)
  const args = ['--silent', '--show-error', '-H', 'Expect:']
  for (const [key, value] of Object.entries(headers)) args.push('-H', `${key}: ${value}`)
  if (method === 'GET') args.push('-o', '/dev/null')
  else {
    if (!file) throw new Error('curl: an upload needs a file')
    args.push('-T', file)
    if (method === 'POST') args.push('-X', 'POST')
  }
  args.push('-w', WRITE_OUT, url)
  const proc = spawnTracked('curl', args)
  const [code] = await once(proc.child, 'exit')
  const text = proc.output.text
  const newline = text.lastIndexOf('\n')
  const [status, sec, uploaded, downloaded] = text
    .slice(newline + 1)
    .trim()
    .split(' ')
    .map(Number)
  if (code !== 0 || !Number.isFinite(sec))
    throw new Error(`curl ${method} ${url} exited ${code}: ${text.slice(-2000)}`)
  return {
    status: /** @type {number} */ (status),
    sec: /** @type {number} */ (sec),
    uploaded: /** @type {number} */ (uploaded),
    downloaded: /** @type {number} */ (downloaded),
    body: text.slice(0, Math.max(0, newline)),
  }
}
