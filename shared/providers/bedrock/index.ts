/**
 * AWS Bedrock runtime (`bedrock-runtime.{region}.amazonaws.com`, FIPS `bedrock-runtime-fips.…`):
 * `POST /model/{modelId}/invoke`, `/invoke-with-response-stream`, `/converse`, `/converse-stream`,
 * the model named by the path (a model id, an inference profile such as `us.anthropic.…`, or an ARN).
 * Streams are AWS's binary event stream, parsed incrementally (event-stream.ts) and observed: a
 * binary stream is not rewritten, so output guardrails on a Bedrock stream are evaluated for the
 * record, not enforced mid-stream (JSON answers are enforced).
 *
 * Requests are SigV4-signed by the client over the body: the agent cannot change a byte of it, so
 * an input guardrail that would redact blocks instead (`signed`), unless the policy gives the device
 * credentials to sign the changed request again (resign.ts). Clients authenticate with AWS
 * credentials, so no virtual key is required (`signedIn`). Errors take the AWS JSON shape the SDK
 * reads (`__type` names the exception).
 */
import { asObject, collect, replace } from '../json-walk.js';
import type { Endpoint, ErrorShape, ProviderAdapter, ResponseReader } from '../types.js';
import { EventStreamParser } from './event-stream.js';
import { invokeVisit, isAnthropicModel, maxTokens, visitConverse } from './request.js';
import { converseReader, invokeReader } from './response.js';

const HOST = /^bedrock-runtime(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com$/;
const PATH = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)$/;
const STREAMS: ReadonlySet<string> = new Set(['invoke-with-response-stream', 'converse-stream']);

function isConverse(endpoint: Endpoint): boolean {
  return endpoint.api === 'converse' || endpoint.api === 'converse-stream';
}

function visitOf(endpoint: Endpoint) {
  return isConverse(endpoint) ? visitConverse : invokeVisit(endpoint.pathModel ?? '');
}

/** The AWS exception each refusal status is, as the SDK names it. */
function exceptionFor(status: number): string {
  if (status === 429) return 'ThrottlingException';
  if (status === 402) return 'ServiceQuotaExceededException';
  if (status === 400 || status === 413) return 'ValidationException';
  if (status === 401 || status === 403) return 'AccessDeniedException';
  if (status === 503) return 'ServiceUnavailableException';
  return 'InternalServerException';
}

/** AWS JSON errors: `{ "message", "__type" }` (the SDK reads the exception from `__type`). */
function bedrockError(status: number, _code: string, message: string): ErrorShape {
  return { contentType: 'application/json', body: JSON.stringify({ __type: exceptionFor(status), message }) };
}

/** The Bedrock runtime adapter. */
export const bedrockAdapter: ProviderAdapter = {
  id: 'bedrock',
  match(host, method, path) {
    if (method !== 'POST' || !HOST.test(host)) return null;
    const m = PATH.exec(path);
    if (m === null) return null;
    const api = m[2] as string;
    return { adapter: bedrockAdapter, provider: 'bedrock', api, pathModel: decodeURIComponent(m[1] as string), pathStream: STREAMS.has(api), signedIn: true, signed: true };
  },
  parse(endpoint, body) {
    const o = asObject(body) ?? {};
    const { texts, chars, notes } = collect(visitOf(endpoint), o);
    return { model: endpoint.pathModel, stream: endpoint.pathStream, texts, promptChars: chars, notes, maxOutputTokens: maxTokens(o) };
  },
  rewriteTexts(endpoint, body, texts) {
    const o = asObject(body);
    if (o !== null) replace(visitOf(endpoint), o, texts);
  },
  prepare: () => false,
  reader(endpoint): ResponseReader {
    return isConverse(endpoint) ? converseReader() : invokeReader(endpoint, isAnthropicModel(endpoint.pathModel ?? ''));
  },
  streamParser: (_endpoint, contentType) => (contentType.includes('application/vnd.amazon.eventstream') ? new EventStreamParser() : null),
  // AWS requests carry no key header to swap: SigV4 signs them.
  credential: () => ['x-outpost-unused', ''],
  error: bedrockError,
};
