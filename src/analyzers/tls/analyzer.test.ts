/** TlsAnalyzer on hand-built and real (annotated) byte sequences: each message and each edge of the record layer. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TlsAnalyzer, newTlsInfo } from './analyzer.js';
import {
  C,
  CCS,
  HS,
  S,
  alertRecord,
  alpn,
  appData,
  certificate,
  certificateRequest,
  clientHello,
  derName,
  ext,
  handshake,
  play,
  record,
  selectedVersion,
  serverHello,
  sni,
  supportedVersions,
  vec,
  type Script,
} from './testing.js';

// The TLS 1.3 inference belongs to another module: here it is a stub whose answer each test sets.
const infer = vi.hoisted(() => vi.fn());
vi.mock('./tls13-inference.js', () => ({ inferTls13ClientAuth: infer }));
const NO_INFERENCE = { clientCertRequested: null, clientCertPresented: null, rejected: false, rejectedBy: null, reasoning: '' };
beforeEach(() => {
  infer.mockReset();
  infer.mockReturnValue(NO_INFERENCE);
});

const analyzer = (): TlsAnalyzer => new TlsAnalyzer(newTlsInfo());
const messages = (a: TlsAnalyzer): string[] => a.info.handshake.map((s) => `${s.from[0]}:${s.message}`);

/**
 * illustrated-tls13/capture.pcap frame 4 (the ClientHello record). tshark 4.0.17:
 * server_name example.ulfheim.net; cipher suites 0x1302,0x1303,0x1301,0x00ff; extensions
 * 0,11,10,35,22,23,13,43,45,51; supported_version 0x0304; key_share group 29 (x25519);
 * signature algorithms 0x0403 … 0x0601 (14).
 */
const ILLUSTRATED_CLIENT_HELLO = Buffer.from(
  '16030100f8010000f40303000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20e0e1e2e3e4e5e6e7e8e9eaebec' +
    'edeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000813021303130100ff010000a30000001800160000136578616d706c652e756c666865696d2e' +
    '6e6574000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000000d001e001c040305' +
    '030603080708080809080a080b080408050806040105010601002b0003020304002d00020101003300260024001d0020358072d6365880d1aeea' +
    '329adf9121383851ed21a28e3b75e965d0d2cd166254',
  'hex',
);
/** Frame 6: ServerHello (tshark: cipher 0x1302, supported_version 0x0304, key_share x25519) then ChangeCipherSpec. */
const ILLUSTRATED_SERVER_HELLO = Buffer.from(
  '160303007a020000760303707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f20e0e1e2e3e4e5e6e7e8e9eaebecedee' +
    'eff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff130200002e002b0002030400330024001d00209fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8' +
    'fabb349a982880b615140303000101',
  'hex',
);

describe('ClientHello', () => {
  it('reads a real TLS 1.3 ClientHello as tshark does', () => {
    const a = play(analyzer(), [[C, ILLUSTRATED_CLIENT_HELLO]]);
    expect(a.info.sni).toBe('example.ulfheim.net');
    expect(a.info.clientVersion).toBe('1.3');
    expect(a.clientHello?.ciphers).toEqual([0x1302, 0x1303, 0x1301, 0x00ff]);
    expect(a.clientHello?.extensions).toEqual([0, 11, 10, 35, 22, 23, 13, 43, 45, 51]);
    expect(a.clientHello?.keyShareGroups).toEqual([29]);
    expect(a.clientHello?.signatureAlgorithms).toHaveLength(14);
    expect(a.clientHello?.sessionId).toHaveLength(32);
    expect(a.clientRandom?.toString('hex')).toBe('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    // By hand: 4 ciphers, 10 extensions, no ALPN; sha256("00ff,1301,1302,1303") and of the sorted extensions + signature algorithms.
    expect(a.info.ja4).toBe('t13d041000_16476d049b0b_78f1d400d464');
    expect(messages(a)).toEqual(['c:ClientHello']);
    expect(a.info.stopped).toBeNull();
  });

  it('keeps the offered ALPN list and the highest offered version, GREASE aside', () => {
    const hello = clientHello({ extensions: [sni('node1'), alpn('h2', 'http/1.1'), supportedVersions(0x3a3a, 0x0304, 0x0303)] });
    const a = play(analyzer(), [[C, HS.record(hello)]]);
    expect(a.info.alpnOffered).toEqual(['h2', 'http/1.1']);
    expect(a.info.clientVersion).toBe('1.3');
    expect(a.info.ja4?.slice(0, 10)).toBe('t13d0203h2');
  });

  it('reads an SSLv2-compatible ClientHello: its version, the cipher specs that are TLS suites, the challenge as random', () => {
    const challenge = Buffer.alloc(16, 0x11);
    const specs = Buffer.from('00002f' + '010080' + '000035', 'hex');
    const body = Buffer.concat([Buffer.from([1, 0x03, 0x01, 0, specs.length, 0, 0, 0, 16]), specs, challenge]);
    const a = play(analyzer(), [[C, Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body])]]);
    expect(a.info.clientVersion).toBe('1.0');
    expect(a.clientHello?.ciphers).toEqual([0x002f, 0x0035]);
    expect(a.clientHello?.sslv2).toBe(true);
    expect(a.clientRandom).toEqual(Buffer.concat([Buffer.alloc(16), challenge]));
    expect(a.info.ja4).toBeNull();
    expect(messages(a)).toEqual(['c:ClientHello']);
  });
});

