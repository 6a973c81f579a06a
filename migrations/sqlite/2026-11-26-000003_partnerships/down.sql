DROP TABLE partnership_parties;
DROP TABLE partnerships;
