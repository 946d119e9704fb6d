/**
 * Starts the Marcelle backend as its `marcelle-backend` bin does (config from
 * NODE_CONFIG_DIR, then the package's own Feathers app), except that it binds 127.0.0.1
 * only: the bin's `app.listen(port)` binds every interface. Run with the peer's
 * node_modules on NODE_PATH. Usage: node marcelle-launcher.cjs <port>
 */
'use strict';
const app = require('@marcellejs/backend/lib/app').default;

const port = Number(process.argv[2]);
const server = app.listen(port, '127.0.0.1');
server.on('listening', () => console.log(`Marcelle backend listening on http://127.0.0.1:${port}`));
// Nothing to flush that the benchmark needs: NeDB appends each write as it happens.
process.on('SIGTERM', () => process.exit(0));
