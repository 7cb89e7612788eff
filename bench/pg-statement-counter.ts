import net from 'node:net';

/** What went from the clients to PostgreSQL through a StatementCounter. */
export interface StatementCounts {
  /** Statements executed: extended-protocol Execute messages plus simple Query messages. */
  statements: number;
  /** Of those, transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE). */
  transactionControl: number;
}

// A startup-phase request code (SSLRequest, GSSENCRequest) is followed by another startup message.
const NEGOTIATION_CODES = new Set([80877103, 80877104]);
const TRANSACTION_CONTROL = /^\s*(begin|start transaction|commit|end|rollback|savepoint|release)\b/i;

/**
 * A loopback TCP proxy in front of PostgreSQL that counts the statements its clients send, by
 * reading the frontend side of the wire protocol (a simple Query is one statement as
 * node-postgres sends them; an Execute is one statement of the extended protocol). Answers flow
 * back untouched. For benchmarks: pg_stat_statements needs shared_preload_libraries, which a
 * shared server may not have.
 */
export class StatementCounter {
  private constructor(
    private readonly server: net.Server,
    /** Port on 127.0.0.1 to give clients instead of PostgreSQL's. */
    readonly port: number,
    private readonly counts: StatementCounts,
    private readonly sockets: Set<net.Socket>,
  ) {}

  static async start(target: { host: string; port: number }): Promise<StatementCounter> {
    const sockets = new Set<net.Socket>();
    const counts: StatementCounts = { statements: 0, transactionControl: 0 };
    const server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client);
      sockets.add(upstream);
      const parser = new FrontendParser((type, payload) => {
        if (type === 0x45 /* E */) counts.statements += 1;
        else if (type === 0x51 /* Q */) {
          counts.statements += 1;
          if (TRANSACTION_CONTROL.test(payload.toString('utf8', 0, Math.min(payload.length, 40))))
            counts.transactionControl += 1;
        }
      });
      client.on('data', (chunk: Buffer) => {
        parser.push(chunk);
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      const close = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
    return new StatementCounter(server, address.port, counts, sockets);
  }

  snapshot(): StatementCounts {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}

/** Splits the client → server byte stream into messages: (type byte, payload). */
class FrontendParser {
  private buffer: Buffer = Buffer.alloc(0);
  private startup = true;

  constructor(private readonly onMessage: (type: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.startup) {
        // Startup messages carry no type byte: Int32 length (itself included), Int32 code.
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        this.buffer = this.buffer.subarray(length);
        if (!NEGOTIATION_CODES.has(code)) this.startup = false;
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < length + 1) return;
      this.onMessage(this.buffer[0] ?? 0, this.buffer.subarray(5, length + 1));
      this.buffer = this.buffer.subarray(length + 1);
    }
  }
}
