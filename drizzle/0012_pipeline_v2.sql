CREATE TABLE "chat_leases" (
	"channel_id" uuid NOT NULL,
	"chat_key" text NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "chat_leases_channel_id_chat_key_pk" PRIMARY KEY("channel_id","chat_key")
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chat_leases" ADD CONSTRAINT "chat_leases_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_leases_holder_idx" ON "chat_leases" USING btree ("holder");--> statement-breakpoint
CREATE INDEX "inbox_updates_pending_fifo_idx" ON "inbox_updates" USING btree ("id") WHERE processed_at is null;--> statement-breakpoint
CREATE INDEX "outbox_queued_fifo_idx" ON "outbox" USING btree ("id") WHERE status = 'queued';