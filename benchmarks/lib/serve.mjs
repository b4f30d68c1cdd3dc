// Starts `tandem serve` from dist/ for as long as dist/bin/tandem.js does not exist yet.
import { importDist } from './dist.mjs'

const m = await importDist('server/main.js')
await m.main(process.argv.slice(2))
