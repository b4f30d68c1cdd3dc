/**
 * Which build is measured: the repository's dist/ (what `npm run bench` has just built), or the
 * dist/ folder named by TANDEM_DIST, to compare two builds on one machine (e.g. before and after
 * an optimisation: build the old commit elsewhere and point TANDEM_DIST at its dist/).
 */
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const DIST_DIR = process.env.TANDEM_DIST
  ? path.resolve(process.env.TANDEM_DIST)
  : fileURLToPath(new URL('../../dist/', import.meta.url))

/** Absolute path of a file inside the measured dist/. @param {string} relative */
export function distPath(relative) {
  return path.join(DIST_DIR, relative)
}

/** Import a module of the measured dist/. @param {string} relative */
export function importDist(relative) {
  return import(pathToFileURL(distPath(relative)).href)
}