describe('TLS 1.3', () => {
  it('reads a real ServerHello, then sees only encrypted records', () => {
    const a = play(
      analyzer(),
      [
        [C, ILLUSTRATED_CLIENT_HELLO],
        [S, ILLUSTRATED_SERVER_HELLO],
        [S, appData(23)],
        [S, appData(817)],
      ],
      false,
    );
    expect(a.info.version).toBe('1.3');
    expect(a.info.cipher).toBe('TLS_AES_256_GCM_SHA384');
    expect(a.info.resumed).toBe(false);
    expect(messages(a)).toEqual(['c:ClientHello', 's:ServerHello', 's:ChangeCipherSpec', 's:EncryptedRecord', 's:EncryptedRecord']);
    expect(a.encryptedRecords.map((r) => [r.from, r.contentType, r.length])).toEqual([
      ['server', 23, 23],
      ['server', 23, 817],
    ]);
  });

  const tls13 = (cipher: number, extensions: Buffer[] = []): Script => [
    [C, HS.record(clientHello({ extensions: [supportedVersions(0x0304)] }))],
    [S, HS.record(serverHello({ cipher, extensions: [selectedVersion(0x0304), ...extensions] }))],
    [S, CCS],
    [S, appData(6)],
    [S, appData(800)],
    [S, appData(53)],
  ];

  it('is established once the client sent data after its Finished and the server answered', () => {
    const finished = play(analyzer(), [...tls13(0x1301), [C, CCS], [C, appData(53)]]);
    expect(finished.info.established).toBe(false);
    const data = play(analyzer(), [...tls13(0x1301), [C, CCS], [C, appData(53)], [C, appData(100)], [S, appData(200)]]);
    expect(data.info.established).toBe(true);
    // A close_notify (19 bytes) after the Finished is no data (zeek/tls/hrr.pcap ends so).
    const closed = play(analyzer(), [...tls13(0x1301), [C, appData(53)], [S, appData(500)], [C, appData(19)]]);
    expect(closed.info.established).toBe(false);
    // A SHA-384 suite's Finished is 69 bytes: a 53-byte record then is data, not the Finished.
    const sha384 = play(analyzer(), [...tls13(0x1302), [C, appData(69)], [S, appData(200)]]);
    expect(sha384.info.established).toBe(false);
  });

  it("takes the client's first record as its flight when none has a Finished's length", () => {
    const packed = play(analyzer(), [...tls13(0x1301), [C, appData(1500)], [C, appData(90)], [S, appData(300)]]);
    expect(packed.info.established).toBe(true);
    expect(play(analyzer(), [...tls13(0x1301), [C, appData(1500)], [S, appData(300)]]).info.established).toBe(false);
  });

  it('is resumed when the ServerHello carries pre_shared_key', () => {
    const a = play(analyzer(), tls13(0x1301, [ext(41, Buffer.from([0, 0]))]));
    expect(a.info.resumed).toBe(true);
  });

  it('asks the inference at the end, and takes its answer as inferred', () => {
    infer.mockReturnValue({ clientCertRequested: true, clientCertPresented: false, rejected: true, rejectedBy: 'client', reasoning: 'r' });
    const a = play(analyzer(), [...tls13(0x1301), [C, appData(19)], [S, appData(300)]]);
    expect(infer).toHaveBeenCalledWith(a.encryptedRecords, 'TLS_AES_128_GCM_SHA256');
    expect(a.encryptedRecords).toHaveLength(5);
    expect(a.info).toMatchObject({ clientCertRequested: true, clientCertPresented: false, clientAuthEvidence: 'inferred' });
    // The client's record taken for the alert came in packet 7 (play numbers the entries from 1).
    expect(a.info.alert).toEqual({ from: 'client', level: 'fatal', description: 'encrypted alert (inferred)', inClear: false, packet: 7 });
    expect(a.inference?.reasoning).toBe('r');
  });

  it('leaves client authentication unknown when the inference cannot tell', () => {
    const a = play(analyzer(), tls13(0x1301));
    expect(a.info).toMatchObject({ clientCertRequested: null, clientCertPresented: null, clientAuthEvidence: 'unknown', alert: null });
  });

  it('reads a HelloRetryRequest, the second ClientHello in clear, then the ServerHello', () => {
    const hrrRandom = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');
    const hello = clientHello({ extensions: [supportedVersions(0x0304)] });
    const a = play(analyzer(), [
      [C, HS.record(hello)],
      [S, HS.record(serverHello({ random: hrrRandom, cipher: 0x1302, extensions: [selectedVersion(0x0304)] }))],
      [S, CCS],
      [C, CCS],
      [C, HS.record(hello)],
      [S, HS.record(serverHello({ cipher: 0x1302, extensions: [selectedVersion(0x0304)] }))],
      [S, appData(1000)],
    ]);
    expect(a.info.helloRetryRequest).toBe(true);
    expect(a.info.version).toBe('1.3');
    expect(messages(a)).toEqual([
      'c:ClientHello',
      's:HelloRetryRequest',
      's:ChangeCipherSpec',
      'c:ChangeCipherSpec',
      'c:ClientHello',
      's:ServerHello',
      's:EncryptedRecord',
    ]);
    expect(a.encryptedRecords).toHaveLength(1);
  });

  it('names a draft version, and reads the draft ServerHello layout (no session id, no compression)', () => {
    // arkime/tls13.pcap: tshark reports ServerHello version 0x7f12, cipher 0x1301.
    const body = Buffer.concat([Buffer.from([0x7f, 0x12]), Buffer.alloc(32, 1), Buffer.from([0x13, 0x01]), vec(2)]);
    const a = play(analyzer(), [[S, HS.record(handshake(2, body))]]);
    expect(a.info.version).toBe('1.3-draft18');
    expect(a.info.cipher).toBe('TLS_AES_128_GCM_SHA256');
  });
});

