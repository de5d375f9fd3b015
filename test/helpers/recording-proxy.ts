/**
 * A TCP relay on 127.0.0.1 that records what each side sent, in the order it arrived: a real
 * stack's bytes for the analyzers without a packet capture (each chunk stands for a packet).
 */
import net, { type AddressInfo } from 'node:net';
import type { Direction, FlowRecord } from '../../src/model/flow.js';

export interface RecordedChunk {
  dir: Direction;
  bytes: Buffer;
}

export interface RecordingProxy {
  port: number;
  /** One list of chunks per relayed connection, in the order connections were accepted. */
  connections: RecordedChunk[][];
  close(): Promise<void>;
}

export async function recordingProxy(targetPort: number): Promise<RecordingProxy> {
  const connections: RecordedChunk[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: RecordedChunk[] = [];
    connections.push(chunks);
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (bytes) => {
      chunks.push({ dir: 0, bytes });
      upstream.write(bytes);
    });
    upstream.on('data', (bytes) => {
      chunks.push({ dir: 1, bytes });
      client.write(bytes);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A flow record for chunks fed straight to a StreamFactory. */
export function fakeFlow(id = 1): FlowRecord {
  return {
    id, src: '198.18.0.2', sport: 40000 + id, dst: '198.18.0.1', dport: 6443, vlan: 0, tunnel: null,
    firstTs: 1_700_000_000, lastTs: 1_700_000_001, firstPacket: 1, packets: [0, 0], bytes: [0, 0], gaps: [0, 0],
    state: 'closed', orientation: 'syn',
  };
}
