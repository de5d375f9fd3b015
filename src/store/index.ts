/** store/: kwire's SQLite database (schema.sql): a writer per run (on a thread of its own), readers for report and the dashboard. */
export { SCHEMA_VERSION, StoreError, openForReading, openForWriting, schemaText } from './database.js';
export { StoreWriter, type CaptureStart, type ProgressCounts } from './writer.js';
export { BackgroundWriter } from './background.js';
export { StoreReader, type CaptureRow, type CaptureStatus, type FindingGroup, type FlowQuery, type FlowWithFindings, type FlowRow, type FlowSort, type MatrixRow, type ProgressRow } from './reader.js';
