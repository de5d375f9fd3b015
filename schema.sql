-- kwire's SQLite schema: the one definition of the database (DESIGN.md, store/).
-- The store issue fills it; until then `kwire read` writes no database.
PRAGMA user_version = 0;
