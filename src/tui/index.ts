/**
 * tui/: the dashboard over a kwire database (`kwire tui`, and `--tui` on read and check). It only
 * reads the database, as any other reader would, while a writer may be filling it.
 */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { createElement } from 'react';
import { render } from 'ink';
import { StoreReader } from '../store/index.js';
import { KwireError } from '../model/errors.js';
import { Dashboard } from './data.js';
import { App } from './components/App.js';

export { Dashboard, type DashboardOptions } from './data.js';
export { reduce, initialState, type TuiState, type Action, type View } from './state.js';

export interface DashboardRun {
  /** Settles when the user quits (q, Ctrl-C); rejects when the database cannot be read any more. */
  quit: Promise<void>;
  /** Takes the dashboard down now (the run failed): the terminal is as it was when this returns. */
  close(): void;
}

/** The alternate screen (as less and vim use): the dashboard leaves the terminal as it found it. */
const ENTER_ALTERNATE_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';

/**
 * Draws the dashboard of `db` on the terminal until the user quits. Keys come from stdin, or from
 * the terminal itself when stdin carries the capture (`tcpdump … | kwire read - --tui`).
 */
export function showDashboard(options: { db: string; captureId?: number | null; stdout?: NodeJS.WriteStream }): DashboardRun {
  const stdout = options.stdout ?? process.stdout;
  const stdin = keyboard();
  const reader = StoreReader.open(options.db);
  const dashboard = new Dashboard(reader, { size: { columns: stdout.columns || 80, rows: stdout.rows || 24 }, captureId: options.captureId ?? null });
  stdout.write(ENTER_ALTERNATE_SCREEN);
  // Frames are drawn only when the state changed (a key, or data read that differs); the cap bounds
  // a held key. At Ink's usual 20-30 a second, a key's frame often waited for the next interval
  // (measured in tmux: j took 68 ms at 20/s, 25-30 ms at 60/s).
  const instance = render(createElement(App, { dashboard }), { stdout, stdin, exitOnCtrlC: false, patchConsole: false, maxFps: 60 });
  const resize = () => dashboard.dispatch({ type: 'resize', size: { columns: stdout.columns || 80, rows: stdout.rows || 24 } });
  stdout.on('resize', resize);
  dashboard.start((error) => instance.unmount(error));
  let closed = false;
  const cleanUp = () => {
    if (closed) return;
    closed = true;
    dashboard.stop();
    stdout.off('resize', resize);
    stdout.write(LEAVE_ALTERNATE_SCREEN);
    reader.close();
    if (stdin !== process.stdin) stdin.destroy();
  };
  const quit = instance.waitUntilExit().then(cleanUp, (error: unknown) => {
    cleanUp();
    throw error;
  });
  return {
    quit,
    close() {
      instance.unmount();
      cleanUp();
    },
  };
}

/** stdin when it is a terminal; else the controlling terminal. */
function keyboard(): NodeJS.ReadStream {
  if (process.stdin.isTTY) return process.stdin;
  try {
    return new ReadStream(openSync('/dev/tty', 'r')) as unknown as NodeJS.ReadStream;
  } catch {
    throw new KwireError('USAGE', 'the dashboard reads its keys from a terminal, and neither stdin nor /dev/tty is one');
  }
}
