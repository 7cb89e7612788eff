CREATE TABLE "analytics_daily" (
	"workspace_id" uuid NOT NULL,
	"bot_id" uuid NOT NULL,
	"day" date NOT NULL,
	"type" text NOT NULL,
	"channel_id" uuid NOT NULL,
	"events" bigint DEFAULT 0 NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	"cost" double precision DEFAULT 0 NOT NULL,
	"zero_results" bigint DEFAULT 0 NOT NULL,
	"failures" bigint DEFAULT 0 NOT NULL,
	"duration_ms" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_daily_workspace_id_bot_id_day_type_channel_id_pk" PRIMARY KEY("workspace_id","bot_id","day","type","channel_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_daily_contacts" (
	"workspace_id" uuid NOT NULL,
	"day" date NOT NULL,
	"contact_id" uuid NOT NULL,
	"bot_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"hll_idx" smallint NOT NULL,
	"hll_rank" smallint NOT NULL,
	CONSTRAINT "analytics_daily_contacts_workspace_id_day_contact_id_pk" PRIMARY KEY("workspace_id","day","contact_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_daily_durations" (
	"workspace_id" uuid NOT NULL,
	"bot_id" uuid NOT NULL,
	"day" date NOT NULL,
	"type" text NOT NULL,
	"channel_id" uuid NOT NULL,
	"bucket" smallint NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_daily_durations_workspace_id_bot_id_day_type_channel_id_bucket_pk" PRIMARY KEY("workspace_id","bot_id","day","type","channel_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "analytics_daily_keys" (
	"workspace_id" uuid NOT NULL,
	"bot_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"day" date NOT NULL,
	"key" text NOT NULL,
	"channel_id" uuid NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	"label" text,
	CONSTRAINT "analytics_daily_keys_workspace_id_bot_id_kind_day_key_channel_id_pk" PRIMARY KEY("workspace_id","bot_id","kind","day","key","channel_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_daily_sketches" (
	"workspace_id" uuid NOT NULL,
	"day" date NOT NULL,
	"bot_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"registers" "bytea" NOT NULL,
	CONSTRAINT "analytics_daily_sketches_workspace_id_day_bot_id_channel_id_pk" PRIMARY KEY("workspace_id","day","bot_id","channel_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_event_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"written_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics_funnel" (
	"workspace_id" uuid NOT NULL,
	"contact_id" uuid NOT NULL,
	"bot_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"started_on" date,
	"started_at" timestamp with time zone,
	"asked_at" timestamp with time zone,
	"viewed_at" timestamp with time zone,
	"escalated_at" timestamp with time zone,
	CONSTRAINT "analytics_funnel_workspace_id_contact_id_pk" PRIMARY KEY("workspace_id","contact_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_hourly" (
	"workspace_id" uuid NOT NULL,
	"bot_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"channel_id" uuid NOT NULL,
	"events" bigint DEFAULT 0 NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	"cost" double precision DEFAULT 0 NOT NULL,
	"zero_results" bigint DEFAULT 0 NOT NULL,
	"failures" bigint DEFAULT 0 NOT NULL,
	"duration_ms" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_hourly_workspace_id_bot_id_hour_type_channel_id_pk" PRIMARY KEY("workspace_id","bot_id","hour","type","channel_id")
);
--> statement-breakpoint
CREATE TABLE "analytics_share_links" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"scope" jsonb NOT NULL,
	"created_by" uuid,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_viewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics_sketch_days" (
	"workspace_id" uuid NOT NULL,
	"day" date NOT NULL,
	"dirty_seq" bigint DEFAULT 1 NOT NULL,
	"built_seq" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_sketch_days_workspace_id_day_pk" PRIMARY KEY("workspace_id","day")
);
--> statement-breakpoint
CREATE TABLE "llm_providers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"base_url" text NOT NULL,
	"api_key_encrypted" text,
	"api_key_last4" text,
	"chat_model" text,
	"embeddings_model" text,
	"transcription_model" text,
	"vision_model" text,
	"priority" integer DEFAULT 0 NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "llm_usage" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"bot_id" uuid,
	"conversation_id" uuid,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"purpose" text NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"latency_ms" integer NOT NULL,
	"ok" boolean NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "llm_usage_purpose_check" CHECK ("llm_usage"."purpose" in ('chat','embeddings','transcription','vision'))
);
--> statement-breakpoint
DROP INDEX "analytics_events_workspace_time_idx";--> statement-breakpoint
DROP INDEX "analytics_events_workspace_type_time_idx";--> statement-breakpoint
ALTER TABLE "analytics_daily" ADD CONSTRAINT "analytics_daily_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_daily_contacts" ADD CONSTRAINT "analytics_daily_contacts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_daily_durations" ADD CONSTRAINT "analytics_daily_durations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_daily_keys" ADD CONSTRAINT "analytics_daily_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_daily_sketches" ADD CONSTRAINT "analytics_daily_sketches_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_funnel" ADD CONSTRAINT "analytics_funnel_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_hourly" ADD CONSTRAINT "analytics_hourly_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_share_links" ADD CONSTRAINT "analytics_share_links_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_share_links" ADD CONSTRAINT "analytics_share_links_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "analytics_sketch_days" ADD CONSTRAINT "analytics_sketch_days_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "llm_providers" ADD CONSTRAINT "llm_providers_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "llm_usage" ADD CONSTRAINT "llm_usage_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "analytics_funnel_started_idx" ON "analytics_funnel" USING btree ("workspace_id","started_on");--> statement-breakpoint
CREATE UNIQUE INDEX "analytics_share_links_hash_key" ON "analytics_share_links" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "analytics_share_links_workspace_idx" ON "analytics_share_links" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "llm_providers_name_key" ON "llm_providers" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE INDEX "llm_providers_chain_idx" ON "llm_providers" USING btree ("workspace_id","priority");--> statement-breakpoint
CREATE INDEX "llm_usage_workspace_idx" ON "llm_usage" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE INDEX "llm_usage_conversation_idx" ON "llm_usage" USING btree ("conversation_id") WHERE "llm_usage"."conversation_id" is not null;--> statement-breakpoint
CREATE INDEX "analytics_events_contact_time_idx" ON "analytics_events" USING btree ("contact_id","occurred_at");--> statement-breakpoint
CREATE INDEX "analytics_events_workspace_time_idx" ON "analytics_events" USING btree ("workspace_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "analytics_events_workspace_type_time_idx" ON "analytics_events" USING btree ("workspace_id","type","occurred_at","id");