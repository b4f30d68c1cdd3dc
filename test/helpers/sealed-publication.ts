// A sealed temp file (written, fsynced, SHA-256 checked) ready for the applier's group commit,
// with the index entry of a peer F's first version and a check that passes: for the tests of
// sync/group-commit.ts.
import { createHash } from 'node:crypto'
import path from 'node:path'
import { TempFile } from '../../src/server/storage/temp-file.js'
import type { Publication } from '../../src/server/sync/group-commit.js'

export async function sealedPublication(
  root: string,
  name: string,
  body: string,
): Promise<Publication> {
  const target = path.join(root, name)
  const temp = await TempFile.create(target, name)
  await temp.write([Buffer.from(body)])
  const sha256 = createHash('sha256').update(body).digest()
  await temp.seal({ sha256, size: body.length, mtimeMs: 1_000 })
  return {
    name,
    target,
    temp,
    entry: {
      name,
      size: body.length,
      mtime: 1_000,
      hash: sha256.toString('hex'),
      deleted: false,
      version: { F: 1 },
      origin: 'F',
      renamedFrom: null,
    },
    check: () => Promise.resolve(),
  }
}
