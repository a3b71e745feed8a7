// The local stack's SMTP server (`polaris stack up` runs it; scripts/src/stack/smtp.ts): accepts
// every message on loopback, without authentication or TLS, and keeps each one under the stack's
// smtp/ directory as the raw message (<n>.eml) and a summary (<n>.json: from, to, subject, text),
// so tests and the demo can read what Polaris sent. Never for production.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const { values } = parseArgs({ options: { port: { type: 'string' }, dir: { type: 'string' } } });
const port = Number(values.port);
const dir = values.dir;
if (!Number.isInteger(port) || port <= 0 || !dir) throw new Error('usage: smtp-sink --port <port> --dir <directory>');
mkdirSync(dir, { recursive: true });

// Continues the numbering across restarts, so files sort in arrival order.
let next = readdirSync(dir).filter((f) => f.endsWith('.json')).length + 1;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  banner: 'polaris local smtp',
  size: 10 * 1024 * 1024,
  onData(stream, _session, done) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      simpleParser(raw).then(
        (mail) => {
          const name = String(next++).padStart(6, '0');
          writeFileSync(path.join(dir, `${name}.eml`), raw);
          const to = mail.to ? (Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : mail.to.text) : '';
          const summary = { receivedAt: new Date().toISOString(), from: mail.from?.text ?? '', to, subject: mail.subject ?? '', text: mail.text ?? '' };
          writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(summary, null, 2)}\n`);
          console.log(`${summary.receivedAt} ${name} to=${to} subject=${JSON.stringify(summary.subject)}`);
          done();
        },
        (err: Error) => done(err),
      );
    });
  },
});
server.on('error', (err) => console.error('smtp error', err));
server.listen(port, '127.0.0.1', () => console.log(`smtp sink listening on 127.0.0.1:${port}, keeping messages in ${dir}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
