/** flow/: TCP connection tracking and reassembly (DESIGN.md). */
export { FlowTable, DEFAULT_FLOW_LIMITS, type FlowLimits, type FlowStats, type FlowTableOptions } from './table.js';
