// Loaded by vitest before each test file (vitest.config.ts setupFiles).
import { afterAll } from 'vitest'
import { runFileCleanups } from './cleanup.js'

// A developer's cluster settings must not reach the servers and clients the tests start: with them
// a test server (or a client given no --server) would use multicast DNS on the host's real LAN.
delete process.env.TANDEM_CLUSTER
delete process.env.TANDEM_CLUSTER_KEY

afterAll(runFileCleanups)
