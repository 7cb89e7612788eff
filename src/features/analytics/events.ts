/**
 * The analytics event types and the `data` each carries. `data` is stored as jsonb and read
 * tolerantly by the rollups (a field of the wrong type is ignored, never an error), so these
 * shapes document what producers send; the rollups use the fields marked "rolled up".
 */
export const EVENT_TYPES = [
  /** A customer's message reached the bot. data: { type (text|photo|voice…), edited, command? } — `command: true` when it was a /command (not a question). */
  'message_in',
  /** A message was delivered to a customer. data: { method } */
  'message_out',
  /** A /command. data: { command, referrer? } — `referrer` (deep-link payload of /start) is rolled up as a referral source. */
  'command',
  /** A product or knowledge search. data: { query, results } — `query` rolled up as a top query, `results: 0` counted as a zero-result search. */
  'search',
  /** A product shown to a customer. data: { productId, title? } — rolled up as a top product. */
  'product_view',
  /** An escalation to people was opened. data: { reason, source, escalationId? } */
  'escalation_created',
  /** An escalation was resolved. data: { escalationId, resolutionMs } — `resolutionMs` (since it was opened) rolled up for the median time to resolution. */
  'escalation_resolved',
  /** An operator took over the conversation. data: { escalationId, waitMs } — `waitMs` (since the escalation opened) rolled up for the median time to first response. */
  'handoff_started',
  /** One call to an LLM. data: { provider, model, promptTokens, completionTokens, tokens?, latencyMs, ok, cost? } — tokens and cost rolled up. */
  'llm_call',
  /** A customer asked to be told of a price drop. data: { productId, targetPrice } */
  'price_alert_created',
  /** A price alert was sent. data: { productId, price } */
  'price_alert_fired',
  /** A contact seen for the first time (a new user). */
  'contact_new',
  /** A contact blocked the bot. data: { via } */
  'contact_blocked',
  /** An inline-keyboard button was pressed. data: { data } */
  'button_click',
  /** An outbound message failed for good. data: { method, blocked? } */
  'delivery_failed',
  /** Something failed while handling a customer (for error rates). data: { where, message } */
  'error',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The typed `data` of each event type (all fields optional to the reader). */
export interface EventData {
  message_in: { type?: string; edited?: boolean; command?: boolean };
  message_out: { method?: string };
  command: { command: string; referrer?: string };
  search: { query: string; results: number; source?: string };
  product_view: { productId: string; title?: string };
  escalation_created: { reason?: string; source?: string; escalationId?: string };
  escalation_resolved: { escalationId?: string; resolutionMs?: number };
  handoff_started: { escalationId?: string; waitMs?: number };
  llm_call: {
    provider?: string;
    model?: string;
    promptTokens?: number;
    completionTokens?: number;
    tokens?: number;
    latencyMs?: number;
    ok?: boolean;
    cost?: number;
  };
  price_alert_created: { productId?: string; targetPrice?: number };
  price_alert_fired: { productId?: string; price?: number };
  contact_new: Record<string, never>;
  contact_blocked: { via?: string };
  button_click: { data?: string };
  delivery_failed: { method?: string; blocked?: boolean };
  error: { where?: string; message?: string };
}

/** A derived rollup type (not an event): distinct contacts active on a day, at each grain. */
export const ACTIVE_CONTACTS = 'contact_active';

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
