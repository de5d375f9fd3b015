/**
 * `kwire tui` in a real terminal (tmux, 80×24): keys sent as a user types them, the screen read
 * back with `tmux capture-pane -p`; and the dashboard following a `kwire read` that writes the
 * database while it shows it. Runs the built CLI (npm test builds dist/ first).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Writable } from 'node:stream';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kwire } from './helpers/cli.js';
import { repoRoot } from './helpers/corpus.js';
import { twoPartCapture } from './helpers/synthetic.js';
import { TmuxSession } from './helpers/tmux.js';
import { StoreReader } from '../src/store/index.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'kwire-tui-e2e-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bin = path.join(repoRoot, 'bin', 'kwire');
const terminal = { columns: 80, rows: 24, cwd: repoRoot };

/** The rows of the flows table on a screen: the lines between its column titles and the footer. */
function tableRows(screen: string): string[] {
  const lines = screen.split('\n');
  const header = lines.findIndex((line) => line.startsWith('time '));
  return lines.slice(header + 1).filter((line) => /^\d\d:\d\d:\d\d /.test(line));
}

describe('kwire tui in a terminal', () => {
  it('shows the overview, flows, a flow in detail, a filter, and quits on q', async () => {
    const db = path.join(scratch, 'sample.db');
    expect(kwire(['read', 'captures/sample-tls-http.pcap', '--db', db, '-q']).status).toBe(0);
    const tmux = new TmuxSession(`${process.execPath} ${bin} tui --db ${db}`, terminal);
    try {
      let seen = await tmux.waitFor((screen) => screen.includes('node->apiserver') && screen.includes('finished  #1 sample-tls-http'));
      expect(seen.ok, seen.screen).toBe(true);
      expect(seen.screen.split('\n')[0]).toMatch(/^kwire {2}1 Overview {2}2 Flows {2}3 Detail {2}4 Findings +finished/);

      tmux.keys(['2']);
      seen = await tmux.waitFor((screen) => screen.includes('1/14  sort time'));
      expect(seen.ok, seen.screen).toBe(true);
      expect(tableRows(seen.screen)).toHaveLength(14);

      tmux.keys(['j']);
      seen = await tmux.waitFor((screen) => screen.includes('2/14  sort time'));
      expect(seen.ok, seen.screen).toBe(true);

      tmux.keys(['Enter']);
      seen = await tmux.waitFor((screen) => screen.includes('flow 2  198.18.0.12:58200 → 198.18.0.2:10250 (kubelet)'));
      expect(seen.ok, seen.screen).toBe(true);
      expect(seen.screen).toMatch(/#\d+ +ClientHello \d+ B +─+▶/);

      tmux.keys(['Escape']);
      seen = await tmux.waitFor((screen) => screen.includes('time ') && screen.includes('2/14  sort time'));
      expect(seen.ok, seen.screen).toBe(true);

      tmux.keys(['/']);
      seen = await tmux.waitFor((screen) => screen.includes('filter: █'));
      expect(seen.ok, seen.screen).toBe(true);
      tmux.keys(['kubelet'], true);
      seen = await tmux.waitFor((screen) => screen.includes('filter: kubelet█'));
      expect(seen.ok, seen.screen).toBe(true);
      tmux.keys(['Enter']);
      seen = await tmux.waitFor((screen) => screen.includes('1/4  sort time  filter "kubelet"'));
      expect(seen.ok, seen.screen).toBe(true);
      const rows = tableRows(seen.screen);
      expect(rows).toHaveLength(4);
      for (const row of rows) expect(row).toContain('client->kubelet');

      tmux.keys(['q']);
      seen = await tmux.waitFor((screen) => screen.includes('exited 0'));
      expect(seen.ok, seen.screen).toBe(true);
      // The alternate screen is gone: the terminal is as before.
      expect(seen.screen).not.toContain('node->apiserver');
    } finally {
      tmux.kill();
    }
  }, 60_000);

  it('shows a run that another kwire writes: the new capture, its flows as they come, then finished', async () => {
    const db = path.join(scratch, 'live.db');
    expect(kwire(['read', 'captures/sample-tls-http.pcap', '--db', db, '-q']).status).toBe(0);
    const tmux = new TmuxSession(`${process.execPath} ${bin} tui --db ${db}`, terminal);
    let writer: ChildProcessByStdio<Writable, null, null> | null = null;
    try {
      let seen = await tmux.waitFor((screen) => screen.includes('finished  #1'));
      expect(seen.ok, seen.screen).toBe(true);
      tmux.keys(['2']);
      seen = await tmux.waitFor((screen) => screen.includes('1/14'));
      expect(seen.ok, seen.screen).toBe(true);

      writer = spawn(process.execPath, [bin, 'read', '-', '--db', db, '-q'], { stdio: ['pipe', 'ignore', 'ignore'] });
      writer.stdin.on('error', () => {}); // EPIPE if the writer is gone

      // A capture in two parts, as from a live tcpdump: the writer stores the first part's 100 flows while it waits for the rest.
      const { first, rest } = await twoPartCapture();
      writer.stdin.write(first);
      seen = await tmux.waitFor((screen) => screen.includes('running  #2 stdin') && screen.includes('1/100  sort time'));
      expect(seen.ok, seen.screen).toBe(true);
      expect(tableRows(seen.screen)).toHaveLength(20);
      expect(storedFlows(db)).toBe(100);

      tmux.keys(['1']);
      seen = await tmux.waitFor((screen) => /100 flows/.test(screen) && screen.includes('running since'));
      expect(seen.ok, seen.screen).toBe(true);

      writer.stdin.end(rest);
      seen = await tmux.waitFor((screen) => screen.includes('finished  #2 stdin') && /300 flows/.test(screen));
      expect(seen.ok, seen.screen).toBe(true);
      expect(seen.screen).toMatch(/other +300 /);
      tmux.keys(['2']);
      seen = await tmux.waitFor((screen) => screen.includes('1/300  sort time'));
      expect(seen.ok, seen.screen).toBe(true);
      tmux.keys(['G']);
      seen = await tmux.waitFor((screen) => screen.includes('300/300  sort time'));
      expect(seen.ok, seen.screen).toBe(true);
      tmux.keys(['q']);
      seen = await tmux.waitFor((screen) => screen.includes('exited 0'));
      expect(seen.ok, seen.screen).toBe(true);
    } finally {
      writer?.kill();
      tmux.kill();
    }
  }, 60_000);
});

describe('--tui on read and check', () => {
  it('is a usage error when stdout is not a terminal', () => {
    for (const command of ['read', 'check']) {
      const result = kwire([command, 'captures/sample-tls-http.pcap', '--tui']);
      expect(result.status).toBe(2);
      expect(result.stderr).toBe("kwire: --tui: the dashboard needs a terminal, and stdout is not one (run it in a terminal, or drop --tui and use --json or 'kwire report')\n");
    }
    expect(kwire(['tui', '--db', 'whatever.db'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^kwire: tui: the dashboard needs a terminal/) });
    expect(kwire(['read', '-', '--tui', '--ndjson'])).toMatchObject({ status: 2, stderr: 'kwire: read: --tui and --ndjson are exclusive (both would write on the terminal as the capture is read)\n' });
  });

  it('shows the dashboard while reading, keeps it open at the end until q, then prints the summary; --no-db leaves no database', async () => {
    const cwd = mkdtempSync(path.join(scratch, 'run-'));
    const tmpBefore = tmpEntries();
    const tmux = new TmuxSession(
      `${process.execPath} ${bin} check ${path.join(repoRoot, 'captures/scenarios/apiserver-kubelet-selfsigned.pcap')} --cluster ${path.join(repoRoot, 'captures/scenarios/cluster.yaml')} --no-db --tui`,
      { ...terminal, cwd },
    );
    try {
      let seen = await tmux.waitFor((screen) => screen.includes('finished  #1 apiserver-kubele') && /apiserver->kubelet +1 /.test(screen));
      expect(seen.ok, seen.screen).toBe(true);
      // A database of its own while it runs, in the temporary directory.
      expect(tmpEntries().filter((entry) => entry.startsWith('kwire-tui-db-') && !tmpBefore.includes(entry))).toHaveLength(1);
      tmux.keys(['4']);
      seen = await tmux.waitFor((screen) => screen.includes('HIGH     KW003 server-not-verified  1 flow'));
      expect(seen.ok, seen.screen).toBe(true);
      tmux.keys(['q']);
      // check's summary and its exit status (1: a high finding) come after the dashboard.
      seen = await tmux.waitFor((screen) => screen.includes('exited 1'));
      expect(seen.ok, seen.screen).toBe(true);
      expect(seen.screen).toContain('kwire: check failed: 1 finding at or above low');
      expect(seen.screen).toMatch(/KW003 HIGH {2}server-not-verified/);
      expect(tmpEntries().filter((entry) => entry.startsWith('kwire-tui-db-') && !tmpBefore.includes(entry))).toEqual([]);
      expect(tmpEntries().length).toBeGreaterThan(0);
    } finally {
      tmux.kill();
    }
  }, 60_000);
});

function tmpEntries(): string[] {
  return readdirSync(tmpdir());
}

function storedFlows(db: string): number {
  const reader = StoreReader.open(db);
  try {
    return reader.flowCount(reader.latestCaptureId()!);
  } finally {
    reader.close();
  }
}

