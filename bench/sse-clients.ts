// Child process of bench/sse.ts: holds N Server-Sent Events connections with node:http (so
// the clients' memory and CPU stay out of the measured server process) and records, for every
// event carrying `"t":<epoch ms>`, when each client received it.
import http from 'node:http';

interface Start {
  kind: 'start';
  url: string;
  headers: Record<string, string>;
  n: number;
}
interface Collect {
  kind: 'collect';
}
type Command = Start | Collect | { kind: 'close' };

const now = () => performance.timeOrigin + performance.now();
const requests: http.ClientRequest[] = [];
/** seq → receive latencies (ms) of every client that got it. */
const latencies = new Map<number, number[]>();

function open(url: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`status ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          const match = data ? /"seq":(\d+),"t":([\d.]+)/.exec(data) : null;
          if (match) {
            const seq = Number(match[1]);
            const list = latencies.get(seq) ?? [];
            list.push(now() - Number(match[2]));
            latencies.set(seq, list);
          }
          end = buffer.indexOf('\n\n');
        }
      });
      resolve();
    });
    request.on('error', reject);
    requests.push(request);
  });
}

process.on('message', async (command: Command) => {
  if (command.kind === 'start') {
    latencies.clear();
    // In waves, so the server's access check (a few queries per connection) is not flooded.
    for (let i = 0; i < command.n; i += 50) {
      const wave = Array.from({ length: Math.min(50, command.n - i) }, () =>
        open(command.url, command.headers),
      );
      await Promise.all(wave);
    }
    process.send?.({ kind: 'started', n: requests.length });
  } else if (command.kind === 'collect') {
    process.send?.({ kind: 'collected', latencies: [...latencies.entries()] });
  } else {
    for (const request of requests) request.destroy();
    requests.length = 0;
    process.send?.({ kind: 'closed' });
  }
});
process.send?.({ kind: 'ready' });
