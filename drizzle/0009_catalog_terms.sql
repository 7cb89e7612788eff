CREATE TABLE "product_terms" (
	"workspace_id" uuid NOT NULL,
	"term" text NOT NULL,
	CONSTRAINT "product_terms_workspace_id_term_pk" PRIMARY KEY("workspace_id","term")
);
--> statement-breakpoint
ALTER TABLE "product_terms" ADD CONSTRAINT "product_terms_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "product_terms_trgm_idx" ON "product_terms" USING gin ("term" gin_trgm_ops);