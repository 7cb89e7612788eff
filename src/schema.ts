/**
 * Every table of every feature, for Drizzle's relational queries and drizzle-kit.
 * A feature adds its schema module here.
 */
import * as analytics from './features/analytics/schema.ts';
import * as apiKeys from './features/api-keys/schema.ts';
import * as audit from './features/audit/schema.ts';
import * as bots from './features/bots/schema.ts';
import * as catalog from './features/catalog/schema.ts';
import * as channels from './features/channels/schema.ts';
import * as conversations from './features/conversations/schema.ts';
import * as escalations from './features/escalations/schema.ts';
import * as handoff from './features/handoff/schema.ts';
import * as identity from './features/identity/schema.ts';
import * as knowledge from './features/knowledge/schema.ts';
import * as llm from './features/llm/schema.ts';
import * as mail from './features/mail/schema.ts';
import * as operators from './features/operators/schema.ts';
import * as system from './features/system/schema.ts';
import * as workspaces from './features/workspaces/schema.ts';
import * as pipeline from './pipeline/schema.ts';

export const schema = {
  ...identity,
  ...workspaces,
  ...audit,
  ...apiKeys,
  ...mail,
  ...system,
  ...bots,
  ...channels,
  ...conversations,
  ...pipeline,
  ...analytics,
  ...escalations,
  ...operators,
  ...handoff,
  ...catalog,
  ...knowledge,
  ...llm,
};
