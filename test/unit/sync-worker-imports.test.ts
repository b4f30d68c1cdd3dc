// The sync worker thread loads no zod (ARCHITECTURE.md, "Memory": zod costs every thread that
// loads it ~6 MiB resident). Walks the import graph of dist/server/sync/sync-worker.js, as built
// (`npm test` builds first): every static and dynamic import of a relative module is followed,
// and none of the packages reached may be zod.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url))
const IMPORT =
  /(?:^|[;\n}])\s*(?:import|export)\s*(?:[\w*{}\s,$]+?\s*from\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** Each package (bare specifier) the module graph from `entry` imports, with one chain to it. */
function packagesImported(entry: string): Map<string, string[]> {
  const via = new Map<string, string | null>([[entry, null]])
  const queue = [entry]
  const packages = new Map<string, string[]>()
  const chain = (file: string): string[] => {
    const out: string[] = []
    for (let f: string | null | undefined = file; f; f = via.get(f))
      out.push(path.relative(DIST, f))
    return out
  }
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec)
        if (!via.has(target)) {
          via.set(target, file)
          queue.push(target)
        }
      } else if (!spec.startsWith('node:') && !packages.has(spec)) {
        packages.set(spec, chain(file))
      }
    }
  }
  return packages
}

describe('the sync worker thread', () => {
  it('imports no zod', () => {
    const entry = path.join(DIST, 'server/sync/sync-worker.js')
    expect(existsSync(entry), 'build first (node scripts/build.mjs)').toBe(true)
    const packages = packagesImported(entry)
    const zod = [...packages].filter(([spec]) => spec === 'zod' || spec.startsWith('zod/'))
    expect(zod.map(([spec, chain]) => `${spec} <- ${chain.join(' <- ')}`)).toEqual([])
    // The walk does see packages (the index's database), so an empty answer is not a broken walk.
    expect([...packages.keys()]).toContain('better-sqlite3')
  })

  it('the walk finds zod where it is imported (the client message schemas)', () => {
    expect(packagesImported(path.join(DIST, 'protocol/index.js')).has('zod')).toBe(true)
  })
})
