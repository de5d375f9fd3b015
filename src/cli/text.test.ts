import { describe, expect, it } from 'vitest';
import type { LiveCaptureInfo } from '../model/capture.js';
import { liveLossWarning } from './text.js';

const live = (counts: Partial<LiveCaptureInfo>): LiveCaptureInfo => ({
  interface: 'eth0',
  backend: 'tcpdump',
  filter: '',
  timestamps: 'kernel',
  received: 4_037_310,
  droppedByKernel: 0,
  droppedByKwire: 0,
  ended: null,
  ...counts,
});

describe('the warning of a live capture that lost packets', () => {
  it('says nothing when nothing was lost, or when the kernel could not say (cap)', () => {
    expect(liveLossWarning(live({}))).toBeNull();
    expect(liveLossWarning(live({ backend: 'cap', timestamps: 'arrival', droppedByKernel: null }))).toBeNull();
  });

  it("the kernel's drops: how many, of what, and the larger buffer", () => {
    // The 250,000 packets/s run of bench/RESULTS.md (06:41).
    expect(liveLossWarning(live({ received: 4_934_490, droppedByKernel: 183_775 }))).toBe(
      'kwire: warning: eth0: the kernel dropped 183,775 of the 4,934,490 packets received (3.72%): the capture fell behind, and connections may miss packets and findings; a larger kernel buffer (-B KiB) absorbs longer bursts\n',
    );
  });

  it("no share where there is none: the interface's drops are not among those received", () => {
    expect(liveLossWarning(live({ received: 0, droppedByKernel: 5 }))).toMatch(/^kwire: warning: eth0: the kernel dropped 5 packets: the capture fell behind/);
  });

  it("kwire's own drops (cap's queue full): the cheaper backend", () => {
    expect(liveLossWarning(live({ backend: 'cap', timestamps: 'arrival', droppedByKernel: null, received: 4_016_877, droppedByKwire: 928_336 }))).toBe(
      'kwire: warning: eth0: kwire dropped 928,336 of the 4,016,877 packets received (23.11%): the analysis fell behind the capture, and connections may miss packets and findings; --backend tcpdump costs less per packet\n',
    );
  });
});
