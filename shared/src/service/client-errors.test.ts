import { describe, expect, it } from 'vitest';
import { PolarisError } from '../errors';
import { toClientError } from './client-errors';

describe('toClientError', () => {
  it('keeps the code and gives a generic message with a request id for an unavailable dependency', () => {
    const err = new PolarisError('unavailable', 'identity_unavailable', 'identity service is unavailable: Name resolution failed for target dns:///rating-worker-grpc.polaris.svc.cluster.local:50053');
    const { body, masked } = toClientError(err);
    expect(masked).toBe(true);
    expect(body).toEqual({ code: 'identity_unavailable', message: expect.stringMatching(/unavailable.*retry/), requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(JSON.stringify(body)).not.toMatch(/dns:|rating-worker|50053|Name resolution/);
  });

  it('says nothing of an internal error but its code and request id', () => {
    const { body, masked } = toClientError(new PolarisError('internal', 'internal', 'connect ECONNREFUSED 10.0.3.7:5432 (remote_addr=10.0.3.7:5432)'));
    expect(masked).toBe(true);
    expect(body).toEqual({ code: 'internal', message: 'internal error', requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('leaves a client error as it is: its message is the help the caller needs', () => {
    const err = new PolarisError('invalid_argument', 'invalid_event', 'time: expected an RFC 3339 timestamp', 'time');
    expect(toClientError(err)).toEqual({ body: { code: 'invalid_event', message: 'time: expected an RFC 3339 timestamp', field: 'time' }, masked: false });
  });
});
