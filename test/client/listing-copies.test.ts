// How a listing row shows copies that differ and symlinks (pure rendering, no server).
import { describe, expect, it } from 'vitest'
import type { FileCopy, FileRow } from '../../src/protocol/index.js'
import { copyGroups, sameVersion } from '../../src/protocol/index.js'
import { copiesLine, serversCell, shownName } from '../../src/client/cli/render/copies.js'
import { renderListing } from '../../src/client/cli/render/listing.js'

const T = Date.parse('2026-03-01T09:14:02')

function row(fields: Partial<FileRow>): FileRow {
  return {
    index: 0,
    name: 'plan.txt',
    size: 5,
    mtime: T,
    servers: ['A', 'B', 'C'],
    locked: false,
    locks: [],
    differs: false,
    ...fields,
  }
}

const copy = (server: string, sha256: string, size = 5, mtime = T): FileCopy => ({
  server,
  size,
  mtime,
  sha256,
})

describe('copies that differ, as shown', () => {
  it('groups servers by version: "A,C≠B", and names each copy under the row', () => {
    const copies = [copy('A', 'h1'), copy('B', 'h2', 31, T + 98_000), copy('C', 'h1')]
    const differing = row({ differs: true, copies })
    expect(copyGroups(copies).map((g) => g.map((c) => c.server))).toEqual([['A', 'C'], ['B']])
    expect(serversCell(differing)).toBe('A,C≠B')
    expect(copiesLine(differing, T)).toBe(
      '≠ A: 5 B 09:14:02 · B: 31 B 09:15:40 (newest) · C: 5 B 09:14:02',
    )
    expect(serversCell(row({}))).toBe('A,B,C')
    // No hash at A: it matches B and C by size and time, but B's and C's hashes differ.
    const mixed = [{ server: 'A', size: 5, mtime: T }, copy('B', 'h1'), copy('C', 'h2')]
    expect(serversCell(row({ differs: true, copies: mixed }))).toBe('A,B≠C')
    expect(copiesLine(row({}))).toBeUndefined()
  })

  it('compares by SHA-256 when both are known, else by size and mtime; a symlink matches nothing', () => {
    expect(sameVersion(copy('A', 'h1', 5, T), copy('B', 'h1', 5, T + 1))).toBe(true)
    expect(sameVersion(copy('A', 'h1'), copy('B', 'h2'))).toBe(false)
    expect(sameVersion({ server: 'A', size: 5, mtime: T }, copy('B', 'h2'))).toBe(true)
    expect(sameVersion({ server: 'A', size: 6, mtime: T }, copy('B', 'h2'))).toBe(false)
    const link: FileCopy = { server: 'A', size: 0, mtime: T, symlink: true }
    expect(sameVersion(link, { server: 'B', size: 0, mtime: T })).toBe(false)
  })

  it('keeps the line under a row within 100 columns, and escapes server names', () => {
    const many = ['A', 'B', 'C', 'D', 'E\x1b[31m'].map((s, i) =>
      copy(s, `h${i}`, 1024 * 1024 * (i + 1), T + i * 86_400_000),
    )
    const text = renderListing([row({ differs: true, copies: many, servers: ['A', 'B'] })])
    const lines = text.split('\n')
    expect(lines.every((line) => [...line].length <= 100)).toBe(true)
    expect(lines[2]).toMatch(/^ {3}≠ A: 1\.0 MiB .*…$/)
    expect(text).not.toContain('\x1b')
  })

  it('names a symlink as one, with no size of its own', () => {
    const link = row({ name: 'shortcut', kind: 'symlink', size: 0, servers: ['A'] })
    expect(shownName(link)).toBe('shortcut -> (symlink, not mirrored)')
    const text = renderListing([link, row({ index: 1, servers: ['A'] })])
    expect(text).toMatch(/0 {2}shortcut -> \(symlink, not mirrored\) +- {2}/)
    expect(text.split('\n').at(-1)).toBe('1 file, 5 B, 1 symlink (not mirrored)')
  })
})
