/**
 * Dependency checks behind GET /health. A feature registers a check for what it depends on;
 * a failing check turns the whole answer into 503 so a load balancer takes the instance out.
 */
export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
  /** Extra figures (queue lag, backend kind…), shown as is. */
  info?: Record<string, string | number | boolean>;
}

export type HealthCheck = () => Promise<Record<string, string | number | boolean> | undefined>;

export interface Health {
  register(name: string, check: HealthCheck, options?: { critical?: boolean }): void;
  run(timeoutMs?: number): Promise<{ ok: boolean; checks: Record<string, CheckResult> }>;
}

export function createHealth(): Health {
  const checks = new Map<string, { check: HealthCheck; critical: boolean }>();
  return {
    register(name, check, options) {
      checks.set(name, { check, critical: options?.critical ?? true });
    },
    async run(timeoutMs = 2000) {
      const entries = await Promise.all(
        [...checks].map(async ([name, { check, critical }]) => {
          const started = performance.now();
          let timer: NodeJS.Timeout | undefined;
          try {
            const info = await Promise.race([
              check(),
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
              }),
            ]);
            const result: CheckResult = {
              ok: true,
              latencyMs: Math.round(performance.now() - started),
              ...(info ? { info } : {}),
            };
            return [name, result, critical] as const;
          } catch (error) {
            const result: CheckResult = {
              ok: false,
              latencyMs: Math.round(performance.now() - started),
              error: error instanceof Error ? error.message : String(error),
            };
            return [name, result, critical] as const;
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      return {
        ok: entries.every(([, result, critical]) => result.ok || !critical),
        checks: Object.fromEntries(entries.map(([name, result]) => [name, result])),
      };
    },
  };
}
