/**
 * How a receiver knows a delivery came from Larder: `X-Larder-Signature: sha256=<hex>`, the
 * HMAC-SHA256 with the webhook's secret of `<X-Larder-Timestamp>.<raw body>`. Signing the
 * timestamp too lets a receiver refuse replays of old deliveries.
 *
 * @example
 * const expected = signDelivery(secret, request.headers['x-larder-timestamp'], rawBody);
 * if (!timingSafeEqual(Buffer.from(expected), Buffer.from(request.headers['x-larder-signature']))) reject();
 */
import { createHmac } from 'node:crypto';

export function signDelivery(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
