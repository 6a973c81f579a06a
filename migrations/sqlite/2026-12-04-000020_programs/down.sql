DROP TABLE program_applications;
DROP TABLE program_eligibility;
DROP TABLE programs;
