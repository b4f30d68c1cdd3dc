import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const PROBE = fileURLToPath(new URL('../helpers/young-generation-probe.mjs', import.meta.url))

describe('young generation', () => {
  it('keeps semi-space growth factor 1 after worker threads start (V8 resets it for each new isolate)', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [PROBE], { timeout: 30_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    )
    const { main, worker } = JSON.parse(out) as { main: number; worker: number }
    // Growth factor 2 doubles them while they allocate: 32 MiB (main), 8 (the 8 MiB worker), in
    // every run, idle or loaded. Factor 1 keeps them at 2 MiB on an idle machine; with two busy
    // loops beside it the worker was seen once at 4 MiB in 3 runs of 8 (why is not known; a
    // doubling before the factor is set back, at most), so 4 is the bound.
    expect(main).toBeLessThanOrEqual(4)
    expect(worker).toBeLessThanOrEqual(4)
  })
})
