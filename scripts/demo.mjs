#!/usr/bin/env node
// `npm start`: the two-server demo: server A (port 8001,
// file-exchange 5001, data/servera) and server B (9001, 6001, data/serverb), each the other's
// peer. Their consoles (every sync action, named) are shown here; Ctrl+C stops both cleanly.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = path.join(root, 'dist', 'bin', 'tandem.js')
const servers = [
  { name: 'A', port: 8001, syncPort: 5001, dir: 'data/servera', peer: '127.0.0.1:9001' },
  { name: 'B', port: 9001, syncPort: 6001, dir: 'data/serverb', peer: '127.0.0.1:8001' },
]

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
      '--peer',
      s.peer,
    ],
    { stdio: 'inherit' },
  ),
)
console.log(
  'tandem demo: servers A (127.0.0.1:8001, data/servera) and B (127.0.0.1:9001, data/serverb) mirror each other.\n' +
    'Open the menu in another terminal with `npx tandem` (server A) or `npx tandem --server 127.0.0.1:9001` (B),\n' +
    'or the web page in a browser: http://127.0.0.1:8081/ (A) and http://127.0.0.1:9081/ (B),\n' +
    'or change files in either directory with any program. Ctrl+C here stops both servers.',
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
