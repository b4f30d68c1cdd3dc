/**
 * Cleanup registry for test resources. A resource made inside a test is cleaned when that test
 * finishes; one made outside a test (beforeAll) when its file's tests are done (the afterAll in
 * setup.ts). Server processes are also killed on process exit, so none outlives a crashed run.
 */
import type { ChildProcess } from 'node:child_process'
import { onTestFinished } from 'vitest'

type Cleanup = () => Promise<void> | void

const fileScope: Cleanup[] = []
/** Cleanups of the running test; undefined between tests. */
let testScope: Cleanup[] | undefined
const liveProcesses = new Set<ChildProcess>()

/** Run `cleanup` when the current test finishes, or at the end of the file outside a test. */
export function registerCleanup(cleanup: Cleanup): void {
  if (testScope) {
    testScope.push(cleanup)
    return
  }
  const scope: Cleanup[] = [cleanup]
  try {
    onTestFinished(async () => {
      testScope = undefined
      await runStack(scope)
    })
    testScope = scope
  } catch {
    // Not inside a test (beforeAll or module level): clean up with the file.
    fileScope.push(cleanup)
  }
}

/** Run cleanups newest first (servers stop before their directories go); report all failures. */
async function runStack(stack: Cleanup[]): Promise<void> {
  const errors: unknown[] = []
  while (stack.length > 0) {
    try {
      await stack.pop()!()
    } catch (err) {
      errors.push(err)
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'test cleanup failed')
}

/** Run every file-level cleanup, then kill any server still running. */
export async function runFileCleanups(): Promise<void> {
  try {
    await runStack(fileScope)
  } finally {
    killLiveProcesses()
  }
}

/** Track a child process so that it is killed if the test run ends while it lives. */
export function trackProcess(proc: ChildProcess): void {
  liveProcesses.add(proc)
  proc.once('exit', () => liveProcesses.delete(proc))
}

export function killLiveProcesses(): void {
  for (const proc of liveProcesses) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  }
  liveProcesses.clear()
}

// The last line of defence: a worker that exits (or is killed by a timeout) takes its servers along.
process.once('exit', killLiveProcesses)
