/** The top line: the views (the current one highlighted), and the capture with its state. */
import path from 'node:path';
import { VIEWS, VIEW_TITLES, type TuiState } from '../state.js';
import { fit, type Line } from '../format.js';
import { LineView } from './Line.js';

export function Header({ state }: { state: TuiState }) {
  const { capture } = state;
  const status = capture === null ? 'no capture yet' : `${capture.finished === null ? 'running' : 'finished'}  #${capture.id} ${path.basename(capture.source)}`;
  const line: Line = [{ text: 'kwire ', bold: true, color: 'cyan' }];
  for (const view of VIEWS) line.push({ text: ` ${VIEWS.indexOf(view) + 1} ${VIEW_TITLES[view]} `, inverse: view === state.view });
  const used = line.reduce((sum, segment) => sum + segment.text.length, 0);
  line.push({ text: fit(status, Math.max(0, state.size.columns - used - 1), 'right'), color: capture?.finished === null ? 'yellow' : 'green' });
  return <LineView line={line} width={state.size.columns} />;
}
