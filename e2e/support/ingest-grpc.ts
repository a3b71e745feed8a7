import { credentials, makeGenericClientConstructor, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { IngestClient, PublishRequest, PublishResponse } from '@polaris/proto';
import { callerMetadata } from './internal-token';
import { E2E_PORTS } from './ports';

const target = `127.0.0.1:${E2E_PORTS.ingestGrpc}`;
const DEADLINE_MS = 20_000;

export type IngestOutcome =
  | { ok: true; accepted: number }
  | { ok: false; grpcCode: number; details: string; code?: string; field?: string };

/** The domain code and field the server puts in trailing metadata (shared/src/grpc/status.ts). */
function outcomeOf(err: ServiceError | null, res: PublishResponse | undefined): IngestOutcome {
  if (!err) return { ok: true, accepted: res?.accepted ?? 0 };
  const meta = (key: string) => err.metadata?.get(key)[0]?.toString();
  return { ok: false, grpcCode: err.code, details: err.details, code: meta('polaris-error-code'), field: meta('polaris-error-field') };
}

/** polaris.v1.Ingest/Publish with the generated client, as the gateway calls it: with its token, acting for the request's org. */
export async function publishOverGrpc(request: PublishRequest): Promise<IngestOutcome> {
  const metadata = await callerMetadata(IngestClient.serviceName, { actingFor: request.organizationId });
  const client = new IngestClient(target, credentials.createInsecure());
  return new Promise<IngestOutcome>((resolve) => {
    client.publish(request, metadata, { deadline: Date.now() + DEADLINE_MS }, (err, res) => resolve(outcomeOf(err, res)));
  }).finally(() => client.close());
}

/** The org a request's bytes name, when they decode at all (the server checks it against the token's). */
function organizationOf(bytes: Buffer): string | undefined {
  try {
    return PublishRequest.decode(bytes).organizationId;
  } catch {
    return undefined;
  }
}

/** Publish with hand-made request bytes: for messages the generated encoder cannot produce. */
export async function publishRawOverGrpc(bytes: Buffer): Promise<IngestOutcome> {
  const metadata = await callerMetadata(IngestClient.serviceName, { actingFor: organizationOf(bytes) });
  const RawIngest = makeGenericClientConstructor(
    {
      publish: {
        path: '/polaris.v1.Ingest/Publish',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (r: PublishResponse) => Buffer.from(PublishResponse.encode(r).finish()),
        responseDeserialize: (b: Buffer) => PublishResponse.decode(b),
      },
    },
    'polaris.v1.Ingest',
  );
  const client = new RawIngest(target, credentials.createInsecure()) as unknown as {
    publish(req: Buffer, meta: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: PublishResponse) => void): void;
    close(): void;
  };
  return new Promise<IngestOutcome>((resolve) => {
    client.publish(bytes, metadata, { deadline: Date.now() + DEADLINE_MS }, (err, res) => resolve(outcomeOf(err, res)));
  }).finally(() => client.close());
}

// Protobuf wire format, just enough to nest a google.protobuf.Struct without recursion (the
// generated encoder recurses, and overflows the stack a few thousand levels down).
function varint(n: number): Buffer {
  const out: number[] = [];
  // Arithmetic, not >>>: Timestamp seconds go past 32 bits.
  for (; n > 127; n = Math.floor(n / 128)) out.push((n % 128) | 128);
  out.push(n);
  return Buffer.from(out);
}
const lengthDelimited = (fieldNo: number, payload: Buffer) => Buffer.concat([varint((fieldNo << 3) | 2), varint(payload.length), payload]);
const text = (fieldNo: number, s: string) => lengthDelimited(fieldNo, Buffer.from(s, 'utf8'));

/**
 * `{"a":{"a":…{"v":"x"}}}` with `depth` Structs, as Struct bytes. Each level is a prefix
 * (Struct.fields entry, key "a", Value.struct_value) in front of the level inside it, so the
 * prefixes are sized inside-out and written once: linear even 100,000 levels deep.
 */
export function deepStructBytes(depth: number): Buffer {
  const key = text(1, 'a');
  // Innermost: Struct.fields (1) = entry { key (1) "v", value (2) = Value { string_value (3) "x" } }.
  const innermost = lengthDelimited(1, Buffer.concat([text(1, 'v'), lengthDelimited(2, text(3, 'x'))]));
  const prefixes: Buffer[] = [];
  let size = innermost.length;
  for (let level = 1; level < depth; level++) {
    const valuePrefix = Buffer.concat([varint((5 << 3) | 2), varint(size)]); // Value.struct_value = 5
    const valueSize = valuePrefix.length + size;
    const entryPrefix = Buffer.concat([key, varint((2 << 3) | 2), varint(valueSize)]); // entry value = 2
    const entrySize = entryPrefix.length + valueSize;
    const structPrefix = Buffer.concat([varint((1 << 3) | 2), varint(entrySize)]); // Struct.fields = 1
    prefixes.push(Buffer.concat([structPrefix, entryPrefix, valuePrefix]));
    size = structPrefix.length + entrySize;
  }
  return Buffer.concat([...prefixes.reverse(), innermost]);
}

/** A PublishRequest with one event whose `data` is the given Struct bytes (and `time`, if given, in Timestamp seconds). */
export function publishRequestBytes(
  organizationId: string,
  event: { id: string; source: string; type: string; subject: string; timeSeconds?: number },
  dataStruct: Buffer,
): Buffer {
  const time = event.timeSeconds === undefined ? [] : [lengthDelimited(5, Buffer.concat([varint(1 << 3), varint(event.timeSeconds)]))];
  const cloudEvent = Buffer.concat([text(1, event.id), text(2, event.source), text(3, event.type), text(4, event.subject), ...time, lengthDelimited(6, dataStruct)]);
  return Buffer.concat([text(1, organizationId), lengthDelimited(2, cloudEvent)]);
}
