/** The dashboard: header, the current view (or the help), footer; keys go to the data layer. */
import { useEffect, useSyncExternalStore } from 'react';
import { Box, useApp, useInput } from 'ink';
import type { Dashboard } from '../data.js';
import { actionFor } from '../keys.js';
import { frameLines, bodyLines, type TuiState } from '../state.js';
import { Header } from './Header.js';
import { Footer } from './Footer.js';
import { Overview } from './Overview.js';
import { Flows } from './Flows.js';
import { Detail } from './Detail.js';
import { Findings } from './Findings.js';
import { Help } from './Help.js';

export function App({ dashboard }: { dashboard: Dashboard }) {
  const state = useSyncExternalStore(dashboard.subscribe, dashboard.getState);
  const { exit } = useApp();
  useInput((input, key) => {
    const action = actionFor(dashboard.getState(), input, key);
    if (action) dashboard.dispatch(action);
  });
  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);
  return (
    <Box flexDirection="column" width={state.size.columns} height={frameLines(state.size)} overflow="hidden">
      <Header state={state} />
      <Body state={state} />
      <Footer state={state} />
    </Box>
  );
}

function Body({ state }: { state: TuiState }) {
  if (state.help) return <Help width={state.size.columns} height={bodyLines(state.size)} />;
  switch (state.view) {
    case 'overview':
      return <Overview state={state} />;
    case 'flows':
      return <Flows state={state} />;
    case 'detail':
      return <Detail state={state} />;
    case 'findings':
      return <Findings state={state} />;
  }
}
