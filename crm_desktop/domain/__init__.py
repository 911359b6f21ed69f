"""Qt-free domain: tables, enums, value types and pure rules."""
