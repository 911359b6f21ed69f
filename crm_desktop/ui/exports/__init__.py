"""Campaign exports: the export wizard and the list of past exports."""
