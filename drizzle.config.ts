import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/features/*/schema.ts', './src/pipeline/schema.ts'],
  out: './drizzle',
  breakpoints: true,
});
