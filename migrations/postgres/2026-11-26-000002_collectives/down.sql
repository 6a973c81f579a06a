DROP TABLE collective_applications;
DROP TABLE collective_members;
DROP TABLE collective_crafts;
DROP TABLE collectives;
