/**
 * capture/live/ without an interface: the pcapng writer (read back by the file reader), the
 * statistics the capture processes print, libpcap's messages as the user sees them, and the
 * choice of backend (with backends a test provides).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../model/frame.js';
import { LiveCaptureError } from '../../model/errors.js';
import { readChunks } from '../testing.js';
import { captureOpenError } from './errors.js';
import { CAP_BUFFER_KIB, CaptureStats, PcapngWriter, TCPDUMP_BUFFER_KIB, openLiveCapture } from './index.js';
import { capCommand } from './cap.js';
import { tcpdumpCommand } from './tcpdump.js';

const newFrame = (): Frame => ({ index: 0, ts: 0, linktype: 1, buf: Buffer.alloc(0), offset: 0, caplen: 0, origlen: 0, iface: 0 });
const packetOf = (n: number, length: number) => Buffer.alloc(length, n & 0xff);

describe('PcapngWriter', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kwire-pcapng-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes what the pcapng reader reads back: frames, times to the microsecond, the statistics', () => {
    const file = path.join(dir, 'out.pcapng');
    const writer = new PcapngWriter(file, 'br0', 'kwire test');
    const frame = newFrame();
    // Many frames, so that the writer's buffer is flushed several times; odd lengths need padding.
    for (let i = 0; i < 3000; i++) {
      const data = packetOf(i, 61 + (i % 1400));
      Object.assign(frame, { buf: Buffer.concat([Buffer.alloc(7), data]), offset: 7, caplen: data.length, origlen: data.length + (i % 2), ts: 1_790_000_000 + i * 0.000123 });
      writer.frame(frame);
    }
    writer.close({ ts: 1_790_000_001, received: 3010, dropped: 10 });
    const bytes = readFileSync(file);
    const { sink, summary } = readChunks(bytes, [bytes]);
    expect(summary.damage).toBeNull();
    expect(summary.format).toBe('pcapng');
    expect(sink.frames).toHaveLength(3000);
    sink.frames.forEach((copied, i) => {
      expect(copied.data.equals(packetOf(i, 61 + (i % 1400))), `frame ${i}`).toBe(true);
      expect(copied.origlen).toBe(copied.caplen + (i % 2));
      expect(copied.ts).toBeCloseTo(1_790_000_000 + i * 0.000123, 6);
      expect(copied.linktype).toBe(1);
    });
    expect(sink.stats.map(({ received, dropped }) => ({ received, dropped }))).toEqual([{ received: 3010, dropped: 10 }]);
  });

  it('names the file it cannot write', () => {
    expect(() => new PcapngWriter(path.join(dir, 'missing', 'x.pcapng'), 'br0', 'kwire')).toThrow(/missing\/x\.pcapng: cannot write the capture \(ENOENT\)/);
  });
});

describe('capture statistics, in tcpdump\'s words', () => {
  const counts = (stats: CaptureStats) => [stats.received, stats.droppedByKernel, stats.droppedByKwire];

  it("takes tcpdump's last counts, from SIGUSR1 reports and the closing lines", () => {
    const stats = new CaptureStats();
    stats.parse('tcpdump: listening on br0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n');
    expect(counts(stats)).toEqual([null, null, 0]);
    stats.parse('tcpdump: 10 packets captured, 12 packets received by filter, 1 packet dropped by kernel\n');
    expect(counts(stats)).toEqual([12, 1, 0]);
    stats.parse('40 packets captured\n45 packets received by filter\n3 packets dropped by kernel\n2 packets dropped by interface\n');
    expect(counts(stats)).toEqual([45, 5, 0]);
  });

  it("takes the cap worker's: no kernel drops (unknown), its own", () => {
    const stats = new CaptureStats();
    stats.parse('kwire-cap: 120 packets received by filter, 0 packets dropped by kwire\nkwire-cap: 300 packets received by filter, 7 packets dropped by kwire\n');
    expect(counts(stats)).toEqual([300, null, 7]);
  });
});

describe("libpcap's messages, as the user sees them", () => {
  const message = (text: string, filter = 'tcp') => captureOpenError('br0', filter, 'tcpdump', text).message;

  it('no such interface lists the ones there are', () => {
    expect(message('tcpdump: br0: No such device exists')).toMatch(/^br0: no such interface \(there are: any, .*lo/);
  });

  it('no permission says how to get it', () => {
    expect(message("tcpdump: br0: You don't have permission to perform this capture on that device")).toBe(
      `br0: no permission to capture (You don't have permission to perform this capture on that device): run kwire as root, or give node the capture capabilities: setcap cap_net_raw,cap_net_admin+eip ${process.execPath}`,
    );
    expect(message('socket: Operation not permitted')).toMatch(/^br0: no permission to capture \(socket: Operation not permitted\): run kwire as root/);
  });

  it("a bad filter quotes it with libpcap's reason", () => {
    expect(message("tcpdump: can't parse filter expression: syntax error", 'tcp port')).toBe("br0: bad capture filter 'tcp port': can't parse filter expression: syntax error");
  });

  it('anything else names the backend and its words; every one is one line', () => {
    const error = captureOpenError('br0', '', 'libpcap', 'something odd');
    expect(error).toBeInstanceOf(LiveCaptureError);
    expect(error.message).toBe('br0: cannot capture (libpcap: something odd)');
    expect(error.message).not.toContain('\n');
  });

});

describe('choosing the backend', () => {
  const noCap = () => new Error("Cannot find module 'cap'");
  const open = (backend: 'auto' | 'cap' | 'tcpdump', findTcpdump: () => string | null) =>
    openLiveCapture({ interface: 'br0', filter: '', backend }, { loadCap: noCap, findTcpdump });

  it('auto without cap nor tcpdump says how to get either', async () => {
    await expect(open('auto', () => null)).rejects.toThrow(
      'br0: no capture backend: the optional cap module did not load and tcpdump is not installed (apt-get install libpcap-dev && npm rebuild cap, or apt-get install tcpdump)',
    );
  });

  it('cap asked for but not loaded says why, and how to get it', async () => {
    await expect(open('cap', () => '/usr/bin/tcpdump')).rejects.toThrow(
      "br0: the cap backend did not load (Cannot find module 'cap'); apt-get install libpcap-dev && npm rebuild cap, or use --backend tcpdump",
    );
  });

  it('tcpdump asked for but not installed', async () => {
    await expect(open('tcpdump', () => null)).rejects.toThrow('br0: tcpdump is not installed (apt-get install tcpdump), or use --backend cap');
  });

  it('auto falls back to tcpdump when cap did not load', async () => {
    // A tcpdump that cannot start shows that it was chosen: its message reaches the user.
    await expect(open('auto', () => '/bin/false')).rejects.toThrow(/^br0: cannot capture \(tcpdump: /);
  });
});

describe("the kernel's capture buffer on the capture processes' command lines", () => {
  it('tcpdump gets -B KiB, or its default', () => {
    expect(tcpdumpCommand('/usr/bin/tcpdump', 'br0', 'tcp port 443', 8192).args).toEqual(['-i', 'br0', '-B', '8192', '-U', '-s', '0', '-w', '-', 'tcp port 443']);
    expect(tcpdumpCommand('/usr/bin/tcpdump', 'br0', '', null).args).toEqual(['-i', 'br0', '-B', String(TCPDUMP_BUFFER_KIB), '-U', '-s', '0', '-w', '-']);
  });

  it('the cap worker gets it third, after a filter that may be empty', () => {
    expect(capCommand('br0', '', 8192).args.slice(1)).toEqual(['br0', '', '8192']);
    expect(capCommand('br0', 'tcp', null).args.slice(1)).toEqual(['br0', 'tcp', String(CAP_BUFFER_KIB)]);
  });

  it('a buffer libpcap cannot take is refused before any capture starts', async () => {
    const backends = { loadCap: () => new Error('no cap'), findTcpdump: () => '/bin/false' };
    for (const bufferKiB of [0, 1.5, 2_097_152]) {
      await expect(openLiveCapture({ interface: 'br0', filter: '', backend: 'auto', bufferKiB }, backends)).rejects.toThrow(RangeError);
    }
    await expect(openLiveCapture({ interface: 'br0', filter: '', backend: 'auto', bufferKiB: 0 }, backends)).rejects.toThrow(
      "br0: the kernel's capture buffer takes a positive integer of KiB (got 0)",
    );
  });
});
