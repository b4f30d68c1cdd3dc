// The wire protocol: pure code shared by the client and the server (no sockets, files or threads).
export * from './constants.js'
export * from './errors.js'
export * from './names.js'
export * from './display-text.js'
export * from './messages.js'
export * from './peer-messages.js'
export * from './frame-encoder.js'
export * from './frame-decoder.js'
