"""What seats.yaml says: the file's schema, loading with located errors, and edits."""
