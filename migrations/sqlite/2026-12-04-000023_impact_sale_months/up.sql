-- Monthly sale totals for impact figures: per month of the sale, per
-- partnership, currency and recipient, what its allocation lines (sales
-- and refunds of them) add up to. Written in the transaction that writes
-- the lines (persistence::impact::add_sales), so impact figures read a
-- few rows per partnership and month instead of every line.
CREATE TABLE impact_sale_months (
    month          TEXT NOT NULL,   -- YYYY-MM of the sale's occurred_at
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    currency       TEXT NOT NULL,
    party_id       TEXT NOT NULL,   -- the recipient party, '' for beneficiaries
    amount_minor   BIGINT NOT NULL,
    PRIMARY KEY (month, partnership_id, currency, party_id)
);

INSERT INTO impact_sale_months (month, partnership_id, currency, party_id, amount_minor)
SELECT substr(CAST(s.occurred_at AS TEXT), 1, 7), s.partnership_id, s.currency, COALESCE(l.party_id, ''),
       SUM(l.amount_minor)
FROM sales s JOIN allocation_lines l ON l.sale_id = s.id
GROUP BY substr(CAST(s.occurred_at AS TEXT), 1, 7), s.partnership_id, s.currency, COALESCE(l.party_id, '');
