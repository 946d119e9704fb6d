/** The Feathers application type Larder builds on (Koa transport, socket.io, channels). */
import type { Application } from '@feathersjs/koa';
import '@feathersjs/socketio';
import '@feathersjs/transport-commons';

export type FeathersApp = Application;
