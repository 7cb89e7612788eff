import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { baseUrlOf } from '../../platform/http/base-url.ts';
import type { App } from '../../platform/http/create-server.ts';
import { commonErrors, dateTime } from '../../platform/http/schemas.ts';
import { contextOf, roleOfRequest, userIdOf } from '../access/check-access.ts';
import { ROLES } from './schema.ts';
import {
  acceptInvitationAsUser,
  changeMemberRole,
  createWorkspace,
  deleteWorkspace,
  getWorkspace,
  inviteMember,
  listInvitations,
  listMembers,
  listWorkspacesOf,
  previewInvitation,
  removeMember,
  revokeInvitation,
  updateWorkspace,
} from './service.ts';

const roleSchema = z.enum(ROLES);

const timezoneSchema = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Moscow');

const workspaceInput = {
  name: z.string().trim().min(1).max(120),
  slug: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'lower-case letters, digits and dashes, up to 40')
    .optional(),
  timezone: timezoneSchema.optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'ISO 4217 code such as RUB or USD')
    .optional(),
  language: z.enum(['en', 'ru']).optional(),
};

export const workspaceSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    timezone: z.string(),
    currency: z.string(),
    language: z.string(),
    createdAt: dateTime,
    role: roleSchema.describe("The caller's role in the workspace"),
  })
  .meta({ id: 'Workspace' });

const wsParams = z.object({ ws: z.uuid() });
const memberParams = z.object({ ws: z.uuid(), userId: z.uuid() });

const memberSchema = z
  .object({
    userId: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    joinedAt: dateTime,
    lastLoginAt: dateTime.nullable(),
  })
  .meta({ id: 'Member' });

const invitationSchema = z
  .object({ id: z.uuid(), email: z.string(), role: roleSchema, expiresAt: dateTime, createdAt: dateTime })
  .meta({ id: 'Invitation' });

function toWorkspaceOut<
  T extends {
    id: string;
    name: string;
    slug: string;
    timezone: string;
    currency: string;
    language: string;
    createdAt: Date;
  },
>(workspace: T, role: z.infer<typeof roleSchema>) {
  const { id, name, slug, timezone, currency, language, createdAt } = workspace;
  return { id, name, slug, timezone, currency, language, createdAt, role };
}

function toInvitationOut(invitation: {
  id: string;
  email: string;
  role: z.infer<typeof roleSchema>;
  expiresAt: Date;
  createdAt: Date;
}) {
  const { id, email, role, expiresAt, createdAt } = invitation;
  return { id, email, role, expiresAt, createdAt };
}

