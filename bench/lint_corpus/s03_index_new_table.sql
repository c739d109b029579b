-- truth: safe
-- why: a table created in the same migration is invisible to others
CREATE TABLE notes (id bigint PRIMARY KEY, body text);
CREATE INDEX notes_body_idx ON notes (body);
