// Reads the service's V8 CPU profile (`--profile`: node --cpu-prof) and says where its time went
// during each scenario: by package or file, and by function. The profile's timestamps and the
// orchestrator's process.hrtime() read the same monotonic clock, so scenarios are cut by time.
import { readFileSync } from 'node:fs';
import { round } from './stats';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Window {
  name: string;
  startUs: number;
  endUs: number;
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface WindowProfile {
  name: string;
  wallMs: number;
  /** CPU time of the service's main thread in the window (samples that were not idle). */
  busyMs: number;
  byArea: Share[];
  byFunction: Share[];
  /** The same CPU cut into the layers a request passes through (see LAYERS), largest first, all of them. */
  byLayer: Share[];
}

/**
 * The layers of a request, in the order they are tried on a sample's stack from its innermost
 * frame outwards: the first frame that belongs to one decides. Node's internals (streams, sockets,
 * buffers, events) and native frames belong to none, so a socket write counts for whoever wrote:
 * a statement's for the database. The HTTP answer's headers and write (node:_http_outgoing) count
 * for Node's HTTP server whoever ends the answer (Express's send or our own write), as does what no
 * frame claims: parsing, timers and promise jobs. V8's own samples (GC, compiler) are counted apart.
 */
export const LAYERS: { name: string; packages?: string[]; ours?: RegExp }[] = [
  {
    name: 'database (pg, TypeORM, our repositories)',
    packages: [
      'pg',
      'pg-protocol',
      'pg-pool',
      'pg-types',
      'pg-connection-string',
      'postgres-date',
      'postgres-array',
      'postgres-interval',
      'postgres-bytea',
      'typeorm',
    ],
    ours: /^src\/(database\/|.*\.repository$|outbox\/order-events$)/,
  },
  {
    name: 'signatures and decryption (node:crypto, the SDKs, our verification)',
    packages: ['node:crypto', 'alipay-sdk', 'wechatpay-axios-plugin', 'node-forge', 'iconv-lite'],
    ours: /^src\/payments\/providers\//,
  },
  {
    name: 'requests to the providers (axios, undici, the QR image)',
    packages: ['axios', 'follow-redirects', 'undici', 'urllib', 'form-data', 'proxy-from-env', 'qrcode', 'pngjs'],
  },
  {
    name: 'logging (pino-http, pino, redaction)',
    packages: ['pino', 'pino-http', '@pinojs/redact', 'pino-std-serializers', 'sonic-boom', 'fast-redact', 'thread-stream'],
  },
  { name: 'metrics (prom-client)', packages: ['prom-client'] },
  {
    name: 'socket.io',
    packages: [
      'socket.io',
      'socket.io-adapter',
      'socket.io-parser',
      'engine.io',
      'engine.io-parser',
      'ws',
      '@socket.io/cluster-adapter',
      '@socket.io/redis-adapter',
    ],
  },
  {
    name: 'Nest (routing, guards, pipes, filter, rate limits)',
    packages: [
      '@nestjs/core',
      '@nestjs/common',
      '@nestjs/platform-express',
      '@nestjs/throttler',
      '@nestjs/event-emitter',
      'eventemitter2',
      'rxjs',
      'reflect-metadata',
      'class-validator',
      'class-transformer',
      'tslib',
    ],
    ours: /^src\/(auth|common\/rate-limit|common\/errors)\//,
  },
  {
    name: 'Express and middleware (router, body, helmet, CORS, request id)',
    packages: [
      'express',
      'router',
      'body-parser',
      'raw-body',
      'helmet',
      'cors',
      'finalhandler',
      'on-finished',
      'parseurl',
      'etag',
      'fresh',
      'path-to-regexp',
      'forwarded',
      'proxy-addr',
      'type-is',
      'content-type',
      'statuses',
      'vary',
      'depd',
      'send',
      'media-typer',
      'negotiator',
      'accepts',
      'qs',
      'bytes',
      'http-errors',
      'unpipe',
      'ee-first',
      'mime-types',
      'content-disposition',
      'cookie',
      'encodeurl',
      'escape-html',
      'ipaddr.js',
    ],
    ours: /^src\/(common\/request-id|app\.factory|common\/http\/)/,
  },
  { name: 'our code (settlement, ledger, orders, events)', ours: /^src\// },
];
const V8_LAYER = 'V8 (garbage collector, compiler)';
const PROVIDER_REQUESTS = LAYERS[2].name;
const NODE_LAYER = "Node's HTTP server (parsing, the answer's headers and write), timers and promise jobs";

function packageOf(url: string): string | undefined {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:crypto') || url.startsWith('node:internal/crypto')) return 'node:crypto';
  return undefined;
}

/** The layer a frame belongs to, or undefined for Node's internals and native frames. */
function layerOf(frame: CallFrame): string | undefined {
  const { url } = frame;
  if (!url) return undefined;
  const pkg = packageOf(url);
  if (pkg) return LAYERS.find((l) => l.packages?.includes(pkg))?.name ?? `other packages`;
  const ours = /\/dist\/(.+)\.js$/.exec(url);
  if (ours) return LAYERS.find((l) => l.ours?.test(ours[1]))?.name;
  return undefined;
}

/** node_modules/<package>, node:internal, dist/<folder>, or V8's own (gc, program). */
function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = packageOf(url);
  if (pkg) return pkg;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0];
  const dist = /\/dist\/(.+?)(?:\/[^/]+)?\.js$/.exec(url);
  return dist ? `memberpay:${dist[1]}` : url;
}

