// Test harness: a throwaway clickhouse-server (Debian's package, 18.16 or newer) on free loopback ports with its
// own data directory, config and logs in a temp dir; killed and removed afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where Debian puts the server binary (either path, depending on the package version). */
const CANDIDATES = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse'];

export function clickhouseServerBinary(): string | null {
  for (const c of CANDIDATES) {
    if (!fs.existsSync(c)) continue;
    return c;
  }
  return null;
}

/** Why ClickHouse tests skip (the binary is absent), or null when they can run. */
export function clickhouseSkipReason(): string | null {
  return clickhouseServerBinary()
    ? null
    : 'clickhouse-server is not installed (apt-get install -y clickhouse-server clickhouse-client, or bash scripts/system-deps.sh): ClickHouse store tests skipped';
}

/** Why HTTPS test servers cannot start (no openssl to make their certificate), or null when they can. */
export function tlsSkipReason(): string | null {
  const r = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  return r.status === 0
    ? null
    : 'openssl is not installed (apt-get install -y openssl): HTTPS ClickHouse tests skipped';
}

export interface TestServerOptions {
  /** Also serve HTTPS, with a self-signed certificate for 127.0.0.1 made here (needs the openssl command). */
  tls?: boolean;
  /** HTTP and native-protocol ports (a cluster's config names its nodes by the latter); free ones when absent. */
  ports?: { http: number; tcp: number };
  /** More server config (a cluster's remote_servers, zookeeper and distributed_ddl sections). */
  extraConfig?: string;
}

export interface TestServer {
  /** http://127.0.0.1:PORT */
  readonly httpUrl: string;
  readonly httpPort: number;
  /** With `tls`: the HTTPS port, and the PEM file of its self-signed certificate (its own CA). */
  readonly httpsPort?: number;
  readonly caFile?: string;
  readonly dir: string;
  /** clickhouse://127.0.0.1:PORT/DATABASE for a fresh database name (the store creates it). */
  url(database: string): string;
  /**
   * Stops the server and removes its directory. By SIGKILL: its data is thrown away, and a clean shutdown (SIGTERM)
   * took 8 s here, waiting on idle keep-alive connections, in every test file's teardown.
   */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would (outage tests). */
  kill(): Promise<void>;
  /** Starts the killed server again on the same ports and data. */
  start(): Promise<void>;
  /** Rewrites the server's config with other extra sections (a server reloads remote_servers on its own). */
  reconfigure(extraConfig: string): void;
}

/** `n` distinct free ports (held open together, so no two are the same). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.on('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function configXml(
  dir: string,
  httpPort: number,
  tcpPort: number,
  httpsPort: number | null,
  extra = '',
): string {
  const https =
    httpsPort === null
      ? ''
      : `  <https_port>${httpsPort}</https_port>
  <openSSL>
    <server>
      <certificateFile>${dir}/tls/cert.pem</certificateFile>
      <privateKeyFile>${dir}/tls/key.pem</privateKeyFile>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <disableProtocols>sslv2,sslv3</disableProtocols>
    </server>
  </openSSL>
`;
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/error.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
${https}  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
${extra}</yandex>
`;
}

/** A second user of every test server, with a password (the default user has none). */
export const TEST_LOGIN = { user: 'trader', password: 'pw-7f3a9 with spaces & <xml>' } as const;

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <${TEST_LOGIN.user}>
      <password>${TEST_LOGIN.password.replaceAll('&', '&amp;').replaceAll('<', '&lt;')}</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${TEST_LOGIN.user}>
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

async function ping(httpUrl: string): Promise<boolean> {
  try {
    const r = await fetch(`${httpUrl}/ping`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a server and waits (up to 60 s) for /ping; throws with the log's tail when it does not come up. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const bin = clickhouseServerBinary();
  if (!bin) throw new Error(clickhouseSkipReason() as string);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-ch-'));
  for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) fs.mkdirSync(path.join(dir, d));
  // Distinct free ports held open together (three separate picks could return one port twice).
  const free = await freePorts(3);
  const httpPort = opts.ports?.http ?? free[0];
  const tcpPort = opts.ports?.tcp ?? free[1];
  const httpsPort = opts.tls ? free[2] : null;
  const caFile = path.join(dir, 'tls', 'cert.pem');
  if (opts.tls) {
    fs.mkdirSync(path.join(dir, 'tls'));
    // A self-signed certificate (its own CA) naming 127.0.0.1 in subjectAltName, which a client checks.
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'tls', 'key.pem'),
        '-out',
        caFile,
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
  }
  const config = path.join(dir, 'config.xml');
  fs.writeFileSync(config, configXml(dir, httpPort, tcpPort, httpsPort, opts.extraConfig));
  fs.writeFileSync(path.join(dir, 'users.xml'), USERS_XML);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  // The single `clickhouse` binary needs the `server` subcommand; clickhouse-server does not.
  const args = path.basename(bin) === 'clickhouse' ? ['server'] : [];
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    const out = fs.openSync(path.join(dir, 'log', 'stdout.log'), 'a');
    child = spawn(bin, [...args, `--config-file=${config}`], { cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    let exited: string | null = null;
    child.once('exit', (code, sig) => (exited = `exited (${sig ?? code})`));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exited) break;
      if (await ping(httpUrl)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(
      `clickhouse-server did not answer ${httpUrl}/ping (${exited ?? 'timed out'}):\n` +
        tail(path.join(dir, 'log', 'error.log')) +
        '\n' +
        tail(path.join(dir, 'log', 'stdout.log')),
    );
  };

  const kill = async (): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await gone;
  };

  await launch();
  return {
    httpUrl,
    httpPort,
    ...(httpsPort !== null ? { httpsPort, caFile } : {}),
    dir,
    url: (database) => `clickhouse://127.0.0.1:${httpPort}/${database}`,
    async stop() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    kill,
    start: () => launch(),
    reconfigure: (extra) => fs.writeFileSync(config, configXml(dir, httpPort, tcpPort, httpsPort, extra)),
  };
}

