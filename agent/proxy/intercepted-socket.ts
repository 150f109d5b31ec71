/** The mark an intercepted TLS socket carries: where it was going (its own file, so the servers it is handed to need not import the interceptor). */
import type tls from 'node:tls';
import type { ExchangeTarget } from './exchange-types.js';

/** Where an intercepted TLS socket was going; set on the socket so each request finds it in O(1). */
export const TARGET: unique symbol = Symbol('outpost.target');

/** A TLS socket the engine terminated. */
export interface InterceptedSocket extends tls.TLSSocket {
  [TARGET]?: ExchangeTarget;
}
