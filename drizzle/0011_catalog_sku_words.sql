ALTER TABLE "products" drop column "search_vector";--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "search_vector" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('russian'::regconfig, coalesce(name, '')), 'A')
  || setweight(to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || regexp_replace(sku, '[^[:alnum:]]+', ' ', 'g')), 'A')
  || setweight(to_tsvector('russian'::regconfig, coalesce(category, '')), 'B')
  || setweight(to_tsvector('russian'::regconfig, coalesce(description, '')), 'C')) STORED;--> statement-breakpoint
CREATE INDEX "products_search_idx" ON "products" USING gin ("search_vector");
