/**
 * Test kit for pki/: real certificates made by the openssl command in a temporary folder, and
 * openssl's own reading of them to compare parseCertificate with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type KeyAlgorithm = 'rsa2048' | 'p256' | 'p384' | 'ed25519';

const GENPKEY_ARGS: Record<KeyAlgorithm, string[]> = {
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  ed25519: ['-algorithm', 'ED25519'],
};

export interface CertificateSpec {
  /** openssl -subj form, in DER order: `/C=US/O=Org/CN=name`. */
  subject: string;
  key: KeyAlgorithm;
  /** Name of an earlier certificate of this PKI; absent: self-signed. */
  issuer?: string;
  /** Validity from now; negative makes no sense to openssl, so expiry is tested with a later `at`. */
  days?: number;
  serial?: number;
  /** openssl extension lines, e.g. `basicConstraints=critical,CA:TRUE`. */
  extensions?: string[];
}

export interface TestCertificate {
  der: Buffer;
  pem: string;
  file: string;
}

export const CA_EXTENSIONS = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign'];

export function serverExtensions(san: string): string[] {
  return ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`];
}

/** A PKI in a temporary folder: certificates by name, each with its key. */
export class TestPki {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'kwire-pki-'));
  /** An empty request config: -subj and -extfile say everything, the system openssl.cnf nothing. */
  private readonly config = path.join(this.dir, 'req.cnf');
  private readonly certificates = new Map<string, TestCertificate>();
  private serial = 1;

  constructor() {
    writeFileSync(this.config, '[req]\ndistinguished_name = dn\n[dn]\n');
  }

  issue(name: string, spec: CertificateSpec): TestCertificate {
    const file = (suffix: string) => path.join(this.dir, `${name}.${suffix}`);
    openssl(['genpkey', ...GENPKEY_ARGS[spec.key], '-out', file('key')]);
    openssl(['req', '-new', '-key', file('key'), '-utf8', '-subj', spec.subject, '-config', this.config, '-out', file('csr')]);
    writeFileSync(file('ext'), `[ext]\n${(spec.extensions ?? []).join('\n')}\n`);
    const signer = spec.issuer
      ? ['-CA', this.get(spec.issuer).file, '-CAkey', path.join(this.dir, `${spec.issuer}.key`)]
      : ['-signkey', file('key')];
    openssl([
      'x509', '-req', '-in', file('csr'), ...signer, '-days', String(spec.days ?? 30),
      '-set_serial', String(spec.serial ?? this.serial++), '-extfile', file('ext'), '-extensions', 'ext', '-out', file('pem'),
    ]);
    const pem = readFileSync(file('pem'), 'utf8');
    const certificate = { der: pemToDer(pem), pem, file: file('pem') };
    this.certificates.set(name, certificate);
    return certificate;
  }

  get(name: string): TestCertificate {
    const certificate = this.certificates.get(name);
    if (!certificate) throw new Error(`no certificate ${name} in this test PKI`);
    return certificate;
  }

  /** DER chain by names, leaf first. */
  chain(...names: string[]): Buffer[] {
    return names.map((name) => this.get(name).der);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: string[], input?: Buffer): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** What openssl says of a certificate, in CertificateInfo's terms where the two are comparable. */
export interface OpensslReading {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  /** The text dump, for the key and extension lines. */
  text: string;
}

export function opensslReading(file: string): OpensslReading {
  const out = openssl(['x509', '-in', file, '-noout', '-nameopt', 'RFC2253', '-subject', '-issuer', '-serial', '-startdate', '-enddate', '-fingerprint', '-sha256']);
  const field = (label: string) => {
    const line = out.split('\n').find((candidate) => candidate.startsWith(label));
    if (line === undefined) throw new Error(`openssl printed no ${label}: ${out}`);
    return line.slice(label.length);
  };
  return {
    subject: field('subject='),
    issuer: field('issuer='),
    serial: field('serial='),
    notBefore: new Date(field('notBefore=')).toISOString(),
    notAfter: new Date(field('notAfter=')).toISOString(),
    sha256: field('sha256 Fingerprint=').replaceAll(':', '').toLowerCase(),
    text: openssl(['x509', '-in', file, '-noout', '-text']),
  };
}

/** The value lines under an extension heading of `openssl x509 -text`, split at commas. */
export function opensslExtension(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.trim().startsWith(`${heading}:`));
  if (at < 0) return [];
  return lines[at + 1].split(',').map((part) => part.trim()).filter((part) => part !== '');
}