describe('TLS 1.2', () => {
  const serverCert = Buffer.from('3003020101', 'hex');
  const caCert = Buffer.from('3003020102', 'hex');
  const clientCert = Buffer.from('3003020103', 'hex');
  const fullHandshake = (clientCertificates: Buffer[]): Script => [
    [C, HS.record(clientHello({ extensions: [sni('kubelet'), alpn('h2')] }))],
    // One record holding the whole server flight (coalesced messages).
    [
      S,
      HS.record(
        serverHello({ extensions: [alpn('h2')] }),
        certificate(serverCert, caCert),
        handshake(12, Buffer.alloc(100, 1)),
        certificateRequest([derName('kubernetes'), derName('example.org', 'ca, "quoted"')]),
        handshake(14, Buffer.alloc(0)),
      ),
    ],
    [C, HS.record(certificate(...clientCertificates), handshake(16, Buffer.alloc(66, 2)), handshake(15, Buffer.alloc(72, 3)))],
    [C, CCS],
    [C, record(22, Buffer.alloc(40))],
    [S, CCS],
    [S, record(22, Buffer.alloc(40))],
    [C, appData(300)],
    [S, appData(600)],
  ];

  it('reads a mutual-TLS handshake: chains, CertificateRequest and its CA names, the client certificate', () => {
    const a = play(analyzer(), fullHandshake([clientCert]));
    expect(a.info).toMatchObject({
      version: '1.2',
      cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      sni: 'kubelet',
      alpn: 'h2',
      established: true,
      resumed: false,
      clientCertRequested: true,
      clientCertPresented: true,
      clientAuthEvidence: 'observed',
      requestedCAs: ['CN=kubernetes', 'CN=ca\\, \\"quoted\\",CN=example.org'],
      stopped: null,
    });
    expect(a.serverChainDer).toEqual([serverCert, caCert]);
    expect(a.clientChainDer).toEqual([clientCert]);
    expect(a.certificateRequest).toEqual({ certificateTypes: [1, 64], signatureAlgorithms: [0x0403, 0x0804] });
    expect(messages(a)).toEqual([
      'c:ClientHello',
      's:ServerHello',
      's:Certificate',
      's:ServerKeyExchange',
      's:CertificateRequest',
      's:ServerHelloDone',
      'c:Certificate',
      'c:ClientKeyExchange',
      'c:CertificateVerify',
      'c:ChangeCipherSpec',
      'c:EncryptedRecord',
      's:ChangeCipherSpec',
      's:EncryptedRecord',
      'c:EncryptedRecord',
      's:EncryptedRecord',
    ]);
    // Encrypted records are kept for the TLS 1.3 inference only.
    expect(a.encryptedRecords).toEqual([]);
    expect(infer).not.toHaveBeenCalled();
  });

  it('copies the certificates it keeps out of the reused input buffers', () => {
    const script = fullHandshake([clientCert]);
    const a = analyzer();
    for (const [dir, bytes] of script) {
      const reused = Buffer.from(bytes);
      a.onData(dir, reused, 1, 1);
      reused.fill(0);
    }
    expect(a.serverChainDer).toEqual([serverCert, caCert]);
    expect(a.clientChainDer).toEqual([clientCert]);
  });

  it('sees an empty client Certificate as no certificate presented', () => {
    const a = play(analyzer(), fullHandshake([]));
    expect(a.info).toMatchObject({ clientCertRequested: true, clientCertPresented: false, clientAuthEvidence: 'observed' });
  });

  it('knows no certificate was requested when the server flight ends without a CertificateRequest', () => {
    const a = play(analyzer(), [
      [C, HS.record(clientHello())],
      [S, HS.record(serverHello(), certificate(serverCert), handshake(14, Buffer.alloc(0)))],
    ]);
    expect(a.info).toMatchObject({ clientCertRequested: false, clientCertPresented: false, clientAuthEvidence: 'observed', established: false });
  });

  it('reassembles a handshake message split over records, and records split over chunks', () => {
    const message = certificate(Buffer.alloc(3000, 7), Buffer.alloc(2000, 8));
    const records = Buffer.concat([0, 1000, 2500].map((at, i, all) => record(22, message.subarray(at, all[i + 1] ?? message.length))));
    const a = analyzer();
    a.onData(C, HS.record(clientHello()), 1, 1);
    a.onData(S, HS.record(serverHello()), 2, 2);
    for (let i = 0; i < records.length; i += 7) a.onData(S, records.subarray(i, i + 7), 3, 3);
    expect(a.serverChainDer.map((d) => d.length)).toEqual([3000, 2000]);
    expect(messages(a)).toEqual(['c:ClientHello', 's:ServerHello', 's:Certificate']);
  });

  it('skips a handshake message over 256 KiB, and goes on with the next', () => {
    const big = handshake(11, Buffer.alloc(300 * 1024, 1));
    const stream = Buffer.concat([big, handshake(14, Buffer.alloc(0))]);
    const records: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 16384) records.push(record(22, stream.subarray(at, at + 16384)));
    const a = play(analyzer(), [[S, HS.record(serverHello())], ...records.map((r) => [S, r] as const)]);
    expect(a.info.handshake.map((s) => [s.message, s.length])).toEqual([
      ['ServerHello', 40],
      ['Certificate', 300 * 1024],
      ['ServerHelloDone', 0],
    ]);
    expect(a.serverChainDer).toEqual([]);
  });

  it('knows a client certificate too large to keep was presented', () => {
    const big = handshake(11, vec(3, vec(3, Buffer.alloc(300 * 1024, 1))));
    const script: Script = [[C, HS.record(clientHello())], [S, HS.record(serverHello(), certificateRequest([]))]];
    for (let at = 0; at < big.length; at += 16384) script.push([C, record(22, big.subarray(at, at + 16384))]);
    const a = play(analyzer(), script);
    expect(a.info).toMatchObject({ clientCertRequested: true, clientCertPresented: true, clientAuthEvidence: 'observed' });
    expect(a.clientChainDer).toEqual([]);
  });

  it('is resumed when the server echoes the session id, or goes from ServerHello to ChangeCipherSpec', () => {
    const id = Buffer.alloc(32, 9);
    const echoed = play(analyzer(), [
      [C, HS.record(clientHello({ sessionId: id }))],
      [S, HS.record(serverHello({ sessionId: id }))],
    ]);
    expect(echoed.info.resumed).toBe(true);
    const ticket = play(analyzer(), [
      [C, HS.record(clientHello({ extensions: [ext(35, Buffer.alloc(100, 4))] }))],
      [S, HS.record(serverHello({ sessionId: Buffer.alloc(32, 5) }), handshake(4, Buffer.alloc(150)))],
      [S, CCS],
    ]);
    expect(ticket.info.resumed).toBe(true);
    expect(play(analyzer(), fullHandshake([])).info.resumed).toBe(false);
  });
});