function top(map: Map<string, number>, busy: number, n: number): Share[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: round(us / 1000, 1), percent: round((100 * us) / busy, 1) }));
}

export function summariseProfile(file: string, windows: Window[], n = 12): WindowProfile[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const layers = new Map<number, string>();
  const layerOfSample = (id: number): string => {
    const known = layers.get(id);
    if (known) return known;
    const leaf = nodes.get(id)!.callFrame;
    let found: string | undefined;
    if (!leaf.url && leaf.functionName.startsWith('(')) found = V8_LAYER;
    // Headers and writes of an outgoing message are the HTTP answer's, unless a provider request sent them.
    let answer = false;
    for (let at: number | undefined = id; !found && at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (frame.url === 'node:_http_outgoing') answer = true;
      const layer = layerOf(frame);
      found = layer && answer && layer !== PROVIDER_REQUESTS ? NODE_LAYER : layer;
    }
    const layer = found ?? NODE_LAYER;
    layers.set(id, layer);
    return layer;
  };
  const stats = windows.map(() => ({
    busy: 0,
    areas: new Map<string, number>(),
    functions: new Map<string, number>(),
    layers: new Map<string, number>(),
  }));
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    // A sample's weight is the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    const frame = nodes.get(profile.samples[i])!.callFrame;
    if (frame.functionName === '(idle)') continue;
    windows.forEach((w, k) => {
      if (t < w.startUs || t >= w.endUs) return;
      const s = stats[k];
      s.busy += weight;
      const a = area(frame);
      s.areas.set(a, (s.areas.get(a) ?? 0) + weight);
      const fn = `${frame.functionName || '(anonymous)'} ${a}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      s.functions.set(fn, (s.functions.get(fn) ?? 0) + weight);
      const layer = layerOfSample(profile.samples[i]);
      s.layers.set(layer, (s.layers.get(layer) ?? 0) + weight);
    });
  }
  return windows.map((w, k) => ({
    name: w.name,
    wallMs: round((w.endUs - w.startUs) / 1000, 0),
    busyMs: round(stats[k].busy / 1000, 0),
    byArea: top(stats[k].areas, stats[k].busy, n),
    byFunction: top(stats[k].functions, stats[k].busy, n),
    byLayer: top(stats[k].layers, stats[k].busy, Infinity),
  }));
}

/** Microseconds on the monotonic clock that V8's profiler uses. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
