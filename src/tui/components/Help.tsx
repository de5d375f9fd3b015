/** The help overlay (`?`): each key and what it does. */
import { KEY_HELP } from '../keys.js';
import { Lines } from './Line.js';
import type { Line } from '../format.js';

export function Help({ width, height }: { width: number; height: number }) {
  const lines: Line[] = [
    [{ text: 'keys', bold: true }],
    ...KEY_HELP.map(([keys, what]): Line => [{ text: `  ${keys.padEnd(12)}`, color: 'cyan' }, { text: what }]),
    [],
    [{ text: 'colours: ', dim: true }, { text: 'mTLS ', color: 'green' }, { text: 'server-only ', color: 'cyan' }, { text: 'unverified ', color: 'red' }, { text: 'tls ? ', color: 'yellow' }, { text: 'plaintext', color: 'magenta' }],
    [{ text: 'Esc or ? closes this help', dim: true }],
  ];
  return <Lines lines={lines} width={width} height={height} />;
}
