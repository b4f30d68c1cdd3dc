// The wire protocol as the client needs it, without the zod schemas that validate what a server
// receives: importing zod and building those schemas was ~0.1 s of CPU at every start of the
// command line (of ~0.3 s for `tandem --version`). The client checks what a server sends by
// hand (client/server-message.ts). Types come from the schemas' modules (erased at run time).
export * from './constants.js'
export * from './errors.js'
export * from './names.js'
export * from './display-text.js'
export * from './units.js'
export * from './frame-encoder.js'
export * from './frame-decoder.js'
export * from './copies.js'
export type * from './messages.js'
export type * from './peer-messages.js'
export type * from './handshake.js'
