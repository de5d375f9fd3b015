/**
 * SSH: the identification strings of both sides (RFC 4253 §4.2, `SSH-2.0-OpenSSH_9.2p1 Debian-2`),
 * then nothing — the rest is the encrypted transport. A server may send other lines before its
 * identification; they are skipped, within MAX_PRELUDE bytes.
 */
import type { Direction, EndReason, StreamHandler } from '../../model/flow.js';
import type { SshInfo } from '../../model/protocol.js';

/** The identification string's limit, CR LF included. */
export const MAX_BANNER = 255;
/** Bytes looked at per side before giving up on finding an identification string. */
const MAX_PRELUDE = 8 * 1024;

export function newSshInfo(): SshInfo {
  return { clientBanner: null, serverBanner: null };
}

class BannerReader {
  private readonly line = Buffer.alloc(MAX_BANNER);
  private len = 0;
  private seen = 0;
  done = false;

  /** Returns the identification string once its line is complete. */
  push(chunk: Buffer): string | null {
    for (let i = 0; i < chunk.length && !this.done; i++) {
      const byte = chunk[i];
      if (++this.seen > MAX_PRELUDE) this.done = true;
      else if (byte === 0x0a) {
        const end = this.len > 0 && this.line[this.len - 1] === 0x0d ? this.len - 1 : this.len;
        const text = this.line.toString('latin1', 0, end);
        this.len = 0;
        if (text.startsWith('SSH-')) {
          this.done = true;
          // Shown to people: anything but printable ASCII becomes '?'.
          return text.replace(/[^\x20-\x7e]/g, '?');
        }
      } else if (this.len < MAX_BANNER) this.line[this.len++] = byte;
      // An identification string longer than the limit is not one.
      else if (this.line.toString('latin1', 0, 4) === 'SSH-') this.done = true;
    }
    return null;
  }
}

export class SshAnalyzer implements StreamHandler {
  private readonly readers = [new BannerReader(), new BannerReader()];

  constructor(readonly info: SshInfo) {}

  onData(dir: Direction, chunk: Buffer, _ts: number, _packet: number): void {
    const reader = this.readers[dir];
    if (reader.done) return;
    const banner = reader.push(chunk);
    if (banner === null) return;
    if (dir === 0) this.info.clientBanner = banner;
    else this.info.serverBanner = banner;
  }

  onGap(dir: Direction, _bytes: number): void {
    this.readers[dir].done = true;
  }

  onEnd(_reason: EndReason): void {}
}
