/**
 * Operational errors carry a stable `code` (undici's habit) so that the CLI can map them to an
 * exit status and a one-line message, and tests can match on them.
 */
export class KwireError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'KwireError';
  }
}

/** The input is not a capture at all, or cannot be opened: exit 2. */
export class InputError extends KwireError {
  constructor(code: 'NOT_A_CAPTURE' | 'UNREADABLE' | 'IS_A_DIRECTORY' | 'NOT_FOUND', message: string) {
    super(code, message);
    this.name = 'InputError';
  }
}

/** A live interface cannot be captured (`kwire sniff`), or its `--write` file cannot be written: exit 2. */
export class LiveCaptureError extends KwireError {
  constructor(code: 'NO_SUCH_INTERFACE' | 'CAPTURE_PERMISSION' | 'BAD_FILTER' | 'CAPTURE_FAILED' | 'NO_BACKEND' | 'UNWRITABLE', message: string) {
    super(code, message);
    this.name = 'LiveCaptureError';
  }
}
