-- order-service's own database. The example creates it in a schema of its own per run
-- (choreo_orders_<run>); in production this is the order service's database.
CREATE TABLE tb_order (
  id             text PRIMARY KEY,
  customer_email text NOT NULL,
  items          jsonb NOT NULL,          -- [{"sku": "MUG-RED", "qty": 2}, ...]
  total          numeric(10, 2) NOT NULL,
  status         text NOT NULL DEFAULT 'placed',
  created_at     timestamptz NOT NULL DEFAULT now()
);
