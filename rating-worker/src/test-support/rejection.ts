import { PolarisError } from '@polaris/shared/errors';

/** The PolarisError a call failed with; any other failure, or none, fails the test. */
export async function rejection(p: Promise<unknown>): Promise<PolarisError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}
