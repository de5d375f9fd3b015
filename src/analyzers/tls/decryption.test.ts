/**
 * TLS decryption against RFC 8448 §3 ("Simple 1-RTT Handshake"): the RFC prints the secrets, the
 * keys and every record on the wire, so the records below decrypt to the RFC's own plaintext —
 * a check that owes nothing to kwire reading its own output. Then what a key log does that
 * arrives late, or never, and a record that does not authenticate.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCertificate } from '../../pki/index.js';
import { newTlsInfo, TlsAnalyzer } from './analyzer.js';
import { HOLD_BYTES } from './decryption.js';
import { KeyLog } from './keylog.js';
import { cipherSpec, hkdfExpandLabel, openRecord, tls12Prf, tls13TrafficKey } from './record-crypto.js';
import type { StreamHandler } from '../../model/flow.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 8448 §3, verbatim. */
const RFC8448 = {
  clientRandom: 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7',
  clientHelloRecord: hex(`16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001`),
  serverHelloRecord: hex(`160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304`),
  clientHandshakeTrafficSecret: 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21',
  serverHandshakeTrafficSecret: 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38',
  clientApplicationTrafficSecret: '9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5',
  serverApplicationTrafficSecret: 'a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643',
  serverHandshakeKey: '3fce516009c21727d0f2e4e86ee403bc',
  serverHandshakeIv: '5d313eb2671276ee13000b30',
  clientHandshakeKey: 'dbfaa693d1762c5b666af5d950258d01',
  clientHandshakeIv: '5bd3c71b836e0b76bb73265f',
  /** The server's EncryptedExtensions, Certificate, CertificateVerify and Finished in one record. */
  serverFlightRecord: hex(`17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35e
    df7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b
    d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2e
    d65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead68694
    5ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f
    4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b65962224531
    7b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da
    8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe
    5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c859
    77b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b84
    5e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e
    750edc53370d2b`),
  serverFlightPlaintext: hex(`080000240022000a00140012001d00170018001901000101010201030104001c
    00024001000000000b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a0603550403130372
    7361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d01
    0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19e
    aa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a
    8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d01010b050003
    81810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd
    335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4
    2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef78
    0c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda
    65cdf5aea20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718`),
  /** The client's Finished, under its handshake keys. */
  clientFinishedRecord: hex('170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546'),
  clientFinishedPlaintext: hex('14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61'),
};

