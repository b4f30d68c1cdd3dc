#!/usr/bin/env node
// The build step of `npm start`, `npm test`, `npm run bench` and `prepare`: compile src/ into
// dist/ only when something it is made from changed since the last build.
//
// Why not compare times: a `git checkout` gives files new times whatever their content, and a
// `tsc` run by hand rewrites dist/ behind a record of times. So the record (dist/.build-stamp.json)
// holds a SHA-256 of every input's path and content, and the size and time of every file the
// build left in dist/. dist/ is up to date only when both still match; reading the sources
// and stat-ing dist/ costs a few tens of milliseconds.
//
// When they differ, tsc runs incrementally (dist/.tsbuildinfo) so that a change to a few files
// re-checks and re-emits little. tsc trusts its build info to know what dist/ holds, so when
// dist/ changed behind the record (a file deleted, a hand-run tsc), the build info is dropped and
// everything is compiled again. tsc never deletes the output of a source that is gone, so
// after each build every file of dist/ whose source no longer exists is removed: a stale .js left
// behind could still be loaded.
//
// `node scripts/build.mjs --force` (npm run build -- --force) compiles everything from scratch.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const src = path.join(root, 'src')
const dist = path.join(root, 'dist')
const stampFile = path.join(dist, '.build-stamp.json')
const buildInfo = path.join(dist, '.tsbuildinfo')
const own = new Set([stampFile, buildInfo])
const force = process.argv.includes('--force')

/** Every file under `dir`, as paths relative to it with '/' separators, sorted. */
function filesUnder(dir) {
  if (!existsSync(dir)) return []
  const out = []
  const walk = (sub) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name
      if (entry.isDirectory()) walk(rel)
      else out.push(rel)
    }
  }
  walk('')
  return out.sort()
}

/** The sources tsconfig.build.json compiles: src/**\/*.ts without the tests. */
const sources = () =>
  filesUnder(src).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'),
  )

function inputsDigest() {
  const hash = createHash('sha256')
  const add = (name, content) => hash.update(`${name}\0${content.length}\0`).update(content)
  for (const f of sources()) add(`src/${f}`, readFileSync(path.join(src, f)))
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) add(f, readFileSync(path.join(root, f)))
  add('typescript', typescriptVersion())
  return hash.digest('hex')
}

function typescriptVersion() {
  const require = createRequire(import.meta.url)
  return JSON.parse(readFileSync(require.resolve('typescript/package.json'), 'utf8')).version
}

/** What the build left in dist/: each file with its size and modification time. */
function outputs() {
  const found = {}
  for (const f of filesUnder(dist)) {
    const full = path.join(dist, f)
    if (own.has(full)) continue
    const s = statSync(full)
    found[f] = `${s.size}:${s.mtimeMs}`
  }
  return found
}

function sameOutputs(a, b) {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'))
  } catch {
    return undefined
  }
}

/** Remove what dist/ holds for a source that is gone (x.js and x.js.map of a deleted x.ts). */
function prune() {
  const wanted = new Set(sources().map((f) => f.replace(/\.ts$/, '')))
  for (const f of filesUnder(dist)) {
    const full = path.join(dist, f)
    if (own.has(full)) continue
    const base = f.replace(/\.js(\.map)?$/, '')
    if (base === f || !wanted.has(base)) rmSync(full)
  }
  const removeEmpty = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) removeEmpty(path.join(dir, entry.name))
    if (dir !== dist && readdirSync(dir).length === 0) rmdirSync(dir)
  }
  if (existsSync(dist)) removeEmpty(dist)
}

const inputs = inputsDigest()
const stamp = force ? undefined : readStamp()
const distIntact = stamp !== undefined && sameOutputs(stamp.outputs ?? {}, outputs())
if (distIntact && stamp.inputs === inputs) process.exit(0) // up to date: nothing to say

if (force) rmSync(dist, { recursive: true, force: true })
else if (!distIntact) rmSync(buildInfo, { force: true })
rmSync(stampFile, { force: true }) // until this build has succeeded, dist/ is not to be trusted

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const result = spawnSync(
  process.execPath,
  [
    tsc,
    '-p',
    path.join(root, 'tsconfig.build.json'),
    '--incremental',
    '--tsBuildInfoFile',
    buildInfo,
  ],
  { stdio: 'inherit' },
)
if (result.status !== 0) process.exit(result.status ?? 1)
prune()
writeFileSync(stampFile, `${JSON.stringify({ inputs, outputs: outputs() })}\n`)
