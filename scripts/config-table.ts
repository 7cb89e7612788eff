// Prints the README's configuration table from the zod schema in src/config.ts.
import { configDocs } from '../src/config.ts';

export function configTable(): string {
  const rows = configDocs().map(
    ({ name, defaultValue, description }) =>
      `| \`${name}\` | ${defaultValue && defaultValue !== '[]' ? `\`${defaultValue.replaceAll('"', '')}\`` : '—'} | ${description} |`,
  );
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${configTable()}\n`);
