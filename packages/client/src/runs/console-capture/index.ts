// Capture of the process's stdout and stderr into its run (`console.ndjson`).
export { ConsoleCapture } from './console-capture.js';
export { readConsoleLog } from './console-log-reader.js';
export type { RunLogsBody } from './console-log-upload.js';
export { CONSOLE_FILE, type ConsoleChunk, type ConsoleEnd, type ConsoleRecord } from './console-log-writer.js';
