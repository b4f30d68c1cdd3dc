/**
 * The HTTP baseline: the least a `node:http` file server can do, in one process and one thread,
 * with Node's defaults (64 KiB stream chunks, keep-alive). What tandem's HTTP front end is measured
 * against (http.mjs).
 *
 *   PUT /files/<name>          the body piped into ROOT/<name> (fs.createWriteStream); 200 {name, size}
 *   PUT /files/<name>?fsync=1  the body piped into a temp file beside it, fsynced (the write stream's
 *                              `flush`), renamed over <name>, the directory fsynced: the durability
 *                              tandem pays for on every write
 *        …&sha256=1            also the body's SHA-256 on the way (answered as `sha256`): tandem's check
 *   GET /files/<name>          fs.createReadStream(file) piped into the response, with Content-Length
 *   GET /heartbeat             a small JSON
 *   GET /list                  JSON of readdir + stat of ROOT's files: [{name, size, mtime}]
 *
 * Usage: node http-baseline-server.mjs ROOT  → prints "http baseline listening on 127.0.0.1:PORT"
 */
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const root = process.argv[2]
if (!root) throw new Error('usage: http-baseline-server.mjs ROOT')
const started = Date.now()

/** @param {http.ServerResponse} res @param {number} status @param {unknown} body */
function json(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** @param {string} encoded */
function fileOf(encoded) {
  return path.join(root, path.basename(decodeURIComponent(encoded)))
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {URL} url @param {string} file */
async function put(req, res, url, file) {
  const durable = url.searchParams.get('fsync') === '1'
  const hash = url.searchParams.get('sha256') === '1' ? createHash('sha256') : null
  const target = durable
    ? path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`)
    : file
  const out = fs.createWriteStream(target, { flush: durable })
  const stages = hash
    ? [
        req,
        new Transform({
          transform(chunk, _encoding, callback) {
            hash.update(chunk)
            callback(null, chunk)
          },
        }),
        out,
      ]
    : [req, out]
  try {
    await pipeline(/** @type {[any, any]} */ (stages))
    if (durable) {
      await fsp.rename(target, file)
      const dir = await fsp.open(path.dirname(file), 'r')
      try {
        await dir.sync()
      } finally {
        await dir.close()
      }
    }
  } catch (err) {
    if (durable) await fsp.rm(target, { force: true })
    throw err
  }
  json(res, 200, {
    name: path.basename(file),
    size: out.bytesWritten,
    ...(hash ? { sha256: hash.digest('hex') } : {}),
  })
}

/** @param {http.ServerResponse} res @param {string} file */
async function get(res, file) {
  const handle = await fsp.open(file, 'r')
  const { size } = await handle.stat()
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size })
  await pipeline(handle.createReadStream(), res)
}

/**
 * The directory walked the way tandem's own listing walks it (storage/listing.ts): readdir with
 * file types, then one awaited stat per file, in turn; so the ratio measures everything but that.
 * @param {http.ServerResponse} res
 */
async function list(res) {
  const rows = []
  for (const entry of await fsp.readdir(root, { withFileTypes: true })) {
    if (!entry.isFile()) continue
    const st = await fsp.stat(path.join(root, entry.name))
    rows.push({ name: entry.name, size: st.size, mtime: Math.round(st.mtimeMs) })
  }
  json(res, 200, rows)
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const file = url.pathname.startsWith('/files/') ? fileOf(url.pathname.slice(7)) : null
  if (req.method === 'PUT' && file) return put(req, res, url, file)
  if (req.method === 'GET' && file) return get(res, file)
  if (req.method === 'GET' && url.pathname === '/heartbeat')
    return json(res, 200, { server: 'baseline', ok: true, uptimeMs: Date.now() - started })
  if (req.method === 'GET' && url.pathname === '/list') return list(res)
  req.resume()
  return json(res, 404, { error: { code: 'ERR_NOT_FOUND', message: 'no such endpoint' } })
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((/** @type {any} */ err) => {
    if (res.headersSent) res.destroy()
    else json(res, err?.code === 'ENOENT' ? 404 : 500, { error: { message: String(err) } })
  })
})

server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  process.stdout.write(`http baseline listening on 127.0.0.1:${port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
