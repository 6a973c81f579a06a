DROP TABLE event_participants;
DROP TABLE market_events;
