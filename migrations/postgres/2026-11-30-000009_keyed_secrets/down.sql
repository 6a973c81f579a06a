-- Retired secrets cannot be restored; nothing to undo.
SELECT 1;
