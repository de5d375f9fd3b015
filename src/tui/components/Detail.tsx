/** The flow detail view (Enter on a flow): detail.ts's lines, scrolled. */
import { bodyLines, type TuiState } from '../state.js';
import { detailLines } from '../detail.js';
import { Lines } from './Line.js';

export function Detail({ state }: { state: TuiState }) {
  const { detail, size } = state;
  const height = bodyLines(size);
  if (detail.flowId === null) return <Lines lines={[[{ text: 'No flow chosen: Enter on a flow (view 2) or on a finding\'s flow (view 4).', dim: true }]]} width={size.columns} height={height} />;
  if (detail.record === null) return <Lines lines={[[{ text: `flow ${detail.flowId} is not in this capture`, dim: true }]]} width={size.columns} height={height} />;
  return <Lines lines={detailLines(detail.record, size.columns)} width={size.columns} height={height} from={detail.scroll} />;
}
