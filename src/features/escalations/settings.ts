import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { RequestContext } from '../../context.ts';
import type { DbOrTx } from '../../platform/db/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { recordAudit } from '../audit/service.ts';
import { channels } from '../channels/schema.ts';
import { workspaces } from '../workspaces/schema.ts';

/**
 * A workspace's escalation settings, kept under `settings.escalations` of the workspace.
 * Read tolerantly (a missing or outdated field takes its default); written validated.
 */
export const escalationSettingsSchema = z
  .strictObject({
    /** Minutes from an escalation's creation to its first answer before it is overdue. */
    slaMinutes: z.number().int().min(1).max(10_080).default(30),
    /** `auto`: new escalations go round-robin to online operators with capacity. */
    assignment: z.enum(['manual', 'auto']).default('manual'),
    /** Messages of the conversation kept in an escalation's snapshot. */
    snapshotSize: z.number().int().min(1).max(100).default(20),
    /** A Telegram group or chat of the team, told about new and overdue escalations. */
    notifyTelegramChatId: z
      .string()
      .regex(/^-?\d{1,20}$/, 'a numeric Telegram chat id')
      .nullable()
      .default(null),
    /** The Telegram channel (bot) of this workspace that posts to that chat. */
    notifyChannelId: z.uuid().nullable().default(null),
    /** Mail the assignee when an escalation is assigned to them or becomes overdue. */
    emailAssignee: z.boolean().default(true),
  })
  .meta({ id: 'EscalationSettings' });

export type EscalationSettings = z.output<typeof escalationSettingsSchema>;

const DEFAULTS = escalationSettingsSchema.parse({});

/** The settings in a workspace's settings document; defaults for whatever is missing or invalid. */
export function readEscalationSettings(settings: unknown): EscalationSettings {
  const raw =
    typeof settings === 'object' && settings !== null && 'escalations' in settings
      ? settings.escalations
      : undefined;
  if (typeof raw !== 'object' || raw === null) return DEFAULTS;
  const stored: Record<string, unknown> = Object.fromEntries(Object.entries(raw));
  const result: Record<string, unknown> = { ...DEFAULTS };
  // Field by field, so one invalid field does not discard the others.
  for (const [key, field] of Object.entries(escalationSettingsSchema.shape)) {
    const value = stored[key];
    const parsed = field.safeParse(value);
    if (parsed.success && value !== undefined) result[key] = parsed.data;
  }
  return escalationSettingsSchema.parse(result);
}

export async function getEscalationSettings(db: DbOrTx, workspaceId: string): Promise<EscalationSettings> {
  const [row] = await db
    .select({ settings: workspaces.settings })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId));
  if (!row) throw notFound('Workspace');
  return readEscalationSettings(row.settings);
}

/** Replaces the escalation settings (missing fields take their defaults), audited. */
export async function updateEscalationSettings(
  ctx: RequestContext,
  workspaceId: string,
  input: z.input<typeof escalationSettingsSchema>,
): Promise<EscalationSettings> {
  const next = escalationSettingsSchema.parse(input);
  if ((next.notifyChannelId === null) !== (next.notifyTelegramChatId === null))
    throw new AppError('BAD_REQUEST', {
      message: 'Set notifyTelegramChatId and notifyChannelId together (or neither)',
    });
  if (next.notifyChannelId) {
    const [channel] = await ctx.db
      .select({ type: channels.type })
      .from(channels)
      .where(and(eq(channels.id, next.notifyChannelId), eq(channels.workspaceId, workspaceId)));
    if (channel?.type !== 'telegram')
      throw new AppError('BAD_REQUEST', {
        message: 'notifyChannelId must be a Telegram channel of this workspace',
      });
  }
  return ctx.db.transaction(async (tx) => {
    const before = await getEscalationSettings(tx, workspaceId);
    await tx
      .update(workspaces)
      .set({
        settings: sql`jsonb_set(${workspaces.settings}, '{escalations}', ${JSON.stringify(next)}::jsonb)`,
        updatedAt: new Date(),
      })
      .where(eq(workspaces.id, workspaceId));
    await recordAudit(ctx, tx, {
      workspaceId,
      action: 'escalation_settings.update',
      targetType: 'workspace',
      targetId: workspaceId,
      before,
      after: next,
    });
    return next;
  });
}
