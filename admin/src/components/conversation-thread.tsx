import { useInfiniteQuery } from '@tanstack/react-query';
import {
  AlertCircle,
  Bot,
  Check,
  CheckCheck,
  Clock,
  FileText,
  ImageIcon,
  MapPin,
  Mic,
  ShoppingBag,
  UserRound,
} from 'lucide-react';
import { useEffect, useLayoutEffect, useRef } from 'react';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { useFormat, useT } from '@/i18n';
import { cn } from '@/lib/cn';
import { useWorkspace } from '@/lib/workspace';
import { QueryError } from './page';
import { Button } from './ui/button';
import { Skeleton } from './ui/skeleton';

type MessagePage = Awaited<ReturnType<typeof fetchPage>>;
export type ThreadMessage = MessagePage['items'][number];

function fetchPage(ws: string, conversationId: string, before: string | undefined) {
  return unwrap(
    api.GET('/api/workspaces/{ws}/conversations/{conversationId}/messages', {
      params: { path: { ws, conversationId }, query: { limit: 50, before } },
    }),
  );
}

export const messagesKey = (ws: string, conversationId: string) => ['messages', ws, conversationId] as const;

/**
 * A conversation's history, oldest at the top, newest at the bottom; "load earlier" pages
 * backwards. Photos, voice transcripts, what OCR read and product cards (a photo with a caption
 * and buttons) are drawn from the message's type and payload.
 */
