import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_BANNER, SshAnalyzer, newSshInfo } from './ssh.js';
import { cutsAt, feed, type Segment } from '../http1/testing.js';
import type { SshInfo } from '../../model/protocol.js';

function run(segments: Segment[], cuts?: (length: number) => number[]): SshInfo {
  const info = newSshInfo();
  feed(new SshAnalyzer(info), segments, cuts);
  return info;
}

/** Banners as real servers send them, then the start of their KEXINIT packet (hex of the wire bytes). */
const DEBIAN_SERVER = Buffer.from('5353482d322e302d4f70656e5353485f392e3270312044656269616e2d322b646562313275330d0a000005dc071400', 'hex');
const DROPBEAR_SERVER = Buffer.from('5353482d322e302d64726f70626561725f323032322e38330d0a0000', 'hex');
const OPENSSH_CLIENT = Buffer.from('5353482d322e302d4f70656e5353485f382e397031205562756e74752d337562756e7475302e310d0a00000634', 'hex');

describe('SshAnalyzer', () => {
  it('reads the identification strings of both sides', () => {
    expect(run([[0, OPENSSH_CLIENT], [1, DEBIAN_SERVER]])).toEqual({
      clientBanner: 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1',
      serverBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
    });
    expect(run([[1, DROPBEAR_SERVER]]).serverBanner).toBe('SSH-2.0-dropbear_2022.83');
  });

  it('skips lines a server sends before its identification, and accepts a bare LF', () => {
    expect(run([[1, 'Welcome to node1\r\nauthorised use only\nSSH-1.99-Cisco-1.25\n']]).serverBanner).toBe('SSH-1.99-Cisco-1.25');
  });

  it('refuses an identification string over 255 bytes, and a side cut by a gap', () => {
    expect(run([[0, `SSH-2.0-${'x'.repeat(MAX_BANNER)}\r\n`]]).clientBanner).toBeNull();
    expect(run([[0, `SSH-2.0-${'x'.repeat(MAX_BANNER - 10)}\r\n`]]).clientBanner).toHaveLength(MAX_BANNER - 2);
    const info = newSshInfo();
    const ssh = new SshAnalyzer(info);
    ssh.onData(1, Buffer.from('SSH-2.0-Open'), 1, 1);
    ssh.onGap(1, 5);
    ssh.onData(1, Buffer.from('SSH_9.2\r\n'), 2, 2);
    expect(info.serverBanner).toBeNull();
  });

  it('shows control characters as ?', () => {
    expect(run([[1, 'SSH-2.0-evil\x1b[2J\r\n']]).serverBanner).toBe('SSH-2.0-evil?[2J');
  });

  it('gives the same info whatever the chunking, and never throws on random bytes', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from('SSH-2.0-'), b])),
    );
    fc.assert(
      fc.property(bytes, bytes, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (c2s, s2c, fractions) => {
        const whole = run([[0, c2s], [1, s2c]]);
        expect(run([[0, c2s], [1, s2c]], cutsAt(fractions))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  // A real OpenSSH client over loopback, against a listener that answers with a server banner.
  const hasSsh = spawnSync('ssh', ['-V']).status === 0;
  it.skipIf(!hasSsh)("reads the local OpenSSH client's real identification string", async () => {
    const server = createServer((socket) => {
      socket.write(DEBIAN_SERVER.subarray(0, DEBIAN_SERVER.indexOf(0x0a) + 1));
      socket.on('data', (data) => received.push(Buffer.from(data)));
      socket.on('error', () => {});
    });
    const received: Buffer[] = [];
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client = spawn('ssh', ['-p', String(port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', 'kwire@127.0.0.1'], { stdio: 'ignore' });
    while (!Buffer.concat(received).includes(0x0a)) await new Promise((r) => setTimeout(r, 20));
    client.kill();
    server.close();
    const info = run([[0, Buffer.concat(received)], [1, DEBIAN_SERVER]]);
    const version = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr; // e.g. "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 …"
    expect(info.clientBanner).toBe(`SSH-2.0-${version.split(',')[0]}`);
  });
});
