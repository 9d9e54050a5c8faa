-- inventory-service's own database. The example creates it in a schema of its own per run
-- (choreo_inventory_<run>); in production this is the inventory service's database.

CREATE TABLE tb_stock (
  sku      text PRIMARY KEY,
  on_hand  integer NOT NULL,
  reserved integer NOT NULL DEFAULT 0,
  CHECK (reserved BETWEEN 0 AND on_hand)
);

CREATE TABLE tb_reservation (
  pk_reservation bigserial PRIMARY KEY,
  order_id       text NOT NULL,
  sku            text NOT NULL REFERENCES tb_stock (sku),
  quantity       integer NOT NULL CHECK (quantity > 0),
  event_id       text NOT NULL,           -- the FraiseQL event that caused it
  reserved_at    timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tb_stock (sku, on_hand) VALUES ('MUG-RED', 10), ('TEE-L', 5), ('POSTER-A2', 3);

-- Fault injection for the example only: the first call for an order listed here fails with a
-- retryable error (SQLSTATE 40001, as a serialization failure would). A sequence, not a table,
-- remembers that call: nextval() survives the rollback of the failed transaction.
CREATE TABLE tb_fault_injection (order_id text PRIMARY KEY);
CREATE SEQUENCE seq_fault_injection;

-- Seed 000: "fn_reserve_inventory is a SQL function in the inventory service's own database. It
-- receives the event payload as a single JSONB argument." The payload is the event's JSON:
-- {"id": ..., "event": "INSERT", "table": "tb_order", "timestamp": ..., "data": {"new": {...}, "old": null},
--  "context": {...}}. Under effectively_once the observer records the delivery's key in
-- observer_idempotency_keys in the same transaction as this call.
CREATE FUNCTION fn_reserve_inventory(payload jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_order jsonb := payload -> 'data' -> 'new';
  v_item  jsonb;
BEGIN
  IF EXISTS (SELECT 1 FROM tb_fault_injection WHERE order_id = v_order ->> 'id')
     AND nextval('seq_fault_injection') = 1 THEN
    RAISE EXCEPTION 'stock count in progress for order %, try again', v_order ->> 'id'
      USING ERRCODE = '40001';
  END IF;
  FOR v_item IN SELECT value FROM jsonb_array_elements(v_order -> 'items') LOOP
    UPDATE tb_stock SET reserved = reserved + (v_item ->> 'qty')::integer WHERE sku = v_item ->> 'sku';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'unknown sku %', v_item ->> 'sku' USING ERRCODE = '22023';  -- permanent: dead letter
    END IF;
    INSERT INTO tb_reservation (order_id, sku, quantity, event_id)
    VALUES (v_order ->> 'id', v_item ->> 'sku', (v_item ->> 'qty')::integer, payload ->> 'id');
  END LOOP;
END
$$;
