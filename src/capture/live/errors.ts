/**
 * The errors a user meets opening an interface, from either backend's message (libpcap's words
 * reach us through tcpdump's stderr or the cap binding's exception): one line that names the
 * interface and says what to do, as LiveCaptureError (exit 2).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { LiveCaptureError } from '../../model/errors.js';

/** Interfaces a capture can open here: the kernel's, and libpcap's pseudo-interface `any`. */
export function interfaceNames(): string[] {
  try {
    return ['any', ...readdirSync('/sys/class/net').sort()];
  } catch {
    return [];
  }
}

export function noSuchInterface(iface: string): LiveCaptureError {
  const names = interfaceNames();
  return new LiveCaptureError('NO_SUCH_INTERFACE', `${iface}: no such interface${names.length > 0 ? ` (there are: ${names.join(', ')})` : ''}`);
}

/**
 * Maps libpcap's message (tcpdump's first stderr line without its `tcpdump: ` prefix, or the cap
 * binding's exception) to the error the user sees.
 */
export function captureOpenError(iface: string, filter: string, backend: string, message: string): LiveCaptureError {
  const reason = message.replace(/^tcpdump:\s*/, '').replace(`${iface}: `, '').trim();
  if (/no such device|doesn't exist|no such interface/i.test(reason)) return noSuchInterface(iface);
  if (/permission|not permitted/i.test(reason)) {
    return new LiveCaptureError(
      'CAPTURE_PERMISSION',
      `${iface}: no permission to capture (${reason}): run kwire as root, or give node the capture capabilities: setcap cap_net_raw,cap_net_admin+eip ${process.execPath}`,
    );
  }
  if (/filter expression|syntax error|parse filter|illegal|unknown host|unknown port|not supported/i.test(reason) && filter !== '') {
    return new LiveCaptureError('BAD_FILTER', `${iface}: bad capture filter '${filter}': ${reason}`);
  }
  return new LiveCaptureError('CAPTURE_FAILED', `${iface}: cannot capture (${backend}: ${reason || 'no reason given'})`);
}

const IFF_UP = 0x1;

/** Why `iface` can deliver no packets ('the interface went down' or 'disappeared'), or null while it is up. */
export function interfaceState(iface: string): string | null {
  if (iface === 'any') return null;
  try {
    return (Number(readFileSync(`/sys/class/net/${iface}/flags`, 'utf8')) & IFF_UP) === 0 ? 'the interface went down' : null;
  } catch {
    return 'the interface disappeared';
  }
}
