import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DevConfig } from '../config';
import type { StackLayout } from '../paths';
import type { StackService } from './service';

// A private config instead of /etc/clickhouse-server/config.xml: own paths and ports, loopback
// only, small caches for a 2-core dev box, UTC like the container images. Checked on 18.16.1,
// which also runs as root without complaint, so no user switch is needed.
function serverConfig(config: DevConfig, layout: StackLayout): string {
  const data = `${layout.clickhouse.data}/`;
  return `<?xml version="1.0"?>
<!-- Written by \`polaris stack up\` on every start; edit scripts/src/stack/clickhouse.ts instead. -->
<yandex>
  <logger>
    <level>information</level>
    <log>${layout.clickhouse.log}</log>
    <errorlog>${layout.clickhouse.errorLog}</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${config.ports.clickhouseHttp}</http_port>
  <tcp_port>${config.ports.clickhouseTcp}</tcp_port>
  <path>${data}</path>
  <tmp_path>${data}tmp/</tmp_path>
  <user_files_path>${data}user_files/</user_files_path>
  <format_schema_path>${data}format_schemas/</format_schema_path>
  <users_config>${layout.clickhouse.users}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

const usersConfig = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks>
        <ip>127.0.0.1</ip>
        <ip>::1</ip>
      </networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`;

export function clickhouseService(config: DevConfig, layout: StackLayout): StackService {
  const httpPort = config.ports.clickhouseHttp;
  return {
    name: 'clickhouse',
    ports: [httpPort, config.ports.clickhouseTcp],
    pidFile: layout.pidFile('clickhouse'),
    logFiles: [layout.clickhouse.errorLog, layout.clickhouse.stdout],
    stopSignal: 'SIGTERM',
    requirements: [{ binary: 'clickhouse-server', aptPackage: 'clickhouse-server' }],

    async prepare() {
      mkdirSync(path.join(layout.clickhouse.data, 'tmp'), { recursive: true });
      writeFileSync(layout.clickhouse.config, serverConfig(config, layout));
      writeFileSync(layout.clickhouse.users, usersConfig);
    },

    async launch() {
      return {
        file: 'clickhouse-server',
        args: [`--config-file=${layout.clickhouse.config}`],
        cwd: layout.clickhouse.dir,
        output: layout.clickhouse.stdout,
      };
    },

    async probe() {
      const response = await fetch(`http://127.0.0.1:${httpPort}/?query=SELECT%201`, {
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await response.text()).trim();
      if (!response.ok || body !== '1') throw new Error(`HTTP ${response.status}: ${body.slice(0, 200)}`);
    },
  };
}