describe('alerts', () => {
  it('names a clear fatal alert and who sent it', () => {
    const a = play(analyzer(), [
      [C, HS.record(clientHello())],
      [S, alertRecord(2, 40)],
    ]);
    expect(a.info.alert).toEqual({ from: 'server', level: 'fatal', description: 'handshake_failure', inClear: true, packet: 2 });
    expect(messages(a)).toEqual(['c:ClientHello', 's:Alert']);
  });

  it('keeps a fatal alert over an earlier warning', () => {
    const a = play(analyzer(), [
      [C, alertRecord(1, 112)],
      [C, alertRecord(2, 42)],
      [S, alertRecord(1, 0)],
    ]);
    expect(a.info.alert).toEqual({ from: 'client', level: 'fatal', description: 'bad_certificate', inClear: true, packet: 2 });
  });

  it('reads a TLS 1.3 alert in clear after the ServerHello (encrypted ones are type 23 outside)', () => {
    const a = play(analyzer(), [
      [C, HS.record(clientHello({ extensions: [supportedVersions(0x0304)] }))],
      [S, HS.record(serverHello({ cipher: 0x1301, extensions: [selectedVersion(0x0304)] }))],
      [C, alertRecord(2, 47)],
    ]);
    expect(a.info.alert).toEqual({ from: 'client', level: 'fatal', description: 'illegal_parameter', inClear: true, packet: 3 });
    expect(a.encryptedRecords).toEqual([]);
  });

  it('takes an alert record longer than 2 bytes for an encrypted one', () => {
    const a = play(analyzer(), [[S, record(21, Buffer.alloc(26, 0x62))]]);
    expect(a.info.alert).toBeNull();
  });
});

