/** store/: kwire's SQLite database (schema.sql): a writer per run, readers for report and the dashboard. */
export { SCHEMA_VERSION, StoreError, openForReading, openForWriting, schemaText } from './database.js';
export { StoreWriter, type CaptureStart, type ProgressCounts } from './writer.js';
export { StoreReader, type CaptureRow, type CaptureStatus, type FindingGroup, type FlowQuery, type FlowWithFindings, type FlowRow, type FlowSort, type MatrixRow, type ProgressRow } from './reader.js';
