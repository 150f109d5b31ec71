/** The gateway's version, reported in `welcome`. */
export const GATEWAY_VERSION = '0.1.0';
