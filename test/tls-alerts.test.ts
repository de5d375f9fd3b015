/**
 * TLS alerts sent in clear equal what tshark decodes, flow by flow (captures whose alerts tshark
 * sees only by decrypting, with a key log or a Decryption Secrets Block, are left to decryption).
 * kwire keeps one alert a flow: the first, or the first fatal one after warnings.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { analyze } from '../src/lib.js';
import { alertName } from '../src/analyzers/tls/names.js';
import { corpusFacts, corpusPath } from './helpers/corpus.js';

const facts = corpusFacts();
const captures = Object.keys(facts).filter((name) => {
  const fact = facts[name];
  const tls = fact.tls_hs_types as Record<string, number> | undefined;
  return fact.format !== '?' && tls && Object.keys(tls).length > 0 && fact.keylog === null && !name.startsWith('derived/');
});

interface Alert {
  from: 'client' | 'server';
  level: 'warning' | 'fatal';
  description: string;
}

describe.each(captures)('%s', (name) => {
  it('reports the clear alerts tshark decodes', async () => {
    const doc = await analyze(corpusPath(name));
    const rows = execFileSync('tshark', ['-r', corpusPath(name), '-Y', 'tls.alert_message.desc', '-T', 'fields', '-E', 'aggregator=,', '-e', 'tcp.stream', '-e', 'tcp.srcport', '-e', 'tls.alert_message.level', '-e', 'tls.alert_message.desc'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const expected = new Map<number, Alert>();
    for (const row of rows.split('\n').filter(Boolean)) {
      const [stream, port, levels, descriptions] = row.split('\t');
      const flow = doc.flows[Number(stream)];
      levels.split(',').forEach((level, i) => {
        const alert: Alert = {
          from: Number(port) === flow.sport ? 'client' : 'server',
          level: level === '2' ? 'fatal' : 'warning',
          description: alertName(Number(descriptions.split(',')[i])),
        };
        const current = expected.get(flow.id);
        if (!current || (current.level !== 'fatal' && alert.level === 'fatal')) expected.set(flow.id, alert);
      });
    }
    for (const flow of doc.flows) {
      const alert = flow.tls?.alert ?? null;
      const seen = alert && alert.inClear ? { from: alert.from, level: alert.level, description: alert.description } : null;
      expect(seen, `flow ${flow.id}`).toEqual(expected.get(flow.id) ?? null);
    }
  });
});
