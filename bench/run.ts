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
  telegram: {
    description:
      'Telegram path: webhook ingest vs bare Fastify, end to end vs a grammY echo bot, memory per bot, pacing vs 30 msg/s',
    load: () => import('./telegram.ts'),
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
