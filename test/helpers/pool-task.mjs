// A task for SessionPool tests: answers with its thread's id, then ends when its port says
// 'end' — or ends the whole thread (a crash) when it says 'exit'.
import { threadId } from 'node:worker_threads'

export default function poolTask({ port }) {
  port.postMessage(threadId)
  return new Promise((resolve) => {
    port.on('message', (m) => {
      if (m === 'exit') process.exit(1)
      port.close()
      resolve(threadId)
    })
  })
}
