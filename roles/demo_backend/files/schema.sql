-- procc demo backend schema: one table the service reads (GET /items).
-- Idempotent: creates the table and its seed rows only when missing.
CREATE TABLE IF NOT EXISTS items (
    id integer PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO items (id, name)
SELECT n, 'item-' || n FROM generate_series(1, 10) AS n
WHERE NOT EXISTS (SELECT 1 FROM items);
