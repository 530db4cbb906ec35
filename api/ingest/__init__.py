"""Getting data in: file readers, coordinate parsers, profiles (data files) and the gate."""
