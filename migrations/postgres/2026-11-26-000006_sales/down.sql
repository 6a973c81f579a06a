DROP TABLE allocation_totals;
DROP TABLE allocation_lines;
DROP TABLE refunds;
DROP TABLE sales;
