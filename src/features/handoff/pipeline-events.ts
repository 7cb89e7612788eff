import type { AppContext } from '../../context.ts';
import type { messages } from '../conversations/schema.ts';
import { afterEscalationOpened } from '../escalations/service.ts';
import { publishMessageRows } from '../realtime/publish.ts';

/** An escalation the processor raised (or found open) for an update. */
export interface ProcessedEscalation {
  id: string;
  created: boolean;
  /** The conversation went to `waiting` (escalation action transfer). */
  transferred: boolean;
}

/**
 * What the panel learns once an update's effects committed: the customer's message and the
 * bot's replies (`message.created`) — while a human holds the conversation this is how the
 * operator sees the customer — mode changes, and new escalations (announced, assigned,
 * notified). Never throws: the update is done either way.
 */
export async function afterUpdateProcessed(
  ctx: AppContext,
  options: {
    workspaceId: string;
    conversationId: string;
    /** The customer's message and the replies, as written. */
    messages: Array<typeof messages.$inferSelect>;
    escalations: ProcessedEscalation[];
  },
): Promise<void> {
  try {
    await publishMessageRows(ctx, options.workspaceId, options.messages);
    for (const escalation of options.escalations) {
      if (escalation.transferred) {
        await ctx.events.publish({
          workspaceId: options.workspaceId,
          type: 'conversation.mode',
          data: { conversationId: options.conversationId, mode: 'waiting', holderId: null },
        });
      }
      if (escalation.created) await afterEscalationOpened(ctx, escalation.id);
    }
  } catch (error) {
    ctx.logger.error({ err: error, conversationId: options.conversationId }, 'after-update events failed');
  }
}
