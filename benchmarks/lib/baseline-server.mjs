/**
 * The baseline: the least a Node file server can do. One JSON header line per connection names the
 * operation, then the socket is piped straight into fs.createWriteStream (upload) or
 * fs.createReadStream is piped into the socket (download). No framing, no hashing, no temp file,
 * no worker threads. With `"fsync": true` an upload's file is fsynced before the reply (the
 * stream's `flush` option), which is the durability tandem always pays for.
 *
 * Usage: node baseline-server.mjs ROOT  → prints "listening on 127.0.0.1:PORT"
 * Upload:   {"op":"upload","name":"x","fsync":false}\n<body>, client half-closes → server "ok <bytes>\n"
 * Download: {"op":"download","name":"x"}\n → server sends the file's bytes and closes.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

const root = process.argv[2]
if (!root) throw new Error('usage: baseline-server.mjs ROOT')

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('error', () => socket.destroy())
  readHeader(socket, (header) => {
    const file = path.join(root, path.basename(String(header.name)))
    if (header.op === 'upload') upload(socket, file, header.fsync === true)
    else if (header.op === 'download') download(socket, file)
    else socket.destroy()
  })
})

/** @param {net.Socket} socket @param {(header: Record<string, unknown>) => void} onHeader */
function readHeader(socket, onHeader) {
  let head = Buffer.alloc(0)
  const onData = (/** @type {Buffer} */ chunk) => {
    head = Buffer.concat([head, chunk])
    const newline = head.indexOf(10)
    if (newline < 0) return
    socket.off('data', onData)
    socket.pause()
    const rest = head.subarray(newline + 1)
    if (rest.length > 0) socket.unshift(rest)
    onHeader(JSON.parse(head.subarray(0, newline).toString('utf8')))
  }
  socket.on('data', onData)
}

/** @param {net.Socket} socket @param {string} file @param {boolean} fsync */
function upload(socket, file, fsync) {
  const out = fs.createWriteStream(file, { flush: fsync })
  out.on('close', () => socket.end(`ok ${out.bytesWritten}\n`))
  out.on('error', () => socket.destroy())
  socket.pipe(out)
}

/** @param {net.Socket} socket @param {string} file */
function download(socket, file) {
  const input = fs.createReadStream(file)
  input.on('error', () => socket.destroy())
  input.pipe(socket)
}

server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {net.AddressInfo} */ (server.address())
  process.stdout.write(`baseline listening on 127.0.0.1:${port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
