"""The application shell: start-up, the main window that assembles the features' pages and actions, database switching."""
