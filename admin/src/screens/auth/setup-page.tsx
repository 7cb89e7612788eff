import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { CircleCheck } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { AuthLayout } from '@/components/auth-layout';
import { FullPageSpinner } from '@/components/full-page-spinner';
import { Button } from '@/components/ui/button';
import { Field, FormError, Input } from '@/components/ui/input';
import { useT } from '@/i18n';
import { useAuth } from '@/lib/auth';
import { useZodForm } from '@/lib/form';
import { setupSchema } from '@/schemas';

/** First run: the link in the server log carries a one-time token; creates the owner and a workspace. */
export default function SetupPage() {
  const t = useT();
  const { begin } = useAuth();
  const navigate = useNavigate();
  const search: Record<string, unknown> = useSearch({ strict: false });
  const token = typeof search.token === 'string' ? search.token : '';
  const setup = useQuery({ queryKey: ['setup'], queryFn: () => unwrap(api.GET('/api/setup')) });
  const form = useZodForm(setupSchema, {
    name: '',
    email: '',
    password: '',
    workspaceName: t('setup.defaultWorkspace'),
  });
  if (setup.isPending) return <FullPageSpinner />;
  if (setup.data && !setup.data.needed) {
    return (
      <AuthLayout title={t('setup.doneTitle')} description={t('setup.doneDescription')}>
        <div className="flex items-center gap-3 rounded-lg bg-success/10 p-3 text-sm text-success">
          <CircleCheck className="size-5" /> {t('setup.done')}
        </div>
        <Button asChild size="lg" className="mt-5 w-full">
          <Link to="/sign-in">{t('signIn.submit')}</Link>
        </Button>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={t('setup.title')} description={t('setup.description')}>
      {!token && (
        <div className="mb-4">
          <FormError message={t('setup.noToken')} />
        </div>
      )}
      <form
        className="grid gap-4"
        noValidate
        onSubmit={form.handleSubmit(async (data) => {
          await unwrap(api.POST('/api/setup', { body: { ...data, name: data.name || undefined, token } }));
          begin(
            await unwrap(
              api.POST('/api/auth/login', { body: { email: data.email, password: data.password } }),
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
        <Field label={t('field.email')} error={form.errors.email}>
          {(props) => (
            <Input
              {...props}
              type="email"
              autoComplete="email"
              value={form.values.email}
              onChange={(event) => form.set('email', event.target.value)}
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
        <Field label={t('field.workspaceName')} error={form.errors.workspaceName}>
          {(props) => (
            <Input
              {...props}
              value={form.values.workspaceName}
              onChange={(event) => form.set('workspaceName', event.target.value)}
            />
          )}
        </Field>
        <FormError message={form.formError} />
        <Button type="submit" size="lg" loading={form.submitting} disabled={!token}>
          {t('setup.submit')}
        </Button>
      </form>
    </AuthLayout>
  );
}
