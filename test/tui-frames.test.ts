/**
 * The dashboard's frames (ink-testing-library's lastFrame()) at a fixed size, 80×24 and 120×40,
 * for each view, over databases the real CLI wrote from captures/: the sample capture, and a
 * scenario capture with a self-signed kubelet certificate for the detail view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { kwire } from './helpers/cli.js';
import { StoreReader } from '../src/store/index.js';
import { Dashboard } from '../src/tui/data.js';
import { App } from '../src/tui/components/App.js';
import type { Action, Size } from '../src/tui/state.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'kwire-tui-frames-'));
const sampleDb = path.join(scratch, 'sample.db');
const selfSignedDb = path.join(scratch, 'selfsigned.db');
const readers: StoreReader[] = [];

beforeAll(() => {
  for (const [db, args] of [
    [sampleDb, ['captures/sample-tls-http.pcap']],
    [selfSignedDb, ['captures/scenarios/apiserver-kubelet-selfsigned.pcap', '--cluster', 'captures/scenarios/cluster.yaml']],
  ] as const) {
    const result = kwire(['read', ...args, '--db', db, '-q']);
    expect(result.status, result.stderr).toBe(0);
  }
});
afterAll(() => {
  readers.forEach((reader) => reader.close());
  rmSync(scratch, { recursive: true, force: true });
});

/** The dashboard of `db` at `size`, after `actions`; its last frame without colours, the wall-clock time and rates of the run masked. */
async function frameOf(db: string, size: Size, ...actions: Action[]): Promise<string> {
  const reader = StoreReader.open(db);
  readers.push(reader);
  const dashboard = new Dashboard(reader, { size });
  const app = render(createElement(App, { dashboard }));
  try {
    for (const action of actions) dashboard.dispatch(action);
    await sleep(20);
    return stripVTControlCharacters(app.lastFrame() ?? '')
      .replace(/finished \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'finished YYYY-MM-DD hh:mm:ss')
      // The writer's rates depend on how fast the machine read the capture.
      .replace(/^rate .*$/m, 'rate (masked)');
  } finally {
    app.unmount();
  }
}

const narrow = { columns: 80, rows: 24 };
const wide = { columns: 120, rows: 40 };

function expectFits(frame: string, size: Size): string[] {
  const lines = frame.split('\n');
  // One line fewer than the terminal: a full screen makes Ink clear it on every frame.
  expect(lines).toHaveLength(size.rows - 1);
  for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(size.columns);
  return lines;
}

describe('the overview', () => {
  it('at 80×24: the capture, and the path matrix with short titles', async () => {
    const frame = await frameOf(sampleDb, narrow);
    expectFits(frame, narrow);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings finished  #1 sample-tls-http.…
      capture #1 captures/sample-tls-http.pcap (pcap)  finished YYYY-MM-DD hh:mm:ss
      258 packets  95 kB  14 flows  13 findings  drops -  decode errors 0
      rate (masked)

      path               conns  mTLS srv-only unverif tls ? plain findings
      node->apiserver        5     -        -       -     4     1 1 crit 2 high 1 med
      pod->apiserver         -     -        -       -     -     - -
      client->apiserver      3     -        -       -     1     2 2 crit 4 high
      apiserver->kubelet     -     -        -       -     -     - -
      client->kubelet        4     -        -       -     4     - 3 high
      apiserver->node        -     -        -       -     -     - -
      apiserver->pod         -     -        -       -     -     - -
      apiserver->service     -     -        -       -     -     - -
      apiserver->etcd        -     -        -       -     -     - -
      tunnel                 -     -        -       -     -     - -
      other                  2     -        -       -     1     - -

      mTLS: server verified, client certificate; server-only: no client certificate;
      unverified: the client went on with a server it cannot have verified; tls ?: the
      packets cannot tell

      ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });

  it('at 120×40: the full titles of findings/posture.ts and severities in words', async () => {
    const frame = await frameOf(sampleDb, wide);
    const lines = expectFits(frame, wide);
    expect(lines.find((line) => line.startsWith('path'))).toBe(
      'path               connections  mTLS server-only unverified tls ? plaintext other findings',
    );
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings                                      finished  #1 sample-tls-http.pcap
      capture #1 captures/sample-tls-http.pcap (pcap)  finished YYYY-MM-DD hh:mm:ss
      258 packets  95 kB  14 flows  13 findings  drops -  decode errors 0
      rate (masked)

      path               connections  mTLS server-only unverified tls ? plaintext other findings
      node->apiserver              5     -           -          -     4         1     - 1 critical 2 high 1 medium
      pod->apiserver               -     -           -          -     -         -     - -
      client->apiserver            3     -           -          -     1         2     - 2 critical 4 high
      apiserver->kubelet           -     -           -          -     -         -     - -
      client->kubelet              4     -           -          -     4         -     - 3 high
      apiserver->node              -     -           -          -     -         -     - -
      apiserver->pod               -     -           -          -     -         -     - -
      apiserver->service           -     -           -          -     -         -     - -
      apiserver->etcd              -     -           -          -     -         -     - -
      tunnel                       -     -           -          -     -         -     - -
      other                        2     -           -          -     1         -     1 -

      mTLS: server verified, client certificate; server-only: no client certificate; unverified: the client went on with a
      server it cannot have verified; tls ?: the packets cannot tell


















      ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });
});