/** ZooKeeper as Debian packages it (the `zookeeper` package; Java). */
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/** Why cluster tests skip (no ClickHouse, no ZooKeeper or no Java), or null when they can run. */
export function clusterSkipReason(): string | null {
  const ch = clickhouseSkipReason();
  if (ch) return ch;
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (!fs.existsSync(ZOOKEEPER_JAR) || java.status !== 0)
    return 'ZooKeeper is not installed (apt-get install -y zookeeper, or bash scripts/system-deps.sh): ClickHouse cluster tests skipped';
  return null;
}

export interface TestCluster {
  /** The cluster's name in every node's remote_servers. */
  readonly name: string;
  /** One server per shard; the store may be opened on any of them. */
  readonly nodes: TestServer[];
  /** clickhouse://127.0.0.1:PORT/DATABASE?cluster=NAME on the first node (or node `i`). */
  url(database: string, node?: number): string;
  /**
   * Makes the cluster the first `shards` nodes in every node's config (a shard added to, or taken out of, the
   * cluster) and waits until every node's system.clusters says so.
   */
  list(shards: number): Promise<void>;
  stop(): Promise<void>;
}

/** ZooKeeper serves clients (`srvr` names its mode; `ruok` answers before it does). */
async function zookeeperReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect(port, '127.0.0.1', () => s.write('srvr'));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('data', (d) => (text += String(d)));
    s.on('end', () => resolve(/Mode: standalone/.test(text)));
    s.on('error', () => resolve(false));
  });
}

/**
 * True when a node's ZooKeeper session works. A clickhouse-server 18.16 whose first handshake with ZooKeeper failed
 * keeps no session, and crashes (SIGSEGV in ZooKeeper::createImpl) on its first ON CLUSTER statement.
 */
async function nodeSeesZookeeper(node: TestServer): Promise<boolean> {
  try {
    const r = await fetch(node.httpUrl, {
      method: 'POST',
      body: "SELECT count() FROM system.zookeeper WHERE path = '/'",
      signal: AbortSignal.timeout(5000),
    });
    return r.ok;
  } catch {
    return false;
  }
}

/**
 * A throwaway cluster on loopback: one ZooKeeper (for ON CLUSTER DDL) and `shards` clickhouse-servers, each one
 * shard of one replica of cluster `l2desk_test`; with `listed`, only the first `listed` are in the cluster at first
 * (the others wait to be added with `list`).
 */
export async function startTestCluster(shards = 2, listed = shards): Promise<TestCluster> {
  const reason = clusterSkipReason();
  if (reason) throw new Error(reason);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'l2desk-zk-'));
  const ports = await freePorts(1 + 2 * shards);
  const zkPort = ports[0];
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(
    path.join(dir, 'zoo.cfg'),
    `tickTime=2000\ndataDir=${dir}/data\nclientPort=${zkPort}\nclientPortAddress=127.0.0.1\n` +
      'admin.enableServer=false\n4lw.commands.whitelist=srvr\n',
  );
  const out = fs.openSync(path.join(dir, 'zookeeper.log'), 'a');
  const zk = spawn(
    'java',
    ['-Xmx256m', '-cp', ZOOKEEPER_JAR, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', `${dir}/zoo.cfg`],
    { cwd: dir, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  const nodes: TestServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (zk.exitCode === null && zk.signalCode === null) {
      const gone = new Promise<void>((r) => zk.once('exit', () => r()));
      zk.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 60_000;
    while (!(await zookeeperReady(zkPort))) {
      if (zk.exitCode !== null || Date.now() > deadline)
        throw new Error(`ZooKeeper did not start:\n${tail(path.join(dir, 'zookeeper.log'))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const name = 'l2desk_test';
    const tcpPorts = ports.slice(1, 1 + shards);
    const extra = (
      n: number,
    ) => `  <zookeeper><node><host>127.0.0.1</host><port>${zkPort}</port></node></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <remote_servers>
    <${name}>
${tcpPorts
  .slice(0, n)
  .map((p) => `      <shard><replica><host>127.0.0.1</host><port>${p}</port></replica></shard>`)
  .join('\n')}
    </${name}>
  </remote_servers>
`;
    for (let i = 0; i < shards; i++)
      nodes.push(
        await startTestServer({
          ports: { tcp: tcpPorts[i], http: ports[1 + shards + i] },
          extraConfig: extra(listed),
        }),
      );
    // A node without a ZooKeeper session is started again (up to a few times) rather than left to crash later.
    for (const node of nodes)
      for (let attempt = 1; !(await nodeSeesZookeeper(node)); attempt++) {
        if (attempt > 5)
          throw new Error(`${node.httpUrl} has no ZooKeeper session after ${attempt - 1} restarts`);
        await node.kill();
        await node.start();
      }
    const list = async (n: number): Promise<void> => {
      for (const node of nodes) node.reconfigure(extra(n));
      const deadline = Date.now() + 30_000;
      for (const node of nodes)
        for (;;) {
          const r = await fetch(node.httpUrl, {
            method: 'POST',
            body: `SELECT count() FROM system.clusters WHERE cluster = '${name}'`,
          });
          if (Number((await r.text()).trim()) === n) break;
          if (Date.now() > deadline)
            throw new Error(`${node.httpUrl} did not reload its cluster of ${n} shards`);
          await new Promise((res) => setTimeout(res, 200));
        }
    };
    return {
      name,
      nodes,
      url: (database, node = 0) => `${nodes[node].url(database)}?cluster=${name}`,
      list,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
