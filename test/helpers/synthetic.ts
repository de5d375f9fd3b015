/**
 * A synthetic classic pcap stream, made on the fly: `connections` TCP connections (Ethernet,
 * IPv4, 198.18.0.0/15 addresses), each a handshake, `segmentsPerConnection` full-size data
 * segments from the server, and a FIN exchange, interleaved `concurrent` at a time. Used to show
 * that memory does not grow with the size of the capture; no file is written.
 */
import { Readable } from 'node:stream';
import { pcapGlobalHeader, writePcapRecordHeader } from './pcap-file.js';

export interface SyntheticOptions {
  connections: number;
  segmentsPerConnection: number;
  concurrent: number;
  payloadBytes?: number;
  /** Timestamp of the first packet (seconds); 1,700,000,000 by default. */
  startTs?: number;
}

const ETH = 14;
const IP = 20;
const TCP = 20;

export function syntheticPcap(options: SyntheticOptions): Readable {
  const payloadBytes = options.payloadBytes ?? 1400;
  return Readable.from(generate(options, payloadBytes), { objectMode: false });
}

function* generate({ connections, segmentsPerConnection, concurrent, startTs }: SyntheticOptions, payloadBytes: number): Generator<Buffer> {
  yield pcapGlobalHeader(1);

  const payload = Buffer.alloc(payloadBytes, 0x61);
  let ts = startTs ?? 1_700_000_000;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const emit = (frame: Buffer): Buffer[] | null => {
    batch.push(frame);
    batchBytes += frame.length;
    if (batchBytes < 1 << 20) return null;
    const full = batch;
    batch = [];
    batchBytes = 0;
    return full;
  };

  for (let first = 0; first < connections; first += concurrent) {
    const group = Math.min(concurrent, connections - first);
    // Each step advances every connection of the group by one packet, so `group` flows are open at once.
    const steps = 3 + segmentsPerConnection + 4;
    for (let step = 0; step < steps; step++) {
      for (let k = 0; k < group; k++) {
        const n = first + k;
        ts += 0.001; // a thousand packets a second: connections end and linger out as on a real link
        const frame = packetFor(n, step, segmentsPerConnection, payload, ts);
        const full = emit(frame);
        if (full) yield Buffer.concat(full);
      }
    }
  }
  if (batch.length) yield Buffer.concat(batch);
}

const CLIENT_ISN = 1000;
const SERVER_ISN = 0xfffff000; // wraps around within the first few segments

function packetFor(n: number, step: number, segments: number, payload: Buffer, ts: number): Buffer {
  const client = { ip: 0xc6120000 | ((n >> 8) & 0xff) << 8 | (n & 0xff) || 1, port: 10000 + (n % 50000) };
  const server = { ip: 0xc6130001, port: 443 };
  const dataEnd = 3 + segments;
  const serverSeqAt = (i: number) => (SERVER_ISN + 1 + i * payload.length) >>> 0;
  if (step === 0) return frame(client, server, CLIENT_ISN, 0, 0x02, null, ts);
  if (step === 1) return frame(server, client, SERVER_ISN, CLIENT_ISN + 1, 0x12, null, ts);
  if (step === 2) return frame(client, server, CLIENT_ISN + 1, serverSeqAt(0), 0x10, null, ts);
  if (step < dataEnd) return frame(server, client, serverSeqAt(step - 3), CLIENT_ISN + 1, 0x18, payload, ts);
  const finSeq = serverSeqAt(segments);
  if (step === dataEnd) return frame(server, client, finSeq, CLIENT_ISN + 1, 0x11, null, ts);
  if (step === dataEnd + 1) return frame(client, server, CLIENT_ISN + 1, (finSeq + 1) >>> 0, 0x10, null, ts);
  if (step === dataEnd + 2) return frame(client, server, CLIENT_ISN + 1, (finSeq + 1) >>> 0, 0x11, null, ts);
  return frame(server, client, (finSeq + 1) >>> 0, CLIENT_ISN + 2, 0x10, null, ts);
}

interface Endpoint {
  ip: number;
  port: number;
}

function frame(from: Endpoint, to: Endpoint, seq: number, ack: number, flags: number, payload: Buffer | null, ts: number): Buffer {
  const length = ETH + IP + TCP + (payload?.length ?? 0);
  const buf = Buffer.alloc(16 + length);
  writePcapRecordHeader(buf, 0, ts, length);
  const eth = 16;
  buf.writeUInt16BE(0x0800, eth + 12);
  const ip = eth + ETH;
  buf[ip] = 0x45;
  buf.writeUInt16BE(IP + TCP + (payload?.length ?? 0), ip + 2);
  buf[ip + 8] = 64;
  buf[ip + 9] = 6;
  buf.writeUInt32BE(from.ip >>> 0, ip + 12);
  buf.writeUInt32BE(to.ip >>> 0, ip + 16);
  const tcp = ip + IP;
  buf.writeUInt16BE(from.port, tcp);
  buf.writeUInt16BE(to.port, tcp + 2);
  buf.writeUInt32BE(seq >>> 0, tcp + 4);
  buf.writeUInt32BE(ack >>> 0, tcp + 8);
  buf[tcp + 12] = 5 << 4;
  buf[tcp + 13] = flags;
  buf.writeUInt16BE(65535, tcp + 14);
  payload?.copy(buf, tcp + TCP);
  return buf;
}

/**
 * A capture that arrives in two parts an hour apart, as from a live tcpdump: `first` holds 100
 * connections and the first packet of the second part, which ends them (their 5 s linger is
 * over), so a writer stores them while it waits; `rest` holds the other 200 connections.
 */
export async function twoPartCapture(): Promise<{ first: Buffer; rest: Buffer }> {
  const part = async (connections: number, startTs?: number) => {
    const chunks: Buffer[] = [];
    for await (const chunk of syntheticPcap({ connections, segmentsPerConnection: 1, concurrent: 1, payloadBytes: 200, startTs })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const early = await part(100);
  const late = (await part(200, 1_700_003_600)).subarray(24); // without its global header
  const firstPacket = 16 + late.readUInt32LE(8);
  return { first: Buffer.concat([early, late.subarray(0, firstPacket)]), rest: late.subarray(firstPacket) };
}