export function ConversationThread({
  conversationId,
  className,
}: {
  conversationId: string;
  className?: string;
}) {
  const t = useT();
  const format = useFormat();
  const { ws } = useWorkspace();
  const bottom = useRef<HTMLDivElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const messages = useInfiniteQuery({
    queryKey: messagesKey(ws, conversationId),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => fetchPage(ws, conversationId, pageParam),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  // Pages come newest first; the thread reads oldest first.
  const items = (messages.data?.pages ?? []).flatMap((page) => page.items).reverse();
  const newest = items.at(-1)?.id;
  const stick = useRef(true);
  useLayoutEffect(() => {
    if (newest && stick.current) bottom.current?.scrollIntoView({ block: 'end' });
  }, [newest]);
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const onScroll = () => {
      stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 120;
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => element.removeEventListener('scroll', onScroll);
  }, []);
  let previousDay = '';
  return (
    <div
      ref={scroller}
      className={cn('overflow-y-auto bg-muted/25 px-3 py-4 sm:px-5', className)}
      data-testid="thread"
    >
      {messages.isPending ? (
        <div className="grid gap-3">
          <Skeleton className="h-12 w-2/3" />
          <Skeleton className="ml-auto h-16 w-1/2" />
          <Skeleton className="h-10 w-1/3" />
        </div>
      ) : messages.isError ? (
        <QueryError error={messages.error} retry={() => messages.refetch()} />
      ) : items.length === 0 ? (
        <p className="py-10 text-center text-sm text-muted-foreground">{t('thread.empty')}</p>
      ) : (
        <div className="mx-auto grid max-w-3xl gap-1.5">
          {messages.hasNextPage && (
            <div className="mb-2 flex justify-center">
              <Button
                variant="outline"
                size="sm"
                loading={messages.isFetchingNextPage}
                onClick={() => {
                  stick.current = false;
                  void messages.fetchNextPage();
                }}
              >
                {t('thread.earlier')}
              </Button>
            </div>
          )}
          {items.map((message) => {
            const day = format.date(message.createdAt);
            const divider = day !== previousDay;
            previousDay = day;
            return (
              <div key={message.id} className="contents">
                {divider && (
                  <div className="my-2 flex justify-center">
                    <span className="rounded-full bg-card px-3 py-0.5 text-xs text-muted-foreground shadow-xs ring-1 ring-border">
                      {day}
                    </span>
                  </div>
                )}
                <MessageBubble message={message} />
              </div>
            );
          })}
        </div>
      )}
      <div ref={bottom} />
    </div>
  );
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value : null;
}

function MessageBubble({ message }: { message: ThreadMessage }) {
  const t = useT();
  const time = new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const inbound = message.direction === 'in';
  if (message.sender === 'system' || message.type === 'callback_answer') {
    if (!message.text) return null;
    return <p className="my-1 text-center text-xs text-muted-foreground">{message.text}</p>;
  }
  const payload = message.payload;
  const transcript = str(payload.transcript);
  const ocr = str(payload.ocr) ?? str(payload.vision);
  const photo = str(payload.photoUrl) ?? str(payload.photo) ?? str(payload.imageUrl);
  const buttons = Array.isArray(payload.buttons)
    ? (payload.buttons as unknown[])
        .flat()
        .map((button) =>
          typeof button === 'object' && button && 'text' in button
            ? String((button as { text: unknown }).text)
            : String(button),
        )
    : [];
  const productCard = message.type === 'photo' && !inbound && buttons.length > 0;
  const SenderIcon = message.sender === 'bot' ? Bot : message.sender === 'operator' ? UserRound : null;
  return (
    <div
      className={cn('flex', inbound ? 'justify-start' : 'justify-end')}
      data-testid="message"
      data-direction={message.direction}
    >
      <div
        className={cn(
          'max-w-[85%] overflow-hidden rounded-2xl text-sm shadow-xs sm:max-w-[70%]',
          inbound
            ? 'rounded-bl-md bg-card ring-1 ring-border'
            : message.sender === 'operator'
              ? 'rounded-br-md bg-primary text-primary-foreground'
              : 'rounded-br-md bg-secondary text-secondary-foreground ring-1 ring-border',
        )}
      >
        {productCard ? (
          <div className="w-64 max-w-full">
            <div className="flex aspect-[4/3] items-center justify-center bg-muted text-muted-foreground">
              {photo ? (
                <img src={photo} alt="" className="size-full object-cover" loading="lazy" />
              ) : (
                <ShoppingBag className="size-8" aria-hidden="true" />
              )}
            </div>
            <div className="grid gap-2 p-3">
              {message.text && <p className="whitespace-pre-wrap">{message.text}</p>}
              <div className="grid gap-1">
                {buttons.map((label) => (
                  <span
                    key={label}
                    className="rounded-md bg-background/60 px-2 py-1 text-center text-xs font-medium ring-1 ring-border"
                  >
                    {label}
                  </span>
                ))}
              </div>
            </div>
          </div>
        ) : (
          <>
            {message.type === 'photo' &&
              (photo ? (
                <img src={photo} alt="" className="max-h-64 w-full object-cover" loading="lazy" />
              ) : (
                <div className="flex items-center gap-2 px-3 pt-2.5 text-xs opacity-80">
                  <ImageIcon className="size-4" /> {t('thread.photo')}
                </div>
              ))}
            {(message.type === 'voice' || message.type === 'audio') && (
              <div className="flex items-center gap-2 px-3 pt-2.5 text-xs opacity-80">
                <Mic className="size-4" /> {transcript ? t('thread.transcript') : t('thread.voice')}
              </div>
            )}
            {message.type === 'document' && (
              <div className="flex items-center gap-2 px-3 pt-2.5 text-xs opacity-80">
                <FileText className="size-4" /> {t('thread.document')}
              </div>
            )}
            {message.type === 'location' && (
              <div className="flex items-center gap-2 px-3 pt-2.5 text-xs opacity-80">
                <MapPin className="size-4" /> {t('thread.location')}
              </div>
            )}
            {message.text && (
              <p
                className={cn(
                  'px-3 pt-2 whitespace-pre-wrap break-words',
                  (message.type === 'voice' || message.type === 'audio') && transcript && 'italic',
                )}
              >
                {message.text}
              </p>
            )}
            {ocr && (
              <p className="mx-3 mt-2 rounded-md bg-background/50 px-2 py-1 text-xs opacity-80">
                {t('thread.ocr')}: {ocr}
              </p>
            )}
            {buttons.length > 0 && (
              <div className="flex flex-wrap gap-1 px-3 pt-2">
                {buttons.map((label) => (
                  <span
                    key={label}
                    className="rounded-md bg-background/50 px-2 py-0.5 text-xs ring-1 ring-border"
                  >
                    {label}
                  </span>
                ))}
              </div>
            )}
          </>
        )}
        <div className={cn('flex items-center justify-end gap-1 px-3 pt-1 pb-1.5 text-[11px] opacity-70')}>
          {SenderIcon && (
            <SenderIcon
              className="size-3"
              aria-label={t(`thread.sender.${message.sender === 'bot' ? 'bot' : 'operator'}`)}
            />
          )}
          <time dateTime={message.createdAt}>{time}</time>
          {!inbound && <DeliveryMark status={message.status} error={message.error} />}
        </div>
      </div>
    </div>
  );
}

function DeliveryMark({ status, error }: { status: ThreadMessage['status']; error: string | null }) {
  const t = useT();
  if (status === 'failed')
    return <AlertCircle className="size-3.5 text-destructive" aria-label={error ?? t('thread.failed')} />;
  if (status === 'sent') return <CheckCheck className="size-3.5" aria-label={t('thread.sent')} />;
  if (status === 'queued' || status === 'sending')
    return <Clock className="size-3" aria-label={t('thread.sending')} />;
  return <Check className="size-3" aria-hidden="true" />;
}
