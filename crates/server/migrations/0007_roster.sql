-- What a township's roster import brings besides name, phone and certificate number (core's `roster`). Still no
-- national ID number: the import refuses a file that has one.
ALTER TABLE people ADD COLUMN gender TEXT CHECK (gender IN ('male', 'female'));
ALTER TABLE people ADD COLUMN birth_year INTEGER CHECK (birth_year BETWEEN 1900 AND 2100);
ALTER TABLE people ADD COLUMN joined_on TEXT;
