-- The pipeline example's table (created in a schema of its own per run: pipeline_<run>).
CREATE TABLE tb_order (
  id             text PRIMARY KEY,
  customer_email text NOT NULL,
  total          numeric(10, 2) NOT NULL,
  status         text NOT NULL DEFAULT 'placed',
  updated_at     timestamptz NOT NULL DEFAULT now()
);
