CREATE TABLE "knowledge_terms" (
	"workspace_id" uuid NOT NULL,
	"term" text NOT NULL,
	CONSTRAINT "knowledge_terms_workspace_id_term_pk" PRIMARY KEY("workspace_id","term")
);
--> statement-breakpoint
DROP INDEX "knowledge_chunks_trgm_idx";--> statement-breakpoint
ALTER TABLE "knowledge_terms" ADD CONSTRAINT "knowledge_terms_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "knowledge_terms_trgm_idx" ON "knowledge_terms" USING gin ("term" gin_trgm_ops);