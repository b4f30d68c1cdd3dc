/**
 * A tandem client process: the real client library from dist/ (connection.js + transfer.js), one
 * connection per job, opened before the clock starts.
 *   upload:   transfer.uploadFile — timed until the server's response, which comes after its fsync.
 *   download: Connection.download into fs.createWriteStream — timed until the file is closed
 *             (what the baseline does; `tandem get` also fsyncs and renames, see README).
 *   put:      transfer.planPut + putFiles of a folder, pipelined on one connection (as `tandem put`).
 */
import { once } from 'node:events'
import fs from 'node:fs'
import { serveJobs } from './client-child.mjs'
import { importDist } from './dist.mjs'

const { connect } = await importDist('client/connection.js')
const { planPut, putFiles, uploadFile } = await importDist('client/transfer.js')

const BUSY_RETRY_DEADLINE_MS = 10_000

/** Connect, retrying while the server still counts the previous sample's connections. */
async function open(/** @type {Record<string, any>} */ job) {
  const deadline = Date.now() + BUSY_RETRY_DEADLINE_MS
  for (;;) {
    try {
      return await connect({ host: job.host, port: job.port, clientId: `bench-${process.pid}` })
    } catch (err) {
      const code = /** @type {{code?: string}} */ (err).code
      if (code !== 'ERR_BUSY' || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

serveJobs({
  async prepare(job) {
    return { job, conn: await open(job) }
  },
  async run({ job, conn }) {
    if (job.op === 'upload') {
      const result = await uploadFile(conn, job.file, job.name)
      if (result.size !== job.size)
        throw new Error(`upload of ${job.name}: stored ${result.size} bytes`)
      return { bytes: result.size }
    }
    if (job.op === 'download') {
      const out = fs.createWriteStream(job.out)
      const closed = once(out, 'close')
      closed.catch(() => {}) // a sink error also fails the download, which is what reports it
      const result = await conn.download(job.name, out)
      await closed
      if (result.size !== job.size)
        throw new Error(`download of ${job.name}: got ${result.size} bytes`)
      return { bytes: result.size }
    }
    if (job.op === 'put') {
      const plan = await planPut([job.folder], { as: job.as })
      const result = await putFiles(conn, plan.items)
      return { bytes: result.bytes, files: result.files.length }
    }
    throw new Error(`tandem client: unknown op ${job.op}`)
  },
  async after({ conn }) {
    await conn.close()
  },
})
