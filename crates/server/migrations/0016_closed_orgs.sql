-- A host organisation the county closed (organisations/tree.rs): its members moved to another, its codes withdrawn
-- (`code_since` at its largest), its secretaries' roles ended. It stays for the history that names it (stops,
-- activities, check-ins) and leaves the county's tree.
ALTER TABLE organisations ADD COLUMN closed_at INTEGER;
