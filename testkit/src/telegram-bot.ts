import { Api } from 'grammy';
import type { AppContext } from '../../src/context.ts';
import { type BotConfigInput, defaultBotConfig } from '../../src/features/bots/bot-config.ts';
import { botConfigVersions, bots } from '../../src/features/bots/schema.ts';
import { channels } from '../../src/features/channels/schema.ts';
import { encryptSecret, randomToken } from '../../src/platform/crypto.ts';
import type { FakeTelegram } from './fake-telegram.ts';

/**
 * A bot with a Telegram channel, written straight into the database (tests of the pipeline
 * need many, fast; the channels API has its own tests). With `webhookBaseUrl`, the fake is
 * told to deliver to the app's webhook with the channel's secret, as setWebhook would.
 */
export async function seedTelegramBot(
  ctx: Pick<AppContext, 'db' | 'keys'>,
  fake: FakeTelegram,
  options: { workspaceId: string; config?: BotConfigInput; webhookBaseUrl?: string; maxConnections?: number },
) {
  const telegramBot = fake.addBot();
  const [bot] = await ctx.db
    .insert(bots)
    .values({ workspaceId: options.workspaceId, name: `bot ${telegramBot.username}` })
    .returning();
  if (!bot) throw new Error('bot insert returned nothing');
  await ctx.db.insert(botConfigVersions).values({
    workspaceId: options.workspaceId,
    botId: bot.id,
    version: 1,
    status: 'published',
    config: defaultBotConfig(options.config ?? {}),
  });
  const secret = randomToken(24);
  const [channel] = await ctx.db
    .insert(channels)
    .values({
      workspaceId: options.workspaceId,
      botId: bot.id,
      type: 'telegram',
      mode: 'webhook',
      externalId: String(telegramBot.id),
      username: telegramBot.username,
      encryptedToken: encryptSecret(ctx.keys.encryption, telegramBot.token),
      webhookSecret: secret,
    })
    .returning();
  if (!channel) throw new Error('channel insert returned nothing');
  if (options.webhookBaseUrl) {
    await new Api(telegramBot.token, { apiRoot: fake.url }).setWebhook(
      `${options.webhookBaseUrl}/hooks/telegram/${channel.id}`,
      {
        secret_token: secret,
        ...(options.maxConnections ? { max_connections: options.maxConnections } : {}),
      },
    );
  }
  return { token: telegramBot.token, bot, channel, secret };
}
