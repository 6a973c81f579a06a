-- The agreement that governed an expense's day when it was recorded: a
-- settlement splits the expense by it, as a sale's lines keep theirs, even
-- if an amendment or a termination later changes who governs that day.
ALTER TABLE expenses ADD COLUMN agreement_id TEXT REFERENCES agreements (id);

-- Expenses recorded before: the agreement governing their day now (none
-- if a termination has cut it off since, as before).
UPDATE expenses SET agreement_id = (
    SELECT a.id FROM agreements a
    WHERE a.partnership_id = expenses.partnership_id
      AND a.status IN ('active', 'superseded', 'terminated')
      AND a.kind <> 'termination'
      AND a.effective_from <= expenses.incurred_on
      AND (a.effective_until IS NULL OR a.effective_until >= expenses.incurred_on)
      AND (a.superseded_from IS NULL OR a.superseded_from > expenses.incurred_on)
    ORDER BY a.id
    LIMIT 1
);
