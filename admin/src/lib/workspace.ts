import { useParams } from '@tanstack/react-router';
import { hasRole, type Role, useMe } from './auth';

/** The workspace of the URL (`/w/$ws/...`) with the caller's role in it. */
export function useWorkspace() {
  const params = useParams({ strict: false });
  const ws = 'ws' in params && typeof params.ws === 'string' ? params.ws : '';
  const me = useMe();
  const workspace = me.data?.workspaces.find((item) => item.id === ws);
  const role = workspace?.role ?? (me.data?.user.isSuperAdmin ? 'owner' : undefined);
  return {
    ws,
    workspace,
    role,
    /** Whether the caller may do what needs `wanted`; the server checks again. */
    can: (wanted: Role) => hasRole(role, wanted),
  };
}
