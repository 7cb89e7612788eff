import { useMutation, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from '@tanstack/react-router';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { roleKey } from '@/components/app-shell';
import { AuthLayout } from '@/components/auth-layout';
import { FullPageSpinner } from '@/components/full-page-spinner';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/input';
import { useFormat, useT } from '@/i18n';
import { useAuth, useMe } from '@/lib/auth';
import { useZodForm } from '@/lib/form';
import { registerWithInvitationSchema } from '@/schemas';

/**
 * Accepting an invitation: a new person sets a password (the account is created for the
 * invited email); someone signed in accepts with one click; someone with an account signs in first.
 */
export default function InvitationPage() {
  const t = useT();
  const format = useFormat();
  const params = useParams({ strict: false });
  const token = 'token' in params && typeof params.token === 'string' ? params.token : '';
  const { status } = useAuth();
  const preview = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => unwrap(api.GET('/api/invitations/{token}', { params: { path: { token } } })),
    retry: false,
  });
  if (preview.isPending || status === 'loading') return <FullPageSpinner />;
  if (preview.isError) {
    return (
      <AuthLayout title={t('invite.invalidTitle')} description={preview.error.message}>
        <Button asChild size="lg" className="w-full">
          <Link to="/sign-in">{t('signIn.submit')}</Link>
        </Button>
      </AuthLayout>
    );
  }
  const invitation = preview.data;
  return (
    <AuthLayout
      title={t('invite.title', { workspace: invitation.workspaceName })}
      description={
        <span className="inline-flex flex-wrap items-center gap-1.5">
          {t('invite.as')} <Badge tone="primary">{t(`role.${roleKey(invitation.role)}`)}</Badge> ·{' '}
          {invitation.email} · {t('invite.expires', { date: format.date(invitation.expiresAt) })}
        </span>
      }
    >
      {status === 'signedIn' ? (
        <AcceptAsUser token={token} />
      ) : invitation.hasAccount ? (
        <div className="grid gap-3">
          <p className="text-sm text-muted-foreground">{t('invite.signInFirst')}</p>
          <Button asChild size="lg">
            <Link to="/sign-in" search={{ redirect: `/invitations/${token}` }}>
              {t('signIn.submit')}
            </Link>
          </Button>
        </div>
      ) : (
        <RegisterWithInvitation token={token} />
      )}
    </AuthLayout>
  );
}

function AcceptAsUser({ token }: { token: string }) {
  const t = useT();
  const me = useMe();
  const navigate = useNavigate();
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST('/api/invitations/{token}/accept', { params: { path: { token } } })),
    onSuccess: async (result) => {
      await me.refetch();
      await navigate({ to: `/w/${result.workspaceId}` });
    },
  });
  return (
    <div className="grid gap-3">
      <p className="text-sm text-muted-foreground">
        {t('invite.signedInAs', { email: me.data?.user.email ?? '' })}
      </p>
      <FormError message={accept.error?.message} />
      <Button size="lg" loading={accept.isPending} onClick={() => accept.mutate()}>
        {t('invite.accept')}
      </Button>
    </div>
  );
}

function RegisterWithInvitation({ token }: { token: string }) {
  const t = useT();
  const { begin } = useAuth();
  const navigate = useNavigate();
  const form = useZodForm(registerWithInvitationSchema, { name: '', password: '' });
  return (
    <form
      className="grid gap-4"
      noValidate
      onSubmit={form.handleSubmit(async (data) => {
        begin(
          await unwrap(
            api.POST('/api/auth/register', {
              body: { invitationToken: token, password: data.password, name: data.name || undefined },
            }),
          ),
        );
        await navigate({ to: '/' });
      })}
    >
      <Field label={t('field.name')} error={form.errors.name}>
        {(props) => (
          <Input
            {...props}
            autoComplete="name"
            value={form.values.name ?? ''}
            onChange={(event) => form.set('name', event.target.value)}
          />
        )}
      </Field>
      <Field label={t('field.password')} hint={t('field.passwordHint')} error={form.errors.password}>
        {(props) => (
          <Input
            {...props}
            type="password"
            autoComplete="new-password"
            value={form.values.password}
            onChange={(event) => form.set('password', event.target.value)}
          />
        )}
      </Field>
      <FormError message={form.formError} />
      <Button type="submit" size="lg" loading={form.submitting}>
        {t('invite.createAccount')}
      </Button>
    </form>
  );
}
