/**
 * The steps that bring a database written by an older kwire up to schema.sql: STEPS[n] takes a
 * database of version n to n + 1. database.ts runs them in order, all in one transaction with
 * foreign keys off (rebuilding a table drops it), so that a database is at its old version or the
 * new one, never between.
 */
import type { Db } from './database.js';

export const STEPS: Record<number, (db: Db) => void> = {
  /**
   * 1 → 2. flows and findings become rowid tables: their rows of 1–3 KB overflowed the pages of a
   * WITHOUT ROWID table, which keep about 1 KB of a row. findings' `finding` column, the whole
   * finding repeating title, detail, remediation and evidence, becomes `extra`: name and references.
   */
  1: (db) => {
    rebuild(db, 'flows', withRowid);
    rebuild(db, 'findings', (sql) => withRowid(sql).replace(/^(\s*)finding(\s+TEXT NOT NULL,\s*)--.*$/m, '$1extra  $2-- JSON: the rest of the finding of SPEC.md §4 (name, references)'), {
      extra: "json_object('name', finding ->> '$.name', 'references', json(finding -> '$.references'))",
    });
  },
};

const withRowid = (sql: string): string => sql.replace(/\)\s*WITHOUT ROWID\s*$/i, ')');

/**
 * SQLite's way to change what ALTER TABLE cannot: the table made again from its own definition as
 * `redefine` rewrites it, its rows copied (a column of the new definition from `computed`, else
 * from the column of that name), the old table dropped and its indexes made again.
 */
function rebuild(db: Db, table: string, redefine: (sql: string) => string, computed: Record<string, string> = {}): void {
  const definition = (db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string }).sql;
  const indexes = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").pluck().all(table) as string[];
  const rebuilt = `${table}_rebuilt`;
  db.exec(redefine(definition).replace(/^CREATE TABLE\s+"?\w+"?/i, `CREATE TABLE ${rebuilt}`));
  const columns = (db.pragma(`table_info(${rebuilt})`) as { name: string }[]).map((column) => column.name);
  db.exec(`INSERT INTO ${rebuilt} (${columns.join(', ')}) SELECT ${columns.map((column) => computed[column] ?? column).join(', ')} FROM ${table}`);
  db.exec(`DROP TABLE ${table}`);
  db.exec(`ALTER TABLE ${rebuilt} RENAME TO ${table}`);
  for (const index of indexes) db.exec(index);
}
