DROP INDEX sales_item;
DROP TABLE collection_contributors;
DROP TABLE collection_items;
DROP TABLE collections;
