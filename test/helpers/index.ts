// Test helpers: real servers on port 0 in temp dirs, polling with deadlines, raw protocol sockets.
export * from './cleanup.js'
export * from './temp-dir.js'
export * from './wait-for.js'
export * from './server-process.js'
export * from './raw-socket.js'
export * from './test-client.js'
export * from './disk.js'
