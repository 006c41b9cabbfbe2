-- Issue 11 experiments: the source rows (a plain, unindexed copy of version 1's allocations,
-- in the order the product wrote them) and version 2 for the FK variants.
DROP TABLE IF EXISTS exp_src;
CREATE TABLE exp_src AS SELECT * FROM fifo_allocations WHERE allocation_version = 1;
INSERT INTO fifo_allocation_versions (allocation_version, method, description)
VALUES (2, 'fifo', 'issue 11 experiments') ON CONFLICT DO NOTHING;
VACUUM ANALYZE exp_src;
