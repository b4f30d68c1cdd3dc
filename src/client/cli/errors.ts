/** Errors that belong to the command line itself (not to the protocol's catalogue). */

/** The command line was used wrongly: main.ts prints it and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
