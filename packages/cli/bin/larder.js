#!/usr/bin/env node
// The `larder` command. This small file is committed so that npm links the command at
// install time, before the TypeScript build has produced dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('larder: the CLI is not built yet; run "npm run build" at the repository root first.');
  process.exit(1);
}
await import(main.href);