describe('the flows table', () => {
  it('at 80×24: a row per connection, the selected one first', async () => {
    const frame = await frameOf(sampleDb, narrow, { type: 'show', view: 'flows' });
    expectFits(frame, narrow);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings finished  #1 sample-tls-http.…
      time     client → server       path               proto  verdict  bytes findings
      14:38:32 198.18.0.11:57208 → … other              tls1.3 unknown 3.7 kB -
      14:38:32 198.18.0.12:58200 → … client->kubelet    tls1.2 untrus… 1.9 kB KW004
      14:38:32 198.18.0.11:60420 → … client->apiserver  http   -       3.8 kB KW013+2
      14:38:32 198.18.0.12:49702 → … client->apiserver  tls1.3 unknown 3.5 kB -
      14:38:32 198.18.0.11:43642 → … client->kubelet    tls1.2 untrus… 4.3 kB KW004
      14:38:32 node:kw-node-1 → api… node->apiserver    tls1.2 self-s…  10 kB -
      14:38:32 node:kw-node-1 → api… node->apiserver    tls1.3 unknown  11 kB -
      14:38:32 node:kw-node-1 → kub… client->kubelet    tls1.2 untrus… 2.1 kB KW004
      14:38:32 node:kw-node-1 → api… node->apiserver    tls1.3 unknown 3.2 kB KW004
      14:38:32 node:kw-node-1 → api… node->apiserver    http   -       9.3 kB KW013+2
      14:38:32 node:kw-node-1 → 198… other              -      -          0 B -
      14:38:32 node:kw-node-1 → api… node->apiserver    tls1.3 unknown 5.6 kB -
      14:38:32 node:kw-node-1 → kub… client->kubelet    tls1.2 unknown 5.2 kB -
      14:38:32 198.18.0.12:48466 → … client->apiserver  http   -       9.3 kB KW013+2






      1/14  sort time  ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });

  it('at 120×40, sorted by bytes and filtered by a word', async () => {
    const frame = await frameOf(sampleDb, wide, { type: 'show', view: 'flows' }, { type: 'sortNext' }, { type: 'sortNext' },
      { type: 'filterStart' }, { type: 'filterType', text: 'KW013' }, { type: 'filterApply' });
    expectFits(frame, wide);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings                                      finished  #1 sample-tls-http.pcap
      time         client → server                 path                     proto  verdict         bytes findings
      14:38:32.383 node:kw-node-1 → apiserver      node->apiserver          http   -              9.3 kB KW013,KW001,KW011
      14:38:32.460 198.18.0.12:48466 → apiserver   client->apiserver        http   -              9.3 kB KW013,KW001,KW011
      14:38:32.289 198.18.0.11:60420 → apiserver   client->apiserver        http   -              3.8 kB KW013,KW001,KW011

































      1/3  sort bytes  filter "KW013"  ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });
});

