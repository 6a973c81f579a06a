DROP TABLE time_ledger;
DROP TABLE workshop_registrations;
DROP TABLE workshops;
DROP TABLE exchange_sessions;
DROP TABLE exchanges;
