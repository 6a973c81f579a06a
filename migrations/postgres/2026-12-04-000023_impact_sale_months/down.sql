DROP TABLE impact_sale_months;
