/**
 * gRPC calls on governed hosts (issue 18.3). gRPC is protobuf over HTTP/2: the path names the RPC
 * (`/{package}.{Service}/{Method}`), the status travels in the `grpc-status` trailer. No adapter
 * reads protobuf: a gRPC call is forwarded byte for byte, never rewritten, and recorded at host
 * level (RPC, sizes, status, latency), like an opaque protocol. Guardrails do not see its messages,
 * even where the schema is published (decoding them would need the service's descriptors, which
 * the agent does not carry).
 */

/** A gRPC call as the audit names it. */
export interface GrpcCall {
  /** `package.Service/Method`. */
  readonly endpoint: string;
  /** Why its body is not read, for the record. */
  readonly reason: string;
}

/** Status names by code (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The gRPC call a request is (by its content type), or null when it is not gRPC. `path` without its query. */
export function grpcCall(contentType: string | string[] | undefined, path: string): GrpcCall | null {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (type === undefined || !/^application\/grpc(?:[+;-]|$)/i.test(type)) return null;
  const endpoint = path.length > 1 ? path.slice(1) : path;
  return { endpoint, reason: `gRPC call ${endpoint}: protobuf, which no adapter reads; forwarded unchanged and recorded at host level` };
}

/** `5 (NOT_FOUND)` for a `grpc-status` value; null when the value is not a status code. */
export function grpcStatusText(value: string | string[] | undefined): string | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,2}$/.test(text)) return null;
  const code = Number(text);
  return `${code} (${STATUS_NAMES[code] ?? 'UNKNOWN CODE'})`;
}
