// The CLI's pure parts: the legacy argv forms and the human renderers.
import { describe, expect, it } from 'vitest'
import { rewriteLegacyArgs } from '../../src/client/cli/argv.js'
import { humanDuration, humanSize } from '../../src/client/cli/render/format.js'
import { renderListing } from '../../src/client/cli/render/listing.js'
import { renderTable } from '../../src/client/cli/render/table.js'

describe('rewriteLegacyArgs', () => {
  it('maps -lock -3 and -unlock -3 to commands, keeping the rest', () => {
    expect(rewriteLegacyArgs(['-lock', '-3'])).toEqual(['lock', '3'])
    expect(rewriteLegacyArgs(['--server', 'h:1', '-unlock', '-12', '--force'])).toEqual([
      '--server',
      'h:1',
      'unlock',
      '12',
      '--force',
    ])
    expect(rewriteLegacyArgs(['-lock', 'a.txt'])).toEqual(['lock', 'a.txt'])
    expect(rewriteLegacyArgs(['put', '-3'])).toEqual(['put', '-3'])
  })
})

describe('renderers', () => {
  it('writes sizes in powers of 1024', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024 * 1024, 300 * 1024 ** 3].map(humanSize)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '10.0 MiB',
      '300 GiB',
    ])
    expect(humanDuration(1500)).toBe('1.5 s')
  })

  it('aligns table columns, numbers to the right', () => {
    const lines = renderTable(
      [{ header: '#', align: 'right' }, { header: 'NAME' }],
      [
        ['9', 'a'],
        ['10', 'bbb'],
      ],
    )
    expect(lines).toEqual([' #  NAME', ' 9  a', '10  bbb'])
  })

  it('lists with lock and server columns only when they say something', () => {
    const row = { index: 0, name: 'a', size: 1, mtime: 0, servers: ['A'], locked: false }
    expect(renderListing([row])).not.toMatch(/LOCK|SERVERS/)
    const text = renderListing([
      row,
      { ...row, index: 1, name: 'b', servers: ['A', 'B'], locked: true },
    ])
    expect(text).toMatch(/SERVERS/)
    expect(text).toMatch(/LOCK/)
    expect(renderListing([])).toBe('no files')
  })
})
