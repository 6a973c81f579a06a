DROP TABLE derived_indexes;
DROP TABLE skill_postings;
DROP TABLE artisan_ordinals;
