import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import {
  api,
  getSession,
  mayHaveSession,
  onSessionChange,
  refreshSession,
  type Session,
  setSession,
} from '@/api/client';
import { unwrap } from '@/api/errors';

export type Role = 'viewer' | 'operator' | 'admin' | 'owner';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** Whether `role` is at least `wanted` (owner > admin > operator > viewer). */
export function hasRole(role: string | undefined, wanted: Role): boolean {
  return role !== undefined && isRole(role) && RANK[role] >= RANK[wanted];
}

export function isRole(value: string): value is Role {
  return Object.hasOwn(RANK, value);
}

interface Auth {
  /** `loading` while the refresh cookie is traded for a session at start-up. */
  status: 'loading' | 'signedIn' | 'signedOut';
  session: Session | null;
  /** Starts a session from a login/register response. */
  begin: (session: Session) => void;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setLocal] = useState<Session | null>(getSession);
  const [booting, setBooting] = useState(() => getSession() === null && mayHaveSession());
  useEffect(() => onSessionChange(setLocal), []);
  useEffect(() => {
    if (!booting) return;
    void refreshSession().finally(() => setBooting(false));
  }, [booting]);
  const begin = useCallback((next: Session) => setSession(next), []);
  const signOut = useCallback(async () => {
    await api.POST('/api/auth/logout', { headers: csrfHeader() }).catch(() => undefined);
    setSession(null);
    queryClient.clear();
  }, [queryClient]);
  const value = useMemo<Auth>(
    () => ({ status: booting ? 'loading' : session ? 'signedIn' : 'signedOut', session, begin, signOut }),
    [booting, session, begin, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

function csrfHeader(): Record<string, string> {
  const match = document.cookie.split('; ').find((part) => part.startsWith('sb_csrf='));
  return match ? { 'x-csrf-token': decodeURIComponent(match.slice('sb_csrf='.length)) } : {};
}

export function useAuth(): Auth {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** The signed-in user and their workspaces (with the role in each). */
export function useMe() {
  const { session } = useAuth();
  return useQuery({
    queryKey: ['me', session?.user.id],
    enabled: session !== null,
    queryFn: () => unwrap(api.GET('/api/auth/me')),
    staleTime: 60_000,
  });
}
