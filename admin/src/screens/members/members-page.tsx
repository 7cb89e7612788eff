import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Check, Copy, MailPlus, Trash2, Users } from 'lucide-react';
import { useState } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { roleKey } from '@/components/app-shell';
import { PageHeader, QueryError } from '@/components/page';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { Confirm, DialogContent, DialogRoot } from '@/components/ui/dialog';
import { EmptyState } from '@/components/ui/empty-state';
import { Field, FormError, Input, Select } from '@/components/ui/input';
import { TableSkeleton } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { toast } from '@/components/ui/toast';
import { useFormat, useT } from '@/i18n';
import { isRole, type Role, useMe } from '@/lib/auth';
import { useZodForm } from '@/lib/form';
import { useWorkspace } from '@/lib/workspace';
import { inviteSchema, ROLES } from '@/schemas';

export default function MembersPage() {
  const t = useT();
  const format = useFormat();
  const { ws, can, role: myRole } = useWorkspace();
  const me = useMe();
  const queryClient = useQueryClient();
  const [inviting, setInviting] = useState(false);
  const members = useQuery({
    queryKey: ['members', ws],
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/members', { params: { path: { ws } } })),
  });
  const invitations = useQuery({
    queryKey: ['invitations', ws],
    enabled: can('admin'),
    queryFn: () => unwrap(api.GET('/api/workspaces/{ws}/invitations', { params: { path: { ws } } })),
  });
  // Admins manage operators and viewers; owners manage everyone (the API enforces it).
  const assignable = ROLES.filter((role) => myRole === 'owner' || role === 'operator' || role === 'viewer');
  const changeRole = async (userId: string, role: Role) => {
    try {
      await unwrap(
        api.PATCH('/api/workspaces/{ws}/members/{userId}', {
          params: { path: { ws, userId } },
          body: { role },
        }),
      );
      await queryClient.invalidateQueries({ queryKey: ['members', ws] });
      toast.success(t('members.roleChanged'));
    } catch (error) {
      toast.error(t('members.roleChangeFailed'), error instanceof Error ? error.message : undefined);
    }
  };
  return (
    <>
      <PageHeader
        title={t('nav.members')}
        description={t('members.description')}
        actions={
          can('admin') && (
            <Button onClick={() => setInviting(true)}>
              <MailPlus /> {t('members.invite')}
            </Button>
          )
        }
      />
      <div className="grid gap-6">
        <Card>
          {members.isPending ? (
            <TableSkeleton rows={3} />
          ) : members.isError ? (
            <QueryError error={members.error} retry={() => members.refetch()} />
          ) : members.data.items.length === 0 ? (
            <EmptyState icon={Users} title={t('members.emptyTitle')} />
          ) : (
            <Table>
              <THead>
                <tr>
                  <TH>{t('members.person')}</TH>
                  <TH>{t('members.role')}</TH>
                  <TH className="hidden md:table-cell">{t('members.joined')}</TH>
                  <TH className="hidden md:table-cell">{t('members.lastSeen')}</TH>
                  <TH className="w-10">
                    <span className="sr-only">{t('common.actions')}</span>
                  </TH>
                </tr>
              </THead>
              <TBody>
                {members.data.items.map((member) => {
                  const isMe = member.userId === me.data?.user.id;
                  const editable =
                    can('admin') &&
                    !isMe &&
                    (myRole === 'owner' || (member.role !== 'owner' && member.role !== 'admin'));
                  return (
                    <TR key={member.userId}>
                      <TD>
                        <div className="flex items-center gap-3">
                          <span className="flex size-8 shrink-0 items-center justify-center rounded-full bg-secondary text-xs font-semibold">
                            {(member.name || member.email).slice(0, 1).toUpperCase()}
                          </span>
                          <div className="min-w-0">
                            <p className="truncate font-medium">
                              {member.name || member.email}{' '}
                              {isMe && (
                                <span className="font-normal text-muted-foreground">
                                  ({t('members.you')})
                                </span>
                              )}
                            </p>
                            {member.name && (
                              <p className="truncate text-xs text-muted-foreground">{member.email}</p>
                            )}
                          </div>
                        </div>
                      </TD>
                      <TD>
                        {editable ? (
                          <Select
                            aria-label={t('members.roleOf', { name: member.name || member.email })}
                            className="h-8 w-36 text-[13px]"
                            value={member.role}
                            onChange={(event) =>
                              isRole(event.target.value) && changeRole(member.userId, event.target.value)
                            }
                          >
                            {assignable.map((role) => (
                              <option key={role} value={role}>
                                {t(`role.${role}`)}
                              </option>
                            ))}
                          </Select>
                        ) : (
                          <Badge tone={member.role === 'owner' ? 'primary' : 'neutral'}>
                            {t(`role.${roleKey(member.role)}`)}
                          </Badge>
                        )}
                      </TD>
                      <TD className="hidden text-muted-foreground md:table-cell">
                        {format.date(member.joinedAt)}
                      </TD>
                      <TD className="hidden text-muted-foreground md:table-cell">
                        {format.ago(member.lastLoginAt)}
                      </TD>
                      <TD>
                        {editable && (
                          <Confirm
                            title={t('members.removeTitle', { name: member.name || member.email })}
                            description={t('members.removeDescription')}
                            confirmLabel={t('common.remove')}
                            onConfirm={async () => {
                              try {
                                await unwrap(
                                  api.DELETE('/api/workspaces/{ws}/members/{userId}', {
                                    params: { path: { ws, userId: member.userId } },
                                  }),
                                );
                                await queryClient.invalidateQueries({ queryKey: ['members', ws] });
                                toast.success(t('members.removed'));
                              } catch (error) {
                                toast.error(
                                  t('common.failed'),
                                  error instanceof Error ? error.message : undefined,
                                );
                              }
                            }}
                          >
                            <Button
                              variant="ghost"
                              size="icon"
                              className="size-8 text-muted-foreground hover:text-destructive"
                              aria-label={t('common.remove')}
                            >
                              <Trash2 />
                            </Button>
                          </Confirm>
                        )}
                      </TD>
                    </TR>
                  );
                })}
              </TBody>
            </Table>
          )}
        </Card>
        {can('admin') && (
          <Card>
            <CardHeader title={t('members.pending')} description={t('members.pendingDescription')} />
            {invitations.isPending ? (
              <TableSkeleton rows={2} />
            ) : invitations.isError ? (
              <QueryError error={invitations.error} retry={() => invitations.refetch()} />
            ) : invitations.data.items.length === 0 ? (
              <EmptyState
                icon={MailPlus}
                title={t('members.noInvitations')}
                description={t('members.noInvitationsDescription')}
              />
            ) : (
              <ul className="divide-y">
                {invitations.data.items.map((invitation) => (
                  <li key={invitation.id} className="flex flex-wrap items-center gap-3 px-5 py-3 text-sm">
                    <span className="min-w-0 flex-1 truncate font-medium">{invitation.email}</span>
                    <Badge>{t(`role.${roleKey(invitation.role)}`)}</Badge>
                    <span className="text-muted-foreground">
                      {t('invite.expires', { date: format.date(invitation.expiresAt) })}
                    </span>
                    <Confirm
                      title={t('members.revokeTitle')}
                      description={t('members.revokeDescription', { email: invitation.email })}
                      confirmLabel={t('members.revoke')}
                      onConfirm={async () => {
                        await unwrap(
                          api.DELETE('/api/workspaces/{ws}/invitations/{invitationId}', {
                            params: { path: { ws, invitationId: invitation.id } },
                          }),
                        );
                        await queryClient.invalidateQueries({ queryKey: ['invitations', ws] });
                      }}
                    >
                      <Button variant="ghost" size="sm">
                        {t('members.revoke')}
                      </Button>
                    </Confirm>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        )}
      </div>
      <InviteDialog open={inviting} onOpenChange={setInviting} roles={assignable} />
    </>
  );
}

function InviteDialog({
  open,
  onOpenChange,
  roles,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  roles: Role[];
}) {
  const t = useT();
  const { ws } = useWorkspace();
  const queryClient = useQueryClient();
  const form = useZodForm(inviteSchema, { email: '', role: 'operator' });
  const [link, setLink] = useState<string | null>(null);
  const close = (next: boolean) => {
    onOpenChange(next);
    if (!next) {
      setLink(null);
      form.setValues({ email: '', role: 'operator' });
    }
  };
  return (
    <DialogRoot open={open} onOpenChange={close}>
      <DialogContent
        title={link ? t('members.invited') : t('members.invite')}
        description={link ? t('members.linkOnce') : t('members.inviteDescription')}
      >
        {link ? (
          <div className="grid gap-4">
            <CopyField value={link} />
            <div className="flex justify-end">
              <Button onClick={() => close(false)}>{t('common.done')}</Button>
            </div>
          </div>
        ) : (
          <form
            className="grid gap-4"
            noValidate
            onSubmit={form.handleSubmit(async (data) => {
              const result = await unwrap(
                api.POST('/api/workspaces/{ws}/invitations', { params: { path: { ws } }, body: data }),
              );
              await queryClient.invalidateQueries({ queryKey: ['invitations', ws] });
              setLink(new URL(`/invitations/${result.token}`, window.location.origin).href);
            })}
          >
            <Field label={t('field.email')} error={form.errors.email}>
              {(props) => (
                <Input
                  {...props}
                  type="email"
                  autoFocus
                  value={form.values.email}
                  onChange={(event) => form.set('email', event.target.value)}
                />
              )}
            </Field>
            <Field
              label={t('members.role')}
              error={form.errors.role}
              hint={t(`role.${roleKey(form.values.role)}.hint`)}
            >
              {(props) => (
                <Select
                  {...props}
                  value={form.values.role}
                  onChange={(event) => isRole(event.target.value) && form.set('role', event.target.value)}
                >
                  {roles.map((role) => (
                    <option key={role} value={role}>
                      {t(`role.${role}`)}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            <FormError message={form.formError} />
            <div className="flex justify-end gap-2">
              <Button variant="outline" onClick={() => close(false)}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={form.submitting}>
                {t('members.sendInvite')}
              </Button>
            </div>
          </form>
        )}
      </DialogContent>
    </DialogRoot>
  );
}

/** A secret or link shown once, with a copy button. */
export function CopyField({ value }: { value: string }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <div className="flex min-w-0 items-center gap-2 rounded-lg border bg-muted/50 p-1.5 pl-3">
      <code className="min-w-0 flex-1 truncate font-mono text-[13px]" data-testid="secret">
        {value}
      </code>
      <Button
        variant="outline"
        size="sm"
        onClick={async () => {
          await navigator.clipboard?.writeText(value).catch(() => undefined);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }}
      >
        {copied ? <Check /> : <Copy />} {copied ? t('common.copied') : t('common.copy')}
      </Button>
    </div>
  );
}
