"""inventory: one round trip to lock and read what a movement needs.

Revision ID: inventory_0004
Revises: inventory_0003

``inventory_movement_state_v1(sku, location codes, balance locations, balance lot, layers)``
creates the missing balance rows and the sku's ``item_costs`` row, then, in the service's locking
order (balance rows in (sku, location, lot) order, then ``item_costs``), locks them and returns in
one row: the master-data item (replica record as text, null when unknown), the locations found,
the locked balances, the valuation state and, when asked (``layers`` = 'always', or 'negative'
and the sku's quantity is below zero), its FIFO layers in order.

Each statement of a PL/pgSQL function sees what the previous ones did (and, in READ COMMITTED,
what other transactions committed meanwhile), so a row created by a concurrent transaction is
waited for and then locked, exactly as the separate statements did before.
"""

from alembic import op

revision = "inventory_0004"
down_revision = "inventory_0003"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION inventory_movement_state_v1(
    p_sku text, p_codes text[], p_locations text[], p_lot text, p_layers text,
    OUT item text,
    OUT loc_code text[], OUT loc_name text[], OUT loc_kind text[], OUT loc_parent text[],
    OUT loc_nettable boolean[], OUT loc_allow_negative boolean[],
    OUT bal_location text[], OUT bal_on_hand numeric[], OUT bal_reserved numeric[],
    OUT qty numeric, OUT fifo_value numeric, OUT fifo_last_cost numeric, OUT avg_value numeric,
    OUT avg_cost numeric, OUT ppv_total numeric, OUT last_movement_at timestamptz,
    OUT layer_id bigint[], OUT layer_shortfall boolean[], OUT layer_at timestamptz[],
    OUT layer_qty numeric[], OUT layer_cost numeric[]
) LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    SELECT r.record::text INTO item FROM replica_records r
        WHERE r.source = 'masterdata' AND r.kind = 'item' AND r.key = p_sku;
    SELECT array_agg(l.code), array_agg(l.name), array_agg(l.kind), array_agg(l.parent),
           array_agg(l.nettable), array_agg(l.allow_negative)
        INTO loc_code, loc_name, loc_kind, loc_parent, loc_nettable, loc_allow_negative
        FROM locations l WHERE l.code = ANY(p_codes);
    INSERT INTO balances (sku, location, lot)
        SELECT p_sku, x.loc, p_lot FROM unnest(p_locations) AS x(loc) ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING;
    SELECT array_agg(b.location ORDER BY b.location), array_agg(b.on_hand ORDER BY b.location),
           array_agg(b.reserved ORDER BY b.location)
        INTO bal_location, bal_on_hand, bal_reserved
        FROM (
            SELECT location, on_hand, reserved FROM balances
            WHERE sku = p_sku AND lot = p_lot AND location = ANY(p_locations)
            ORDER BY sku, location, lot FOR UPDATE
        ) b;
    INSERT INTO item_costs (sku) VALUES (p_sku) ON CONFLICT DO NOTHING;
    SELECT c.qty, c.fifo_value, c.fifo_last_cost, c.avg_value, c.avg_cost, c.ppv_total,
           c.last_movement_at
        INTO qty, fifo_value, fifo_last_cost, avg_value, avg_cost, ppv_total, last_movement_at
        FROM item_costs c WHERE c.sku = p_sku FOR UPDATE;
    IF p_layers = 'always' OR (p_layers = 'negative' AND qty < 0) THEN
        SELECT array_agg(c.id ORDER BY c.id), array_agg(c.shortfall ORDER BY c.id),
               array_agg(c.at ORDER BY c.id), array_agg(c.qty ORDER BY c.id),
               array_agg(c.unit_cost ORDER BY c.id)
            INTO layer_id, layer_shortfall, layer_at, layer_qty, layer_cost
            FROM cost_layers c WHERE c.sku = p_sku;
    END IF;
END
$fn$
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION inventory_movement_state_v1(text, text[], text[], text, text)")
