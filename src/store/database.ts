/**
 * Opening kwire's SQLite database (better-sqlite3): WAL so that readers see a writer's progress,
 * file mode 0600 (flows name a cluster's hosts), the schema of schema.sql applied or checked, and
 * every failure a user can meet turned into one clear message that names the file.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { KwireError } from '../model/errors.js';
import { STEPS } from './migrations.js';

export type Db = Database.Database;

/**
 * A new file's page size: a TLS flow's row is 2–3 KB, one to a 4 KiB page (the rest unused), three
 * to an 8 KiB one. An existing database keeps its own (only VACUUM changes it, after a migration).
 */
const PAGE_SIZE = 8192;

/** schema.sql's `PRAGMA user_version`: the version this kwire writes and reads. */
export const SCHEMA_VERSION = 2;

export type StoreErrorCode = 'DB_UNWRITABLE' | 'DB_NOT_FOUND' | 'DB_NOT_KWIRE' | 'DB_TOO_NEW' | 'DB_TOO_OLD' | 'DB_FULL' | 'DB_FAILED';

/** A database that cannot be opened, created or written: exit 2, one line naming the file. */
export class StoreError extends KwireError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(code, message);
    this.name = 'StoreError';
  }
}

/** schema.sql at the package root, from src/store/ (tests) and dist/store/ alike. */
export function schemaText(): string {
  return readFileSync(new URL('../../schema.sql', import.meta.url), 'utf8');
}

/** Opens (or creates) the database a run writes to, with the schema in place. */
export function openForWriting(file: string): Db {
  createPrivately(file);
  const db = attempt(file, 'open', () => new Database(file));
  try {
    attempt(file, 'open', () => {
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      // In WAL mode, NORMAL loses nothing a killed process committed; only a power loss can.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    });
    prepareSchema(db, file);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens a database for reading (`kwire tui`, `kwire report`), while a writer may be running. */
export function openForReading(file: string): Db {
  if (!existsSync(file)) throw new StoreError('DB_NOT_FOUND', `${file}: no such database (kwire read and kwire sniff write one, kwire.db by default)`);
  const db = attempt(file, 'open', () => new Database(file, { readonly: true, fileMustExist: true }));
  try {
    attempt(file, 'open', () => db.pragma('busy_timeout = 5000'));
    const version = userVersion(db, file);
    if (version === 0) throw new StoreError('DB_NOT_KWIRE', `${file}: not a kwire database (no kwire schema in it)`);
    checkNotNewer(version, file);
    if (version < SCHEMA_VERSION) {
      throw new StoreError('DB_TOO_OLD', `${file}: written by an older kwire (schema ${version}; this one reads ${SCHEMA_VERSION}): run any 'kwire read --db ${file}' once to migrate it`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Brings the database to SCHEMA_VERSION. Version 0 with no tables is a new file (or one from the
 * kwire that wrote no database yet): it gets schema.sql. An older version goes through the steps of
 * migrations.ts, in one transaction.
 */
function prepareSchema(db: Db, file: string): void {
  const version = userVersion(db, file);
  checkNotNewer(version, file);
  if (version === SCHEMA_VERSION) return;
  if (version === 0) {
    const tables = attempt(file, 'read', () => db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number });
    if (tables.n > 0) throw new StoreError('DB_NOT_KWIRE', `${file}: not a kwire database (it has tables of its own); name another file with --db`);
    attempt(file, 'write', () => db.exec(`BEGIN; ${schemaText()}; COMMIT;`));
    return;
  }
  attempt(file, 'migrate', () => {
    // A table is rebuilt by dropping it, which foreign keys would cascade to the rows that point at it.
    db.pragma('foreign_keys = OFF');
    // IMMEDIATE: a second writer opening the same old database waits here (busy_timeout), then
    // finds it migrated, instead of failing to turn its read into a write.
    const migrated = db.transaction(() => {
      const current = userVersion(db, file);
      if (current === SCHEMA_VERSION) return false;
      for (let step = current; step < SCHEMA_VERSION; step++) STEPS[step](db);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`${broken.length} rows point at no row after the migration`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return true;
    }).immediate();
    db.pragma('foreign_keys = ON');
    if (migrated) compact(db);
  });
}

/**
 * After a migration the old tables' pages are free: VACUUM gives them back and moves the file to
 * the pages of a new one (which WAL mode forbids changing). Skipped, the database only stays
 * larger: a reader holding it open (the dashboard) makes VACUUM busy.
 */
function compact(db: Db): void {
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.exec('VACUUM');
  } catch (error) {
    if (!String((error as { code?: string }).code).startsWith('SQLITE_BUSY')) throw error;
  } finally {
    db.pragma('journal_mode = WAL');
  }
}

function userVersion(db: Db, file: string): number {
  return attempt(file, 'read', () => db.pragma('user_version', { simple: true }) as number);
}

function checkNotNewer(version: number, file: string): void {
  if (version > SCHEMA_VERSION) {
    throw new StoreError('DB_TOO_NEW', `${file}: written by a newer kwire (schema ${version}; this one knows ${SCHEMA_VERSION}): upgrade kwire or name another file with --db`);
  }
}

/** A new database file is created readable by its owner only; an existing one keeps its mode. */
function createPrivately(file: string): void {
  try {
    closeSync(openSync(file, 'a', 0o600));
  } catch (error) {
    throw storeError(file, 'create', error);
  }
}

/** Runs a database operation; a failure becomes a StoreError that says what and where. */
export function attempt<T>(file: string, doing: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw storeError(file, doing, error);
  }
}

function storeError(file: string, doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return new StoreError('DB_FULL', `${file}: the disk is full (${doing} failed); free space or name another file with --db`);
  if (code === 'SQLITE_NOTADB') return new StoreError('DB_NOT_KWIRE', `${file}: not a SQLite database`);
  if (code === 'ENOENT' || /directory does not exist/.test(message)) {
    return new StoreError(doing === 'create' ? 'DB_UNWRITABLE' : 'DB_NOT_FOUND', `${file}: ${doing === 'create' ? 'cannot create it: the directory does not exist' : 'no such database'}`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new StoreError('DB_UNWRITABLE', `${file}: cannot ${doing} the database (${code}): choose a writable path with --db, or --no-db`);
  }
  return new StoreError('DB_FAILED', `${file}: database ${doing} failed: ${message}${code ? ` (${code})` : ''}`);
}
