/**
 * Two ends of one real loopback TCP connection: the connecting side and the accepted side. The
 * caller destroys them; `close` also closes the listening server.
 */
import { once } from 'node:events'
import net from 'node:net'

export interface SocketPair {
  client: net.Socket
  accepted: net.Socket
  close(): void
}

export async function socketPair(): Promise<SocketPair> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = net.connect(port, '127.0.0.1')
  const [socket] = await accepted
  return {
    client,
    accepted: socket,
    close: () => {
      client.destroy()
      socket.destroy()
      server.close()
    },
  }
}
