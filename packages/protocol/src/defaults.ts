/** Where a Larder server listens unless told otherwise; shared by the server, SDK and CLI. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 3030;
