import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '@polaris/shared/service';
import type { EmailMessage } from './email-templates';

// Outgoing email over SMTP (nodemailer). Without SMTP_URL nothing is sent: the message is logged,
// so a deployment without mail still runs (and says what it would have sent).

export interface Mailer {
  send(to: string, message: EmailMessage): Promise<void>;
  close(): void;
}

export function createMailer(settings: { smtpUrl?: string; from: string }, logger: Logger): Mailer {
  if (!settings.smtpUrl) {
    return {
      send: async (to, message) => logger.warn({ to, subject: message.subject }, 'no SMTP_URL: email not sent'),
      close: () => undefined,
    };
  }
  const transport: Transporter = nodemailer.createTransport(settings.smtpUrl);
  return {
    send: async (to, message) => {
      await transport.sendMail({ from: settings.from, to, subject: message.subject, text: message.text, html: message.html });
    },
    close: () => transport.close(),
  };
}
