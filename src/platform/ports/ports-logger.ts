/** The slice of a pino-style logger the ports report to. */
export interface PortsLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Used when `createPorts` gets no logger: failures must never vanish silently. */
export const consoleLogger: PortsLogger = {
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};
