/** The bottom line: the filter being typed, or where the flows table stands and the main keys. */
import { Text } from 'ink';
import type { TuiState } from '../state.js';
import { countText, fit } from '../format.js';

export function Footer({ state }: { state: TuiState }) {
  const width = state.size.columns;
  if (state.typing !== null) {
    return (
      <Text wrap="truncate">
        <Text color="cyan">filter: </Text>
        {fit(`${state.typing}█`, width - 8)}
      </Text>
    );
  }
  const { flows } = state;
  const position = flows.total === 0 ? 'no flows' : `${countText(flows.cursor + 1)}/${countText(flows.total)}`;
  const where = state.view === 'flows' || state.view === 'detail' ? `${position}  sort ${flows.sort}${flows.filter ? `  filter "${flows.filter}"` : ''}  ` : '';
  return <Text dimColor wrap="truncate">{fit(`${where}↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit`, width)}</Text>;
}