describe('the record layer stops cleanly', () => {
  it('on a record over 2^14 + 2048 bytes', () => {
    const a = play(analyzer(), [[C, Buffer.from([22, 3, 3, 0x48, 0x01])]]);
    expect(a.info.stopped).toBe('record too large');
  });

  it('on an encrypted TLS 1.3 record over 2^14 + 256 bytes', () => {
    const a = play(analyzer(), [
      [S, HS.record(serverHello({ extensions: [selectedVersion(0x0304)] }))],
      [S, Buffer.from([23, 3, 3, 0x41, 0x01])],
    ]);
    expect(a.info.stopped).toBe('record too large');
  });

  it('on bytes that are not TLS', () => {
    const a = play(analyzer(), [[C, Buffer.from('GET / HTTP/1.1\r\n\r\n')]]);
    expect(a.info.stopped).toBe('not TLS');
    expect(a.info.handshake).toEqual([]);
  });

  it('at a gap, in that direction only, keeping what it knew', () => {
    const a = analyzer();
    a.onData(C, HS.record(clientHello({ extensions: [sni('a')] })), 1, 1);
    a.onGap(C, 100);
    a.onData(C, HS.record(clientHello({ extensions: [sni('b')] })), 2, 2);
    a.onData(S, HS.record(serverHello()), 3, 3);
    a.onEnd('fin');
    expect(a.info.stopped).toBe('gap in client stream');
    expect(a.info.sni).toBe('a');
    expect(a.info.version).toBe('1.2');
    expect(messages(a)).toEqual(['c:ClientHello', 's:ServerHello']);
  });

  it('counts application data of a connection picked up after its handshake', () => {
    const a = play(analyzer(), [
      [S, appData(100)],
      [C, appData(50)],
    ]);
    expect(a.info).toMatchObject({ version: null, established: true, stopped: null });
  });

  it('ignores heartbeats', () => {
    const a = play(analyzer(), [[C, record(24, Buffer.from('0100030102030000000000000000000000000000', 'hex'))], [C, HS.record(clientHello())]]);
    expect(messages(a)).toEqual(['c:ClientHello']);
  });

  it('bounds the ladder at 64 steps', () => {
    const script: [0 | 1, Buffer][] = [
      [C, HS.record(clientHello())],
      [S, HS.record(serverHello())],
    ];
    for (let i = 0; i < 70; i++) script.push([C, alertRecord(1, 0)]);
    script.push([S, CCS], [C, CCS]);
    for (let i = 0; i < 100; i++) script.push([S, appData(10)], [C, appData(10)]);
    const a = play(analyzer(), script);
    expect(a.info.handshake).toHaveLength(64);
    expect(a.encryptedRecords).toEqual([]);
  });

  it('keeps a TLS 1.3 connection\'s first 32 encrypted records per direction, and 8 per direction in the ladder', () => {
    const script: [0 | 1, Buffer][] = [
      [C, HS.record(clientHello({ extensions: [supportedVersions(0x0304)] }))],
      [S, HS.record(serverHello({ cipher: 0x1301, extensions: [selectedVersion(0x0304)] }))],
    ];
    for (let i = 0; i < 100; i++) script.push([S, appData(10 + i)], [C, appData(10 + i)]);
    const a = play(analyzer(), script);
    for (const side of ['client', 'server']) {
      expect(a.encryptedRecords.filter((r) => r.from === side).map((r) => r.length)).toEqual(Array.from({ length: 32 }, (_, i) => 10 + i));
    }
    expect(messages(a).filter((m) => m.endsWith('EncryptedRecord'))).toHaveLength(16);
  });
});

