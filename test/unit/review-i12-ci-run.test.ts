// `.ci/run` is what CI runs. The network-namespace tests skip where namespaces cannot be made
// unless `CI` (or TANDEM_NETNS_REQUIRED) is set, and then fail instead: `.ci/run` must set one,
// so that a CI machine without namespaces fails rather than skips the discovery tests. Run here
// with stand-ins for npm and apt-get on PATH (the real node), so nothing is installed or built.
import { execFile } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { tempDir } from '../helpers/index.js'

const CI_RUN = fileURLToPath(new URL('../../.ci/run', import.meta.url))

function stub(dir: string, name: string, body: string): void {
  const file = path.join(dir, name)
  writeFileSync(file, `#!/bin/sh\n${body}\n`)
  chmodSync(file, 0o755)
}

it('.ci/run runs the tests with the namespace tests required, also when the CI system sets no CI', async () => {
  const bin = tempDir('tandem-ci-stubs-')
  const seen = path.join(tempDir('tandem-ci-seen-'), 'ci')
  // npm test records the CI it sees; every other npm call and apt-get succeed doing nothing.
  stub(
    bin,
    'npm',
    `[ "$1" = test ] && printf '%s' "\${CI:-\${TANDEM_NETNS_REQUIRED:-unset}}" > '${seen}'; exit 0`,
  )
  stub(bin, 'apt-get', 'exit 0')
  for (const tool of ['tmux', 'rsync', 'ip']) stub(bin, tool, 'exit 0')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
  }
  delete env.CI
  const code = await new Promise<number | null>((resolve) =>
    execFile('bash', [CI_RUN], { env, timeout: 30_000 }, (err) =>
      resolve(err === null ? 0 : typeof err.code === 'number' ? err.code : null),
    ),
  )
  expect(code).toBe(0)
  expect(readFileSync(seen, 'utf8')).not.toBe('unset')
  expect(readFileSync(seen, 'utf8')).not.toBe('')
})
