DROP INDEX sales_event;
DROP TABLE event_participants;
DROP TABLE market_events;
