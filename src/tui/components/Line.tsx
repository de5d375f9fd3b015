/** One line of styled segments, cut to the width so that Ink never wraps it. */
import { Text } from 'ink';
import { fitLine, type Line } from '../format.js';

export function LineView({ line, width, inverse = false }: { line: Line; width: number; inverse?: boolean }) {
  const segments = fitLine(line, width);
  const used = segments.reduce((sum, segment) => sum + segment.text.length, 0);
  // A selected line is highlighted across the whole width.
  const padding = inverse && used < width ? ' '.repeat(width - used) : '';
  return (
    <Text wrap="truncate" inverse={inverse}>
      {segments.map((segment, i) => (
        <Text key={i} color={segment.color} bold={segment.bold} dimColor={segment.dim} inverse={segment.inverse}>
          {segment.text}
        </Text>
      ))}
      {padding}
      {segments.length === 0 && !padding ? ' ' : ''}
    </Text>
  );
}

/** `lines` from `from`, as many as `height`, padded with empty lines to exactly `height`. */
export function Lines({ lines, width, height, from = 0, selected = -1 }: { lines: Line[]; width: number; height: number; from?: number; selected?: number }) {
  const shown = lines.slice(from, from + height);
  while (shown.length < height) shown.push([]);
  return (
    <>
      {shown.map((line, i) => (
        <LineView key={i} line={line} width={width} inverse={from + i === selected} />
      ))}
    </>
  );
}
