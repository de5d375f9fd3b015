/**
 * A terminal for end-to-end tests of the dashboard: tmux runs a command in a detached session of
 * a fixed size; tests send keys and read the screen (`capture-pane -p`), with bounded waits.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';

export class TmuxSession {
  readonly name = `kwire-test-${process.pid}-${randomBytes(3).toString('hex')}`;

  /** Starts `command` (a shell line) in a new session; CI is unset, or Ink would draw only its last frame. */
  constructor(command: string, options: { columns: number; rows: number; cwd: string }) {
    execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', String(options.columns), '-y', String(options.rows), '-c', options.cwd,
      `env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color ${command}; echo "exited $?"; sleep 600`]);
  }

  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  /** tmux key names (`Enter`, `Escape`, `j`); `literal` sends text as typed. */
  keys(keys: string[], literal = false): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...(literal ? ['-l'] : []), ...keys]);
  }

  /** Polls the screen every 100 ms for at most `ms` until `test` holds; the last screen, for the assertion's message. */
  async waitFor(test: (screen: string) => boolean, ms = 10_000): Promise<{ ok: boolean; screen: string }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = this.screen();
      if (test(screen)) return { ok: true, screen };
      if (Date.now() > deadline) return { ok: false, screen };
      await sleep(100);
    }
  }

  kill(): void {
    try {
      execFileSync('tmux', ['kill-session', '-t', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
