-- The phone number a member signs in with on another phone (with their PIN): one person's each, set by their
-- township (the roster import, or the township screen), never by the member. The profile's phone stays the
-- member's own contact number; a member who changes it there asks the township to change this one.
-- Stored as its digits (core's `profile::phone_digits`), so one number has one spelling.
ALTER TABLE people ADD COLUMN sign_in_phone TEXT;
CREATE UNIQUE INDEX people_sign_in_phone ON people (sign_in_phone) WHERE sign_in_phone IS NOT NULL;

-- Until now the profile's number was the sign-in number. Each person keeps theirs where nobody else has the
-- same one; a number several people shared signs none of them in until their township gives each their own
-- (they still sign in with a new activation code from the township screen). Numbers are as `normalise` lets
-- them be: digits, '+', '-' and ' '; a leading 86 before an 11-digit number is China's country code.
WITH typed AS (
    SELECT person_id, replace(replace(replace(value, '+', ''), '-', ''), ' ', '') AS digits
    FROM profile_fields WHERE field = 'phone' AND value <> ''
), numbers AS (
    SELECT person_id,
           CASE WHEN length(digits) = 13 AND substr(digits, 1, 2) = '86' THEN substr(digits, 3) ELSE digits END AS digits
    FROM typed
), unshared AS (
    SELECT digits FROM numbers GROUP BY digits HAVING count(*) = 1
)
UPDATE people SET sign_in_phone = (SELECT n.digits FROM numbers n WHERE n.person_id = people.id)
WHERE id IN (SELECT n.person_id FROM numbers n JOIN unshared u ON u.digits = n.digits);
