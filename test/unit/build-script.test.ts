// scripts/build.mjs, the build step of npm start/test/bench: run for real (tsc included) on a
// small project in a temp dir, laid out like this repository (src/, tsconfig.build.json, dist/).
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = fileURLToPath(new URL('../../', import.meta.url))
let dir: string

const file = (name: string) => path.join(dir, name)
const write = (name: string, text: string) => writeFileSync(file(name), text)
const build = () =>
  spawnSync(process.execPath, [file('scripts/build.mjs')], { cwd: dir, encoding: 'utf8' })
/** When the last successful build finished: the record is written only then. */
const stampTime = () => statSync(file('dist/.build-stamp.json')).mtimeMs

function expectBuilt(result: ReturnType<typeof build>): void {
  expect(result.stderr + result.stdout).toBe('')
  expect(result.status).toBe(0)
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-build-'))
  mkdirSync(file('scripts'))
  mkdirSync(file('src/sub'), { recursive: true })
  copyFileSync(path.join(repo, 'scripts/build.mjs'), file('scripts/build.mjs'))
  symlinkSync(path.join(repo, 'node_modules'), file('node_modules'))
  write('package.json', '{ "type": "module" }\n')
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: [],
        sourceMap: true,
        rootDir: '.',
        outDir: 'dist',
        noEmit: true,
      },
    }),
  )
  write(
    'tsconfig.build.json',
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist', noEmit: false },
      include: ['src'],
      exclude: ['src/**/*.test.ts'],
    }),
  )
  write('src/a.ts', 'export const a: number = 1\n')
  write('src/sub/b.ts', "import { a } from '../a.js'\nexport const b: number = a + 1\n")
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('scripts/build.mjs', () => {
  it('compiles src/ into dist/ the first time', () => {
    expectBuilt(build())
    expect(readFileSync(file('dist/a.js'), 'utf8')).toContain('a = 1')
    expect(existsSync(file('dist/sub/b.js'))).toBe(true)
    expect(existsSync(file('dist/sub/b.js.map'))).toBe(true)
  })

  it('does nothing when nothing changed, even when the sources got new times (a git checkout)', () => {
    const before = stampTime()
    expectBuilt(build())
    const later = new Date(Date.now() + 60_000)
    utimesSync(file('src/a.ts'), later, later)
    expectBuilt(build())
    expect(stampTime()).toBe(before)
  })

  it('compiles again when a source changed', () => {
    const before = stampTime()
    write('src/a.ts', 'export const a: number = 41\n')
    expectBuilt(build())
    expect(readFileSync(file('dist/a.js'), 'utf8')).toContain('a = 41')
    expect(stampTime()).not.toBe(before)
  })

  it('removes the output of a deleted source, and its folder once empty', () => {
    rmSync(file('src/sub/b.ts'))
    expectBuilt(build())
    expect(existsSync(file('dist/sub/b.js'))).toBe(false)
    expect(existsSync(file('dist/sub/b.js.map'))).toBe(false)
    expect(existsSync(file('dist/sub'))).toBe(false)
    expect(existsSync(file('dist/a.js'))).toBe(true)
  })

  it('compiles again when dist/ was changed behind its back', () => {
    rmSync(file('dist/a.js'))
    expectBuilt(build())
    expect(readFileSync(file('dist/a.js'), 'utf8')).toContain('a = 41')
    // A stray file that no source makes is removed too.
    write('dist/stray.js', 'export {}\n')
    expectBuilt(build())
    expect(existsSync(file('dist/stray.js'))).toBe(false)
  })

  it('fails on a type error, and does not take that dist/ as up to date afterwards', () => {
    write('src/a.ts', "export const a: number = 'not a number'\n")
    const failed = build()
    expect(failed.status).not.toBe(0)
    expect(failed.stdout + failed.stderr).toContain('TS2322')
    expect(existsSync(file('dist/.build-stamp.json'))).toBe(false)
    write('src/a.ts', 'export const a: number = 7\n')
    expectBuilt(build())
    expect(readFileSync(file('dist/a.js'), 'utf8')).toContain('a = 7')
  })

  it('compiles everything again with --force', () => {
    const before = stampTime()
    const forced = spawnSync(process.execPath, [file('scripts/build.mjs'), '--force'], {
      cwd: dir,
      encoding: 'utf8',
    })
    expectBuilt(forced)
    expect(stampTime()).not.toBe(before)
    expect(existsSync(file('dist/a.js'))).toBe(true)
  })
})
