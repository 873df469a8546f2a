/**
 * HTTP requests that `fetch` will not send: a forged Host header, an unnormalised path
 * (`/../x`, `%2e%2e`), a body that lies about its length or never ends. Through node:http and
 * raw sockets on loopback.
 */
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export async function rawRequest(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string }
): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path, headers: o.headers }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

export interface RawSocket {
  socket: Socket
  /** Everything received so far. */
  received: () => string
  /** Resolves with everything received once the server closes the connection. */
  ended: Promise<string>
  write: (text: string) => void
  destroy: () => void
}

/** A plain TCP connection to the server, writing exactly what the test says. */
export async function rawSocket(port: number): Promise<RawSocket> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let data = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => (data += d))
  const ended = new Promise<string>(resolve => {
    socket.once('close', () => resolve(data))
    socket.on('error', () => {})
  })
  return {
    socket,
    received: () => data,
    ended,
    write: text => {
      if (!socket.destroyed) socket.write(text)
    },
    destroy: () => socket.destroy()
  }
}