function rfcKeyLog(): string {
  const r = RFC8448.clientRandom;
  return [
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${r} ${RFC8448.clientHandshakeTrafficSecret}`,
    `SERVER_HANDSHAKE_TRAFFIC_SECRET ${r} ${RFC8448.serverHandshakeTrafficSecret}`,
    `CLIENT_TRAFFIC_SECRET_0 ${r} ${RFC8448.clientApplicationTrafficSecret}`,
    `SERVER_TRAFFIC_SECRET_0 ${r} ${RFC8448.serverApplicationTrafficSecret}`,
  ].join('\n');
}

/** The RFC's exchange through a TlsAnalyzer decrypting with `keyLog`; packets numbered from 1. */
function replay(keyLog: KeyLog, records: Array<[0 | 1, Buffer]>, plaintext?: StreamHandler) {
  const info = newTlsInfo();
  const analyzer = new TlsAnalyzer(info, { keyLog, openPlaintext: () => plaintext ?? null });
  records.forEach(([dir, bytes], k) => analyzer.onData(dir, Buffer.from(bytes), 1 + k, 1 + k));
  return { info, analyzer };
}

const rfcRecords = (): Array<[0 | 1, Buffer]> => [
  [0, RFC8448.clientHelloRecord],
  [1, RFC8448.serverHelloRecord],
  [1, RFC8448.serverFlightRecord],
  [0, RFC8448.clientFinishedRecord],
];

describe('RFC 8448 §3 (Simple 1-RTT Handshake)', () => {
  const spec = cipherSpec(0x1301)!;

  it('derives the RFC traffic keys and IVs from its traffic secrets (HKDF-Expand-Label)', () => {
    const server = tls13TrafficKey(spec, hex(RFC8448.serverHandshakeTrafficSecret));
    expect(server.key.toString('hex')).toBe(RFC8448.serverHandshakeKey);
    expect(server.iv.toString('hex')).toBe(RFC8448.serverHandshakeIv);
    const client = tls13TrafficKey(spec, hex(RFC8448.clientHandshakeTrafficSecret));
    expect(client.key.toString('hex')).toBe(RFC8448.clientHandshakeKey);
    expect(client.iv.toString('hex')).toBe(RFC8448.clientHandshakeIv);
    // §3 "derive secret for handshake": finished key of the server handshake secret
    expect(hkdfExpandLabel('sha256', hex(RFC8448.serverHandshakeTrafficSecret), 'finished', Buffer.alloc(0), 32).toString('hex')).toBe(
      '008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8',
    );
  });

  it('opens the server flight and the client Finished to the exact plaintext of the RFC', () => {
    const server = tls13TrafficKey(spec, hex(RFC8448.serverHandshakeTrafficSecret));
    const record = RFC8448.serverFlightRecord;
    const flight = openRecord(server, record.subarray(0, 5), record.subarray(5));
    expect(flight?.type).toBe(22);
    expect(flight?.content.equals(RFC8448.serverFlightPlaintext)).toBe(true);
    expect(server.seq).toBe(1n);
    const client = tls13TrafficKey(spec, hex(RFC8448.clientHandshakeTrafficSecret));
    const fin = RFC8448.clientFinishedRecord;
    const finished = openRecord(client, fin.subarray(0, 5), fin.subarray(5));
    expect(finished?.type).toBe(22);
    expect(finished?.content.equals(RFC8448.clientFinishedPlaintext)).toBe(true);
  });

  it('reads the decrypted flight as handshake messages: the certificate from them, client auth decrypted', () => {
    const keyLog = new KeyLog();
    keyLog.addKeyLog(rfcKeyLog());
    const { info, analyzer } = replay(keyLog, rfcRecords());
    analyzer.onEnd('fin');
    expect(info.decrypted).toEqual({ handshake: true, applicationData: false, failure: null });
    expect(info.handshake.filter((s) => s.message !== 'EncryptedRecord').map((s) => `${s.from} ${s.message} ${s.length} #${s.packet}`)).toEqual([
      'client ClientHello 192 #1',
      'server ServerHello 86 #2',
      'server EncryptedExtensions 36 #3',
      'server Certificate 441 #3',
      'server CertificateVerify 132 #3',
      'server Finished 32 #3',
      'client Finished 32 #4',
    ]);
    expect(analyzer.serverChainDer).toHaveLength(1);
    expect(parseCertificate(analyzer.serverChainDer[0])?.subject).toBe('CN=rsa');
    expect(info.clientCertRequested).toBe(false);
    expect(info.clientCertPresented).toBe(false);
    expect(info.clientAuthEvidence).toBe('decrypted');
  });

  it('stops a direction at a record that fails authentication, and says so', () => {
    const keyLog = new KeyLog();
    keyLog.addKeyLog(rfcKeyLog());
    const tampered = Buffer.from(RFC8448.serverFlightRecord);
    tampered[100] ^= 1;
    const records = rfcRecords();
    records[2] = [1, tampered];
    const { info, analyzer } = replay(keyLog, records);
    analyzer.onEnd('fin');
    expect(info.decrypted?.failure).toBe('server record 1 (packet 3) failed authentication: server decryption stopped');
    expect(info.handshake.map((s) => s.message)).not.toContain('Certificate');
    expect(analyzer.serverChainDer).toHaveLength(0);
    // The client's side is decrypted still.
    expect(info.handshake.filter((s) => s.from === 'client').map((s) => s.message)).toContain('Finished');
  });

  it('holds records until secrets reach the key log (a live key log), then decrypts them', () => {
    const keyLog = new KeyLog();
    keyLog.expectSecrets = true;
    const { info, analyzer } = replay(keyLog, rfcRecords());
    expect(info.decrypted).toEqual({ handshake: false, applicationData: false, failure: null });
    keyLog.feed(Buffer.from(rfcKeyLog().slice(0, 100)));
    keyLog.feed(Buffer.from(`${rfcKeyLog().slice(100)}\n`));
    analyzer.onEnd('fin');
    expect(info.decrypted).toEqual({ handshake: true, applicationData: false, failure: null });
    expect(info.handshake.map((s) => s.message)).toContain('CertificateVerify');
  });

  it('gives up when the secrets never come: at the end, or past the hold budget', () => {
    const empty = new KeyLog();
    empty.expectSecrets = true;
    const atEnd = replay(empty, rfcRecords());
    atEnd.analyzer.onEnd('fin');
    expect(atEnd.info.decrypted?.failure).toBe('no secrets for this client random in the key log');
    const flood: Array<[0 | 1, Buffer]> = rfcRecords();
    for (let k = 0; k * 16389 <= HOLD_BYTES; k++) flood.push([1, Buffer.concat([hex('1703034000'), Buffer.alloc(16384)])]);
    const overBudget = replay(empty, flood);
    expect(overBudget.info.decrypted?.failure).toBe('no secrets for this client random in the key log within 128 KiB of records');
  });

  it('never throws on random records after a decrypted handshake, whatever the chunking', () => {
    const keyLog = new KeyLog();
    keyLog.addKeyLog(rfcKeyLog());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 700 }), (c, s, cut) => {
        const info = newTlsInfo();
        const analyzer = new TlsAnalyzer(info, { keyLog });
        const chunks = (dir: 0 | 1, bytes: Buffer) => {
          for (let at = 0; at < bytes.length; at += cut) analyzer.onData(dir, bytes.subarray(at, at + cut), 1, 1);
        };
        chunks(0, RFC8448.clientHelloRecord);
        chunks(1, Buffer.concat([RFC8448.serverHelloRecord, RFC8448.serverFlightRecord, Buffer.from(s)]));
        chunks(0, Buffer.concat([RFC8448.clientFinishedRecord, Buffer.from(c)]));
        analyzer.onEnd('fin');
        expect(info.decrypted?.handshake).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('TLS 1.2 PRF', () => {
  it('matches the published P_SHA256 test vector', () => {
    // The TLS 1.2 PRF vector of the IETF TLS WG (secret, seed, label "test label", 100 bytes).
    const out = tls12Prf('sha256', hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(out.toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });
});
