import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import type { DevConfig } from '../config';
import { CliError } from '@polaris/cli';
import { kafkaPom, type StackLayout } from '../paths';
import { ensureKafkaLibs } from './install';
import type { StackService } from './service';

function serverProperties(config: DevConfig, layout: StackLayout): string {
  const { kafka, kafkaController } = config.ports;
  return `# Written by \`polaris stack up\` on every start; edit scripts/src/stack/kafka.ts instead.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${kafkaController}
listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}
advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${layout.kafka.data}
num.partitions=6
# Topics are created by \`polaris migrate\`; a typo in a topic name must fail, not create a topic.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
`;
}

function log4jConfig(layout: StackLayout): string {
  const log = layout.kafka.log;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="file" fileName="${log}" filePattern="${log}.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="50 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="file"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
  </Loggers>
</Configuration>
`;
}

/** Same shape as Kafka's Uuid.randomUuid(): 16 random bytes, base64url, no leading '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function kafkaService(config: DevConfig, layout: StackLayout): StackService {
  const classpath = `${layout.kafka.libs}/*`;
  return {
    name: 'kafka',
    ports: [config.ports.kafka, config.ports.kafkaController],
    pidFile: layout.pidFile('kafka'),
    logFiles: [layout.kafka.log, layout.kafka.stdout],
    stopSignal: 'SIGTERM',
    requirements: [
      { binary: 'java', aptPackage: 'default-jre-headless' },
      { binary: 'mvn', aptPackage: 'maven' },
    ],

    async prepare(log) {
      await ensureKafkaLibs(kafkaPom, layout.kafka.libs, log);
      mkdirSync(layout.kafka.data, { recursive: true });
      writeFileSync(layout.kafka.properties, serverProperties(config, layout));
      writeFileSync(layout.kafka.log4j, log4jConfig(layout));
      if (existsSync(path.join(layout.kafka.data, 'meta.properties'))) return;
      if (!existsSync(layout.kafka.clusterId)) writeFileSync(layout.kafka.clusterId, `${newClusterId()}\n`);
      const clusterId = readFileSync(layout.kafka.clusterId, 'utf8').trim();
      const result = await execa(
        'java',
        [
          `-Dlog4j2.configurationFile=${layout.kafka.log4j}`,
          '-cp', classpath,
          'kafka.tools.StorageTool', 'format', '--standalone',
          '-t', clusterId,
          '-c', layout.kafka.properties,
        ],
        { all: true, reject: false },
      );
      if (result.exitCode !== 0) {
        throw new CliError(`kafka: formatting the KRaft log dir failed (exit ${result.exitCode}):\n  ${(result.all ?? '').split('\n').join('\n  ')}`);
      }
    },

    async launch() {
      return {
        file: 'java',
        args: [
          // Small heap: the whole stack shares a 2-core dev box.
          '-Xms256m', '-Xmx512m',
          '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${layout.kafka.log4j}`,
          `-Dkafka.logs.dir=${layout.logs}`,
          '-cp', classpath,
          'kafka.Kafka', layout.kafka.properties,
        ],
        cwd: layout.kafka.dir,
        output: layout.kafka.stdout,
      };
    },

    async probe() {
      const admin = new Kafka({
        clientId: 'polaris-stack-probe',
        brokers: [`127.0.0.1:${config.ports.kafka}`],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2_000,
        requestTimeout: 5_000,
        retry: { retries: 0 },
      }).admin();
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        if (cluster.controller === null || cluster.controller < 0) throw new Error('no active controller yet');
      } finally {
        await admin.disconnect();
      }
    },
  };
}
