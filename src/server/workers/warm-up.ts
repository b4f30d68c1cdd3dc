/**
 * A task that does nothing: run on a session thread that has just started, so that the thread
 * (and the session code it loads at start) is ready before a client needs it.
 */
export default function warmUp(): void {}
