// `npm run bench -- <suite>`: each suite prints its figures beside a peer measured in the
// same run, as ratios, because absolute numbers on a shared machine mean little.
const suites: Record<
  string,
  { description: string; load: () => Promise<{ run: (args: string[]) => Promise<void> }> }
> = {
  api: {
    description: 'HTTP API overhead: authenticated workspace read vs a bare Fastify route',
    load: () => import('./api.ts'),
  },
  analytics: {
    description:
      'Analytics at volume: summary/timeseries from rollups vs raw events, tracking overhead on the reply path, CSV export of 1 M rows',
    load: () => import('./analytics.ts'),
  },
  search: {
    description:
      'Catalog and knowledge search p50/p95 on 100k products and chunks (PGlite, PostgreSQL) vs ILIKE scans, ingestion chunks/s, offline answer latency end to end',
    load: () => import('./search.ts'),
  },
  telegram: {
    description:
      'Telegram path: webhook ingest vs bare Fastify, end to end out of process (switchboard start, fake Bot API, load) vs a grammY echo bot, memory per bot, pacing vs 30 msg/s',
    load: () => import('./telegram.ts'),
  },
  sse: {
    description:
      'Realtime: 1,000 SSE clients on one instance vs a bare node:http SSE server — memory per 1,000, fan-out p50/p95, cross-instance latency with Redis',
    load: () => import('./sse.ts'),
  },
};

const [name, ...args] = process.argv.slice(2);
if (!name || !(name in suites)) {
  process.stdout.write('Benchmark suites (npm run bench -- <suite>):\n');
  for (const [key, suite] of Object.entries(suites))
    process.stdout.write(`  ${key.padEnd(12)} ${suite.description}\n`);
  process.exit(name ? 1 : 0);
}
const suite = suites[name];
if (suite) await (await suite.load()).run(args);
