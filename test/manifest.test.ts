/**
 * Keeps the corpus manifest honest: the TLS facts of expected-facts.tshark-4.0.17.json, which the
 * analyzers' golden tests compare with, are what the tshark installed here reads (no key logs).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { corpusFacts, corpusPath } from './helpers/corpus.js';

const facts = corpusFacts();
const tlsCaptures = Object.keys(facts).filter((name) => {
  const fact = facts[name];
  return fact.format !== '?' && fact.tls_hs_types !== undefined && Object.keys(fact.tls_hs_types as object).length > 0;
});

interface TsharkTls {
  types: Record<string, number>;
  sni: string[];
  serverHellos: Record<string, number>;
}

function tsharkTls(file: string): TsharkTls {
  const fields = ['tls.handshake.type', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions.supported_version', 'tls.handshake.version', 'tls.handshake.ciphersuite'];
  const args = ['-r', file, '-Y', 'tls.handshake', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])];
  let text: string;
  try {
    text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    text = (error as { stdout?: string }).stdout ?? ''; // a damaged capture: what tshark read before the damage
  }
  const result: TsharkTls = { types: {}, sni: [], serverHellos: {} };
  for (const line of text.split('\n').filter(Boolean)) {
    const [types, sni, supported, legacy, ciphers] = line.split('|');
    // An encrypted Finished matches tls.handshake with no type: it is not counted, as in the manifest.
    for (const type of types.split(',').filter(Boolean)) result.types[type] = (result.types[type] ?? 0) + 1;
    if (sni) for (const name of sni.split(',')) if (!result.sni.includes(name)) result.sni.push(name);
    if (types.split(',').includes('2')) {
      // In a ServerHello frame the supported_version and ciphersuite fields hold the chosen values.
      const version = supported?.split(',').at(-1) || legacy.split(',')[0];
      const key = `${version}/${ciphers.split(',')[0]}`;
      result.serverHellos[key] = (result.serverHellos[key] ?? 0) + 1;
    }
  }
  result.sni.sort();
  return result;
}

describe.each(tlsCaptures)('%s', (name) => {
  it('has the TLS facts the installed tshark reads', () => {
    const fact = facts[name];
    const seen = tsharkTls(corpusPath(name));
    const withoutKeys = (fact.tls_hs_types_without_keylog ?? fact.tls_hs_types) as Record<string, number>;
    expect(seen.types).toEqual(withoutKeys);
    expect(seen.sni).toEqual([...((fact.sni as string[]) ?? [])].sort());
    expect(seen.serverHellos).toEqual(fact['serverhello_version/cipher']);
  });
});
