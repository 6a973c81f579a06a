DROP TABLE partnership_shares;
