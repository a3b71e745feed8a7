import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { brokerList, ConfigError } from './config';

const SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;

/**
 * How every process that talks to the broker (collector, sink-worker, the operator CLI) reaches
 * it: the addresses, TLS and SASL. Defaults fit the local stack (plaintext on loopback). A broker
 * anywhere else takes TLS and SASL: the k8s base sets both for Redpanda's internal listener.
 */
const kafkaConfigFields = {
  KAFKA_BROKERS: brokerList.default(['127.0.0.1:59092']),
  KAFKA_SSL: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** PEM bundle of the CA that signed the brokers' certificates; unset: the system CAs. */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  /** Client certificate and key (PEM), for brokers that require mutual TLS. */
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
};

export type KafkaConfig = z.infer<z.ZodObject<typeof kafkaConfigFields>>;

/**
 * Settings that only work together. A half-set SASL or TLS would otherwise start a client that
 * fails at its first request with a broker-side message ("Connection closed", "SASL
 * authentication failed") instead of naming the variable.
 */
function checkKafkaSecurity(c: KafkaConfig, ctx: z.RefinementCtx): void {
  const problem = (variable: keyof KafkaConfig, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
  if (c.KAFKA_SASL_MECHANISM) {
    if (c.KAFKA_SASL_USERNAME === undefined) problem('KAFKA_SASL_USERNAME', 'required when KAFKA_SASL_MECHANISM is set');
    if (c.KAFKA_SASL_PASSWORD === undefined) problem('KAFKA_SASL_PASSWORD', 'required when KAFKA_SASL_MECHANISM is set');
    if (c.KAFKA_SASL_MECHANISM === 'plain' && !c.KAFKA_SSL) {
      problem('KAFKA_SASL_MECHANISM', 'plain sends the password in clear text: set KAFKA_SSL=true, or use scram-sha-256 or scram-sha-512');
    }
  } else if (c.KAFKA_SASL_USERNAME !== undefined || c.KAFKA_SASL_PASSWORD !== undefined) {
    problem('KAFKA_SASL_MECHANISM', `required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set (${SASL_MECHANISMS.slice(0, -1).join(', ')} or plain)`);
  }
  if (!c.KAFKA_SSL) {
    const files = (['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const).filter((f) => c[f] !== undefined);
    if (files.length > 0) problem('KAFKA_SSL', `must be true when ${files.join(', ')} ${files.length === 1 ? 'is' : 'are'} set`);
  }
  if (c.KAFKA_SSL_CERT_FILE !== undefined && c.KAFKA_SSL_KEY_FILE === undefined) problem('KAFKA_SSL_KEY_FILE', 'required when KAFKA_SSL_CERT_FILE is set');
  if (c.KAFKA_SSL_KEY_FILE !== undefined && c.KAFKA_SSL_CERT_FILE === undefined) problem('KAFKA_SSL_CERT_FILE', 'required when KAFKA_SSL_KEY_FILE is set');
}

const kafkaVariables = new Set<PropertyKey>(Object.keys(kafkaConfigFields));

/**
 * A service's config schema with the Kafka settings added, and the checks that span them. The one
 * way a Kafka user gets them: `.extend(shape)` alone would drop those checks.
 */
export function withKafkaConfig<S extends z.ZodRawShape>(schema: z.ZodObject<S>) {
  return schema.extend(kafkaConfigFields).superRefine((config, ctx) => checkKafkaSecurity(config as KafkaConfig, ctx), {
    // Run even when another variable is wrong, so that one start lists every problem; only a
    // Kafka variable that failed its own parse makes the combined checks meaningless.
    when: (payload) => !payload.issues.some((issue) => kafkaVariables.has(issue.path?.[0] ?? '')),
  });
}

/** The kafkajs options that say where the broker is and how to authenticate to it. */
export interface KafkaConnection {
  brokers: string[];
  ssl?: true | ConnectionOptions;
  sasl?: SASLOptions;
}

/**
 * The client options for `config`, reading the PEM files it names now, so that an unreadable one
 * stops the start with its variable named rather than failing every connection later.
 */
export function kafkaConnection(config: KafkaConfig, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): KafkaConnection {
  const problems: string[] = [];
  const read = (variable: 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE' | 'KAFKA_SSL_KEY_FILE'): string | undefined => {
    const file = config[variable];
    if (file === undefined) return undefined;
    try {
      return readFile(file);
    } catch (err) {
      problems.push(`${variable}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  let ssl: KafkaConnection['ssl'];
  if (config.KAFKA_SSL) {
    const ca = read('KAFKA_SSL_CA_FILE');
    const cert = read('KAFKA_SSL_CERT_FILE');
    const key = read('KAFKA_SSL_KEY_FILE');
    const options: ConnectionOptions = { ...(ca !== undefined ? { ca: [ca] } : {}), ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}) };
    ssl = Object.keys(options).length > 0 ? options : true;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  return {
    brokers: config.KAFKA_BROKERS,
    ...(ssl !== undefined ? { ssl } : {}),
    ...(mechanism && username !== undefined && password !== undefined ? { sasl: { mechanism, username, password } } : {}),
  };
}