describe('the flow detail', () => {
  // The scenario captures are remade from live traffic now and then: their times, packet numbers
  // and fingerprints change, the shape of what is shown does not.
  it('at 80×24: the connection, then the handshake as a ladder', async () => {
    const frame = await frameOf(selfSignedDb, narrow, { type: 'show', view: 'flows' }, { type: 'open' });
    const lines = expectFits(frame, narrow);
    expect(lines[1]).toBe('flow 1  198.18.1.10:42958 (apiserver) → 198.18.1.21:10250 (kubelet:node1)'.replace('42958', lines[1].match(/:(\d+) \(apiserver/)![1]));
    expect(lines[2]).toMatch(/^apiserver->kubelet {2}tls 1\.2 {2}\w+ {2}\d{4}-\d\d-\d\d /);
    expect(frame).toContain('client certificate: yes (requested; observed)');
    const ladder = lines.slice(lines.findIndex((line) => /^ +client +server$/.test(line)));
    expect(ladder[0]).toMatch(/^ {7}client {30,}server$/);
    // Client messages on the left with an arrow to the right; the server's on the right.
    expect(ladder[1]).toMatch(/^#\d+ +ClientHello \d+ B +─+▶$/);
    expect(ladder[2]).toMatch(/^#\d+ {20,}◀─+ ServerHello \d+ B$/);
    expect(ladder.map((line) => /(ClientHello|ServerHello|Certificate|ServerKeyExchange|CertificateRequest|ServerHelloDone|ClientKeyExchange|CertificateVerify)\b/.exec(line)?.[1]).filter(Boolean)).toEqual([
      'ClientHello', 'ServerHello', 'Certificate', 'ServerKeyExchange', 'CertificateRequest', 'ServerHelloDone', 'Certificate', 'ClientKeyExchange', 'CertificateVerify',
    ]);
  });

  it('at 120×40, scrolled: the self-signed chain with validity, and the finding with detail, evidence and fix', async () => {
    const frame = await frameOf(selfSignedDb, wide, { type: 'show', view: 'flows' }, { type: 'open' }, { type: 'jump', to: 'last' });
    const lines = expectFits(frame, wide);
    const text = lines.join('\n');
    expect(text).toMatch(/server certificate self-signed: issuer CN=node1-ca@1700000000 is self-signed and not a trust anchor\n {2}0 CN=node1@1700000000\n {4}issuer CN=node1-ca@1700000000\n {4}valid \S+ → \S+\n {4}SAN DNS:node1\n/);
    expect(text).toMatch(/ {2}1 CN=node1-ca@1700000000 {2}self-signed\n/);
    expect(text).toContain('client certificate\n  0 CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins');
    expect(text).toContain('findings (1)\n  HIGH KW003 server-not-verified: Server certificate accepted although it does not verify');
    expect(text).toMatch(/ {4}evidence \(observed\): [^]*?packets \d+/);
    expect(text).toMatch(/ {4}fix: kube-apiserver: --kubelet-certificate-authority/);
    // Scrolled to its end: the last line of the detail is the last line of the body.
    expect(lines[lines.length - 2]).toMatch(/^ {4}\S/);
  });

  it('at 80×24: HTTP requests with method, target, status and auth kind', async () => {
    // Flow 3 of the sample: requests in clear to the apiserver's plain port.
    const frame = await frameOf(sampleDb, narrow, { type: 'show', view: 'flows' }, { type: 'move', by: 2 }, { type: 'open' }, { type: 'move', by: 4 });
    expectFits(frame, narrow);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings finished  #1 sample-tls-http.…

      HTTP requests (2)
        #49 GET /healthz?size=200 → 200  auth none
        #53 GET /api/v1/pods?size=3000 → 200  auth none

      findings (3)
        CRITICAL KW013 insecure-apiserver-port: The apiserver answers plain HTTP
          The apiserver at 198.18.0.1:8080 answered HTTP without TLS: whatever
          authenticates there (or nothing) and every response travel in clear.
          evidence (observed): GET /healthz → 200; GET /api/v1/pods → 200; packets 41,
          51, 54
          fix: serve the API on the secure port only: --insecure-port=0 and no
          --insecure-bind-address (the insecure port is gone since 1.20); point
          kubeconfigs and clients at https://
        HIGH KW001 plaintext-http: HTTP without TLS on a control-plane path
          198.18.0.11:60420 → 198.18.0.1:8080 carries HTTP/1.x in clear on
          client->apiserver: anyone on the network path reads and can change requests
          and responses.
          evidence (observed): GET /healthz → 200; GET /api/v1/pods → 200; packets 41,
          49, 53
          fix: serve the API on the secure port only: --insecure-port=0 and no
      3/14  sort time  ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });
});

describe('the findings', () => {
  it('at 80×24: rules worst first, their flows, the fix of the selected one', async () => {
    const frame = await frameOf(sampleDb, narrow, { type: 'show', view: 'findings' }, { type: 'move', by: 1 });
    expectFits(frame, narrow);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings finished  #1 sample-tls-http.…
      CRITICAL KW013 insecure-apiserver-port  3 flows  The apiserver answers plain HT…
                 flow 3  198.18.0.11:60420 → apiserver  client->apiserver
                 flow 10  node:kw-node-1 → apiserver  node->apiserver
                 flow 14  198.18.0.12:48466 → apiserver  client->apiserver
      HIGH     KW001 plaintext-http  3 flows  HTTP without TLS on a control-plane path
                 flow 3  198.18.0.11:60420 → apiserver  client->apiserver
                 flow 10  node:kw-node-1 → apiserver  node->apiserver
                 flow 14  198.18.0.12:48466 → apiserver  client->apiserver
      HIGH     KW004 no-client-auth  3 flows  No client certificate where mutual TLS …
                 flow 2  198.18.0.12:58200 → kubelet  client->kubelet
                 flow 5  198.18.0.11:43642 → kubelet  client->kubelet
                 flow 8  node:kw-node-1 → kubelet  client->kubelet
      HIGH     KW011 anonymous-request-accepted  3 flows  Request without credentials…
                 flow 3  198.18.0.11:60420 → apiserver  client->apiserver
                 flow 10  node:kw-node-1 → apiserver  node->apiserver
                 flow 14  198.18.0.12:48466 → apiserver  client->apiserver
      MEDIUM   KW004 no-client-auth  1 flow  No client certificate where mutual TLS i…
                 flow 9  node:kw-node-1 → apiserver  node->apiserver

      fix (KW013): serve the API on the secure port only: --insecure-port=0 and no
      --insecure-bind-address (the insecure port is gone since 1.20); point
      ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });

  it('at 120×40', async () => {
    const frame = await frameOf(sampleDb, wide, { type: 'show', view: 'findings' });
    expectFits(frame, wide);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings                                      finished  #1 sample-tls-http.pcap
      CRITICAL KW013 insecure-apiserver-port  3 flows  The apiserver answers plain HTTP
                 flow 3  198.18.0.11:60420 → apiserver  client->apiserver
                 flow 10  node:kw-node-1 → apiserver  node->apiserver
                 flow 14  198.18.0.12:48466 → apiserver  client->apiserver
      HIGH     KW001 plaintext-http  3 flows  HTTP without TLS on a control-plane path
                 flow 3  198.18.0.11:60420 → apiserver  client->apiserver
                 flow 10  node:kw-node-1 → apiserver  node->apiserver
                 flow 14  198.18.0.12:48466 → apiserver  client->apiserver
      HIGH     KW004 no-client-auth  3 flows  No client certificate where mutual TLS is expected
                 flow 2  198.18.0.12:58200 → kubelet  client->kubelet
                 flow 5  198.18.0.11:43642 → kubelet  client->kubelet
                 flow 8  node:kw-node-1 → kubelet  client->kubelet
      HIGH     KW011 anonymous-request-accepted  3 flows  Request without credentials answered 2xx
                 flow 3  198.18.0.11:60420 → apiserver  client->apiserver
                 flow 10  node:kw-node-1 → apiserver  node->apiserver
                 flow 14  198.18.0.12:48466 → apiserver  client->apiserver
      MEDIUM   KW004 no-client-auth  1 flow  No client certificate where mutual TLS is expected
                 flow 9  node:kw-node-1 → apiserver  node->apiserver

















      fix (KW013): serve the API on the secure port only: --insecure-port=0 and no --insecure-bind-address (the insecure port
      is gone since 1.20); point kubeconfigs and clients at https://
      ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });
});

describe('the help', () => {
  it('at 80×24 over any view', async () => {
    const frame = await frameOf(sampleDb, narrow, { type: 'show', view: 'flows' }, { type: 'help' });
    expectFits(frame, narrow);
    expect(frame).toMatchInlineSnapshot(`
      "kwire  1 Overview  2 Flows  3 Detail  4 Findings finished  #1 sample-tls-http.…
      keys
        ↑ ↓  k j    move the selection (scroll the detail)
        PgUp PgDn   a screen up or down (also Ctrl-B, Ctrl-F, space)
        g G         the first or the last line (also Home, End)
        Enter       open the selected flow; on a rule, its flows
        Esc         back: close the detail, the help, the filter
        Tab  1-4    views: 1 overview, 2 flows, 3 detail, 4 findings
        /           filter the flows: words in addresses, names, path, SNI, rule ids
        s           sort the flows by time, severity, bytes or path
        ?           this help
        q  Ctrl-C   quit

      colours: mTLS server-only unverified tls ? plaintext
      Esc or ? closes this help







      1/14  sort time  ↑↓ move  Enter open  Esc back  / filter  s sort  ? help  q quit"
    `);
  });
});

describe('keys through Ink', () => {
  it('2, j, Enter open the second flow; Esc goes back', async () => {
    const reader = StoreReader.open(sampleDb);
    readers.push(reader);
    const dashboard = new Dashboard(reader, { size: narrow });
    const app = render(createElement(App, { dashboard }));
    try {
      for (const key of ['2', 'j', '\r']) {
        app.stdin.write(key);
        await sleep(30);
      }
      expect(dashboard.getState()).toMatchObject({ view: 'detail', detail: { flowId: 2 } });
      expect(stripVTControlCharacters(app.lastFrame()!)).toContain('flow 2  198.18.0.12:58200 → 198.18.0.2:10250 (kubelet)');
      app.stdin.write('\x1b');
      await sleep(30);
      expect(dashboard.getState().view).toBe('flows');
      expect(stripVTControlCharacters(app.lastFrame()!)).toMatch(/2\/14 {2}sort time/);
    } finally {
      app.unmount();
    }
  });
});
