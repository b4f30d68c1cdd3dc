// Loaded by vitest before each test file (vitest.config.ts setupFiles).
import { afterAll } from 'vitest'
import { runFileCleanups } from './cleanup.js'

afterAll(runFileCleanups)
