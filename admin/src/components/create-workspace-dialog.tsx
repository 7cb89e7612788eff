import { useNavigate } from '@tanstack/react-router';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { useT } from '@/i18n';
import { useMe } from '@/lib/auth';
import { useZodForm } from '@/lib/form';
import { createWorkspaceSchema } from '@/schemas';
import { Button } from './ui/button';
import { DialogContent, DialogRoot } from './ui/dialog';
import { Field, FormError, Input } from './ui/input';

export function CreateWorkspaceDialog({
  open,
  onOpenChange,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const t = useT();
  const me = useMe();
  const navigate = useNavigate();
  const form = useZodForm(createWorkspaceSchema, { name: '' });
  return (
    <DialogRoot open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t('workspace.create')} description={t('workspace.createDescription')}>
        <form
          className="grid gap-4"
          noValidate
          onSubmit={form.handleSubmit(async (data) => {
            const created = await unwrap(api.POST('/api/workspaces', { body: data }));
            await me.refetch();
            onOpenChange(false);
            form.setValues({ name: '' });
            await navigate({ to: `/w/${created.id}` });
          })}
        >
          <Field label={t('field.workspaceName')} error={form.errors.name}>
            {(props) => (
              <Input
                {...props}
                autoFocus
                value={form.values.name}
                onChange={(event) => form.set('name', event.target.value)}
              />
            )}
          </Field>
          <FormError message={form.formError} />
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={form.submitting}>
              {t('common.create')}
            </Button>
          </div>
        </form>
      </DialogContent>
    </DialogRoot>
  );
}
