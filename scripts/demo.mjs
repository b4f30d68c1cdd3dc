#!/usr/bin/env node
// `npm start`: the demo of the source design. For now one server (A on port 8001, file-exchange
// port 5001, directory data/servera); mirroring to a second server comes with the sync issue.
// Its console is shown here; Ctrl+C stops it cleanly.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = path.join(root, 'dist', 'bin', 'tandem.js')
const servers = [{ name: 'A', port: 8001, syncPort: 5001, dir: 'data/servera' }]

const children = servers.map((s) =>
  spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--name',
      s.name,
      '--root',
      path.join(root, s.dir),
      '--port',
      String(s.port),
      '--sync-port',
      String(s.syncPort),
    ],
    { stdio: 'inherit' },
  ),
)
console.log(
  `tandem demo: open the menu in another terminal with \`npx tandem\` (Ctrl+C here stops the server${servers.length > 1 ? 's' : ''})`,
)

let exiting = false
const stop = (signal) => {
  if (exiting) return
  exiting = true
  for (const child of children) if (child.exitCode === null) child.kill(signal)
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
let left = children.length
let status = 0
for (const child of children) {
  child.on('exit', (code) => {
    if (code) status = code
    if (!exiting) stop('SIGTERM') // one server failed: stop the demo
    if (--left === 0) process.exit(status)
  })
}
