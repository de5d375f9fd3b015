/**
 * The progress line on stderr (only when stderr is a terminal): bytes read, percent of the file,
 * packets/s, connections, findings. Redrawn in place, at most four times a second.
 */
import type { Progress } from '../lib.js';

const count = new Intl.NumberFormat('en-US');

export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly totalBytes: number | null,
  ) {}

  update(progress: Progress): void {
    const now = Date.now();
    if (now - this.lastDraw < 250) return;
    this.lastDraw = now;
    const seconds = progress.elapsedMs / 1000;
    const rate = seconds > 0 ? progress.packets / seconds : 0;
    const percent = this.totalBytes ? ` (${((100 * progress.sourceBytes) / this.totalBytes).toFixed(0)}%)` : '';
    const line =
      `${(progress.sourceBytes / 1e6).toFixed(1)} MB${percent}  ${count.format(progress.packets)} packets  ` +
      `${count.format(Math.round(rate))} packets/s  ${count.format(progress.flows)} connections  ${count.format(progress.findings)} findings`;
    this.stream.write(`\r\x1b[K${line}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}
