import nodemailer, { type Transporter } from 'nodemailer';
import type { Db } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { mailOutbox } from './schema.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Sends (or, without SMTP, logs) a mail and records it in the outbox table. Never throws. */
  send(mail: Mail): Promise<void>;
}

/**
 * SMTP through nodemailer when SMTP_URL is set. Without it, mail is written to the log and
 * the `mail_outbox` table, so a laptop install can still complete a password reset.
 */
export function createMailer(options: {
  db: Db;
  logger: Logger;
  smtpUrl?: string | undefined;
  from: string;
}): Mailer {
  const transport: Transporter | undefined = options.smtpUrl
    ? nodemailer.createTransport(options.smtpUrl)
    : undefined;
  return {
    async send(mail) {
      if (!transport) {
        options.logger.info({ mail }, 'mail (no SMTP_URL configured; not sent)');
        await options.db.insert(mailOutbox).values({ ...mail, status: 'logged' });
        return;
      }
      try {
        await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text });
        await options.db.insert(mailOutbox).values({ ...mail, status: 'sent', sentAt: new Date() });
      } catch (error) {
        options.logger.error({ err: error, to: mail.to }, 'mail failed');
        await options.db.insert(mailOutbox).values({
          ...mail,
          status: 'failed',
          error: error instanceof Error ? error.message : String(error),
        });
      }
    },
  };
}
