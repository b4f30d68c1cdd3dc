/**
 * A baseline client process: a raw socket, fs.createReadStream(file).pipe(socket) to upload and
 * socket.pipe(fs.createWriteStream(file)) to download (see baseline-server.mjs for the wire).
 */
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import { serveJobs } from './client-child.mjs'

/** @param {Record<string, any>} job host, port */
async function connectTo(job) {
  const socket = net.connect({ host: job.host, port: job.port, allowHalfOpen: true })
  await once(socket, 'connect')
  return socket
}

serveJobs({
  async prepare(job) {
    return { job, socket: await connectTo(job) }
  },
  async run({ job, socket }) {
    if (job.op === 'upload') return upload(socket, job)
    if (job.op === 'download') return download(socket, job)
    throw new Error(`baseline client: unknown op ${job.op}`)
  },
  async after({ socket }) {
    socket.destroy()
  },
})

/** @param {net.Socket} socket @param {Record<string, any>} job */
async function upload(socket, job) {
  socket.write(`${JSON.stringify({ op: 'upload', name: job.name, fsync: job.fsync === true })}\n`)
  let reply = ''
  socket.setEncoding('utf8')
  socket.on('data', (/** @type {string} */ text) => (reply += text))
  const ended = once(socket, 'end')
  fs.createReadStream(job.file).pipe(socket)
  await ended
  const bytes = Number(/^ok (\d+)/.exec(reply)?.[1] ?? NaN)
  if (bytes !== job.size)
    throw new Error(`baseline upload of ${job.name}: server said ${JSON.stringify(reply)}`)
  return { bytes }
}

/** @param {net.Socket} socket @param {Record<string, any>} job */
async function download(socket, job) {
  socket.write(`${JSON.stringify({ op: 'download', name: job.name })}\n`)
  const out = fs.createWriteStream(job.out)
  const closed = once(out, 'close')
  socket.pipe(out)
  await closed
  if (out.bytesWritten !== job.size)
    throw new Error(
      `baseline download of ${job.name}: got ${out.bytesWritten} bytes, expected ${job.size}`,
    )
  return { bytes: out.bytesWritten }
}
