// Keeps docs/ERRORS.md and the error catalogue in step, as fastify's errors.test.js does.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, ErrorCodes, HttpStatus } from '../../src/protocol/index.js'

const docPath = fileURLToPath(new URL('../../docs/ERRORS.md', import.meta.url))

/** Codes in the first column of the doc's table rows: "| `ERR_X` | ...". */
function documentedCodes(): string[] {
  const codes: string[] = []
  for (const line of readFileSync(docPath, 'utf8').split('\n')) {
    const match = /^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|/.exec(line)
    if (match?.[1]) codes.push(match[1])
  }
  return codes
}

describe('docs/ERRORS.md', () => {
  const documented = documentedCodes()

  it('documents every code of the catalogue', () => {
    const missing = ERROR_CODES.filter((code) => !documented.includes(code))
    expect(missing, 'codes missing from docs/ERRORS.md').toEqual([])
  })

  it('documents no code that the catalogue lacks', () => {
    const extra = documented.filter((code) => !Object.hasOwn(ErrorCodes, code))
    expect(extra, 'codes in docs/ERRORS.md but not in src/protocol/errors.ts').toEqual([])
  })

  it('gives each code the HTTP status the HTTP front end answers it with', () => {
    for (const line of readFileSync(docPath, 'utf8').split('\n')) {
      const match = /^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|/.exec(line)
      if (!match) continue
      const code = match[1] as keyof typeof HttpStatus
      // The client's own codes, and the server's startup failures: never an HTTP answer.
      const neverOverHttp = [
        'ERR_CONNECTION_CLOSED',
        'ERR_UNREACHABLE',
        'ERR_USAGE',
        'ERR_INTERRUPTED',
        'ERR_PORT_IN_USE',
        'ERR_STATE_LOCKED',
      ].includes(code)
      expect(match[2], code).toBe(neverOverHttp ? '—' : String(HttpStatus[code]))
    }
  })

  it('documents each code once, with every column filled', () => {
    expect(new Set(documented).size).toBe(documented.length)
    for (const line of readFileSync(docPath, 'utf8').split('\n')) {
      if (!/^\|\s*`ERR_/.test(line)) continue
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim())
      expect(cells, line).toHaveLength(5)
      expect(
        cells.every((cell) => cell.length > 0),
        line,
      ).toBe(true)
    }
  })
})
