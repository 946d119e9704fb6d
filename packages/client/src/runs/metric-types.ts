/** Metric types and their aliases live in the protocol, shared with the server. */
export { normalizeMetricType } from '@larder/protocol';
