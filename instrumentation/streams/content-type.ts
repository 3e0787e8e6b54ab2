export const KIND_NONE = 0;
export const KIND_SSE = 1;
export const KIND_NDJSON = 2;
export const KIND_AUDIO = 3;
/** text/plain or application/octet-stream without a Content-Length: a stream once written twice. */
export const KIND_TEXT = 4;
/** The AI SDK data stream protocol (text/plain with `x-vercel-ai-data-stream`): `TYPE:JSON` lines. */
export const KIND_DATA_STREAM = 5;
/** A stream whose body cannot be read (an encoding that failed to decode): counted, not inspected. */
export const KIND_OPAQUE = 6;
export type StreamKind =
  | typeof KIND_NONE
  | typeof KIND_SSE
  | typeof KIND_NDJSON
  | typeof KIND_AUDIO
  | typeof KIND_TEXT
  | typeof KIND_DATA_STREAM
  | typeof KIND_OPAQUE;

/** Which streaming protocol a Content-Type announces, ignoring parameters and case. */
export function streamKindOf(contentType: unknown): StreamKind {
  if (Array.isArray(contentType)) contentType = contentType[0];
  if (typeof contentType !== 'string') return KIND_NONE;
  // The usual spelling, answered before any normalising (no new strings per response).
  if (contentType === 'text/event-stream' || contentType.startsWith('text/event-stream;')) return KIND_SSE;
  const semi = contentType.indexOf(';');
  const mime = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (mime === 'text/event-stream') return KIND_SSE;
  if (mime === 'application/x-ndjson' || mime === 'application/ndjson' || mime === 'application/jsonl') return KIND_NDJSON;
  if (mime.startsWith('audio/')) return KIND_AUDIO;
  if (mime === 'text/plain' || mime === 'application/octet-stream') return KIND_TEXT;
  return KIND_NONE;
}
