// The public side of console capture: reading a run directory's captured output.
export { readConsoleLog } from './console-log-reader.js';
export type { ConsoleChunk, ConsoleEnd, ConsoleRecord } from './console-log-writer.js';
