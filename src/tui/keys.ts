/**
 * Keys to actions. While a filter is being typed every printable key is text; otherwise the
 * keys of less and vi (j/k, g/G, PgUp/PgDn), Tab or 1–4 for the views, `/` filter, `s` sort,
 * `?` help, Enter and Esc, `q` and Ctrl-C to quit.
 */
import type { Key } from 'ink';
import { VIEWS, type Action, type TuiState } from './state.js';

/** The part of Ink's Key the dashboard looks at (tests give only what they press). */
export type KeyFlags = Partial<Pick<Key, 'upArrow' | 'downArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'ctrl' | 'tab' | 'backspace' | 'delete' | 'shift'>>;

export function actionFor(state: Pick<TuiState, 'typing'>, input: string, key: KeyFlags): Action | null {
  if (key.ctrl && input === 'c') return { type: 'quit' };
  if (state.typing !== null) {
    if (key.return) return { type: 'filterApply' };
    if (key.escape) return { type: 'back' };
    if (key.backspace || key.delete) return { type: 'filterErase' };
    if (key.ctrl || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown) return null;
    return input ? { type: 'filterType', text: input } : null;
  }
  if (key.upArrow || input === 'k') return { type: 'move', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'move', by: 1 };
  if (key.pageUp || (key.ctrl && input === 'b')) return { type: 'page', by: -1 };
  if (key.pageDown || (key.ctrl && input === 'f') || input === ' ') return { type: 'page', by: 1 };
  if (key.home || input === 'g') return { type: 'jump', to: 'first' };
  if (key.end || input === 'G') return { type: 'jump', to: 'last' };
  if (key.return) return { type: 'open' };
  if (key.escape) return { type: 'back' };
  if (key.tab) return { type: 'nextView' };
  if (/^[1-4]$/.test(input)) return { type: 'show', view: VIEWS[Number(input) - 1] };
  if (input === '/') return { type: 'filterStart' };
  if (input === 's') return { type: 'sortNext' };
  if (input === '?' || input === 'h') return { type: 'help' };
  if (input === 'q') return { type: 'quit' };
  return null;
}

/** The help overlay: each key and what it does. */
export const KEY_HELP: readonly [string, string][] = [
  ['↑ ↓  k j', 'move the selection (scroll the detail)'],
  ['PgUp PgDn', 'a screen up or down (also Ctrl-B, Ctrl-F, space)'],
  ['g G', 'the first or the last line (also Home, End)'],
  ['Enter', 'open the selected flow; on a rule, its flows'],
  ['Esc', 'back: close the detail, the help, the filter'],
  ['Tab  1-4', 'views: 1 overview, 2 flows, 3 detail, 4 findings'],
  ['/', 'filter the flows: words in addresses, names, path, SNI, rule ids'],
  ['s', 'sort the flows by time, severity, bytes or path'],
  ['?', 'this help'],
  ['q  Ctrl-C', 'quit'],
];
