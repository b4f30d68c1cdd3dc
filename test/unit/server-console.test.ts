// The server's console escapes every line it prints: names from the disk, client ids and peers'
// strings cannot drive the terminal or split a line, whoever built the message.
import { describe, expect, it } from 'vitest'
import { describeFailure, ServerConsole, syncLine } from '../../src/server/console.js'

function capture(): { console: ServerConsole; lines: () => string[] } {
  let text = ''
  const console = new ServerConsole('A', (chunk) => (text += chunk))
  return {
    console,
    lines: () => {
      console.flush()
      return text.split('\n').slice(0, -1)
    },
  }
}

describe('the server console', () => {
  it('escapes names, client ids and peer names, one line each', () => {
    const { console, lines } = capture()
    console.warn("not mirrored: 'x\x1b[31mRED\x1b[0m' is not a name tandem can serve")
    console.admitted({ sessionId: '1', clientId: 'eve\nA  ● forged', remoteAddress: '1' }, 1, 9)
    console.info(syncLine({ op: 'sync-pull', name: 'a\u202etxt', peer: 'B\x07', size: 3 }))
    const shown = lines()
    expect(shown).toHaveLength(3)
    // eslint-disable-next-line no-control-regex
    expect(shown.join('\n')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/)
    expect(shown[0]).toContain("'x\\x1b[31mRED\\x1b[0m'")
    expect(shown[1]).toContain('eve\\nA  ● forged connected')
    expect(shown[2]).toContain('pulled a\\u202etxt from B\\x07')
  })

  it('prints a failure with its stack frames on lines of their own, its message escaped', () => {
    const { console, lines } = capture()
    const err = new Error("cannot open 'disk\nnewline'")
    console.failed('the sync worker failed', err)
    const shown = lines()
    expect(shown[0]).toMatch(/⚠ the sync worker failed: Error: cannot open 'disk\\nnewline'$/)
    expect(shown.length).toBeGreaterThan(1)
    expect(shown.slice(1).every((line) => /^\s+at /.test(line))).toBe(true)
    expect(describeFailure(err)[0]).toBe("Error: cannot open 'disk\\nnewline'")
  })
})
