"""Domain rules as plain functions: no database, no HTTP."""
