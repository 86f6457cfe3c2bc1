"""Sales pipelines: contacts, accounts, leads, deals on a board, activities."""