/** Workspaces, members and invitations. */
export function registerWorkspaceRoutes(app: App, ctx: AppContext) {
  const tags = ['workspaces'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/workspaces',
    {
      config: { access: 'user' },
      schema: {
        tags,
        security,
        summary: 'Workspaces the caller belongs to',
        response: { 200: z.object({ items: z.array(workspaceSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const rows = await listWorkspacesOf(contextOf(ctx, request), userIdOf(request));
      return { items: rows.map((row) => toWorkspaceOut(row, row.role)) };
    },
  );

  app.post(
    '/api/workspaces',
    {
      config: { access: 'user' },
      schema: {
        tags,
        security,
        summary: 'Create a workspace; the caller becomes its owner',
        body: z.strictObject(workspaceInput),
        response: { 201: workspaceSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const workspace = await createWorkspace(contextOf(ctx, request), request.body);
      return reply.code(201).send(toWorkspaceOut(workspace, 'owner'));
    },
  );

  app.get(
    '/api/workspaces/:ws',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'One workspace',
        params: wsParams,
        response: { 200: workspaceSchema, ...commonErrors },
      },
    },
    async (request) => toWorkspaceOut(await getWorkspace(ctx, request.params.ws), roleOfRequest(request)),
  );

  app.patch(
    '/api/workspaces/:ws',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Rename or change defaults (time zone, currency, language)',
        params: wsParams,
        body: z.strictObject({ ...workspaceInput, name: workspaceInput.name.optional() }),
        response: { 200: workspaceSchema, ...commonErrors },
      },
    },
    async (request) =>
      toWorkspaceOut(
        await updateWorkspace(contextOf(ctx, request), request.params.ws, request.body),
        roleOfRequest(request),
      ),
  );

  app.delete(
    '/api/workspaces/:ws',
    {
      config: { access: { role: 'owner' } },
      schema: {
        tags,
        security,
        summary: 'Delete the workspace and everything in it',
        params: wsParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteWorkspace(contextOf(ctx, request), request.params.ws);
      return reply.code(204).send(null);
    },
  );

  // ─── Members ───────────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/members',
    {
      config: { access: { role: 'viewer' } },
      schema: {
        tags,
        security,
        summary: 'Members and their roles',
        params: wsParams,
        response: { 200: z.object({ items: z.array(memberSchema) }), ...commonErrors },
      },
    },
    async (request) => ({ items: await listMembers(ctx, request.params.ws) }),
  );

  app.patch(
    '/api/workspaces/:ws/members/:userId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: "Change a member's role (admins and owners only by an owner)",
        params: memberParams,
        body: z.strictObject({ role: roleSchema }),
        response: { 200: z.object({ userId: z.uuid(), role: roleSchema }), ...commonErrors },
      },
    },
    async (request) =>
      changeMemberRole(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        userId: request.params.userId,
        role: request.body.role,
        callerRole: roleOfRequest(request),
      }),
  );

  app.delete(
    '/api/workspaces/:ws/members/:userId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Remove a member',
        params: memberParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await removeMember(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        userId: request.params.userId,
        callerRole: roleOfRequest(request),
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/workspaces/:ws/leave',
    {
      // Only a person is a member who can leave; a key is revoked instead.
      config: { access: { role: 'viewer', apiKeys: false } },
      schema: {
        tags,
        security,
        summary: 'Leave the workspace',
        params: wsParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await removeMember(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        userId: userIdOf(request),
        callerRole: roleOfRequest(request),
      });
      return reply.code(204).send(null);
    },
  );

  // ─── Invitations ───────────────────────────────────────────────────────────

  app.get(
    '/api/workspaces/:ws/invitations',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Open invitations',
        params: wsParams,
        response: { 200: z.object({ items: z.array(invitationSchema) }), ...commonErrors },
      },
    },
    async (request) => ({ items: (await listInvitations(ctx, request.params.ws)).map(toInvitationOut) }),
  );

  app.post(
    '/api/workspaces/:ws/invitations',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Invite by email; the single-use link is mailed and returned once',
        params: wsParams,
        body: z.strictObject({ email: z.email().max(254), role: roleSchema }),
        response: {
          201: z.object({ invitation: invitationSchema, token: z.string(), url: z.string() }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const { invitation, token, url } = await inviteMember(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        email: request.body.email,
        role: request.body.role,
        callerRole: roleOfRequest(request),
        baseUrl: baseUrlOf(ctx.config.PUBLIC_URL, request),
      });
      return reply.code(201).send({ invitation: toInvitationOut(invitation), token, url });
    },
  );

  app.delete(
    '/api/workspaces/:ws/invitations/:invitationId',
    {
      config: { access: { role: 'admin' } },
      schema: {
        tags,
        security,
        summary: 'Revoke an open invitation',
        params: z.object({ ws: z.uuid(), invitationId: z.uuid() }),
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await revokeInvitation(contextOf(ctx, request), {
        workspaceId: request.params.ws,
        invitationId: request.params.invitationId,
      });
      return reply.code(204).send(null);
    },
  );

  const tokenParams = z.object({ token: z.string().min(10).max(200) });

  app.get(
    '/api/invitations/:token',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'What an invitation is for (before signing in)',
        params: tokenParams,
        response: {
          200: z.object({
            workspaceName: z.string(),
            email: z.string(),
            role: roleSchema,
            expiresAt: dateTime,
            hasAccount: z.boolean(),
          }),
          ...commonErrors,
          410: commonErrors[404],
        },
      },
    },
    async (request) => previewInvitation(ctx, request.params.token),
  );

  app.post(
    '/api/invitations/:token/accept',
    {
      config: { access: 'user' },
      schema: {
        tags,
        security,
        summary: 'Accept an invitation as the signed-in user',
        params: tokenParams,
        response: {
          200: z.object({ workspaceId: z.uuid(), role: roleSchema }),
          ...commonErrors,
          410: commonErrors[404],
        },
      },
    },
    async (request) => acceptInvitationAsUser(contextOf(ctx, request), { token: request.params.token }),
  );
}
