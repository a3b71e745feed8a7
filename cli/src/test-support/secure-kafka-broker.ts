import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { loadConfig } from '@polaris/shared/config';
import { eventually } from '@polaris/shared/testing';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A Kafka broker of a test's own, as production runs one: a listener with TLS (a certificate from
 * a CA made for the test) and SASL/SCRAM-SHA-512, beside a plaintext one the test uses to look at
 * what happened. `auto.create.topics.enable=true`, Kafka's and Redpanda's default, unlike the local
 * stack's broker: a client that asks for auto-creation gets it here.
 */
export interface SecureKafkaBroker {
  /** host:port of the SASL_SSL listener. */
  secure: string;
  /** PEM of the CA that signed the broker's certificate (KAFKA_SSL_CA_FILE). */
  caFile: string;
  username: string;
  password: string;
  /** host:port of the plaintext listener, without authentication. */
  plaintext: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A CA and a broker certificate for 127.0.0.1, signed by it (openssl: Node cannot sign X.509). */
function certificates(dir: string): { caFile: string; keystore: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=polaris-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost');
  writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.cnf');
  // Kafka's PEM keystore: the PKCS#8 key, then the certificate chain.
  const key = execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', 'broker.key'], { cwd: dir, encoding: 'utf8' });
  writeFileSync(file('keystore.pem'), key + readFileSync(file('broker.pem'), 'utf8'));
  return { caFile: file('ca.pem'), keystore: file('keystore.pem') };
}

/** Where the local stack keeps its state, as `polaris stack` reads it (scripts/src/config.ts). */
const stackDirSchema = z.object({ POLARIS_STACK_DIR: z.string().default(path.join(repoRoot, '.stack')) });

/**
 * Starts the broker from the local stack's Kafka jars (`npx polaris stack up` downloads them to
 * .stack/kafka/libs, or $POLARIS_STACK_DIR/kafka/libs) and waits until it answers.
 */
export async function startSecureKafkaBroker(): Promise<SecureKafkaBroker> {
  const { POLARIS_STACK_DIR } = loadConfig(stackDirSchema);
  const libs = path.join(POLARIS_STACK_DIR, 'kafka', 'libs');
  if (!existsSync(libs)) throw new Error(`no Kafka jars in ${libs}: run \`npx polaris stack up\` first`);
  const dir = mkdtempSync(path.join(tmpdir(), 'polaris-secure-kafka-'));
  const [plain, secure, controller] = [await freePort(), await freePort(), await freePort()];
  const { caFile, keystore } = certificates(dir);
  const username = 'polaris';
  const password = randomBytes(12).toString('hex');
  const properties = path.join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controller}`,
      `listeners=PLAIN://127.0.0.1:${plain},SECURE://127.0.0.1:${secure},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAIN://127.0.0.1:${plain},SECURE://127.0.0.1:${secure}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAIN',
      'listener.security.protocol.map=PLAIN:PLAINTEXT,SECURE:SASL_SSL,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.secure.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${keystore}`,
      `log.dirs=${path.join(dir, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=true',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const log4j = path.join(dir, 'log4j2.xml');
  writeFileSync(
    log4j,
    `<?xml version="1.0" encoding="UTF-8"?><Configuration status="WARN"><Appenders><File name="file" fileName="${path.join(dir, 'kafka.log')}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File></Appenders><Loggers><Root level="INFO"><AppenderRef ref="file"/></Root></Loggers></Configuration>`,
  );
  const java = ['-Xms128m', '-Xmx384m', `-Dlog4j2.configurationFile=${log4j}`, '-cp', `${libs}/*`];
  // The SCRAM credential is written with the metadata, so the broker knows the user from its start.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  execFileSync('java', [...java, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', properties, '--add-scram', `SCRAM-SHA-512=[name=${username},password=${password}]`], { stdio: 'pipe' });

  const output = openSync(path.join(dir, 'stdout.log'), 'a');
  const broker: ChildProcess = spawn('java', [...java, 'kafka.Kafka', properties], { stdio: ['ignore', output, output] });
  const exited = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  const stop = async () => {
    broker.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
    if (!gone) {
      broker.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const admin = new Kafka({ brokers: [`127.0.0.1:${plain}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    const outcome = await eventually(
      async () => {
        if (broker.exitCode !== null) return 'exited';
        await admin.connect();
        try {
          return (await admin.describeCluster()).controller !== null ? 'up' : undefined;
        } finally {
          await admin.disconnect();
        }
      },
      'the test broker to answer',
      60_000,
      250,
    );
    if (outcome === 'exited') {
      const tail = readFileSync(path.join(dir, 'kafka.log'), 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`the test broker exited (${broker.exitCode}):\n${tail}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { secure: `127.0.0.1:${secure}`, caFile, username, password, plaintext: `127.0.0.1:${plain}`, stop };
}