describe('packet numbers', () => {
  const steps = (a: TlsAnalyzer): string[] => a.info.handshake.map((s) => `${s.from[0]}:${s.message}@${s.packet}`);

  it('cites for each message the packet that completes its record, as tshark does, even when the message ends earlier', () => {
    const hello = serverHello();
    const flight = HS.record(hello, certificate(Buffer.alloc(500, 7)), handshake(14, Buffer.alloc(0)));
    const helloEnd = 5 + hello.length;
    const a = analyzer();
    a.onData(C, HS.record(clientHello()), 1, 1);
    a.onData(S, flight.subarray(0, helloEnd + 10), 2, 2);
    a.onData(S, flight.subarray(helloEnd + 10, flight.length - 1), 3, 3);
    a.onData(S, flight.subarray(flight.length - 1), 4, 4);
    expect(steps(a)).toEqual(['c:ClientHello@1', 's:ServerHello@4', 's:Certificate@4', 's:ServerHelloDone@4']);
  });

  it('cites the record that ends a message split over records', () => {
    const message = certificate(Buffer.alloc(3000, 7));
    const [first, second] = [record(22, message.subarray(0, 1000)), record(22, message.subarray(1000))];
    const a = analyzer();
    a.onData(C, HS.record(clientHello()), 1, 1);
    a.onData(S, Buffer.concat([HS.record(serverHello()), first]), 2, 2);
    a.onData(S, second.subarray(0, 100), 3, 3);
    a.onData(S, second.subarray(100), 4, 4);
    expect(steps(a)).toEqual(['c:ClientHello@1', 's:ServerHello@2', 's:Certificate@4']);
  });

  it('cites the packet that completes an encrypted record, in the ladder and in the records kept for the inference', () => {
    const a = analyzer();
    a.onData(C, HS.record(clientHello({ extensions: [supportedVersions(0x0304)] })), 1, 1);
    a.onData(S, HS.record(serverHello({ cipher: 0x1301, extensions: [selectedVersion(0x0304)] })), 2, 2);
    const encrypted = appData(800);
    a.onData(S, encrypted.subarray(0, 300), 3, 3);
    a.onData(S, Buffer.concat([encrypted.subarray(300), appData(53)]), 4, 4);
    a.onEnd('fin');
    expect(a.encryptedRecords.map((r) => `${r.length}@${r.packet}`)).toEqual(['800@4', '53@4']);
    expect(steps(a).slice(2)).toEqual(['s:EncryptedRecord@4', 's:EncryptedRecord@4']);
  });

  it('cites a clear alert split over two packets by the second', () => {
    const alert = alertRecord(2, 40);
    const a = analyzer();
    a.onData(S, alert.subarray(0, 6), 1, 1);
    a.onData(S, alert.subarray(6), 2, 2);
    expect(a.info.alert?.packet).toBe(2);
    expect(steps(a)).toEqual(['s:Alert@2']);
  });
});
