// A node:tls client for kwire's TLS 1.3 stack tests, run as a child process inside the client's
// network namespace. argv[2]: JSON { host, port, servername, ca?, cert?, key?, ciphers?, resume? }
// (file paths). One GET per connection; with `resume`, a second connection resumes the first's
// session (PSK). Exits 0 whatever the handshakes did: rejections are scenarios too.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const o = JSON.parse(process.argv[2]);
const read = (file) => (file ? readFileSync(file) : undefined);

function connect(session) {
  return new Promise((resolve) => {
    let latest;
    const socket = tls.connect({
      host: o.host, port: o.port, servername: o.servername, minVersion: 'TLSv1.3',
      ca: read(o.ca), cert: read(o.cert), key: read(o.key), ciphers: o.ciphers, session,
    });
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('session', (s) => (latest = s));
    socket.on('secureConnect', () => socket.write('GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(latest);
    });
  });
}

const session = await connect(undefined);
if (o.resume) await connect(session);
